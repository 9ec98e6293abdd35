"""The shop-scale path: due-date tuning, sub-problem search, frozen-aware circuits, and two regressions."""

from __future__ import annotations

import random
import time
from dataclasses import replace

import pytest
from ortools.sat.python import cp_model

from apps.scheduling.solver import (
    Fixed,
    Job,
    Objective,
    Problem,
    Rule,
    SetupMatrix,
    SolveProgress,
    SolverSettings,
    SolveStatus,
    planning,
    solve,
    validate_schedule,
)
from apps.scheduling.solver import parts as parts_module
from apps.scheduling.solver import tuning as tuning_module
from apps.scheduling.solver.bounds import tardiness_lower_bound
from apps.scheduling.solver.check import check_problem
from apps.scheduling.solver.cpsat import ShopModel
from apps.scheduling.solver.dispatch import (
    build_schedule,
    left_shift,
    place_operations,
    placements_of,
    schedule_from_placements,
)
from apps.scheduling.solver.parts import circuit_arcs
from apps.scheduling.solver.tuning import tune_due_dates

from .shop import DAY, chain, machine, op

SETUPS = {"laser": SetupMatrix(default=5)}
TARDINESS = SolverSettings(time_limit_s=3.0, workers=1, objectives=(Objective.WEIGHTED_TARDINESS,))


def slots(schedule: object) -> dict[str, tuple[str, int, int]]:
    return {row.job: (row.machine, row.start, row.end) for row in schedule.operations}  # type: ignore[attr-defined]


def edd_trap() -> Problem:
    """EDD runs the long job first and makes the heavy short one late: 10 x 1 minute; the other order costs 2."""
    return Problem(
        machines=(machine("L1"),),
        jobs=(
            Job("long", (op("10", ("L1", 10)),), due=10, weight=1),
            Job("short", (op("10", ("L1", 2)),), due=11, weight=10),
        ),
        horizon=1_000,
    )


def test_due_date_tuning_pulls_the_late_job_forward() -> None:
    checked = check_problem(edd_trap())
    start = place_operations(checked, Rule.EDD)
    assert start is not None
    tuned = tune_due_dates(checked, Rule.EDD, start, deadline=float("inf"))
    assert tuned.weighted_tardiness == 2
    assert sorted(tuned.placements.values()) == [(0, 0, 2), (0, 2, 12)]


def test_due_date_tuning_starts_again_from_the_best_dates_when_it_stalls(monkeypatch: pytest.MonkeyPatch) -> None:
    """After STALL builds without a better schedule the next build starts from the best one's virtual dates.

    In the best schedule of the trap the short job is on time, so a build from the best dates
    relaxes its virtual date exactly as the build right after the best did (relaxing draws nothing).
    """
    checked = check_problem(edd_trap())
    start = place_operations(checked, Rule.EDD)
    assert start is not None
    built: list[tuple[list[int | None], int]] = []
    original = tuning_module.place_operations

    def spy(checked_: object, rule: Rule, due: list[int | None]) -> object:
        placements = original(checked_, rule, due)  # type: ignore[arg-type]
        built.append((list(due), tuning_module.weighted_tardiness(checked, placements)[0]))  # type: ignore[arg-type]
        return placements

    monkeypatch.setattr(tuning_module, "place_operations", spy)
    tuned = tune_due_dates(checked, Rule.EDD, start, deadline=float("inf"))
    best = next(number for number, (_, value) in enumerate(built, start=1) if value == tuned.weighted_tardiness == 2)
    assert tuned.builds == len(built) == best + tuning_module.PATIENCE  # it gives up on its own
    short = 1
    after_best = built[best][0][short]
    assert [built[best + k * tuning_module.STALL][0][short] for k in range(1, 4)] == [after_best] * 3


def test_planning_starts_from_the_tuned_schedule_when_it_beats_every_rule() -> None:
    result = solve(edd_trap(), TARDINESS)
    assert result.values[Objective.WEIGHTED_TARDINESS] == 2
    assert result.rule_values[Rule.EDD][Objective.WEIGHTED_TARDINESS] == 10
    assert slots(result.schedule) == {"short": ("L1", 0, 2), "long": ("L1", 2, 12)}


def test_planning_tunes_every_due_date_rule_and_keeps_the_best(monkeypatch: pytest.MonkeyPatch) -> None:
    """The best rule untuned is not always the best tuned, so each due-date rule gets its turn."""
    tuned: list[tuple[Rule, int]] = []

    def recorded(checked: object, rule: Rule, *args: object) -> object:
        found = tune_due_dates(checked, rule, *args)  # type: ignore[arg-type]
        tuned.append((rule, found.weighted_tardiness))
        return found

    monkeypatch.setattr(planning, "tune_due_dates", recorded)
    result = solve(edd_trap(), TARDINESS)
    assert {rule for rule, _ in tuned} == set(planning.DUE_DATE_RULES)
    assert result.values[Objective.WEIGHTED_TARDINESS] == min(value for _, value in tuned) == 2


def frozen_between() -> Problem:
    """Two frozen laser cuts at 10-20 and 40-50 (material X); P (X, from 15) fits between them, Q (Y) only after."""
    return Problem(
        machines=(machine("L1", (0, 1_000), group="laser"),),
        jobs=(
            Job("F1", (op("10", ("L1", 10), setup_category="X", fixed=Fixed("L1", 10, 20)),)),
            Job("F2", (op("10", ("L1", 10), setup_category="X", fixed=Fixed("L1", 40, 50)),)),
            Job("P", (op("10", ("L1", 10), setup_category="X"),), release=15, due=30, weight=1),
            Job("Q", (op("10", ("L1", 15), setup_category="Y"),), due=100, weight=1),
        ),
        horizon=1_000,
        setup_matrices=SETUPS,
    )


def test_circuit_with_frozen_operations_keeps_the_arcs_that_can_be_used() -> None:
    result = solve(frozen_between(), SolverSettings(time_limit_s=5.0, workers=1))
    assert result.status is SolveStatus.OPTIMAL
    assert slots(result.schedule) == {
        "F1": ("L1", 10, 20),
        "F2": ("L1", 40, 50),
        "P": ("L1", 20, 30),
        "Q": ("L1", 55, 70),
    }
    assert result.values == {Objective.WEIGHTED_TARDINESS: 0, Objective.MAKESPAN: 70, Objective.TOTAL_SETUP: 5}


def test_frozen_operations_prune_arcs_that_cannot_be_adjacent() -> None:
    shop = ShopModel(check_problem(frozen_between()), 1_000)
    names = {(arc.tail, arc.head) for arc in shop.arcs}
    # Operations: F1=0, F2=1, P=2, Q=3; -1 is the machine's start or end.
    assert (-1, 1) not in names  # F1 surely runs before F2: F2 is never first
    assert (-1, 2) not in names  # nor is P, which cannot start before minute 15
    assert (0, -1) not in names  # F2 surely runs after F1: F1 is never last
    assert (1, 0) not in names  # and never before it
    assert {(-1, 0), (-1, 3), (0, 1), (0, 2), (0, 3), (1, 2), (2, 1), (1, -1), (2, -1), (3, -1)} <= names


def test_hint_is_complete_with_frozen_operations_on_a_machine_with_setups() -> None:
    problem = frozen_between()
    checked = check_problem(problem)
    shop = ShopModel(checked, problem.horizon)
    schedule = build_schedule(checked, Rule.EDD)
    assert schedule is not None
    vector = shop.hint(schedule)
    assert vector is not None
    assert len(vector) == len(shop.model.proto.variables)


def test_list_scheduling_skips_a_frozen_operation_that_lies_in_a_break() -> None:
    """A frozen operation wholly in non-working time used to unsort the machine's timeline and cause overlaps."""
    problem = Problem(
        machines=(machine("M1", (0, 100), (200, 300)),),
        jobs=(
            Job("in-break", (op("10", ("M1", 0), fixed=Fixed("M1", 100, 200)),)),
            Job("frozen", (op("10", ("M1", 50), fixed=Fixed("M1", 200, 250)),)),
            Job("late-material", (op("10", ("M1", 50), release=200),)),
        ),
        horizon=300,
    )
    schedule = build_schedule(check_problem(problem), Rule.FIFO)
    assert schedule is not None
    assert slots(schedule)["late-material"] == ("M1", 250, 300)
    assert validate_schedule(problem, schedule) == []


def laser_shop(jobs: int) -> Problem:
    """One laser group of two machines, materials that cost a changeover, staggered due dates."""
    return Problem(
        machines=(machine("L1", group="laser"), machine("L2", group="laser")),
        jobs=tuple(
            Job(
                f"J{number:02}",
                (
                    op(
                        "10",
                        ("L1", 20 + 7 * (number % 5)),
                        ("L2", 25 + 7 * (number % 5)),
                        setup_category="steel" if number % 3 else "alu",
                    ),
                ),
                due=40 + 30 * (number // 2),
                weight=1 + number % 4,
            )
            for number in range(jobs)
        ),
        horizon=10_000,
        setup_matrices=SETUPS,
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_shop_with_too_many_changeover_arcs_is_planned_by_sub_problems(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """With two workers two lanes of steps share the schedule; either way the result validates."""
    problem = laser_shop(12)
    checked = check_problem(problem)
    assert circuit_arcs(checked) == 2 * 12 * 12
    monkeypatch.setattr(planning, "LARGE_CIRCUITS", 100)
    runs = []
    original = parts_module.PartsSearch.run

    def counted(self: parts_module.PartsSearch, *args: object, **kwargs: object) -> object:
        runs.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parts_module.PartsSearch, "run", counted)
    result = solve(problem, SolverSettings(time_limit_s=4.0, workers=workers))
    assert len(runs) == 1 and runs[0].steps > 0 and runs[0].lanes == workers
    assert result.schedule is not None
    assert validate_schedule(problem, result.schedule) == []
    best_rule = min(values[Objective.WEIGHTED_TARDINESS] for values in result.rule_values.values())
    assert result.values[Objective.WEIGHTED_TARDINESS] <= best_rule
    placed = placements_of(checked, result.schedule)
    assert left_shift(checked, placed) == placed  # no work waits behind a gap on an idle machine
    # No job is late on its own, nor when the lasers' capacity is counted: the bound is 0.
    assert result.best_bound == tardiness_lower_bound(checked) == 0


def test_a_sub_problem_step_keeps_relaxed_work_within_reach_of_where_it_runs() -> None:
    """An operation free over a month of shifts would cost the step's model two literals per shift."""
    shifts = tuple((day * DAY + 360, day * DAY + 840) for day in range(30))
    problem = Problem(
        machines=(machine("L1", *shifts), machine("L2", *shifts)),
        jobs=(Job("J", (op("10", ("L1", 60), ("L2", 90)),), due=40 * DAY, weight=1),),
        horizon=30 * DAY,
    )
    checked = check_problem(problem)
    search = parts_module.PartsSearch(problem, checked, TARDINESS)
    reach = parts_module.REACH
    placements = {0: (0, 15 * DAY + 400, 15 * DAY + 460)}  # day 15 on L1
    part = check_problem(problem)
    search._confine(part, placements, {0})
    windows = [(option.machine, option.earliest, option.latest) for option in part.operations[0].options]
    assert windows == [
        (0, (15 - reach) * DAY + 360, (15 + reach) * DAY + 839),
        (1, (15 - reach) * DAY + 360, (15 + reach) * DAY + 839),
    ]
    shop = ShopModel(part, problem.horizon)
    assert len(shop.operations[0].clocks[0].start_literals) == 2 * reach  # one per shift boundary within reach


def test_a_step_that_cannot_make_a_late_job_earlier_still_pulls_its_relaxed_work_forward() -> None:
    """The late job's last operation waits behind frozen work: its first can still go ahead of work with time.

    Both orders on M1 are optimal for the part (the late job ends at 110 either way); the step
    returns the one with the late job first, so that a later step which frees the second operation
    finds the first already out of the way.
    """
    problem = Problem(
        machines=(machine("M1"), machine("M2")),
        jobs=(
            chain("late", op("10", ("M1", 10)), op("20", ("M2", 10)), due=15, weight=5),
            Job("frozen", (op("10", ("M2", 100)),), due=1_000, weight=1),
            Job("early", (op("10", ("M1", 50)),), due=1_000, weight=1),
        ),
        horizon=1_000,
    )
    checked = check_problem(problem)
    search = parts_module.PartsSearch(problem, checked, TARDINESS)
    placements = {0: (0, 50, 60), 1: (1, 100, 110), 2: (1, 0, 100), 3: (0, 0, 50)}
    lane = parts_module._Lane({Objective.WEIGHTED_TARDINESS: 1}, (), time.monotonic() + 5, None)
    found = search._step("late-operations", {0, 3}, placements, lane)
    assert found is not None
    moved, values = found
    assert values[Objective.WEIGHTED_TARDINESS] == 5 * 95
    assert moved[0] == (0, 0, 10) and moved[3] == (0, 10, 60)
    assert moved[1] == (1, 100, 110) and moved[2] == (1, 0, 100)


def front_shop() -> tuple[Problem, dict[int, tuple[int, int, int]]]:
    """A late chain behind work on both machines, and work that starts after it ends."""
    problem = Problem(
        machines=(machine("M1"), machine("M2")),
        jobs=(
            chain("late", op("10", ("M1", 10)), op("20", ("M2", 10)), due=15, weight=5),
            Job("a", (op("10", ("M1", 50)),), due=1_000, weight=1),
            Job("b", (op("10", ("M2", 100)),), due=1_000, weight=1),
            Job("c", (op("10", ("M1", 30)),), due=1_000, weight=1),
        ),
        horizon=1_000,
    )
    # late.10, late.20, a, b, c: the late job ends at 110, c starts at 200.
    placements = {0: (0, 50, 60), 1: (1, 100, 110), 2: (0, 0, 50), 3: (1, 0, 100), 4: (0, 200, 230)}
    return problem, placements


def test_the_front_is_everything_that_starts_before_the_last_avoidably_late_job_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem, placements = front_shop()
    search = parts_module.PartsSearch(problem, check_problem(problem), TARDINESS)
    assert search._before_late_jobs_end(placements) == {0, 1, 2, 3}
    monkeypatch.setattr(parts_module, "FRONT_OPERATIONS", 2)
    assert search._before_late_jobs_end(placements) == {2, 3}  # the earliest-starting ones
    # Late by 5 only, at its earliest possible end: no other schedule saves anything, so there is no front.
    on_time_as_it_can = {**placements, 0: (0, 0, 10), 1: (1, 0, 10), 2: (0, 10, 60), 3: (1, 10, 110)}
    assert search._before_late_jobs_end(on_time_as_it_can) == set()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_search_starts_with_one_step_over_the_front(workers: int) -> None:
    """From the late schedule, the front's one step puts the late chain first on both machines."""
    problem, placements = front_shop()
    checked = check_problem(problem)
    settings = replace(TARDINESS, workers=workers)
    search = parts_module.PartsSearch(problem, checked, settings)
    start = schedule_from_placements(checked, placements)
    outcome = search.run(start, time.monotonic() + 3.0, bound=5 * 5)
    assert search.tally["front"] == [1, 1]
    assert outcome.values[Objective.WEIGHTED_TARDINESS] == 5 * 5  # the bound: the stage ends there
    assert validate_schedule(problem, outcome.schedule) == []


def job_shop_model(size: int) -> cp_model.CpModel:
    """A random size x size job shop minimising the makespan: 15x15 is not proven optimal in seconds."""
    rng = random.Random(7)
    model = cp_model.CpModel()
    machines: list[list[cp_model.IntervalVar]] = [[] for _ in range(size)]
    ends = []
    for job in range(size):
        end: cp_model.LinearExprT = 0
        for machine_number in rng.sample(range(size), size):
            duration = rng.randint(1, 99)
            start = model.new_int_var(0, 20_000, f"s{job}_{machine_number}")
            machines[machine_number].append(model.new_fixed_size_interval_var(start, duration, ""))
            model.add(start >= end)
            end = start + duration
        ends.append(end)
    for intervals in machines:
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, 20_000, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    return model


def two_workers(seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = seconds
    return solver


def test_a_watched_solve_that_stops_improving_is_stopped() -> None:
    solver = two_workers(60.0)
    reported: list[int] = []

    def report(value: int) -> bool:
        reported.append(value)
        return True

    status = parts_module._solve_watched(solver, job_shop_model(15), 0.5, report)
    assert status == cp_model.FEASIBLE
    assert solver.wall_time < 30.0  # stalled long before the time limit
    assert reported and reported == sorted(reported, reverse=True)  # each better makespan, in this thread
    assert reported[-1] == round(solver.objective_value)


def test_a_watched_solve_stops_when_the_report_says_so() -> None:
    solver = two_workers(60.0)
    reported: list[int] = []

    def report(value: int) -> bool:
        reported.append(value)
        return False  # the planner cancelled

    status = parts_module._solve_watched(solver, job_shop_model(15), 30.0, report)
    assert status == cp_model.FEASIBLE
    assert len(reported) == 1
    assert solver.wall_time < 30.0


def test_a_report_that_raises_stops_the_solve_and_the_error_reaches_the_caller() -> None:
    solver = two_workers(60.0)

    def report(value: int) -> bool:
        raise RuntimeError("the job was deleted")

    with pytest.raises(RuntimeError, match="the job was deleted"):
        parts_module._solve_watched(solver, job_shop_model(15), 30.0, report)


def test_the_front_reports_its_progress_and_can_be_cancelled() -> None:
    problem, placements = front_shop()
    checked = check_problem(problem)
    search = parts_module.PartsSearch(problem, checked, replace(TARDINESS, workers=2))
    start = schedule_from_placements(checked, placements)
    seen: list[SolveProgress] = []

    def cancel(report: SolveProgress) -> bool:
        seen.append(report)
        return False

    outcome = search.run(start, time.monotonic() + 3.0, cancel, time.monotonic(), bound=5 * 5)
    assert outcome.stopped
    assert search.tally["front"][0] == 1 and search.steps == 1  # no lane step after the cancel
    assert seen[0].stage == "weighted_tardiness"
    assert 5 * 5 <= seen[0].objective <= 5 * 100  # from the start to the optimum
