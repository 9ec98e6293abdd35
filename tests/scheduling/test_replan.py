"""Replanning from an earlier plan: `dispatch.follow_plan` and `solve(..., start_from=plan)`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.scheduling.solver import (
    Objective,
    Problem,
    Rule,
    Schedule,
    ScheduledOperation,
    objective_values,
    solve,
    validate_schedule,
)
from apps.scheduling.solver.check import check_problem
from apps.scheduling.solver.dispatch import follow_plan, place_operations, placements_of, schedule_from_placements

from .shop import DAY, QUICK, chain, machine, op, problem, slots
from .test_dispatch import random_shop

TARDINESS = Objective.WEIGHTED_TARDINESS


def row(job: str, operation: str, machine_id: str, start: int, end: int) -> ScheduledOperation:
    return ScheduledOperation(job=job, operation=operation, machine=machine_id, start=start, end=end)


def test_following_a_plan_keeps_its_machines_and_order_and_places_new_work_by_the_rule() -> None:
    shop = problem(
        [machine("L1"), machine("L2"), machine("brake")],
        [
            chain("A", op("10", ("L1", 60), ("L2", 60)), op("20", ("brake", 30)), due=1000),
            chain("B", op("10", ("L1", 60), ("L2", 60)), due=500),
            chain("N", op("10", ("L1", 40), ("L2", 40)), due=100),  # ordered since the plan was made
        ],
    )
    plan = Schedule(
        (
            row("X", "10", "L1", 0, 50),  # finished since: no longer in the problem
            row("B", "10", "L2", 0, 60),
            row("A", "10", "L2", 100, 160),  # behind B on the same laser, 40 minutes after it could start
            row("A", "20", "old-brake", 200, 230),  # a machine since retired
        )
    )
    checked = check_problem(shop)
    fallback = place_operations(checked, Rule.EDD)
    assert fallback is not None
    by_rule = slots(schedule_from_placements(checked, fallback))
    assert by_rule[("N", "10")] == ("L1", 0, 40)  # EDD cuts the new, most urgent job first
    assert by_rule[("A", "10")][0] == "L1"  # and would move A to the laser N leaves free

    followed = follow_plan(checked, plan, fallback)

    assert followed is not None
    schedule = schedule_from_placements(checked, followed)
    assert validate_schedule(shop, schedule) == []
    assert slots(schedule) == {
        ("B", "10"): ("L2", 0, 60),
        ("A", "10"): ("L2", 60, 120),  # the plan's laser and order, as early as they allow
        ("A", "20"): ("brake", 120, 150),  # the retired machine's work goes to the rule's machine
        ("N", "10"): ("L1", 0, 40),
    }


def test_work_of_a_machine_since_gone_keeps_its_place_in_the_plan_s_order() -> None:
    shop = problem(
        [machine("B1")],
        [chain("X", op("10", ("B1", 50)), due=1000), chain("Y", op("10", ("B1", 50)), due=100)],
    )
    plan = Schedule((row("X", "10", "B2", 0, 50), row("Y", "10", "B1", 100, 150)))  # B2 is out of service now
    checked = check_problem(shop)
    fallback = place_operations(checked, Rule.EDD)
    assert fallback is not None
    assert slots(schedule_from_placements(checked, fallback))[("Y", "10")] == ("B1", 0, 50)  # EDD: Y first

    followed = follow_plan(checked, plan, fallback)

    assert followed is not None
    assert slots(schedule_from_placements(checked, followed)) == {
        ("X", "10"): ("B1", 0, 50),
        ("Y", "10"): ("B1", 50, 100),
    }


@pytest.mark.parametrize("seed", range(4))
def test_following_an_unchanged_shop_s_plan_starts_nothing_later(seed: int) -> None:
    """Without changeovers, rebuilding a valid plan in the order of its starts only closes gaps."""
    busy = random_shop(seed)
    machines = tuple(replace(each, setup_group=None) for each in busy.machines)
    shop = replace(busy, machines=machines, setup_matrices={})
    checked = check_problem(shop)
    planned = place_operations(checked, Rule.SPT)
    assert planned is not None
    plan = schedule_from_placements(checked, planned)

    followed = follow_plan(checked, plan, {})

    assert followed is not None
    assert validate_schedule(shop, schedule_from_placements(checked, followed)) == []
    assert {index: placement[0] for index, placement in followed.items()} == {
        index: placement[0] for index, placement in planned.items()
    }
    assert all(followed[index][1] <= planned[index][1] for index in planned)


def tight_shop(seed: int) -> Problem:
    """A random shop with every job due a day earlier: at these seeds the solver beats every rule."""
    shop = random_shop(seed)
    return replace(shop, jobs=tuple(job if job.due is None else replace(job, due=job.due - DAY) for job in shop.jobs))


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_a_replan_starts_from_the_earlier_plan_and_ends_no_worse(seed: int) -> None:
    shop = tight_shop(seed)
    first = solve(shop, QUICK)
    assert first.schedule is not None
    best_rule = min(values[TARDINESS] for values in first.rule_values.values())
    assert first.values[TARDINESS] < best_rule  # so the earlier plan beats every rule

    again = solve(shop, QUICK, start_from=first.schedule)

    assert again.start == "earlier plan"
    assert again.schedule is not None and validate_schedule(shop, again.schedule) == []
    assert again.followed is not None and validate_schedule(shop, again.followed) == []
    # An unchanged shop: the replan starts from the earlier plan itself, so nothing gets worse.
    assert objective_values(shop, again.followed)[TARDINESS] <= first.values[TARDINESS]
    assert again.values[TARDINESS] <= first.values[TARDINESS]
    assert not first.followed and first.start.startswith(("rule:", "due-date tuning"))


def test_a_plan_of_other_work_leaves_the_rules_to_start() -> None:
    """Rows of unknown jobs and machines are ignored: all the work is placed as the best rule places it."""
    shop = random_shop(0)
    stranger = Schedule((row("nobody", "10", "M0", 0, 60), row("J1", "10", "no-such-machine", 0, 60)))

    result = solve(shop, QUICK, start_from=stranger)

    assert result.schedule is not None and validate_schedule(shop, result.schedule) == []
    assert result.start.startswith(("rule:", "due-date tuning"))
    assert result.followed is not None and validate_schedule(shop, result.followed) == []
    checked = check_problem(shop)
    assert set(placements_of(checked, result.followed)) == {operation.index for operation in checked.operations}
