"""Sparkplug B sessions: from a stream of (topic, payload) to Observations, one tracker per ingest worker.

Sparkplug is stateful: a BIRTH binds metric names to aliases and datatypes, later DATA may carry the
alias only, and a per-edge-node `seq` (0..255, wrapping) is the only way to see that a message was
lost. `SparkplugSessions.decode` keeps that state in memory and returns a `SparkplugResult`.

Keys for idempotent storage
    stream   = f"spb:{group}/{edge_node}/{device or ''}:{bdSeq}"
    sequence = message_key * 8192 + index,   message_key = payload_timestamp_ms * 256 + seq
`index` is 0 for the implied "availability" observation and 1 + the metric's position in the payload
for metrics. The key depends only on the message itself, never on what this worker saw before, so
an MQTT QoS 1 redelivery (same seq, same payload timestamp) gets the same (stream, sequence) even
after a worker restart, and a rebirth, which restarts seq at 0 under the same bdSeq, cannot reuse
an earlier key. It grows with the edge node's clock; at most 8191 metrics fit in one message (more
is "oversize"), and the product stays inside a signed 64-bit column until the year 2100.

What is rejected (MalformedMessage) and what is not
    A message is accepted or rejected whole: one bad metric rejects it, the worker dead-letters the
    raw payload, and no partial set of samples from it is ever stored. Checks on the message alone
    (topic, size, protobuf, seq/timestamp/bdSeq present, payload timestamp not > 5 minutes ahead of
    `received_at`) run before any state changes. Checks that need the session (datatype against the
    BIRTH, finite floats, metric timestamps, unknown machine) run after the seq and BIRTH/DEATH
    bookkeeping, so a rejected DATA still counts as received and does not cause a rebirth storm.
    Session mismatches are not rejections: DATA before any BIRTH, a seq gap, or an alias no BIRTH
    defined set `rebirth`; the metrics that cannot be resolved are dropped and counted in `unresolved`.
    A rebirth or gap noticed in a rejected message is reported with the next accepted one.

Online and offline are Observations, metric "availability", value "AVAILABLE" (NBIRTH/DBIRTH) or
"UNAVAILABLE" (NDEATH for the node and all its online devices, DDEATH, or an NBIRTH under a new
bdSeq while the previous session never sent its NDEATH), the same vocabulary as MTConnect. A session
end has no seq of its own: it is stamped with `received_at` (the NDEATH is the broker's Will, built when
the node connected, so its own timestamp is stale) and keyed one past the node's last message key, and a
redelivered NDEATH returns the same samples. Availability is emitted only for known machines: an
edge node that is a gateway, not a work center, has none, and its own protocol metrics (bdSeq,
"Node Control/*") are never observations; any other metric for a machine not in `known_machines`
rejects the message as "unknown_machine".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apps.telemetry.observations import Gap, MalformedMessage, Observation, Value
from apps.telemetry.sparkplug.codec import (
    BD_SEQ_METRIC,
    KNOWN_DATATYPES,
    HostState,
    decode_state,
    from_ms,
    is_scalar,
    metric_value,
    parse_payload,
    to_ms,
)
from apps.telemetry.sparkplug.sparkplug_b_pb2 import Payload
from apps.telemetry.sparkplug.topic import MessageType, SparkplugTopic, parse_topic

DEFAULT_MAX_BYTES = 256 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)
DEFAULT_REBIRTH_INTERVAL = timedelta(seconds=10)
INDEX_RANGE = 1 << 13  # metrics per message plus the availability slot
MAX_METRICS = INDEX_RANGE - 1
SEQ_RANGE = 256
RECENT_MESSAGES = SEQ_RANGE  # how far back a redelivery is recognised

AVAILABILITY = "availability"
AVAILABLE = "AVAILABLE"
UNAVAILABLE = "UNAVAILABLE"
_PLUMBING_PREFIXES = ("Node Control/", "Device Control/")
_SEQUENCED = frozenset(
    {MessageType.NBIRTH, MessageType.NDATA, MessageType.DBIRTH, MessageType.DDATA, MessageType.DDEATH}
)
_BIRTHS = frozenset({MessageType.NBIRTH, MessageType.DBIRTH})


def message_key(timestamp_ms: int, seq: int) -> int:
    """The redelivery-stable number of one message of an edge node (see the module docstring)."""
    return timestamp_ms * SEQ_RANGE + seq


def stream_name(group_id: str, edge_node_id: str, device_id: str | None, bd_seq: int) -> str:
    return f"spb:{group_id}/{edge_node_id}/{device_id or ''}:{bd_seq}"


def _is_plumbing(name: str) -> bool:
    return name == BD_SEQ_METRIC or name.startswith(_PLUMBING_PREFIXES)


@dataclass(frozen=True, slots=True)
class SparkplugResult:
    """What one message meant. `rebirth` = (group_id, edge_node_id): publish `rebirth_command` for it."""

    topic: SparkplugTopic
    observations: list[Observation] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    rebirth: tuple[str, str] | None = None
    unresolved: int = 0
    skipped: int = 0
    duplicate: bool = False
    commands: list[tuple[str, Value]] = field(default_factory=list)
    host_state: HostState | None = None


@dataclass(frozen=True, slots=True)
class _Definition:
    """A metric as its BIRTH declared it; `plumbing` and `scalar` are worked out once, not per sample."""

    name: str
    datatype: int
    plumbing: bool = False
    scalar: bool = True


@dataclass(slots=True)
class _Births:
    """Metric definitions from one BIRTH: how DATA of the same node or device is read."""

    by_alias: dict[int, _Definition] = field(default_factory=dict)
    by_name: dict[str, _Definition] = field(default_factory=dict)

    @classmethod
    def of(cls, message: Payload) -> _Births:
        births = cls()
        for metric in message.metrics:
            definition = _Definition(
                name=metric.name,
                datatype=metric.datatype,
                plumbing=_is_plumbing(metric.name),
                scalar=is_scalar(metric.datatype),
            )
            births.by_name[metric.name] = definition
            if metric.HasField("alias"):
                births.by_alias[metric.alias] = definition
        return births

    def resolve(self, metric: Payload.Metric) -> _Definition | None:
        if metric.HasField("alias"):
            return self.by_alias.get(metric.alias)
        return self.by_name.get(metric.name)


@dataclass(slots=True)
class _Device:
    births: _Births
    online: bool = True


@dataclass(slots=True)
class _Node:
    """One edge node as this worker knows it: its current session (bdSeq), seq position and births."""

    bd_seq: int | None = None
    online: bool = False
    last_seq: int = 0
    last_key: int = 0
    recent: OrderedDict[tuple[int, int], None] = field(default_factory=OrderedDict)
    births: _Births = field(default_factory=_Births)
    devices: dict[str, _Device] = field(default_factory=dict)
    needs_rebirth: bool = False
    rebirth_requested_at: datetime | None = None
    pending_gaps: list[Gap] = field(default_factory=list)
    death: list[Observation] = field(default_factory=list)

    def remember(self, seq: int, timestamp_ms: int) -> None:
        self.recent[(seq, timestamp_ms)] = None
        if len(self.recent) > RECENT_MESSAGES:
            self.recent.popitem(last=False)


def _bd_seq(message: Payload, topic: SparkplugTopic) -> int:
    for metric in message.metrics:
        if metric.name == BD_SEQ_METRIC and metric.WhichOneof("value") in ("long_value", "int_value"):
            return int(metric.long_value or metric.int_value)
    raise MalformedMessage("bad_protobuf", f"{topic}: {topic.message_type} has no integer bdSeq metric")


def _check_message(topic: SparkplugTopic, message: Payload, limit_ms: int) -> None:
    """What the payload alone must satisfy before it may touch the session state."""
    kind = topic.message_type
    if len(message.metrics) > MAX_METRICS:
        raise MalformedMessage("oversize", f"{topic}: {len(message.metrics)} metrics, at most {MAX_METRICS} fit")
    if kind in _SEQUENCED:
        if not message.HasField("seq") or message.seq >= SEQ_RANGE:
            shown = message.seq if message.HasField("seq") else "none"
            raise MalformedMessage("bad_protobuf", f"{topic}: seq must be 0..255, got {shown}")
        if not message.HasField("timestamp"):
            raise MalformedMessage("bad_protobuf", f"{topic}: {kind} payload has no timestamp")
        if message.timestamp > limit_ms:
            raise MalformedMessage(
                "future_timestamp", f"{topic}: payload timestamp {message.timestamp} ms is over 5 minutes ahead"
            )
    if kind in _BIRTHS:
        aliases: set[int] = set()
        names: set[str] = set()
        for metric in message.metrics:
            if not metric.name or not metric.HasField("datatype") or metric.datatype not in KNOWN_DATATYPES:
                raise MalformedMessage(
                    "bad_protobuf", f"{topic}: every BIRTH metric needs a name and a Sparkplug datatype"
                )
            if metric.name in names or (metric.HasField("alias") and metric.alias in aliases):
                raise MalformedMessage("bad_protobuf", f"{topic}: metric {metric.name!r} or its alias is repeated")
            names.add(metric.name)
            if metric.HasField("alias"):
                aliases.add(metric.alias)
    elif any(not metric.name and not metric.HasField("alias") for metric in message.metrics):
        raise MalformedMessage("bad_protobuf", f"{topic}: a metric has neither a name nor an alias")
    if kind in (MessageType.NBIRTH, MessageType.NDEATH):
        _bd_seq(message, topic)


class SparkplugSessions:
    """The Sparkplug B state of one ingest worker (not thread-safe: one worker, one consumer loop)."""

    def __init__(self, *, rebirth_interval: timedelta = DEFAULT_REBIRTH_INTERVAL) -> None:
        self.rebirth_interval = rebirth_interval
        self._nodes: dict[tuple[str, str], _Node] = {}

    def decode(
        self,
        topic: str,
        payload: bytes,
        *,
        received_at: datetime,
        known_machines: Container[str],
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> SparkplugResult:
        """One MQTT message to a result; MalformedMessage (the whole message is rejected) when it is invalid.

        `received_at` is the timezone-aware moment the worker got the message: the future-timestamp limit
        and the NDEATH time come from it, never from the local clock, so decoding is reproducible.
        """
        parsed = parse_topic(topic)
        if len(payload) > max_bytes:
            raise MalformedMessage("oversize", f"{parsed}: {len(payload)} bytes, the limit is {max_bytes}")
        if parsed.message_type is MessageType.STATE:
            return SparkplugResult(topic=parsed, host_state=decode_state(parsed.edge_node_id, payload))
        message = parse_payload(payload)
        limit_ms = to_ms(received_at + FUTURE_TOLERANCE)
        _check_message(parsed, message, limit_ms)
        node = self._nodes.setdefault((parsed.group_id, parsed.edge_node_id), _Node())
        if parsed.message_type in (MessageType.NCMD, MessageType.DCMD):
            return SparkplugResult(topic=parsed, commands=self._commands(node, parsed, message))
        reading = _Reading(
            topic=parsed, message=message, node=node, received_at=received_at, known=known_machines, limit_ms=limit_ms
        )
        if parsed.message_type is MessageType.NDEATH:
            reading.death()
        elif parsed.message_type is MessageType.NBIRTH:
            reading.node_birth()
        else:
            reading.sequenced()
        return SparkplugResult(
            topic=parsed,
            observations=reading.observations,
            gaps=self._take_gaps(node),
            rebirth=self._rebirth_due(node, parsed, received_at),
            unresolved=reading.unresolved,
            skipped=reading.skipped,
            duplicate=reading.duplicate,
        )

    def _commands(self, node: _Node, topic: SparkplugTopic, message: Payload) -> list[tuple[str, Value]]:
        births = node.births
        if topic.device_id is not None:
            device = node.devices.get(topic.device_id)
            births = device.births if device is not None else _Births()
        commands: list[tuple[str, Value]] = []
        for metric in message.metrics:
            definition = births.resolve(metric)
            name = metric.name or (definition.name if definition is not None else "")
            datatype = metric.datatype if metric.HasField("datatype") else (definition.datatype if definition else 0)
            if name and is_scalar(datatype):
                commands.append((name, metric_value(metric, datatype, name)))
        return commands

    @staticmethod
    def _take_gaps(node: _Node) -> list[Gap]:
        gaps, node.pending_gaps = node.pending_gaps, []
        return gaps

    def _rebirth_due(self, node: _Node, topic: SparkplugTopic, now: datetime) -> tuple[str, str] | None:
        """Ask again only after `rebirth_interval`: a busy node would otherwise get one NCMD per message."""
        if not node.needs_rebirth:
            return None
        if node.rebirth_requested_at is not None and now - node.rebirth_requested_at < self.rebirth_interval:
            return None
        node.rebirth_requested_at = now
        return (topic.group_id, topic.edge_node_id)


@dataclass(slots=True)
class _Reading:
    """The decoding of one BIRTH, DATA or DEATH message against its node's state."""

    topic: SparkplugTopic
    message: Payload
    node: _Node
    received_at: datetime
    known: Container[str]
    limit_ms: int
    observations: list[Observation] = field(default_factory=list)
    unresolved: int = 0
    skipped: int = 0
    duplicate: bool = False

    @property
    def key(self) -> int:
        return message_key(self.message.timestamp, self.message.seq)

    def stream(self, device_id: str | None) -> str:
        assert self.node.bd_seq is not None
        return stream_name(self.topic.group_id, self.topic.edge_node_id, device_id, self.node.bd_seq)

    def node_birth(self) -> None:
        node, message = self.node, self.message
        bd_seq = _bd_seq(message, self.topic)
        moment = (message.seq, message.timestamp)
        if node.bd_seq == bd_seq and moment in node.recent:
            self.duplicate = True
        else:
            if node.bd_seq != bd_seq:
                # A new connection. Its predecessor's NDEATH never came if the node still looks online.
                if node.online:
                    self.go_offline(from_ms(message.timestamp))
                node.recent.clear()
                node.last_key = self.key
            node.bd_seq, node.online, node.last_seq = bd_seq, True, message.seq
            node.last_key = max(node.last_key, self.key)
            node.remember(*moment)
            node.births = _Births.of(message)
            node.devices = {}
            node.needs_rebirth, node.rebirth_requested_at, node.death = False, None, []
        self.availability(self.topic.edge_node_id, None, AVAILABLE)
        self.metrics(node.births, None)

    def sequenced(self) -> None:
        """NDATA, DBIRTH, DDATA, DDEATH: seq bookkeeping, then the message's own meaning."""
        node, message, kind = self.node, self.message, self.topic.message_type
        moment = (message.seq, message.timestamp)
        if moment in node.recent:
            # Redelivered: decoded again with the same keys, the seq position stays where it is.
            self.duplicate = True
        elif not node.online:
            node.needs_rebirth = True
            self.unresolved = len(message.metrics) if kind is not MessageType.DDEATH else 0
            return
        else:
            expected = (node.last_seq + 1) % SEQ_RANGE
            if message.seq != expected:
                node.needs_rebirth = True
                self.record_gap(expected)
            node.last_seq, node.last_key = message.seq, max(node.last_key, self.key)
            node.remember(*moment)
        device_id = self.topic.device_id
        if kind is MessageType.NDATA:
            self.metrics(node.births, None)
            return
        assert device_id is not None
        if kind is MessageType.DBIRTH:
            if not self.duplicate or device_id not in node.devices:
                node.devices[device_id] = _Device(births=_Births.of(message))
            self.availability(device_id, device_id, AVAILABLE)
            self.metrics(node.devices[device_id].births, device_id)
            return
        device = node.devices.get(device_id)
        if kind is MessageType.DDEATH:
            if device is not None:
                device.online = False
                self.availability(device_id, device_id, UNAVAILABLE)
        elif device is None or not (device.online or self.duplicate):
            node.needs_rebirth = True
            self.unresolved = len(message.metrics)
        else:
            self.metrics(device.births, device_id)

    def death(self) -> None:
        """NDEATH: honoured only for the session it names; an older session's late Will is ignored."""
        node = self.node
        if node.bd_seq != _bd_seq(self.message, self.topic):
            return
        if node.online:
            node.needs_rebirth = False
            self.go_offline(self.received_at)
            node.death = list(self.observations)
        else:
            self.duplicate = True
            self.observations = list(node.death)

    def go_offline(self, moment: datetime) -> None:
        """The node's session ended: it and every device still online become UNAVAILABLE after its last message."""
        node = self.node
        sequence = (node.last_key + 1) * INDEX_RANGE
        if self.topic.edge_node_id in self.known:
            self.observations.append(
                Observation(self.topic.edge_node_id, self.stream(None), sequence, moment, AVAILABILITY, UNAVAILABLE)
            )
        for device_id, device in node.devices.items():
            if device.online:
                device.online = False
                if device_id in self.known:
                    self.observations.append(
                        Observation(device_id, self.stream(device_id), sequence, moment, AVAILABILITY, UNAVAILABLE)
                    )
        node.online = False

    def record_gap(self, expected: int) -> None:
        """A seq jump: every stream of the node may have lost samples between its last key and this one."""
        node = self.node
        if self.key <= node.last_key + 1:
            return
        first, last = (node.last_key + 1) * INDEX_RANGE, self.key * INDEX_RANGE - 1
        reason = f"sparkplug seq jumped from {node.last_seq} to {self.message.seq} (expected {expected})"
        streams = [(self.topic.edge_node_id, None)] + [(d, d) for d, device in node.devices.items() if device.online]
        for machine, device_id in streams:
            if machine in self.known:
                node.pending_gaps.append(Gap(machine, self.stream(device_id), first, last, self.received_at, reason))

    def availability(self, machine: str, device_id: str | None, value: str) -> None:
        if machine in self.known:
            self.observations.append(
                Observation(
                    machine,
                    self.stream(device_id),
                    self.key * INDEX_RANGE,
                    from_ms(self.message.timestamp),
                    AVAILABILITY,
                    value,
                )
            )

    def metrics(self, births: _Births, device_id: str | None) -> None:
        """The message's metrics as observations; raises on the first invalid one (the message is rejected).

        This loop runs once per sample, so the lookups it repeats are bound to locals first.
        """
        machine = device_id if device_id is not None else self.topic.edge_node_id
        stream = self.stream(device_id)
        base = self.key * INDEX_RANGE + 1
        message_ms, limit_ms = self.message.timestamp, self.limit_ms
        by_alias, by_name = births.by_alias, births.by_name
        append = self.observations.append
        known: bool | None = None
        for sequence, metric in enumerate(self.message.metrics, base):
            definition = by_alias.get(metric.alias) if metric.HasField("alias") else by_name.get(metric.name)
            if definition is None:
                self.node.needs_rebirth = True
                self.unresolved += 1
                continue
            if definition.plumbing:
                continue
            if not definition.scalar:
                self.skipped += 1
                continue
            if metric.HasField("datatype") and metric.datatype != definition.datatype:
                raise MalformedMessage(
                    "wrong_type",
                    f"{self.topic}: metric {definition.name!r} was born as datatype {definition.datatype}, "
                    f"now sent as {metric.datatype}",
                )
            timestamp_ms = metric.timestamp if metric.HasField("timestamp") else message_ms
            if timestamp_ms > limit_ms:
                raise MalformedMessage(
                    "future_timestamp",
                    f"{self.topic}: metric {definition.name!r} at {timestamp_ms} ms is over 5 minutes ahead",
                )
            value = metric_value(metric, definition.datatype, definition.name)
            if known is None:
                known = machine in self.known
            if not known:
                raise MalformedMessage("unknown_machine", f"{self.topic}: {machine!r} is not a known machine")
            append(Observation(machine, stream, sequence, from_ms(timestamp_ms), definition.name, value))
