"""Cost per part: what the jobs finished in a period cost, per operation and per job.

Costs are booked when a job closes, the way a job shop's costing does: a job finished in the period brings all its
operations, whenever they ran, so a job's row is its whole cost. Per operation:

- machine = machine run time x the work center's hourly rate. Run time is the machine's own running time while the
  operation was on it; where the machine reports no state (a manned station, a sensor that was down), the run
  phase the floor booked (see `analytics.machine_run_seconds`);
- labor = operator time booked on the operation (every labor entry, setup and run, each operator apart) x the
  labor rate of the machine's department, or the plant-wide rate;
- scrap = scrapped units x the part's material cost per part.

A job's cost per good part divides its total by the good parts of its last operation. Everything is read in six
queries whatever the number of jobs; the arithmetic is `analytics.cost_per_part` and `analytics.job_cost`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db.models import Max, Q
from django.utils import timezone

from apps.machines.calendar import merge
from apps.machines.machine_state import MachineState
from apps.machines.models import MachineStateInterval
from apps.routings.choices import JobStatus, OperationStatus
from apps.routings.models import Job, Operation
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import LaborEntry, ProductionEvent

from .analytics import CostBreakdown, CostInput, Interval, PhaseWindow, cost_per_part, job_cost, machine_run_seconds
from .models import LaborRate

_ZERO = Decimal("0")
_WINDOW_KINDS = (EventKind.START_SETUP, EventKind.START_RUN, EventKind.PAUSE, EventKind.RESUME, EventKind.COMPLETE)
_COUNT_KINDS = frozenset({EventKind.REPORT, EventKind.COMPLETE})


class RateKind(StrEnum):
    MACHINE = "machine"  # per hour, on the work center
    LABOR = "labor"  # per hour, per department or plant-wide
    MATERIAL = "material"  # per part, on the part


@dataclass(frozen=True)
class RateUsed:
    """One rate the report priced something with, so that a reader can check the figures.

    `rate` None: not set, counted as 0. `plant_wide`: a labor rate the department took from the plant.
    """

    kind: RateKind
    subject: str  # machine code, department name or part number and revision
    rate: Decimal | None
    plant_wide: bool = False


@dataclass(frozen=True)
class OperationCost:
    operation_id: int
    label: str  # "J-1042/20 BEND"
    machine: str  # the work center's code; "" for an operation that never started on one
    finished_at: datetime | None
    run_seconds: int
    labor_seconds: int
    good: int
    scrap: int
    cost: CostBreakdown
    # False when the floor recorded nothing (no events, no labor): done before the shop floor app, or booked
    # complete by hand. Its zeros are then unknown, not free.
    recorded: bool = True


@dataclass(frozen=True)
class JobCost:
    job_id: int
    number: str
    part: str
    customer: str
    quantity: int
    finished_at: datetime
    good: int  # good parts of the job's last operation: what the job delivered
    operations: tuple[OperationCost, ...]
    cost: CostBreakdown

    @property
    def scrap(self) -> int:
        return sum(op.scrap for op in self.operations)

    @property
    def run_seconds(self) -> int:
        return sum(op.run_seconds for op in self.operations)

    @property
    def labor_seconds(self) -> int:
        return sum(op.labor_seconds for op in self.operations)

    @property
    def unrecorded(self) -> int:
        """Operations without a floor record: the job's cost leaves them out."""
        return sum(not op.recorded for op in self.operations)


@dataclass(frozen=True)
class CostSheet:
    jobs: tuple[JobCost, ...]
    rates: tuple[RateUsed, ...]  # every rate that priced something, by kind then subject

    @property
    def operations(self) -> list[OperationCost]:
        return [op for job in self.jobs for op in job.operations]

    @property
    def missing(self) -> list[RateUsed]:
        """Rates that were needed (there was time or scrap to price) but are not set."""
        return [rate for rate in self.rates if rate.rate is None]


def phase_windows(events: Iterable[tuple[datetime, str]]) -> list[PhaseWindow]:
    """When an operation was on its machine and not paused, from its production events in order.

    Setup starts with start_setup and ends at start_run (finishing the setup), a pause, or completion; run
    starts with start_run. A resume reopens the phase the operation was paused in. Other events (counts, operators
    joining or leaving) do not move the machine.
    """
    windows: list[PhaseWindow] = []
    run = False
    since: datetime | None = None
    for at, kind in events:
        if kind in (EventKind.START_SETUP, EventKind.START_RUN):
            if since is not None:
                windows.append(PhaseWindow(since, at, run))
            run, since = kind == EventKind.START_RUN, at
        elif kind == EventKind.RESUME:
            since = since or at
        elif kind in (EventKind.PAUSE, EventKind.COMPLETE) and since is not None:
            windows.append(PhaseWindow(since, at, run))
            since = None
    return windows


def job_costs(
    *,
    start: datetime,
    end: datetime,
    department_id: int | None = None,
    work_center_ids: Sequence[int] = (),
    now: datetime | None = None,
) -> CostSheet:
    """The cost of every job completed in [start, end), with its operations.

    With a department or machines, only the operations that ran there are costed (a department's cost per part
    of the jobs it worked on); jobs with none of them are left out. Cancelled jobs and operations are not costed.
    """
    if end < start:
        raise ValueError(f"The period ends before it starts (from {start.isoformat()} to {end.isoformat()}).")
    now = now or timezone.now()
    jobs = list(
        Job.objects.filter(status=JobStatus.COMPLETE)
        .annotate(finished=Max("operations__actual_end"))
        .filter(finished__gte=start, finished__lt=end)
        .select_related("part", "customer")
        .order_by("finished", "number")
    )
    if not jobs:
        return CostSheet(jobs=(), rates=())
    operations = list(
        Operation.objects.filter(job__in=[job.pk for job in jobs])
        .exclude(status=OperationStatus.CANCELLED)
        .select_related("work_center__department")
        .order_by("job_id", "sequence")
    )
    wanted = set(work_center_ids)

    def in_scope(op: Operation) -> bool:
        if op.work_center is None:
            return department_id is None and not wanted
        if department_id is not None and op.work_center.department_id != department_id:
            return False
        return not wanted or op.work_center_id in wanted

    windows, good, scrap = _events([op.pk for op in operations])
    costed = [op for op in operations if in_scope(op)]
    labor = _labor_seconds([op.pk for op in costed])
    machine_time = _MachineTime.read(costed, windows, now)
    labor_rates: dict[int | None, Decimal] = dict(LaborRate.objects.values_list("department_id", "hourly_rate"))

    rates: dict[tuple[RateKind, str], RateUsed] = {}
    by_job: dict[int, list[OperationCost]] = defaultdict(list)
    last_of_job: dict[int, Operation] = {}
    for op in operations:
        last_of_job[op.job_id] = op  # ordered by sequence: the last one wins
    parts = {job.pk: job.part for job in jobs}
    numbers = {job.pk: job.number for job in jobs}
    for op in costed:
        part = parts[op.job_id]
        run_seconds = machine_time.seconds(op, windows.get(op.pk, []))
        machine_rate = op.work_center.hourly_rate if op.work_center else _ZERO
        labor_rate, plant_wide = _labor_rate(op, labor_rates)
        if op.work_center is not None and run_seconds:
            code = op.work_center.code
            rates[(RateKind.MACHINE, code)] = RateUsed(RateKind.MACHINE, code, machine_rate or None)
        if op.work_center is not None and labor.get(op.pk):
            name = op.work_center.department.name
            rates[(RateKind.LABOR, name)] = RateUsed(RateKind.LABOR, name, labor_rate, plant_wide)
        if scrap.get(op.pk):
            rates[(RateKind.MATERIAL, str(part))] = RateUsed(RateKind.MATERIAL, str(part), part.material_cost)
        cost = cost_per_part(
            CostInput(
                run_seconds=run_seconds,
                machine_rate_per_hour=machine_rate,
                labor_seconds=labor.get(op.pk, 0),
                labor_rate_per_hour=labor_rate or _ZERO,
                scrap_units=scrap.get(op.pk, 0),
                material_cost_per_unit=part.material_cost or _ZERO,
                good_units=good.get(op.pk, 0),
            )
        )
        by_job[op.job_id].append(
            OperationCost(
                operation_id=op.pk,
                label=f"{numbers[op.job_id]}/{op.sequence} {op.operation_code}",
                machine=op.work_center.code if op.work_center else "",
                finished_at=op.actual_end,
                run_seconds=run_seconds,
                labor_seconds=labor.get(op.pk, 0),
                good=good.get(op.pk, 0),
                scrap=scrap.get(op.pk, 0),
                cost=cost,
                recorded=op.pk in windows or op.pk in labor or op.pk in good,
            )
        )
    result = []
    for job in jobs:
        if job.pk not in by_job:
            continue
        delivered = good.get(last_of_job[job.pk].pk, 0)
        result.append(
            JobCost(
                job_id=job.pk,
                number=job.number,
                part=str(job.part),
                customer=job.customer.name,
                quantity=job.quantity,
                finished_at=job.finished,
                good=delivered,
                operations=tuple(by_job[job.pk]),
                cost=job_cost([op.cost for op in by_job[job.pk]], delivered),
            )
        )
    ordered_rates = sorted(rates.values(), key=lambda rate: (list(RateKind).index(rate.kind), rate.subject))
    return CostSheet(jobs=tuple(result), rates=tuple(ordered_rates))


def _labor_rate(op: Operation, rates: dict[int | None, Decimal]) -> tuple[Decimal | None, bool]:
    """The department's own rate, else the plant-wide one (flagged), else None."""
    department_id = op.work_center.department_id if op.work_center else None
    if department_id is not None and department_id in rates:
        return rates[department_id], False
    if None in rates:
        return rates[None], True
    return None, False


def _events(
    operation_ids: list[int],
) -> tuple[dict[int, list[PhaseWindow]], dict[int, int], dict[int, int]]:
    """Per operation: its windows on the machine, and its good and scrap units. One query."""
    rows = (
        ProductionEvent.objects.filter(operation_id__in=operation_ids, kind__in=(*_WINDOW_KINDS, EventKind.REPORT))
        .order_by("operation_id", "at", "pk")
        .values_list("operation_id", "at", "kind", "quantity_good", "quantity_scrap")
    )
    moves: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    good: dict[int, int] = defaultdict(int)
    scrap: dict[int, int] = defaultdict(int)
    for operation_id, at, kind, quantity_good, quantity_scrap in rows:
        if kind in _COUNT_KINDS:
            good[operation_id] += quantity_good
            scrap[operation_id] += quantity_scrap
        if kind in _WINDOW_KINDS:
            moves[operation_id].append((at, kind))
    return {op_id: phase_windows(steps) for op_id, steps in moves.items()}, good, scrap


def _labor_seconds(operation_ids: list[int]) -> dict[int, int]:
    """Closed labor entries per operation, in whole seconds. One query."""
    seconds: dict[int, int] = defaultdict(int)
    rows = LaborEntry.objects.filter(operation_id__in=operation_ids, ended_at__isnull=False).values_list(
        "operation_id", "started_at", "ended_at"
    )
    for operation_id, started_at, ended_at in rows:
        if ended_at is not None:  # filtered out above; this tells the type checker
            seconds[operation_id] += (ended_at - started_at) // timedelta(seconds=1)
    return seconds


class _Timeline:
    """Merged, sorted intervals of one machine, with their starts and ends at hand for bisection."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self.intervals = merge(intervals)
        self.starts = [start for start, _end in self.intervals]
        self.ends = [end for _start, end in self.intervals]  # merged intervals: the ends are sorted too

    def around(self, lo: datetime, hi: datetime) -> list[Interval]:
        """The intervals that reach into [lo, hi)."""
        return self.intervals[bisect_right(self.ends, lo) : bisect_left(self.starts, hi)]


_NO_TIME = _Timeline(())


@dataclass(frozen=True)
class _MachineTime:
    """Each machine's running and reporting time around the operations it ran. One query."""

    running: dict[int, _Timeline]
    reporting: dict[int, _Timeline]

    @classmethod
    def read(
        cls, operations: Sequence[Operation], windows: dict[int, list[PhaseWindow]], now: datetime
    ) -> _MachineTime:
        bounds: dict[int, tuple[datetime, datetime]] = {}
        for op in operations:
            if op.work_center_id is None or not windows.get(op.pk):
                continue
            lo = min(w.start for w in windows[op.pk])
            hi = max(w.end for w in windows[op.pk])
            old = bounds.get(op.work_center_id)
            bounds[op.work_center_id] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
        if not bounds:
            return cls({}, {})
        around = Q()
        for work_center_id, (lo, hi) in bounds.items():
            around |= Q(work_center_id=work_center_id, started_at__lt=hi) & (
                Q(ended_at__isnull=True) | Q(ended_at__gt=lo)
            )
        rows = (
            MachineStateInterval.objects.filter(around)
            .exclude(state=MachineState.OFFLINE)
            .values_list("work_center_id", "state", "started_at", "ended_at")
        )
        running: dict[int, list[Interval]] = defaultdict(list)
        reporting: dict[int, list[Interval]] = defaultdict(list)
        for work_center_id, state, started_at, ended_at in rows:
            span = (started_at, ended_at or max(now, started_at))
            reporting[work_center_id].append(span)
            if state == MachineState.RUNNING:
                running[work_center_id].append(span)
        return cls(
            {wc: _Timeline(spans) for wc, spans in running.items()},
            {wc: _Timeline(spans) for wc, spans in reporting.items()},
        )

    def seconds(self, op: Operation, windows: list[PhaseWindow]) -> int:
        if op.work_center_id is None or not windows:
            return 0
        lo = min(w.start for w in windows)
        hi = max(w.end for w in windows)
        return machine_run_seconds(
            windows,
            running=self.running.get(op.work_center_id, _NO_TIME).around(lo, hi),
            reporting=self.reporting.get(op.work_center_id, _NO_TIME).around(lo, hi),
        )
