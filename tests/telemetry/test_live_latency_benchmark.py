"""A short real run of `live_latency_benchmark`: 5 machines (3 work centers and 2 clones), 3 WebSocket
clients, 4 seconds, through Mosquitto, run_ingest, Redis and daphne.

The command starts daphne and the ingest worker as processes, so it runs as a process itself, on a
database all of them open: the PostgreSQL test database (a `transaction=True` test commits), or on
SQLite a file copy of the in-memory test database made with SQLite's backup API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.machines.shop import work_center, work_center_type
from tests.telemetry.subprocess_db import Query, database_for_subprocesses

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0  # the command bounds itself to --seconds + 30
MACHINES, CLIENTS, SECONDS, RATE = 5, 3, 4, 4


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[tuple[str, Query]]:
    """Three work centers, and (DATABASE_URL for the processes, a query on that database)."""
    kind = work_center_type("bench-type")
    for code in ("BENCH-1", "BENCH-2", "BENCH-3"):
        work_center(code, kind)
    yield database_for_subprocesses(tmp_path)


def run_benchmark(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": getattr(settings, "REDIS_URL", "") or "redis://127.0.0.1:6379/0",
        "MQTT_URL": getattr(settings, "MQTT_URL", "") or "mqtt://127.0.0.1:1883",
        "CNC_TESTING": "1",
    }
    command = [sys.executable, "manage.py", "live_latency_benchmark", "--json"]
    options = ["--machines", MACHINES, "--clients", CLIENTS, "--seconds", SECONDS, "--rate", RATE]
    return subprocess.run(
        [*command, *map(str, options)], cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.mark.django_db(transaction=True)
def test_a_short_run_measures_every_delivery_and_leaves_nothing_behind(shared_database: tuple[str, Query]) -> None:
    database_url, query = shared_database

    result = run_benchmark(database_url)

    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert list(report) == [
        "machines",
        "clients",
        "seconds",
        "events",
        "deliveries",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        "missed",
    ]
    events = RATE * SECONDS
    assert (report["machines"], report["clients"], report["seconds"]) == (5, 3, 4.0)
    assert (report["events"], report["deliveries"], report["missed"]) == (events, events * CLIENTS, 0)
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"] <= report["max_ms"] < 5000
    assert query("SELECT code FROM machines_workcenter ORDER BY code") == [("BENCH-1",), ("BENCH-2",), ("BENCH-3",)]
    assert query("SELECT count(*) FROM accounts_user") == [(0,)]
    assert query("SELECT count(*) FROM django_session") == [(0,)]
    assert query("SELECT DISTINCT metric FROM telemetry_sample ORDER BY metric") == [("availability",), ("execution",)]


def test_refuses_the_in_memory_channel_layer(settings: Any) -> None:
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    with pytest.raises(CommandError) as refused:
        call_command("live_latency_benchmark", "--seconds", "1")

    assert str(refused.value) == (
        "Set REDIS_URL (redis://127.0.0.1:6379/0): the in-memory channel layer cannot carry a push from the "
        "ingest process to daphne."
    )
