"""Read public job-shop (JSSP) and flexible job-shop (FJSP) instances and turn them into solver problems.

Pure: no Django import. Formats as in shared/benchmarks/README.md:

- JSSP: `#` comment lines; then `n_jobs n_machines`; then per job `n_machines` pairs
  `machine duration`, machines from 0, in processing order.
- FJSP (Brandimarte): `n_jobs n_machines avg_options`; then per job the number of operations and,
  per operation, `k` followed by `k` pairs `machine duration`, machines from 1.

Jobs, operations and machines keep their file order and are numbered from 0 in the problem
(ids "0", "1", ...), so a schedule maps back to the file directly. Every machine works the whole
horizon (the sum of each operation's longest duration), which the solver recognises as the
plain case and models without calendar machinery.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from apps.scheduling.solver import solve
from apps.scheduling.solver.baseline import BaselineResult, solve_baseline
from apps.scheduling.solver.model import (
    Job,
    Machine,
    Objective,
    Operation,
    Option,
    Problem,
    SolveResult,
    SolverSettings,
)


class InstanceFormat(StrEnum):
    JSSP = "jssp"
    FJSP = "fjsp"


class InstanceFormatError(ValueError):
    """The file does not follow the format it was read as; the message says where."""


@dataclass(frozen=True)
class Instance:
    """A benchmark instance: per job, per operation, the (machine, duration) options (machines from 0)."""

    name: str
    machines: int
    jobs: tuple[tuple[tuple[tuple[int, int], ...], ...], ...]

    @property
    def operations(self) -> int:
        return sum(len(job) for job in self.jobs)

    @property
    def horizon(self) -> int:
        return sum(max(duration for _, duration in options) for job in self.jobs for options in job)


MAKESPAN_ONLY = (Objective.MAKESPAN,)


def parse_jssp(text: str, name: str = "instance") -> Instance:
    numbers = _numbers(text, name)
    if len(numbers) < 2:
        raise InstanceFormatError(f"{name}: expected 'n_jobs n_machines' first")
    job_count, machine_count = numbers[0], numbers[1]
    expected = 2 + job_count * machine_count * 2
    if len(numbers) < expected:
        raise InstanceFormatError(f"{name}: {job_count} jobs x {machine_count} machines need {expected} numbers")
    jobs = []
    at = 2
    for job in range(job_count):
        operations = []
        for _ in range(machine_count):
            machine, duration = numbers[at], numbers[at + 1]
            at += 2
            _check_machine(name, job, machine, machine_count)
            operations.append(((machine, duration),))
        jobs.append(tuple(operations))
    return Instance(name, machine_count, tuple(jobs))


def parse_fjsp(text: str, name: str = "instance") -> Instance:
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines or len(lines[0]) < 2:
        raise InstanceFormatError(f"{name}: expected 'n_jobs n_machines avg_options' first")
    try:
        job_count, machine_count = int(lines[0][0]), int(lines[0][1])
        rows = [[int(token) for token in line] for line in lines[1 : 1 + job_count]]
    except ValueError as error:
        raise InstanceFormatError(f"{name}: {error}") from error
    if len(rows) < job_count:
        raise InstanceFormatError(f"{name}: {job_count} jobs announced, {len(rows)} found")
    jobs = []
    for job, row in enumerate(rows):
        at = 1
        operations = []
        for _ in range(row[0]):
            if at >= len(row):
                raise InstanceFormatError(f"{name}: job {job} line ends early")
            count = row[at]
            pairs = row[at + 1 : at + 1 + 2 * count]
            if len(pairs) < 2 * count or count < 1:
                raise InstanceFormatError(f"{name}: job {job} line ends early")
            at += 1 + 2 * count
            options = []
            for machine, duration in zip(pairs[::2], pairs[1::2], strict=True):
                _check_machine(name, job, machine - 1, machine_count)
                options.append((machine - 1, duration))
            operations.append(tuple(options))
        jobs.append(tuple(operations))
    return Instance(name, machine_count, tuple(jobs))


def load_instance(path: Path, instance_format: InstanceFormat) -> Instance:
    text = path.read_text()
    if instance_format is InstanceFormat.JSSP:
        return parse_jssp(text, path.stem)
    return parse_fjsp(text, path.stem)


def to_problem(instance: Instance) -> Problem:
    """The instance as a solver problem: each job a chain, every machine working the whole horizon."""
    horizon = instance.horizon
    machines = tuple(Machine(id=str(machine), working=((0, horizon),)) for machine in range(instance.machines))
    jobs = []
    for number, job in enumerate(instance.jobs):
        operations = tuple(
            Operation(
                id=str(position),
                options=tuple(Option(str(machine), duration) for machine, duration in options),
                predecessors=(str(position - 1),) if position else (),
            )
            for position, options in enumerate(job)
        )
        jobs.append(Job(id=str(number), operations=operations))
    return Problem(machines=machines, jobs=tuple(jobs), horizon=horizon)


def _numbers(text: str, name: str) -> list[int]:
    numbers: list[int] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        try:
            numbers.extend(int(token) for token in line.split())
        except ValueError as error:
            raise InstanceFormatError(f"{name}: {error}") from error
    return numbers


def _check_machine(name: str, job: int, machine: int, machine_count: int) -> None:
    if not 0 <= machine < machine_count:
        raise InstanceFormatError(f"{name}: job {job} uses machine {machine}, outside 0..{machine_count - 1}")


@dataclass(frozen=True)
class BenchmarkRun:
    """One instance solved by the product's solver (and, when asked, by the textbook baseline)."""

    instance: Instance
    result: SolveResult
    wall_s: float
    baseline: BaselineResult | None = None
    baseline_wall_s: float | None = None

    def record(self) -> dict[str, object]:
        """The JSON line the benchmark command prints."""
        rules = {str(rule): values[Objective.MAKESPAN] for rule, values in self.result.rule_values.items()}
        record: dict[str, object] = {
            "instance": self.instance.name,
            "jobs": len(self.instance.jobs),
            "machines": self.instance.machines,
            "operations": self.instance.operations,
            "makespan": self.result.values.get(Objective.MAKESPAN),
            "best_bound": self.result.best_bound,
            "status": str(self.result.status),
            "wall_s": round(self.wall_s, 3),
            "rules": rules,
        }
        if self.baseline is not None:
            record["baseline_makespan"] = self.baseline.makespan
            record["baseline_best_bound"] = self.baseline.best_bound
            record["baseline_status"] = "optimal" if self.baseline.optimal else "feasible"
            record["baseline_wall_s"] = round(self.baseline_wall_s or 0.0, 3)
        return record

    def solution(self) -> list[dict[str, int]]:
        """The schedule as the benchmark files number things: job, operation and machine from 0."""
        schedule = self.result.schedule
        if schedule is None:
            return []
        rows = [
            {
                "job": int(row.job),
                "op": int(row.operation),
                "machine": int(row.machine),
                "start": row.start,
                "end": row.end,
            }
            for row in schedule.operations
        ]
        rows.sort(key=lambda row: (row["job"], row["op"]))
        return rows


def run_benchmark(
    instance: Instance, time_limit_s: float, workers: int, seed: int = 0, baseline: bool = False
) -> BenchmarkRun:
    """Solve `instance` minimising the makespan with the product's solver, then optionally with the baseline."""
    problem = to_problem(instance)
    settings = SolverSettings(time_limit_s=time_limit_s, workers=workers, objectives=MAKESPAN_ONLY, seed=seed)
    started = time.monotonic()
    result = solve(problem, settings)
    wall = time.monotonic() - started
    if not baseline:
        return BenchmarkRun(instance, result, wall)
    started = time.monotonic()
    plain = solve_baseline(problem, time_limit_s, workers, seed)
    return BenchmarkRun(instance, result, wall, plain, time.monotonic() - started)


def best_known(path: Path) -> int | None:
    """The best-known makespan (upper bound) of an instance file, from a bounds.json beside it or one level up."""
    for folder in (path.parent, path.parent.parent):
        bounds_file = folder / "bounds.json"
        if not bounds_file.is_file():
            continue
        name = path.relative_to(folder).with_suffix("").as_posix()
        for entry in json.loads(bounds_file.read_text()):
            if entry.get("instance") == name:
                return int(entry["upper_bound"])
    return None


def gap_percent(makespan: int | None, reference: int | None) -> float | None:
    if makespan is None or not reference:
        return None
    return round(100.0 * (makespan - reference) / reference, 3)
