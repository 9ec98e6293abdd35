"""How a stage moves between CP-SAT's full model and the neighbourhood loops (`search`)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import cast

import pytest
from ortools.sat.python import cp_model

from apps.scheduling.benchmarks import parse_fjsp, parse_jssp, to_problem
from apps.scheduling.solver import Rule, build_schedule, planning, solve
from apps.scheduling.solver import search as stage_search
from apps.scheduling.solver.check import check_problem
from apps.scheduling.solver.cpsat import ShopModel
from apps.scheduling.solver.lns import Incumbent, NeighbourhoodSearch
from apps.scheduling.solver.model import Objective, Problem, SolverSettings, SolveStatus
from apps.scheduling.solver.search import (
    FULL_SHARE,
    STALL_SHARE,
    StageSearch,
    _leave_when_stalled,
    _loop,
    _Shared,
    own_search_only,
    restarts_only,
    rule_hint_helps,
    search_stage,
)

from .shop import FT06, TINY_FJSP

MAKESPAN = (Objective.MAKESPAN,)
STAGE = 100.0  # seconds: the watcher's rules scale with the stage
LEAST, STALL = STAGE * FULL_SHARE, STAGE * STALL_SHARE


class FakeSolver:
    def __init__(self) -> None:
        self.stops = 0

    def stop_search(self) -> None:
        self.stops += 1


def watch(phase_age: float, since_improvement: float, watch_for: float = 0.4) -> int:
    """How many stops the watcher sent within `watch_for` seconds of a full-model phase in the given state."""
    now = time.monotonic()
    shared = _Shared("makespan", None, now - phase_age)
    shared.improved_at = now - since_improvement
    solver = FakeSolver()
    solved = threading.Event()
    thread = threading.Thread(
        target=_leave_when_stalled,
        args=(cast(cp_model.CpSolver, solver), shared, now - phase_age, LEAST, STALL, solved),
    )
    thread.start()
    time.sleep(watch_for)
    solved.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    return solver.stops


def test_the_full_model_keeps_its_share_even_without_a_better_schedule() -> None:
    assert watch(phase_age=LEAST / 2, since_improvement=LEAST / 2) == 0


def test_the_full_model_keeps_running_while_it_improves() -> None:
    assert watch(phase_age=STAGE * 0.8, since_improvement=STALL / 2) == 0


def test_the_full_model_is_left_once_it_stalls_after_its_share() -> None:
    # Repeated until the solve returns, so a stop sent before CP-SAT started is not lost.
    assert watch(phase_age=STAGE * 0.5, since_improvement=STALL * 1.5) >= 2


class CountingSearch:
    """A neighbourhood search that never finds anything, and counts its steps."""

    def __init__(self) -> None:
        self.steps = 0

    def step(self, incumbent: Incumbent, deadline: float) -> Incumbent | None:
        self.steps += 1
        time.sleep(0.001)
        return None


def _stalled_shared() -> _Shared:
    shared = _Shared("makespan", None, time.monotonic())
    shared.offer(Incumbent(10, {}, []))
    shared.improved_at = time.monotonic() - 60
    return shared


def test_a_search_loop_keeps_its_turn_then_hands_back_once_it_stalls() -> None:
    search, shared = CountingSearch(), _stalled_shared()
    began = time.monotonic()
    _loop(cast(NeighbourhoodSearch, search), shared, began + 30, began, least=0.2, stall=0.1)
    assert 0.2 <= time.monotonic() - began < 5
    assert search.steps > 0


def test_a_search_loop_without_a_stall_rule_runs_to_the_deadline() -> None:
    search, shared = CountingSearch(), _stalled_shared()
    began = time.monotonic()
    _loop(cast(NeighbourhoodSearch, search), shared, began + 0.5, began, least=0.0, stall=None)
    assert time.monotonic() - began >= 0.45


def _ft06_stage() -> tuple[ShopModel, Incumbent]:
    checked = check_problem(to_problem(parse_jssp(FT06, "ft06")))
    schedule = build_schedule(checked, Rule.SPT)
    assert schedule is not None
    shop = ShopModel(checked, checked.horizon)
    vector = shop.hint(schedule)
    assert vector is not None
    shop.model.minimize(shop.makespan)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.solve(shop.model)
    incumbent = Incumbent(round(solver.objective_value), shop.placements(solver), list(solver.response_proto.solution))
    return shop, incumbent


class Turns:
    """Stand-ins for both searches: they find nothing, and record whose turn it was and what it was given."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, object]] = []
        self.least: list[object] = []  # how long each full-model turn runs before a stall may end it

    def full_model(self, shop: ShopModel, model: cp_model.CpModel, *args: object) -> cp_model.CpSolverStatus:
        self.turns.append(("full", model))
        self.least.append(args[-2])
        time.sleep(0.02)
        return cp_model.FEASIBLE

    def neighbourhoods(
        self, searches: list[NeighbourhoodSearch], shared: _Shared, deadline: float, **rule: object
    ) -> None:
        self.turns.append(("loops", rule["stall"]))
        time.sleep(0.02)


def _stage_with_stand_ins(
    monkeypatch: pytest.MonkeyPatch, seconds: float, **constants: int
) -> tuple[Turns, ShopModel, Incumbent, StageSearch]:
    """One makespan stage on ft06 with both searches replaced by `Turns`, and the module's constants as given."""
    shop, incumbent = _ft06_stage()
    turns = Turns()
    monkeypatch.setattr(stage_search, "_full_model", turns.full_model)
    monkeypatch.setattr(stage_search, "_neighbourhoods", turns.neighbourhoods)
    for name, value in constants.items():
        monkeypatch.setattr(stage_search, name, value)
    settings = SolverSettings(time_limit_s=1.0, workers=2)
    found = search_stage(shop, shop.makespan, "makespan", settings, seconds, None, time.monotonic(), incumbent)
    return turns, shop, incumbent, found


def test_a_stage_goes_back_to_the_full_model_from_the_best_schedule_when_the_loops_stall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ft06 would keep CP-SAT's own search.
    turns, shop, incumbent, found = _stage_with_stand_ins(monkeypatch, 0.5, SMALL_JOB_SHOP=0)
    assert found.incumbent == incumbent
    kinds = [kind for kind, _ in turns.turns]
    assert kinds[:4] == ["full", "loops", "full", "loops"]
    assert all(earlier != later for earlier, later in zip(kinds, kinds[1:], strict=False))
    first, again = turns.turns[0][1], turns.turns[2][1]
    assert first is shop.model
    assert isinstance(again, cp_model.CpModel) and again is not shop.model
    # The full model starts again from the best schedule, and looks only for one at least as good.
    assert list(again.proto.solution_hint.values) == incumbent.solution
    assert len(again.proto.constraints) == len(shop.model.proto.constraints) + 1
    assert turns.turns[1][1] == pytest.approx(0.5 * STALL_SHARE)


@pytest.mark.parametrize("large_job_shop", [900, 0], ids=["small-job-shop", "large-job-shop"])
def test_a_large_model_stays_with_the_loops_once_it_has_left_the_full_model(
    monkeypatch: pytest.MonkeyPatch, large_job_shop: int
) -> None:
    # Even a large job shop: restarting a model too large to presolve again quickly is not worth it.
    turns, shop, _, _ = _stage_with_stand_ins(
        monkeypatch, 0.3, LARGE_MODEL=10, SMALL_JOB_SHOP=0, LARGE_JOB_SHOP=large_job_shop
    )
    assert turns.turns == [("full", shop.model), ("loops", None)]


def test_a_stage_that_alternates_still_reaches_the_optimum() -> None:
    shop, incumbent = _ft06_stage()
    settings = SolverSettings(time_limit_s=3.0, workers=2)
    found = search_stage(shop, shop.makespan, "makespan", settings, 3.0, None, time.monotonic(), incumbent)
    assert found.incumbent is not None and found.incumbent.value == 55


def test_a_small_job_shop_keeps_cp_sat_for_the_whole_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    turns, shop, _, _ = _stage_with_stand_ins(monkeypatch, 0.3)
    # The stand-in returns at once: the real solve runs until the stage is over, never stopped by a stall.
    assert turns.turns[0] == ("full", shop.model)
    assert turns.least[0] == 0.3


def test_a_large_job_shop_restarts_the_full_model_from_the_best_schedule_without_the_loops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ft06 stands in for a 50x20.
    turns, shop, incumbent, found = _stage_with_stand_ins(monkeypatch, 0.3, SMALL_JOB_SHOP=0, LARGE_JOB_SHOP=0)
    assert found.incumbent == incumbent
    kinds = [kind for kind, _ in turns.turns]
    assert len(kinds) >= 3 and set(kinds) == {"full"}
    again = turns.turns[1][1]
    assert isinstance(again, cp_model.CpModel) and again is not shop.model
    assert list(again.proto.solution_hint.values) == incumbent.solution
    # Each restart runs at least, and stops after, a stall's length without a better schedule.
    assert turns.least[1:] == [pytest.approx(0.3 * STALL_SHARE)] * (len(kinds) - 1)


def _job_shop(jobs: int, machines: int) -> str:
    rows = [" ".join(f"{(j + k) % machines} {1 + (j * k) % 9}" for k in range(machines)) for j in range(jobs)]
    return "\n".join([f"{jobs} {machines}", *rows])


@pytest.mark.parametrize(
    ("instance", "alone"),
    [
        (to_problem(parse_jssp(FT06, "ft06")), True),
        (to_problem(parse_jssp(_job_shop(15, 15), "15x15")), True),
        (to_problem(parse_jssp(_job_shop(15, 10), "15x10")), True),
        (to_problem(parse_jssp(_job_shop(20, 15), "20x15")), True),
        (to_problem(parse_jssp(_job_shop(21, 15), "21x15")), False),  # 315 operations
        (to_problem(parse_jssp(_job_shop(20, 10), "20x10")), False),  # two jobs a machine
        (to_problem(parse_fjsp(TINY_FJSP, "tiny")), False),  # most operations have two machines
    ],
    ids=["ft06", "15x15", "15x10", "20x15", "21x15", "20x10", "flexible"],
)
def test_which_shops_keep_cp_sat_alone(instance: object, alone: bool) -> None:
    assert own_search_only(check_problem(instance)) is alone  # type: ignore[arg-type]


def _flexible_shop(jobs: int, machines: int) -> str:
    """Every operation may run on either of two machines."""
    rows = [
        f"{machines} "
        + " ".join(
            f"2 {(j + k) % machines + 1} {1 + (j * k) % 9} {(j + k + 1) % machines + 1} {2 + j % 7}"
            for k in range(machines)
        )
        for j in range(jobs)
    ]
    return "\n".join([f"{jobs} {machines} 2", *rows])


@pytest.mark.parametrize(
    ("instance", "restarts"),
    [
        (to_problem(parse_jssp(_job_shop(50, 20), "50x20")), True),
        (to_problem(parse_jssp(_job_shop(50, 15), "50x15")), False),  # 750 operations: the loops gain
        (to_problem(parse_jssp(_job_shop(30, 20), "30x20")), False),
        (to_problem(parse_jssp(FT06, "ft06")), False),
        (to_problem(parse_fjsp(_flexible_shop(50, 20), "flexible")), False),  # two machines an operation
    ],
    ids=["50x20", "50x15", "30x20", "ft06", "flexible-50x20"],
)
def test_which_shops_restart_the_full_model_without_the_loops(instance: object, restarts: bool) -> None:
    assert restarts_only(check_problem(instance)) is restarts  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("instance", "hinted"),
    [
        (to_problem(parse_jssp(_job_shop(100, 20), "100x20")), False),
        (to_problem(parse_jssp(_job_shop(50, 20), "50x20")), True),  # 1,000 operations: the hint helps
        (to_problem(parse_fjsp(_flexible_shop(100, 20), "flexible")), True),
    ],
    ids=["100x20", "50x20", "flexible-100x20"],
)
def test_which_shops_give_cp_sat_the_rules_schedule_as_its_hint(instance: object, hinted: bool) -> None:
    assert rule_hint_helps(check_problem(instance)) is hinted  # type: ignore[arg-type]


def _first_stage(
    monkeypatch: pytest.MonkeyPatch, problem: Problem, objectives: tuple[Objective, ...], **constants: int
) -> tuple[list[int], Incumbent]:
    """What the first stage's search is given: the model's hint (variable indexes) and the schedule it starts from."""
    given: list[tuple[list[int], Incumbent]] = []

    def recorded(shop: ShopModel, *args: object) -> StageSearch:
        start = args[-1]
        assert isinstance(start, Incumbent)
        given.append((list(shop.model.proto.solution_hint.vars), start))
        return StageSearch(SolveStatus.FEASIBLE, start, None, True, 0.0)

    monkeypatch.setattr(planning, "search_stage", recorded)
    for name, value in constants.items():
        monkeypatch.setattr(stage_search, name, value)
    solve(problem, SolverSettings(time_limit_s=1.0, workers=2, objectives=objectives))
    return given[0]


def test_a_very_large_job_shop_starts_from_the_rules_schedule_without_it_as_cp_sats_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ft06 = to_problem(parse_jssp(FT06, "ft06"))
    hint, start = _first_stage(monkeypatch, ft06, MAKESPAN)
    assert hint and start.value > 0
    # ft06 stands in for a 100x20: the stage still starts from the rule's schedule, so it is never worse.
    hint, unhinted_start = _first_stage(monkeypatch, ft06, MAKESPAN, UNHINTED_JOB_SHOP=0)
    assert hint == []
    assert unhinted_start.value == start.value and unhinted_start.solution == start.solution


def test_the_rules_schedule_stays_the_hint_when_tardiness_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # Measured only on the makespan: due dates keep the hint even on the stand-in for a 100x20.
    ft06 = to_problem(parse_jssp(FT06, "ft06"))
    dated = replace(ft06, jobs=tuple(replace(job, due=30) for job in ft06.jobs))
    hint, start = _first_stage(monkeypatch, dated, (Objective.WEIGHTED_TARDINESS, *MAKESPAN), UNHINTED_JOB_SHOP=0)
    assert hint and start.value > 0
