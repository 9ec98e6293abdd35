"""When a stage leaves CP-SAT's full model for the neighbourhood search (`search._leave_when_stalled`)."""

from __future__ import annotations

import threading
import time
from typing import cast

from ortools.sat.python import cp_model

from apps.scheduling.solver.search import FULL_SHARE, FULL_STALL_SHARE, _leave_when_stalled, _Shared

STAGE = 100.0  # seconds: the watcher's rules scale with the stage


class FakeSolver:
    def __init__(self) -> None:
        self.stops = 0

    def stop_search(self) -> None:
        self.stops += 1


def watch(stage_age: float, since_improvement: float, watch_for: float = 0.4) -> int:
    """How many stops the watcher sent within `watch_for` seconds of a stage in the given state."""
    now = time.monotonic()
    shared = _Shared("makespan", None, now - stage_age)
    shared.improved_at = now - since_improvement
    solver = FakeSolver()
    solved = threading.Event()
    thread = threading.Thread(
        target=_leave_when_stalled, args=(cast(cp_model.CpSolver, solver), shared, now - stage_age, STAGE, solved)
    )
    thread.start()
    time.sleep(watch_for)
    solved.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    return solver.stops


def test_the_full_model_keeps_its_share_even_without_a_better_schedule() -> None:
    assert watch(stage_age=STAGE * FULL_SHARE / 2, since_improvement=STAGE * FULL_SHARE / 2) == 0


def test_the_full_model_keeps_running_while_it_improves() -> None:
    assert watch(stage_age=STAGE * 0.8, since_improvement=STAGE * FULL_STALL_SHARE / 2) == 0


def test_the_full_model_is_left_once_it_stalls_after_its_share() -> None:
    # Repeated until the solve returns, so a stop sent before CP-SAT started is not lost.
    assert watch(stage_age=STAGE * 0.5, since_improvement=STAGE * FULL_STALL_SHARE * 1.5) >= 2
