"""The plain textbook CP-SAT model, kept only to measure the product's solver against it.

Interval variables, one NoOverlap per machine, precedence, minimise the makespan; alternatives
as optional intervals with exactly one present. No hint, no bounds from a heuristic, default
parameters, horizon = sum of the longest durations. Calendars, changeovers, releases, due dates
and frozen operations are ignored, so use it only on benchmark instances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .model import Problem


@dataclass(frozen=True, slots=True)
class BaselineResult:
    makespan: int | None
    best_bound: int | None
    optimal: bool


def solve_baseline(problem: Problem, time_limit_s: float, workers: int, seed: int = 0) -> BaselineResult:
    model = cp_model.CpModel()
    horizon = sum(max(option.duration for option in op.options) for job in problem.jobs for op in job.operations)
    intervals: dict[str, list[cp_model.IntervalVar]] = {machine.id: [] for machine in problem.machines}
    ends: list[cp_model.IntVar] = []
    for job in problem.jobs:
        starts: dict[str, cp_model.IntVar] = {}
        finishes: dict[str, cp_model.IntVar] = {}
        for operation in job.operations:
            name = f"{job.id}_{operation.id}"
            start = model.new_int_var(0, horizon, f"s{name}")
            end = model.new_int_var(0, horizon, f"e{name}")
            if len(operation.options) == 1:
                option = operation.options[0]
                intervals[option.machine].append(model.new_interval_var(start, option.duration, end, f"i{name}"))
            else:
                chosen = []
                for option in operation.options:
                    literal = model.new_bool_var(f"p{name}_{option.machine}")
                    interval = model.new_optional_interval_var(start, option.duration, end, literal, f"i{name}")
                    intervals[option.machine].append(interval)
                    chosen.append(literal)
                model.add_exactly_one(chosen)
            starts[operation.id], finishes[operation.id] = start, end
            ends.append(end)
        for operation in job.operations:
            for predecessor in operation.predecessors:
                model.add(starts[operation.id] >= finishes[predecessor])
    for machine_intervals in intervals.values():
        model.add_no_overlap(machine_intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return BaselineResult(None, None, False)
    return BaselineResult(
        makespan=round(solver.objective_value),
        best_bound=math.ceil(solver.best_objective_bound - 1e-6),
        optimal=status == cp_model.OPTIMAL,
    )
