"""A synthetic sheet-metal shop of realistic size, to measure the calendar and changeover path.

Not a test: it builds a problem like the ones the product plans (two weeks of two-shift
calendars with breaks, lasers and brakes with changeover matrices, alternative machines of a
type, due dates, a few running operations) and prints how long each part of the solve took.

Usage: python tests/benchmarks/synthetic_shop.py [JOBS] [SECONDS] [WORKERS]
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apps.scheduling.solver import (
    Fixed,
    Job,
    Machine,
    Operation,
    Option,
    Problem,
    SetupMatrix,
    SolveProgress,
    SolverSettings,
    solve,
    validate_schedule,
)

DAY = 24 * 60
SHIFTS = ((6 * 60, 10 * 60), (10 * 60 + 15, 14 * 60), (14 * 60 + 30, 18 * 60), (18 * 60 + 30, 22 * 60))

# Work-center type: (machines, efficiency of each, setup categories or None, minutes range)
TYPES = {
    "laser": ((1.0, 1.0, 0.8), ("st-2", "st-3", "st-5", "al-2", "al-4", "ss-1"), (10, 60)),
    "punch": ((1.0, 0.9), None, (10, 45)),
    "brake": ((1.0, 1.0, 0.9, 0.8), ("v12", "v16", "v24", "v32", "hem"), (5, 60)),
    "weld": ((1.0, 1.0, 1.0, 0.9), None, (20, 120)),
    "paint": ((1.0, 1.0, 1.0), None, (30, 90)),
    "assembly": ((1.0, 1.0, 1.0), None, (15, 90)),
}
ROUTES = (
    ("laser", "brake", "weld", "paint", "assembly"),
    ("laser", "brake", "weld", "assembly"),
    ("punch", "brake", "paint"),
    ("laser", "brake", "paint", "assembly"),
    ("laser", "weld", "paint", "assembly", "assembly"),
)


def working_time(days: int) -> tuple[tuple[int, int], ...]:
    """Monday to Friday, two shifts with a break each; minute 0 is Monday 00:00."""
    return tuple((day * DAY + a, day * DAY + b) for day in range(days) if day % 7 < 5 for a, b in SHIFTS)


def build(jobs: int, days: int = 14, seed: int = 1) -> Problem:
    rng = random.Random(seed)
    calendar = working_time(days)
    machines: list[Machine] = []
    by_type: dict[str, list[tuple[str, float]]] = {}
    for kind, (efficiencies, categories, _) in TYPES.items():
        for number, efficiency in enumerate(efficiencies, start=1):
            name = f"{kind}-{number}"
            machines.append(Machine(name, calendar, setup_group=kind if categories else None))
            by_type.setdefault(kind, []).append((name, efficiency))
    matrices = {
        "laser": SetupMatrix({}, default=20),
        "brake": SetupMatrix(
            {
                (a, b): 10 + 5 * abs(i - j)
                for i, a in enumerate(TYPES["brake"][1] or ())
                for j, b in enumerate(TYPES["brake"][1] or ())
            }
        ),
    }
    job_list: list[Job] = []
    for number in range(jobs):
        route = rng.choice(ROUTES)
        operations: list[Operation] = []
        for position, kind in enumerate(route):
            efficiencies, categories, (low, high) = TYPES[kind]
            work = rng.randint(low, high)
            options = tuple(Option(name, max(1, round(work / efficiency))) for name, efficiency in by_type[kind])
            # Most operations may run on two or three machines of their type.
            options = tuple(rng.sample(options, min(len(options), rng.choice((1, 2, 2, 3)))))
            operations.append(
                Operation(
                    id=str(10 * (position + 1)),
                    options=options,
                    predecessors=(operations[-1].id,) if operations else (),
                    setup_category=rng.choice(categories) if categories else None,
                )
            )
        release = rng.randrange(0, 5 * DAY, 60)
        job_list.append(
            Job(
                id=f"24-{number:04d}",
                operations=tuple(operations),
                release=release,
                due=release + rng.randrange(3 * DAY, 9 * DAY, 60),
                weight=rng.choice((1, 1, 2, 3)),
            )
        )
    # The first laser is cutting job 0's first operation right now, started 40 minutes ago.
    first = job_list[0]
    running = Operation(
        id=first.operations[0].id,
        options=first.operations[0].options,
        setup_category=first.operations[0].setup_category,
        fixed=Fixed(first.operations[0].options[0].machine, -40, 6 * 60 + 30),
    )
    job_list[0] = Job(first.id, (running, *first.operations[1:]), 0, first.due, first.weight)
    return Problem(tuple(machines), tuple(job_list), horizon=days * DAY, setup_matrices=matrices)


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    problem = build(jobs)
    operations = sum(len(job.operations) for job in problem.jobs)
    options = sum(len(op.options) for job in problem.jobs for op in job.operations)
    print(f"{jobs} jobs, {operations} operations, {options} machine options, {len(problem.machines)} machines")
    started = time.monotonic()

    def report(progress: SolveProgress) -> None:
        print(f"  {progress.wall_s:6.1f}s {progress.stage}: {progress.objective} (bound {progress.best_bound})")

    result = solve(problem, SolverSettings(time_limit_s=seconds, workers=workers), progress=report)
    print(f"status {result.status}, source {result.source}, {time.monotonic() - started:.1f}s")
    print("values", {str(key): value for key, value in result.values.items()})
    print("stages", [(stage.objective, stage.value, stage.bound, round(stage.wall_s, 1)) for stage in result.stages])
    print("rules", {str(rule): {str(k): v for k, v in values.items()} for rule, values in result.rule_values.items()})
    if result.schedule is not None:
        print("violations", len(validate_schedule(problem, result.schedule)))


if __name__ == "__main__":
    main()
