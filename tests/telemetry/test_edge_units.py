"""The edge gateway's parts without a broker: configuration, PUBACK-driven deletion, topics, OPC UA adapter."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from asyncua import ua
from django.core.management import CommandError, call_command

from apps.telemetry.edge.buffer import Buffer
from apps.telemetry.edge.config import BrokerConfig, ConfigError, SourceConfig, load_config, parse_config
from apps.telemetry.edge.gateway import Gateway, topic_for
from apps.telemetry.edge.opcua import OpcUaSource
from apps.telemetry.edge.publisher import BrokerUnavailable
from apps.telemetry.observations import Gap, Observation
from apps.telemetry.opcua import MachineMap, MappedVariable, OpcUaSubscriber, Resolution

REPO = Path(__file__).resolve().parents[2]
START = 1_800_000_000_000


def test_the_example_configuration_loads() -> None:
    config = load_config(REPO / "deploy" / "edge-gateway.example.toml")
    assert config.buffer == REPO / "deploy" / "var" / "edge-buffer.sqlite3"
    assert (config.max_buffer_bytes, config.poll_interval, config.status_interval) == (512 * 2**20, 1.0, 60.0)
    assert config.broker == BrokerConfig(
        host="mes.plant.local",
        port=1883,
        tls=False,
        username=None,
        password=None,
        client_id="edge-hall-2",
        keepalive=30,
        connect_timeout=5.0,
        reconnect_min=0.5,
        reconnect_max=30.0,
    )
    assert config.sources == (
        SourceConfig(
            kind="mtconnect",
            name="hall-2-agent",
            url="http://192.168.10.20:5000",
            department="milling",
            machines={"M12346": "WC-MILL-01", "VF2-1": "WC-MILL-02"},
            timeout=10.0,
            count=1000,
        ),
        SourceConfig(
            kind="opcua",
            name="hall-2-lathes",
            url="opc.tcp://192.168.10.30:4840",
            department="turning",
            node_map=REPO / "deploy" / "opcua-nodes.yaml",
        ),
    )


def minimal(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "gateway": {"buffer": "b.sqlite3"},
        "broker": {"url": "mqtts://edge:secret@broker.local", "client_id": "edge-1"},
        "sources": [{"kind": "mtconnect", "name": "a", "url": "http://agent:5000", "department": "milling"}],
    }
    for key, value in changes.items():
        document[key] = value
    return document


def test_broker_url_gives_tls_port_and_credentials() -> None:
    broker = parse_config(minimal(), Path("/etc/edge")).broker
    assert (broker.host, broker.port, broker.tls, broker.username, broker.password) == (
        "broker.local",
        8883,
        True,
        "edge",
        "secret",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gateway": {"buffer": "b", "max_buffer": 5}}, "[gateway]: unknown key(s) max_buffer"),
        ({"gateway": {"buffer": "b", "max_buffer_mb": 0}}, "[gateway]: max_buffer_mb must be a positive number, got 0"),
        ({"gateway": {}}, "[gateway] needs `buffer`: the path of the SQLite buffer file"),
        (
            {"broker": {"url": "tcp://x", "client_id": "e"}},
            "[broker] url 'tcp://x' must look like mqtt://host:1883 or mqtts://host:8883",
        ),
        ({"sources": []}, "at least one [[sources]] entry is needed"),
        (
            {"sources": [{"kind": "modbus", "name": "a", "url": "u", "department": "d"}]},
            "[[sources]] #1: kind 'modbus' is not one of mtconnect, opcua",
        ),
        ({"sources": [{"kind": "mtconnect", "name": "a"}]}, "[[sources]] #1 needs url, department"),
    ],
)
def test_configuration_mistakes_are_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(minimal(**changes), Path("/etc/edge"))
    assert str(raised.value) == message


def test_topic_levels_cannot_carry_slashes_or_wildcards() -> None:
    assert topic_for("milling", "WC/1", "a+b#") == "shopfloor/milling/WC_1/a_b_"
    assert topic_for("milling", "WC-1", "") == "shopfloor/milling/WC-1/_"


class FakeConnection:
    """Stands in for MqttConnection: records publishes, acknowledges only what the test says."""

    made: list[FakeConnection] = []

    def __init__(self, broker: BrokerConfig, on_ack: Callable[[int], None], max_inflight: int) -> None:
        self.on_ack = on_ack
        self.alive = False
        self.published: list[tuple[int, str, bytes]] = []
        FakeConnection.made.append(self)

    def open(self) -> None:
        self.alive = True

    def publish(self, topic: str, payload: bytes) -> int:
        if not self.alive:
            raise BrokerUnavailable("gone")
        self.published.append((len(self.published) + 1, topic, payload))
        return len(self.published)

    def pump(self, timeout: float) -> None:
        return

    def close(self) -> None:
        self.alive = False


class OneShot:
    name = "one"
    department = "milling"

    def __init__(self, items: list[Observation | Gap]) -> None:
        self.items = items

    def poll(self) -> list[Observation | Gap]:
        items, self.items = self.items, []
        return items

    def checkpoint(self) -> str | None:
        return None

    def close(self) -> None:
        return


def sample(sequence: int, metric: str) -> Observation:
    return Observation("WC-1", "mtconnect:7", sequence, datetime(2026, 3, 2, 6, 0, sequence, tzinfo=UTC), metric, 1)


def batch(*samples: tuple[int, int]) -> dict[str, list[dict[str, object]]]:
    """The JSON batch of `load`/`rpm` samples: (gateway seq, agent sequence = second of the timestamp)."""
    return {
        "samples": [
            {
                "seq": seq,
                "ts": f"2026-03-02T06:00:0{source}+00:00",
                "value": 1,
                "source": "mtconnect:7",
                "source_seq": source,
            }
            for seq, source in samples
        ]
    }


def test_rows_leave_the_buffer_only_on_puback_and_are_republished_with_the_same_seq(tmp_path: Path) -> None:
    config = parse_config(minimal(gateway={"buffer": "b.sqlite3", "batch_size": 3}), tmp_path)
    items: list[Observation | Gap] = [sample(1, "load"), sample(2, "rpm"), sample(3, "load"), sample(4, "load")]
    FakeConnection.made.clear()
    buffer = Buffer(config.buffer, clock=lambda: START / 1000)
    gateway = Gateway(config, [OneShot(items)], buffer, connector=FakeConnection)  # type: ignore[arg-type]
    gateway.poll_sources()
    assert gateway.connect(time.monotonic())
    gateway.publish_pending()
    first = FakeConnection.made[0]
    assert [(mid, topic, json.loads(payload)) for mid, topic, payload in first.published] == [
        (1, "shopfloor/milling/WC-1/load", batch((START, 1), (START + 1, 3))),
        (2, "shopfloor/milling/WC-1/rpm", batch((START, 2))),
        (3, "shopfloor/milling/WC-1/load", batch((START + 2, 4))),
    ]
    first.on_ack(2)
    gateway.settle()
    assert [row.seq for row in buffer.pending(0, 10)] == [START, START + 1, START + 2]
    first.alive = False
    lost = time.monotonic()
    assert not gateway.connect(lost)  # forgets the connection, waits reconnect_min (0.5 s) before trying again
    assert gateway.connect(lost + 1)
    gateway.publish_pending()
    again = FakeConnection.made[1]
    assert [(mid, topic, json.loads(payload)) for mid, topic, payload in again.published] == [
        (1, "shopfloor/milling/WC-1/load", batch((START, 1), (START + 1, 3), (START + 2, 4))),
    ]
    again.on_ack(1)
    gateway.settle()
    assert (buffer.rows, buffer.bytes, gateway.published) == (0, 0, 4)
    gateway.close()


class FakeSession:
    """Plays OpcUaSession for OpcUaSubscriber: one batch of data changes, then quiet until stopped."""

    def __init__(self, batches: list[list[Observation]]) -> None:
        self.batches = batches

    async def __aenter__(self) -> FakeSession:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        return

    async def resolve(self, machine: MachineMap) -> Resolution:
        variable = MappedVariable(
            machine=machine.machine, metric="spindle_load", node_id=ua.NodeId.from_string("ns=7;i=2")
        )
        return Resolution(variables=(variable,), unresolved={})

    async def subscribe(self, variables: Sequence[MappedVariable], publishing_interval: float = 500.0) -> None:
        return

    async def next_batch(self, timeout: float, stop: asyncio.Event | None = None) -> list[Observation]:
        if self.batches:
            return self.batches.pop(0)
        if stop is not None:
            try:
                await asyncio.wait_for(stop.wait(), timeout=timeout)
            except TimeoutError:
                return []
        return []


def test_opcua_source_hands_out_what_the_subscription_delivered() -> None:
    change = Observation("WC-LATHE-1", "opcua:s1", 1, datetime(2026, 3, 2, 6, 0, tzinfo=UTC), "spindle_load", 42.5)
    machines = [MachineMap(machine="WC-LATHE-1", endpoint="opc.tcp://lathe:4840", object="Lathe")]
    subscriber = OpcUaSubscriber(
        machines,
        session_factory=lambda endpoint, security: FakeSession([[change]]),  # type: ignore[arg-type,return-value]
    )
    config = SourceConfig(kind="opcua", name="lathes", url="opc.tcp://lathe:4840", department="turning")
    source = OpcUaSource(config, subscriber)
    deadline = time.monotonic() + 5
    polled: list[Observation | Gap] = []
    while not polled and time.monotonic() < deadline:
        polled = source.poll()
        time.sleep(0.02)
    source.close()
    assert (polled, source.poll(), source.checkpoint(), subscriber.connections) == ([change], [], None, 1)
    assert not source._thread.is_alive()


def test_opcua_source_without_node_map_is_a_configuration_error() -> None:
    config = SourceConfig(kind="opcua", name="lathes", url="opc.tcp://lathe:4840", department="turning")
    with pytest.raises(ConfigError) as raised:
        OpcUaSource(config)
    assert str(raised.value) == "source lathes: an opcua source needs `node_map` (a YAML or JSON file)"


def test_status_before_the_first_run_and_a_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "edge.json"
    path.write_text(
        '{"gateway": {"buffer": "b.sqlite3"}, "broker": {"url": "mqtt://127.0.0.1", "client_id": "e"},'
        ' "sources": [{"kind": "mtconnect", "name": "a", "url": "http://127.0.0.1:9", "department": "m"}]}'
    )
    result = subprocess.run(
        [sys.executable, "-m", "apps.telemetry.edge", "--config", str(path), "--status"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (result.returncode, result.stdout) == (
        0,
        f"buffer {tmp_path / 'b.sqlite3'}: does not exist yet (the gateway has not run)\n",
    )
    with pytest.raises(CommandError) as raised:
        call_command("run_edge_gateway", "--config", str(tmp_path / "missing.toml"))
    assert str(raised.value) == f"cannot read the configuration {tmp_path / 'missing.toml'}: No such file or directory"
