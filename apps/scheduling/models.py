from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import Job as BackgroundJob
from apps.core.models import TimeStampedModel
from apps.machines.models import WorkCenter
from apps.routings.models import Operation

from .choices import Objective, ScheduleStatus
from .solver import EARLIER_PLAN


class Schedule(TimeStampedModel):
    """One planning run's answer: where and when every open operation runs over the horizon.

    Many can exist side by side for comparison; a production manager publishes one, and the
    published schedule drives the dispatch lists.
    """

    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=12, choices=ScheduleStatus.choices, default=ScheduleStatus.PLANNING
    )
    objective = models.CharField(
        _("objective"), max_length=16, choices=Objective.choices, default=Objective.LEXICOGRAPHIC
    )
    horizon_start = models.DateTimeField(_("horizon start"))
    horizon_end = models.DateTimeField(_("horizon end"))
    time_limit_seconds = models.PositiveIntegerField(_("time limit (s)"), default=60)
    workers = models.PositiveSmallIntegerField(_("solver workers"), default=2)
    allow_break_straddle = models.BooleanField(
        _("operations may pause over breaks"),
        default=True,
        help_text=_("Off: an operation must fit inside one stretch of working time."),
    )
    run = models.ForeignKey(
        BackgroundJob,
        verbose_name=_("planning run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="schedules",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("started from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "The schedule published when the run was queued: its machines and order are kept where they still "
            "apply, and the run starts from it when it beats the dispatch rules."
        ),
    )
    start = models.CharField(
        _("search started from"),
        max_length=40,
        blank=True,
        help_text=_('"earlier plan", "due-date tuning" or "rule:<name>" (the best dispatch rule).'),
    )
    based_on_kpis = models.JSONField(
        _("KPIs of the earlier plan, rebuilt"),
        default=dict,
        blank=True,
        help_text=_("The plan it started from, rebuilt on this run's work and calendars (empty if it did not fit)."),
    )
    solver_status = models.CharField(_("solver status"), max_length=20, blank=True)
    objective_value = models.BigIntegerField(_("objective value"), null=True, blank=True)
    best_bound = models.BigIntegerField(_("best bound"), null=True, blank=True)
    gap = models.DecimalField(_("gap"), max_digits=7, decimal_places=4, null=True, blank=True)
    kpis = models.JSONField(_("KPIs"), default=dict, blank=True)
    rule_kpis = models.JSONField(_("KPIs of each dispatch rule"), default=dict, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        permissions = [
            ("plan_schedule", _("Can start a planning run")),
            ("publish_schedule", _("Can publish a schedule")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("status",), condition=models.Q(status="published"), name="scheduling_one_published"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def started_from_earlier_plan(self) -> bool:
        """The search started from the schedule it is based on (rebuilt), which beat the dispatch rules."""
        return self.start == EARLIER_PLAN and self.based_on_id is not None


class ScheduleSlot(models.Model):
    """Where and when one operation runs in a schedule, setup included."""

    schedule = models.ForeignKey(Schedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="slots")
    operation = models.ForeignKey(
        Operation, verbose_name=_("operation"), on_delete=models.CASCADE, related_name="schedule_slots"
    )
    work_center = models.ForeignKey(
        WorkCenter, verbose_name=_("work center"), on_delete=models.PROTECT, related_name="schedule_slots"
    )
    setup_start = models.DateTimeField(_("setup start"))
    start = models.DateTimeField(_("run start"))
    end = models.DateTimeField(_("end"))
    setup_minutes = models.PositiveIntegerField(_("setup (min)"), default=0)
    is_frozen = models.BooleanField(_("frozen"), default=False, help_text=_("Running or completed: kept as is."))

    class Meta:
        ordering = ("schedule", "work_center", "start")
        verbose_name = _("schedule slot")
        verbose_name_plural = _("schedule slots")
        indexes = [models.Index(fields=("schedule", "work_center", "start"))]
        constraints = [
            models.UniqueConstraint(fields=("schedule", "operation"), name="scheduling_slot_one_per_operation"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="scheduling_slot_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} on {self.work_center.code} {self.start:%Y-%m-%d %H:%M}"


class ChangeoverTime(models.Model):
    """Minutes to change a machine of a type from one setup category to another (sequence-dependent
    setups: a thickness change on a laser, a tooling change on a brake)."""

    work_center_type = models.ForeignKey(
        "machines.WorkCenterType",
        verbose_name=_("work center type"),
        on_delete=models.CASCADE,
        related_name="changeover_times",
    )
    from_category = models.CharField(_("from"), max_length=40)
    to_category = models.CharField(_("to"), max_length=40)
    minutes = models.PositiveIntegerField(_("minutes"))

    class Meta:
        ordering = ("work_center_type", "from_category", "to_category")
        verbose_name = _("changeover time")
        verbose_name_plural = _("changeover times")
        constraints = [
            models.UniqueConstraint(
                fields=("work_center_type", "from_category", "to_category"), name="scheduling_changeover_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.work_center_type}: {self.from_category} → {self.to_category} {self.minutes} min"
