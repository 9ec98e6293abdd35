"""One objective stage: CP-SAT on the full model, then the neighbourhood search on every worker.

CP-SAT first runs on the whole model with all the workers: that closes small instances outright
and sets the lower bound. It keeps the whole model for at least FULL_SHARE of the stage and for
as long after that as it keeps finding better schedules; once it has gone FULL_STALL_SHARE of the
stage without one, each worker runs its own neighbourhood-search loop (`lns`), one-worker CP-SAT
solves on parts of the schedule, all sharing one incumbent. (Measured on the benchmark
instances with two workers, this did better than keeping one worker on the full model beside
one search loop. Leaving the full model at a fixed 30 % cost most on la34 and la36, where
CP-SAT's own search was still improving; see docs/benchmarks.md for both variants.)
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

from .cpsat import Expr, ShopModel
from .lns import Incumbent, NeighbourhoodSearch
from .model import SolveProgress, SolverSettings, SolveStatus

ProgressCallback = Callable[[SolveProgress], bool | None]

# CP-SAT on the full model first, with every worker: it closes small instances and sets the bound.
FULL_SHARE = 0.3  # of the stage, at least
FULL_STALL_SHARE = 0.1  # of the stage without a better schedule, after FULL_SHARE: on to the neighbourhoods
FULL_MIN_SECONDS = 1.0
LARGE_MODEL = 20_000  # constraints

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
    """Minimise `objective` on `shop.model` for up to `seconds`, from `start` (also the model's hint)."""
    stage_started = time.monotonic()
    deadline = stage_started + seconds
    shop.model.minimize(objective)
    shared = _Shared(name, progress, started)
    if start is not None:
        shared.offer(start)
    full = cp_model.CpSolver()
    parameters = full.parameters
    parameters.num_workers = max(1, settings.workers)
    parameters.random_seed = settings.seed
    parameters.log_search_progress = settings.log
    if len(shop.model.proto.constraints) > LARGE_MODEL:
        # Probing a model this size takes seconds before the first solution; the search does without.
        parameters.cp_model_probing_level = 0
    parameters.max_time_in_seconds = max(0.01, seconds)
    solved = threading.Event()
    watch = threading.Thread(
        target=_leave_when_stalled, args=(full, shared, stage_started, seconds, solved), name="full-watch", daemon=True
    )
    watch.start()
    try:
        code = full.solve(shop.model, _Reporter(shop, shared))
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
    closed = code in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    if shared.incumbent is not None and not closed and not shared.stop.is_set() and time.monotonic() < deadline - 0.05:
        threads = [
            threading.Thread(
                target=_neighbourhoods,
                args=(NeighbourhoodSearch(shop, objective, settings.seed + number), shared, deadline),
                name=f"lns-{number}",
                daemon=True,
            )
            for number in range(max(1, settings.workers))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
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


def _leave_when_stalled(
    full: cp_model.CpSolver, shared: _Shared, stage_started: float, seconds: float, solved: threading.Event
) -> None:
    """Stop the full-model solve once it has had its share and stopped improving.

    The stop is repeated until the solve returns: one sent before CP-SAT has started would be lost.
    """
    least = max(FULL_MIN_SECONDS, seconds * FULL_SHARE)
    stall = seconds * FULL_STALL_SHARE
    while not solved.wait(0.05):
        now = time.monotonic()
        if now - stage_started >= least and now - shared.improved_at >= stall:
            full.stop_search()


def _neighbourhoods(search: NeighbourhoodSearch, shared: _Shared, deadline: float) -> None:
    while time.monotonic() < deadline - 0.02 and not shared.stop.is_set():
        incumbent = shared.incumbent
        if incumbent is None or shared.bound >= incumbent.value:
            return
        try:
            found = search.step(incumbent, deadline)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            shared.error = error
            shared.stop.set()
            return
        if found is not None:
            shared.offer(found)
