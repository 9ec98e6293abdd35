"""Check the planning input and turn it into index-based arrays every solver part shares.

Everything that makes a problem unplannable on its face is reported here as an `InputError`
naming the job and operation: a precedence cycle, an operation with no eligible machine, one
that does not fit any working window (or all the working time) of its machines, an empty
horizon. The earliest start (`head`) and latest start of every machine option are computed
once, with the calendars, so that the model only creates what can be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Fault, InputError
from .model import Fixed, Interval, Machine, Problem, SetupMatrix, Straddle
from .working_time import WorkingTime

_NO_MATRIX = SetupMatrix()


@dataclass(slots=True)
class CheckedOption:
    machine: int
    duration: int
    earliest: int = 0  # earliest real start on this machine (release, predecessors, calendar)
    latest: int = 0  # latest real start that still lets the operation and its successors end in time


@dataclass(slots=True)
class CheckedOperation:
    index: int
    job: int
    job_id: str
    id: str
    options: list[CheckedOption]
    release: int
    straddle: Straddle
    category: str | None
    fixed: tuple[int, int, int] | None  # machine, start, end
    predecessors: list[int] = field(default_factory=list)
    successors: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"job {self.job_id} operation {self.id}"

    @property
    def earliest(self) -> int:
        return min(option.earliest for option in self.options)

    @property
    def latest(self) -> int:
        return max(option.latest for option in self.options)

    @property
    def shortest(self) -> int:
        return min(option.duration for option in self.options)


@dataclass(slots=True)
class CheckedJob:
    id: str
    due: int | None
    weight: int
    operations: list[int]


@dataclass(slots=True)
class CheckedMachine:
    id: str
    calendar: WorkingTime
    matrix: SetupMatrix
    initial_category: str | None


@dataclass(slots=True)
class CheckedProblem:
    problem: Problem
    horizon: int
    machines: list[CheckedMachine]
    jobs: list[CheckedJob]
    operations: list[CheckedOperation]
    order: list[int]  # a topological order of the operations
    categories: set[str] = field(default_factory=set)  # every setup category in use

    def setup(self, machine: int, before: str | None, after: str | None) -> int:
        return self.machines[machine].matrix.minutes(before, after)

    def has_setups(self, machine: int) -> bool:
        """True when some changeover on the machine can cost time, so its sequence matters."""
        return self.machines[machine].matrix is not _NO_MATRIX and self.longest_setup(machine) > 0

    def longest_setup(self, machine: int) -> int:
        """The longest changeover the machine may need between categories in use (0 without setups)."""
        checked_machine = self.machines[machine]
        befores = self.categories | {checked_machine.initial_category}
        return max((checked_machine.matrix.minutes(a, b) for a in befores for b in self.categories), default=0)


def check_problem(problem: Problem) -> CheckedProblem:
    """Validate `problem` and compute each option's time window; raise `InputError` on any fault."""
    faults: list[Fault] = []
    machines, machine_index = _machines(problem, faults)
    if faults:
        raise InputError(faults)
    jobs, operations = _operations(problem, machine_index, machines, faults)
    if faults:
        raise InputError(faults)
    _link(problem, operations, faults)
    if faults:
        raise InputError(faults)
    order = _topological_order(operations, faults)
    if faults:
        raise InputError(faults)
    checked = CheckedProblem(
        problem=problem,
        horizon=problem.horizon,
        machines=machines,
        jobs=jobs,
        operations=operations,
        order=order,
        categories={operation.category for operation in operations if operation.category is not None},
    )
    _frozen_overlaps(checked, faults)
    if faults:
        raise InputError(faults)
    _usable_options(checked, faults)
    if faults:
        raise InputError(faults)
    _earliest_starts(checked, faults)
    if faults:
        raise InputError(faults)
    latest_starts(checked, problem.horizon, faults)
    if faults:
        raise InputError(faults)
    return checked


def _machines(problem: Problem, faults: list[Fault]) -> tuple[list[CheckedMachine], dict[str, int]]:
    machines: list[CheckedMachine] = []
    index: dict[str, int] = {}
    # Machines on the same calendar share one clock, so the model can share position variables.
    clocks: dict[tuple[Interval, ...], WorkingTime] = {}
    for machine in problem.machines:
        if machine.id in index:
            faults.append(Fault(f"machine {machine.id} is listed twice"))
            continue
        intervals = _clip(machine, problem.horizon, faults)
        matrix = problem.setup_matrices.get(machine.setup_group, _NO_MATRIX) if machine.setup_group else _NO_MATRIX
        index[machine.id] = len(machines)
        clock = clocks.setdefault(tuple(intervals), WorkingTime(intervals))
        machines.append(CheckedMachine(machine.id, clock, matrix, machine.initial_category))
    for machine in problem.machines:
        if machine.setup_group and machine.setup_group not in problem.setup_matrices:
            faults.append(Fault(f"machine {machine.id} refers to changeover matrix {machine.setup_group}, not given"))
    return machines, index


def _clip(machine: Machine, horizon: int, faults: list[Fault]) -> list[Interval]:
    intervals: list[Interval] = []
    previous_end: int | None = None
    for start, end in machine.working:
        if end <= start:
            faults.append(Fault(f"machine {machine.id} has a working interval [{start}, {end}) that is empty"))
            return []
        if previous_end is not None and start < previous_end:
            faults.append(Fault(f"machine {machine.id} has working intervals out of order or overlapping at {start}"))
            return []
        previous_end = end
        start, end = max(start, 0), min(end, horizon)
        if start >= end:
            continue
        if intervals and intervals[-1][1] == start:
            # Touching intervals are one window: an operation runs across the seam without a pause.
            intervals[-1] = (intervals[-1][0], end)
        else:
            intervals.append((start, end))
    return intervals


def _operations(
    problem: Problem,
    machine_index: dict[str, int],
    machines: list[CheckedMachine],
    faults: list[Fault],
) -> tuple[list[CheckedJob], list[CheckedOperation]]:
    jobs: list[CheckedJob] = []
    operations: list[CheckedOperation] = []
    seen_jobs: set[str] = set()
    for job in problem.jobs:
        if job.id in seen_jobs:
            faults.append(Fault("the job is listed twice", job=job.id))
            continue
        seen_jobs.add(job.id)
        if job.weight < 0:
            faults.append(Fault(f"priority weight {job.weight} is negative", job=job.id))
        checked_job = CheckedJob(job.id, job.due, job.weight, [])
        seen_operations: set[str] = set()
        for operation in job.operations:
            if operation.id in seen_operations:
                faults.append(Fault("the operation is listed twice", job=job.id, operation=operation.id))
                continue
            seen_operations.add(operation.id)
            options: list[CheckedOption] = []
            used: set[int] = set()
            for option in operation.options:
                where = machine_index.get(option.machine)
                if where is None:
                    faults.append(Fault(f"machine {option.machine} does not exist", job.id, operation.id))
                elif where in used:
                    faults.append(Fault(f"machine {option.machine} is listed twice", job.id, operation.id))
                elif option.duration < 0:
                    faults.append(
                        Fault(f"duration {option.duration} on {option.machine} is negative", job.id, operation.id)
                    )
                else:
                    used.add(where)
                    options.append(CheckedOption(where, option.duration))
            if not operation.options:
                faults.append(Fault("has no eligible machine", job.id, operation.id))
            fixed = _fixed(operation.fixed, operation.id, job.id, options, machine_index, machines, faults)
            checked_job.operations.append(len(operations))
            operations.append(
                CheckedOperation(
                    index=len(operations),
                    job=len(jobs),
                    job_id=job.id,
                    id=operation.id,
                    options=options,
                    release=max(job.release, operation.release, 0),
                    straddle=operation.straddle or problem.straddle,
                    category=operation.setup_category,
                    fixed=fixed,
                )
            )
        jobs.append(checked_job)
    if problem.horizon <= 0:
        faults.extend(
            Fault(f"cannot be scheduled: the planning horizon is empty ({problem.horizon} minutes)", op.job_id, op.id)
            for op in operations
        )
    return jobs, operations


def _fixed(
    fixed: Fixed | None,
    operation_id: str,
    job_id: str,
    options: list[CheckedOption],
    machine_index: dict[str, int],
    machines: list[CheckedMachine],
    faults: list[Fault],
) -> tuple[int, int, int] | None:
    if fixed is None:
        return None
    where = machine_index.get(fixed.machine)
    if where is None:
        faults.append(Fault(f"is frozen on machine {fixed.machine}, which does not exist", job_id, operation_id))
        return None
    if fixed.end is not None:
        if fixed.end <= fixed.start:
            faults.append(Fault(f"is frozen with end {fixed.end} not after start {fixed.start}", job_id, operation_id))
            return None
        return where, fixed.start, fixed.end
    durations = [option.duration for option in options if option.machine == where]
    calendar = machines[where].calendar
    if not durations:
        faults.append(
            Fault(f"is frozen on machine {fixed.machine}, not one of its options, without an end", job_id, operation_id)
        )
        return None
    if not calendar.is_working(fixed.start):
        faults.append(
            Fault(f"is frozen at minute {fixed.start}, outside working time, without an end", job_id, operation_id)
        )
        return None
    end_position = calendar.position(fixed.start) + durations[0]
    if end_position > calendar.total:
        faults.append(Fault("is frozen too late to finish within the horizon", job_id, operation_id))
        return None
    return where, fixed.start, calendar.finish(calendar.position(fixed.start), durations[0])


def _link(problem: Problem, operations: list[CheckedOperation], faults: list[Fault]) -> None:
    by_key = {(operation.job_id, operation.id): operation.index for operation in operations}
    for job in problem.jobs:
        for operation in job.operations:
            after = by_key.get((job.id, operation.id))
            if after is None:  # a duplicate, already reported
                continue
            for predecessor in operation.predecessors:
                before = by_key.get((job.id, predecessor))
                if before is None:
                    faults.append(
                        Fault(f"follows operation {predecessor}, which is not in the job", job.id, operation.id)
                    )
                else:
                    _add_edge(operations, before, after)
    for link in problem.links:
        before = by_key.get((link.before.job, link.before.operation))
        after = by_key.get((link.after.job, link.after.operation))
        if before is None:
            faults.append(
                Fault("is linked as a predecessor but does not exist", link.before.job, link.before.operation)
            )
        if after is None:
            faults.append(Fault("is linked as a successor but does not exist", link.after.job, link.after.operation))
        if before is not None and after is not None:
            _add_edge(operations, before, after)


def _add_edge(operations: list[CheckedOperation], before: int, after: int) -> None:
    if after not in operations[before].successors:
        operations[before].successors.append(after)
        operations[after].predecessors.append(before)


def _topological_order(operations: list[CheckedOperation], faults: list[Fault]) -> list[int]:
    waiting = [len(operation.predecessors) for operation in operations]
    ready = [operation.index for operation in operations if not waiting[operation.index]]
    order: list[int] = []
    while ready:
        current = ready.pop()
        order.append(current)
        for successor in operations[current].successors:
            waiting[successor] -= 1
            if not waiting[successor]:
                ready.append(successor)
    if len(order) < len(operations):
        cycle = _find_cycle(operations, {index for index, count in enumerate(waiting) if count})
        first = operations[cycle[0]]
        path = " -> ".join(operations[index].name for index in [*cycle, cycle[0]])
        faults.append(Fault(f"is on a precedence cycle: {path}", first.job_id, first.id))
    return order


def _find_cycle(operations: list[CheckedOperation], stuck: set[int]) -> list[int]:
    """Walk predecessors inside the operations that never became ready until one repeats."""
    current = min(stuck)
    seen: dict[int, int] = {}
    path: list[int] = []
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        current = next(index for index in operations[current].predecessors if index in stuck)
    cycle = path[seen[current] :]
    cycle.reverse()  # predecessors were walked; show the cycle in the direction work flows
    first = cycle.index(min(cycle))  # start from the operation listed first in the input
    return cycle[first:] + cycle[:first]


def _frozen_overlaps(checked: CheckedProblem, faults: list[Fault]) -> None:
    by_machine: dict[int, list[tuple[int, int, int]]] = {}
    for operation in checked.operations:
        if operation.fixed is not None:
            machine, start, end = operation.fixed
            by_machine.setdefault(machine, []).append((start, end, operation.index))
    for machine, entries in by_machine.items():
        entries.sort()
        for (_, end, before), (start, _, after) in zip(entries, entries[1:], strict=False):
            if start < end:
                first, second = checked.operations[before], checked.operations[after]
                faults.append(
                    Fault(
                        f"is frozen on {checked.machines[machine].id} overlapping {first.name}",
                        second.job_id,
                        second.id,
                    )
                )


def _usable_options(checked: CheckedProblem, faults: list[Fault]) -> None:
    for operation in checked.operations:
        if operation.fixed is not None or not operation.options:
            continue
        within = operation.straddle is Straddle.WITHIN_WINDOW
        usable = [
            option
            for option in operation.options
            if not checked.machines[option.machine].calendar.empty
            and option.duration
            <= (
                checked.machines[option.machine].calendar.longest_window
                if within
                else checked.machines[option.machine].calendar.total - checked.machines[option.machine].calendar.first
            )
        ]
        if usable:
            operation.options = usable
            continue
        names = ", ".join(checked.machines[option.machine].id for option in operation.options)
        if all(checked.machines[option.machine].calendar.empty for option in operation.options):
            message = f"has no working time on its machines ({names}) within the horizon"
        elif within:
            longest = max(checked.machines[option.machine].calendar.longest_window for option in operation.options)
            message = (
                f"takes {operation.shortest} minutes, longer than any working window of its machines ({names}; "
                f"longest {longest}), and may not straddle a break"
            )
        else:
            message = f"takes {operation.shortest} minutes, more than all working time of its machines ({names})"
        faults.append(Fault(message, operation.job_id, operation.id))


def _earliest_starts(checked: CheckedProblem, faults: list[Fault]) -> None:
    """Forward pass: each option's earliest start from releases, predecessors' earliest ends and the calendar."""
    earliest_end = [0] * len(checked.operations)
    for index in checked.order:
        operation = checked.operations[index]
        ready = max([operation.release, *(earliest_end[p] for p in operation.predecessors)])
        if operation.fixed is not None:
            machine, start, end = operation.fixed
            operation.options = [CheckedOption(machine, end - start, start, start)]
            earliest_end[index] = end
            continue
        within = operation.straddle is Straddle.WITHIN_WINDOW
        usable: list[CheckedOption] = []
        ends: list[int] = []
        for option in operation.options:
            calendar = checked.machines[option.machine].calendar
            position = calendar.earliest_position(calendar.position(ready), option.duration, within)
            if position is None:
                continue
            option.earliest = calendar.start_of(position)
            usable.append(option)
            ends.append(calendar.finish(position, option.duration))
        if not usable:
            faults.append(
                Fault(
                    f"cannot finish within the horizon: it can start at minute {ready} at the earliest",
                    operation.job_id,
                    operation.id,
                )
            )
            earliest_end[index] = checked.horizon
            continue
        operation.options = usable
        earliest_end[index] = min(ends)


def latest_starts(checked: CheckedProblem, end_limit: int, faults: list[Fault] | None = None) -> None:
    """Backward pass: each option's latest start so that it and its successors end by `end_limit`.

    Options that cannot start between their earliest and latest start are dropped; with `faults`
    given, an operation left with none is reported (without, the caller knows the limit is tight).
    """
    latest_start = [end_limit] * len(checked.operations)
    for index in reversed(checked.order):
        operation = checked.operations[index]
        if operation.fixed is not None:
            latest_start[index] = operation.fixed[1]
            continue
        latest_end = min([end_limit, *(latest_start[s] for s in operation.successors)])
        within = operation.straddle is Straddle.WITHIN_WINDOW
        usable: list[CheckedOption] = []
        for option in operation.options:
            calendar = checked.machines[option.machine].calendar
            position = calendar.latest_position(
                calendar.position(latest_end) - option.duration, option.duration, within
            )
            if position is None:
                continue
            start = calendar.start_of(position)
            if start < option.earliest:
                continue
            option.latest = start
            usable.append(option)
        if not usable:
            if faults is not None:
                faults.append(
                    Fault(
                        f"cannot fit between its earliest start (minute {operation.earliest}) and the latest end "
                        f"its successors allow (minute {latest_end})",
                        operation.job_id,
                        operation.id,
                    )
                )
            latest_start[index] = operation.earliest
            continue
        operation.options = usable
        latest_start[index] = max(option.latest for option in usable)
