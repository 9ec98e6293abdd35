"""What the solver takes and returns: plain dataclasses in integer minutes from a time origin.

The origin (minute 0) is "now" for the plan; the Django side converts datetimes to and from
minutes. Ids are strings so that messages can name a job and an operation the way the shop
does ("job 24-118 operation 30"). Nothing here imports Django or OR-Tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Interval = tuple[int, int]


class Straddle(StrEnum):
    """What an operation does when it meets non-working time (a break, the night, a weekend)."""

    PAUSE = "pause"  # stops at the end of working time and resumes at the next start; the span includes the pause
    WITHIN_WINDOW = "within_window"  # must run start to finish inside one working interval


class Objective(StrEnum):
    WEIGHTED_TARDINESS = "weighted_tardiness"  # sum over jobs of weight x minutes late
    MAKESPAN = "makespan"  # end of the last operation
    TOTAL_SETUP = "total_setup"  # sum of changeover minutes on every machine


class Rule(StrEnum):
    """Dispatch rules, both as a whole-schedule builder and as the order of one work center's queue."""

    EDD = "EDD"  # earliest due date
    SPT = "SPT"  # shortest processing time
    CR = "CR"  # critical ratio: time to due date / work remaining
    SLACK = "SLACK"  # time to due date minus work remaining
    FIFO = "FIFO"  # first come, first served (time the operation became ready)
    MWKR = "MWKR"  # most work remaining in the job


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # proven best for every objective stage
    FEASIBLE = "feasible"  # a valid schedule, not proven best
    INFEASIBLE = "infeasible"  # proven that no schedule satisfies the constraints
    UNKNOWN = "unknown"  # no schedule found within the time limit


@dataclass(frozen=True, slots=True)
class Machine:
    """A work center that can run one operation at a time.

    `working` holds the sorted, disjoint working intervals [start, end) inside the horizon; any
    minute outside them is non-working time (breaks, nights, weekends, planned downtime).
    `setup_group` names the changeover matrix that applies (usually the work-center type) and
    `initial_category` the setup currently on the machine, if known.
    """

    id: str
    working: tuple[Interval, ...]
    setup_group: str | None = None
    initial_category: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One machine an operation may run on, with its working minutes there (already scaled by efficiency)."""

    machine: str
    duration: int


@dataclass(frozen=True, slots=True)
class Fixed:
    """An operation that is running or frozen by the planner: it stays on `machine` at `start`.

    `end` is given for a running operation (start + remaining work as the shop floor reports it,
    and it may lie in overtime); when None the end follows from the machine's calendar.
    """

    machine: str
    start: int
    end: int | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """A step of a job. `predecessors` are ids of operations of the same job that must end first."""

    id: str
    options: tuple[Option, ...]
    predecessors: tuple[str, ...] = ()
    setup_category: str | None = None
    release: int = 0  # earliest start of this operation (material arrival), on top of the job's release
    straddle: Straddle | None = None  # None: the problem's default
    fixed: Fixed | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A work order: its operations form a precedence DAG; `weight` is its priority in weighted tardiness."""

    id: str
    operations: tuple[Operation, ...]
    release: int = 0
    due: int | None = None
    weight: int = 1


@dataclass(frozen=True, slots=True)
class OperationRef:
    job: str
    operation: str


@dataclass(frozen=True, slots=True)
class Link:
    """A precedence between operations of two different jobs (an assembly waits for a sub-assembly)."""

    before: OperationRef
    after: OperationRef


@dataclass(frozen=True)
class SetupMatrix:
    """Changeover minutes on one work-center type, keyed by (category before, category after).

    A pair that is not listed costs nothing when the categories are equal and `default`
    otherwise; an operation without a category never causes or needs a changeover.
    """

    changeover: Mapping[tuple[str, str], int] = field(default_factory=dict)
    default: int = 0

    def minutes(self, before: str | None, after: str | None) -> int:
        if before is None or after is None:
            return 0
        listed = self.changeover.get((before, after))
        if listed is not None:
            return listed
        return 0 if before == after else self.default


@dataclass(frozen=True)
class Problem:
    """Everything to plan: machines with calendars, jobs, cross-job links and changeover matrices.

    Every operation must end by `horizon`; working intervals beyond it are ignored.
    """

    machines: tuple[Machine, ...]
    jobs: tuple[Job, ...]
    horizon: int
    links: tuple[Link, ...] = ()
    setup_matrices: Mapping[str, SetupMatrix] = field(default_factory=dict)
    straddle: Straddle = Straddle.PAUSE


DEFAULT_OBJECTIVES = (Objective.WEIGHTED_TARDINESS, Objective.MAKESPAN, Objective.TOTAL_SETUP)


@dataclass(frozen=True)
class SolverSettings:
    """How to solve.

    `objectives` is the lexicographic order (solved in stages, each later stage keeping the
    earlier values); with `weights` set, one stage minimises the weighted sum instead.
    `time_limit_s` covers the whole solve (rules, model building and every stage).
    """

    time_limit_s: float = 10.0
    workers: int = 2
    objectives: tuple[Objective, ...] = DEFAULT_OBJECTIVES
    weights: Mapping[Objective, int] | None = None
    seed: int = 0
    log: bool = False


@dataclass(frozen=True, slots=True)
class ScheduledOperation:
    """Where and when one operation runs. `setup` is the changeover just before it on the machine."""

    job: str
    operation: str
    machine: str
    start: int
    end: int
    setup: int = 0


@dataclass(frozen=True)
class Schedule:
    operations: tuple[ScheduledOperation, ...]


@dataclass(frozen=True, slots=True)
class StageOutcome:
    """One stage of a lexicographic solve (or the single weighted stage)."""

    objective: str  # an Objective value, or "weighted"
    value: int
    bound: int
    status: SolveStatus
    wall_s: float
    stopped: bool = False  # the progress callback asked to stop


@dataclass(frozen=True, slots=True)
class SolveProgress:
    """Passed to the progress callback on every improving solution."""

    stage: str
    objective: int
    best_bound: int
    wall_s: float
    solutions: int


@dataclass(frozen=True)
class SolveResult:
    """The accepted schedule and how good it is.

    `objective`, `best_bound` and `gap` describe the first stage that ran (stages whose objective
    cannot be above zero, such as tardiness without due dates, are skipped); `stages` has them all.
    `values` are the schedule's value of every objective. `source` says where the schedule came
    from ("cp-sat", or the start itself when the solver found nothing better in time). `start` is
    what the search started from: "rule:<name>" (the best dispatch rule), "due-date tuning" or
    "earlier plan" (the plan `solve` was given to start from, rebuilt on this problem: `followed`,
    set whenever that rebuild succeeded, even when the rules beat it).
    """

    status: SolveStatus
    schedule: Schedule | None
    objective: int | None
    best_bound: int | None
    gap: float | None
    values: Mapping[Objective, int]
    stages: tuple[StageOutcome, ...]
    source: str
    rule_values: Mapping[Rule, Mapping[Objective, int]]
    wall_s: float
    stopped: bool = False
    messages: tuple[str, ...] = ()
    start: str = ""
    followed: Schedule | None = None
