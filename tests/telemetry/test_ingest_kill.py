"""kill -9 loses nothing: `run_ingest` is SIGKILLed five times while a stream is published, and every sample lands.

The issue names 1,000,000 samples; CI runs INGEST_KILL_SAMPLES (default 100,000) to stay bounded:
    INGEST_KILL_SAMPLES=1000000 .venv/bin/python -m pytest tests/telemetry/test_ingest_kill.py

The stream goes through a Mosquitto of the test's own with the queue settings of the broker the project
ships, deploy/mosquitto/mosquitto.conf (`ingest_benchmark.private_broker`). A packaged Mosquitto's
default of 1,000 queued messages per offline session is too small for this test at 1,000,000 samples:
the broker dropped part of what was published while the worker was down ("Outgoing messages are being
dropped" in its log) and the count stopped at 584,000.

The worker is a separate process, so it needs a database the test sees too. On PostgreSQL it is the
test database itself (a `transaction=True` test commits, so both sides see each other's rows). On
SQLite the test database lives in memory, so the test copies it (migrated, with the work center) into
a file with SQLite's backup API and reads the worker's rows from that file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from apps.telemetry.management.commands.ingest_benchmark import private_broker
from apps.telemetry.models import DeadLetter, Sample
from tests.machines.shop import work_center
from tests.telemetry.subprocess_db import database_for_subprocesses
from tests.telemetry.test_ingest import broker_url, forget_session, publish

SAMPLES = int(os.environ.get("INGEST_KILL_SAMPLES", "100000"))
PER_MESSAGE = 200
KILLS = 5
STARTUP = 30.0  # seconds for a worker process to connect and subscribe
DRAIN = max(60.0, SAMPLES / 2000)  # seconds for the last worker to store everything
REPO = Path(__file__).resolve().parents[2]
T0_MS = int(time.time() * 1000) - 3_600_000


Counter = Callable[[], tuple[int, int | None, int | None]]


@pytest.fixture
def tuned_broker(settings: Any) -> Iterator[str]:
    """A Mosquitto with the shipped broker's queue settings; `broker_url()` points at it for the test."""
    with private_broker() as url:
        settings.MQTT_URL = url
        yield url


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[tuple[str, Counter]]:
    """The work center WC-KILL, and (DATABASE_URL for the worker process, count/min/max of stored sequences)."""
    work_center("WC-KILL")
    url, query = database_for_subprocesses(tmp_path)

    def count() -> tuple[int, int | None, int | None]:
        ((rows, first, last),) = query("SELECT count(*), min(sequence), max(sequence) FROM telemetry_sample")
        assert isinstance(rows, int)
        return rows, first if isinstance(first, int) else None, last if isinstance(last, int) else None

    yield url, count


class WorkerProcess:
    def __init__(self, database_url: str, client_id: str, topic: str, log: Path) -> None:
        env = {**os.environ, "DATABASE_URL": database_url, "CNC_TESTING": "1", "PYTHONUNBUFFERED": "1"}
        self.log = log
        self._log = log.open("ab")
        command = [sys.executable, "manage.py", "run_ingest", "--broker", broker_url(), "--client-id", client_id]
        self.process = subprocess.Popen(
            [*command, "--topic", topic], cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, starts: int) -> None:
        """Until this process printed its `ingesting from` line (the log accumulates over restarts)."""
        deadline = time.monotonic() + STARTUP
        while self.log.read_text().count("ingesting from") < starts:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the worker did not subscribe in time"
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def terminate(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        finally:
            self._log.close()


def chunks() -> list[list[tuple[str, bytes]]]:
    """The stream as JSON batches of PER_MESSAGE samples, cut into KILLS + 1 parts (one before each start)."""
    messages = []
    for first in range(0, SAMPLES, PER_MESSAGE):
        numbers = range(first, min(first + PER_MESSAGE, SAMPLES))
        samples = [{"seq": n, "ts": T0_MS + n, "value": n * 0.5} for n in numbers]
        messages.append(json.dumps({"samples": samples}).encode())
    size = -(-len(messages) // (KILLS + 1))
    return [[("", payload) for payload in messages[start : start + size]] for start in range(0, len(messages), size)]


def publish_to(topic: str, part: list[tuple[str, bytes]]) -> None:
    publish([(topic, payload) for _, payload in part])


@pytest.mark.django_db(transaction=True)
def test_sigkill_five_times_during_a_stream_loses_and_duplicates_nothing(
    tuned_broker: str, shared_database: tuple[str, Counter], tmp_path: Path
) -> None:
    run = f"k{uuid.uuid4().hex[:10]}"
    client_id = f"ingest-{run}"
    topic = f"shopfloor/{run}/WC-KILL/load"
    database_url, counter = shared_database
    log = tmp_path / "worker.log"
    parts = chunks()
    counts_at_kill = []
    try:
        worker = WorkerProcess(database_url, client_id, f"shopfloor/{run}/#", log)
        worker.wait_ready(1)  # from here on the broker keeps a session: nothing published is lost
        publish_to(topic, parts[0])
        for kill in range(1, KILLS + 1):
            before = counter()[0]
            deadline = time.monotonic() + DRAIN
            while counter()[0] == before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.02 * kill)  # a different moment of the batch cycle each time
            worker.kill()
            counts_at_kill.append(counter()[0])
            publish_to(topic, parts[kill])  # published while no worker is connected: queued in the session
            worker = WorkerProcess(database_url, client_id, f"shopfloor/{run}/#", log)
            worker.wait_ready(kill + 1)
        deadline = time.monotonic() + DRAIN
        while counter()[0] < SAMPLES and time.monotonic() < deadline:
            time.sleep(0.1)
        worker.terminate()
    finally:
        forget_session(client_id)

    assert counter() == (SAMPLES, 0, SAMPLES - 1)
    assert len(counts_at_kill) == KILLS
    assert all(0 < count < SAMPLES for count in counts_at_kill), counts_at_kill
    assert log.read_text().count("ingesting from") == KILLS + 1
    if connection.vendor == "postgresql":
        assert Sample.objects.filter(stream=f"json:{run}/WC-KILL/load").count() == SAMPLES
        assert DeadLetter.objects.count() == 0
    else:
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as reader:
            assert reader.execute("SELECT count(*) FROM telemetry_deadletter").fetchone() == (0,)
