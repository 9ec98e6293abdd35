"""Small instances and builders the scheduling tests share (pure: no database)."""

from __future__ import annotations

from apps.scheduling.solver import Job, Machine, Objective, Operation, Option, Problem, SolverSettings

FT06 = """# Fisher and Thompson 6x6 instance (mt06), optimum 55
6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9
2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
"""

# Three jobs, three machines, two options for most operations (machines numbered from 1).
TINY_FJSP = """3 3 2
2 2 1 4 2 6 1 3 5
2 1 2 3 2 1 2 3 4
2 2 1 5 3 3 1 2 2
"""

DAY = 24 * 60

QUICK = SolverSettings(time_limit_s=2.0, workers=1)
MAKESPAN_FIRST = SolverSettings(time_limit_s=2.0, workers=1, objectives=(Objective.MAKESPAN, Objective.TOTAL_SETUP))


def machine(name: str, *working: tuple[int, int], group: str | None = None, initial: str | None = None) -> Machine:
    return Machine(id=name, working=working or ((0, 10_000),), setup_group=group, initial_category=initial)


def op(name: str, *options: tuple[str, int], after: tuple[str, ...] = (), **fields: object) -> Operation:
    return Operation(
        id=name,
        options=tuple(Option(machine_id, minutes) for machine_id, minutes in options),
        predecessors=after,
        **fields,  # type: ignore[arg-type]
    )


def chain(job_id: str, *operations: Operation, **fields: object) -> Job:
    """A job whose operations run in the order given (each after the one before)."""
    linked = []
    for position, operation in enumerate(operations):
        predecessors = (operations[position - 1].id,) if position else ()
        linked.append(
            Operation(
                id=operation.id,
                options=operation.options,
                predecessors=operation.predecessors or predecessors,
                setup_category=operation.setup_category,
                release=operation.release,
                straddle=operation.straddle,
                fixed=operation.fixed,
            )
        )
    return Job(id=job_id, operations=tuple(linked), **fields)  # type: ignore[arg-type]


def problem(machines: list[Machine], jobs: list[Job], horizon: int = 10_000, **fields: object) -> Problem:
    return Problem(machines=tuple(machines), jobs=tuple(jobs), horizon=horizon, **fields)  # type: ignore[arg-type]


def slots(result_schedule: object) -> dict[tuple[str, str], tuple[str, int, int]]:
    """(job, operation) -> (machine, start, end) of a schedule."""
    from apps.scheduling.solver import Schedule

    assert isinstance(result_schedule, Schedule)
    return {(row.job, row.operation): (row.machine, row.start, row.end) for row in result_schedule.operations}
