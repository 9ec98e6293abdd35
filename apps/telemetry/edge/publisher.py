"""One MQTT connection of the gateway (paho-mqtt 2.x, MQTT 3.1.1, QoS 1), driven from the gateway's loop.

A fresh paho client is made for every connection: paho re-sends its own unacknowledged messages when
an old client reconnects, and the gateway must be the only one deciding what is re-sent (from the
buffer, in order). The network loop runs in the caller's thread (`pump`), so the PUBACK callback and
the buffer's SQLite connection stay on one thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from apps.telemetry.edge.config import BrokerConfig


class BrokerUnavailable(ConnectionError):
    """The broker refused or did not answer the connection, or the connection dropped."""


class MqttConnection:
    """Publishes QoS 1 messages and reports each PUBACK's message id to `on_ack`."""

    def __init__(self, broker: BrokerConfig, on_ack: Callable[[int], None], max_inflight: int = 20) -> None:
        self.broker = broker
        self.on_ack = on_ack
        self.alive = False
        self._refused: str | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=broker.client_id, clean_session=True, protocol=mqtt.MQTTv311
        )
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.client.connect_timeout = broker.connect_timeout
        if broker.username is not None:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set()
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_publish = self._published

    def open(self) -> None:
        """Connect and wait for the CONNACK (up to connect_timeout)."""
        target = f"mqtt{'s' if self.broker.tls else ''}://{self.broker.host}:{self.broker.port}"
        try:
            self.client.connect(self.broker.host, self.broker.port, keepalive=self.broker.keepalive)
        except (OSError, ValueError) as exc:
            raise BrokerUnavailable(f"cannot connect to {target}: {exc}") from exc
        deadline = time.monotonic() + self.broker.connect_timeout
        while not self.alive and self._refused is None and time.monotonic() < deadline:
            if self.client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                break
        if not self.alive:
            self.close()
            raise BrokerUnavailable(f"{target} did not accept the connection: {self._refused or 'no CONNACK'}")

    def publish(self, topic: str, payload: bytes) -> int:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.alive = False
            raise BrokerUnavailable(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        return info.mid

    def pump(self, timeout: float) -> None:
        """Run the network loop once: send what is queued, read PUBACKs (calling on_ack), keep alive."""
        if self.client.loop(timeout=timeout) != mqtt.MQTT_ERR_SUCCESS:
            self.alive = False

    def close(self) -> None:
        self.alive = False
        # DISCONNECT is written (and the socket closed) by the next loop round.
        self.client.disconnect()
        self.client.loop(timeout=0.0)

    def _connected(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        else:
            self.alive = True

    def _disconnected(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self.alive = False

    def _published(self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any) -> None:
        if not reason.is_failure:
            self.on_ack(mid)
