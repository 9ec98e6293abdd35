"""Sparkplug B topics, payload encoding and metric values, without session state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.telemetry.observations import MalformedMessage
from apps.telemetry.sparkplug import (
    DataType,
    HostState,
    MessageType,
    MetricSample,
    Payload,
    SparkplugTopic,
    decode_state,
    encode_payload,
    encode_state,
    parse_payload,
    parse_topic,
    rebirth_command,
)
from apps.telemetry.sparkplug.codec import metric_value

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
NOW_MS = 1_795_334_400_000


def test_now_constant_is_epoch_milliseconds() -> None:
    assert int(NOW.timestamp()) * 1000 == NOW_MS


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("spBv1.0/plant1/NBIRTH/edge1", SparkplugTopic("plant1", MessageType.NBIRTH, "edge1")),
        ("spBv1.0/plant1/NDEATH/edge1", SparkplugTopic("plant1", MessageType.NDEATH, "edge1")),
        ("spBv1.0/plant1/NDATA/edge1", SparkplugTopic("plant1", MessageType.NDATA, "edge1")),
        ("spBv1.0/plant1/NCMD/edge1", SparkplugTopic("plant1", MessageType.NCMD, "edge1")),
        ("spBv1.0/plant1/DBIRTH/edge1/WC-101", SparkplugTopic("plant1", MessageType.DBIRTH, "edge1", "WC-101")),
        ("spBv1.0/plant1/DDEATH/edge1/WC-101", SparkplugTopic("plant1", MessageType.DDEATH, "edge1", "WC-101")),
        ("spBv1.0/plant1/DDATA/edge1/WC-101", SparkplugTopic("plant1", MessageType.DDATA, "edge1", "WC-101")),
        ("spBv1.0/plant1/DCMD/edge1/WC-101", SparkplugTopic("plant1", MessageType.DCMD, "edge1", "WC-101")),
        ("spBv1.0/STATE/scada-host", SparkplugTopic("", MessageType.STATE, "scada-host")),
    ],
)
def test_parse_topic_round_trips(topic: str, expected: SparkplugTopic) -> None:
    parsed = parse_topic(topic)
    assert parsed == expected
    assert str(parsed) == topic


def test_machine_is_the_device_or_the_edge_node() -> None:
    assert parse_topic("spBv1.0/g/DDATA/edge1/WC-101").machine == "WC-101"
    assert parse_topic("spBv1.0/g/NDATA/WC-200").machine == "WC-200"


@pytest.mark.parametrize(
    "topic",
    [
        "spBv2.0/g/NDATA/edge1",
        "spBv1.0/g/NDATA",
        "spBv1.0/g/NDATA/edge1/WC-101",
        "spBv1.0/g/DDATA/edge1",
        "spBv1.0/g/XDATA/edge1",
        "spBv1.0/g/STATE/edge1",
        "spBv1.0//NDATA/edge1",
        "spBv1.0/g/NDATA/+",
        "spBv1.0/g/DDATA/edge1/#",
        "spBv1.0/STATE/",
        "spBv1.0/g/DDATA/edge1/WC-101/extra",
        "shopfloor/a/b/c",
    ],
)
def test_bad_topics_are_rejected(topic: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_topic(topic)
    assert caught.value.reason == "bad_topic"


def test_encode_then_parse_keeps_every_field() -> None:
    raw = encode_payload(
        [
            MetricSample(name="Spindle/Speed", alias=7, datatype=DataType.Double, value=1200.5, timestamp=NOW),
            MetricSample(
                name="Temp", alias=8, datatype=DataType.Float, value=21.25, is_historical=True, is_transient=True
            ),
            MetricSample(name="Program", datatype=DataType.String, value=None),
        ],
        timestamp=NOW,
        seq=3,
        uuid="cnc-copilot",
        body=b"\x00\x01",
    )
    payload = parse_payload(raw)
    assert (payload.timestamp, payload.seq, payload.uuid, payload.body) == (NOW_MS, 3, "cnc-copilot", b"\x00\x01")
    first, second, third = payload.metrics
    assert (first.name, first.alias, first.datatype, first.double_value, first.timestamp) == (
        "Spindle/Speed",
        7,
        DataType.Double,
        1200.5,
        NOW_MS,
    )
    assert (second.float_value, second.is_historical, second.is_transient, second.HasField("timestamp")) == (
        21.25,
        True,
        True,
        False,
    )
    assert (third.is_null, third.WhichOneof("value"), third.HasField("alias")) == (True, None, False)


def test_payload_without_seq_or_timestamp_leaves_them_unset() -> None:
    payload = parse_payload(encode_payload([], timestamp=None, seq=None))
    assert (payload.HasField("seq"), payload.HasField("timestamp"), len(payload.metrics)) == (False, False, 0)


def test_garbage_is_bad_protobuf() -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_payload(b"\xff\xff\xff\xff")
    assert caught.value.reason == "bad_protobuf"


def _metric(sample: MetricSample) -> Payload.Metric:
    return parse_payload(encode_payload([sample], timestamp=NOW, seq=0)).metrics[0]


@pytest.mark.parametrize(
    ("datatype", "value", "decoded"),
    [
        (DataType.Int8, -5, -5),
        (DataType.Int16, -30000, -30000),
        (DataType.Int32, -2_000_000_000, -2_000_000_000),
        (DataType.Int64, -9_000_000_000, -9_000_000_000),
        (DataType.UInt8, 255, 255),
        (DataType.UInt16, 65535, 65535),
        (DataType.UInt32, 4_000_000_000, 4_000_000_000),
        (DataType.UInt64, 18_000_000_000_000_000_000, 18_000_000_000_000_000_000),
        (DataType.Float, 3.25, 3.25),
        (DataType.Double, 0.1, 0.1),
        (DataType.Boolean, True, True),
        (DataType.String, "O1234", "O1234"),
        (DataType.Text, "G01 X10", "G01 X10"),
        (DataType.UUID, "8d9f0e2a", "8d9f0e2a"),
        (DataType.DateTime, NOW, "2026-11-22T08:00:00Z"),
    ],
)
def test_scalar_values_round_trip(datatype: int, value: object, decoded: object) -> None:
    metric = _metric(MetricSample(name="m", datatype=datatype, value=value))  # type: ignore[arg-type]
    assert metric_value(metric, datatype, "m") == decoded


def test_signed_small_ints_accept_their_own_width() -> None:
    metric = Payload.Metric(name="m", datatype=DataType.Int8, int_value=0xFF)
    assert metric_value(metric, DataType.Int8, "m") == -1
    metric = Payload.Metric(name="m", datatype=DataType.Int16, int_value=0x8000)
    assert metric_value(metric, DataType.Int16, "m") == -32768


@pytest.mark.parametrize(
    ("datatype", "metric", "reason"),
    [
        (DataType.Double, Payload.Metric(string_value="fast"), "wrong_type"),
        (DataType.Int32, Payload.Metric(), "wrong_type"),
        (DataType.UInt8, Payload.Metric(int_value=256), "wrong_type"),
        (DataType.Int8, Payload.Metric(int_value=300), "wrong_type"),
        (DataType.Double, Payload.Metric(double_value=float("nan")), "not_finite"),
        (DataType.Float, Payload.Metric(float_value=float("inf")), "not_finite"),
        (DataType.DateTime, Payload.Metric(long_value=2**64 - 1), "wrong_type"),
    ],
)
def test_invalid_values_are_rejected(datatype: int, metric: Payload.Metric, reason: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        metric_value(metric, datatype, "m")
    assert caught.value.reason == reason


def test_rebirth_command_is_an_ncmd_with_the_rebirth_metric() -> None:
    topic, raw = rebirth_command("plant1", "edge1", now=NOW)
    assert topic == "spBv1.0/plant1/NCMD/edge1"
    payload = parse_payload(raw)
    assert (payload.timestamp, payload.HasField("seq")) == (NOW_MS, False)
    [metric] = payload.metrics
    assert (metric.name, metric.datatype, metric.boolean_value) == ("Node Control/Rebirth", DataType.Boolean, True)


def test_state_round_trip_and_rejection() -> None:
    raw = encode_state(online=True, timestamp=NOW)
    assert raw == b'{"online": true, "timestamp": 1795334400000}'
    assert decode_state("scada", raw) == HostState(host_id="scada", online=True, timestamp=NOW)
    for bad in (b"ONLINE", b'{"online": "yes", "timestamp": 1}', b"[]", b'{"online": true}'):
        with pytest.raises(MalformedMessage) as caught:
            decode_state("scada", bad)
        assert caught.value.reason == "bad_json"
