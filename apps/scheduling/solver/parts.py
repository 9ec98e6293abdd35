"""Shop-scale search: CP-SAT on small sub-problems with the rest of the schedule frozen where it is.

A real shop's model is dominated by its changeover circuits: every pair of operations that may
meet on a laser is an arc, and a month of work at 30 machines makes hundreds of thousands of
them, which takes longer to build and to propagate than a planning run may last. Instead, each
step here picks a part of the current schedule (the late jobs and what ran before them on their
machines, a time window, one machine group's window), freezes every other operation at its
current machine and times (an ordinary `Problem` with `Fixed` operations, checked like any
input), and lets CP-SAT re-plan the part with the current schedule as its hint. With most of a
machine frozen, its circuit keeps a few arcs per operation (`ShopModel._cannot_follow`), so a
sub-problem of a hundred operations builds and solves in a second or two.

The objectives are worked through in order (or as the weighted sum): a step minimises one
objective of the part with the earlier ones held at their current values, and its schedule is
kept when it is at least as good as the current one on the whole problem (equal ones are kept
too: they move the search along a plateau). The part grows when CP-SAT closes it in time and
shrinks when it does not.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from .check import CheckedProblem, check_problem
from .cpsat import ShopModel, total
from .dispatch import Placements, placements_of, schedule_from_placements
from .errors import InputError
from .model import Fixed, Objective, Problem, Schedule, SolveProgress, SolverSettings
from .validate import objective_values

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[SolveProgress], bool | None]

# Arcs a full model may have before planning switches to sub-problems (the demo shop has ~140,000).
LARGE_CIRCUITS = 40_000
_KINDS = ("late-jobs", "late-operations", "late-window", "window", "machines")
STEP_SECONDS = 2.0


def circuit_arcs(checked: CheckedProblem) -> int:
    """An upper bound on the changeover arcs of the full model: machines with setups, operations squared."""
    candidates = [0] * len(checked.machines)
    for operation in checked.operations:
        for option in operation.options:
            candidates[option.machine] += 1
    return sum(count * count for machine, count in enumerate(candidates) if checked.has_setups(machine))


def tardiness_lower_bound(checked: CheckedProblem) -> int:
    """Weighted tardiness no schedule can avoid: each job's last operations at their earliest, on any machine."""
    bound = 0
    for job in checked.jobs:
        if job.due is None or not job.weight:
            continue
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
        bound += job.weight * max(0, completion - job.due)
    return bound


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


@dataclass(frozen=True, slots=True)
class PartsOutcome:
    schedule: Schedule
    values: Mapping[Objective, int]
    steps: int
    improvements: int
    stopped: bool


class PartsSearch:
    """The sub-problem loop; `run` improves a valid starting schedule until the deadline."""

    def __init__(self, problem: Problem, checked: CheckedProblem, settings: SolverSettings) -> None:
        self.problem = problem
        self.checked = checked
        self.settings = settings
        self.random = random.Random(settings.seed)
        self.size = dict.fromkeys(_KINDS, 60)
        self.movable = [operation.index for operation in checked.operations if operation.fixed is None]
        self.steps = 0
        self.improvements = 0
        self.tally = {kind: [0, 0] for kind in _KINDS}  # steps, improving steps: logged after a run
        self._operation_index = {(operation.job_id, operation.id): operation.index for operation in checked.operations}

    def run(
        self,
        start: Schedule,
        deadline: float,
        progress: ProgressCallback | None = None,
        started: float | None = None,
        bound: int = 0,
    ) -> PartsOutcome:
        started = time.monotonic() if started is None else started
        placements = placements_of(self.checked, start)
        values = objective_values(self.problem, start)
        order = self.stages()
        stopped = False
        for number, stage in enumerate(order):
            remaining = deadline - time.monotonic()
            # Earlier objectives get most of the time; whatever they leave unused passes on.
            stage_deadline = time.monotonic() + remaining * (1.0, 0.7, 0.8)[min(len(order) - number - 1, 2)]
            while time.monotonic() < stage_deadline - 0.1 and not stopped:
                kind = self._choose_kind()
                self.tally[kind][0] += 1
                found = self._step(kind, placements, values, order[:number], stage, stage_deadline)
                if found is None:
                    continue
                new_placements, new_values = found
                if self._rank(new_values) > self._rank(values):
                    continue
                improved = self._rank(new_values) < self._rank(values)
                placements, values = new_placements, new_values
                if improved:
                    self.improvements += 1
                    self.tally[kind][1] += 1
                    if progress is not None:
                        stopped = self._report(progress, stage, values, started, bound) is False
                if self._stage_value(order[0], values) <= bound and number == 0:
                    break  # the first objective reached its lower bound: nothing left to gain there
            if stopped:
                break
        logger.info("sub-problem search: %s steps, %s improving; by kind %s", self.steps, self.improvements, self.tally)
        schedule = schedule_from_placements(self.checked, placements)
        return PartsOutcome(schedule, values, self.steps, self.improvements, stopped)

    def _choose_kind(self) -> str:
        """A kind of neighbourhood, drawn more often the more often it improved the schedule so far."""
        weights = [(improving + 1) / (steps + 2) for steps, improving in (self.tally[kind] for kind in _KINDS)]
        return self.random.choices(_KINDS, weights=weights)[0]

    # One step ----------------------------------------------------------------------------------

    def _step(
        self,
        kind: str,
        placements: Placements,
        values: Mapping[Objective, int],
        held: Sequence[Mapping[Objective, int]],
        stage: Mapping[Objective, int],
        deadline: float,
    ) -> tuple[Placements, dict[Objective, int]] | None:
        relaxed = self._neighbourhood(kind, placements, values)
        if not relaxed:
            return None
        part = self._sub_problem(placements, relaxed)
        try:
            checked = check_problem(part)
        except InputError:
            self.size[kind] = max(10, self.size[kind] // 2)
            return None
        shop = ShopModel(checked, part.horizon)
        current = schedule_from_placements(self.checked, placements)
        if shop.hint(current) is None:
            return None
        part_values = objective_values(part, current)
        for earlier in held:
            shop.model.add(
                total(weight * shop.expression(objective) for objective, weight in earlier.items())
                <= sum(weight * part_values[objective] for objective, weight in earlier.items())
            )
        objective = total(weight * shop.expression(objective) for objective, weight in stage.items())
        shop.model.add(objective <= sum(weight * part_values[o] for o, weight in stage.items()))
        shop.model.minimize(objective)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = max(1, self.settings.workers)
        solver.parameters.random_seed = self.steps
        solver.parameters.max_time_in_seconds = max(0.05, min(STEP_SECONDS, deadline - time.monotonic()))
        self.steps += 1
        status = solver.solve(shop.model)
        closed = status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
        logger.debug(
            "%s: %s operations, %s, %.2f s, objective %s from %s",
            kind,
            len(relaxed),
            solver.status_name(status),
            solver.wall_time,
            solver.objective_value if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None,
            sum(weight * part_values[o] for o, weight in stage.items()),
        )
        self.size[kind] = min(len(self.movable), max(10, round(self.size[kind] * (1.15 if closed else 0.8))))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        found = dict(placements)
        for index, placed in shop.placements(solver).items():
            if index in relaxed:
                found[index] = placed
        return found, objective_values(self.problem, schedule_from_placements(self.checked, found))

    def _sub_problem(self, placements: Placements, relaxed: set[int]) -> Problem:
        """The problem with every operation outside `relaxed` frozen at its current machine and times."""
        checked = self.checked
        operations = self._operation_index
        jobs = []
        for job in self.problem.jobs:
            kept = []
            for operation in job.operations:
                index = operations[(job.id, operation.id)]
                if index in relaxed or operation.fixed is not None:
                    kept.append(operation)
                    continue
                machine, start, end = placements[index]
                kept.append(replace(operation, fixed=Fixed(checked.machines[machine].id, start, end)))
            jobs.append(replace(job, operations=tuple(kept)))
        return replace(self.problem, jobs=tuple(jobs))

    # Neighbourhoods ----------------------------------------------------------------------------

    def _neighbourhood(self, kind: str, placements: Placements, values: Mapping[Objective, int]) -> set[int]:
        size = self.size[kind]
        if kind == "late-jobs" and values[Objective.WEIGHTED_TARDINESS]:
            return self._around_late_jobs(placements, size)
        if kind == "late-operations" and values[Objective.WEIGHTED_TARDINESS]:
            return self._ahead_of_late_operations(placements, size)
        if kind == "late-window" and values[Objective.WEIGHTED_TARDINESS]:
            return self._before_a_due_date(placements, size)
        if kind == "machines":
            return self._machine_window(placements, size)
        return self._window(placements, size)

    def _window(self, placements: Placements, size: int) -> set[int]:
        ordered = sorted(self.movable, key=lambda index: placements[index][1])
        first = self.random.randrange(max(1, len(ordered) - size + 1))
        return set(ordered[first : first + size])

    def _machine_window(self, placements: Placements, size: int) -> set[int]:
        """Operations that could run on one randomly chosen operation's machines, near its time."""
        pivot = self.random.choice(self.movable)
        machines = {option.machine for option in self.checked.operations[pivot].options}
        nearby = [index for index in self.movable if placements[index][0] in machines]
        at = placements[pivot][1]
        nearby.sort(key=lambda index: abs(placements[index][1] - at))
        return set(nearby[:size])

    def _before_a_due_date(self, placements: Placements, size: int) -> set[int]:
        """A late job's operations, and the operations on any machine that start closest before its due date."""
        chosen = self._late_job(placements)
        if chosen is None:
            return self._window(placements, size)
        checked = self.checked
        job = checked.jobs[chosen]
        relaxed = {index for index in job.operations if checked.operations[index].fixed is None}
        due = job.due or 0
        nearest = sorted(self.movable, key=lambda index: abs(placements[index][1] - due))
        for index in nearest:
            if len(relaxed) >= size:
                break
            relaxed.add(index)
        return relaxed

    def _ahead_of_late_operations(self, placements: Placements, size: int) -> set[int]:
        """A late job's operations, and the operations that ran ahead of them on their machines, nearest first."""
        chosen = self._late_job(placements)
        if chosen is None:
            return self._window(placements, size)
        checked = self.checked
        relaxed = {index for index in checked.jobs[chosen].operations if checked.operations[index].fixed is None}
        ahead: list[tuple[int, int]] = []
        for index in relaxed:
            machine, start, _ = placements[index]
            since = checked.operations[index].earliest
            ahead.extend(
                (start - placements[other][1], other)
                for other in self.movable
                if other not in relaxed and placements[other][0] == machine and since <= placements[other][1] < start
            )
        ahead.sort()
        relaxed.update(other for _, other in ahead[: max(0, size - len(relaxed))])
        return relaxed

    def _late_job(self, placements: Placements) -> int | None:
        """A late job, drawn with a chance proportional to its weighted lateness."""
        late = []
        for number, job in enumerate(self.checked.jobs):
            if job.due is None or not job.weight:
                continue
            completion = max(placements[index][2] for index in job.operations)
            if completion > job.due:
                late.append((job.weight * (completion - job.due), number))
        if not late:
            return None
        return self.random.choices(late, weights=[value for value, _ in late])[0][1]

    def _around_late_jobs(self, placements: Placements, size: int) -> set[int]:
        """A late job, and whole jobs with time to spare that ran before it on its machines.

        Whole jobs, because an operation that gives way to the late job starts later, and so
        must everything after it in its own job; jobs with the most slack first, because they can
        absorb that.
        """
        checked = self.checked
        chosen = self._late_job(placements)
        if chosen is None:
            return self._window(placements, size)
        slack: dict[int, float] = {}
        for number, job in enumerate(checked.jobs):
            completion = max(placements[index][2] for index in job.operations)
            slack[number] = math.inf if job.due is None else job.due - completion
        relaxed = {index for index in checked.jobs[chosen].operations if checked.operations[index].fixed is None}
        windows = [
            (placements[index][0], checked.operations[index].earliest, placements[index][1]) for index in relaxed
        ]
        before: set[int] = set()
        for other in self.movable:
            machine, start, _ = placements[other]
            owner = checked.operations[other].job
            if owner != chosen and any(m == machine and since <= start < until for m, since, until in windows):
                before.add(owner)
        ranked = sorted(before, key=lambda owner: (-slack[owner], self.random.random()))
        for owner in ranked:
            if len(relaxed) >= size:
                break
            operations = checked.jobs[owner].operations
            relaxed.update(index for index in operations if checked.operations[index].fixed is None)
        return relaxed

    # Objectives --------------------------------------------------------------------------------

    def stages(self) -> list[Mapping[Objective, int]]:
        """The objectives in the order they are worked on, each as weights (one stage with `weights`)."""
        if self.settings.weights is not None:
            return [dict(self.settings.weights)]
        return [{objective: 1} for objective in self.settings.objectives]

    def _rank(self, values: Mapping[Objective, int]) -> tuple[int, ...]:
        return tuple(self._stage_value(stage, values) for stage in self.stages())

    @staticmethod
    def _stage_value(stage: Mapping[Objective, int], values: Mapping[Objective, int]) -> int:
        return sum(weight * values[objective] for objective, weight in stage.items())

    def _report(
        self,
        progress: ProgressCallback,
        stage: Mapping[Objective, int],
        values: Mapping[Objective, int],
        started: float,
        bound: int,
    ) -> bool | None:
        name = str(next(iter(stage))) if len(stage) == 1 else "weighted"
        first = self.stages()[0]
        return progress(
            SolveProgress(
                stage=name,
                objective=self._stage_value(stage, values),
                best_bound=bound if stage == first else 0,
                wall_s=time.monotonic() - started,
                solutions=self.improvements,
            )
        )


def first_objective_bound(checked: CheckedProblem, settings: SolverSettings) -> int:
    """A lower bound on the first objective (the weighted sum's, with weights), from capacity-free bounds."""
    bounds = {
        Objective.WEIGHTED_TARDINESS: tardiness_lower_bound(checked),
        Objective.MAKESPAN: makespan_lower_bound(checked),
        Objective.TOTAL_SETUP: 0,
    }
    if settings.weights is not None:
        return sum(weight * bounds[objective] for objective, weight in settings.weights.items())
    return bounds[settings.objectives[0]] if settings.objectives else 0
