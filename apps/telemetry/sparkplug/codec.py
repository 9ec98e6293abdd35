"""Sparkplug B payloads to and from bytes, and the typed value of one metric.

Decoding checks only what one payload can show on its own (valid protobuf, a metric value that
fits its datatype, a finite float); what depends on earlier messages (aliases, seq, bdSeq) is the
session tracker's job. Encoding exists for the simulator and the tests, and for the one message
the MES itself publishes: the NCMD that asks an edge node to rebirth.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf.message import DecodeError

from apps.telemetry.observations import MalformedMessage, Value
from apps.telemetry.sparkplug.sparkplug_b_pb2 import DataType, Payload
from apps.telemetry.sparkplug.topic import MessageType, SparkplugTopic

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MS = (datetime(9999, 12, 31, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)
REBIRTH_METRIC = "Node Control/Rebirth"
BD_SEQ_METRIC = "bdSeq"

# Which field of the value oneof carries each scalar datatype (Sparkplug 3.0, "Datatype details").
_SMALL_SIGNED: dict[int, int] = {DataType.Int8: 8, DataType.Int16: 16, DataType.Int32: 32}
_SMALL_UNSIGNED: dict[int, int] = {DataType.UInt8: 8, DataType.UInt16: 16, DataType.UInt32: 32}
_VALUE_FIELD: dict[int, str] = {
    **dict.fromkeys((*_SMALL_SIGNED, *_SMALL_UNSIGNED), "int_value"),
    **dict.fromkeys((DataType.Int64, DataType.UInt64, DataType.DateTime), "long_value"),
    DataType.Float: "float_value",
    DataType.Double: "double_value",
    DataType.Boolean: "boolean_value",
    **dict.fromkeys((DataType.String, DataType.Text, DataType.UUID), "string_value"),
}
# Datatypes with no scalar Observation value (binary, tables, UDT instances, arrays): the MES skips them.
_BYTES_TYPES = frozenset({DataType.Bytes, DataType.File, *range(DataType.Int8Array, DataType.DateTimeArray + 1)})
KNOWN_DATATYPES = frozenset(DataType.values())


def datatype_name(datatype: int) -> str:
    return DataType.Name(datatype) if datatype in KNOWN_DATATYPES else str(datatype)


def is_scalar(datatype: int) -> bool:
    """Whether a metric of this datatype becomes an Observation (the others are skipped, not rejected)."""
    return datatype in _VALUE_FIELD


def to_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, computed in integers so that no float rounding moves a key."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    seconds, millis = divmod(ms, 1000)  # timedelta's positional arguments: faster than milliseconds=
    return EPOCH + timedelta(0, seconds, millis * 1000)


def parse_payload(payload: bytes) -> Payload:
    """Bytes to a Payload message; MalformedMessage("bad_protobuf") if they are not one."""
    message = Payload()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        raise MalformedMessage("bad_protobuf", f"not a Sparkplug B payload: {exc}") from None
    return message


# Plain ints: reading an enum value through the generated wrapper is an attribute lookup per call.
_INT64 = int(DataType.Int64)
_DATETIME = int(DataType.DateTime)
_FLOAT_FIELDS = frozenset({"float_value", "double_value"})


def metric_value(metric: Payload.Metric, datatype: int, label: str) -> Value:
    """The Observation value of a scalar metric, checked against the datatype its BIRTH declared.

    Signed 8/16/32-bit integers travel in the unsigned `int_value`; both the 32-bit two's complement
    form (Tahu Java, the specification) and the type's own width (some gateways) are accepted.
    Floats come first: they are most of what a machine sends, and this runs once per sample.
    """
    if metric.is_null:
        return None
    field = _VALUE_FIELD[datatype]
    present = metric.WhichOneof("value")
    if present != field:
        raise MalformedMessage(
            "wrong_type",
            f"metric {label!r} is {datatype_name(datatype)} (expects {field}) but carries {present or 'no value'}",
        )
    raw = getattr(metric, field)
    if field in _FLOAT_FIELDS:
        if not math.isfinite(raw):
            raise MalformedMessage("not_finite", f"metric {label!r} is {raw}")
        return raw
    if datatype in _SMALL_SIGNED:
        return _signed(raw, _SMALL_SIGNED[datatype], label, datatype)
    if datatype in _SMALL_UNSIGNED:
        if raw >= 1 << _SMALL_UNSIGNED[datatype]:
            raise MalformedMessage(
                "wrong_type", f"metric {label!r}: {raw} is out of range for {datatype_name(datatype)}"
            )
        return int(raw)
    if datatype == _INT64:
        return raw - (1 << 64) if raw >= 1 << 63 else int(raw)
    if datatype == _DATETIME:
        if raw > MAX_MS:
            raise MalformedMessage("wrong_type", f"metric {label!r}: {raw} ms is beyond any calendar date")
        return from_ms(raw).isoformat().replace("+00:00", "Z")
    return raw


def _signed(raw: int, bits: int, label: str, datatype: int) -> int:
    if raw < 1 << (bits - 1):
        return raw
    if raw >= (1 << 32) - (1 << (bits - 1)):
        return raw - (1 << 32)
    if raw < 1 << bits:
        return raw - (1 << bits)
    raise MalformedMessage("wrong_type", f"metric {label!r}: {raw} is out of range for {datatype_name(datatype)}")


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One metric to put into a payload. `datatype` picks the value field even when `send_datatype` is off."""

    datatype: int
    value: Value | bytes | datetime = None
    name: str | None = None
    alias: int | None = None
    timestamp: datetime | None = None
    is_historical: bool = False
    is_transient: bool = False
    send_datatype: bool = True


def _fill_metric(metric: Payload.Metric, sample: MetricSample) -> None:
    if sample.name is not None:
        metric.name = sample.name
    if sample.alias is not None:
        metric.alias = sample.alias
    if sample.timestamp is not None:
        metric.timestamp = to_ms(sample.timestamp)
    if sample.send_datatype:
        metric.datatype = sample.datatype
    if sample.is_historical:
        metric.is_historical = True
    if sample.is_transient:
        metric.is_transient = True
    value = sample.value
    if value is None:
        metric.is_null = True
        return
    if isinstance(value, datetime):
        value = to_ms(value)
    if sample.datatype in _BYTES_TYPES:
        metric.bytes_value = bytes(value)  # type: ignore[arg-type]
        return
    field = _VALUE_FIELD.get(sample.datatype)
    if field is None:
        raise ValueError(f"cannot encode a {datatype_name(sample.datatype)} metric from {value!r}")
    if field == "int_value" and isinstance(value, int) and value < 0:
        value += 1 << 32
    elif field == "long_value" and isinstance(value, int) and value < 0:
        value += 1 << 64
    setattr(metric, field, value)


def encode_payload(
    metrics: Iterable[MetricSample],
    *,
    timestamp: datetime | None,
    seq: int | None,
    uuid: str | None = None,
    body: bytes | None = None,
) -> bytes:
    """Serialise a Sparkplug B payload: seq is None for NDEATH and commands, timestamp None only for NDEATH."""
    payload = Payload()
    if timestamp is not None:
        payload.timestamp = to_ms(timestamp)
    if seq is not None:
        payload.seq = seq
    if uuid is not None:
        payload.uuid = uuid
    if body is not None:
        payload.body = body
    for sample in metrics:
        _fill_metric(payload.metrics.add(), sample)
    return payload.SerializeToString()


def rebirth_command(group_id: str, edge_node_id: str, *, now: datetime) -> tuple[str, bytes]:
    """The (topic, payload) of the NCMD "Node Control/Rebirth" that makes an edge node publish its births again."""
    topic = SparkplugTopic(group_id=group_id, message_type=MessageType.NCMD, edge_node_id=edge_node_id)
    payload = encode_payload(
        [MetricSample(name=REBIRTH_METRIC, datatype=DataType.Boolean, value=True)], timestamp=now, seq=None
    )
    return str(topic), payload


@dataclass(frozen=True, slots=True)
class HostState:
    """A primary host application's STATE message (Sparkplug 3.0 JSON form)."""

    host_id: str
    online: bool
    timestamp: datetime


def encode_state(*, online: bool, timestamp: datetime) -> bytes:
    return json.dumps({"online": online, "timestamp": to_ms(timestamp)}).encode()


def decode_state(host_id: str, payload: bytes) -> HostState:
    """A STATE payload; MalformedMessage("bad_json") unless it is {"online": bool, "timestamp": ms}."""
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage("bad_json", f"STATE of {host_id!r} is not JSON: {exc}") from None
    online = document.get("online") if isinstance(document, dict) else None
    timestamp = document.get("timestamp") if isinstance(document, dict) else None
    if (
        not isinstance(online, bool)
        or not isinstance(timestamp, int)
        or isinstance(timestamp, bool)
        or not 0 <= timestamp <= MAX_MS
    ):
        raise MalformedMessage("bad_json", f"STATE of {host_id!r} must be {{'online': bool, 'timestamp': ms}}")
    return HostState(host_id=host_id, online=online, timestamp=from_ms(timestamp))
