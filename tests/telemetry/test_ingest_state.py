"""update_machine_states folds only the readings that matter, and reaches the state every reading would.

The plant default is the machines tests' day shift: on Monday 2026-11-23 it works 12:00–16:00 and
16:30–20:30 UTC, so 16:00:00 is a calendar boundary inside the batches below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from apps.machines.machine_state import Reading
from apps.machines.models import Alarm, LiveState, MachineStateInterval, WorkCenter
from apps.machines.services import apply_readings
from apps.telemetry.ingest import state_readings, update_machine_states
from apps.telemetry.observations import Observation, Value
from tests.machines.shop import day_shift_calendar, laser, utc

SILENCE = timedelta(seconds=120)
MS = timedelta(milliseconds=1)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return utc(2026, 11, 23, hour, minute).replace(second=second)


def obs(machine: str, when: datetime, metric: str, value: Value, sequence: int = 0) -> Observation:
    return Observation(machine, "spb:g/n/:0", sequence, when, metric, value)


def fast_signal(machine: str, start: datetime, count: int, metric: str = "spindle_load") -> list[Observation]:
    """`count` values 1 ms apart: what a 1 kHz signal sends."""
    return [obs(machine, start + index * MS, metric, float(index), index) for index in range(count)]


def keys(readings: list[Reading]) -> list[tuple[datetime, str, Value]]:
    return [(reading.timestamp, reading.metric, reading.value) for reading in readings]


def test_a_fast_signal_keeps_its_first_and_last_value_and_one_reading_a_second() -> None:
    batch = fast_signal("WC-1", at(12, 0, 0) + 500 * MS, 2000)
    assert keys(state_readings(batch, SILENCE)) == [
        (at(12, 0, 0) + 500 * MS, "spindle_load", 0.0),
        (at(12, 0, 1), "spindle_load", 500.0),
        (at(12, 0, 2), "spindle_load", 1500.0),
        (at(12, 0, 2) + 499 * MS, "spindle_load", 1999.0),
    ]


def test_state_metrics_are_all_kept_in_time_order() -> None:
    batch = [
        obs("WC-1", at(12, 0, 0) + 3 * MS, "execution", "READY"),
        obs("WC-1", at(12, 0, 0) + 1 * MS, "execution", "ACTIVE"),
        obs("WC-1", at(12, 0, 0) + 2 * MS, "condition:system", "FAULT:7"),
        obs("WC-1", at(12, 0, 0) + 4 * MS, "condition:system", "NORMAL"),
        obs("WC-1", at(12, 0, 0) + 5 * MS, "alarm", 0),
        obs("WC-1", at(12, 0, 0) + 6 * MS, "part_count", 3),
    ]
    assert keys(state_readings(batch, SILENCE)) == [
        (at(12, 0, 0) + 1 * MS, "execution", "ACTIVE"),
        (at(12, 0, 0) + 2 * MS, "condition:system", "FAULT:7"),
        (at(12, 0, 0) + 3 * MS, "execution", "READY"),
        (at(12, 0, 0) + 4 * MS, "condition:system", "NORMAL"),
        (at(12, 0, 0) + 5 * MS, "alarm", 0),
        (at(12, 0, 0) + 6 * MS, "part_count", 3),
    ]


def test_a_reading_is_kept_where_leaving_it_out_would_open_a_silence() -> None:
    # Three readings a minute apart, then one 150 s later: the gap before it is a real silence,
    # and without the 12:01 and 12:02 readings the first two minutes would look like one too.
    batch = [
        obs("WC-1", at(12, 0, 0) + 10 * MS, "spindle_load", 1.0),
        obs("WC-1", at(12, 1, 0) + 20 * MS, "spindle_load", 2.0),
        obs("WC-1", at(12, 1, 0) + 30 * MS, "spindle_load", 3.0),
        obs("WC-1", at(12, 2, 0) + 40 * MS, "spindle_load", 4.0),
        obs("WC-1", at(12, 4, 30) + 40 * MS, "spindle_load", 5.0),
    ]
    assert keys(state_readings(batch, timedelta(seconds=90))) == [
        (at(12, 0, 0) + 10 * MS, "spindle_load", 1.0),
        (at(12, 1, 0) + 20 * MS, "spindle_load", 2.0),
        (at(12, 2, 0) + 40 * MS, "spindle_load", 4.0),
        (at(12, 4, 30) + 40 * MS, "spindle_load", 5.0),
    ]


def test_machines_are_thinned_apart() -> None:
    batch = [obs("WC-2", at(12, 0, 0), "spindle_load", 9.0), *fast_signal("WC-1", at(12, 0, 0), 3)]
    assert [(r.machine, r.value) for r in state_readings(batch, SILENCE)] == [
        ("WC-2", 9.0),
        ("WC-1", 0.0),
        ("WC-1", 2.0),
    ]


def busy_batch(machine: str) -> list[Observation]:
    """A machine through a shift boundary: a 1 kHz signal, alarms raised and cleared, a silence, new signals."""
    return [
        obs(machine, at(15, 59, 58), "availability", "AVAILABLE"),
        obs(machine, at(15, 59, 58) + 5 * MS, "execution", "STOPPED"),
        *fast_signal(machine, at(15, 59, 58) + 7 * MS, 4000),
        obs(machine, at(15, 59, 59) + 300 * MS, "condition:system", "FAULT:1105"),
        obs(machine, at(15, 59, 59) + 900 * MS, "condition:system", "NORMAL"),
        *fast_signal(machine, at(16, 0, 1) + 3 * MS, 500, "feed_rate"),
        # Two and a half minutes without a word, then the machine is back and running.
        obs(machine, at(16, 4, 40), "temperature", 41.5),
        obs(machine, at(16, 4, 41), "execution", "ACTIVE"),
        *fast_signal(machine, at(16, 4, 41) + 1 * MS, 1500),
    ]


def snapshot(wc: WorkCenter) -> dict[str, Any]:
    live = LiveState.objects.get(work_center=wc)
    return {
        "intervals": list(
            MachineStateInterval.objects.filter(work_center=wc)
            .order_by("started_at")
            .values_list("state", "started_at", "ended_at")
        ),
        "alarms": list(
            Alarm.objects.filter(work_center=wc).order_by("raised_at").values_list("code", "raised_at", "cleared_at")
        ),
        "live": (live.state, live.since, live.last_seen, live.program, live.part_count, live.signals),
    }


@pytest.mark.django_db
def test_the_thinned_batch_reaches_the_state_of_every_reading(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    day_shift_calendar(plant_default=True)
    full, thinned = laser("WC-FULL"), laser("WC-THIN")
    every = busy_batch("WC-FULL")
    apply_readings([Reading(o.machine, o.timestamp, o.metric, o.value) for o in every])
    with django_capture_on_commit_callbacks(execute=True):
        update_machine_states(busy_batch("WC-THIN"))
    assert len(state_readings(busy_batch("WC-THIN"), SILENCE)) == 16
    assert snapshot(full) == snapshot(thinned)
    assert snapshot(thinned)["intervals"] == [
        ("idle", at(15, 59, 58), at(15, 59, 58) + 5 * MS),
        ("unplanned_down", at(15, 59, 58) + 5 * MS, at(15, 59, 59) + 300 * MS),
        ("alarm", at(15, 59, 59) + 300 * MS, at(15, 59, 59) + 900 * MS),
        ("unplanned_down", at(15, 59, 59) + 900 * MS, at(16, 0, 0)),
        ("planned_down", at(16, 0, 0), at(16, 0, 2) + 6 * MS + SILENCE),
        ("offline", at(16, 0, 2) + 6 * MS + SILENCE, at(16, 4, 40)),
        ("planned_down", at(16, 4, 40), at(16, 4, 41)),
        ("running", at(16, 4, 41), None),
    ]
