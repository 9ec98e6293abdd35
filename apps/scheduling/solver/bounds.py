"""Lower bounds on the objectives: the gap a plan reports, and where a search may stop.

The capacity-free bounds take each job on its own: its operations at their earliest, on any
machine, as if the shop had nothing else to do. On a loaded shop they say little: the demo shop's
plan is several times its capacity-free tardiness bound, and none of that gap is the search's.

`capacity_relaxation` also counts working time. Each job either is complete by a time T
(the end of a working window) or costs at least its weighted tardiness were it to end at the
first minute any of its last operations' machines works after T; and the jobs complete by T
must fit, machine group by machine group, into the working minutes before T that frozen work
leaves free. Choosing which jobs are complete by which T is a small knapsack-like model that
CP-SAT solves in about a second for the demo shop; its optimum (or CP-SAT's bound on it, when
time runs out) is a lower bound on any schedule's weighted tardiness. It ignores precedence
within the part of a job, releases and changeovers (each only makes a schedule later), so it
is exact where capacity before a long pause decides who is late (a weekend, a plant holiday).
Its answer also says which jobs to get through before such a pause and which to give up: as due
dates (`guided_due_dates`) the due-date rules can follow it.

`FinerBound` tests the jobs also every quarter of an hour of the first hours after the first long
pauses: the work that waited queues for the machines then, and only so many jobs can be finished
first. That model is larger and can take seconds to prove, so it runs in a thread on one worker
beside the due-date tuning (CP-SAT leaves the interpreter free while it solves); only its bound is
used, where it is higher.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .check import CheckedJob, CheckedProblem
from .model import Objective, SolverSettings
from .working_time import WorkingTime

# Window ends a capacity bound may test jobs against; beyond it the ones before the longest pauses.
MAX_BREAKPOINTS = 120
# A shop-wide pause at least this long (no machine works) is long: a weekend, a plant holiday.
LONG_PAUSE = 12 * 60
# After each of the first long pauses, `FinerBound` also tests jobs every AFTER_PAUSE_STEP minutes for
# AFTER_PAUSE_SPAN minutes from the resume. Without these times every job that missed the pause
# costs as if it ended at the first working minute after it, however many queue for the machines.
REFINED_PAUSES = 3
AFTER_PAUSE_STEP = 15
AFTER_PAUSE_SPAN = 4 * 60


def earliest_completions(checked: CheckedProblem) -> list[int]:
    """Each job's earliest possible end, capacity aside: its operations at their earliest, on any machine."""
    completions = []
    for job in checked.jobs:
        completion = 0
        for index in job.operations:
            operation = checked.operations[index]
            if operation.fixed is not None:
                completion = max(completion, operation.fixed[2])
                continue
            completion = max(
                completion,
                min(
                    checked.machines[option.machine].calendar.finish(
                        checked.machines[option.machine].calendar.position(option.earliest), option.duration
                    )
                    for option in operation.options
                ),
            )
        completions.append(completion)
    return completions


def tardiness_lower_bound(checked: CheckedProblem, completions: list[int] | None = None) -> int:
    """Weighted tardiness no schedule can avoid: each job's earliest possible end (`earliest_completions`)
    against its due date."""
    earliest = earliest_completions(checked) if completions is None else completions
    return sum(
        job.weight * max(0, completion - job.due)
        for job, completion in zip(checked.jobs, earliest, strict=True)
        if job.due is not None and job.weight
    )


def makespan_lower_bound(checked: CheckedProblem) -> int:
    """The latest of the operations' earliest ends."""
    return max(
        (
            operation.fixed[2]
            if operation.fixed is not None
            else min(option.earliest + option.duration for option in operation.options)
            for operation in checked.operations
        ),
        default=0,
    )


def leading_weights(settings: SolverSettings) -> dict[Objective, int]:
    """The first objective to minimise, as weights (the weighted sum, when the settings give weights)."""
    if settings.weights is not None:
        return dict(settings.weights)
    return {settings.objectives[0]: 1} if settings.objectives else {}


def first_objective_bound(checked: CheckedProblem, settings: SolverSettings, tardiness: int | None = None) -> int:
    """A lower bound on the first objective: capacity-free, or with `tardiness` as weighted tardiness's bound."""
    bounds = {
        Objective.WEIGHTED_TARDINESS: tardiness_lower_bound(checked) if tardiness is None else tardiness,
        Objective.MAKESPAN: makespan_lower_bound(checked),
        Objective.TOTAL_SETUP: 0,
    }
    return sum(weight * bounds[objective] for objective, weight in leading_weights(settings).items())


@dataclass(frozen=True, slots=True)
class Relaxation:
    """The capacity relaxation's bound, and the time by which its best answer completes each job.

    `targets[n]` is the first tested time by which job `n` is complete in that answer: before a
    long pause when it should make it, after its due date when it gives the job up. None for a job
    that is never late in the relaxation (nothing to decide), or when it found no answer.
    """

    bound: int
    targets: list[int | None]


def capacity_relaxation(checked: CheckedProblem, seconds: float, workers: int = 1) -> Relaxation:
    """Solve the capacity relaxation (see the module), testing jobs at window ends, for at most `seconds`."""
    return _relax(checked, _breakpoints(checked), seconds, workers, cp_model.CpSolver())


class FinerBound:
    """The capacity relaxation tested also every quarter hour after the first long pauses, solved in a thread.

    It starts at once on one worker, for at most `seconds`; `bound(wait)` gives it up to `wait` more
    seconds to end by itself, then stops it where it is, and returns its bound (None when no long
    pause needs it).
    """

    def __init__(self, checked: CheckedProblem, seconds: float) -> None:
        ends = _breakpoints(checked)
        steps = _after_long_pauses(checked, ends)
        self._solver = cp_model.CpSolver()
        self._result: Relaxation | None = None
        self._thread: threading.Thread | None = None
        if steps:
            times = sorted(set(ends) | steps)
            self._thread = threading.Thread(target=self._run, args=(checked, times, seconds), daemon=True)
            self._thread.start()

    def _run(self, checked: CheckedProblem, times: list[int], seconds: float) -> None:
        self._result = _relax(checked, times, seconds, 1, self._solver)

    def bound(self, wait: float = 0.0) -> int | None:
        if self._thread is None:
            return None
        self._thread.join(wait)
        while self._thread.is_alive():
            self._solver.stop_search()  # a no-op while the model is still being built: ask again
            self._thread.join(0.05)
        return self._result.bound if self._result is not None else None


def _relax(
    checked: CheckedProblem, times: list[int], seconds: float, workers: int, solver: cp_model.CpSolver
) -> Relaxation:
    """The relaxation testing jobs at `times`, solved by `solver`."""
    earliest = earliest_completions(checked)
    floor = tardiness_lower_bound(checked, earliest)
    groups = {
        frozenset(option.machine for option in operation.options)
        for operation in checked.operations
        if operation.fixed is None
    }
    model = cp_model.CpModel()
    done_vars: list[cp_model.IntVar] = []
    owners: list[tuple[int, int]] = []  # each variable's job and time
    savings: list[int] = []  # what each variable saves when the job is complete by its time
    at_most = 0  # the cost with no job complete early
    complete_by: dict[tuple[int, frozenset[int]], list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    for number, job in enumerate(checked.jobs):
        if job.due is None or not job.weight:
            continue
        due = job.due
        free = [checked.operations[index] for index in job.operations if checked.operations[index].fixed is None]
        if not free:
            continue
        work = {
            group: minutes
            for group in groups
            if (
                minutes := sum(
                    min(option.duration for option in operation.options)
                    for operation in free
                    if {option.machine for option in operation.options} <= group
                )
            )
        }
        cost = job.weight * max(0, earliest[number] - due)
        done: cp_model.IntVar | None = None
        for moment, tested in enumerate(times):
            late = job.weight * max(0, max(earliest[number], _first_end_after(checked, job, tested)) - due)
            if late > cost:
                # Complete by `tested`, or pay at least `late`: each step of the cost is one more literal.
                variable = model.new_bool_var(f"{job.id}@{tested}")
                if done is not None:
                    model.add_implication(done, variable)
                done_vars.append(variable)
                owners.append((number, tested))
                savings.append(late - cost)
                at_most += late - cost
                done, cost = variable, late
            if done is not None:
                for group, minutes in work.items():
                    complete_by[moment, group].append((done, minutes))
    targets: list[int | None] = [None] * len(checked.jobs)
    if not done_vars:
        return Relaxation(floor, targets)
    frozen: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for operation in checked.operations:
        if operation.fixed is not None:
            frozen[operation.fixed[0]].append((operation.fixed[1], operation.fixed[2]))
    for (moment, group), terms in complete_by.items():
        capacity = sum(
            _free_minutes(checked.machines[machine].calendar, frozen[machine], times[moment]) for machine in group
        )
        if sum(minutes for _, minutes in terms) > capacity:
            model.add(cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [m for _, m in terms]) <= capacity)
    model.minimize(floor + at_most - cp_model.LinearExpr.weighted_sum(done_vars, savings))
    solver.parameters.max_time_in_seconds = max(0.01, seconds)
    solver.parameters.num_workers = max(1, workers)
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Relaxation(floor, targets)
    for (number, tested), variable in zip(owners, done_vars, strict=True):
        if targets[number] is None and solver.value(variable):
            targets[number] = tested
    return Relaxation(max(floor, math.ceil(solver.best_objective_bound - 1e-6)), targets)


def guided_due_dates(checked: CheckedProblem, relaxation: Relaxation) -> list[int | None]:
    """Due dates a due-date rule can follow to do what the relaxation chose.

    A job the relaxation completes before its due date is due by then (before the pause, not on a
    holiday when nothing works); one it gives up is due when the relaxation completes it, so that
    it gives way to the jobs that can still make it.
    """
    return [job.due if target is None else target for job, target in zip(checked.jobs, relaxation.targets, strict=True)]


def _breakpoints(checked: CheckedProblem) -> list[int]:
    """The window ends jobs are tested against: all of them, or the ones before the longest shop-wide pauses."""
    ends = sorted({end for machine in checked.machines for end in machine.calendar.ends if 0 < end <= checked.horizon})
    if len(ends) <= MAX_BREAKPOINTS:
        return ends
    return sorted(sorted(ends, key=lambda end: (-(_resume(checked, end) - end), end))[:MAX_BREAKPOINTS])


def _after_long_pauses(checked: CheckedProblem, ends: list[int]) -> set[int]:
    """Every AFTER_PAUSE_STEP minutes of the first AFTER_PAUSE_SPAN after each of the first long pauses."""
    steps: set[int] = set()
    refined = 0
    for end in ends:
        if refined == REFINED_PAUSES:
            break
        resume = _resume(checked, end)
        if resume - end < LONG_PAUSE:
            continue
        refined += 1
        steps.update(
            step
            for step in range(resume + AFTER_PAUSE_STEP, resume + AFTER_PAUSE_SPAN + 1, AFTER_PAUSE_STEP)
            if step <= checked.horizon
        )
    return steps


def _resume(checked: CheckedProblem, time: int) -> int:
    """The first minute at or after `time` when some machine works (the horizon when none does again)."""
    resumes = [machine.calendar.resume(time) for machine in checked.machines]
    return min((resume for resume in resumes if resume is not None), default=checked.horizon)


def _first_end_after(checked: CheckedProblem, job: CheckedJob, time: int) -> int:
    """The earliest a job can end when it is not complete by `time`.

    One of its last operations (those no operation of the job follows) must then end after
    `time`: a free one no earlier than its machines' first working minute after `time`, a
    frozen one where it is frozen.
    """
    inside = set(job.operations)
    candidates = []
    for index in job.operations:
        operation = checked.operations[index]
        if any(successor in inside for successor in operation.successors):
            continue
        if operation.fixed is not None:
            if operation.fixed[2] > time:
                candidates.append(operation.fixed[2])
            continue
        for option in operation.options:
            resume = checked.machines[option.machine].calendar.resume(time)
            if resume is not None:
                candidates.append(time + 1 if resume == time else resume)
    return min(candidates, default=checked.horizon)


def _free_minutes(calendar: WorkingTime, frozen: list[tuple[int, int]], time: int) -> int:
    """Working minutes of a machine before `time` that its frozen operations (start, end) leave free."""
    if calendar.empty:
        return 0
    free = calendar.position(time) - calendar.first
    for start, end in frozen:
        start, end = max(start, 0), min(end, time)
        if end > start:
            free -= calendar.position(end) - calendar.position(start)
    return max(0, free)
