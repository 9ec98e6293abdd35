from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import PeriodicTask

from apps.core.models import Job as BackgroundJob
from apps.core.models import TimeStampedModel
from apps.machines.choices import Weekday
from apps.machines.models import Department, WorkCenter

from .choices import DeliveryStatus, Frequency, ReportLanguage, RunStatus
from .definitions import REPORTS, report_choices

_RATIO = (MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1")))
_ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")
# Months have at least 28 days: a monthly e-mail never skips February.
LAST_DAY_OF_MONTH = 28


def split_addresses(text: str) -> list[str]:
    """The addresses in a free-text list (commas, semicolons, spaces or new lines between them)."""
    return [address for address in _ADDRESS_SEPARATORS.split(text) if address]


def validate_address_list(text: str) -> None:
    wrong = []
    for address in split_addresses(text):
        try:
            validate_email(address)
        except ValidationError:
            wrong.append(address)
    if wrong:
        raise ValidationError(_("Not e-mail addresses: %(list)s."), params={"list": ", ".join(wrong)}, code="invalid")


class ClosedDayFigures(models.Model):
    """One machine's OEE sums for one plant-local day, cut at shift edges (see `days.py`), as far as it has
    settled: the whole day once it is over, today up to its last settled shift edge (`until`).

    Stored when first asked for, so dashboards and reports read a day once rather than its thousands of state
    intervals; computed again when the machine's history is amended after `computed_at` (`closed_days.py`).
    """

    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("machine"), on_delete=models.CASCADE, related_name="closed_day_figures"
    )
    day = models.DateField(_("day"))
    computed_at = models.DateTimeField(_("computed at"))
    settings_key = models.CharField(_("settings"), max_length=64, help_text=_("What the figures were computed with."))
    until = models.DateTimeField(_("until"), help_text=_("How far into the day the figures reach."))
    parts = models.JSONField(_("parts"), help_text=_("The day cut at shift edges, with sums and downtime."))

    class Meta:
        ordering = ("work_center", "day")
        verbose_name = _("closed day OEE figures")
        verbose_name_plural = _("closed day OEE figures")
        constraints = [models.UniqueConstraint(fields=("work_center", "day"), name="reports_one_closed_day")]

    def __str__(self) -> str:
        return f"{self.work_center} {self.day}"


class OeeTarget(TimeStampedModel):
    """The OEE the plant aims at, plant-wide, for a department or for one machine.

    The most specific target wins; with none stored the plant aims at 80 %. World class (85 %) is drawn
    on the charts apart from these, as a yardstick rather than a goal.
    """

    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oee_targets",
    )
    work_center = models.ForeignKey(
        WorkCenter,
        verbose_name=_("machine"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oee_targets",
    )
    oee = models.DecimalField(
        _("OEE target"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.8000"),
        validators=_RATIO,
        help_text=_("A ratio: 0.8 is 80 %."),
    )
    availability = models.DecimalField(
        _("availability target"), max_digits=5, decimal_places=4, null=True, blank=True, validators=_RATIO
    )
    performance = models.DecimalField(
        _("performance target"), max_digits=5, decimal_places=4, null=True, blank=True, validators=_RATIO
    )
    quality = models.DecimalField(
        _("quality target"), max_digits=5, decimal_places=4, null=True, blank=True, validators=_RATIO
    )

    class Meta:
        verbose_name = _("OEE target")
        verbose_name_plural = _("OEE targets")
        ordering = ("department__name", "work_center__code")
        permissions = [("view_oee", _("Can read OEE and production dashboards"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=True) | models.Q(work_center__isnull=True),
                name="reports_oeetarget_one_scope",
                violation_error_message=_("A target is for a department or for a machine, not both."),
            ),
            models.UniqueConstraint(
                Coalesce("department", models.Value(0)),
                condition=models.Q(department__isnull=True, work_center__isnull=True),
                name="reports_oeetarget_one_plant_wide",
                violation_error_message=_("The plant already has a plant-wide target."),
            ),
            models.UniqueConstraint(
                fields=("department",),
                condition=models.Q(department__isnull=False, work_center__isnull=True),
                name="reports_oeetarget_one_per_department",
                violation_error_message=_("This department already has a target."),
            ),
            models.UniqueConstraint(
                fields=("work_center",),
                condition=models.Q(work_center__isnull=False),
                name="reports_oeetarget_one_per_machine",
                violation_error_message=_("This machine already has a target."),
            ),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__gte": 0, f"{name}__lte": 1})
                    | models.Q(**{f"{name}__isnull": True}),
                    name=f"reports_oeetarget_{name}_ratio",
                )
                for name in ("oee", "availability", "performance", "quality")
            ),
        ]

    def __str__(self) -> str:
        scope = self.work_center or self.department or _("plant")
        return f"{scope}: {self.oee:.2%}"


class ReportSchedule(TimeStampedModel):
    """A report e-mailed on a timetable: "the weekly OEE of the laser bay to the plant manager, Mondays 06:00".

    Each one has a django-celery-beat periodic task kept in step by the services; the task's time is plant
    time. A run covers the period just finished when it fires (the previous day, week or month).
    """

    name = models.CharField(_("name"), max_length=200)
    report = models.CharField(_("report"), max_length=40, choices=report_choices)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    send_at = models.TimeField(_("send at (plant time)"), default=time(6, 0))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices, null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField(
        _("day of the month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(LAST_DAY_OF_MONTH)],
        help_text=_("1 to 28, so that every month has it."),
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="report_schedules",
        help_text=_("Empty: the whole plant."),
    )
    work_centers = models.ManyToManyField(
        WorkCenter,
        verbose_name=_("machines"),
        blank=True,
        related_name="report_schedules",
        help_text=_("Empty: every machine (of the department, if one is chosen)."),
    )
    include_pdf = models.BooleanField(_("attach the PDF"), default=True)
    include_xlsx = models.BooleanField(_("attach the Excel workbook"), default=True)
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipients (users)"),
        blank=True,
        related_name="report_schedules",
    )
    recipient_emails = models.TextField(
        _("recipients (other addresses)"),
        blank=True,
        validators=[validate_address_list],
        help_text=_("One address a line, or separated by commas."),
    )
    language = models.CharField(
        _("language"), max_length=5, choices=ReportLanguage.choices, default=ReportLanguage.ENGLISH
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    periodic_task = models.OneToOneField(
        PeriodicTask,
        verbose_name=_("periodic task"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="report_schedule",
    )
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        ordering = ("name", "pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(include_pdf=True) | models.Q(include_xlsx=True),
                name="reports_schedule_some_format",
                violation_error_message=_("Attach the PDF, the workbook or both."),
            ),
            models.CheckConstraint(
                condition=~models.Q(frequency=Frequency.WEEKLY) | models.Q(weekday__isnull=False),
                name="reports_schedule_weekly_has_weekday",
                violation_error_message=_("A weekly schedule needs a weekday."),
            ),
            models.CheckConstraint(
                condition=~models.Q(frequency=Frequency.MONTHLY)
                | models.Q(day_of_month__gte=1, day_of_month__lte=LAST_DAY_OF_MONTH),
                name="reports_schedule_monthly_has_day",
                violation_error_message=_("A monthly schedule needs a day of the month from 1 to 28."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.report and self.report not in REPORTS:
            raise ValidationError({"report": _("Unknown report %(code)s.") % {"code": self.report}})
        if self.frequency == Frequency.WEEKLY and self.weekday is None:
            raise ValidationError({"weekday": _("A weekly schedule needs a weekday.")})
        if self.frequency == Frequency.MONTHLY and self.day_of_month is None:
            raise ValidationError({"day_of_month": _("A monthly schedule needs a day of the month.")})
        if not (self.include_pdf or self.include_xlsx):
            raise ValidationError(_("Attach the PDF, the workbook or both."))

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(name for name, wanted in (("pdf", self.include_pdf), ("xlsx", self.include_xlsx)) if wanted)

    @property
    def email_addresses(self) -> list[str]:
        return split_addresses(self.recipient_emails)


class ReportRun(TimeStampedModel):
    """One rendering of a report for a period: the archive row, with its PDF and workbook.

    Made by a schedule (one run per schedule and period: beat firing twice finds the first) or by a
    person's "Run now". Rendering is a background job; the deliveries say who got it by e-mail.
    """

    report = models.CharField(_("report"), max_length=40, db_index=True)
    schedule = models.ForeignKey(
        ReportSchedule,
        verbose_name=_("schedule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    formats = models.JSONField(_("formats"), default=list, blank=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    job = models.ForeignKey(
        BackgroundJob,
        verbose_name=_("background job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_runs",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/%m/", max_length=255, null=True, blank=True)
    xlsx = models.FileField(_("Excel workbook"), upload_to="reports/%Y/%m/", max_length=255, null=True, blank=True)
    file_stem = models.CharField(
        _("file name"), max_length=200, blank=True, help_text=_("What downloads and attachments are called.")
    )
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    delivery_status = models.CharField(
        _("e-mail delivery"),
        max_length=10,
        choices=DeliveryStatus.choices,
        blank=True,
        help_text=_("Empty: not e-mailed. Failed: at least one recipient could not be reached."),
    )
    # Set while one worker sends this run's e-mails, so that a second worker never sends them too.
    delivery_claimed_at = models.DateTimeField(_("delivery claimed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("report", "-created_at")), models.Index(fields=("status", "-created_at"))]
        constraints = [
            models.UniqueConstraint(
                fields=("schedule", "period_start", "period_end"),
                condition=models.Q(schedule__isnull=False),
                name="reports_run_one_per_schedule_period",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="reports_run_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.period_start == self.period_end:
            return self.period_start.isoformat()
        return f"{self.period_start.isoformat()} – {self.period_end.isoformat()}"


class ReportDelivery(models.Model):
    """One recipient's e-mail of one run. Marked sent the moment the mail server accepts it, and never sent again."""

    run = models.ForeignKey(ReportRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.EmailField(_("recipient"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_deliveries",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ("run", "recipient")
        constraints = [
            models.UniqueConstraint("run", Lower("recipient"), name="reports_delivery_one_per_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.get_status_display()})"


class LaborRate(TimeStampedModel):
    """What an hour of operator time costs in one department, or plant-wide when no department is given.

    Loaded the way the cost accountant loads it (wages, benefits and payroll taxes), per department rather than per
    person: welders and brake operators cost more than shipping, and individual pay stays out of the MES. A
    department without a rate of its own uses the plant-wide one. Cost per part charges it for the labor time the
    floor booked on an operation, setup and run alike.
    """

    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="labor_rates",
        help_text=_("Empty: the plant-wide rate, for departments without their own."),
    )
    hourly_rate = models.DecimalField(
        _("hourly rate"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Cost of one hour of operator time, with benefits and payroll taxes."),
    )

    class Meta:
        verbose_name = _("labor rate")
        verbose_name_plural = _("labor rates")
        ordering = ("department__sequence", "department__name")
        constraints = [
            models.UniqueConstraint(
                Coalesce("department", models.Value(0)),
                condition=models.Q(department__isnull=True),
                name="reports_laborrate_one_plant_wide",
                violation_error_message=_("The plant already has a plant-wide labor rate."),
            ),
            models.UniqueConstraint(
                fields=("department",),
                condition=models.Q(department__isnull=False),
                name="reports_laborrate_one_per_department",
                violation_error_message=_("This department already has a labor rate."),
            ),
            models.CheckConstraint(
                condition=models.Q(hourly_rate__gte=0),
                name="reports_laborrate_not_negative",
                violation_error_message=_("A labor rate cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or _("plant")
        return f"{scope}: {self.hourly_rate}/h"
