"""The CP-SAT model's inner workings: the rule hint is a complete solution, the neighbourhood search
keeps schedules valid, and a schedule the validator rejects is never returned."""

from __future__ import annotations

import time

import pytest
from ortools.sat.python import cp_model

from apps.scheduling.benchmarks import parse_jssp, to_problem
from apps.scheduling.solver import (
    Objective,
    Rule,
    Schedule,
    SetupMatrix,
    Straddle,
    build_schedule,
    planning,
    solve,
    validate_schedule,
)
from apps.scheduling.solver.check import check_problem
from apps.scheduling.solver.cpsat import ShopModel
from apps.scheduling.solver.dispatch import schedule_from_placements
from apps.scheduling.solver.lns import Incumbent, NeighbourhoodSearch

from .shop import DAY, FT06, QUICK, chain, machine, op, problem

SHIFTS = tuple((day * DAY + a, day * DAY + b) for day in range(4) for a, b in ((360, 600), (615, 840), (870, 1320)))


def _calendar_shop(straddle: Straddle = Straddle.PAUSE) -> object:
    matrix = SetupMatrix({("st-3", "al-2"): 25, ("al-2", "st-3"): 40}, default=10)
    return problem(
        [
            machine("laser-1", *SHIFTS, group="laser", initial="st-3"),
            machine("laser-2", *SHIFTS[:6], group="laser"),
            machine("brake", *SHIFTS),
        ],
        [
            chain(
                f"J{n}",
                op(
                    "10",
                    ("laser-1", 90 + 37 * n % 200),
                    ("laser-2", 70 + 41 * n % 180),
                    setup_category=("st-3", "al-2", "ss-1")[n % 3],
                ),
                op("15", ("laser-1", 0), ("brake", 0)),  # a zero-minute sign-off
                op("20", ("brake", 60 + 53 * n % 240)),
                due=DAY + 200 * n,
                weight=1 + n % 3,
                release=30 * n,
            )
            for n in range(8)
        ],
        horizon=4 * DAY,
        setup_matrices={"laser": matrix},
        straddle=straddle,
    )


@pytest.mark.parametrize("straddle", list(Straddle))
def test_the_rule_hint_is_a_complete_feasible_solution_of_the_model(straddle: Straddle) -> None:
    shop = _calendar_shop(straddle)
    checked = check_problem(shop)  # type: ignore[arg-type]
    for rule in Rule:
        schedule = build_schedule(checked, rule)
        assert schedule is not None and validate_schedule(shop, schedule) == []  # type: ignore[arg-type]
        model = ShopModel(checked, checked.horizon)
        model.hint(schedule)
        model.model.minimize(model.expression(Objective.WEIGHTED_TARDINESS))
        solver = cp_model.CpSolver()
        solver.parameters.fix_variables_to_their_hinted_value = True
        solver.parameters.num_workers = 1
        assert solver.solve(model.model) == cp_model.OPTIMAL, rule
        # Reading the solution back gives the rule's schedule.
        assert schedule_from_placements(checked, model.placements(solver)) == schedule


def test_the_solver_improves_on_every_rule_with_calendars_and_changeovers() -> None:
    shop = _calendar_shop()
    result = solve(shop, QUICK)  # type: ignore[arg-type]
    assert result.schedule is not None and validate_schedule(shop, result.schedule) == []  # type: ignore[arg-type]
    assert result.source == "cp-sat"
    best = min(tuple(values[o] for o in QUICK.objectives) for values in result.rule_values.values())
    assert tuple(result.values[o] for o in QUICK.objectives) <= best


def test_neighbourhood_steps_keep_schedules_valid_and_never_worse() -> None:
    instance = to_problem(parse_jssp(FT06, "ft06"))
    checked = check_problem(instance)
    schedule = build_schedule(checked, Rule.SPT)
    assert schedule is not None
    shop = ShopModel(checked, checked.horizon)
    shop.hint(schedule)
    shop.model.minimize(shop.makespan)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.solve(shop.model)
    incumbent = Incumbent(round(solver.objective_value), shop.placements(solver), list(solver.response_proto.solution))
    search = NeighbourhoodSearch(shop, shop.makespan, seed=3)
    values = [incumbent.value]
    for _ in range(12):
        found = search.step(incumbent, time.monotonic() + 5)
        if found is not None:
            assert found.value <= incumbent.value
            assert validate_schedule(instance, schedule_from_placements(checked, found.placements)) == []
            incumbent = found
            values.append(found.value)
    assert values[-1] < values[0] == 94


def test_a_schedule_the_validator_rejects_is_never_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    instance = to_problem(parse_jssp(FT06, "ft06"))

    def broken(*args: object) -> Schedule:
        good = schedule_from_placements(*args)  # type: ignore[arg-type]
        first = good.operations[0]
        shifted = type(first)(first.job, first.operation, first.machine, first.start + 1, first.end)
        return Schedule((shifted, *good.operations[1:]))

    monkeypatch.setattr(planning, "schedule_from_placements", broken)
    result = solve(instance, QUICK)
    assert result.source.startswith("rule:")
    assert result.messages and "wrong_duration" in result.messages[0]
    assert result.schedule is not None and validate_schedule(instance, result.schedule) == []
