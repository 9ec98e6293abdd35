"""Sparkplug B topic names: `spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]`.

The topic, not the payload, says which session and which machine a message belongs to, so it is
parsed first and strictly: a topic that does not follow the namespace is rejected as "bad_topic"
before the payload is even looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from apps.telemetry.observations import MalformedMessage

NAMESPACE = "spBv1.0"


class MessageType(StrEnum):
    """The Sparkplug verbs. N* concern the edge node itself, D* one device behind it."""

    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    NDATA = "NDATA"
    NCMD = "NCMD"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    DDATA = "DDATA"
    DCMD = "DCMD"
    STATE = "STATE"

    @property
    def is_device(self) -> bool:
        return self.value.startswith("D")


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    """A parsed topic. For STATE, `group_id` is empty and `edge_node_id` holds the host application id."""

    group_id: str
    message_type: MessageType
    edge_node_id: str
    device_id: str | None = None

    @property
    def machine(self) -> str:
        """The work center the metrics describe: the device, or the edge node for node-level messages."""
        return self.device_id if self.device_id is not None else self.edge_node_id

    def __str__(self) -> str:
        if self.message_type is MessageType.STATE:
            return f"{NAMESPACE}/STATE/{self.edge_node_id}"
        parts = [NAMESPACE, self.group_id, self.message_type.value, self.edge_node_id]
        if self.device_id is not None:
            parts.append(self.device_id)
        return "/".join(parts)


def _check_id(kind: str, value: str, topic: str) -> None:
    # MQTT wildcards and empty levels can only come from a misconfigured publisher.
    if not value or "+" in value or "#" in value:
        raise MalformedMessage("bad_topic", f"{topic!r}: {kind} {value!r} is empty or holds an MQTT wildcard")


def parse_topic(topic: str) -> SparkplugTopic:
    """Split a Sparkplug B topic; MalformedMessage("bad_topic") for anything outside the namespace."""
    parts = topic.split("/")
    if parts[0] != NAMESPACE:
        raise MalformedMessage("bad_topic", f"{topic!r} is not in the {NAMESPACE} namespace")
    # Sparkplug 3.0 puts the primary host's state at spBv1.0/STATE/<host_id>.
    if len(parts) == 3 and parts[1] == MessageType.STATE.value:
        _check_id("host id", parts[2], topic)
        return SparkplugTopic(group_id="", message_type=MessageType.STATE, edge_node_id=parts[2])
    if len(parts) not in (4, 5):
        raise MalformedMessage("bad_topic", f"{topic!r} has {len(parts)} levels, Sparkplug uses 4 or 5")
    try:
        message_type = MessageType(parts[2])
    except ValueError:
        raise MalformedMessage("bad_topic", f"{topic!r}: {parts[2]!r} is not a Sparkplug message type") from None
    if message_type is MessageType.STATE:
        raise MalformedMessage("bad_topic", f"{topic!r}: STATE topics are {NAMESPACE}/STATE/<host_id>")
    expected_levels = 5 if message_type.is_device else 4
    if len(parts) != expected_levels:
        raise MalformedMessage(
            "bad_topic", f"{topic!r}: {message_type} needs {expected_levels} levels, got {len(parts)}"
        )
    _check_id("group id", parts[1], topic)
    _check_id("edge node id", parts[3], topic)
    device_id = None
    if message_type.is_device:
        device_id = parts[4]
        _check_id("device id", device_id, topic)
    return SparkplugTopic(group_id=parts[1], message_type=message_type, edge_node_id=parts[3], device_id=device_id)
