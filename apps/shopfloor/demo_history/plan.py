"""The demo history's planning, pure: which window, which machine goes without work, and which jobs
the floor worked on the machines' simulated time, with every shop-floor action in time order.

No ORM here: timelines, routes and shifts come in as plain values, so the plan is tested and timed
without a database. Same inputs and seed, same plan.

How operations land on machines. An operation starts where its machine begins a setup (the
simulator's own job change; on a manual station, which reports no controller mode, where it goes
idle), runs from the first running moment after that, and completes once the machine has run long
enough for its parts: count × ideal cycle (run minutes per unit / work center efficiency) is 82–94 %
of the run time as OEE counts it (running, and stops shorter than five minutes); it runs on to the
machine's next setup when that keeps it at 80 % or more, so little run time is left to nobody. A
machine does one operation at a time. An operation starts half an hour or more after its predecessors
started (parts come over in batches) and does not complete before them. Each new job aims at the
machine type with the most run time nobody has claimed yet and enters the window at that step: its
earlier steps were done before the window (work in progress, as a real shop has at any moment).
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

from apps.machines import calendar
from apps.machines.machine_state import MachineState
from apps.telemetry.simulator.model import Calendar

Interval = tuple[datetime, datetime]

SMALL_STOP = timedelta(minutes=5)  # OEE's default: a shorter stop counts as run time (a performance loss)
STOP_STATES = frozenset({MachineState.IDLE, MachineState.ALARM, MachineState.UNPLANNED_DOWN})
PERFORMANCE = (0.82, 0.94)  # ideal time / run time of one operation, aimed at
PERFORMANCE_FLOOR = 0.8  # ...and the least it may come to when the operation runs on to the machine's next setup
SCRAP_SHARE = (0.01, 0.04)
STARTUP_REJECT_CHANCE = 0.35
OPERATION_RUN = (timedelta(hours=2), timedelta(hours=5))  # run time aimed at on the target machine
LONGEST_OPERATION = timedelta(hours=8)  # no step of a job runs longer than this (caps the quantity)
TRANSFER_LAG = timedelta(minutes=30)  # the first parts reach the next step this long after its predecessor began
PLAN_SLIP_MINUTES = (-60, 90)  # actual start minus planned start: early or late against the plan
BEFORE_WINDOW = timedelta(hours=3)  # spacing of the steps a job did before the window
SMALLER_TRIES = (1.0, 0.5, 0.25)  # a job that does not fit is tried again with fewer parts
MIN_FREE = timedelta(minutes=30)  # a machine type with less unclaimed run time gets no new job
NO_WORK_AFTER = timedelta(minutes=45)  # into a long working stretch, the machine runs out of work...
NO_WORK_LENGTH = timedelta(hours=2)  # ...for this long
ONE_SECOND = timedelta(seconds=1)


def history_start(
    *, now: datetime, hours: int, working: Mapping[str, Sequence[Interval]], tz: ZoneInfo, whole_day: bool
) -> datetime:
    """`hours` before `now`, or earlier: back to the start of the last whole working day, the last
    plant day before today on which most machines had working time. On a Monday
    morning 30 hours reach back into the weekend only; the OEE dashboard needs Friday."""
    start = now - timedelta(hours=hours)
    if not whole_day or not working:
        return start
    today = now.astimezone(tz).date()
    first_by_day: dict[date, dict[str, datetime]] = {}
    for code, intervals in working.items():
        for begin, _end in intervals:
            day = begin.astimezone(tz).date()
            if day < today:
                first_by_day.setdefault(day, {}).setdefault(code, begin)
    busy = [day for day, machines in first_by_day.items() if 2 * len(machines) > len(working)]
    if not busy:
        return start
    return min(start, min(first_by_day[max(busy)].values()))


def choose_idle_stretch(
    *, working: Mapping[str, Sequence[Interval]], types: Mapping[str, str], start: datetime, end: datetime, seed: int
) -> tuple[str, Interval] | None:
    """A machine and two hours of its working time in which it has no work: a machine of a type the
    shop has more than one of (the work went to the others), in its last long working stretch."""
    per_type: dict[str, int] = {}
    for type_code in types.values():
        per_type[type_code] = per_type.get(type_code, 0) + 1
    candidates = []
    for code in sorted(working):
        if per_type.get(types.get(code, ""), 0) < 2:
            continue
        long_ones = [
            begin
            for begin, finish in working[code]
            if begin >= start and finish <= end and finish - begin >= NO_WORK_AFTER + NO_WORK_LENGTH + SMALL_STOP
        ]
        if long_ones:
            begin = long_ones[-1] + NO_WORK_AFTER
            candidates.append((code, (begin, begin + NO_WORK_LENGTH)))
    if not candidates:
        return None
    return random.Random(f"{seed}:no-work").choice(candidates)


@dataclass(frozen=True, slots=True)
class WithoutWork:
    """A machine's calendar with a stretch taken out: the simulator's model runs no job in it and the
    machine reports itself ready, so the MES, whose calendar says working time, sees it idle."""

    calendar: Calendar
    idle: Interval

    def intervals(self, start: datetime, end: datetime) -> Sequence[Interval]:
        cut_start, cut_end = self.idle
        kept: list[Interval] = []
        for begin, finish in self.calendar.intervals(start, end):
            if finish <= cut_start or begin >= cut_end:
                kept.append((begin, finish))
                continue
            if begin < cut_start:
                kept.append((begin, cut_start))
            if finish > cut_end:
                kept.append((cut_end, finish))
        return kept


def shift_occurrences(
    shifts: Sequence[calendar.Shift], overtime: Sequence[Interval], tz: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """The shifts (breaks included) and overtime of the machines' calendars in [start, end): when an
    operator is clocked in. The same shift in two calendars is one; overlapping ones become one."""
    occurrences = set(overtime)
    for shift in {calendar.Shift(s.weekday, s.start, s.end) for s in shifts}:
        occurrences.update(calendar.working_intervals([shift], [], tz, start, end))
    merged: list[Interval] = []
    for begin, finish in sorted((max(b, start), min(f, end)) for b, f in occurrences):
        if finish <= begin:
            continue
        if merged and begin < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


# --- machine timelines --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """One machine state interval (the open one ends at the window end)."""

    start: datetime
    end: datetime
    state: str


class Timeline:
    """One machine's states in the window, its run time as OEE counts it, and the stretches it was given."""

    def __init__(self, code: str, type_code: str, efficiency: Decimal, spans: Sequence[Span]) -> None:
        self.code = code
        self.type_code = type_code
        self.efficiency = efficiency
        productive = [
            (span.start, span.end)
            for span in spans
            if span.state == MachineState.RUNNING or (span.state in STOP_STATES and span.end - span.start < SMALL_STOP)
        ]
        self._starts = [begin for begin, _ in productive]
        self._ends = [finish for _, finish in productive]
        self._before = [timedelta(0), *accumulate(finish - begin for begin, finish in productive)]
        running = [(span.start, span.end) for span in spans if span.state == MachineState.RUNNING]
        self._running_starts = [begin for begin, _ in running]
        self._running_ends = [finish for _, finish in running]
        self.setup_starts = [span.start for span in spans if span.state == MachineState.SETUP] or [
            span.start for span in spans if span.state == MachineState.IDLE
        ]
        self.window = (spans[0].start, spans[-1].end) if spans else None
        self.claimed: list[Interval] = []

    def _run_until(self, moment: datetime) -> timedelta:
        index = bisect_right(self._starts, moment) - 1
        if index < 0:
            return timedelta(0)
        return self._before[index] + min(moment, self._ends[index]) - self._starts[index]

    def run_time(self, start: datetime, end: datetime) -> timedelta:
        """Run time as OEE counts it (running, and stops shorter than a small stop) in [start, end)."""
        return self._run_until(end) - self._run_until(start)

    def reach(self, start: datetime, run: timedelta) -> datetime | None:
        """When the machine has run for `run` from `start` on, or None if it does not in the window."""
        target = self._run_until(start) + run
        index = bisect_left(self._before, target) - 1
        if index >= len(self._starts):
            return None
        index = max(index, 0)
        return self._starts[index] + (target - self._before[index])

    def running_at_or_before(self, moment: datetime) -> datetime | None:
        """`moment` if the machine is running then, else the last running instant before it."""
        index = bisect_right(self._running_starts, moment) - 1
        if index < 0:
            return None
        if moment < self._running_ends[index]:
            return moment
        return max(self._running_starts[index], self._running_ends[index] - ONE_SECOND)

    def next_setup_after(self, moment: datetime) -> datetime | None:
        index = bisect_right(self.setup_starts, moment)
        return self.setup_starts[index] if index < len(self.setup_starts) else None

    def first_running_from(self, moment: datetime) -> datetime | None:
        index = bisect_left(self._running_starts, moment)
        return self._running_starts[index] if index < len(self._running_starts) else None

    def is_free(self, start: datetime, end: datetime) -> bool:
        return all(finish <= start or begin >= end for begin, finish in self.claimed)

    def free_run_time(self) -> timedelta:
        if self.window is None:
            return timedelta(0)
        return self.run_time(*self.window) - sum((self.run_time(a, b) for a, b in self.claimed), timedelta(0))


# --- the production plan ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteStep:
    sequence: int
    type_code: str
    setup_minutes: Decimal
    run_minutes_per_unit: Decimal
    predecessors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Route:
    """A part and its routing, as the planner needs it."""

    part_id: int
    steps: tuple[RouteStep, ...]

    @property
    def types(self) -> frozenset[str]:
        return frozenset(step.type_code for step in self.steps)


@dataclass(frozen=True, slots=True)
class Count:
    """Parts reported at one moment."""

    at: datetime
    good: int
    scrap: int


@dataclass(frozen=True, slots=True)
class PlannedOperation:
    """One operation as the floor worked it in the window: where, when, what it reported."""

    sequence: int
    machine: str
    setup_at: datetime | None  # None: the step has no setup and starts straight into run
    run_at: datetime
    end: datetime | None  # None: still running at the end of the window
    startup_scrap: int  # rejects made during setup, reported as setup ends
    reports: tuple[Count, ...]  # while running, about every hour
    completion: Count | None  # the last parts, given with the completion
    planned_start: datetime
    planned_end: datetime

    @property
    def start(self) -> datetime:
        return self.setup_at or self.run_at


@dataclass(frozen=True, slots=True)
class DoneBefore:
    """A step the job did before the window: recorded as started and completed, nothing more."""

    sequence: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class PlannedJob:
    part_id: int
    quantity: int
    done_before: tuple[DoneBefore, ...]
    operations: tuple[PlannedOperation, ...]


def ideal_cycle(step: RouteStep, efficiency: Decimal) -> timedelta:
    """The routing standard per unit on a machine of this efficiency."""
    return timedelta(seconds=float(step.run_minutes_per_unit * 60 / efficiency))


def _order(route: Route) -> list[RouteStep]:
    """The steps, every one after its predecessors."""
    done: set[int] = set()
    ordered: list[RouteStep] = []
    waiting = sorted(route.steps, key=lambda s: s.sequence)
    while waiting:
        ready = [step for step in waiting if set(step.predecessors) <= done]
        if not ready:
            break  # a cycle: validate_routing refuses those at release, nothing to plan
        for step in ready:
            ordered.append(step)
            done.add(step.sequence)
        waiting = [step for step in waiting if step.sequence not in done]
    return ordered


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where and when an operation would run: setup from `setup_at`, parts from `run_at` to `end`."""

    timeline: Timeline
    setup_at: datetime | None
    run_at: datetime
    end: datetime | None
    run: timedelta

    @property
    def start(self) -> datetime:
        return self.setup_at or self.run_at


def _finish(timeline: Timeline, run_at: datetime, run: timedelta, ideal: timedelta) -> datetime | None:
    """When the last part comes off: once the machine has run `run` from `run_at`, at a moment it is
    running (the operator reports at the machine). Preferably at the end of the machine's own job,
    just before its next setup, while the performance stays realistic: no run time of the machine is
    left to nobody. Otherwise a moment in a short stop moves to the nearer (in run time) of the last
    running instant before it and the first one after it. None: not in the window."""
    reached = timeline.reach(run_at, run)
    if reached is None:
        return None
    following = timeline.next_setup_after(reached)
    assert timeline.window is not None
    whole = timeline.running_at_or_before(following or timeline.window[1])
    if whole is not None and whole >= reached and ideal / timeline.run_time(run_at, whole) >= PERFORMANCE_FLOOR:
        return whole
    nearest = [m for m in (timeline.running_at_or_before(reached), timeline.first_running_from(reached)) if m]
    return min(nearest, key=lambda moment: abs(timeline.run_time(run_at, moment) - run), default=None)


@dataclass
class _Planner:
    timelines: Sequence[Timeline]
    start: datetime
    end: datetime
    rng: random.Random
    by_type: dict[str, list[Timeline]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_type = {}
        for timeline in self.timelines:
            self.by_type.setdefault(timeline.type_code, []).append(timeline)

    def plan(self, routes: Sequence[Route], max_jobs: int) -> list[PlannedJob]:
        """New jobs while some machine type has unclaimed run time (and up to `max_jobs`)."""
        usable = [route for route in routes if route.steps]
        types = sorted({t for route in usable for t in route.types if t in self.by_type})
        jobs: list[PlannedJob] = []
        while len(jobs) < max_jobs:
            free = {t: sum((tl.free_run_time() for tl in self.by_type[t]), timedelta(0)) for t in types}
            candidates = [t for t in types if free[t] >= MIN_FREE]
            if not candidates:
                break
            target = max(candidates, key=lambda t: free[t])
            route = self.rng.choice([route for route in usable if target in route.types])
            job = next((j for share in SMALLER_TRIES if (j := self.job(route, target, share)) is not None), None)
            if job is None:
                types.remove(target)  # no machine of this type takes one more operation
                continue
            jobs.append(job)
        return jobs

    def quantity(self, route: Route, target: str, share: float) -> int:
        """Enough parts to keep a machine of the target type busy for a while (`share` of it), no
        step longer than the cap."""
        run = share * self.rng.uniform(OPERATION_RUN[0].total_seconds(), OPERATION_RUN[1].total_seconds())
        per_unit = {step.sequence: ideal_cycle(step, Decimal(1)).total_seconds() for step in route.steps}
        target_cycle = max(per_unit[step.sequence] for step in route.steps if step.type_code == target)
        wanted = int(run * PERFORMANCE[1] / target_cycle)
        cap = int(LONGEST_OPERATION.total_seconds() * PERFORMANCE[0] / max(per_unit.values()))
        return max(1, min(wanted, cap))

    def job(self, route: Route, target: str, share: float) -> PlannedJob | None:
        """The job entering the window at its first step of the target type; None if that step finds
        no machine. The steps ordered before it were done before the window."""
        ordered = _order(route)
        entry = next(index for index, step in enumerate(ordered) if step.type_code == target)
        quantity = self.quantity(route, target, share)
        earlier = {step.sequence for step in ordered[:entry]}
        placed: dict[int, PlannedOperation] = {}
        for step in ordered[entry:]:
            before = [placed.get(s) for s in step.predecessors if s not in earlier]
            if any(op is None or op.end is None for op in before):
                continue  # a predecessor did not run in the window, or is still running: this step waits
            done = [op for op in before if op is not None]
            earliest = max((op.run_at + TRANSFER_LAG for op in done), default=None)
            finish_after = max((op.end for op in done if op.end is not None), default=None)
            operation = self.operation(step, quantity, earliest, finish_after)
            if operation is None:
                if step is ordered[entry]:
                    return None
                continue
            placed[step.sequence] = operation
        count = len(ordered[:entry])
        done_before = tuple(
            DoneBefore(
                step.sequence,
                self.start - BEFORE_WINDOW * (count - index) - BEFORE_WINDOW / 2,
                self.start - BEFORE_WINDOW * (count - index - 1) - BEFORE_WINDOW / 2,
            )
            for index, step in enumerate(ordered[:entry])
        )
        return PlannedJob(route.part_id, quantity, done_before, tuple(placed[s] for s in sorted(placed)))

    def operation(
        self, step: RouteStep, quantity: int, earliest: datetime | None, finish_after: datetime | None
    ) -> PlannedOperation | None:
        rng = self.rng
        performance = rng.uniform(*PERFORMANCE)
        scrap = round(quantity * rng.uniform(*SCRAP_SHARE))
        startup = 1 if step.setup_minutes > 0 and rng.random() < STARTUP_REJECT_CHANCE else 0
        parts = quantity + scrap
        best: _Slot | None = None
        for timeline in self.by_type.get(step.type_code, ()):
            ideal = ideal_cycle(step, timeline.efficiency) * (parts + startup)
            slot = self._slot(timeline, step, ideal / performance, ideal, earliest, finish_after)
            if slot is not None and (best is None or slot.start < best.start):
                best = slot
        if best is None:
            return None
        timeline = best.timeline
        timeline.claimed.append((best.start, best.end or self.end))
        reports, completion = self._counts(timeline, best, parts, scrap)
        planned_start = best.start - timedelta(minutes=rng.randint(*PLAN_SLIP_MINUTES))
        standard = step.setup_minutes + step.run_minutes_per_unit * quantity / timeline.efficiency
        return PlannedOperation(
            sequence=step.sequence,
            machine=timeline.code,
            setup_at=best.setup_at,
            run_at=best.run_at,
            end=best.end,
            startup_scrap=startup,
            reports=reports,
            completion=completion,
            planned_start=planned_start.replace(second=0, microsecond=0),
            planned_end=(planned_start + timedelta(minutes=int(standard))).replace(second=0, microsecond=0),
        )

    def _slot(
        self,
        timeline: Timeline,
        step: RouteStep,
        run: timedelta,
        ideal: timedelta,
        earliest: datetime | None,
        finish_after: datetime | None,
    ) -> _Slot | None:
        """The first setup the machine begins after `earliest` from which it is free until the
        operation is done, and done no sooner than its predecessors."""
        starts = timeline.setup_starts
        first = bisect_right(starts, earliest) if earliest is not None else 0
        for setup_at in starts[first:]:
            run_at = timeline.first_running_from(setup_at)
            if run_at is None:
                return None
            end = _finish(timeline, run_at, run, ideal)
            if end is not None and finish_after is not None and end < finish_after:
                continue
            if not timeline.is_free(setup_at, end or self.end):
                continue
            return _Slot(timeline, setup_at if step.setup_minutes > 0 else None, run_at, end, run)
        return None

    def _counts(
        self, timeline: Timeline, slot: _Slot, parts: int, scrap: int
    ) -> tuple[tuple[Count, ...], Count | None]:
        """Reports about every hour while running, parts made in proportion to run time; the scrap
        falls on parts picked at random."""
        scrapped = sorted(self.rng.sample(range(parts), scrap))
        total = timeline.run_time(slot.run_at, slot.end) if slot.end is not None else slot.run
        stop = slot.end or self.end
        reports: list[Count] = []
        made = 0
        last = slot.run_at
        hour = slot.run_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        while hour < stop:
            at = timeline.running_at_or_before(hour + timedelta(minutes=self.rng.randint(0, 10)))
            hour += timedelta(hours=1)
            if at is None or at <= last or at >= stop:
                continue
            now_made = min(parts, int(parts * (timeline.run_time(slot.run_at, at) / total)))
            if now_made > made:
                reports.append(_count(at, made, now_made, scrapped))
                made, last = now_made, at
        completion = _count(slot.end, made, parts, scrapped) if slot.end is not None else None
        return tuple(reports), completion


def _count(at: datetime, made: int, now_made: int, scrapped: Sequence[int]) -> Count:
    scrap = bisect_left(scrapped, now_made) - bisect_left(scrapped, made)
    return Count(at=at, good=now_made - made - scrap, scrap=scrap)


def plan_production(
    timelines: Sequence[Timeline],
    routes: Sequence[Route],
    *,
    start: datetime,
    end: datetime,
    seed: int,
    max_jobs: int,
) -> list[PlannedJob]:
    """The history jobs and how the floor worked them in [start, end) on the machines' simulated
    time (the claims are recorded on the timelines)."""
    return _Planner(timelines, start, end, random.Random(f"{seed}:production")).plan(routes, max_jobs)


# --- shop-floor actions, in time order ----------------------------------------------------------

CLOCK_OUT, CLOCK_IN, JOIN, START, STARTUP_REPORT, FINISH_SETUP, REPORT, COMPLETE = range(8)


@dataclass(frozen=True, order=True)
class Action:
    """One thing the operator did. Sorted by time; at one instant, clocking out comes first."""

    at: datetime
    kind: int
    job: int = -1
    sequence: int = -1
    machine: str = field(default="", compare=False)
    machines: tuple[str, ...] = field(default=(), compare=False)
    good: int = field(default=0, compare=False)
    scrap: int = field(default=0, compare=False)


def floor_actions(
    jobs: Sequence[PlannedJob],
    shifts: Sequence[Interval],
    working: Mapping[str, Sequence[Interval]],
    *,
    end: datetime,
) -> list[Action]:
    """What the operator did: clock in for each shift with work (to the machines that work in it and
    have an operation going), pick up the operations still running from before, and work each one."""
    actions: list[Action] = []
    for index, job in enumerate(jobs):
        for op in job.operations:
            seq, machine = op.sequence, op.machine
            actions.append(Action(op.start, START, index, seq, machine=machine))
            if op.setup_at is not None:
                if op.startup_scrap:
                    actions.append(
                        Action(op.run_at, STARTUP_REPORT, index, seq, machine=machine, scrap=op.startup_scrap)
                    )
                actions.append(Action(op.run_at, FINISH_SETUP, index, seq))
            for count in op.reports:
                actions.append(
                    Action(count.at, REPORT, index, seq, machine=machine, good=count.good, scrap=count.scrap)
                )
            if op.completion is not None:
                last = op.completion
                actions.append(Action(last.at, COMPLETE, index, seq, machine=machine, good=last.good, scrap=last.scrap))
    for begin, finish in shifts:
        finish = min(finish, end)
        active = [
            (index, op)
            for index, job in enumerate(jobs)
            for op in job.operations
            if op.start < finish
            and (op.end or end) > begin
            and any(b < finish and f > begin for b, f in working.get(op.machine, ()))
        ]
        if not active:
            continue
        actions.append(Action(begin, CLOCK_IN, machines=tuple(sorted({op.machine for _index, op in active}))))
        actions.extend(Action(begin, JOIN, index, op.sequence) for index, op in active if op.start < begin)
        actions.append(Action(finish, CLOCK_OUT))
    return sorted(actions)
