"""Bad input gives a clear InputError naming the job and operation."""

from __future__ import annotations

import pytest

from apps.scheduling.solver import Fixed, InputError, Job, Link, OperationRef, Straddle, solve

from .shop import DAY, QUICK, chain, machine, op, problem


def _error(shop: object) -> InputError:
    with pytest.raises(InputError) as caught:
        solve(shop, QUICK)  # type: ignore[arg-type]
    return caught.value


def test_a_precedence_cycle_names_the_operations_on_it() -> None:
    job = Job(
        id="24-118",
        operations=(
            op("10", ("laser", 5), after=("30",)),
            op("20", ("brake", 5), after=("10",)),
            op("30", ("brake", 5), after=("20",)),
        ),
    )
    error = _error(problem([machine("laser"), machine("brake")], [job]))
    assert str(error) == (
        "job 24-118 operation 10: is on a precedence cycle: job 24-118 operation 10 -> "
        "job 24-118 operation 20 -> job 24-118 operation 30 -> job 24-118 operation 10"
    )
    assert [(fault.job, fault.operation) for fault in error.faults] == [("24-118", "10")]


def test_a_cycle_through_a_link_between_jobs() -> None:
    shop = problem(
        [machine("weld")],
        [chain("A", op("10", ("weld", 5))), chain("B", op("10", ("weld", 5)))],
        links=(
            Link(OperationRef("A", "10"), OperationRef("B", "10")),
            Link(OperationRef("B", "10"), OperationRef("A", "10")),
        ),
    )
    assert "precedence cycle" in str(_error(shop))


def test_an_operation_with_no_eligible_machine() -> None:
    shop = problem([machine("laser")], [chain("24-118", op("10", ("laser", 5)), op("20"))])
    assert str(_error(shop)) == "job 24-118 operation 20: has no eligible machine"


def test_an_operation_on_an_unknown_machine() -> None:
    shop = problem([machine("laser")], [chain("24-118", op("10", ("punch", 5)))])
    assert str(_error(shop)) == "job 24-118 operation 10: machine punch does not exist"


def test_a_duration_longer_than_any_working_window() -> None:
    # Two 8-hour shifts; 9 hours of welding may not straddle the night.
    shop = problem(
        [machine("weld", (480, 960), (DAY + 480, DAY + 960))],
        [chain("24-118", op("10", ("weld", 540)))],
        horizon=2 * DAY,
        straddle=Straddle.WITHIN_WINDOW,
    )
    assert str(_error(shop)) == (
        "job 24-118 operation 10: takes 540 minutes, longer than any working window of its machines "
        "(weld; longest 480), and may not straddle a break"
    )


def test_a_duration_longer_than_all_working_time() -> None:
    shop = problem([machine("weld", (480, 960))], [chain("24-118", op("10", ("weld", 600)))], horizon=DAY)
    assert (
        str(_error(shop))
        == "job 24-118 operation 10: takes 600 minutes, more than all working time of its machines (weld)"
    )


def test_an_empty_horizon() -> None:
    shop = problem([machine("laser")], [chain("24-118", op("10", ("laser", 5)), op("20", ("laser", 5)))], horizon=0)
    error = _error(shop)
    assert [(fault.job, fault.operation) for fault in error.faults] == [("24-118", "10"), ("24-118", "20")]
    assert str(error).startswith("job 24-118 operation 10: cannot be scheduled: the planning horizon is empty")


def test_no_working_time_within_the_horizon() -> None:
    shop = problem([machine("laser", (500, 900))], [chain("24-118", op("10", ("laser", 5)))], horizon=400)
    assert (
        str(_error(shop)) == "job 24-118 operation 10: has no working time on its machines (laser) within the horizon"
    )


def test_work_that_cannot_end_before_the_horizon() -> None:
    shop = problem(
        [machine("laser", (0, 100))], [chain("24-118", op("10", ("laser", 60)), op("20", ("laser", 60)))], horizon=100
    )
    error = _error(shop)
    assert error.faults[0].job == "24-118"
    assert error.faults[0].operation in {"10", "20"}


def test_a_frozen_operation_on_an_unknown_machine() -> None:
    shop = problem([machine("laser")], [chain("24-118", op("10", ("laser", 5), fixed=Fixed("punch", 0, 5)))])
    assert str(_error(shop)) == "job 24-118 operation 10: is frozen on machine punch, which does not exist"


def test_a_duplicate_operation() -> None:
    job = Job(id="7", operations=(op("10", ("laser", 5)), op("10", ("laser", 5))))
    assert str(_error(problem([machine("laser")], [job]))) == "job 7 operation 10: the operation is listed twice"


def test_an_unknown_predecessor() -> None:
    job = Job(id="7", operations=(op("10", ("laser", 5)), op("20", ("laser", 5), after=("15",))))
    error = _error(problem([machine("laser")], [job]))
    assert str(error) == "job 7 operation 20: follows operation 15, which is not in the job"


def test_frozen_operations_that_overlap_on_a_machine() -> None:
    shop = problem(
        [machine("laser")],
        [
            chain("A", op("10", ("laser", 60), fixed=Fixed("laser", 0, 60))),
            chain("B", op("10", ("laser", 60), fixed=Fixed("laser", 30, 90))),
        ],
    )
    assert str(_error(shop)) == "job B operation 10: is frozen on laser overlapping job A operation 10"
