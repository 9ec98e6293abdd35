"""Periodic telemetry tasks: partitions ahead, retention behind (SAMPLE_RETENTION_DAYS), hourly roll-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from apps.telemetry.models import HourlyRollup, Sample, SampleBlock
from apps.telemetry.observations import Block, Observation
from apps.telemetry.storage import partition_name, roll_up_hours, sample_partitions, store
from apps.telemetry.tasks import maintain_sample_partitions_task, roll_up_hours_task
from tests.machines.shop import work_center

pytestmark = pytest.mark.django_db

HOUR = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def block(first_sequence: int, start: datetime, values: list[float], interval_us: int = 1000) -> Block:
    return Block("WC-1", "b", first_sequence, "load", start, interval_us, values)


def test_samples_past_retention_are_dropped_and_recent_ones_kept(settings: Any) -> None:
    settings.SAMPLE_RETENTION_DAYS = 30
    work_center("WC-1")
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=40), now - timedelta(days=1)
    store(
        [Observation("WC-1", "s", 1, old, "x", 1.0), Observation("WC-1", "s", 2, recent, "x", 2.0)],
        blocks=[block(0, old, [1.0] * 40), block(100, recent, [2.0] * 40)],
    )

    result = maintain_sample_partitions_task.delay(days_ahead=2).get()

    assert list(Sample.objects.values_list("sequence", flat=True)) == [2]
    assert list(SampleBlock.objects.values_list("first_sequence", flat=True)) == [100]
    assert result["blocks_dropped"] == 1
    if connection.vendor == "postgresql":
        partitions = sample_partitions()
        assert partition_name(old.date()) not in partitions
        today = now.date()
        assert {partition_name(today + timedelta(days=n)) for n in range(3)} <= set(partitions)
        assert min(partitions) >= partition_name(today - timedelta(days=30))
        assert result["dropped"] >= 1
    else:
        assert result == {"created": 0, "dropped": 1, "blocks_dropped": 1}


def test_the_retention_setting_defaults_to_30_days(settings: Any) -> None:
    assert settings.SAMPLE_RETENTION_DAYS == 30  # SAMPLE_RETENTION_DAYS is not set in the test environment
    work_center("WC-1")
    now = datetime.now(UTC)
    store(
        [
            Observation("WC-1", "s", 1, now - timedelta(days=31), "x", 1.0),
            Observation("WC-1", "s", 2, now - timedelta(days=29), "x", 2.0),
        ]
    )
    maintain_sample_partitions_task.delay().get()
    assert list(Sample.objects.values_list("sequence", flat=True)) == [2]


def test_an_hour_rolls_up_to_count_min_max_mean_and_last() -> None:
    machine = work_center("WC-1")
    store(
        [
            Observation("WC-1", "s", 1, HOUR + timedelta(minutes=1), "load", 1.0),
            Observation("WC-1", "s", 2, HOUR + timedelta(minutes=50), "load", 5.0),
            Observation("WC-1", "s", 3, HOUR + timedelta(minutes=59), "load", 3.0),
            Observation("WC-1", "s", 4, HOUR + timedelta(minutes=30), "program", "O1"),
            Observation("WC-1", "s", 5, HOUR + timedelta(minutes=61), "load", 100.0),
            Observation("WC-1", "s", 6, HOUR + timedelta(minutes=62), "load", None),
        ]
    )

    assert roll_up_hours(HOUR, HOUR + timedelta(hours=2)) == 2
    assert roll_up_hours(HOUR, HOUR + timedelta(hours=2)) == 2

    rows = HourlyRollup.objects.order_by("hour").values_list(
        "work_center", "metric", "hour", "count", "minimum", "maximum", "mean", "last"
    )
    assert list(rows) == [
        (machine.pk, "load", HOUR, 3, 1.0, 5.0, 3.0, 3.0),
        (machine.pk, "load", HOUR + timedelta(hours=1), 1, 100.0, 100.0, 100.0, 100.0),
    ]


def test_blocks_roll_up_with_the_rows_and_a_block_across_an_hour_splits() -> None:
    machine = work_center("WC-1")
    # Six values a minute apart from 08:57: three in the 08:00 hour, three in the 09:00 hour.
    across = block(100, HOUR + timedelta(minutes=57), [4.0, 8.0, 6.0, 10.0, 2.0, 3.0], interval_us=60_000_000)
    store(
        [
            Observation("WC-1", "s", 1, HOUR + timedelta(minutes=1), "load", 1.0),
            Observation("WC-1", "s", 2, HOUR + timedelta(minutes=70), "load", 20.0),
        ],
        blocks=[across, block(200, HOUR + timedelta(minutes=5), [5.0] * 4)],
    )

    assert roll_up_hours(HOUR, HOUR + timedelta(hours=2)) == 2

    rows = HourlyRollup.objects.order_by("hour").values_list(
        "work_center", "metric", "hour", "count", "minimum", "maximum", "mean", "last"
    )
    assert list(rows) == [
        (machine.pk, "load", HOUR, 8, 1.0, 8.0, 39.0 / 8, 6.0),
        (machine.pk, "load", HOUR + timedelta(hours=1), 4, 2.0, 20.0, 35.0 / 4, 20.0),
    ]
    # Only the hour asked for: the block's 09:00 values are left out of an 08:00-only roll-up.
    HourlyRollup.objects.all().delete()
    assert roll_up_hours(HOUR, HOUR + timedelta(hours=1)) == 1
    assert HourlyRollup.objects.get().count == 8


def test_a_late_sample_updates_its_hour() -> None:
    work_center("WC-1")
    store([Observation("WC-1", "s", 1, HOUR + timedelta(minutes=10), "load", 2.0)])
    roll_up_hours(HOUR, HOUR + timedelta(hours=1))
    store([Observation("WC-1", "s", 2, HOUR + timedelta(minutes=5), "load", 4.0)])
    roll_up_hours(HOUR, HOUR + timedelta(hours=1))
    assert list(HourlyRollup.objects.values_list("count", "minimum", "maximum", "mean", "last")) == [
        (2, 2.0, 4.0, 3.0, 2.0)
    ]


def test_the_roll_up_task_covers_the_current_hour() -> None:
    work_center("WC-1")
    moment = datetime.now(UTC) - timedelta(seconds=1)
    store([Observation("WC-1", "s", 1, moment, "load", 7.5)])
    assert roll_up_hours_task.delay(hours=1).get() == 1
    assert list(HourlyRollup.objects.values_list("hour", "count", "last")) == [
        (moment.replace(minute=0, second=0, microsecond=0), 1, 7.5)
    ]
