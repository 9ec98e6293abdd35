"""Shop-scale search: CP-SAT on small sub-problems with the rest of the schedule frozen where it is.

A real shop's model is dominated by its changeover circuits: every pair of operations that may
meet on a laser is an arc, and a month of work at 30 machines makes hundreds of thousands of
them, which takes longer to build and to propagate than a planning run may last. Instead, each
step here picks a part of the current schedule (the late jobs and what ran before them on their
machines, a time window, one machine group's window), freezes every other operation at its
current machine and times (an ordinary `Problem` with `Fixed` operations, checked like any
input), and lets CP-SAT re-plan the part with the current schedule as its hint. With most of a
machine frozen, its circuit keeps a few arcs per operation (`ShopModel._cannot_follow`), so a
sub-problem of a hundred operations builds and solves in a second or two. Each relaxed operation
may move up to `REACH` working windows (shifts) either way in one step: free over the whole
horizon, it would cost the model two literals per window, and presolve alone would eat the step.

While weighted tardiness is the objective, the search starts with one larger step, the front:
every operation that starts before the last avoidably late job ends (at most FRONT_OPERATIONS),
solved by CP-SAT with every worker, whose own neighbourhood workers find the moves that rescue a
late job by reshuffling many others. After it, steps run in one lane per worker, each with a
one-worker CP-SAT, from the schedule the lanes share. A lane's result replaces that schedule when
nothing changed it meanwhile; when another lane did, the result's part is carried over onto the
new schedule only if it improved on what it started from and the whole still passes the validator.

The objectives are worked through in order (or as the weighted sum): a step minimises one
objective of the part with the earlier ones held at their current values, and its schedule is
kept when it is at least as good as the current one on the whole problem (equal ones are kept
too: they move the search along a plateau). The part grows when CP-SAT closes it in time and
shrinks when it does not. The result is left-shifted (`dispatch.left_shift`): work a step left
waiting behind a gap, on a machine standing idle, starts as early as its order allows.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from .bounds import earliest_completions
from .check import CheckedProblem, check_problem
from .cpsat import Expr, ShopModel, hint_solution, total
from .dispatch import Placements, left_shift, placements_of, schedule_from_placements
from .errors import InputError
from .model import Fixed, Objective, Problem, Schedule, SolveProgress, SolverSettings
from .tuning import weighted_tardiness
from .validate import objective_values, validate_schedule

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[SolveProgress], bool | None]

# Arcs a full model may have before planning switches to sub-problems (the demo shop has ~140,000).
LARGE_CIRCUITS = 40_000
_KINDS = ("late-jobs", "late-operations", "late-window", "window", "machines")
STEP_SECONDS = 2.0
# How far a relaxed operation may move in one step, in its machine's working windows (shifts) either side.
REACH = 6
# The front: one step over everything that runs before the late jobs end, solved with every worker.
FRONT_OPERATIONS = 600  # at most, the earliest-starting ones
# A late job's rescue can come after CP-SAT has gone 8-19 s without a better plan (the demo shop in an
# ordinary week): a shorter stall gives up on it more often than not. See docs/benchmarks.md.
FRONT_SHARE = 0.6  # of the stage, at most
FRONT_STALL = 20.0  # seconds without a better schedule end it


def circuit_arcs(checked: CheckedProblem) -> int:
    """An upper bound on the changeover arcs of the full model: machines with setups, operations squared."""
    candidates = [0] * len(checked.machines)
    for operation in checked.operations:
        for option in operation.options:
            candidates[option.machine] += 1
    return sum(count * count for machine, count in enumerate(candidates) if checked.has_setups(machine))


@dataclass(frozen=True, slots=True)
class PartsOutcome:
    schedule: Schedule
    values: Mapping[Objective, int]
    steps: int
    improvements: int
    stopped: bool


@dataclass(slots=True)
class _Current:
    """The schedule the lanes share: the best so far (or as good), and how many times it changed."""

    placements: Placements
    values: Mapping[Objective, int]
    version: int = 0
    finished: bool = False  # the stage is over for every lane
    stopped: bool = False  # the caller asked to stop


@dataclass(frozen=True, slots=True)
class _Lane:
    """What every lane of one stage works toward: the stage's objective, the earlier ones held, its end."""

    stage: Mapping[Objective, int]
    held: Sequence[Mapping[Objective, int]]
    deadline: float
    bound: int | None  # the first stage's lower bound: reaching it ends the stage


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
        self.tally = {kind: [0, 0] for kind in (*_KINDS, "front")}  # steps, improving steps: logged after a run
        self.lanes = max(1, settings.workers)
        self._lock = threading.Lock()  # guards the shared schedule, counters, sizes and the random generator
        self._operation_index = {(operation.job_id, operation.id): operation.index for operation in checked.operations}
        self._earliest = earliest_completions(checked)

    def run(
        self,
        start: Schedule,
        deadline: float,
        progress: ProgressCallback | None = None,
        started: float | None = None,
        bound: int = 0,
    ) -> PartsOutcome:
        """Improve `start` until the deadline, one lane of steps per worker (each step's CP-SAT gets one)."""
        started = time.monotonic() if started is None else started
        current = _Current(placements_of(self.checked, start), objective_values(self.problem, start))
        order = self.stages()
        for number, stage in enumerate(order):
            remaining = deadline - time.monotonic()
            # Earlier objectives get most of the time; whatever they leave unused passes on.
            stage_deadline = time.monotonic() + remaining * (1.0, 0.7, 0.8)[min(len(order) - number - 1, 2)]
            lane = _Lane(stage, order[:number], stage_deadline, bound if number == 0 else None)
            current.finished = False
            self._front(current, lane, progress, started)
            with ThreadPoolExecutor(max_workers=self.lanes) as pool:
                helpers = [pool.submit(self._lane, current, lane) for _ in range(self.lanes - 1)]
                try:
                    # This thread's lane reports progress: the caller's callback may use its own connections.
                    self._lane(current, lane, progress, started)
                finally:
                    current.finished = True
                    for helper in helpers:
                        helper.result()
            if current.stopped:
                break
        logger.info("sub-problem search: %s steps, %s improving; by kind %s", self.steps, self.improvements, self.tally)
        # Each step moved its part and left the rest where it was: close the gaps that opened (nothing gets later).
        schedule = schedule_from_placements(self.checked, left_shift(self.checked, current.placements))
        values = objective_values(self.problem, schedule)
        return PartsOutcome(schedule, values, self.steps, self.improvements, current.stopped)

    def _lane(
        self,
        current: _Current,
        lane: _Lane,
        progress: ProgressCallback | None = None,
        started: float = 0.0,
    ) -> None:
        """Steps from the current schedule until the stage ends; lanes share it and take turns updating it."""
        reported = self.improvements
        while time.monotonic() < lane.deadline - 0.1 and not current.stopped and not current.finished:
            with self._lock:
                kind = self._choose_kind()
                self.tally[kind][0] += 1
                base = replace(current)
                relaxed = self._neighbourhood(kind, base.placements, base.values)
            found = self._step(kind, relaxed, base.placements, lane) if relaxed else None
            with self._lock:
                if found is not None:
                    self._accept(kind, current, base, relaxed, found, lane)
                values, improvements = current.values, self.improvements
            if progress is not None and improvements > reported:
                reported = improvements
                value = self._stage_value(lane.stage, values)
                if self._report(progress, lane.stage, value, started, lane.bound or 0) is False:
                    current.stopped = True

    def _accept(
        self,
        kind: str,
        current: _Current,
        base: _Current,
        relaxed: set[int],
        found: tuple[Placements, dict[Objective, int]],
        lane: _Lane,
    ) -> None:
        """Make a step's schedule the current one if it is at least as good (called with the lock held)."""
        placements, values = found
        if current.version != base.version:
            # Another lane moved the schedule while this step solved: its part is worth carrying over when
            # it improved on what it started from, and is carried over only if the whole still validates.
            if self._rank(values) >= self._rank(base.values):
                return
            placements = dict(current.placements)
            placements.update((index, found[0][index]) for index in relaxed)
            schedule = schedule_from_placements(self.checked, placements)
            if validate_schedule(self.problem, schedule):
                return
            values = objective_values(self.problem, schedule)
        if self._rank(values) > self._rank(current.values):
            return
        if self._rank(values) < self._rank(current.values):
            self.improvements += 1
            self.tally[kind][1] += 1
        current.placements, current.values, current.version = placements, values, current.version + 1
        if lane.bound is not None and self._stage_value(lane.stage, values) <= lane.bound:
            current.finished = True  # the first objective reached its lower bound: nothing left to gain there

    def _front(
        self, current: _Current, lane: _Lane, progress: ProgressCallback | None = None, started: float = 0.0
    ) -> None:
        """One step, with every worker, over all that runs before the late jobs end (tardiness stages only).

        A late job whose chain has little slack is rescued only by reshuffling many jobs at once
        (on the demo shop in an ordinary week: one job's weld moving to a faster welder, and the
        work on all four welders and after them giving way), more than the lanes' small parts hold.
        CP-SAT's own neighbourhood workers find such moves in a part of a few hundred operations,
        at times only after 8-19 s without a better plan; one worker's search does not in a minute.
        The step ends when it has gone FRONT_STALL seconds without a better schedule or used
        FRONT_SHARE of the stage; each better one is reported as it is found, and the caller can
        stop it there.
        """
        if not lane.stage.get(Objective.WEIGHTED_TARDINESS):
            return
        relaxed = self._before_late_jobs_end(current.placements)
        if not relaxed:
            return
        seconds = (lane.deadline - time.monotonic()) * FRONT_SHARE
        with self._lock:  # the lanes have not started yet, but the shared schedule is the lock's
            self.tally["front"][0] += 1
            base = replace(current)

        def report(value: int) -> bool:
            keep = progress is None or self._report(progress, lane.stage, value, started, lane.bound or 0) is not False
            current.stopped = current.stopped or not keep
            return keep

        found = self._step("front", relaxed, base.placements, lane, seconds, report)
        if found is not None:
            with self._lock:
                self._accept("front", current, base, relaxed, found, lane)

    def _before_late_jobs_end(self, placements: Placements) -> set[int]:
        """Every operation that starts before the last avoidably late job ends: the earliest-starting
        FRONT_OPERATIONS of them, so on a shop with many late jobs, the front of the schedule."""
        late = self._avoidably_late(placements)
        if not late:
            return set()
        jobs = self.checked.jobs
        until = max(placements[index][2] for _, number in late for index in jobs[number].operations)
        before = sorted((placements[index][1], index) for index in self.movable if placements[index][1] < until)
        return {index for _, index in before[:FRONT_OPERATIONS]}

    def _choose_kind(self) -> str:
        """A kind of neighbourhood, drawn more often the more often it improved the schedule so far."""
        weights = [(improving + 1) / (steps + 2) for steps, improving in (self.tally[kind] for kind in _KINDS)]
        return self.random.choices(_KINDS, weights=weights)[0]

    # One step ----------------------------------------------------------------------------------

    def _step(
        self,
        kind: str,
        relaxed: set[int],
        placements: Placements,
        lane: _Lane,
        seconds: float = STEP_SECONDS,
        report: Callable[[int], bool] | None = None,
    ) -> tuple[Placements, dict[Objective, int]] | None:
        """CP-SAT on the part `relaxed`, the rest frozen. A lane's step has one worker (the lanes are the
        parallelism); the front (`report` given) has every worker, and it stops once it goes FRONT_STALL
        without a better solution or `report`, given each better objective, returns False."""
        part = self._sub_problem(placements, relaxed)
        try:
            checked = check_problem(part)
        except InputError:
            self._resize(kind, 0.5)
            return None
        self._confine(checked, placements, relaxed)
        shop = ShopModel(checked, part.horizon)
        current = schedule_from_placements(self.checked, placements)
        if shop.hint(current) is None:
            return None
        part_values = objective_values(part, current)
        for earlier in lane.held:
            shop.model.add(
                total(weight * shop.expression(objective) for objective, weight in earlier.items())
                <= sum(weight * part_values[objective] for objective, weight in earlier.items())
            )
        objective = total(weight * shop.expression(objective) for objective, weight in lane.stage.items())
        shop.model.add(objective <= sum(weight * part_values[o] for o, weight in lane.stage.items()))
        shop.model.minimize(objective)
        with self._lock:
            self.steps += 1
            seed = self.steps
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1 if report is None else self.lanes
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = max(0.05, min(seconds, lane.deadline - time.monotonic()))
        if report is not None:
            # Probing a part this size takes seconds (most of a step) and the neighbourhood workers do without it.
            solver.parameters.cp_model_probing_level = 0
            status = _solve_watched(solver, shop.model, FRONT_STALL, report)
        else:
            status = solver.solve(shop.model)
        closed = status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
        logger.debug(
            "%s: %s operations, %s, %.2f s, objective %s from %s",
            kind,
            len(relaxed),
            solver.status_name(status),
            solver.wall_time,
            solver.objective_value if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None,
            sum(weight * part_values[o] for o, weight in lane.stage.items()),
        )
        if report is None:  # the front is one step, not a kind of neighbourhood with a size
            self._resize(kind, 1.15 if closed else 0.8)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        solution = shop.placements(solver)
        if status == cp_model.OPTIMAL:
            solution = self._pull_late_work(shop, solver, objective, relaxed, placements, lane, seconds) or solution
        found = dict(placements)
        for index, placed in solution.items():
            if index in relaxed:
                found[index] = placed
        return found, objective_values(self.problem, schedule_from_placements(self.checked, found))

    def _pull_late_work(
        self,
        shop: ShopModel,
        solver: cp_model.CpSolver,
        objective: Expr,
        relaxed: set[int],
        placements: Placements,
        lane: _Lane,
        seconds: float,
    ) -> dict[int, tuple[int, int, int]] | None:
        """With the part's objective held at its optimum, move the late jobs' relaxed work as early as it goes.

        A late job is often held up by frozen work after the part: its relaxed operations can end
        earlier without its completion changing, and CP-SAT returns the start as an optimum just as
        good. Pulling them forward (the heavier the job, the harder) moves the schedule along that
        plateau, toward where a later step can free the rest of the chain.
        """
        if Objective.WEIGHTED_TARDINESS not in lane.stage:
            return None
        checked = self.checked
        lateness = weighted_tardiness(checked, placements)[1]
        pulled = [
            index
            for index in relaxed
            if lateness[checked.operations[index].job] and checked.jobs[checked.operations[index].job].weight
        ]
        remaining = min(seconds - solver.wall_time, lane.deadline - time.monotonic())
        if not pulled or remaining < 0.05:
            return None
        shop.model.add(objective <= round(solver.objective_value))
        hint_solution(shop.model, list(solver.response_proto.solution))
        shop.model.minimize(
            total(checked.jobs[checked.operations[index].job].weight * shop.operations[index].end for index in pulled)
        )
        solver.parameters.max_time_in_seconds = remaining
        if solver.solve(shop.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return shop.placements(solver)

    def _resize(self, kind: str, factor: float) -> None:
        """Grow a kind of neighbourhood whose parts CP-SAT closes in time, shrink one whose parts it does not."""
        with self._lock:
            self.size[kind] = min(len(self.movable), max(10, round(self.size[kind] * factor)))

    def _confine(self, checked: CheckedProblem, placements: Placements, relaxed: set[int]) -> None:
        """Keep each relaxed operation within `REACH` working windows of where it runs now.

        An operation free over the whole horizon costs the model two literals per working window
        it could start or end in (a month of shifts: over a hundred), and CP-SAT's presolve alone
        then takes longer than a step may; a step moves work by hours or days, not weeks.
        """
        for index in relaxed:
            machine, start, _ = placements[index]
            calendar = checked.machines[machine].calendar
            window = calendar.start_window(calendar.position(start))
            low = calendar.starts[max(0, window - REACH)]
            high = calendar.ends[min(len(calendar.starts) - 1, window + REACH)] - 1
            operation = checked.operations[index]
            kept = []
            for option in operation.options:
                earliest, latest = max(option.earliest, low), min(option.latest, high)
                if earliest <= latest:
                    option.earliest, option.latest = earliest, latest
                    kept.append(option)
            operation.options = kept

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
        """A late job that could end earlier, drawn with a chance proportional to the weighted lateness it saves."""
        late = self._avoidably_late(placements)
        if not late:
            return None
        return self.random.choices(late, weights=[value for value, _ in late])[0][1]

    def _avoidably_late(self, placements: Placements) -> list[tuple[int, int]]:
        """(weighted lateness it could save, job) of each late job that could end earlier.

        A job already at its earliest possible end is late whatever the rest of the shop does: a step
        around it cannot gain anything.
        """
        late = []
        lateness = weighted_tardiness(self.checked, placements)[1]
        for number, job in enumerate(self.checked.jobs):
            if not lateness[number] or not job.weight:
                continue
            avoidable = lateness[number] - max(0, self._earliest[number] - (job.due or 0))
            if avoidable > 0:
                late.append((job.weight * avoidable, number))
        return late

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
        value: int,
        started: float,
        bound: int,
    ) -> bool | None:
        name = str(next(iter(stage))) if len(stage) == 1 else "weighted"
        first = self.stages()[0]
        return progress(
            SolveProgress(
                stage=name,
                objective=value,
                best_bound=bound if stage == first else 0,
                wall_s=time.monotonic() - started,
                solutions=self.improvements,
            )
        )


class _Improvements(cp_model.CpSolverSolutionCallback):
    """The latest solution's objective, and when it was found."""

    def __init__(self) -> None:
        super().__init__()
        self.at = time.monotonic()
        self.objective: int | None = None

    def on_solution_callback(self) -> None:
        self.at = time.monotonic()
        self.objective = round(self.objective_value)


def _solve_watched(
    solver: cp_model.CpSolver, model: cp_model.CpModel, stall: float, report: Callable[[int], bool]
) -> cp_model.CpSolverStatus:
    """`solver.solve(model)` in a helper thread while this one watches it.

    The solve is stopped once it has gone `stall` seconds without a better solution, or when
    `report`, called in this thread with each better objective, returns False (or raises: the
    exception is raised here once the solve has returned). The stop is repeated until the solve
    returns: one sent before CP-SAT has started would be lost.
    """
    improvements = _Improvements()
    statuses: list[cp_model.CpSolverStatus] = []
    helper = threading.Thread(target=lambda: statuses.append(solver.solve(model, improvements)), name="front")
    helper.start()
    reported, stopping = None, False
    try:
        while True:
            helper.join(0.05)
            value = improvements.objective
            if value is not None and value != reported:
                reported = value
                stopping = stopping or report(value) is False
            if not helper.is_alive():
                break
            if stopping or time.monotonic() - improvements.at >= stall:
                solver.stop_search()
    finally:
        while helper.is_alive():
            solver.stop_search()
            helper.join(0.05)
    return statuses[0] if statuses else cp_model.UNKNOWN
