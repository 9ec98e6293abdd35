"""The period, department and shift a dashboard or an API call asks for, checked once for pages and API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.machines.models import Department
from apps.machines.selectors import plant_time_zone

from . import oee
from .figures import Period, PlantFigures, recent_plant_figures
from .selectors import Scope

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
        label=gettext_lazy("Department"),
        queryset=Department.objects.order_by("sequence", "name"),
        required=False,
        empty_label=gettext_lazy("all departments"),
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
        last = data.get("last_day") or default_days()[1]
        first = data.get("first_day") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise forms.ValidationError(_("The first day must not be after the last day."))
        if (last - first).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        data["first_day"], data["last_day"] = first, last
        return data


def default_days() -> tuple[date, date]:
    """The last `DEFAULT_DAYS` plant-local days, today included."""
    today = timezone.localtime(timezone.now(), plant_time_zone()).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def asked(form: DashboardFilterForm) -> dict[str, Any]:
    """The form's answers, or only the default days when it is unbound or wrong (its errors show on the page)."""
    if form.is_bound and form.is_valid():
        return dict(form.cleaned_data)
    first_day, last_day = default_days()
    return {"first_day": first_day, "last_day": last_day}


def period_from(form: DashboardFilterForm) -> Period:
    data = asked(form)
    return Period.of_days(data["first_day"], data["last_day"])


def plant_figures_asked(data: Mapping[str, Any]) -> PlantFigures:
    """The plant's (or a department's) figures for checked filter answers: one reading for pages, REST and GraphQL."""
    department = data.get("department")
    granularity = data.get("granularity")
    return recent_plant_figures(
        data["first_day"],
        data["last_day"],
        Scope(department_id=department.pk if department else None),
        granularity=oee.Granularity(granularity) if granularity else None,
        shift_name=data.get("shift", ""),
    )


def filter_form(request: Any) -> DashboardFilterForm:
    """The filters as asked, or unbound with the default days shown in the date fields."""
    if request.GET:
        return DashboardFilterForm(request.GET)
    first_day, last_day = default_days()
    return DashboardFilterForm(initial={"first_day": first_day, "last_day": last_day})
