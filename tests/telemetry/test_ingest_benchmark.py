"""The benchmark's publisher: reused NDATA payloads decode to exactly the samples it counts as published.
Its private broker takes the shipped broker's queue settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.telemetry.management.commands import ingest_benchmark
from apps.telemetry.management.commands.ingest_benchmark import DataMessages, shipped_queue_settings
from apps.telemetry.sparkplug import DataType, MetricSample, SparkplugSessions, encode_payload, message_key
from apps.telemetry.storage import as_blocks

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
T0_MS = 1_795_435_200_000
MS = timedelta(milliseconds=1)


def test_the_reused_payload_changes_only_its_timestamps_and_seq() -> None:
    sessions = SparkplugSessions()
    birth = encode_payload(
        [
            MetricSample(name="bdSeq", datatype=DataType.Int64, value=0),
            MetricSample(name="signal", alias=1, datatype=DataType.Double, value=0.0),
        ],
        timestamp=T0,
        seq=0,
    )
    sessions.decode("spBv1.0/g/NBIRTH/M1", birth, received_at=T0, known_machines={"M1"})
    messages = DataMessages(3)
    first = sessions.decode("spBv1.0/g/NDATA/M1", messages.encode(1, T0_MS + 10), received_at=T0, known_machines={"M1"})
    second = sessions.decode(
        "spBv1.0/g/NDATA/M1", messages.encode(2, T0_MS + 20), received_at=T0, known_machines={"M1"}
    )
    assert [(o.timestamp, o.value, o.sequence) for o in first.observations] == [
        (T0 + 8 * MS, 0.0, message_key(T0_MS + 10, 1) * 8192 + 1),
        (T0 + 9 * MS, 1.0, message_key(T0_MS + 10, 1) * 8192 + 2),
        (T0 + 10 * MS, 2.0, message_key(T0_MS + 10, 1) * 8192 + 3),
    ]
    assert [(o.timestamp, o.value) for o in second.observations] == [
        (T0 + 18 * MS, 0.0),
        (T0 + 19 * MS, 1.0),
        (T0 + 20 * MS, 2.0),
    ]
    assert {o.stream for o in first.observations + second.observations} == {"spb:g/M1/:0"}
    assert (first.gaps, second.gaps, first.rebirth, second.rebirth) == ([], [], None, None)


def test_the_private_broker_uses_the_shipped_queue_settings() -> None:
    assert shipped_queue_settings() == [
        "max_inflight_messages 1000",
        "max_queued_messages 1000000",
        "max_queued_bytes 0",
    ]


def test_a_shipped_config_without_a_queue_setting_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "mosquitto.conf"
    config.write_text("listener 1883 0.0.0.0\nmax_inflight_messages 1000\n")
    monkeypatch.setattr(ingest_benchmark, "SHIPPED_BROKER", config)
    with pytest.raises(CommandError, match="max_queued_bytes, max_queued_messages"):
        shipped_queue_settings()


@pytest.mark.parametrize(("signals", "blocks", "rows"), [(1, [200], 0), (4, [], 200)])
def test_one_signal_makes_a_block_and_interleaved_signals_make_rows(signals: int, blocks: list[int], rows: int) -> None:
    sessions = SparkplugSessions()
    birth = encode_payload(
        [
            MetricSample(name="bdSeq", datatype=DataType.Int64, value=0),
            *(
                MetricSample(name=f"signal{alias}", alias=alias, datatype=DataType.Double, value=0.0)
                for alias in range(1, signals + 1)
            ),
        ],
        timestamp=T0,
        seq=0,
    )
    sessions.decode("spBv1.0/g/NBIRTH/M1", birth, received_at=T0, known_machines={"M1"})
    payload = DataMessages(200, signals).encode(1, T0_MS + 500)
    decoded = sessions.decode("spBv1.0/g/NDATA/M1", payload, received_at=T0, known_machines={"M1"})
    stored_rows, stored_blocks = as_blocks(decoded.observations)
    assert ([len(block.values) for block in stored_blocks], len(stored_rows)) == (blocks, rows)


def test_signals_must_fit_in_a_message() -> None:
    with pytest.raises(CommandError, match="--signals"):
        call_command("ingest_benchmark", "--signals", "0")
