"""The simulated machines as Sparkplug B edge nodes: one per department, one device per machine.

A session is NBIRTH (bdSeq, "Node Control/Rebirth") followed by a DBIRTH per machine with every metric,
its alias and datatype; then DDATA carries only aliases, several values per message, each with its own
timestamp. `seq` runs 0..255 per node and wraps. A rebirth request (NCMD "Node Control/Rebirth") is
answered with the births again under the same bdSeq; `bdSeq` counts up per simulator run start only.

Payload timestamps of a node strictly increase (at least 1 ms apart): the MES recognises a redelivery
by (seq, timestamp) among a node's last 256 messages, so two messages of one tick must differ in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apps.telemetry.observations import Value
from apps.telemetry.simulator.model import LASER_POWER, PART_COUNT, POWER_KW, SPINDLE_LOAD, Event, MachineSpec
from apps.telemetry.simulator.sinks import Sink
from apps.telemetry.sparkplug import DataType, MetricSample, encode_payload, parse_payload
from apps.telemetry.sparkplug.codec import BD_SEQ_METRIC, REBIRTH_METRIC, to_ms
from apps.telemetry.sparkplug.topic import MessageType, SparkplugTopic, parse_topic

SEQ_RANGE = 256
ONE_MS = timedelta(milliseconds=1)


def datatype_of(metric: str) -> int:
    if metric == PART_COUNT:
        return DataType.Int64
    if metric in (LASER_POWER, SPINDLE_LOAD, POWER_KW):
        return DataType.Double
    return DataType.String


def edge_node_id(department: str) -> str:
    return f"sim-{department}"


@dataclass
class EdgeNode:
    """One department's gateway: its session counters and its machines in birth order."""

    group_id: str
    node_id: str
    machines: list[MachineSpec]
    bd_seq: int = 0
    seq: int = -1
    last_ms: int = 0
    born: bool = False
    aliases: dict[str, dict[str, int]] = field(default_factory=dict)

    def topic(self, kind: MessageType, device: str | None = None) -> str:
        return str(SparkplugTopic(self.group_id, kind, self.node_id, device))

    def next_seq(self) -> int:
        self.seq = (self.seq + 1) % SEQ_RANGE
        return self.seq

    def stamp(self, moment: datetime) -> datetime:
        """The payload timestamp: `moment`, moved 1 ms past the previous message when needed."""
        ms = max(to_ms(moment), self.last_ms + 1)
        self.last_ms = ms
        return moment + (ms - to_ms(moment)) * ONE_MS

    def death(self) -> bytes:
        return encode_payload(
            [MetricSample(name=BD_SEQ_METRIC, datatype=DataType.Int64, value=self.bd_seq)], timestamp=None, seq=None
        )


class SparkplugEmitter:
    """Turns model events into Sparkplug messages on a `Sink`."""

    def __init__(self, machines: Sequence[MachineSpec], sink: Sink, *, group_id: str, bd_seq: int = 0) -> None:
        self.sink = sink
        self.group_id = group_id
        self.nodes: dict[str, EdgeNode] = {}
        for spec in machines:
            node_id = edge_node_id(spec.department)
            node = self.nodes.setdefault(node_id, EdgeNode(group_id, node_id, [], bd_seq=bd_seq))
            node.machines.append(spec)
            node.aliases[spec.code] = {metric: alias for alias, metric in enumerate(spec.metrics, start=1)}
        self.node_of = {spec.code: edge_node_id(spec.department) for spec in machines}
        self.messages = 0

    def _send(self, topic: str, payload: bytes) -> None:
        self.messages += 1
        self.sink.publish(topic, payload)

    def birth(self, node: EdgeNode, now: datetime, values: Mapping[str, Mapping[str, Value]]) -> None:
        """NBIRTH, then a DBIRTH per machine with its current values; seq starts at 0 again."""
        self.sink.begin_session(node.node_id, node.topic(MessageType.NDEATH), node.death())
        node.seq = -1
        node_metrics = [
            MetricSample(name=BD_SEQ_METRIC, datatype=DataType.Int64, value=node.bd_seq),
            MetricSample(name=REBIRTH_METRIC, datatype=DataType.Boolean, value=False),
        ]
        self._send(
            node.topic(MessageType.NBIRTH),
            encode_payload(node_metrics, timestamp=node.stamp(now), seq=node.next_seq()),
        )
        for spec in node.machines:
            metrics = [
                MetricSample(name=metric, alias=alias, datatype=datatype_of(metric), value=values[spec.code][metric])
                for metric, alias in node.aliases[spec.code].items()
            ]
            self._send(
                node.topic(MessageType.DBIRTH, spec.code),
                encode_payload(metrics, timestamp=node.stamp(now), seq=node.next_seq()),
            )
        node.born = True

    def birth_all(self, now: datetime, values: Mapping[str, Mapping[str, Value]]) -> None:
        for node in self.nodes.values():
            self.birth(node, now, values)

    def data(self, code: str, now: datetime, events: Iterable[Event]) -> None:
        """One DDATA with every event of the machine since the last one (aliases only, own timestamps)."""
        node = self.nodes[self.node_of[code]]
        aliases = node.aliases[code]
        metrics = [
            MetricSample(
                alias=aliases[event.metric],
                datatype=datatype_of(event.metric),
                value=event.value,
                timestamp=event.at,
                send_datatype=False,
            )
            for event in events
        ]
        if metrics:
            self._send(
                node.topic(MessageType.DDATA, code),
                encode_payload(metrics, timestamp=node.stamp(now), seq=node.next_seq()),
            )

    def close(self) -> None:
        for node in self.nodes.values():
            node.born = False
        self.sink.close()

    def rebirth_target(self, topic: str, payload: bytes) -> EdgeNode | None:
        """The node an NCMD asks to rebirth (an empty payload: the sink reconnected), or None."""
        try:
            parsed = parse_topic(topic)
        except ValueError:
            return None
        node = self.nodes.get(parsed.edge_node_id)
        if node is None or parsed.message_type is not MessageType.NCMD or parsed.group_id != self.group_id:
            return None
        if not payload:
            return node
        message = parse_payload(payload)
        asked = any(metric.name == REBIRTH_METRIC and metric.boolean_value for metric in message.metrics)
        return node if asked else None
