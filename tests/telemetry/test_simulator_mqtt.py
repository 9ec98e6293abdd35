"""The simulator against the real Mosquitto: births and data arrive, an NCMD rebirth is answered."""

from __future__ import annotations

import queue
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

from apps.telemetry.ingest import BrokerAddress
from apps.telemetry.simulator.model import FixedCalendar, Kind, MachineSpec
from apps.telemetry.simulator.runner import Simulator
from apps.telemetry.simulator.sinks import MqttSink, OnCommand, Sink
from apps.telemetry.sparkplug import SparkplugSessions, parse_payload, rebirth_command

WAIT = 10.0
MACHINES = [MachineSpec("LAS-01", "laser", Kind.LASER), MachineSpec("BRK-01", "forming", Kind.BRAKE)]


def broker_url() -> str:
    return getattr(settings, "MQTT_URL", "") or "mqtt://127.0.0.1:1883"


class Subscriber:
    def __init__(self, group: str) -> None:
        address = BrokerAddress.parse(broker_url())
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.subscribed = queue.Queue[int]()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{group}", protocol=mqtt.MQTTv311)
        if address.username is not None:
            self.client.username_pw_set(address.username, address.password)
        self.client.on_message = lambda client, userdata, message: self.messages.put((message.topic, message.payload))
        self.client.on_subscribe = lambda *args: self.subscribed.put(1)
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        self.client.subscribe(f"spBv1.0/{group}/#", qos=1)
        self.subscribed.get(timeout=WAIT)

    def take(self, count: int) -> list[tuple[str, bytes]]:
        return [self.messages.get(timeout=WAIT) for _ in range(count)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def per_node(messages: list[tuple[str, bytes]]) -> dict[str, list[str]]:
    """Topic tails per edge node, in arrival order: {"sim-laser": ["NBIRTH", "DBIRTH/LAS-01", ...]}."""
    nodes: dict[str, list[str]] = {}
    for topic, _payload in messages:
        _namespace, _group, kind, node, *device = topic.split("/")
        nodes.setdefault(node, []).append("/".join([kind, *device]))
    return nodes


@pytest.fixture
def group() -> str:
    return f"simtest-{uuid.uuid4().hex[:10]}"


def test_births_data_and_rebirth_over_the_broker(group: str) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    calendar = FixedCalendar([(start, start + timedelta(hours=2))])
    sinks: list[MqttSink] = []

    def make_sink(on_command: OnCommand) -> Sink:
        sink = MqttSink(broker_url(), group, on_command, client_prefix=f"sim-{group}")
        sinks.append(sink)
        return sink

    subscriber = Subscriber(group)
    simulator = Simulator(MACHINES, lambda spec: calendar, start=start, seed=1, make_sink=make_sink, group_id=group)
    try:
        try:
            simulator.step(start + timedelta(minutes=30))
            sinks[0].wait_published()
            received = subscriber.take(6)
            # One connection per edge node: each node's messages arrive in order, the two nodes interleave.
            assert per_node(received) == {
                "sim-laser": ["NBIRTH", "DBIRTH/LAS-01", "DDATA/LAS-01"],
                "sim-forming": ["NBIRTH", "DBIRTH/BRK-01", "DDATA/BRK-01"],
            }
            sessions = SparkplugSessions()
            for topic, payload in received:
                result = sessions.decode(
                    topic, payload, received_at=datetime.now(UTC), known_machines={"LAS-01", "BRK-01"}
                )
                assert (result.rebirth, result.gaps, result.unresolved) == (None, [], 0)
            laser_data = next(payload for topic, payload in received if topic.endswith("DDATA/sim-laser/LAS-01"))
            assert len(parse_payload(laser_data).metrics) == 19

            # The MES asks the laser node to rebirth: the next step starts with its births, seq 0 again.
            topic, payload = rebirth_command(group, "sim-laser", now=datetime.now(UTC))
            subscriber.client.publish(topic, payload, qos=1).wait_for_publish(WAIT)
            assert subscriber.take(1)[0][0] == topic
            assert simulator.wait_for_command(WAIT)
            simulator.step(start + timedelta(minutes=31))
            sinks[0].wait_published()
            again = subscriber.take(4)
            assert per_node(again) == {
                "sim-laser": ["NBIRTH", "DBIRTH/LAS-01", "DDATA/LAS-01"],
                "sim-forming": ["DDATA/BRK-01"],
            }
            assert [parse_payload(payload).seq for topic, payload in again if "/sim-laser" in topic] == [0, 1, 2]
            assert simulator.rebirths == 1
        finally:
            simulator.close()
        # A clean shutdown publishes each node's death itself; take them before the subscriber disconnects.
        deaths = subscriber.take(2)
    finally:
        subscriber.close()
    assert sorted(topic for topic, _ in deaths) == [
        f"spBv1.0/{group}/NDEATH/sim-forming",
        f"spBv1.0/{group}/NDEATH/sim-laser",
    ]
