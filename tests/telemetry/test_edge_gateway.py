"""The edge gateway end to end: fake MTConnect agent -> gateway -> real Mosquitto -> a subscriber.

Every observation must arrive once (after dropping QoS 1 redeliveries of the same (topic, seq)), in
order per stream, through a broker outage and a kill -9 of the gateway, and decode with the MES's own
JSON decoder. The shared broker (settings.MQTT_URL) serves the happy path; the outage needs a private
mosquitto on a free port, since the shared one must not be stopped.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.core.management import call_command
from paho.mqtt.enums import CallbackAPIVersion

from apps.telemetry.edge.buffer import ROW_OVERHEAD, Buffer
from apps.telemetry.edge.config import GatewayConfig, load_config
from apps.telemetry.edge.gateway import Gateway
from apps.telemetry.edge.sources import MTConnectSource
from apps.telemetry.mtconnect.client import MTConnectClient
from apps.telemetry.observations import Gap, Observation
from apps.telemetry.topics import decode_json
from tests.telemetry.mtconnect_agent import FakeAgent

REPO = Path(__file__).resolve().parents[2]
MACHINE = "WC-EDGE-1"
CLOCK = 1_800_000_000.0  # the buffer's clock in-process: new streams start at seq 1_800_000_000_000
START = 1_800_000_000_000
WAIT = 10.0


def shared_broker() -> tuple[str, int]:
    url = urlsplit(getattr(settings, "MQTT_URL", "") or "mqtt://127.0.0.1:1883")
    return url.hostname or "127.0.0.1", url.port or 1883


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Subscriber:
    """Collects every message under a topic prefix; a persistent session (clean_session=False) so a broker
    restart with persistence keeps what was published while the subscriber was reconnecting."""

    host: str
    port: int
    prefix: str
    messages: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"edge-sub-{uuid.uuid4().hex[:10]}", clean_session=False
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = lambda client, *args: client.subscribe(f"{self.prefix}/#", qos=1)
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self._message
        self.client.connect(self.host, self.port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(WAIT), "the subscriber never got its SUBACK"

    def _message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((message.topic, message.payload))

    def samples(self) -> dict[str, list[tuple[int, str, object]]]:
        """Per metric, (seq, ts, value) in first-arrival order, redeliveries of a (topic, seq) dropped after a
        check that they carry the very same sample."""
        with self.lock:
            messages = list(self.messages)
        seen: dict[tuple[str, int], tuple[str, object]] = {}
        streams: dict[str, list[tuple[int, str, object]]] = {}
        now = datetime.now(UTC)
        for topic, payload in messages:
            for observation in decode_json(topic, payload, now, {MACHINE}):
                key = (observation.metric, observation.sequence)
                sample = (observation.timestamp.isoformat(), observation.value)
                if key in seen:
                    assert seen[key] == sample, f"{key} arrived twice with different contents"
                    continue
                seen[key] = sample
                streams.setdefault(observation.metric, []).append((observation.sequence, *sample))
        return streams

    def count(self) -> int:
        return sum(len(samples) for samples in self.samples().values())

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def write_config(tmp_path: Path, agent: FakeAgent, port: int, department: str, **gateway: object) -> Path:
    options = {"buffer": "buffer.sqlite3", "poll_interval": 0.1, "status_interval": 1.0, **gateway}
    lines = ["[gateway]"] + [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    lines += [
        "[broker]",
        f'url = "mqtt://127.0.0.1:{port}"',
        f'client_id = "edge-{uuid.uuid4().hex[:10]}"',
        "reconnect_min = 0.1",
        "reconnect_max = 0.5",
        "connect_timeout = 2",
        "[[sources]]",
        'kind = "mtconnect"',
        'name = "hall-2"',
        f'url = "{agent.url}"',
        f'department = "{department}"',
        "timeout = 2",
        f'machines = {{ "VF2-1" = "{MACHINE}" }}',
    ]
    path = tmp_path / "edge.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def agent() -> Iterator[FakeAgent]:
    with FakeAgent(buffer_size=500, instance_id=1000) as running:
        yield running


@pytest.fixture
def department() -> str:
    return f"edge{uuid.uuid4().hex[:10]}"


def in_process(config: GatewayConfig) -> tuple[Gateway, Buffer]:
    buffer = Buffer(config.buffer, clock=lambda: CLOCK)
    sources = [MTConnectSource(source, buffer.checkpoint(source.name)) for source in config.sources]
    return Gateway(config, sources, buffer), buffer


def test_agent_to_broker_in_order_once_then_rows_deleted_after_puback(
    tmp_path: Path, agent: FakeAgent, department: str
) -> None:
    host, port = shared_broker()
    agent.add("avail", "AVAILABLE")
    agent.add("parts", "1")
    config = load_config(write_config(tmp_path, agent, port, department))
    subscriber = Subscriber(host, port, f"shopfloor/{department}")
    gateway, buffer = in_process(config)
    stop = threading.Event()
    thread = threading.Thread(target=gateway.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: subscriber.count() == 2, "the /current snapshot")
        for value in ("2", "3", "4"):
            agent.add("parts", value)
        agent.add("Srpm", "850.5")
        agent.add("system", "Fault", native_code="1105")
        agent.add("Srpm", "UNAVAILABLE")
        wait_until(lambda: subscriber.count() == 8, "all eight observations")
        wait_until(lambda: buffer.rows == 0, "the buffer to empty after the PUBACKs")
    finally:
        stop.set()
        thread.join(timeout=WAIT)
        subscriber.close()
    assert not thread.is_alive()
    stamp = "2026-03-02T06:00:0{}+00:00".format
    assert subscriber.samples() == {
        "availability": [(START, stamp(1), "AVAILABLE")],
        "part_count": [
            (START, stamp(2), 1),
            (START + 1, stamp(3), 2),
            (START + 2, stamp(4), 3),
            (START + 3, stamp(5), 4),
        ],
        "Srpm": [(START, stamp(6), 850.5), (START + 1, stamp(8), None)],
        "condition:system": [(START, stamp(7), "FAULT:1105")],
    }
    raw = json.loads(next(payload for topic, payload in subscriber.messages if topic.endswith("/availability")))
    assert raw == {
        "samples": [{"seq": START, "ts": stamp(1), "value": "AVAILABLE", "source": "mtconnect:1000", "source_seq": 1}]
    }
    reopened = Buffer(config.buffer)
    assert (reopened.backlog().rows, reopened.backlog().bytes) == (0, 0)
    assert json.loads(reopened.checkpoint("hall-2") or "") == {
        "instance_id": 1000,
        "next_sequence": 9,
        "last_sequence": 8,
    }
    reopened.close()


def test_a_wrapped_agent_buffer_is_published_as_an_explicit_gap_record(tmp_path: Path, department: str) -> None:
    host, port = shared_broker()
    detected = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    subscriber = Subscriber(host, port, f"shopfloor/{department}")
    with FakeAgent(buffer_size=4, instance_id=1000) as small:
        config = load_config(write_config(tmp_path, small, port, department))
        client = MTConnectClient(small.url, machines={"VF2-1": MACHINE}, timeout=2.0, clock=lambda: detected)
        buffer = Buffer(config.buffer, clock=lambda: CLOCK)
        gateway = Gateway(config, [MTConnectSource(config.sources[0], client=client)], buffer)
        try:
            small.add("parts", "1")
            gateway.poll_sources()
            for count in range(2, 12):
                small.add("parts", str(count))
            gateway.poll_sources()
            assert buffer.rows == 6
            assert gateway.connect(time.monotonic())
            gateway.publish_pending()
            wait_until(lambda: pumped(gateway) == 0, "the PUBACKs")
            wait_until(lambda: subscriber.count() == 6, "the part counts and the gap")
        finally:
            gateway.close()
            subscriber.close()
    stamp = "2026-03-02T06:00:{:02d}+00:00".format
    assert subscriber.samples() == {
        "part_count": [(START, stamp(1), 1)] + [(START + n - 7, stamp(n), n) for n in range(8, 12)],
        "gap": [(START, "2026-03-02T07:00:00+00:00", "buffer_wrapped mtconnect:1000 2..7")],
    }
    gap_message = next(payload for topic, payload in subscriber.messages if topic.endswith("/gap"))
    assert json.loads(gap_message)["samples"][0]["gap"] == {
        "stream": "mtconnect:1000",
        "first_missing": 2,
        "last_missing": 7,
        "reason": "buffer_wrapped",
    }


def pumped(gateway: Gateway) -> int:
    gateway.pump(0.05)
    return gateway.buffer.rows


@dataclass
class ListSource:
    """A source that hands out prepared polls, for driving the buffer limits exactly."""

    polls: list[list[Observation | Gap]]
    name: str = "list"
    department: str = "milling"
    position: int = 0

    def poll(self) -> list[Observation | Gap]:
        self.position += 1
        return self.polls[self.position - 1]

    def checkpoint(self) -> str | None:
        return str(self.position)

    def close(self) -> None:
        return


def observation(sequence: int) -> Observation:
    return Observation(
        machine=MACHINE,
        stream="mtconnect:1000",
        sequence=sequence,
        timestamp=datetime(2026, 3, 2, 6, 0, sequence, tzinfo=UTC),
        metric="spindle_load",
        value=12.5,
    )


def test_full_buffer_refuses_observations_counted_and_logged_but_keeps_gaps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sample = (
        f'{{"seq":{START},"ts":"2026-03-02T06:00:10+00:00","value":12.5,"source":"mtconnect:1000","source_seq":10}}'
    )
    row = len(f"shopfloor/milling/{MACHINE}/spindle_load") + len(sample) + ROW_OVERHEAD
    assert row == 181
    config = load_config(write_config(tmp_path, FakeAgent(), free_port(), "milling", max_buffer_mb=1810 / 2**20))
    assert config.max_buffer_bytes == 1810
    gap = Gap(MACHINE, "mtconnect:1000", 30, 39, datetime(2026, 3, 2, 7, 0, tzinfo=UTC), "buffer_wrapped")
    source = ListSource(
        polls=[
            [observation(10 + n) for n in range(3)],
            [observation(20 + n) for n in range(3)],
            [gap, *(observation(40 + n) for n in range(3))],
            [observation(50 + n) for n in range(3)],
        ]
    )
    buffer = Buffer(config.buffer, clock=lambda: CLOCK)
    gateway = Gateway(config, [source], buffer)
    caplog.set_level(logging.INFO, logger="apps.telemetry.edge")
    gateway.poll_sources()
    gateway.poll_sources()
    assert (buffer.rows, buffer.bytes, caplog.records) == (6, 6 * row, [])
    gateway.poll_sources()
    assert (buffer.rows, buffer.bytes, buffer.refused()) == (9, 8 * row + 261, 1)
    gateway.poll_sources()
    assert (buffer.rows, buffer.bytes, buffer.refused()) == (9, 1709, 4)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"source list lost {MACHINE} sequences 30..39 of mtconnect:1000 (buffer_wrapped): recorded as a gap",
        ),
        (
            "ERROR",
            "REFUSED 1 observation(s) from list, buffer full (1709 of max_buffer_mb 0.00172615 = 1810 bytes): "
            f"{MACHINE}/spindle_load source seq 42..42 (1); 1 refused in total",
        ),
        (
            "WARNING",
            "ALARM buffer at 94 % of max_buffer_mb 0.00172615: the broker is not taking the backlog; "
            "new observations are refused at 100 %",
        ),
        (
            "ERROR",
            "REFUSED 3 observation(s) from list, buffer full (1709 of max_buffer_mb 0.00172615 = 1810 bytes): "
            f"{MACHINE}/spindle_load source seq 50..52 (3); 4 refused in total",
        ),
    ]
    caplog.clear()
    gateway.report()
    assert [(r.levelname, r.getMessage()[:97]) for r in caplog.records] == [
        ("WARNING", "ALARM backlog: 9 row(s), 1709 bytes (94.4 % of max_buffer_mb 0.00172615), oldest 0 s, 2 stream(s)")
    ]
    pending = buffer.pending(0, 100)
    assert [(row.topic.rsplit("/", 1)[1], row.seq) for row in pending] == [
        *(("spindle_load", START + n) for n in range(6)),
        ("gap", START),
        ("spindle_load", START + 6),
        ("spindle_load", START + 7),
    ]
    assert buffer.checkpoint("list") == "4"
    gateway.close()
    assert call_status(config).startswith(
        f"buffer {config.buffer}: 9 row(s), 1709 bytes (94.4 % of max_buffer_mb 0.00172615), oldest 0 s, "
        "2 stream(s), 4 refused in total, file "
    )


def call_status(config: GatewayConfig) -> str:
    out = StringIO()
    call_command("run_edge_gateway", "--config", str(config.buffer.parent / "edge.toml"), "--status", stdout=out)
    return out.getvalue()


class PrivateBroker:
    """A mosquitto of our own on a free port, with persistence, that the test may stop and start."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        directory.mkdir()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {directory}/\nuser {getpass.getuser()}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def accepting() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return False
            return True

        wait_until(accepting, "the private mosquitto to listen")

    def stop(self) -> None:
        """SIGTERM: mosquitto writes its persistence file (the subscriber's session and queue) on the way out."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=WAIT)
            self.process = None


def start_gateway(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "apps.telemetry.edge", "--config", str(config_path)],
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def buffered_rows(path: Path) -> int:
    with sqlite3.connect(path, timeout=5) as db:
        return int(db.execute("SELECT COUNT(*) FROM backlog").fetchone()[0])


def test_broker_outage_and_kill_9_lose_nothing_and_duplicate_nothing(
    tmp_path: Path, agent: FakeAgent, department: str
) -> None:
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    config_path = write_config(tmp_path, agent, broker.port, department)
    buffer_path = tmp_path / "buffer.sqlite3"
    log = tmp_path / "gateway.log"
    subscriber = Subscriber("127.0.0.1", broker.port, f"shopfloor/{department}")
    gateway = start_gateway(config_path, log)
    try:
        for count in range(1, 11):
            agent.add("parts", str(count))
        wait_until(lambda: subscriber.count() == 1, "the /current snapshot (latest part count)")
        for count in range(11, 21):
            agent.add("parts", str(count))
        agent.add("Srpm", "100.0")
        wait_until(lambda: subscriber.count() == 12, "the first twenty part counts")
        wait_until(lambda: buffered_rows(buffer_path) == 0, "the PUBACKs before the outage")

        broker.stop()
        for count in range(21, 31):
            agent.add("parts", str(count))
        agent.add("Srpm", "200.0")
        wait_until(lambda: buffered_rows(buffer_path) == 11, "the outage's observations in the buffer")
        gateway.send_signal(signal.SIGKILL)
        gateway.wait(timeout=WAIT)
        for count in range(31, 36):
            agent.add("parts", str(count))

        broker.start()
        gateway = start_gateway(config_path, log)
        wait_until(lambda: subscriber.count() == 28, "everything after the restart")
        wait_until(lambda: buffered_rows(buffer_path) == 0, "the buffer to empty")
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(timeout=WAIT) == 0
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait(timeout=WAIT)
        subscriber.close()
        broker.stop()
    streams = subscriber.samples()
    parts = streams["part_count"]
    first = parts[0][0]
    assert [(seq - first, value) for seq, _, value in parts] == [(0, 10)] + [(n - 10, n) for n in range(11, 36)]
    assert [value for _, _, value in streams["Srpm"]] == [100.0, 200.0]
    assert streams["Srpm"][1][0] == streams["Srpm"][0][0] + 1
    assert set(streams) == {"part_count", "Srpm"}
    text = log.read_text()
    assert "broker connection lost" in text
    assert "backlog:" in text
    assert "edge gateway stopped; 0 row(s)" in text
