from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel

from .choices import AmendmentCause, ExceptionKind, Weekday


class Department(TimeStampedModel):
    """A department of the plant: laser, punch, forming, weld, finish, assembly, shipping."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    sequence = models.PositiveSmallIntegerField(
        _("sequence"), default=0, help_text=_("Order of the department in the flow of work.")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ("sequence", "name")
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class WorkCenterType(TimeStampedModel):
    """A group of interchangeable machines, e.g. "fiber laser 3 kW" or "press brake 135 t".

    Routings name a type; the scheduler may put the operation on any active machine of it.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="work_center_types"
    )
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("department__sequence", "name")
        verbose_name = _("work center type")
        verbose_name_plural = _("work center types")

    def __str__(self) -> str:
        return self.name


class ShiftCalendar(TimeStampedModel):
    """A named weekly pattern of shifts (e.g. "Two shifts Mon–Fri"). Work centers use one; those
    without use the plant default."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_plant_default = models.BooleanField(_("plant default"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ("name",)
        verbose_name = _("shift calendar")
        verbose_name_plural = _("shift calendars")
        constraints = [
            models.UniqueConstraint(
                fields=("is_plant_default",),
                condition=models.Q(is_plant_default=True),
                name="machines_one_plant_default_calendar",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Shift(models.Model):
    """One shift on one weekday of a calendar, in plant-local time. An end at or before the start
    means the shift runs past midnight (a night shift belongs to the day it starts)."""

    calendar = models.ForeignKey(
        ShiftCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="shifts"
    )
    name = models.CharField(_("name"), max_length=50, help_text=_('e.g. "1st shift"'))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        ordering = ("calendar", "weekday", "start")
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.UniqueConstraint(fields=("calendar", "weekday", "start"), name="machines_shift_unique_start")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.name} {self.start:%H:%M}–{self.end:%H:%M}"


class ShiftBreak(models.Model):
    """An unpaid break inside a shift (lunch, coffee), in plant-local time."""

    shift = models.ForeignKey(Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="breaks")
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        ordering = ("shift", "start")
        verbose_name = _("break")
        verbose_name_plural = _("breaks")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class WorkCenter(TimeStampedModel):
    """A machine or a manned station that work is scheduled on: a laser, a brake, a weld cell."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="work_centers"
    )
    work_center_type = models.ForeignKey(
        WorkCenterType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="work_centers"
    )
    calendar = models.ForeignKey(
        ShiftCalendar,
        verbose_name=_("shift calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_centers",
        help_text=_("Empty: the plant default calendar."),
    )
    efficiency = models.DecimalField(
        _("efficiency factor"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.10"))],
        help_text=_("Standard minutes ÷ this factor = minutes on this machine (1.25 runs 25 % faster)."),
    )
    setup_category = models.CharField(
        _("setup category"),
        max_length=40,
        blank=True,
        help_text=_("Machines in one category share a changeover matrix."),
    )
    is_bottleneck = models.BooleanField(_("bottleneck"), default=False)
    hourly_rate = models.DecimalField(
        _("hourly rate"), max_digits=8, decimal_places=2, default=Decimal("0.00"), help_text=_("For costing.")
    )
    iot_device_id = models.CharField(_("IoT device id"), max_length=100, blank=True)
    sigmanest_machine_id = models.CharField(_("Sigmanest machine id"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("department__sequence", "code")
        verbose_name = _("work center")
        verbose_name_plural = _("work centers")
        constraints = [
            models.UniqueConstraint(
                fields=("iot_device_id",), condition=~models.Q(iot_device_id=""), name="machines_unique_iot_device"
            ),
            models.CheckConstraint(condition=models.Q(efficiency__gt=0), name="machines_efficiency_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CalendarException(TimeStampedModel):
    """A holiday, planned maintenance, shutdown (less working time) or overtime (more), for the
    whole plant or one work center, over whole days or an exact time range."""

    kind = models.CharField(_("kind"), max_length=12, choices=ExceptionKind.choices)
    name = models.CharField(_("name"), max_length=100)
    work_center = models.ForeignKey(
        WorkCenter,
        verbose_name=_("work center"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_exceptions",
        help_text=_("Empty: the whole plant."),
    )
    start_date = models.DateField(_("first day"), null=True, blank=True)
    end_date = models.DateField(_("last day"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-start_date", "-starts_at")
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        constraints = [
            models.CheckConstraint(
                name="machines_exception_days_or_times",
                condition=(
                    models.Q(
                        start_date__isnull=False, end_date__isnull=False, starts_at__isnull=True, ends_at__isnull=True
                    )
                    & models.Q(end_date__gte=models.F("start_date"))
                )
                | (
                    models.Q(
                        start_date__isnull=True, end_date__isnull=True, starts_at__isnull=False, ends_at__isnull=False
                    )
                    & models.Q(ends_at__gt=models.F("starts_at"))
                ),
            )
        ]

    def __str__(self) -> str:
        where = self.work_center.code if self.work_center else _("plant")
        when = f"{self.start_date}–{self.end_date}" if self.start_date else f"{self.starts_at}–{self.ends_at}"
        return f"{self.name} ({where}, {when})"


# --- Machine state, downtime and alarms (from telemetry) ------------------------------------

STATE_CHOICES = [
    ("running", _("running")),
    ("idle", _("idle")),
    ("setup", _("setup")),
    ("planned_down", _("planned downtime")),
    ("unplanned_down", _("unplanned downtime")),
    ("alarm", _("alarm")),
    ("offline", _("offline")),
]
ALARM_LEVEL_CHOICES = [("fault", _("fault")), ("warning", _("warning"))]


class DowntimeReason(TimeStampedModel):
    """Why a machine stood still, as the shop says it: "waiting for material", "breakdown".

    A tree, so reports can roll "waiting for crane" up into "waiting"; planned reasons (breaks,
    planned maintenance) do not count against availability."""

    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_planned = models.BooleanField(_("planned"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=0)

    class Meta:
        ordering = ("sequence", "name")
        verbose_name = _("downtime reason")
        verbose_name_plural = _("downtime reasons")

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name


class MachineStateInterval(models.Model):
    """One stretch of one state of a machine; the current one has no end yet.

    Unplanned downtime waits for someone to say why (`reason`)."""

    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.CASCADE, related_name="state_intervals"
    )
    state = models.CharField(_("state"), max_length=16, choices=STATE_CHOICES)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    reason = models.ForeignKey(
        DowntimeReason,
        verbose_name=_("downtime reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="intervals",
    )
    reason_set_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("reason given by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason_set_at = models.DateTimeField(_("reason given at"), null=True, blank=True)

    class Meta:
        ordering = ("work_center", "-started_at")
        verbose_name = _("machine state interval")
        verbose_name_plural = _("machine state intervals")
        permissions = [("assign_downtime_reason", _("Can say why a machine was down"))]
        indexes = [models.Index(fields=("work_center", "started_at"), name="machines_interval_wc_start")]
        constraints = [
            models.UniqueConstraint(
                fields=("work_center",), condition=models.Q(ended_at__isnull=True), name="machines_one_open_interval"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="machines_interval_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_center_id} {self.state} {self.started_at:%Y-%m-%d %H:%M}"


class Alarm(models.Model):
    """An alarm a machine raised (a fault or a warning with its code), until the machine clears it.

    Acknowledging says someone is on it; it does not clear the alarm."""

    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.CASCADE, related_name="alarms"
    )
    source = models.CharField(_("source"), max_length=100, help_text=_('The condition name, or "alarm".'))
    code = models.CharField(_("code"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=ALARM_LEVEL_CHOICES)
    message = models.CharField(_("message"), max_length=255, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("acknowledged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ("-raised_at",)
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        permissions = [("acknowledge_alarm", _("Can acknowledge machine alarms"))]
        indexes = [models.Index(fields=("work_center", "raised_at"), name="machines_alarm_wc_raised")]
        constraints = [
            models.UniqueConstraint(
                fields=("work_center", "source", "code"),
                condition=models.Q(cleared_at__isnull=True),
                name="machines_one_active_alarm_per_code",
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.code} ({self.source})"


class LiveState(models.Model):
    """The current state of one machine, kept beside the intervals so a page or a snapshot reads
    one row per machine. `signals` holds what the state rules need to run again (silence, shift
    ends); `version` counts every change, so a live client can tell it missed one."""

    work_center = models.OneToOneField(
        WorkCenter, verbose_name=_("work center"), on_delete=models.CASCADE, related_name="live_state"
    )
    state = models.CharField(_("state"), max_length=16, choices=STATE_CHOICES, default="offline")
    since = models.DateTimeField(_("since"))
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    program = models.CharField(_("program"), max_length=200, blank=True)
    part_count = models.IntegerField(_("part count"), null=True, blank=True)
    signals = models.JSONField(_("signals"), default=dict, blank=True)
    version = models.PositiveBigIntegerField(_("version"), default=0)

    class Meta:
        ordering = ("work_center",)
        verbose_name = _("live machine state")
        verbose_name_plural = _("live machine states")

    def __str__(self) -> str:
        return f"{self.work_center_id} {self.state}"


class DisplayToken(models.Model):
    """A secret that lets one shop-floor TV show one department's live board without a login.

    Only its SHA-256 is stored: the token is shown once when it is made."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="display_tokens"
    )
    name = models.CharField(_("name"), max_length=100, help_text=_('Where the screen hangs, e.g. "Laser bay TV".'))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked = models.BooleanField(_("revoked"), default=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ("department", "name")
        verbose_name = _("display token")
        verbose_name_plural = _("display tokens")

    def __str__(self) -> str:
        return self.name


class HistoryAmendment(models.Model):
    """A machine's recorded past changed after the fact: late data, a reason given later, a calendar edited.

    Whoever changes history before today writes one (`services.amend_history`); figures stored for closed days
    (the OEE day totals in reports) are recomputed when an amendment touches them. `start`/`end` empty mean
    "since ever"/"from then on" (a calendar edit reaches every day).
    """

    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.CASCADE, related_name="history_amendments"
    )
    start = models.DateTimeField(_("from"), null=True, blank=True)
    end = models.DateTimeField(_("until"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    cause = models.CharField(_("cause"), max_length=32, choices=AmendmentCause.choices)

    class Meta:
        ordering = ("-recorded_at",)
        verbose_name = _("history amendment")
        verbose_name_plural = _("history amendments")
        indexes = [models.Index(fields=("work_center", "recorded_at"), name="machines_amendment_wc_at")]

    def __str__(self) -> str:
        return f"{self.work_center} · {self.get_cause_display()}"
