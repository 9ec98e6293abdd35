"""Reads for the shop floor: a machine's dispatch list, what an operator may do with an operation,
the unplanned stops that still need a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.machines.machine_state import MachineState
from apps.machines.models import LiveState, MachineStateInterval, WorkCenter
from apps.machines.selectors import end_of_plant_day
from apps.routings.choices import OperationPhase, OperationStatus, Priority
from apps.routings.models import Operation
from apps.scheduling import solver
from apps.scheduling.adapter import (
    PLANNED_JOB_STATUSES,
    PLANNED_OPERATION_STATUSES,
    PRIORITY_WEIGHTS,
    duration_on,
)
from apps.scheduling.choices import DispatchRule
from apps.scheduling.models import ScheduleSlot
from apps.scheduling.selectors import published_schedule

from .choices import IssueStatus
from .models import Attendance, IssueReport, LaborEntry

# Stops that ask the operator why: the machine says it is down or alarmed, and nobody said why yet.
PROMPTED_STATES = (MachineState.UNPLANNED_DOWN, MachineState.ALARM)


def operations_for_floor() -> QuerySet[Operation]:
    """Operations with everything an operator's screen shows, in two or three queries per list."""
    return Operation.objects.select_related(
        "job__customer", "job__part__material", "work_center", "work_center_type"
    ).prefetch_related(
        "predecessors",
        "job__part__files",
        Prefetch(
            "labor_entries",
            queryset=LaborEntry.objects.filter(ended_at__isnull=True).select_related("operator"),
            to_attr="open_labor",
        ),
    )


def unstarted_predecessors(operation: Operation) -> list[Operation]:
    """The earlier steps not started yet, which keep the operation from starting."""
    return [before for before in operation.predecessors.all() if before.status == OperationStatus.PENDING]


def is_ready(operation: Operation) -> bool:
    """Every predecessor has at least started (overlapping a cut and a bend is normal)."""
    return not unstarted_predecessors(operation)


@dataclass
class MachineQueue:
    """One machine's dispatch list: running work first, then what comes next."""

    work_center: WorkCenter
    rule: str
    diverged: bool
    why: str
    entries: list[Operation] = field(default_factory=list)


def machine_queue(work_center: WorkCenter, *, rule: str = "", now: datetime | None = None) -> MachineQueue:
    """The published plan's operations for this machine, in plan order while the plan holds.

    When reality has left the plan (the next planned operation cannot start yet, the machine is
    more than SHOPFLOOR_BEHIND_PLAN_MINUTES behind, or released work is missing from the plan), or
    when a rule is asked for, what is waiting is ranked by that dispatch rule instead (default
    SHOPFLOOR_DISPATCH_RULE), ready work first. Running operations always stay on top.
    """
    now = now or timezone.now()
    schedule = published_schedule()
    slots: dict[int, ScheduleSlot] = {}
    if schedule is not None:
        slots = {
            slot.operation_id: slot
            for slot in ScheduleSlot.objects.filter(
                schedule=schedule, work_center=work_center, operation__status__in=PLANNED_OPERATION_STATUSES
            )
        }
    base = operations_for_floor().filter(job__status__in=PLANNED_JOB_STATUSES)
    running = list(base.filter(status=OperationStatus.IN_PROGRESS, work_center=work_center).order_by("actual_start"))
    unplanned = Q(work_center_type_id=work_center.work_center_type_id) & (
        Q(preferred_work_center=work_center) | Q(preferred_work_center__isnull=True)
    )
    if schedule is not None:
        unplanned &= ~Q(schedule_slots__schedule=schedule)
    waiting = list(base.filter(status=OperationStatus.PENDING).filter(Q(pk__in=list(slots)) | unplanned).distinct())
    waiting.sort(
        key=lambda op: (slots[op.pk].start if op.pk in slots else datetime.max.replace(tzinfo=now.tzinfo), op.pk)
    )
    why = _divergence(waiting, slots, now)
    chosen = (rule or settings.SHOPFLOOR_DISPATCH_RULE).upper()
    if chosen not in DispatchRule.values:
        chosen = DispatchRule.EDD
    ranked = bool(rule) or bool(why)
    if ranked:
        waiting = _ranked(waiting, work_center, solver.Rule(chosen), now)
    return MachineQueue(
        work_center=work_center,
        rule=chosen if ranked else "",
        diverged=bool(why),
        why=why,
        entries=running + waiting,
    )


def _divergence(waiting: list[Operation], slots: dict[int, ScheduleSlot], now: datetime) -> str:
    if any(op.pk not in slots for op in waiting):
        return _("released work is not in the published plan")
    if not waiting:
        return ""
    first = waiting[0]
    if not is_ready(first):
        return _("%(op)s cannot start yet") % {"op": first}
    behind = timedelta(minutes=settings.SHOPFLOOR_BEHIND_PLAN_MINUTES)
    if now - slots[first.pk].setup_start > behind:
        return _("the machine is behind the plan")
    return ""


def _ranked(waiting: list[Operation], work_center: WorkCenter, rule: solver.Rule, now: datetime) -> list[Operation]:
    by_key: dict[str, Operation] = {}
    entries: list[solver.QueueEntry] = []
    for op in waiting:
        key = str(op.pk)
        by_key[key] = op
        duration = duration_on(op.remaining_minutes, work_center.efficiency)
        due = int((end_of_plant_day(op.job.due_date) - now).total_seconds() // 60)
        entries.append(
            solver.QueueEntry(
                job=op.job.number,
                operation=key,
                duration=duration,
                remaining_work=duration,
                arrival=int(((op.job.released_at or now) - now).total_seconds() // 60),
                due=due,
                weight=PRIORITY_WEIGHTS[Priority(op.job.priority)],
            )
        )
    ranked = solver.rank_queue(entries, rule, 0)
    ready = [by_key[entry.operation] for entry in ranked if is_ready(by_key[entry.operation])]
    blocked = [by_key[entry.operation] for entry in ranked if not is_ready(by_key[entry.operation])]
    return ready + blocked


def clocked_in_centers(operator: Any) -> list[WorkCenter]:
    attendance = (
        Attendance.objects.open().filter(operator=operator).prefetch_related("work_centers__department").first()
    )
    if attendance is None:
        return []
    return sorted(attendance.work_centers.all(), key=lambda wc: wc.code)


def machine_crew(work_center_id: int) -> QuerySet[Any]:
    """The operators clocked in to a machine now: who hears of its alarms."""
    return (
        get_user_model()
        .objects.filter(attendances__clocked_out_at__isnull=True, attendances__work_centers=work_center_id)
        .distinct()
    )


@dataclass(frozen=True)
class Station:
    """The machines an operator is clocked in to, and their types: what their buttons depend on."""

    machines: frozenset[int] = frozenset()
    types: frozenset[int] = frozenset()

    @classmethod
    def of(cls, centers: list[WorkCenter]) -> Station:
        return cls(frozenset(wc.pk for wc in centers), frozenset(wc.work_center_type_id for wc in centers))


def station_of(operator: Any) -> Station:
    return Station.of(clocked_in_centers(operator))


def allowed_actions(operation: Operation, operator: Any, station: Station) -> list[str]:
    """What this operator may do with the operation now (the services decide; this is for the buttons)."""
    if not operator.has_perm("shopfloor.execute_operation"):
        return []
    if operation.status == OperationStatus.PENDING:
        if operation.work_center_type_id in station.types and is_ready(operation):
            return ["start"]
        return []
    if operation.status != OperationStatus.IN_PROGRESS or operation.work_center_id not in station.machines:
        return []
    on_it = any(entry.operator_id == operator.pk for entry in getattr(operation, "open_labor", []))
    actions: list[str] = []
    if operation.paused_since is not None:
        actions += ["resume", "report", "complete"]
    else:
        if operation.phase == OperationPhase.SETUP:
            actions.append("finish_setup")
        actions += ["pause", "report", "complete"]
        actions.append("leave" if on_it else "join")
    return actions


def downtime_prompts(operator: Any) -> QuerySet[MachineStateInterval]:
    """Unplanned stops and alarms at the operator's machines since clock-in that have no reason yet."""
    attendance = Attendance.objects.open().filter(operator=operator).first()
    if attendance is None:
        return MachineStateInterval.objects.none()
    return (
        MachineStateInterval.objects.filter(
            work_center__in=attendance.work_centers.all(),
            state__in=PROMPTED_STATES,
            reason__isnull=True,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=attendance.clocked_in_at))
        .select_related("work_center")
        .order_by("-started_at")
    )


@dataclass
class FloorRow:
    """One machine on the supervisor's view."""

    work_center: WorkCenter
    state: str
    operators: list[Any]
    running: list[Operation]
    waiting: int
    next_planned: datetime | None


def floor_overview() -> dict[str, Any]:
    """The supervisor's view: who is clocked in where, what runs, what waits, open issues."""
    attendances = list(
        Attendance.objects.open()
        .select_related("operator")
        .prefetch_related("work_centers")
        .order_by("operator__username")
    )
    running = list(operations_for_floor().filter(status=OperationStatus.IN_PROGRESS).order_by("actual_start"))
    schedule = published_schedule()
    waiting: dict[int, tuple[int, datetime | None]] = {}
    if schedule is not None:
        for row in (
            ScheduleSlot.objects.filter(schedule=schedule, operation__status=OperationStatus.PENDING)
            .values("work_center")
            .annotate(count=Count("pk"), first=Min("setup_start"))
        ):
            waiting[row["work_center"]] = (row["count"], row["first"])
    states = dict(LiveState.objects.values_list("work_center_id", "state"))
    rows = []
    for wc in (
        WorkCenter.objects.filter(is_active=True).select_related("department").order_by("department__sequence", "code")
    ):
        count, first = waiting.get(wc.pk, (0, None))
        rows.append(
            FloorRow(
                work_center=wc,
                state=states.get(wc.pk, ""),
                operators=[a.operator for a in attendances if any(c.pk == wc.pk for c in a.work_centers.all())],
                running=[op for op in running if op.work_center_id == wc.pk],
                waiting=count,
                next_planned=first,
            )
        )
    issues = list(
        IssueReport.objects.exclude(status=IssueStatus.CLOSED).select_related("work_center", "reported_by", "job")[:50]
    )
    return {"attendances": attendances, "rows": rows, "issues": issues, "schedule": schedule}
