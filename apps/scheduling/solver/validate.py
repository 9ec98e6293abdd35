"""An independent check of a schedule against the problem, before any schedule is accepted.

Deliberately shares no code with the model, the calendar clock or the rules: it reads the
original `Problem`, counts working minutes by summing interval overlaps and compares. A solver
bug therefore shows up here as a violation instead of as a plan the shop cannot run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .model import (
    Interval,
    Job,
    Machine,
    Objective,
    Operation,
    Problem,
    Schedule,
    ScheduledOperation,
    SetupMatrix,
    Straddle,
)


class ViolationKind(StrEnum):
    MISSING = "missing"  # an operation is not scheduled, scheduled twice, or unknown
    WRONG_MACHINE = "wrong_machine"
    WRONG_DURATION = "wrong_duration"  # working minutes in [start, end) differ from the work on that machine
    CALENDAR = "calendar"  # starts in non-working time, straddles a window it may not, or ends after the horizon
    RELEASE = "release"
    PRECEDENCE = "precedence"
    OVERLAP = "overlap"
    SETUP = "setup"  # not enough working time for the changeover between two operations on a machine
    FROZEN_MOVED = "frozen_moved"


@dataclass(frozen=True, slots=True)
class Violation:
    kind: ViolationKind
    job: str
    operation: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: job {self.job} operation {self.operation}: {self.message}"


def validate_schedule(problem: Problem, schedule: Schedule) -> list[Violation]:
    """Every way `schedule` breaks `problem`; an empty list means the shop can run it."""
    violations: list[Violation] = []
    windows = {machine.id: _windows(machine.working, problem.horizon) for machine in problem.machines}
    operations = {(job.id, operation.id): (job, operation) for job in problem.jobs for operation in job.operations}
    rows: dict[tuple[str, str], ScheduledOperation] = {}
    for row in schedule.operations:
        key = (row.job, row.operation)
        if key not in operations:
            violations.append(Violation(ViolationKind.MISSING, row.job, row.operation, "is not in the problem"))
        elif key in rows:
            violations.append(Violation(ViolationKind.MISSING, row.job, row.operation, "is scheduled twice"))
        else:
            rows[key] = row
    for key, (job, operation) in operations.items():
        planned = rows.get(key)
        if planned is None:
            violations.append(Violation(ViolationKind.MISSING, job.id, operation.id, "is not scheduled"))
        else:
            violations.extend(_check_operation(problem, job, operation, planned, windows))
    violations.extend(_check_precedence(problem, rows))
    violations.extend(_check_machines(problem, operations, rows, windows))
    return violations


def objective_values(problem: Problem, schedule: Schedule) -> dict[Objective, int]:
    """Weighted tardiness, makespan and total changeover minutes of a schedule."""
    completion: dict[str, int] = {}
    for row in schedule.operations:
        completion[row.job] = max(completion.get(row.job, row.end), row.end)
    tardiness = sum(
        job.weight * max(0, completion.get(job.id, 0) - job.due) for job in problem.jobs if job.due is not None
    )
    makespan = max((row.end for row in schedule.operations), default=0)
    operations = {(job.id, operation.id): operation for job in problem.jobs for operation in job.operations}
    machines = {machine.id: machine for machine in problem.machines}
    setup = 0
    for machine_id, sequence in _sequences(schedule.operations).items():
        previous: ScheduledOperation | None = None
        for row in sequence:
            setup += _changeover(problem, machines, machine_id, operations, previous, row)
            previous = row
    return {Objective.WEIGHTED_TARDINESS: tardiness, Objective.MAKESPAN: makespan, Objective.TOTAL_SETUP: setup}


def _windows(intervals: Iterable[Interval], horizon: int) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        start, end = max(start, 0), min(end, horizon)
        if start >= end:
            continue
        if merged and merged[-1][1] >= start:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _worked(windows: list[Interval], start: int, end: int) -> int:
    return sum(max(0, min(end, b) - max(start, a)) for a, b in windows)


def _check_operation(
    problem: Problem, job: Job, operation: Operation, row: ScheduledOperation, windows: dict[str, list[Interval]]
) -> list[Violation]:
    found: list[Violation] = []

    def report(kind: ViolationKind, message: str) -> None:
        found.append(Violation(kind, job.id, operation.id, message))

    fixed = operation.fixed
    if fixed is not None:
        if row.machine != fixed.machine or row.start != fixed.start or (fixed.end is not None and row.end != fixed.end):
            report(
                ViolationKind.FROZEN_MOVED,
                f"is frozen on {fixed.machine} at {fixed.start} but planned on {row.machine} at {row.start}-{row.end}",
            )
        if fixed.end is not None:
            return found  # a running operation is where the shop floor says it is, overtime included
    if row.end < row.start:
        report(ViolationKind.WRONG_DURATION, f"ends at {row.end}, before its start {row.start}")
        return found
    durations = {option.machine: option.duration for option in operation.options}
    if row.machine not in windows or (row.machine not in durations and fixed is None):
        report(ViolationKind.WRONG_MACHINE, f"is planned on {row.machine}, not one of {sorted(durations)}")
        return found
    if fixed is None and row.start < max(job.release, operation.release, 0):
        report(
            ViolationKind.RELEASE, f"starts at {row.start}, before its release {max(job.release, operation.release)}"
        )
    machine_windows = windows[row.machine]
    inside = [(a, b) for a, b in machine_windows if a <= row.start < b]
    if not inside:
        report(ViolationKind.CALENDAR, f"starts at {row.start}, outside the working time of {row.machine}")
        return found
    if row.end > problem.horizon:
        report(ViolationKind.CALENDAR, f"ends at {row.end}, after the horizon {problem.horizon}")
    straddle = operation.straddle or problem.straddle
    if straddle is Straddle.WITHIN_WINDOW and row.end > inside[0][1]:
        report(ViolationKind.CALENDAR, f"runs past the end of its working window at {inside[0][1]}")
    worked = _worked(machine_windows, row.start, row.end)
    expected = durations.get(row.machine)
    if expected == 0 or row.end == row.start:
        if expected != 0 or row.end != row.start:
            report(ViolationKind.WRONG_DURATION, f"spans {row.start}-{row.end} on {row.machine}, needs {expected}")
    elif expected is not None and worked != expected:
        report(ViolationKind.WRONG_DURATION, f"gets {worked} working minutes on {row.machine}, needs {expected}")
    elif not any(a < row.end <= b for a, b in machine_windows):
        report(ViolationKind.WRONG_DURATION, f"ends at {row.end}, in non-working time after its work is done")
    return found


def _check_precedence(problem: Problem, rows: dict[tuple[str, str], ScheduledOperation]) -> list[Violation]:
    pairs = [
        ((job.id, predecessor), (job.id, operation.id))
        for job in problem.jobs
        for operation in job.operations
        for predecessor in operation.predecessors
    ]
    pairs.extend(
        ((link.before.job, link.before.operation), (link.after.job, link.after.operation)) for link in problem.links
    )
    found: list[Violation] = []
    for before_key, after_key in pairs:
        before, after = rows.get(before_key), rows.get(after_key)
        if before is not None and after is not None and after.start < before.end:
            found.append(
                Violation(
                    ViolationKind.PRECEDENCE,
                    after.job,
                    after.operation,
                    f"starts at {after.start}, before job {before.job} operation {before.operation} "
                    f"ends at {before.end}",
                )
            )
    return found


def _sequences(rows: Iterable[ScheduledOperation]) -> dict[str, list[ScheduledOperation]]:
    by_machine: dict[str, list[ScheduledOperation]] = {}
    for row in rows:
        if row.end > row.start:  # zero minutes take no machine time and need no changeover
            by_machine.setdefault(row.machine, []).append(row)
    for sequence in by_machine.values():
        sequence.sort(key=lambda row: (row.start, row.end))
    return by_machine


def _changeover(
    problem: Problem,
    machines: dict[str, Machine],
    machine_id: str,
    operations: dict[tuple[str, str], Operation],
    previous: ScheduledOperation | None,
    row: ScheduledOperation,
) -> int:
    machine = machines.get(machine_id)
    operation = operations.get((row.job, row.operation))
    if machine is None or machine.setup_group is None or operation is None:
        return 0
    before_operation = operations.get((previous.job, previous.operation)) if previous is not None else None
    # People placed a frozen operation after another frozen one (or first): its changeover is theirs.
    placed_by_people = previous is None or (before_operation is not None and before_operation.fixed is not None)
    if operation.fixed is not None and placed_by_people:
        return 0
    if previous is None:
        before = machine.initial_category
    else:
        before = before_operation.setup_category if before_operation is not None else None
    matrix = problem.setup_matrices.get(machine.setup_group, SetupMatrix())
    return matrix.minutes(before, operation.setup_category)


def _check_machines(
    problem: Problem,
    operations: dict[tuple[str, str], tuple[Job, Operation]],
    rows: dict[tuple[str, str], ScheduledOperation],
    windows: dict[str, list[Interval]],
) -> list[Violation]:
    found: list[Violation] = []
    plain = {key: operation for key, (_, operation) in operations.items()}
    machines = {machine.id: machine for machine in problem.machines}
    for machine_id, sequence in _sequences(rows.values()).items():
        machine_windows = windows.get(machine_id, [])
        latest: ScheduledOperation | None = None
        previous: ScheduledOperation | None = None
        for row in sequence:
            if latest is not None and row.start < latest.end:
                found.append(
                    Violation(
                        ViolationKind.OVERLAP,
                        row.job,
                        row.operation,
                        f"overlaps job {latest.job} operation {latest.operation} on {machine_id}",
                    )
                )
            else:
                needed = _changeover(problem, machines, machine_id, plain, previous, row)
                since = previous.end if previous is not None else 0
                if needed and _worked(machine_windows, since, row.start) < needed:
                    found.append(
                        Violation(
                            ViolationKind.SETUP,
                            row.job,
                            row.operation,
                            f"needs a {needed}-minute changeover on {machine_id} in working time before it",
                        )
                    )
            if latest is None or row.end > latest.end:
                latest = row
            previous = row
    return found
