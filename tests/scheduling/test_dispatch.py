"""Dispatch rules: a work center's queue in each rule's order, and whole schedules built by each rule."""

from __future__ import annotations

import random
import time

import pytest

from apps.scheduling.benchmarks import parse_jssp, to_problem
from apps.scheduling.solver import (
    Fixed,
    Objective,
    Problem,
    QueueEntry,
    Rule,
    SetupMatrix,
    Straddle,
    build_schedule,
    objective_values,
    rank_queue,
    solve,
)
from apps.scheduling.solver.check import check_problem
from apps.scheduling.solver.dispatch import left_shift, place_operations, placements_of, schedule_from_placements
from apps.scheduling.solver.validate import ViolationKind, validate_schedule

from .shop import DAY, FT06, QUICK, chain, machine, op, problem, slots

QUEUE = [
    QueueEntry("A", "10", duration=30, remaining_work=100, arrival=5, due=200),
    QueueEntry("B", "10", duration=10, remaining_work=300, arrival=0, due=400),
    QueueEntry("C", "10", duration=20, remaining_work=50, arrival=10, due=100),
    QueueEntry("D", "10", duration=40, remaining_work=60, arrival=2),
]


@pytest.mark.parametrize(
    ("rule", "order"),
    [
        (Rule.EDD, "CABD"),  # due 100, 200, 400, none
        (Rule.SPT, "BCAD"),  # 10, 20, 30, 40 minutes
        (Rule.FIFO, "BDAC"),  # arrived 0, 2, 5, 10
        (Rule.MWKR, "BADC"),  # 300, 100, 60, 50 minutes left
        (Rule.SLACK, "CBAD"),  # slack 0, 50 (arrived first), 50, none
        (Rule.CR, "CBAD"),  # ratio 1.0, 1.17, 1.5, none
    ],
)
def test_each_rule_orders_a_queue(rule: Rule, order: str) -> None:
    assert "".join(entry.job for entry in rank_queue(QUEUE, rule, now=50)) == order


def test_heavier_weight_breaks_a_tie() -> None:
    queue = [QueueEntry("light", "10", 10, 10, 0), QueueEntry("heavy", "10", 10, 10, 0, weight=5)]
    assert [entry.job for entry in rank_queue(queue, Rule.SPT, now=0)] == ["heavy", "light"]


def test_ranking_a_queue_of_500_takes_under_20_ms() -> None:
    queue = [
        QueueEntry(
            f"J{n}",
            "10",
            duration=(n * 37) % 300 + 1,
            remaining_work=(n * 91) % 2000 + 300,
            arrival=n % 97,
            due=(n * 53) % 5000 if n % 7 else None,
        )
        for n in range(500)
    ]
    for rule in Rule:
        # Best of five: the figure is the code's speed, not a busy machine's.
        elapsed = min(_timed(lambda rule=rule: rank_queue(queue, rule, now=1000)) for _ in range(5))
        assert elapsed < 0.020, (rule, elapsed)


def _timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started


@pytest.mark.parametrize("rule", list(Rule))
def test_every_rule_builds_a_valid_schedule(rule: Rule) -> None:
    instance = to_problem(parse_jssp(FT06, "ft06"))
    schedule = build_schedule(check_problem(instance), rule)
    assert schedule is not None
    assert validate_schedule(instance, schedule) == []
    assert objective_values(instance, schedule)[Objective.MAKESPAN] >= 55


def test_rules_build_with_calendars_changeovers_and_frozen_work() -> None:
    shifts = tuple((day * DAY + 480, day * DAY + 960) for day in range(3))
    shop = problem(
        [machine("laser", *shifts, group="laser"), machine("brake", *shifts)],
        [
            chain("J1", op("10", ("laser", 300), setup_category="steel"), op("20", ("brake", 200)), due=DAY),
            chain("J2", op("10", ("laser", 100), setup_category="alu"), op("20", ("brake", 400)), due=2 * DAY),
            chain("J3", op("10", ("brake", 60), fixed=Fixed("brake", 480, 540))),
        ],
        horizon=3 * DAY,
        setup_matrices={"laser": SetupMatrix({("steel", "alu"): 20, ("alu", "steel"): 20})},
    )
    for rule in Rule:
        schedule = build_schedule(check_problem(shop), rule)
        assert schedule is not None, rule
        assert validate_schedule(shop, schedule) == [], rule
        assert slots(schedule)[("J3", "10")] == ("brake", 480, 540)


def random_shop(seed: int) -> Problem:
    """Busy machines with shifts, alternatives, changeovers, zero-minute steps and straddle rules mixed."""
    generator = random.Random(seed)
    shifts = tuple((day * DAY + 360, day * DAY + 840) for day in range(12))
    machines = [machine(f"M{number}", *shifts, group="laser" if number < 2 else None) for number in range(4)]
    jobs = []
    for number in range(14):
        steps = []
        for position in range(generator.randint(1, 4)):
            first = generator.randrange(4)
            options = [(f"M{first}", generator.choice([0, 20, 60, 150, 300]))]
            if generator.random() < 0.4:
                options.append((f"M{(first + 1) % 4}", generator.randint(30, 200)))
            steps.append(
                op(
                    f"{position + 1}0",
                    *options,
                    setup_category=generator.choice(["steel", "alu", "inox"]),
                    straddle=generator.choice([None, Straddle.WITHIN_WINDOW]),
                    release=generator.choice([0, 0, DAY + 100]),
                )
            )
        jobs.append(chain(f"J{number}", *steps, due=generator.randint(1, 6) * DAY, weight=generator.randint(1, 5)))
    matrix = SetupMatrix({("steel", "alu"): 45, ("alu", "steel"): 10, ("inox", "steel"): 90}, default=25)
    return problem(machines, jobs, horizon=12 * DAY, setup_matrices={"laser": matrix})


@pytest.mark.parametrize("seed", range(12))
def test_every_rule_builds_a_valid_schedule_of_a_busy_shop(seed: int) -> None:
    """Slots worked out before other work was added are reused only while no changeover can reach them."""
    shop = random_shop(seed)
    checked = check_problem(shop)
    for rule in Rule:
        schedule = build_schedule(checked, rule)
        assert schedule is not None, rule
        assert validate_schedule(shop, schedule) == [], rule


def test_left_shift_closes_gaps_keeping_each_machine_s_order_changeovers_and_breaks() -> None:
    shifts = tuple((day * DAY + 480, day * DAY + 960) for day in range(3))
    shop = problem(
        [machine("laser", *shifts, group="laser"), machine("brake", *shifts)],
        [
            chain(
                "J1",
                op("10", ("laser", 300), setup_category="steel"),
                op("20", ("brake", 200), straddle=Straddle.WITHIN_WINDOW),
            ),
            chain("J2", op("10", ("laser", 100), setup_category="alu")),
            chain("J3", op("10", ("laser", 60), fixed=Fixed("laser", 480, 540))),
        ],
        horizon=3 * DAY,
        setup_matrices={"laser": SetupMatrix({("steel", "alu"): 20})},
    )
    checked = check_problem(shop)
    index = {(operation.job_id, operation.id): operation.index for operation in checked.operations}
    # Valid, but all of it a day or two later than it could be.
    waiting = {
        index["J3", "10"]: (0, 480, 540),
        index["J1", "10"]: (0, DAY + 480, DAY + 780),
        index["J2", "10"]: (0, DAY + 800, DAY + 900),
        index["J1", "20"]: (1, 2 * DAY + 480, 2 * DAY + 680),
    }
    assert validate_schedule(shop, schedule_from_placements(checked, waiting)) == []
    shifted = schedule_from_placements(checked, left_shift(checked, waiting))
    assert validate_schedule(shop, shifted) == []
    assert slots(shifted) == {
        ("J3", "10"): ("laser", 480, 540),  # frozen where people put it
        ("J1", "10"): ("laser", 540, 840),
        ("J2", "10"): ("laser", 860, 960),  # after the 20-minute changeover from steel to aluminium
        ("J1", "20"): ("brake", DAY + 480, DAY + 680),  # 200 minutes do not fit before the shift ends at 960
    }


def test_left_shift_leaves_an_invalid_schedule_for_the_validator_to_report() -> None:
    shop = problem(
        [machine("brake")],
        [
            chain("running", op("10", ("brake", 100), fixed=Fixed("brake", 0, 100))),
            chain("J1", op("10", ("brake", 100))),
            chain("J2", op("10", ("brake", 100))),
        ],
    )
    checked = check_problem(shop)
    overlapping = {0: (0, 0, 100), 1: (0, 50, 150), 2: (0, 400, 500)}
    shifted = left_shift(checked, overlapping)
    # J1 cannot start any earlier than it does, so it stays; J2 still moves up behind it.
    assert shifted == {0: (0, 0, 100), 1: (0, 50, 150), 2: (0, 150, 250)}
    violations = validate_schedule(shop, schedule_from_placements(checked, shifted))
    assert [(violation.kind, violation.job) for violation in violations] == [(ViolationKind.OVERLAP, "J1")]


@pytest.mark.parametrize("seed", range(12))
def test_left_shift_of_a_valid_schedule_is_valid_and_nothing_ends_later(seed: int) -> None:
    """Schedules built with random late releases are valid for the shop and full of gaps to close."""
    shop = random_shop(seed)
    checked = check_problem(shop)
    delayed = random.Random(seed)
    for operation in checked.operations:
        operation.release += delayed.choice([0, 0, 200, DAY])
    placed = place_operations(checked, Rule.EDD)
    assert placed is not None
    checked = check_problem(shop)
    before = schedule_from_placements(checked, placed)
    assert validate_schedule(shop, before) == []
    shifted = left_shift(checked, placed)
    after = schedule_from_placements(checked, shifted)
    assert validate_schedule(shop, after) == []
    assert all(shifted[number][1] <= placed[number][1] for number in placed)
    assert any(shifted[number][1] < placed[number][1] for number in placed)
    assert all(
        objective_values(shop, after)[objective] <= value for objective, value in objective_values(shop, before).items()
    )
    assert left_shift(checked, shifted) == shifted  # nothing left to close
    assert placements_of(checked, after) == shifted


@pytest.mark.parametrize("seed", range(3))
def test_a_plan_leaves_no_work_waiting_on_an_idle_machine(seed: int) -> None:
    """CP-SAT puts work no objective depends on anywhere it fits (it did, on each of these shops)."""
    shop = random_shop(seed)
    result = solve(shop, QUICK)
    assert result.schedule is not None and result.source == "cp-sat"
    checked = check_problem(shop)
    placed = placements_of(checked, result.schedule)
    assert left_shift(checked, placed) == placed
    for stage in result.stages:  # what each stage reports is the plan's value
        assert stage.value == result.values[Objective(stage.objective)]


def test_spt_and_edd_build_different_orders() -> None:
    shop = problem(
        [machine("brake")],
        [chain("long", op("10", ("brake", 50)), due=100), chain("short", op("10", ("brake", 10)), due=200)],
    )
    checked = check_problem(shop)
    assert slots(build_schedule(checked, Rule.SPT)) == {
        ("short", "10"): ("brake", 0, 10),
        ("long", "10"): ("brake", 10, 60),
    }
    assert slots(build_schedule(checked, Rule.EDD)) == {
        ("long", "10"): ("brake", 0, 50),
        ("short", "10"): ("brake", 50, 60),
    }
