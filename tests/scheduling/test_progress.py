"""The progress callback: called on improving solutions, and able to stop the solve."""

from __future__ import annotations

import pytest

from apps.scheduling.benchmarks import parse_jssp, to_problem
from apps.scheduling.solver import SolveProgress, SolverSettings, solve, validate_schedule

from .shop import FT06


class Cancelled(Exception):
    pass


def test_progress_reports_improving_solutions() -> None:
    seen: list[SolveProgress] = []
    instance = to_problem(parse_jssp(FT06, "ft06"))
    result = solve(instance, SolverSettings(time_limit_s=2, workers=1), progress=seen.append)
    assert seen, "at least the hinted schedule is reported"
    assert all(report.stage == "makespan" and report.objective >= report.best_bound for report in seen)
    assert [report.objective for report in seen] == sorted((report.objective for report in seen), reverse=True)
    assert seen[-1].objective == result.objective == 55


def test_returning_false_stops_with_the_best_schedule_so_far() -> None:
    instance = to_problem(parse_jssp(FT06, "ft06"))
    result = solve(instance, SolverSettings(time_limit_s=5, workers=1), progress=lambda report: False)
    assert result.stopped
    assert result.schedule is not None and validate_schedule(instance, result.schedule) == []
    assert result.wall_s < 5


def test_raising_stops_and_the_exception_reaches_the_caller() -> None:
    def cancel(report: SolveProgress) -> None:
        raise Cancelled(report.objective)

    with pytest.raises(Cancelled):
        solve(to_problem(parse_jssp(FT06, "ft06")), SolverSettings(time_limit_s=5, workers=1), progress=cancel)
