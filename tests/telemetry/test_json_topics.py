"""The plain JSON topic tree shopfloor/<department>/<machine>/<metric>."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.telemetry.observations import MalformedMessage, Observation
from apps.telemetry.topics import decode_json

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TOPIC = "shopfloor/milling/WC-101/spindle_load"
STREAM = "json:milling/WC-101/spindle_load"
KNOWN = frozenset({"WC-101"})


def decode(payload: bytes, topic: str = TOPIC, **options: int) -> list[Observation]:
    return decode_json(topic, payload, NOW + timedelta(seconds=1), KNOWN, **options)


def reason(payload: bytes, topic: str = TOPIC, **options: int) -> str:
    with pytest.raises(MalformedMessage) as caught:
        decode(payload, topic, **options)
    return caught.value.reason


def test_single_sample_with_iso_timestamp() -> None:
    payload = b'{"seq": 17, "ts": "2026-11-22T08:00:00Z", "value": 3.2}'
    assert decode(payload) == [Observation("WC-101", STREAM, 17, NOW, "spindle_load", 3.2)]


def test_single_sample_with_epoch_milliseconds_and_an_offset() -> None:
    assert decode(b'{"seq": 0, "ts": 1795334400250, "value": "RUN"}') == [
        Observation("WC-101", STREAM, 0, NOW + timedelta(milliseconds=250), "spindle_load", "RUN")
    ]
    assert decode(b'{"seq": 1, "ts": "2026-11-22T09:00:00+01:00", "value": true}')[0].timestamp == NOW


def test_batch_keeps_order_and_types() -> None:
    payload = json.dumps(
        {
            "samples": [
                {"seq": 5, "ts": "2026-11-22T07:59:58Z", "value": 40},
                {"seq": 6, "ts": "2026-11-22T07:59:59Z", "value": None},
                {"seq": 7, "ts": "2026-11-22T08:00:00Z", "value": False},
            ]
        }
    ).encode()
    assert decode(payload) == [
        Observation("WC-101", STREAM, 5, NOW - timedelta(seconds=2), "spindle_load", 40),
        Observation("WC-101", STREAM, 6, NOW - timedelta(seconds=1), "spindle_load", None),
        Observation("WC-101", STREAM, 7, NOW, "spindle_load", False),
    ]
    assert decode(b'{"samples": []}') == []


def test_ten_thousand_samples_in_one_message() -> None:
    start_ms = 1_795_334_400_000 - 10_000_000
    samples = [{"seq": n, "ts": start_ms + 1000 * n, "value": n / 4} for n in range(10_000)]
    observations = decode(json.dumps({"samples": samples}).encode(), max_bytes=1 << 20)
    assert len(observations) == 10_000
    assert observations[-1] == Observation("WC-101", STREAM, 9999, NOW - timedelta(seconds=1), "spindle_load", 2499.75)


def test_redelivery_gives_the_same_keys() -> None:
    payload = b'{"samples": [{"seq": 1, "ts": 1795334400000, "value": 1}, {"seq": 2, "ts": 1795334400000, "value": 2}]}'
    first, again = decode(payload), decode(payload)
    assert (
        [(o.stream, o.sequence) for o in again]
        == [(o.stream, o.sequence) for o in first]
        == [
            (STREAM, 1),
            (STREAM, 2),
        ]
    )


@pytest.mark.parametrize(
    "topic",
    [
        "shopfloor/milling/WC-101",
        "shopfloor/milling/WC-101/load/extra",
        "factory/milling/WC-101/load",
        "shopfloor//WC-101/load",
        "shopfloor/milling/+/load",
        "shopfloor/milling/WC-101/#",
    ],
)
def test_bad_topic(topic: str) -> None:
    assert reason(b'{"seq": 1, "ts": 1, "value": 1}', topic) == "bad_topic"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (b'{"samples": {"seq": 1}}', "bad_json"),
        (b'{"samples": [7]}', "bad_json"),
        (b'{"ts": "2026-11-22T08:00:00Z", "value": 1}', "bad_json"),
        (b'{"seq": 1, "ts": "2026-11-22T08:00:00Z"}', "bad_json"),
        (b'{"seq": -1, "ts": "2026-11-22T08:00:00Z", "value": 1}', "wrong_type"),
        (b'{"seq": "1", "ts": "2026-11-22T08:00:00Z", "value": 1}', "wrong_type"),
        (b'{"seq": 1.0, "ts": "2026-11-22T08:00:00Z", "value": 1}', "wrong_type"),
        (b'{"seq": true, "ts": "2026-11-22T08:00:00Z", "value": 1}', "wrong_type"),
        (b'{"seq": 9223372036854775808, "ts": 1, "value": 1}', "wrong_type"),
        (b'{"seq": 1, "ts": "yesterday", "value": 1}', "wrong_type"),
        (b'{"seq": 1, "ts": "2026-11-22T08:00:00", "value": 1}', "wrong_type"),
        (b'{"seq": 1, "ts": 1795334400000.5, "value": 1}', "wrong_type"),
        (b'{"seq": 1, "ts": -5, "value": 1}', "wrong_type"),
        (b'{"seq": 1, "ts": 1, "value": [1, 2]}', "wrong_type"),
        (b'{"seq": 1, "ts": 1, "value": {"a": 1}}', "wrong_type"),
        (b'{"seq": 1, "ts": 1, "value": NaN}', "not_finite"),
        (b'{"seq": 1, "ts": 1, "value": -Infinity}', "not_finite"),
        (b'{"seq": 1, "ts": 1, "value": 1e999}', "not_finite"),
        (b'{"seq": 1, "ts": "2026-11-22T08:05:02Z", "value": 1}', "future_timestamp"),
        (b'{"seq": 1, "ts": 1795334702000, "value": 1}', "future_timestamp"),
    ],
)
def test_malformed_payloads(payload: bytes, expected: str) -> None:
    assert reason(payload) == expected


def test_five_minutes_ahead_is_still_accepted() -> None:
    assert decode(b'{"seq": 1, "ts": "2026-11-22T08:05:01Z", "value": 1}')[0].sequence == 1


def test_one_bad_sample_rejects_the_batch() -> None:
    payload = b'{"samples": [{"seq": 1, "ts": 1, "value": 1}, {"seq": 2, "ts": 1, "value": NaN}]}'
    assert reason(payload) == "not_finite"


def test_oversize_and_unknown_machine() -> None:
    payload = b'{"seq": 1, "ts": 1, "value": 1}'
    assert reason(payload, max_bytes=len(payload) - 1) == "oversize"
    assert decode(payload, max_bytes=len(payload))[0].value == 1
    assert reason(payload, "shopfloor/milling/WC-999/load") == "unknown_machine"
