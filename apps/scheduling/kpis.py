"""The figures a planner compares schedules by, computed the same way for the plan and every rule.

Pure: solver dataclasses in, a JSON-ready dict out. Minutes count from the horizon start.
"""

from __future__ import annotations

from typing import Any

from .solver import Problem, Schedule


def schedule_kpis(problem: Problem, schedule: Schedule) -> dict[str, Any]:
    """Late jobs, (weighted) tardiness, makespan, changeover minutes and utilisation per work center.

    Utilisation = busy working minutes (changeovers included) / working minutes in the horizon,
    0..1 to three decimals; a machine with no working time shows 0.
    """
    completion: dict[str, int] = {}
    for row in schedule.operations:
        completion[row.job] = max(completion.get(row.job, row.end), row.end)
    late_jobs = weighted = total = 0
    for job in problem.jobs:
        if job.due is None or job.id not in completion:
            continue
        tardiness = max(0, completion[job.id] - job.due)
        if tardiness:
            late_jobs += 1
            total += tardiness
            weighted += job.weight * tardiness
    windows = {machine.id: machine.working for machine in problem.machines}
    busy: dict[str, int] = {}
    for row in schedule.operations:
        worked = _worked(windows.get(row.machine, ()), row.start, row.end)
        busy[row.machine] = busy.get(row.machine, 0) + worked + row.setup
    utilisation: dict[str, float] = {}
    for machine in problem.machines:
        available = _worked(machine.working, 0, problem.horizon)
        used = min(busy.get(machine.id, 0), available)
        utilisation[machine.id] = round(used / available, 3) if available else 0.0
    return {
        "late_jobs": late_jobs,
        "weighted_tardiness": weighted,
        "total_tardiness_minutes": total,
        "makespan_minutes": max((row.end for row in schedule.operations), default=0),
        "setup_minutes": sum(row.setup for row in schedule.operations),
        "utilisation": utilisation,
    }


def _worked(windows: tuple[tuple[int, int], ...], start: int, end: int) -> int:
    return sum(max(0, min(end, b) - max(start, a)) for a, b in windows)
