"""The solver on small problems with known answers: optimal makespans and exact calendar, frozen,
changeover, alternative and due-date results."""

from __future__ import annotations

from apps.scheduling.benchmarks import parse_fjsp, parse_jssp, to_problem
from apps.scheduling.solver import (
    Fixed,
    Objective,
    SetupMatrix,
    SolverSettings,
    SolveStatus,
    Straddle,
    solve,
    validate_schedule,
)

from .shop import DAY, FT06, MAKESPAN_FIRST, QUICK, TINY_FJSP, chain, machine, op, problem, slots


def test_ft06_is_solved_to_its_optimum() -> None:
    instance = to_problem(parse_jssp(FT06, "ft06"))
    result = solve(instance, QUICK)
    assert result.status is SolveStatus.OPTIMAL
    assert (result.objective, result.best_bound, result.gap) == (55, 55, 0.0)
    assert result.values[Objective.MAKESPAN] == 55
    assert result.source == "cp-sat"
    assert result.schedule is not None and validate_schedule(instance, result.schedule) == []


def test_a_small_flexible_job_shop_is_solved_to_its_optimum() -> None:
    instance = to_problem(parse_fjsp(TINY_FJSP, "tiny"))
    result = solve(instance, QUICK)
    assert result.status is SolveStatus.OPTIMAL
    assert result.values[Objective.MAKESPAN] == 9
    assert result.schedule is not None and validate_schedule(instance, result.schedule) == []


# Minute 0 is Friday 00:00; the machine works 08:00-16:00 on Friday and on Monday.
FRIDAY = (8 * 60, 16 * 60)
MONDAY = (3 * DAY + 8 * 60, 3 * DAY + 16 * 60)


def test_a_job_released_after_the_friday_shift_waits_for_monday() -> None:
    shop = problem([machine("laser", FRIDAY, MONDAY)], [chain("J1", op("10", ("laser", 60)), release=17 * 60)])
    result = solve(shop, MAKESPAN_FIRST)
    assert result.status is SolveStatus.OPTIMAL
    assert slots(result.schedule) == {("J1", "10"): ("laser", MONDAY[0], MONDAY[0] + 60)}


def test_an_operation_longer_than_the_rest_of_the_shift_pauses_over_the_weekend() -> None:
    shop = problem([machine("laser", FRIDAY, MONDAY)], [chain("J1", op("10", ("laser", 120)), release=15 * 60)])
    result = solve(shop, MAKESPAN_FIRST)
    # 60 minutes on Friday 15:00-16:00, the other 60 on Monday 08:00-09:00.
    assert slots(result.schedule) == {("J1", "10"): ("laser", 15 * 60, MONDAY[0] + 60)}


def test_an_operation_that_may_not_straddle_waits_for_a_window_it_fits() -> None:
    shop = problem(
        [machine("laser", FRIDAY, MONDAY)],
        [chain("J1", op("10", ("laser", 120)), release=15 * 60)],
        straddle=Straddle.WITHIN_WINDOW,
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert slots(result.schedule) == {("J1", "10"): ("laser", MONDAY[0], MONDAY[0] + 120)}


def test_precedence_across_a_night_with_two_machines() -> None:
    # Cut until 15:30 on Friday, bend the rest of Friday's shift and Monday morning.
    shop = problem(
        [machine("laser", FRIDAY, MONDAY), machine("brake", FRIDAY, MONDAY)],
        [chain("J1", op("10", ("laser", 7 * 60 + 30)), op("20", ("brake", 60)))],
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert slots(result.schedule) == {
        ("J1", "10"): ("laser", 8 * 60, 15 * 60 + 30),
        ("J1", "20"): ("brake", 15 * 60 + 30, MONDAY[0] + 30),
    }


def test_frozen_operations_stay_and_others_plan_around_them() -> None:
    shop = problem(
        [machine("laser"), machine("brake")],
        [
            chain("J1", op("10", ("laser", 60), fixed=Fixed("laser", 30, 90)), op("20", ("brake", 20))),
            chain("J2", op("10", ("laser", 50))),
            # Frozen without an end: it takes its 40 minutes on the brake from minute 5.
            chain("J3", op("10", ("brake", 40), fixed=Fixed("brake", 5))),
        ],
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert result.status is SolveStatus.OPTIMAL
    assert slots(result.schedule) == {
        ("J1", "10"): ("laser", 30, 90),
        ("J1", "20"): ("brake", 90, 110),
        ("J2", "10"): ("laser", 90, 140),  # 50 minutes do not fit before the frozen 30
        ("J3", "10"): ("brake", 5, 45),
    }


LASER_MATRIX = {"laser": SetupMatrix({("steel-3", "alu-2"): 30, ("alu-2", "steel-3"): 45})}


def test_changeovers_group_the_same_material() -> None:
    shop = problem(
        [machine("laser", group="laser", initial="steel-3")],
        [
            chain("A1", op("10", ("laser", 10), setup_category="steel-3")),
            chain("B1", op("10", ("laser", 10), setup_category="alu-2")),
            chain("A2", op("10", ("laser", 10), setup_category="steel-3")),
        ],
        setup_matrices=LASER_MATRIX,
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert result.status is SolveStatus.OPTIMAL
    assert result.values == {Objective.MAKESPAN: 60, Objective.TOTAL_SETUP: 30, Objective.WEIGHTED_TARDINESS: 0}
    placed = slots(result.schedule)
    assert placed[("B1", "10")] == ("laser", 50, 60)
    assert {placed[("A1", "10")][1], placed[("A2", "10")][1]} == {0, 10}
    setups = {(row.job, row.operation): row.setup for row in result.schedule.operations}  # type: ignore[union-attr]
    assert setups[("B1", "10")] == 30


def test_a_changeover_is_done_in_working_time_across_a_break() -> None:
    # steel -> alu takes 30 working minutes: 20 before the break and 10 after it.
    shop = problem(
        [machine("laser", (0, 40), (100, 200), group="laser")],
        [
            chain(
                "J1", op("10", ("laser", 20), setup_category="steel-3"), op("20", ("laser", 20), setup_category="alu-2")
            )
        ],
        horizon=200,
        setup_matrices=LASER_MATRIX,
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert slots(result.schedule) == {("J1", "10"): ("laser", 0, 20), ("J1", "20"): ("laser", 110, 130)}
    assert result.values[Objective.TOTAL_SETUP] == 30


def test_alternative_machines_share_the_load() -> None:
    # Each part takes 100 minutes on the old laser and 60 on the new one.
    shop = problem(
        [machine("old"), machine("new")],
        [chain(f"J{n}", op("10", ("old", 100), ("new", 60))) for n in (1, 2)],
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert result.status is SolveStatus.OPTIMAL
    assert result.values[Objective.MAKESPAN] == 100
    assert sorted(machine_id for machine_id, _, _ in slots(result.schedule).values()) == ["new", "old"]


def test_due_dates_and_weights_decide_the_order() -> None:
    # Either job late costs: J1 first makes J2 50 minutes late (x3 = 150); J2 first makes J1 60 late (x1).
    shop = problem(
        [machine("brake")],
        [
            chain("J1", op("10", ("brake", 60)), due=60, weight=1),
            chain("J2", op("10", ("brake", 60)), due=70, weight=3),
        ],
    )
    result = solve(shop, QUICK)
    assert result.status is SolveStatus.OPTIMAL
    assert [stage.objective for stage in result.stages] == ["weighted_tardiness", "makespan"]
    assert (result.objective, result.best_bound) == (60, 60)
    assert result.values == {Objective.WEIGHTED_TARDINESS: 60, Objective.MAKESPAN: 120, Objective.TOTAL_SETUP: 0}
    assert slots(result.schedule) == {("J1", "10"): ("brake", 60, 120), ("J2", "10"): ("brake", 0, 60)}


def test_the_user_chooses_the_objective_order_or_weights() -> None:
    # On time for J2 means bending it first and J1's long laser work starts late; the shortest plan makes J2 late.
    shop = problem(
        [machine("brake"), machine("laser")],
        [
            chain("J1", op("10", ("brake", 10)), op("20", ("laser", 100)), due=1000),
            chain("J2", op("10", ("brake", 50)), due=50, weight=5),
        ],
    )
    tardiness_first = solve(shop, QUICK)
    assert tardiness_first.values == {
        Objective.WEIGHTED_TARDINESS: 0,
        Objective.MAKESPAN: 160,
        Objective.TOTAL_SETUP: 0,
    }
    order = (Objective.MAKESPAN, Objective.WEIGHTED_TARDINESS)
    makespan_first = solve(shop, SolverSettings(time_limit_s=2, workers=1, objectives=order))
    assert [stage.objective for stage in makespan_first.stages] == ["makespan", "weighted_tardiness"]
    assert makespan_first.values[Objective.MAKESPAN] == 110
    assert makespan_first.values[Objective.WEIGHTED_TARDINESS] == 50
    weights = {Objective.MAKESPAN: 2, Objective.WEIGHTED_TARDINESS: 1}
    weighted = solve(shop, SolverSettings(time_limit_s=2, workers=1, weights=weights))
    assert [stage.objective for stage in weighted.stages] == ["weighted"]
    assert (weighted.objective, weighted.values[Objective.MAKESPAN]) == (270, 110)


def test_a_link_between_jobs_is_kept() -> None:
    from apps.scheduling.solver import Link, OperationRef

    shop = problem(
        [machine("weld"), machine("assembly")],
        [chain("SUB", op("10", ("weld", 45))), chain("MAIN", op("10", ("assembly", 30)))],
        links=(Link(OperationRef("SUB", "10"), OperationRef("MAIN", "10")),),
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert slots(result.schedule) == {("SUB", "10"): ("weld", 0, 45), ("MAIN", "10"): ("assembly", 45, 75)}


def test_zero_minute_operations_take_no_machine_time() -> None:
    # Hurink's orb7 has operations of zero minutes; so do inspection sign-offs in a shop.
    shop = problem(
        [machine("laser", FRIDAY, MONDAY), machine("brake", FRIDAY, MONDAY)],
        [
            chain("J1", op("10", ("laser", 480)), op("20", ("brake", 0)), op("30", ("brake", 60))),
            chain("J2", op("10", ("brake", 0)), op("20", ("laser", 30))),
        ],
    )
    result = solve(shop, MAKESPAN_FIRST)
    assert result.status is SolveStatus.OPTIMAL
    placed = slots(result.schedule)
    assert placed[("J1", "20")] == ("brake", MONDAY[0], MONDAY[0])
    assert placed[("J1", "30")] == ("brake", MONDAY[0], MONDAY[0] + 60)
    assert placed[("J2", "10")][1] == placed[("J2", "10")][2]
    assert result.values[Objective.MAKESPAN] == MONDAY[0] + 60
    assert result.schedule is not None and validate_schedule(shop, result.schedule) == []
