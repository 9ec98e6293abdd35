"""Where the simulator's Sparkplug messages go: an MQTT broker, or a function (the in-process ingest).

A `Sink` publishes (topic, payload) pairs and is told when an edge node starts a session, so that the
MQTT sink can register the node's NDEATH as the broker's Will (Sparkplug wants one connection per edge
node for that). Commands coming back (the MES's NCMD rebirth) are handed to `on_command`, from
whichever thread receives them; the simulator queues them and answers on its own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from apps.telemetry.ingest import BrokerAddress
from apps.telemetry.sparkplug.topic import NAMESPACE

OnCommand = Callable[[str, bytes], None]
CONNECT_TIMEOUT = 10.0


class Sink(Protocol):
    def begin_session(self, edge_node_id: str, death_topic: str, death_payload: bytes) -> None: ...

    def publish(self, topic: str, payload: bytes) -> None: ...

    def close(self) -> None: ...


class CallableSink:
    """Hands each message to `deliver`; whatever (topic, payload) commands it returns go to `on_command`.

    `ingest_payloads` returns the NCMD rebirths it wants published, so wiring it here closes the loop
    without a broker: `CallableSink(lambda t, p: ingest_payloads([(t, p)]).rebirths, on_command)`.
    """

    def __init__(
        self, deliver: Callable[[str, bytes], Iterable[tuple[str, bytes]] | None], on_command: OnCommand | None = None
    ) -> None:
        self.deliver = deliver
        self.on_command = on_command
        self.deaths: dict[str, tuple[str, bytes]] = {}

    def begin_session(self, edge_node_id: str, death_topic: str, death_payload: bytes) -> None:
        self.deaths[edge_node_id] = (death_topic, death_payload)

    def publish(self, topic: str, payload: bytes) -> None:
        commands = self.deliver(topic, payload)
        for command_topic, command in commands or ():
            if self.on_command is not None:
                self.on_command(command_topic, command)

    def close(self) -> None:
        """A clean shutdown: each node's death goes out as the broker would send its Will."""
        for topic, payload in self.deaths.values():
            self.publish(topic, payload)
        self.deaths.clear()


class BrokerUnavailable(ConnectionError):
    """The broker did not accept a connection within the timeout."""


class MqttSink:
    """One paho client (MQTT 3.1.1, QoS 1, clean session) per edge node, its NDEATH as the Will.

    Each node's client subscribes to its NCMD topic; paho reconnects on its own and a reconnect is
    reported to `on_command` as a rebirth request, so the node publishes its births again.
    """

    def __init__(self, url: str, group_id: str, on_command: OnCommand, client_prefix: str = "cnc-sim") -> None:
        self.address = BrokerAddress.parse(url)
        self.group_id = group_id
        self.on_command = on_command
        self.client_prefix = client_prefix
        self._clients: dict[str, mqtt.Client] = {}
        self._deaths: dict[str, tuple[str, bytes]] = {}
        self._last: dict[str, mqtt.MQTTMessageInfo] = {}
        self._lock = threading.Lock()

    def begin_session(self, edge_node_id: str, death_topic: str, death_payload: bytes) -> None:
        """Connect the node (first session) or re-register its Will (a rebirth keeps the connection)."""
        self._deaths[edge_node_id] = (death_topic, death_payload)
        client = self._clients.get(edge_node_id)
        if client is not None:
            client.will_set(death_topic, death_payload, qos=1)
            return
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{self.client_prefix}-{self.group_id}-{edge_node_id}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.will_set(death_topic, death_payload, qos=1)
        client.max_queued_messages_set(0)
        subscribed = threading.Event()
        command_topic = f"{NAMESPACE}/{self.group_id}/NCMD/{edge_node_id}"
        state = {"connects": 0}

        def on_connect(
            client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any = None
        ) -> None:
            if reason.is_failure:
                return
            client.subscribe(command_topic, qos=1)
            state["connects"] += 1
            if state["connects"] > 1:
                self.on_command(command_topic, b"")

        def on_subscribe(client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any = None) -> None:
            subscribed.set()

        def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            self.on_command(message.topic, message.payload)

        client.on_connect = on_connect
        client.on_message = on_message
        client.on_subscribe = on_subscribe
        try:
            client.connect(self.address.host, self.address.port, keepalive=30)
        except OSError as exc:
            raise BrokerUnavailable(f"cannot connect to {self.address.host}:{self.address.port}: {exc}") from exc
        client.loop_start()
        # Wait for the SUBACK, so that a rebirth asked right after the births is not missed.
        if not subscribed.wait(CONNECT_TIMEOUT):
            client.loop_stop()
            raise BrokerUnavailable(f"{self.address.host}:{self.address.port} did not accept {edge_node_id}")
        with self._lock:
            self._clients[edge_node_id] = client

    def publish(self, topic: str, payload: bytes) -> None:
        edge_node_id = topic.split("/")[3]
        info = self._clients[edge_node_id].publish(topic, payload, qos=1)
        self._last[edge_node_id] = info
        if info.rc == mqtt.MQTT_ERR_NO_CONN:
            return  # paho is reconnecting; the births after the reconnect bring the values back
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerUnavailable(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")

    def wait_published(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Block until every QoS 1 message was acknowledged (or the timeout)."""
        deadline = time.monotonic() + timeout
        for info in list(self._last.values()):
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError):
                continue  # the connection dropped: paho reconnects and the births re-send the values

    def close(self) -> None:
        """A clean shutdown: publish each node's death ourselves (a clean DISCONNECT drops the Will)."""
        for edge_node_id, (topic, payload) in self._deaths.items():
            if edge_node_id in self._clients:
                self.publish(topic, payload)
        self.wait_published()
        for client in self._clients.values():
            client.disconnect()
            client.loop_stop()
        self._clients.clear()
        self._deaths.clear()
