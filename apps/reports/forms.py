"""Forms of the report schedule and archive pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.machines.models import Department, WorkCenter
from apps.machines.selectors import plant_time_zone

from .choices import ReportLanguage, RunStatus
from .definitions import ReportParameters, report_choices
from .models import ReportSchedule, split_addresses
from .services import FORMATS, MAX_RUN_DAYS

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _machines() -> Any:
    return WorkCenter.objects.filter(is_active=True).select_related("department").order_by("department__name", "code")


class MachineChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj.name}"


class RecipientChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} <{obj.email}>"


class ScheduleChecks(forms.ModelForm[ReportSchedule]):
    """What the service would refuse, shown on the form's fields instead (the page's form and the admin's)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        users = data.get("recipient_users") or ()
        addressed = [user for user in users if user.is_active and user.email.strip()]
        if not addressed and not split_addresses(data.get("recipient_emails") or ""):
            self.add_error(None, _("Add at least one recipient: a user with an e-mail address, or an address."))
        department = data.get("department")
        if department and any(center.department_id != department.pk for center in data.get("work_centers") or ()):
            self.add_error("work_centers", _("Choose machines of the schedule's department, or no department."))
        return data


class ReportScheduleForm(ScheduleChecks):
    """The schedule's fields; the page hands the chosen machines and users to the service, not to `save()`."""

    work_centers = MachineChoiceField(
        label=_("Machines"),
        queryset=WorkCenter.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("None chosen: every machine (of the department, if one is chosen)."),
    )
    recipient_users = RecipientChoiceField(
        label=_("Recipients (users)"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("People with an account; their own e-mail address is used."),
    )

    class Meta:
        model = ReportSchedule
        fields = (
            "name",
            "report",
            "frequency",
            "send_at",
            "weekday",
            "day_of_month",
            "department",
            "work_centers",
            "include_pdf",
            "include_xlsx",
            "recipient_users",
            "recipient_emails",
            "language",
            "is_active",
        )
        widgets = {
            "send_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "recipient_emails": forms.Textarea(attrs={"rows": 4, "placeholder": "plant.manager@example.com"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["work_centers"].queryset = _machines()  # type: ignore[attr-defined]
        self.fields["recipient_users"].queryset = (  # type: ignore[attr-defined]
            get_user_model().objects.filter(is_active=True).exclude(email="").order_by("username")
        )
        self.fields["department"].queryset = Department.objects.order_by("name")  # type: ignore[attr-defined]
        if self.instance.pk is None:
            self.initial.setdefault("weekday", 0)  # a new weekly schedule goes out on Monday morning


class RunRequestForm(forms.Form):
    """ "Run now": a report for any period, department and machines, rendered in the background."""

    report = forms.ChoiceField(label=pgettext_lazy("document", "Report"), choices=report_choices)
    period_start = forms.DateField(label=_("From"), widget=_DATE)
    period_end = forms.DateField(label=_("To"), widget=_DATE)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.order_by("name"), required=False
    )
    work_centers = MachineChoiceField(
        label=_("Machines"), queryset=WorkCenter.objects.none(), required=False, widget=forms.SelectMultiple
    )
    include_pdf = forms.BooleanField(label=_("PDF"), required=False, initial=True)
    include_xlsx = forms.BooleanField(label=_("Excel workbook"), required=False, initial=True)
    language = forms.ChoiceField(label=_("Language"), choices=ReportLanguage.choices, initial=ReportLanguage.ENGLISH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["work_centers"].queryset = _machines()  # type: ignore[attr-defined]
        if not self.is_bound:
            yesterday = timezone.localtime(timezone.now(), plant_time_zone()).date() - timedelta(days=1)
            self.initial.setdefault("period_start", yesterday)
            self.initial.setdefault("period_end", yesterday)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            raise forms.ValidationError(_("The first day must not be after the last day."))
        if start and end and (end - start).days + 1 > MAX_RUN_DAYS:
            raise forms.ValidationError(_("A report covers at most %(days)d days.") % {"days": MAX_RUN_DAYS})
        if not (data.get("include_pdf") or data.get("include_xlsx")):
            raise forms.ValidationError(_("Choose the PDF, the workbook or both."))
        department = data.get("department")
        if department and any(center.department_id != department.pk for center in data.get("work_centers", ())):
            raise forms.ValidationError(_("Choose machines of the chosen department, or no department."))
        return data

    def parameters(self) -> ReportParameters:
        data = self.cleaned_data
        return ReportParameters(
            period_start=data["period_start"],
            period_end=data["period_end"],
            department_id=data["department"].pk if data["department"] else None,
            work_center_ids=tuple(sorted(center.pk for center in data["work_centers"])),
            language=data["language"],
        )

    def formats(self) -> tuple[str, ...]:
        wanted = {"pdf": self.cleaned_data["include_pdf"], "xlsx": self.cleaned_data["include_xlsx"]}
        return tuple(name for name in FORMATS if wanted[name])


def _with_blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("all")), *(choices() if callable(choices) else choices)]


class RunFilterForm(forms.Form):
    report = forms.ChoiceField(
        label=pgettext_lazy("document", "Report"), required=False, choices=lambda: _with_blank(report_choices)
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_with_blank(RunStatus.choices))
