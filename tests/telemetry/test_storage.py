"""storage.store: idempotent bulk insert with exact counts (COPY on PostgreSQL, INSERT OR IGNORE on SQLite)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import ProtectedError

from apps.telemetry.models import Sample, SampleBlock, StreamGap
from apps.telemetry.observations import Gap, MalformedMessage, Observation
from apps.telemetry.storage import (
    BLOCK_MIN,
    StoredCounts,
    WorkCenterCodes,
    as_blocks,
    ensure_partitions,
    sample_partitions,
    store,
)
from tests.machines.shop import work_center

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def batch(machine: str = "WC-101") -> list[Observation]:
    return [
        Observation(machine, "json:milling/WC-101/load", 1, T0, "spindle_load", 3.25),
        Observation(machine, "json:milling/WC-101/load", 2, T0, "part_count", 17),
        Observation(machine, "json:milling/WC-101/load", 3, T0, "program", "O1234"),
        Observation(machine, "json:milling/WC-101/load", 4, T0, "door_open", True),
        Observation(machine, "json:milling/WC-101/load", 5, T0, "execution", None),
    ]


def stored_values() -> list[tuple[int, str, float | None, str | None, bool | None]]:
    columns = ("sequence", "metric", "value_number", "value_text", "value_bool")
    return list(Sample.objects.order_by("sequence").values_list(*columns))


def test_the_same_batch_twice_is_stored_once_and_counted_as_duplicates() -> None:
    work_center("WC-101")
    assert store(batch()) == StoredCounts(inserted=5, duplicates=0)
    assert store(batch()) == StoredCounts(inserted=0, duplicates=5)
    assert stored_values() == [
        (1, "spindle_load", 3.25, None, None),
        (2, "part_count", 17.0, None, None),
        (3, "program", None, "O1234", None),
        (4, "door_open", None, None, True),
        (5, "execution", None, None, None),
    ]


def test_overlapping_batches_count_only_the_new_rows() -> None:
    work_center("WC-101")
    store(batch()[:3])
    assert store(batch()) == StoredCounts(inserted=2, duplicates=3)
    assert Sample.objects.count() == 5


def test_a_repeat_inside_one_batch_is_a_duplicate() -> None:
    work_center("WC-101")
    first = batch()[0]
    assert store([first, first, batch()[1]]) == StoredCounts(inserted=2, duplicates=1)
    assert Sample.objects.count() == 2


def test_a_large_batch_spans_several_chunks() -> None:
    work_center("WC-101")
    rows = [Observation("WC-101", "s", n, T0, "x", float(n)) for n in range(1234)]
    assert store(rows) == StoredCounts(inserted=1234, duplicates=0)
    assert store(rows[1000:] + [Observation("WC-101", "s", 5000, T0, "x", 1.0)]) == StoredCounts(1, 234)
    assert Sample.objects.count() == 1235


def test_an_unknown_machine_rejects_the_whole_batch() -> None:
    work_center("WC-101")
    with pytest.raises(MalformedMessage) as caught:
        store([*batch(), Observation("WC-999", "s", 1, T0, "x", 1.0)])
    assert caught.value.reason == "unknown_machine"
    assert str(caught.value) == "'WC-999' is not a known machine"
    assert Sample.objects.count() == 0


def test_a_work_center_with_samples_cannot_be_deleted() -> None:
    # The sample table has no database foreign key (for insert speed); Django's PROTECT still guards it.
    machine = work_center("WC-101")
    store(batch())
    with pytest.raises(ProtectedError) as refused:
        machine.delete()
    assert {type(row) for row in refused.value.protected_objects} == {Sample}
    assert Sample.objects.filter(work_center=machine).count() == 5


def test_gaps_are_recorded_once() -> None:
    machine = work_center("WC-101")
    gap = Gap("WC-101", "spb:g/n/:0", 10, 20, T0, "sparkplug seq jumped from 3 to 5 (expected 4)")
    assert store([], [gap]) == StoredCounts(0, 0)
    store([], [gap])
    assert list(StreamGap.objects.values_list("work_center", "stream", "first_missing", "last_missing", "reason")) == [
        (machine.pk, "spb:g/n/:0", 10, 20, "sparkplug seq jumped from 3 to 5 (expected 4)")
    ]


def test_the_code_cache_picks_up_a_machine_created_later() -> None:
    codes = WorkCenterCodes(min_reload_interval=0)
    assert "WC-7" not in codes
    created = work_center("WC-7")
    assert "WC-7" in codes
    assert codes.get("WC-7") == created.pk


def test_the_code_cache_does_not_reload_on_every_miss() -> None:
    codes = WorkCenterCodes(min_reload_interval=3600)
    assert "WC-8" not in codes
    work_center("WC-8")
    assert "WC-8" not in codes
    codes.reload()
    assert "WC-8" in codes


def test_old_days_get_their_partition_on_postgresql_and_nothing_changes_on_sqlite() -> None:
    work_center("WC-101")
    old = datetime(2020, 1, 5, 23, 59, tzinfo=UTC)
    assert store([Observation("WC-101", "s", 1, old, "x", 1.0)]) == StoredCounts(1, 0)
    if connection.vendor == "postgresql":
        assert "telemetry_sample_p20200105" in sample_partitions()
        assert ensure_partitions([date(2020, 1, 5), date(2020, 1, 6)]) == ["telemetry_sample_p20200106"]
    else:
        assert sample_partitions() == []
        assert ensure_partitions([date(2020, 1, 5)]) == []
    assert list(Sample.objects.values_list("timestamp", flat=True)) == [old]


def test_a_sample_block_keeps_its_values_bit_for_bit() -> None:
    machine = work_center("WC-101")
    values = [0.1, -1.25, 3.0e-300, 1 / 3]
    block = SampleBlock.objects.create(
        work_center=machine,
        stream="vib",
        first_sequence=0,
        metric="vibration",
        start=T0,
        end=T0 + timedelta(microseconds=300),
        interval_us=100,
        count=4,
        data=SampleBlock.pack(values),
    )
    block.refresh_from_db()
    assert list(block.values) == values
    assert len(bytes(block.data)) == 32
    assert list(block.samples())[-1] == (3, T0 + timedelta(microseconds=300), 1 / 3)


def signal(first: int, count: int, *, step_ms: int = 1, metric: str = "vibration") -> list[Observation]:
    """`count` evenly spaced float samples of one metric of WC-101, sequences from `first`."""
    return [
        Observation("WC-101", "spb:G/WC-101/:1", first + n, T0 + timedelta(milliseconds=n * step_ms), metric, n * 0.25)
        for n in range(count)
    ]


def test_as_blocks_takes_evenly_spaced_runs_and_leaves_the_rest() -> None:
    run = signal(10, 40)
    other_metric = signal(50, 3, metric="load")
    uneven = signal(60, 20) + signal(80, 20, step_ms=2)  # the interval changes at sequence 80
    integers = [item._replace(value=int(item.sequence)) for item in signal(100, 40)]
    short = signal(140, BLOCK_MIN - 1)
    rows, blocks = as_blocks(run + other_metric + uneven + integers + short)

    (block,) = blocks
    assert (block.first_sequence, block.metric, block.start, block.interval_us) == (10, "vibration", T0, 1000)
    assert block.values == [n * 0.25 for n in range(40)]
    assert rows == other_metric + uneven + integers + short


def test_a_run_with_a_missing_sequence_or_a_pause_is_not_one_block() -> None:
    jump = signal(0, 40) + signal(41, 40)
    assert [(b.first_sequence, len(b.values)) for b in as_blocks(jump)[1]] == [(0, 40), (41, 40)]
    slow = signal(0, 40, step_ms=1500)  # 1.5 s apart: a slow signal, kept as rows
    assert as_blocks(slow) == (slow, [])


def test_a_block_is_stored_once_and_counts_its_values() -> None:
    work_center("WC-101")
    rows, blocks = as_blocks(batch() + signal(100, 200))
    assert store(rows, blocks=blocks) == StoredCounts(205, 0)
    assert store(rows, blocks=blocks) == StoredCounts(0, 205)
    assert store([], blocks=blocks + blocks) == StoredCounts(0, 400)
    stored = SampleBlock.objects.get()
    assert (stored.first_sequence, stored.count, stored.interval_us) == (100, 200, 1000)
    assert stored.end == T0 + timedelta(milliseconds=199)
    assert list(stored.values) == [n * 0.25 for n in range(200)]
    assert Sample.objects.count() == 5


def test_a_block_of_an_unknown_machine_rejects_the_batch() -> None:
    work_center("WC-101")
    rows, blocks = as_blocks(signal(0, 40))
    stranger = replace(blocks[0], machine="WC-999")
    with pytest.raises(MalformedMessage) as raised:
        store(batch(), blocks=[stranger])
    assert raised.value.reason == "unknown_machine"
    assert Sample.objects.count() == SampleBlock.objects.count() == 0


def test_a_reused_sequence_with_another_timestamp_is_a_duplicate_only_on_sqlite() -> None:
    """PostgreSQL's partitioned table needs the timestamp in its unique key (docs/telemetry-storage.md)."""
    work_center("WC-101")
    store([Observation("WC-101", "s", 1, T0, "x", 1.0)])
    later = Observation("WC-101", "s", 1, T0.replace(hour=9), "x", 2.0)
    if connection.vendor == "postgresql":
        assert store([later]) == StoredCounts(1, 0)
        assert Sample.objects.count() == 2
    else:
        assert store([later]) == StoredCounts(0, 1)
        assert Sample.objects.count() == 1
