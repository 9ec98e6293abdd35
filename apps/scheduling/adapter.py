"""From the shop in the database to the solver's `Problem`, and the solver's minutes back to datetimes.

Minute 0 is the horizon start (the moment planning began, rounded up to a whole minute). Ids the
solver sees are the ones people read: machines by work-center code, jobs by job number,
operations by their sequence number, so an input error reads "job 24-118 operation 30: ...".

What is planned:
- Jobs released or in progress. Jobs on hold are NOT planned: a hold means "do not run this
  until further notice", so giving it capacity would push real work back; it is planned again
  once resumed. Draft, complete and cancelled jobs have nothing to plan.
- Their pending and in-progress operations. Completed (and cancelled) ones are left out, and a
  predecessor that is complete no longer constrains anything: actuals win over plans.
- An operation in progress is frozen where it runs: on the machine the floor started it on (else
  its preferred work center, or the eligible one free soonest), from the horizon start to the
  horizon start plus the work it still has left (by the good count reported, or else its duration
  less the working minutes that machine has worked since the actual start); two running on one
  machine are queued one behind the other.
- An operation may run on every active work center of its type, for ceil(total minutes /
  efficiency) minutes there.
- Due = the end of the due date in plant time (negative when already overdue, so the lateness
  counts); weight by priority: rush 8, high 4, normal 2, low 1 (each step doubles).
- Setup category = the part's material code on laser and punch operations (a material or
  thickness change means new nozzles, gas, focus or tooling); other operations have none. Each
  machine's changeover matrix is its type's ChangeoverTime rows (pairs not listed cost nothing).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Prefetch

from apps.machines.calendar import working_minutes
from apps.machines.models import WorkCenter
from apps.machines.selectors import end_of_plant_day, working_intervals_for
from apps.routings.choices import JobStatus, OperationStatus, Priority
from apps.routings.models import Job as ShopJob
from apps.routings.models import Operation as ShopOperation

from . import solver
from .models import ChangeoverTime, Schedule

PLANNED_JOB_STATUSES = (JobStatus.RELEASED, JobStatus.IN_PROGRESS)
PLANNED_OPERATION_STATUSES = (OperationStatus.PENDING, OperationStatus.IN_PROGRESS)
PRIORITY_WEIGHTS = {Priority.RUSH: 8, Priority.HIGH: 4, Priority.NORMAL: 2, Priority.LOW: 1}
# Departments whose changeovers depend on the sheet: material grade and thickness.
MATERIAL_SETUP_DEPARTMENTS = frozenset({"laser", "punch"})

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class PlanningInput:
    """The solver's problem and the way back from its ids to rows and from its minutes to datetimes."""

    problem: solver.Problem
    origin: datetime
    work_centers: dict[str, WorkCenter]
    operations: dict[tuple[str, str], ShopOperation]

    def at(self, minute: int) -> datetime:
        return self.origin + minute * _MINUTE


def horizon_start(now: datetime) -> datetime:
    """`now` rounded up to the next whole minute (unchanged when already whole)."""
    floored = now.replace(second=0, microsecond=0)
    return floored if floored == now else floored + _MINUTE


def to_minute(origin: datetime, instant: datetime) -> int:
    return math.floor((instant - origin) / _MINUTE)


def duration_on(total_minutes: Decimal, efficiency: Decimal) -> int:
    """Working minutes on a machine: a faster machine (efficiency above 1) needs fewer; at least one."""
    return max(1, math.ceil(total_minutes / efficiency))


def build_planning_input(*, origin: datetime, horizon_days: int, allow_break_straddle: bool = True) -> PlanningInput:
    """Read the shop and build the solver's `Problem` over [origin, origin + horizon_days)."""
    end = origin + timedelta(days=horizon_days)
    horizon = horizon_days * 24 * 60
    centers = list(WorkCenter.objects.filter(is_active=True).select_related("work_center_type").order_by("code"))
    intervals = working_intervals_for(centers, origin, end)
    matrices = _setup_matrices({wc.work_center_type_id for wc in centers})
    machines = tuple(
        solver.Machine(
            id=wc.code,
            working=_minutes(origin, horizon, intervals[wc.pk]),
            setup_group=wc.work_center_type.code if wc.work_center_type.code in matrices else None,
        )
        for wc in centers
    )
    by_type: dict[int, list[WorkCenter]] = {}
    for wc in centers:
        by_type.setdefault(wc.work_center_type_id, []).append(wc)

    shop_jobs = list(
        ShopJob.objects.filter(status__in=PLANNED_JOB_STATUSES)
        .select_related("part__material")
        .prefetch_related(
            Prefetch(
                "operations",
                queryset=ShopOperation.objects.filter(status__in=PLANNED_OPERATION_STATUSES)
                .select_related("work_center_type__department", "preferred_work_center")
                .prefetch_related("predecessors")
                .order_by("sequence"),
            )
        )
        .order_by("number")
    )
    running = [op for job in shop_jobs for op in job.operations.all() if op.status == OperationStatus.IN_PROGRESS]
    frozen = _place_running(running, by_type, origin, {machine.id: machine.working for machine in machines})

    keys = {op.pk: (job.number, str(op.sequence)) for job in shop_jobs for op in job.operations.all()}
    operations: dict[tuple[str, str], ShopOperation] = {}
    jobs: list[solver.Job] = []
    links: list[solver.Link] = []
    faults: list[solver.Fault] = []
    for shop_job in shop_jobs:
        material = shop_job.part.material.code if shop_job.part.material is not None else None
        planned: list[solver.Operation] = []
        for op in shop_job.operations.all():
            key = keys[op.pk]
            operations[key] = op
            eligible = by_type.get(op.work_center_type_id, [])
            if not eligible:
                faults.append(
                    solver.Fault(f"no active work center of type {op.work_center_type.code} can run it", key[0], key[1])
                )
                continue
            options = tuple(solver.Option(wc.code, duration_on(op.total_minutes, wc.efficiency)) for wc in eligible)
            predecessors: list[str] = []
            for before in op.predecessors.all():
                before_key = keys.get(before.pk)
                if before_key is None:
                    continue  # complete or cancelled: nothing to wait for
                if before_key[0] == key[0]:
                    predecessors.append(before_key[1])
                else:
                    links.append(solver.Link(solver.OperationRef(*before_key), solver.OperationRef(*key)))
            in_material_department = op.work_center_type.department.code in MATERIAL_SETUP_DEPARTMENTS
            fixed = frozen.get(op.pk)
            planned.append(
                solver.Operation(
                    id=key[1],
                    options=options,
                    predecessors=tuple(sorted(predecessors, key=int)),
                    setup_category=material if in_material_department else None,
                    fixed=fixed,
                )
            )
        due_end = end_of_plant_day(shop_job.due_date)
        jobs.append(
            solver.Job(
                id=shop_job.number,
                operations=tuple(planned),
                due=to_minute(origin, due_end.astimezone(UTC)),
                weight=PRIORITY_WEIGHTS[Priority(shop_job.priority)],
            )
        )
    if faults:
        raise solver.InputError(faults)
    problem = solver.Problem(
        machines=machines,
        jobs=tuple(job for job in jobs if job.operations),
        horizon=horizon,
        links=tuple(links),
        setup_matrices=matrices,
        straddle=solver.Straddle.PAUSE if allow_break_straddle else solver.Straddle.WITHIN_WINDOW,
    )
    centers_by_code = {wc.code: wc for wc in centers}
    return PlanningInput(problem, origin, centers_by_code, operations)


def _minutes(
    origin: datetime, horizon: int, intervals: Iterable[tuple[datetime, datetime]]
) -> tuple[solver.model.Interval, ...]:
    result: list[solver.model.Interval] = []
    for start, end in intervals:
        # Working time starts no earlier and ends no later than the calendar says.
        low = max(0, math.ceil((start - origin) / _MINUTE))
        high = min(horizon, math.floor((end - origin) / _MINUTE))
        if low < high:
            result.append((low, high))
    return tuple(result)


def _setup_matrices(type_ids: set[int]) -> dict[str, solver.SetupMatrix]:
    rows: dict[str, dict[tuple[str, str], int]] = {}
    for row in ChangeoverTime.objects.filter(work_center_type_id__in=type_ids).select_related("work_center_type"):
        rows.setdefault(row.work_center_type.code, {})[(row.from_category, row.to_category)] = row.minutes
    return {code: solver.SetupMatrix(changeover=pairs, default=0) for code, pairs in rows.items()}


def _place_running(
    running: Sequence[ShopOperation],
    by_type: dict[int, list[WorkCenter]],
    origin: datetime,
    working: dict[str, tuple[solver.model.Interval, ...]],
) -> dict[int, solver.Fixed]:
    """Where each running operation is frozen, and until when.

    It stays on the machine the shop floor started it on; when that is not known (started from
    the office), on its preferred work center, or else the eligible one free soonest. A machine
    cannot run two at once, so a second running operation on one machine is queued behind the
    first (by actual start). The work left is the run time of the parts not yet reported good
    once counts come in, and until then the work less the machine's working minutes since the
    start; it is done in the machine's working time: planned at night, it ends the next shift.
    """
    ordered = sorted(running, key=lambda op: (op.actual_start or origin, op.pk))
    chosen: dict[int, WorkCenter] = {}
    busy_until: dict[int, int] = {}
    for op in ordered:
        eligible = by_type.get(op.work_center_type_id, [])
        if not eligible:
            continue
        actual = next((wc for wc in eligible if wc.pk == op.work_center_id), None)
        preferred = next((wc for wc in eligible if wc.pk == op.preferred_work_center_id), None)
        if actual is not None:
            chosen[op.pk] = actual
        elif preferred is not None and busy_until.get(preferred.pk, 0) == 0:
            chosen[op.pk] = preferred
        else:
            chosen[op.pk] = min(eligible, key=lambda wc: busy_until.get(wc.pk, 0))
        busy_until[chosen[op.pk].pk] = busy_until.get(chosen[op.pk].pk, 0) + 1
    worked = _worked_since_start([op for op in ordered if op.pk in chosen], chosen, origin)
    placed: dict[int, solver.Fixed] = {}
    free_at: dict[int, int] = {}
    for op in ordered:
        if op.pk not in chosen:
            continue
        where = chosen[op.pk]
        if op.quantity_good:
            left = max(1, duration_on(op.remaining_minutes, where.efficiency))
        else:
            left = max(1, duration_on(op.total_minutes, where.efficiency) - worked.get(op.pk, 0))
        start = free_at.get(where.pk, 0)
        end = end_after_working(working.get(where.code, ()), start, left)
        free_at[where.pk] = end
        placed[op.pk] = solver.Fixed(machine=where.code, start=start, end=end)
    return placed


def end_after_working(windows: Sequence[solver.model.Interval], start: int, minutes: int) -> int:
    """The minute `minutes` of working time after `start` are done (straight on past the last window)."""
    left = minutes
    for low, high in windows:
        if high <= start:
            continue
        begin = max(low, start)
        if high - begin >= left:
            return begin + left
        left -= high - begin
        start = high
    return start + left


def _worked_since_start(
    running: Sequence[ShopOperation], chosen: dict[int, WorkCenter], origin: datetime
) -> dict[int, int]:
    """Working minutes each running operation's machine has had between its actual start and now."""
    started = [op for op in running if op.actual_start is not None and op.actual_start < origin]
    if not started:
        return {}
    earliest = min(op.actual_start for op in started if op.actual_start is not None)
    centers = {chosen[op.pk].pk: chosen[op.pk] for op in started}
    intervals = working_intervals_for(centers.values(), earliest, origin)
    result: dict[int, int] = {}
    for op in started:
        since = op.actual_start
        assert since is not None  # filtered above
        clipped = [(max(a, since), b) for a, b in intervals[chosen[op.pk].pk] if b > since]
        result[op.pk] = working_minutes(clipped)
    return result


def earlier_plan(schedule: Schedule, planning: PlanningInput) -> solver.Schedule:
    """`schedule`'s slots of the work still open in `planning`, in its minutes: the plan a replan starts from.

    Slots of work finished since (or of jobs no longer planned) are left out; `solver.solve` places
    what the plan does not hold by the best rule, and keeps the plan's machine only where it is
    still an active, eligible work center.
    """
    rows = []
    slots = schedule.slots.select_related("operation__job", "work_center")
    for slot in slots:
        key = (slot.operation.job.number, str(slot.operation.sequence))
        if key not in planning.operations:
            continue
        rows.append(
            solver.ScheduledOperation(
                job=key[0],
                operation=key[1],
                machine=slot.work_center.code,
                start=to_minute(planning.origin, slot.start),
                end=to_minute(planning.origin, slot.end),
                setup=slot.setup_minutes,
            )
        )
    return solver.Schedule(tuple(rows))
