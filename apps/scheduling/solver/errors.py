"""Errors the solver raises for input it cannot plan, in words a planner can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing wrong with the input; `job` and `operation` name where, when it is about one."""

    message: str
    job: str | None = None
    operation: str | None = None

    def __str__(self) -> str:
        if self.job is not None and self.operation is not None:
            return f"job {self.job} operation {self.operation}: {self.message}"
        if self.job is not None:
            return f"job {self.job}: {self.message}"
        return self.message


class InputError(ValueError):
    """The planning input cannot be scheduled as given; `faults` lists every reason found.

    The message names the job and operation of each fault (the first ten, then a count), so
    the planner can fix the routing or the calendar without reading a traceback.
    """

    shown = 10

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = tuple(faults)
        lines = [str(fault) for fault in self.faults[: self.shown]]
        if len(self.faults) > self.shown:
            lines.append(f"... and {len(self.faults) - self.shown} more")
        super().__init__("; ".join(lines))
