"""The planner's pure core: dataclasses in, a validated schedule out. No Django import here.

`solve` plans a `Problem`; `rank_queue` orders one work center's queue by a dispatch rule;
`validate_schedule` checks any schedule against the problem.
"""

from .dispatch import QueueEntry, build_schedule, rank_queue
from .errors import Fault, InputError
from .model import (
    DEFAULT_OBJECTIVES,
    Fixed,
    Job,
    Link,
    Machine,
    Objective,
    Operation,
    OperationRef,
    Option,
    Problem,
    Rule,
    Schedule,
    ScheduledOperation,
    SetupMatrix,
    SolveProgress,
    SolveResult,
    SolverSettings,
    SolveStatus,
    StageOutcome,
    Straddle,
)
from .planning import EARLIER_PLAN, solve
from .validate import Violation, ViolationKind, objective_values, validate_schedule

__all__ = [
    "DEFAULT_OBJECTIVES",
    "EARLIER_PLAN",
    "Fault",
    "Fixed",
    "InputError",
    "Job",
    "Link",
    "Machine",
    "Objective",
    "Operation",
    "OperationRef",
    "Option",
    "Problem",
    "QueueEntry",
    "Rule",
    "Schedule",
    "ScheduledOperation",
    "SetupMatrix",
    "SolveProgress",
    "SolveResult",
    "SolveStatus",
    "SolverSettings",
    "StageOutcome",
    "Straddle",
    "Violation",
    "ViolationKind",
    "build_schedule",
    "objective_values",
    "rank_queue",
    "solve",
    "validate_schedule",
]
