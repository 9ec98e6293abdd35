"""What every telemetry source produces: normalised observations, explicit gaps, and malformed input.

MQTT (Sparkplug B and the plain JSON topic tree), MTConnect and OPC UA each turn what a machine
sends into these, and the rest of the pipeline (storage, machine state, live push) reads only
these. Nothing here imports Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

Value = float | int | str | bool | None  # None: the source says the value is unavailable


class Observation(NamedTuple):
    """One sample of one metric of one machine.

    `machine` is the work center code. `stream` names the ordered source the sample came from
    (an MTConnect agent instance, a Sparkplug device session, a JSON topic) and `sequence` its
    position there: (machine, stream, sequence) is unique, so a redelivered sample is recognised
    and a missing one is visible as a hole. `timestamp` is timezone-aware UTC.

    A named tuple, not a frozen dataclass: the ingest makes one per sample, and a tuple is built in
    a third of the time (0.45 against 1.5 µs here).
    """

    machine: str
    stream: str
    sequence: int
    timestamp: datetime
    metric: str
    value: Value


@dataclass(frozen=True, slots=True)
class Block:
    """Evenly spaced numbers of one fast signal: the observations `first_sequence` .. + len(values) - 1.

    The i-th value was measured at `start + i * interval_us` microseconds. Stored as one row instead
    of one per value (see `storage.as_blocks` for when observations become a block).
    """

    machine: str
    stream: str
    first_sequence: int
    metric: str
    start: datetime
    interval_us: int
    values: list[float]


@dataclass(frozen=True, slots=True)
class Gap:
    """Samples a source lost for good (an agent's buffer wrapped, a sequence jumped): recorded, never invented."""

    machine: str
    stream: str
    first_missing: int
    last_missing: int
    detected_at: datetime
    reason: str


class MalformedMessage(ValueError):
    """A message that cannot be turned into observations; `reason` is a short code, the message says why.

    Reasons: "bad_json", "bad_protobuf", "unknown_machine", "wrong_type", "not_finite",
    "future_timestamp", "oversize", "bad_topic", "bad_document".
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)
