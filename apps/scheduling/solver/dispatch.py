"""Dispatch rules: the order of one work center's queue, and whole schedules built by list scheduling.

One priority function serves both uses, so a rule means the same thing on a dispatch list and in
the hint given to CP-SAT. The builder is Giffler-Thompson style: among the ready operations it
finds the machine where some operation would finish first, then lets the rule choose among
the operations that could start on that machine before then. Placement respects calendars,
changeovers (which need working time), release times and frozen operations, and may fill an
earlier gap on the machine when the operation and the changeovers on both sides fit in it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from heapq import heapify, heappop, heappush

from .check import CheckedProblem
from .model import Rule, Schedule, ScheduledOperation, Straddle
from .working_time import WorkingTime

RULES: tuple[Rule, ...] = tuple(Rule)

Placements = dict[int, tuple[int, int, int]]  # operation index -> machine index, start, end


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """An operation waiting at a work center, as the dispatch list needs it."""

    job: str
    operation: str
    duration: int  # minutes on this work center
    remaining_work: int  # this operation and everything after it in the job
    arrival: int  # when it became ready here
    due: int | None = None
    weight: int = 1


def priority(rule: Rule, *, duration: int, remaining_work: int, arrival: int, due: int | None, now: int) -> float:
    """The rule's score for one operation at time `now`; lower runs first."""
    if rule is Rule.SPT:
        return duration
    if rule is Rule.FIFO:
        return arrival
    if rule is Rule.MWKR:
        return -remaining_work
    if due is None:
        # Work with no due date goes after dated work under the due-date rules.
        return math.inf
    if rule is Rule.EDD:
        return due
    if rule is Rule.SLACK:
        return due - now - remaining_work
    # CR: a late job has a negative ratio and goes first, the more late work the sooner.
    return (due - now) / max(remaining_work, 1)


def rank_queue(queue: Sequence[QueueEntry], rule: Rule, now: int) -> list[QueueEntry]:
    """The queue in the order the rule would run it; ties go to higher weight, then earlier arrival."""
    keys = [
        (
            priority(
                rule,
                duration=entry.duration,
                remaining_work=entry.remaining_work,
                arrival=entry.arrival,
                due=entry.due,
                now=now,
            ),
            -entry.weight,
            entry.arrival,
            position,
        )
        for position, entry in enumerate(queue)
    ]
    keys.sort()
    return [queue[key[3]] for key in keys]


@dataclass(slots=True)
class _Timeline:
    """Busy positions on one machine's working clock, sorted, with the setup category of each."""

    starts: list[int]
    ends: list[int]
    categories: list[str | None]


@dataclass(slots=True)
class _Placement:
    position: int  # on the machine's working clock
    end_position: int
    start: int
    end: int


def remaining_work(checked: CheckedProblem) -> list[int]:
    """Shortest work of each operation plus the longest chain of shortest work after it."""
    remaining = [0] * len(checked.operations)
    for index in reversed(checked.order):
        operation = checked.operations[index]
        after = max((remaining[s] for s in operation.successors), default=0)
        remaining[index] = operation.shortest + after
    return remaining


def build_schedule(checked: CheckedProblem, rule: Rule, dues: Sequence[int | None] | None = None) -> Schedule | None:
    """A complete schedule by list scheduling with `rule`, or None if it overruns the horizon.

    `dues` (one per job) replaces the jobs' due dates in the rule's priority only: the due-date
    tuning in `tuning` steers the due-date rules with it.
    """
    placed = place_operations(checked, rule, dues)
    return None if placed is None else schedule_from_placements(checked, placed)


def place_operations(
    checked: CheckedProblem, rule: Rule, dues: Sequence[int | None] | None = None
) -> Placements | None:
    """`build_schedule`'s placements: operation -> (machine, start, end)."""
    operations = checked.operations
    job_dues = [job.due for job in checked.jobs] if dues is None else dues
    calendars = [machine.calendar for machine in checked.machines]
    remaining = remaining_work(checked)
    state = _ListState(checked)
    timelines, waiting, ready_at, placed = state.timelines, state.waiting, state.ready_at, state.placed

    longest = [checked.longest_setup(machine) for machine in range(len(checked.machines))]
    # Each ready operation's earliest slot on each of its machines, computed when needed: work added to a
    # machine only ever moves a slot later, so an outdated ("stale") slot is a lower bound of the real one.
    cache: dict[tuple[int, int], _Placement | None] = {}
    stale: set[tuple[int, int]] = set()
    finishers: list[tuple[int, int, int]] = []  # heap of (slot end, machine, operation); old entries skipped
    ready_on: list[set[int]] = [set() for _ in checked.machines]  # ready operations that may run on each machine
    ready: set[int] = set()

    def place(index: int, machine: int) -> _Placement | None:
        operation = operations[index]
        option = next(option for option in operation.options if option.machine == machine)
        before = cache.get((index, machine))
        placement = _place(
            timelines[machine],
            calendars[machine],
            checked,
            machine,
            ready_at[index],
            option.duration,
            operation.category,
            operation.straddle is Straddle.WITHIN_WINDOW,
            before.position if before is not None else 0,
        )
        cache[(index, machine)] = placement
        stale.discard((index, machine))
        if placement is not None:
            heappush(finishers, (placement.end, machine, index))
        return placement

    def make_ready(index: int) -> None:
        ready.add(index)
        for option in operations[index].options:
            place(index, option.machine)
            ready_on[option.machine].add(index)

    def first_finisher() -> tuple[int, int] | None:
        """(end, machine) of the ready operation that could finish first, the lowest machine on a tie."""
        while finishers:
            end, machine, index = finishers[0]
            placement = cache[(index, machine)] if index in ready else None
            if placement is None or placement.end != end:
                heappop(finishers)  # placed since, or pushed again with a later end
            elif (index, machine) in stale:
                heappop(finishers)
                place(index, machine)
            else:
                return end, machine
        return None

    for operation in operations:
        if operation.fixed is None and not waiting[operation.index]:
            make_ready(operation.index)
    while ready:
        best = first_finisher()
        if best is None:
            return None
        earliest_end, machine = best
        candidates: list[tuple[tuple[float, int, int, int], int, _Placement]] = []
        for index in ready_on[machine]:
            operation = operations[index]
            placement = cache[(index, machine)]
            if placement is not None and placement.start < earliest_end and (index, machine) in stale:
                placement = place(index, machine)
            # Giffler-Thompson's conflict set: what could start before the earliest end; a zero-minute
            # operation that defines that end belongs to it too.
            zero = placement is not None and placement.start == placement.end == earliest_end
            if placement is None or (placement.start >= earliest_end and not zero):
                continue
            duration = next(option.duration for option in operation.options if option.machine == machine)
            job = checked.jobs[operation.job]
            score = priority(
                rule,
                duration=duration,
                remaining_work=remaining[index],
                arrival=ready_at[index],
                due=job_dues[operation.job],
                now=placement.start,
            )
            candidates.append(((score, -job.weight, ready_at[index], index), index, placement))
        _, chosen, placement = min(candidates, key=lambda candidate: candidate[0])
        operation = operations[chosen]
        ready.discard(chosen)
        for option in operation.options:
            ready_on[option.machine].discard(chosen)
        duration = next(option.duration for option in operation.options if option.machine == machine)
        if duration:
            low, high = placement.position, placement.position + duration
            _insert(timelines[machine], low, high, operation.category)
            margin = longest[machine]
            for index in ready_on[machine]:
                # A slot that ends a changeover before the new work or starts one after it is still the earliest.
                other = cache[(index, machine)]
                if other is not None and other.position - margin < high and low < other.end_position + margin:
                    stale.add((index, machine))
        state.finish(chosen, machine, placement.start, placement.end)
        for successor in operation.successors:
            if not waiting[successor] and operations[successor].fixed is None:
                make_ready(successor)
    if len(placed) < len(operations):
        return None  # a frozen operation's predecessor chain could not be placed
    return placed


class _ListState:
    """What a list scheduler tracks: busy time per machine, unplaced predecessors, ready times, placements.

    Frozen operations are in it from the start, on their machines and finished.
    """

    def __init__(self, checked: CheckedProblem) -> None:
        self.operations = checked.operations
        self.timelines = [_Timeline([], [], []) for _ in checked.machines]
        self.waiting = [len(operation.predecessors) for operation in self.operations]
        self.ready_at = [operation.release for operation in self.operations]
        self.placed: Placements = {}
        for operation in self.operations:
            if operation.fixed is not None:
                machine, start, end = operation.fixed
                calendar = checked.machines[machine].calendar
                low, high = calendar.position(start), calendar.position(end)
                # A frozen operation that takes no working time (it lies in a break) occupies nothing.
                if high > low:
                    _insert(self.timelines[machine], low, high, operation.category)
        for operation in self.operations:
            if operation.fixed is not None:
                self.finish(operation.index, *operation.fixed)

    def finish(self, index: int, machine: int, start: int, end: int) -> None:
        self.placed[index] = (machine, start, end)
        for successor in self.operations[index].successors:
            self.waiting[successor] -= 1
            self.ready_at[successor] = max(self.ready_at[successor], end)


def follow_plan(checked: CheckedProblem, plan: Schedule, fallback: Placements) -> Placements | None:
    """A schedule that keeps an earlier plan's machines and order where they still apply, or None if it
    overruns the horizon.

    `plan` may be out of date: work finished since is not in the problem (its rows are ignored),
    work added since is not in the plan, and a machine may no longer be eligible. Each operation
    runs on the plan's machine when it still may, else on its machine in `fallback` (a complete
    schedule of this problem, such as the best rule's); ready operations are placed in the order
    of their start in the plan (else in `fallback`; so work whose machine is gone keeps its place
    in the plan's order on the rule's machine), each in the earliest slot on its machine
    where it and the changeovers on both sides fit, as the rules place work. On an unchanged
    problem this rebuilds the plan, left-shifted, or better where work fits an earlier gap.
    """
    operations = checked.operations
    machine_index, operation_index = _indexes(checked)
    choice = {index: (machine, start) for index, (machine, start, _) in fallback.items()}
    for row in plan.operations:
        index = operation_index.get((row.job, row.operation))
        if index is None:
            continue
        machine = machine_index.get(row.machine)
        if machine is None or all(option.machine != machine for option in operations[index].options):
            machine = choice[index][0]  # the plan's machine is gone: the rule's, at the plan's time
        choice[index] = (machine, row.start)
    rank = {index: position for position, index in enumerate(checked.order)}
    state = _ListState(checked)
    heap = [
        (choice[operation.index][1], rank[operation.index], operation.index)
        for operation in operations
        if operation.fixed is None and not state.waiting[operation.index]
    ]
    heapify(heap)
    while heap:
        _, _, index = heappop(heap)
        operation = operations[index]
        machine = choice[index][0]
        duration = next(option.duration for option in operation.options if option.machine == machine)
        placement = _place(
            state.timelines[machine],
            checked.machines[machine].calendar,
            checked,
            machine,
            state.ready_at[index],
            duration,
            operation.category,
            operation.straddle is Straddle.WITHIN_WINDOW,
            0,
        )
        if placement is None:
            return None
        if duration:
            _insert(state.timelines[machine], placement.position, placement.end_position, operation.category)
        state.finish(index, machine, placement.start, placement.end)
        for successor in operation.successors:
            if not state.waiting[successor] and operations[successor].fixed is None:
                heappush(heap, (choice[successor][1], rank[successor], successor))
    return state.placed if len(state.placed) == len(operations) else None


def left_shift(checked: CheckedProblem, placed: Placements) -> Placements:
    """The same machines and the same order on each of them, every operation as early as that allows.

    An operation starts at the first working position after its predecessors' ends, its release
    and the end of the work before it on its machine plus the changeover between them, the same
    rules `place_operations` follows. None ends later than it did (the order and so every
    changeover are unchanged), so no objective gets worse. A search that re-plans part of a
    schedule with the rest frozen where it is leaves gaps: work that could start, on a machine
    that stands idle, waiting for nothing. Frozen operations stay where they are, and so does an
    operation that cannot start any earlier than it does, which only an invalid schedule has.
    """
    operations = checked.operations
    rank = {index: position for position, index in enumerate(checked.order)}
    shifted: Placements = {}
    last: dict[int, tuple[int, int]] = {}  # machine -> (end position, operation) of the work placed last
    for index in sorted(placed, key=lambda index: (placed[index][1], rank[index])):
        operation = operations[index]
        machine, start, end = placed[index]
        calendar = checked.machines[machine].calendar
        if operation.fixed is not None:
            shifted[index] = placed[index]
            if end > start:
                last[machine] = (calendar.position(end), index)
            continue
        ready = max([operation.release, *(shifted[before][2] for before in operation.predecessors)])
        position = calendar.position(ready)
        duration = next(option.duration for option in operation.options if option.machine == machine)
        if duration:
            previous_end, previous = last.get(machine, (calendar.first, None))
            position = max(position, previous_end + changeover(checked, machine, previous, index))
        found = calendar.earliest_position(position, duration, operation.straddle is Straddle.WITHIN_WINDOW)
        if found is None or calendar.start_of(found) > start:
            found = calendar.position(start)  # only in an invalid schedule: left as it is, for the validator to report
        shifted[index] = (machine, calendar.start_of(found), calendar.finish(found, duration))
        if duration:
            last[machine] = (found + duration, index)
    return shifted


def placements_of(checked: CheckedProblem, schedule: Schedule) -> Placements:
    """A `Schedule` of this problem as operation index -> (machine index, start, end): the inverse of
    `schedule_from_placements`. Raises KeyError for a row the problem lacks or a repeated operation."""
    placed = known_placements(checked, schedule)
    if len(placed) != len(schedule.operations):
        raise KeyError("the schedule has an operation twice, or operations or machines this problem lacks")
    return placed


def known_placements(checked: CheckedProblem, plan: Schedule) -> Placements:
    """`placements_of` a plan that may be out of date: its rows of operations or machines this problem lacks
    are left out."""
    machine_index, operation_index = _indexes(checked)
    return {
        operation_index[(row.job, row.operation)]: (machine_index[row.machine], row.start, row.end)
        for row in plan.operations
        if (row.job, row.operation) in operation_index and row.machine in machine_index
    }


def _indexes(checked: CheckedProblem) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Machine id -> machine index, and (job id, operation id) -> operation index."""
    machine_index = {machine.id: index for index, machine in enumerate(checked.machines)}
    operation_index = {(operation.job_id, operation.id): operation.index for operation in checked.operations}
    return machine_index, operation_index


def schedule_from_placements(checked: CheckedProblem, placed: Placements) -> Schedule:
    """A `Schedule` from operation -> (machine, start, end), with each changeover worked out from the order."""
    by_machine: dict[int, list[tuple[int, int]]] = {}
    for index, (machine, start, end) in placed.items():
        if end > start:  # zero-minute operations are not in the machine's sequence
            by_machine.setdefault(machine, []).append((start, index))
    setups: dict[int, int] = {}
    for machine, entries in by_machine.items():
        entries.sort()
        before: int | None = None
        for _, index in entries:
            setups[index] = changeover(checked, machine, before, index)
            before = index
    rows = []
    for operation in checked.operations:
        machine, start, end = placed[operation.index]
        rows.append(
            ScheduledOperation(
                job=operation.job_id,
                operation=operation.id,
                machine=checked.machines[machine].id,
                start=start,
                end=end,
                setup=setups.get(operation.index, 0),
            )
        )
    return Schedule(tuple(rows))


def changeover(checked: CheckedProblem, machine: int, before: int | None, after: int) -> int:
    """Changeover minutes on `machine` before operation `after`, following `before` (None: the initial state).

    None is needed before a frozen operation that follows another frozen one or opens the
    machine's sequence: people placed it, and a running operation is already set up.
    """
    operations = checked.operations
    if operations[after].fixed is not None and (before is None or operations[before].fixed is not None):
        return 0
    category = checked.machines[machine].initial_category if before is None else operations[before].category
    return checked.setup(machine, category, operations[after].category)


def _insert(timeline: _Timeline, start: int, end: int, category: str | None) -> None:
    """Keep `starts` and `ends` both sorted: the busy intervals never overlap and take working time."""
    at = bisect_left(timeline.starts, start)
    timeline.starts.insert(at, start)
    timeline.ends.insert(at, end)
    timeline.categories.insert(at, category)


def _place(
    timeline: _Timeline,
    calendar: WorkingTime,
    checked: CheckedProblem,
    machine: int,
    ready: int,
    duration: int,
    category: str | None,
    within_window: bool,
    not_before: int,
) -> _Placement | None:
    """The earliest slot on the machine's working clock where the operation and both changeovers fit.

    `not_before` is a position the slot cannot precede (where it was before work was added to the machine).
    """
    lowest = max(calendar.position(ready), not_before)
    if duration == 0:
        # Zero minutes take no machine time: the operation only marks a point in the job's flow.
        position = calendar.earliest_position(lowest, 0, within_window)
        if position is None:
            return None
        start = calendar.start_of(position)
        return _Placement(position, position, start, start)
    first = bisect_left(timeline.ends, lowest)
    count = len(timeline.starts)
    initial = checked.machines[machine].initial_category
    for gap in range(first, count + 1):
        if gap:
            previous_end, previous_category = timeline.ends[gap - 1], timeline.categories[gap - 1]
        else:
            previous_end, previous_category = calendar.first, initial
        if gap < count and max(lowest, previous_end) + duration > timeline.starts[gap]:
            continue  # too short even without changeovers (most gaps of a busy machine)
        candidate = max(lowest, previous_end + checked.setup(machine, previous_category, category))
        position = calendar.earliest_position(candidate, duration, within_window)
        if position is None:
            return None
        if gap < count:
            after = checked.setup(machine, category, timeline.categories[gap])
            if position + duration + after > timeline.starts[gap]:
                continue
        return _Placement(
            position, position + duration, calendar.start_of(position), calendar.finish(position, duration)
        )
    return None
