"""The period, department and shift a dashboard or an API call asks for, checked once for pages and API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.machines.models import Department
from apps.machines.selectors import plant_time_zone

from . import oee
from .figures import Period

# Without dates the dashboards show the last week: a Monday morning still sees last week's shifts.
DEFAULT_DAYS = 7
MAX_DAYS = 400
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class DashboardFilterForm(forms.Form):
    first_day = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"), queryset=Department.objects.order_by("sequence", "name"), required=False
    )
    shift = forms.CharField(label=gettext_lazy("Shift"), required=False)
    granularity = forms.ChoiceField(
        label=gettext_lazy("Trend per"),
        required=False,
        choices=[
            ("", gettext_lazy("automatic")),
            (oee.Granularity.SHIFT, gettext_lazy("shift")),
            (oee.Granularity.DAY, gettext_lazy("day")),
            (oee.Granularity.WEEK, gettext_lazy("week")),
            (oee.Granularity.MONTH, gettext_lazy("month")),
        ],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localtime(timezone.now(), plant_time_zone()).date()
        last = data.get("last_day") or today
        first = data.get("first_day") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise forms.ValidationError(_("The first day must not be after the last day."))
        if (last - first).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        data["first_day"], data["last_day"] = first, last
        return data


def period_from(form: DashboardFilterForm) -> Period:
    if form.is_valid():
        return Period.of_days(form.cleaned_data["first_day"], form.cleaned_data["last_day"])
    today = timezone.localtime(timezone.now(), plant_time_zone()).date()
    return Period.of_days(today - timedelta(days=DEFAULT_DAYS - 1), today)


def filter_form(request: Any) -> DashboardFilterForm:
    """The filters as asked, or unbound with the default days shown in the date fields."""
    if request.GET:
        return DashboardFilterForm(request.GET)
    today = timezone.localtime(timezone.now(), plant_time_zone()).date()
    return DashboardFilterForm(initial={"first_day": today - timedelta(days=DEFAULT_DAYS - 1), "last_day": today})
