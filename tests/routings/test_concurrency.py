"""Two people press "release" on the same job at the same moment: the job is released once.

Each release runs in its own thread with its own database connection. On PostgreSQL the second
waits on the row lock of the conditional update and then finds the job no longer a draft. On
SQLite the second waits for the write lock (BEGIN IMMEDIATE, with the busy timeout) and then
finds the job released. The in-memory SQLite test database cannot show that: its shared cache
answers "table is locked" at once instead of waiting. So on SQLite the threads run against a file
copy of the test database, which behaves like the real one.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from apps.routings import services
from apps.routings.choices import JobStatus
from apps.routings.models import Job, Operation

from .builders import build_shop, make_job, straight_part


@contextmanager
def database_for_threads(tmp_path: Path) -> Iterator[None]:
    """Threads started inside see a database that waits for locks like a real one."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    copy = tmp_path / "concurrency.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(copy)
    connection.connection.backup(target)
    # Switch to WAL now: the settings' init_command does it per connection, and two threads doing it at
    # once race for an exclusive lock that the busy timeout does not cover ("database is locked").
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    with mock.patch.dict(connections.settings["default"], {"NAME": str(copy)}):
        yield


def run_together(*works: Callable[[], Any]) -> list[Any]:
    """Start the calls at the same moment, each in its own thread; answer results or exceptions."""
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def worker(index: int, work: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = work()
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever each thread raised
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, w)) for i, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a release hung"
    return results


def read_in_thread(work: Callable[[], Any]) -> Any:
    return run_together(work)[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_release_makes_one_release(personas: dict[str, Any], tmp_path: Path) -> None:
    shop = build_shop()
    job = make_job(shop, straight_part(shop), quantity=12, number="J-RACE")
    planner, manager = personas["planner"], personas["production_manager"]

    copy_routing = services._copy_routing

    def slow_copy(*args: Any, **kwargs: Any) -> Any:
        # Hold the transaction open a moment so that the other release surely arrives meanwhile.
        time.sleep(0.3)
        return copy_routing(*args, **kwargs)

    with database_for_threads(tmp_path), mock.patch.object(services, "_copy_routing", slow_copy):
        results = run_together(
            lambda: services.release_job(actor=planner, job_id=job.pk),
            lambda: services.release_job(actor=manager, job_id=job.pk),
        )
        state = read_in_thread(
            lambda: (
                Job.objects.get(pk=job.pk).status,
                Job.objects.get(pk=job.pk).released_by_id,
                sorted(Operation.objects.filter(job_id=job.pk).values_list("sequence", flat=True)),
                Job.history.filter(id=job.pk, history_change_reason="released").count(),
            )
        )

    released = [r for r in results if isinstance(r, Job)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(released) == 1, results
    assert len(refusals) == 1, results
    assert refusals[0].messages[0] in (
        "Job J-RACE is released; only a draft job can be released.",
        "Job J-RACE was released by someone else just now.",
    )
    winner = planner if released[0].released_by_id == planner.pk else manager
    assert state == (JobStatus.RELEASED, winner.pk, [10, 20, 30], 1)
