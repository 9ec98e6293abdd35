"""The plain JSON topic tree `shopfloor/<department>/<machine>/<metric>`, for devices that do not speak Sparkplug.

One topic is one metric of one machine, so the topic gives the stream and the publisher numbers its
samples with `seq`: stream = "json:<department>/<machine>/<metric>", sequence = seq. A redelivered
message therefore yields the same keys, and a publisher restart that reuses numbers is visible.

A message is accepted or rejected whole (MalformedMessage): one bad sample in a batch rejects the
batch, and the worker dead-letters the raw payload rather than store part of it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Container
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from apps.telemetry.observations import MalformedMessage, Observation, Value

ROOT = "shopfloor"
DEFAULT_MAX_BYTES = 256 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_SEQUENCE = (1 << 63) - 1  # storage keeps sequences in a signed 64-bit column
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EPOCH_MS = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)


def _reject_constant(token: str) -> NoReturn:
    # Python's json accepts NaN and Infinity, which are not JSON and not a measurement.
    raise MalformedMessage("not_finite", f"{token} is not a finite number")


def _parse_topic(topic: str) -> tuple[str, str, str]:
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != ROOT:
        raise MalformedMessage("bad_topic", f"{topic!r} is not {ROOT}/<department>/<machine>/<metric>")
    if any(not part or "+" in part or "#" in part for part in parts[1:]):
        raise MalformedMessage("bad_topic", f"{topic!r} has an empty level or an MQTT wildcard")
    return parts[1], parts[2], parts[3]


def _timestamp(raw: Any, limit: datetime, where: str) -> datetime:
    """An ISO 8601 string with an offset (or Z), or integer epoch milliseconds; never a naive local time."""
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise MalformedMessage("wrong_type", f"{where}: ts {raw!r} is not ISO 8601") from None
        if moment.tzinfo is None:
            raise MalformedMessage("wrong_type", f"{where}: ts {raw!r} has no time zone offset")
        moment = moment.astimezone(UTC)
    elif isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= _MAX_EPOCH_MS:
        moment = _EPOCH + timedelta(milliseconds=raw)
    else:
        raise MalformedMessage("wrong_type", f"{where}: ts must be an ISO 8601 string or epoch milliseconds")
    if moment > limit:
        raise MalformedMessage("future_timestamp", f"{where}: ts {moment.isoformat()} is over 5 minutes ahead")
    return moment


def _value(raw: Any, where: str) -> Value:
    if raw is None or isinstance(raw, bool | int | str):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise MalformedMessage("not_finite", f"{where}: value {raw} is not finite")
        return raw
    raise MalformedMessage("wrong_type", f"{where}: value must be a number, string, boolean or null")


def decode_json(
    topic: str,
    payload: bytes,
    received_at: datetime,
    known_machines: Container[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Observation]:
    """One message of the JSON tree to observations: a single sample or {"samples": [...]}."""
    department, machine, metric = _parse_topic(topic)
    if len(payload) > max_bytes:
        raise MalformedMessage("oversize", f"{topic}: {len(payload)} bytes, the limit is {max_bytes}")
    if machine not in known_machines:
        raise MalformedMessage("unknown_machine", f"{topic}: {machine!r} is not a known machine")
    try:
        document = json.loads(payload, parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage("bad_json", f"{topic}: not JSON: {exc}") from None
    if isinstance(document, dict) and "samples" in document:
        samples = document["samples"]
        if not isinstance(samples, list):
            raise MalformedMessage("bad_json", f"{topic}: 'samples' must be a list")
    else:
        samples = [document]
    stream = f"json:{department}/{machine}/{metric}"
    limit = received_at + FUTURE_TOLERANCE
    observations = []
    for number, sample in enumerate(samples):
        where = f"{topic} sample {number}"
        if not isinstance(sample, dict) or not {"seq", "ts", "value"} <= sample.keys():
            raise MalformedMessage("bad_json", f"{where}: a sample is an object with seq, ts and value")
        seq = sample["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQUENCE:
            raise MalformedMessage("wrong_type", f"{where}: seq must be a non-negative integer, got {seq!r}")
        observations.append(
            Observation(
                machine=machine,
                stream=stream,
                sequence=seq,
                timestamp=_timestamp(sample["ts"], limit, where),
                metric=metric,
                value=_value(sample["value"], where),
            )
        )
    return observations
