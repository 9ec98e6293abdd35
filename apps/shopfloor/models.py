from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel
from apps.machines.models import DowntimeReason, WorkCenter
from apps.routings.choices import OperationPhase
from apps.routings.models import Job, Operation

from .choices import EventKind, IssueKind, IssueStatus


class ScrapReason(TimeStampedModel):
    """Why a part was scrapped: bad cut, wrong bend angle, scratched surface, material defect…"""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("code",)
        verbose_name = _("scrap reason")
        verbose_name_plural = _("scrap reasons")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AttendanceQuerySet(models.QuerySet["Attendance"]):
    def open(self) -> AttendanceQuerySet:
        """Shifts still running: clocked in, not yet out."""
        return self.filter(clocked_out_at__isnull=True)


class Attendance(TimeStampedModel):
    """An operator's clock-in for a shift and the machines they are running during it.

    One operator may mind several machines; an operator works on a machine only while clocked in
    to it. Corrections by a supervisor are kept in the history with their reason.
    """

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="attendances"
    )
    clocked_in_at = models.DateTimeField(_("clocked in"))
    clocked_out_at = models.DateTimeField(_("clocked out"), null=True, blank=True)
    work_centers = models.ManyToManyField(
        WorkCenter, verbose_name=_("machines"), blank=True, related_name="attendances"
    )
    history = HistoricalRecords(m2m_fields=[work_centers])

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        ordering = ("-clocked_in_at",)
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        permissions = [("correct_labor", _("Can correct attendance and labor records"))]
        constraints = [
            models.UniqueConstraint(
                fields=("operator",), condition=models.Q(clocked_out_at__isnull=True), name="shopfloor_one_open_shift"
            ),
            models.CheckConstraint(
                condition=models.Q(clocked_out_at__isnull=True)
                | models.Q(clocked_out_at__gte=models.F("clocked_in_at")),
                name="shopfloor_attendance_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.clocked_in_at:%Y-%m-%d %H:%M}"


class LaborEntry(TimeStampedModel):
    """Time one operator spent on one operation, in one phase (setup or run).

    Several operators on one operation each have their own entry; one operator minding two
    machines has two open entries at once. Entries close when the operation pauses or completes,
    when the operator leaves it, and at clock-out.
    """

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="labor_entries"
    )
    operation = models.ForeignKey(
        Operation, verbose_name=_("operation"), on_delete=models.CASCADE, related_name="labor_entries"
    )
    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.PROTECT, related_name="labor_entries"
    )
    phase = models.CharField(_("phase"), max_length=8, choices=OperationPhase.choices)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-started_at",)
        verbose_name = _("labor entry")
        verbose_name_plural = _("labor entries")
        indexes = [models.Index(fields=("operator", "ended_at")), models.Index(fields=("operation", "ended_at"))]
        constraints = [
            models.UniqueConstraint(
                fields=("operator", "operation"),
                condition=models.Q(ended_at__isnull=True),
                name="shopfloor_one_open_labor_per_operation",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="shopfloor_labor_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} on {self.operation_id} {self.get_phase_display()}"

    @property
    def minutes(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 60)


class ProductionEvent(models.Model):
    """What happened at the machine, in order: setup and run started, paused (and why), resumed,
    good and scrap parts reported, completed. Append-only; OEE and costing read it."""

    operation = models.ForeignKey(
        Operation, verbose_name=_("operation"), on_delete=models.CASCADE, related_name="events"
    )
    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.PROTECT, related_name="production_events"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="production_events"
    )
    quantity_good = models.PositiveIntegerField(_("good"), default=0)
    quantity_scrap = models.PositiveIntegerField(_("scrap"), default=0)
    scrap_reason = models.ForeignKey(
        ScrapReason, verbose_name=_("scrap reason"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pause_reason = models.ForeignKey(
        DowntimeReason,
        verbose_name=_("pause reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ("at", "pk")
        verbose_name = _("production event")
        verbose_name_plural = _("production events")
        permissions = [("execute_operation", _("Can clock in and start, pause, report and complete operations"))]
        indexes = [models.Index(fields=("work_center", "at")), models.Index(fields=("operation", "at"))]

    def __str__(self) -> str:
        return f"{self.operation_id} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class IdempotentAction(models.Model):
    """The answer given to one shop-floor action, under the key the device chose for it.

    A phone that lost its connection replays its queue; the same key gets the same answer and the
    action happens once. Kept for IDEMPOTENCY_KEY_DAYS days.
    """

    key = models.CharField(_("key"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(_("action"), max_length=100)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    response = models.JSONField(_("response"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("idempotent action")
        verbose_name_plural = _("idempotent actions")

    def __str__(self) -> str:
        return f"{self.action} {self.key}"


def issue_photo_path(instance: IssueReport, filename: str) -> str:
    return f"issues/{instance.reported_at:%Y/%m}/{filename}"


class IssueReport(TimeStampedModel):
    """A problem raised from the floor: a quality issue, a machine problem, a material shortage, a
    safety concern; with a photo, the machine and the job; acknowledged and closed by a supervisor."""

    kind = models.CharField(_("kind"), max_length=10, choices=IssueKind.choices)
    status = models.CharField(_("status"), max_length=14, choices=IssueStatus.choices, default=IssueStatus.OPEN)
    text = models.TextField(_("what happened"))
    photo = models.ImageField(_("photo"), upload_to=issue_photo_path, blank=True)
    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("machine"), on_delete=models.PROTECT, null=True, blank=True, related_name="issues"
    )
    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    operation = models.ForeignKey(
        Operation, verbose_name=_("operation"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        ordering = ("-reported_at",)
        verbose_name = _("issue report")
        verbose_name_plural = _("issue reports")
        indexes = [models.Index(fields=("status", "-reported_at"))]
        permissions = [("resolve_issuereport", _("Can acknowledge and close issue reports"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:50]}"
