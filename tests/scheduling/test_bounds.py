"""Lower bounds on weighted tardiness (capacity-free, and counting working time) and the due dates they suggest."""

from __future__ import annotations

import random
import time
from dataclasses import replace

import pytest

from apps.scheduling.solver import (
    Fixed,
    Job,
    Objective,
    Problem,
    Rule,
    SolverSettings,
    SolveStatus,
    bounds,
    planning,
    solve,
)
from apps.scheduling.solver.bounds import (
    FinerBound,
    capacity_relaxation,
    first_objective_bound,
    guided_due_dates,
    tardiness_lower_bound,
)
from apps.scheduling.solver.check import check_problem
from apps.scheduling.solver.dispatch import place_operations
from apps.scheduling.solver.tuning import weighted_tardiness

from .shop import DAY, chain, machine, op

TARDINESS = SolverSettings(time_limit_s=5.0, workers=1, objectives=(Objective.WEIGHTED_TARDINESS,))
# A working day, a four-day holiday, and another day.
BEFORE_AND_AFTER = ((0, 480), (4 * DAY, 4 * DAY + 480))


def holiday_shop(*, frozen: bool = False) -> Problem:
    """Three 200-minute jobs due at the end of the first day: two fit in it, the third waits four days."""
    jobs = [
        Job(name, (op("10", ("L1", 200)),), due=480, weight=weight)
        for name, weight in (("heavy", 3), ("middle", 2), ("light", 1))
    ]
    if frozen:
        # Work already running on the machine takes its minutes: only one of the three fits now.
        jobs.append(Job("running", (op("10", ("L1", 200), fixed=Fixed("L1", 0, 200)),), due=None))
    return Problem(machines=(machine("L1", *BEFORE_AND_AFTER),), jobs=tuple(jobs), horizon=6 * DAY)


def test_the_capacity_bound_counts_who_fits_before_a_long_pause() -> None:
    checked = check_problem(holiday_shop())
    assert tardiness_lower_bound(checked) == 0  # each job on its own ends at minute 200
    # The lightest job cannot end before the machine works again at 4 x 1,440.
    assert capacity_relaxation(checked, seconds=5).bound == 4 * DAY - 480
    result = solve(holiday_shop(), TARDINESS)
    assert result.status is SolveStatus.OPTIMAL
    # The optimum starts it in the day's last 80 minutes: it pauses and ends 120 minutes after the holiday.
    assert result.values[Objective.WEIGHTED_TARDINESS] == 4 * DAY + 120 - 480


def test_frozen_work_takes_its_minutes_from_the_capacity() -> None:
    checked = check_problem(holiday_shop(frozen=True))
    # Only the heavy job fits after the running one; middle and light wait for the holiday's end.
    assert capacity_relaxation(checked, seconds=5).bound == (2 + 1) * (4 * DAY - 480)


def test_jobs_are_tested_every_quarter_hour_after_the_first_long_pauses() -> None:
    """Window ends, and the first four hours after each of the first three pauses of 12 hours or more."""
    # Five days of two shifts with a 30-minute break between them (short) and nights of 14 hours (long).
    shifts = [(day * DAY + start, day * DAY + end) for day in range(5) for start, end in ((0, 300), (330, 600))]
    problem = Problem(
        machines=(machine("L1", *shifts),), jobs=(Job("J", (op("10", ("L1", 60)),), due=300),), horizon=5 * DAY
    )
    checked = check_problem(problem)
    ends = bounds._breakpoints(checked)
    assert ends == [day * DAY + end for day in range(5) for end in (300, 600)]
    quarters = {day * DAY + minutes for day in (1, 2, 3) for minutes in range(15, 241, 15)}
    assert bounds._after_long_pauses(checked, ends) == quarters


def test_the_finer_bound_counts_the_queue_after_the_holiday() -> None:
    # The lightest job waits for the holiday's end. Tested every quarter hour after it, it is not
    # complete 105 minutes in: two jobs' 400 minutes and its 200 need 120 after the first day's 480.
    assert FinerBound(check_problem(holiday_shop()), seconds=5).bound(wait=60) == 4 * DAY + 106 - 480
    # With the running job, middle and light both wait and queue: the machine has 80 minutes left
    # before the holiday, so middle is complete 120 minutes after it at the earliest, and light
    # needs 200 more, past the four hours tested.
    frozen = FinerBound(check_problem(holiday_shop(frozen=True)), seconds=5).bound(wait=60)
    assert frozen == 2 * (4 * DAY + 106 - 480) + (4 * DAY + 241 - 480)
    result = solve(holiday_shop(frozen=True), TARDINESS)
    assert result.status is SolveStatus.OPTIMAL
    assert result.values[Objective.WEIGHTED_TARDINESS] == 2 * (4 * DAY + 120 - 480) + (4 * DAY + 320 - 480)


def test_the_finer_bound_is_none_without_a_long_pause_and_stops_when_asked() -> None:
    one_day = Problem(
        machines=(machine("L1", (0, 480)),), jobs=(Job("J", (op("10", ("L1", 400)),), due=300),), horizon=DAY
    )
    assert FinerBound(check_problem(one_day), seconds=5).bound() is None
    started = time.monotonic()
    assert FinerBound(check_problem(holiday_shop()), seconds=600).bound() is not None
    assert time.monotonic() - started < 60  # stopped where it was, not after its ten minutes
    assert FinerBound(check_problem(holiday_shop()), seconds=600).bound(wait=60) == 4 * DAY + 106 - 480


def test_the_first_objective_bound_takes_the_capacity_bound_when_given_one() -> None:
    checked = check_problem(holiday_shop())
    relaxed = capacity_relaxation(checked, seconds=5)
    assert first_objective_bound(checked, TARDINESS) == 0
    assert first_objective_bound(checked, TARDINESS, relaxed.bound) == 4 * DAY - 480
    weighted = SolverSettings(weights={Objective.WEIGHTED_TARDINESS: 2, Objective.MAKESPAN: 1})
    assert first_objective_bound(checked, weighted, relaxed.bound) == 2 * (4 * DAY - 480) + 200


def cliff_trap() -> Problem:
    """EDD runs the job due ten minutes earlier first, and the heavier of the others misses the holiday."""
    return Problem(
        machines=(machine("L1", *BEFORE_AND_AFTER),),
        jobs=(
            Job("light", (op("10", ("L1", 200)),), due=470, weight=1),
            Job("heavy", (op("10", ("L1", 200)),), due=480, weight=3),
            Job("middle", (op("10", ("L1", 200)),), due=480, weight=2),
        ),
        horizon=6 * DAY,
    )


def test_the_relaxation_says_which_job_to_give_up_and_edd_follows_it() -> None:
    checked = check_problem(cliff_trap())
    relaxed = capacity_relaxation(checked, seconds=5)
    # Giving the light job up costs it 4 x 1,440 - 470; giving up middle would cost twice as much.
    assert relaxed.bound == 4 * DAY - 470
    # Heavy and middle are complete by the end of the first day; light by the end of the second.
    assert relaxed.targets == [4 * DAY + 480, 480, 480]
    assert guided_due_dates(checked, relaxed) == [4 * DAY + 480, 480, 480]
    assert weighted_tardiness(checked, place_operations(checked, Rule.EDD) or {})[0] == 2 * (4 * DAY + 120 - 480)
    guided = place_operations(checked, Rule.EDD, guided_due_dates(checked, relaxed))
    assert guided is not None
    assert weighted_tardiness(checked, guided)[0] == 4 * DAY + 120 - 470  # the optimum


def test_due_date_tuning_starts_from_the_relaxations_schedule_when_it_is_better() -> None:
    problem = cliff_trap()
    checked = check_problem(problem)
    rules = planning.rule_schedules(problem, checked, TARDINESS)
    assert rules.values[Rule.EDD][Objective.WEIGHTED_TARDINESS] == 2 * (4 * DAY + 120 - 480)
    relaxed = capacity_relaxation(checked, seconds=5)
    # No time to tune: what comes back is where the tuning starts.
    dated = planning._due_date_rules(rules, TARDINESS)
    alone = planning._tune(problem, checked, rules, dated, TARDINESS, time.monotonic(), None)
    guided = planning._tune(problem, checked, rules, dated, TARDINESS, time.monotonic(), relaxed)
    assert alone is not None and alone[1][Objective.WEIGHTED_TARDINESS] == 2 * (4 * DAY + 120 - 480)
    assert guided is not None and guided[1][Objective.WEIGHTED_TARDINESS] == 4 * DAY + 120 - 470


def random_shop(seed: int) -> Problem:
    """Two machine groups with a pause, chains of one to three operations, some frozen work and due dates."""
    generator = random.Random(seed)
    windows = ((0, 300), (600, 900), (2 * DAY, 2 * DAY + 600))
    machines = [machine(name, *windows) for name in ("A1", "A2", "B1")]
    jobs = []
    for number in range(8):
        operations = []
        for step in range(generator.randint(1, 3)):
            options = (("A1", generator.randint(40, 160)), ("A2", generator.randint(40, 160)))
            operations.append(op(str(step), *(options if generator.random() < 0.6 else (("B1", 90),))))
        due = generator.choice((300, 900, 1_200, 2 * DAY + 300))
        jobs.append(chain(f"J{number}", *operations, due=due, weight=generator.randint(1, 4)))
    jobs.append(Job("running", (op("0", ("B1", 100), fixed=Fixed("B1", 0, 100)),), due=None))
    return Problem(machines=tuple(machines), jobs=tuple(jobs), horizon=4 * DAY)


def test_the_capacity_bound_never_exceeds_an_optimal_schedule() -> None:
    """On small shops solved to optimality the bound is at most the optimum, and often above the capacity-free one."""
    tighter = 0
    for seed in range(30):
        problem = random_shop(seed)
        checked = check_problem(problem)
        bound = capacity_relaxation(checked, seconds=5).bound
        result = solve(problem, TARDINESS)
        assert result.status is SolveStatus.OPTIMAL, seed
        finer = FinerBound(checked, seconds=5).bound(wait=60)
        optimum = result.values[Objective.WEIGHTED_TARDINESS]
        assert tardiness_lower_bound(checked) <= bound <= optimum, seed
        assert finer is None or finer <= optimum, seed
        tighter += bound > tardiness_lower_bound(checked)
    assert tighter >= 8


def test_the_shop_scale_path_reports_the_capacity_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "LARGE_CIRCUITS", -1)  # plan the holiday shop by sub-problems
    result = solve(holiday_shop(), SolverSettings(time_limit_s=4.0, workers=1))
    assert result.values[Objective.WEIGHTED_TARDINESS] == 4 * DAY + 120 - 480
    assert result.stages[0].objective == Objective.WEIGHTED_TARDINESS
    assert result.best_bound == 4 * DAY - 480


def test_the_full_model_reports_the_capacity_bound_where_cp_sat_proves_less(monkeypatch: pytest.MonkeyPatch) -> None:
    original = planning.search_stage

    def unproven(*args: object, **kwargs: object) -> object:
        # As if CP-SAT had proved nothing in its time.
        return replace(original(*args, **kwargs), bound=0, status=SolveStatus.FEASIBLE)  # type: ignore[arg-type]

    monkeypatch.setattr(planning, "search_stage", unproven)
    result = solve(holiday_shop(), TARDINESS)
    assert result.stages[0].objective == Objective.WEIGHTED_TARDINESS
    assert result.best_bound == 4 * DAY - 480
    # With a second worker the finer bound runs beside the tuning and raises it. The tuning of three
    # jobs ends at once: give the finer model time to end by itself on a slow machine.
    monkeypatch.setattr(planning, "FINER_BOUND_GRACE", 1.0)
    result = solve(holiday_shop(), replace(TARDINESS, workers=2))
    assert result.best_bound == 4 * DAY + 106 - 480
