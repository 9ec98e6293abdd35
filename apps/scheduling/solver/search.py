"""One objective stage: CP-SAT on the full model and the neighbourhood search, taking turns.

CP-SAT first runs on the whole model with all the workers: that closes small instances outright
and sets the lower bound. It keeps the whole model for at least FULL_SHARE of the stage and for
as long after that as it keeps finding better schedules; once it has gone STALL_SHARE of the
stage without one, each worker runs its own neighbourhood-search loop (`lns`), one-worker CP-SAT
solves on parts of the schedule, all sharing one incumbent. When the loops in turn go STALL_SHARE
without a better schedule, CP-SAT's full model runs again from the best schedule (as its hint,
with the objective bounded by it), and so on until the time is up. The two searches get stuck in
different places: on 15x15 Taillard instances the loops stalled for the last 40 s of a minute
where CP-SAT's own search kept improving, and on 30x20 ones the loops put ours ahead of the plain
model where CP-SAT alone, or restarted, stays level with it or falls behind (docs/benchmarks.md).
On a model too large to presolve again quickly (LARGE_MODEL) the loops keep the rest of the stage.
On a small, square job shop (at most SMALL_JOB_SHOP operations, at most SQUARE jobs a machine,
hardly any operation with a choice of machine: 10x10, 15x10, 15x15, 20x15) CP-SAT keeps the whole
stage: there its own search ends level with or ahead of the turns, which lost up to 26 units to the
plain model on 15x15 and up to 32 on 20x15, where the loops and the second full-model runs hardly
ever improved on the first run's schedule; with more jobs a machine (20x10, 20x5) or on larger
shops (30x20, 50x15) the loops gain (docs/benchmarks.md). On a large job shop (more than
LARGE_JOB_SHOP operations: 50x20) the loops gained little in their turns (nothing in 12 s on one
run, 22 units in 14 s on another) and each full-model run gained most right after it restarted from
the best schedule: there the full model restarts from the best schedule whenever it stalls, without
the loops in between. On a very large job shop (more than UNHINTED_JOB_SHOP operations: 75x20,
100x20) the best rule's schedule holds CP-SAT back when it is the first run's hint (on ta71-ta75
ours was 100-300 units behind the plain model), so there the first run searches without it
(`planning`): the rule's schedule still bounds the makespan and is the stage's best schedule until
CP-SAT beats it, within seconds. On 60x20 the hint helped on one instance and not on another.
CP-SAT releases the GIL while it searches, so the loops really run in parallel. Every improving
solution goes to the progress callback, which can stop the stage by returning False or raising
(the exception is re-raised here, in the caller's thread).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .check import CheckedProblem
from .cpsat import Expr, ShopModel, hint_solution
from .lns import Incumbent, NeighbourhoodSearch
from .model import SolveProgress, SolverSettings, SolveStatus

ProgressCallback = Callable[[SolveProgress], bool | None]

# CP-SAT on the full model first, with every worker: it closes small instances and sets the bound.
FULL_SHARE = 0.3  # of the stage, at least
STALL_SHARE = 0.1  # of the stage without a better schedule: on to the other search
FULL_MIN_SECONDS = 1.0
LARGE_MODEL = 20_000  # constraints
SMALL_JOB_SHOP = 300  # operations (20x15)
SQUARE = 1.5  # jobs a machine (15x10)
LARGE_JOB_SHOP = 900  # operations: 50x15 (750) gains from the loops, 50x20 (1,000) does not
UNHINTED_JOB_SHOP = 1_200  # operations: the rule's hint helps on 50x20 (1,000), holds CP-SAT back on 75x20, 100x20
JOB_SHOP_OPTIONS = 1.25  # machines an operation may run on, on average: Hurink's edata has 1.13-1.21

_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
}


@dataclass(frozen=True, slots=True)
class StageSearch:
    status: SolveStatus
    incumbent: Incumbent | None
    bound: int | None
    stopped: bool
    wall_s: float


class _Shared:
    """The best schedule so far and the stop flag, shared by the CP-SAT thread and the search loop."""

    def __init__(self, name: str, progress: ProgressCallback | None, started: float) -> None:
        self.lock = threading.Lock()
        self.name = name
        self.progress = progress
        self.started = started
        self.incumbent: Incumbent | None = None
        self.bound = -math.inf
        self.solutions = 0
        self.improved_at = time.monotonic()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def offer(self, incumbent: Incumbent, bound: float | None = None) -> None:
        with self.lock:
            if bound is not None:
                self.bound = max(self.bound, bound)
            if self.incumbent is not None and incumbent.value >= self.incumbent.value:
                if incumbent.value == self.incumbent.value and _flow(incumbent) <= _flow(self.incumbent):
                    self.incumbent = incumbent  # as good, and no less compact: move along the plateau
                return
            self.incumbent = incumbent
            self.solutions += 1
            self.improved_at = time.monotonic()
            if self.progress is None or self.stop.is_set():
                return
            report = SolveProgress(
                stage=self.name,
                objective=incumbent.value,
                best_bound=math.ceil(self.bound - 1e-6) if self.bound > -math.inf else 0,
                wall_s=time.monotonic() - self.started,
                solutions=self.solutions,
            )
            try:
                keep = self.progress(report)
            except BaseException as error:  # noqa: BLE001 - re-raised by search_stage() once everything stopped
                self.error = error
                keep = False
            if keep is False:
                self.stop.set()


def _flow(incumbent: Incumbent) -> float:
    return math.inf if incumbent.flow is None else incumbent.flow


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, shop: ShopModel, shared: _Shared) -> None:
        super().__init__()
        self.shop = shop
        self.shared = shared

    def on_solution_callback(self) -> None:
        incumbent = Incumbent(
            round(self.objective_value),
            self.shop.placements(self),
            list(self.response_proto.solution),
            self.value(self.shop.flow),
        )
        self.shared.offer(incumbent, self.best_objective_bound)
        if self.shared.stop.is_set():
            self.stop_search()


def search_stage(
    shop: ShopModel,
    objective: Expr,
    name: str,
    settings: SolverSettings,
    seconds: float,
    progress: ProgressCallback | None,
    started: float,
    start: Incumbent | None = None,
) -> StageSearch:
    """Minimise `objective` on `shop.model` for up to `seconds`, from `start` (the model's hint, unless cleared)."""
    stage_started = time.monotonic()
    deadline = stage_started + seconds
    shop.model.minimize(objective)
    shared = _Shared(name, progress, started)
    if start is not None:
        shared.offer(start)
    stall = seconds * STALL_SHARE
    least = seconds if own_search_only(shop.checked) else max(FULL_MIN_SECONDS, seconds * FULL_SHARE)
    # Going back to the full model means presolving it again: only worth it on models that presolve quickly.
    alternate = len(shop.model.proto.constraints) <= LARGE_MODEL
    # A large job shop only restarts the full model; the loops run between turns everywhere else.
    loops = not (alternate and restarts_only(shop.checked))
    code = _full_model(shop, shop.model, settings, shared, deadline, least, stall)
    # One loop per worker; each keeps what it learned about its neighbourhoods' sizes between turns.
    searches: list[NeighbourhoodSearch] = []
    while not _finished(code, shared, deadline):
        if loops:
            searches = searches or [
                NeighbourhoodSearch(shop, objective, settings.seed + number)
                for number in range(max(1, settings.workers))
            ]
            _neighbourhoods(searches, shared, deadline, least=stall, stall=stall if alternate else None)
        incumbent = shared.incumbent
        if not alternate or incumbent is None or _over(shared, deadline):
            break
        # The loops have stalled: CP-SAT's own search (tree search and its neighbourhoods) takes over again.
        model = shop.model.clone()
        model.add(objective <= incumbent.value)
        hint_solution(model, incumbent.solution)
        code = _full_model(shop, model, settings, shared, deadline, stall, stall)
    if shared.error is not None:
        raise shared.error
    incumbent = shared.incumbent
    wall = time.monotonic() - stage_started
    if incumbent is None:
        status = SolveStatus.INFEASIBLE if code == cp_model.INFEASIBLE else SolveStatus.UNKNOWN
        return StageSearch(status, None, None, shared.stop.is_set(), wall)
    bound = min(incumbent.value, math.ceil(shared.bound - 1e-6)) if shared.bound > -math.inf else None
    optimal = code == cp_model.OPTIMAL or (bound is not None and bound >= incumbent.value)
    status = SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE
    return StageSearch(status, incumbent, bound, shared.stop.is_set(), wall)


def own_search_only(checked: CheckedProblem) -> bool:
    """Whether CP-SAT's own search keeps the whole stage: a small, square job shop (see the module's notes)."""
    size = _job_shop_size(checked)
    return size is not None and 0 < size <= SMALL_JOB_SHOP and len(checked.jobs) <= SQUARE * len(checked.machines)


def restarts_only(checked: CheckedProblem) -> bool:
    """Whether the full model restarts when it stalls, with no loops between: a large job shop (module's notes)."""
    size = _job_shop_size(checked)
    return size is not None and size > LARGE_JOB_SHOP


def rule_hint_helps(checked: CheckedProblem) -> bool:
    """Whether CP-SAT's first run gets the best rule's schedule as its hint: not on a very large job shop."""
    size = _job_shop_size(checked)
    return size is None or size <= UNHINTED_JOB_SHOP


def _job_shop_size(checked: CheckedProblem) -> int | None:
    """The free operations of a job shop (hardly any operation with a choice of machine); None for other shops."""
    free = [operation for operation in checked.operations if operation.fixed is None]
    options = sum(len(operation.options) for operation in free)
    return len(free) if options <= JOB_SHOP_OPTIONS * len(free) else None


def _finished(code: cp_model.CpSolverStatus, shared: _Shared, deadline: float) -> bool:
    """Whether the stage is over after a full-model run: proven by it, or over for any other reason."""
    return code in (cp_model.OPTIMAL, cp_model.INFEASIBLE) or _over(shared, deadline)


def _over(shared: _Shared, deadline: float) -> bool:
    """Stopped, failed, out of time, or nothing to improve from (none yet, or proven by the bound)."""
    if shared.stop.is_set() or shared.error is not None:
        return True
    incumbent = shared.incumbent
    return incumbent is None or shared.bound >= incumbent.value or time.monotonic() >= deadline - 0.05


def _full_model(
    shop: ShopModel,
    model: cp_model.CpModel,
    settings: SolverSettings,
    shared: _Shared,
    deadline: float,
    least: float,
    stall: float,
) -> cp_model.CpSolverStatus:
    """CP-SAT on `model` with every worker until the deadline or, after `least` seconds, a stall."""
    full = cp_model.CpSolver()
    parameters = full.parameters
    parameters.num_workers = max(1, settings.workers)
    parameters.random_seed = settings.seed
    parameters.log_search_progress = settings.log
    if len(model.proto.constraints) > LARGE_MODEL:
        # Probing a model this size takes seconds before the first solution; the search does without.
        parameters.cp_model_probing_level = 0
    parameters.max_time_in_seconds = max(0.01, deadline - time.monotonic())
    solved = threading.Event()
    watch = threading.Thread(
        target=_leave_when_stalled,
        args=(full, shared, time.monotonic(), least, stall, solved),
        name="full-watch",
        daemon=True,
    )
    watch.start()
    try:
        code = full.solve(model, _Reporter(shop, shared))
    finally:
        solved.set()
        watch.join()
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = Incumbent(
            round(full.objective_value),
            shop.placements(full),
            list(full.response_proto.solution),
            full.value(shop.flow),
        )
        shared.offer(found, full.best_objective_bound)
    return code


def _leave_when_stalled(
    full: cp_model.CpSolver, shared: _Shared, phase_started: float, least: float, stall: float, solved: threading.Event
) -> None:
    """Stop the full-model solve once it has run `least` seconds and gone `stall` without a better schedule.

    The stop is repeated until the solve returns: one sent before CP-SAT has started would be lost.
    """
    while not solved.wait(0.05):
        if _stalled(shared, phase_started, least, stall):
            full.stop_search()


def _stalled(shared: _Shared, phase_started: float, least: float, stall: float) -> bool:
    now = time.monotonic()
    return now - phase_started >= least and now - shared.improved_at >= stall


def _neighbourhoods(
    searches: list[NeighbourhoodSearch],
    shared: _Shared,
    deadline: float,
    least: float,
    stall: float | None,
) -> None:
    """The search loops, one thread each, until the deadline or, when `stall` is given, until they stall."""
    phase_started = time.monotonic()
    threads = [
        threading.Thread(
            target=_loop,
            args=(search, shared, deadline, phase_started, least, stall),
            name=f"lns-{number}",
            daemon=True,
        )
        for number, search in enumerate(searches)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _loop(
    search: NeighbourhoodSearch,
    shared: _Shared,
    deadline: float,
    phase_started: float,
    least: float,
    stall: float | None,
) -> None:
    while time.monotonic() < deadline - 0.02 and not shared.stop.is_set():
        incumbent = shared.incumbent
        if incumbent is None or shared.bound >= incumbent.value:
            return
        if stall is not None and _stalled(shared, phase_started, least, stall):
            return
        try:
            found = search.step(incumbent, deadline)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            shared.error = error
            shared.stop.set()
            return
        if found is not None:
            shared.offer(found)
