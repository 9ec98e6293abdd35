"""Machine event to browser latency: Sparkplug DDATA "execution" flips go through the MQTT broker, the
ingest worker, `apply_readings`, the Redis channel layer and daphne to WebSocket clients of the plant page.

The flips are published here rather than by the simulator: at speed 1 a simulated machine changes
state every few minutes, too rarely to measure, while a fixed rate of flips gives a known number of
events. Each flip is one DDATA with one metric whose Sparkplug timestamp is the moment it is sent;
the delta a client receives carries that timestamp back as the machine's `last_seen`, so
(code, last_seen) names the event and receive time - timestamp is its latency. Every client is on
the plant group and should get every event: what it did not get is counted as missed.

The Django-side helpers (`prepare_fixture`, `remove_fixture`) run synchronously before and after the
asyncio part, which touches no ORM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Permission
from django.db import transaction
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.typing import Origin

from apps.accounts.models import User
from apps.machines.models import WorkCenter
from apps.telemetry.ingest import BrokerAddress
from apps.telemetry.models import Sample, SampleBlock
from apps.telemetry.simulator.shop import simulated_work_centers
from apps.telemetry.simulator.sparkplug import EdgeNode
from apps.telemetry.sparkplug import MetricSample, encode_payload, parse_payload
from apps.telemetry.sparkplug.codec import BD_SEQ_METRIC, REBIRTH_METRIC, DataType, to_ms
from apps.telemetry.sparkplug.topic import NAMESPACE, MessageType

EDGE_NODE = "latency-bench"
EXECUTION = "execution"
EXECUTION_ALIAS = 1
FLIP = {"READY": "ACTIVE", "ACTIVE": "READY"}
PLANT_PATH = "/ws/machines/plant/"
CONNECT_TIMEOUT = 10.0
CONNECTS_AT_ONCE = 20  # handshakes in flight: each one makes daphne query a full plant snapshot
LOG_TAIL = 2000


class BenchmarkError(RuntimeError):
    """The benchmark could not run (a process did not start, a client was refused, time ran out)."""


@dataclass(frozen=True, slots=True)
class LatencyReport:
    """The figures the command prints; latencies in milliseconds, None when nothing was delivered."""

    machines: int
    clients: int
    seconds: float
    events: int
    deliveries: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    missed: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty sequence: a value that was really measured."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ms_of_iso(text: str) -> int:
    return to_ms(datetime.fromisoformat(text))


class Tally:
    """What was sent and what each client received, keyed by (machine code, event timestamp in ms)."""

    def __init__(self, clients: int) -> None:
        self.events: dict[tuple[str, int], int] = {}
        self.received: list[set[int]] = [set() for _ in range(clients)]
        self.latencies: list[float] = []
        self.seen: list[set[str]] = [set() for _ in range(clients)]
        self.unreadable = 0
        self.dropped: dict[int, str] = {}

    def expect(self, code: str, timestamp_ms: int) -> None:
        self.events[(code, timestamp_ms)] = len(self.events)

    def receive(self, client: int, text: str | bytes, at: float) -> None:
        """One WebSocket message of `client`, received at `at` (Unix seconds).

        The plant group may also carry deltas of other processes on the same Redis: anything that is
        not one of our events is skipped, and what cannot even be read is counted, never fatal."""
        try:
            message = json.loads(text)
            if message.get("event") != "delta":
                return
            code, last_seen = message["data"]["code"], message["data"]["last_seen"]
            stamp = None if last_seen is None else ms_of_iso(last_seen)
        except (ValueError, KeyError, TypeError, AttributeError):
            self.unreadable += 1
            return
        self.seen[client].add(code)
        if stamp is None:
            return
        index = self.events.get((code, stamp))
        if index is None or index in self.received[client]:
            return
        self.received[client].add(index)
        self.latencies.append(at * 1000 - stamp)

    @property
    def deliveries(self) -> int:
        return sum(len(got) for got in self.received)

    def complete(self) -> bool:
        return self.deliveries == len(self.events) * len(self.received)

    def report(self, *, machines: int, seconds: float) -> LatencyReport:
        ordered = sorted(self.latencies)

        def figure(fraction: float) -> float | None:
            return round(percentile(ordered, fraction), 1) if ordered else None

        return LatencyReport(
            machines=machines,
            clients=len(self.received),
            seconds=seconds,
            events=len(self.events),
            deliveries=self.deliveries,
            p50_ms=figure(0.50),
            p95_ms=figure(0.95),
            p99_ms=figure(0.99),
            max_ms=figure(1.0),
            missed=len(self.events) * len(self.received) - self.deliveries,
        )


class ExecutionFlipper:
    """One Sparkplug edge node with a device per machine and a single `execution` metric.

    The node answers the ingest's rebirth requests (NCMD) with its births and the current values, so a
    worker that lost track of the session recovers as it would with a real gateway.
    """

    def __init__(self, broker_url: str, group_id: str, codes: Sequence[str]) -> None:
        self.address = BrokerAddress.parse(broker_url)
        self.node = EdgeNode(group_id, EDGE_NODE, [], bd_seq=int(time.time()) % 256)
        self.values = dict.fromkeys(codes, "READY")
        self.rebirths = 0
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{group_id}-{EDGE_NODE}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if self.address.username is not None:
            self._client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self._client.tls_set()
        self._client.will_set(self.node.topic(MessageType.NDEATH), self.node.death(), qos=1)
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: ReasonCode, props: Any) -> None:
        if not reason.is_failure:
            client.subscribe(f"{NAMESPACE}/{self.node.group_id}/NCMD/{EDGE_NODE}", qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reasons: Any, props: Any) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        asked = any(m.name == REBIRTH_METRIC and m.boolean_value for m in parse_payload(message.payload).metrics)
        if asked and self.node.born:
            self.rebirths += 1
            self.birth()

    def start(self, timeout: float = CONNECT_TIMEOUT) -> None:
        try:
            self._client.connect(self.address.host, self.address.port, keepalive=30)
        except OSError as exc:
            raise BenchmarkError(
                f"MQTT broker {self.address.host}:{self.address.port} is not reachable: {exc}"
            ) from exc
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self._client.loop_stop()
            raise BenchmarkError(f"MQTT broker {self.address.host}:{self.address.port} did not answer in {timeout} s")

    def birth(self) -> list[mqtt.MQTTMessageInfo]:
        """NBIRTH and a DBIRTH per machine with its current value; seq starts at 0 again."""
        with self._lock:
            now = datetime.now(UTC)
            self.node.seq = -1
            node_metrics = [
                MetricSample(name=BD_SEQ_METRIC, datatype=DataType.Int64, value=self.node.bd_seq),
                MetricSample(name=REBIRTH_METRIC, datatype=DataType.Boolean, value=False),
            ]
            infos = [
                self._publish(
                    self.node.topic(MessageType.NBIRTH),
                    encode_payload(node_metrics, timestamp=self.node.stamp(now), seq=self.node.next_seq()),
                )
            ]
            for code, value in self.values.items():
                metric = MetricSample(name=EXECUTION, alias=EXECUTION_ALIAS, datatype=DataType.String, value=value)
                infos.append(
                    self._publish(
                        self.node.topic(MessageType.DBIRTH, code),
                        encode_payload([metric], timestamp=self.node.stamp(now), seq=self.node.next_seq()),
                    )
                )
            self.node.born = True
            return infos

    def flip(self, code: str, expect: Callable[[str, int], None]) -> None:
        """Flip one machine's execution in a DDATA; `expect(code, ms)` hears of the event before it is sent."""
        with self._lock:
            value = self.values[code] = FLIP[self.values[code]]
            stamp = self.node.stamp(datetime.now(UTC))
            expect(code, to_ms(stamp))
            metric = MetricSample(
                alias=EXECUTION_ALIAS, datatype=DataType.String, value=value, timestamp=stamp, send_datatype=False
            )
            self._publish(
                self.node.topic(MessageType.DDATA, code),
                encode_payload([metric], timestamp=stamp, seq=self.node.next_seq()),
            )

    def _publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BenchmarkError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        return info

    def stop(self) -> None:
        """Publish the node's death ourselves (a clean DISCONNECT drops the Will), then disconnect."""
        if self.node.born:
            info = self._client.publish(self.node.topic(MessageType.NDEATH), self.node.death(), qos=1)
            # If the broker is gone, it publishes the Will instead.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(CONNECT_TIMEOUT / 5)
        self._client.disconnect()
        self._client.loop_stop()


class ServerProcess:
    """A child process of the benchmark, its output in a log file, in a session of its own."""

    def __init__(self, name: str, command: Sequence[str], log_dir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                list(command),
                cwd=settings.BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-LOG_TAIL:]

    def wait_for(self, pattern: re.Pattern[str], deadline: float) -> re.Match[str]:
        """The first match of `pattern` in the output, once it is printed, before `deadline` (monotonic)."""
        while True:
            found = pattern.search(self.log.read_text(errors="replace"))
            if found:
                return found
            if self.process.poll() is not None:
                raise BenchmarkError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{self.name} did not start in time:\n{self.tail()}")
            time.sleep(0.05)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()

    def reap(self, deadline: float) -> None:
        """Wait for the process to end after `terminate`, and kill it at `deadline` (monotonic)."""
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(slots=True)
class Fixture:
    """The benchmark's rows in the database: the machines, the clones it created, its user and session."""

    codes: list[str]
    created_ids: list[int]
    user_id: int
    session_key: str


VIEW_WORK_CENTER = ("machines", "view_workcenter")


def prepare_fixture(machines: int) -> Fixture:
    """`machines` work centers (cloned round-robin beyond the shop's, as the simulator does), and a
    throw-away user holding only machines.view_workcenter, signed in through a stored session.

    The user has no role, so it is not one the second factor is required of; WebSockets only read the
    session anyway."""
    before = set(WorkCenter.objects.values_list("pk", flat=True))
    centers = simulated_work_centers(machines)
    if len(centers) < machines:
        raise BenchmarkError(f"{machines} machines wanted, found {len(centers)}: load the demo shop first.")
    with transaction.atomic():
        user = User.objects.create_user(username=f"latency-bench-{uuid.uuid4().hex[:10]}", password=None)
        app_label, codename = VIEW_WORK_CENTER
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return Fixture(
        codes=[wc.code for wc in centers],
        created_ids=[wc.pk for wc in centers if wc.pk not in before],
        user_id=user.pk,
        session_key=store.session_key,
    )


def remove_fixture(fixture: Fixture) -> None:
    """Delete what `prepare_fixture` made: the clones with their samples, the session and the user."""
    import_module(settings.SESSION_ENGINE).SessionStore(fixture.session_key).delete()
    with transaction.atomic():
        if fixture.created_ids:
            Sample.objects.filter(work_center_id__in=fixture.created_ids).delete()
            SampleBlock.objects.filter(work_center_id__in=fixture.created_ids).delete()
            WorkCenter.objects.filter(pk__in=fixture.created_ids).delete()
        User.objects.filter(pk=fixture.user_id).delete()


@dataclass(slots=True)
class Plan:
    """What the measurement does: `events` flips at `rate` per second, over `machines` in shuffled turns."""

    url: str
    cookie: str
    clients: int
    codes: list[str]
    rate: float
    seconds: float
    ready_by: float  # monotonic deadline for clients connected and births seen
    drain: float  # seconds to wait for the last deliveries
    seed: int = 1
    order: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.order = list(self.codes)
        random.Random(self.seed).shuffle(self.order)

    @property
    def events(self) -> int:
        return int(self.rate * self.seconds)


async def _open(plan: Plan) -> ClientConnection:
    origin = plan.url.replace("ws://", "http://", 1).split("/ws/", 1)[0]
    try:
        return await connect(
            plan.url,
            origin=Origin(origin),
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={plan.cookie}"},
            max_size=None,
            compression=None,
            open_timeout=CONNECT_TIMEOUT,
            ping_interval=None,
        )
    except InvalidStatus as exc:
        raise BenchmarkError(
            f"daphne refused the WebSocket ({exc.response.status_code}): is 127.0.0.1 in ALLOWED_HOSTS?"
        ) from exc


async def _listen(client: int, connection: ClientConnection, tally: Tally) -> None:
    try:
        async for message in connection:
            tally.receive(client, message, time.time())
    except WebSocketException as exc:
        tally.dropped[client] = repr(exc)
        return
    tally.dropped[client] = f"closed by the server ({connection.close_code} {connection.close_reason})"


async def _wait_until(done: Callable[[], bool], deadline: float) -> bool:
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def measure(plan: Plan, flipper: ExecutionFlipper, say: Callable[[str], None]) -> Tally:
    """Connect one client, publish the births and wait until it saw every machine, connect the other
    clients (their snapshots hold the births), then flip at the planned rate and wait up to `drain`
    seconds for the last deliveries.

    Births go out before most clients are connected so that their wave of deltas (one per machine and
    client) is not still on its way when the measured events start."""
    tally = Tally(plan.clients)
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    connections: list[ClientConnection] = []
    listeners: list[asyncio.Task[None]] = []

    async def open_one() -> ClientConnection:
        async with gate:
            connection = await _open(plan)
            snapshot = json.loads(await asyncio.wait_for(connection.recv(), CONNECT_TIMEOUT))
            if snapshot.get("event") != "snapshot":
                raise BenchmarkError(f"expected a snapshot first, got {snapshot.get('event')!r}")
            return connection

    async def open_clients(count: int) -> None:
        opened = await asyncio.gather(*(open_one() for _ in range(count)), return_exceptions=True)
        for item in opened:
            if isinstance(item, ClientConnection):
                listeners.append(asyncio.create_task(_listen(len(connections), item, tally)))
                connections.append(item)
        failed = next((item for item in opened if isinstance(item, BaseException)), None)
        if failed is not None:
            raise BenchmarkError(f"a WebSocket client could not connect: {failed}") from failed

    try:
        await open_clients(1)
        await asyncio.to_thread(flipper.birth)
        codes = set(plan.codes)
        if not await _wait_until(lambda: codes <= tally.seen[0], plan.ready_by):
            raise BenchmarkError(
                f"the births of {len(codes - tally.seen[0])} machines never came through: see the logs"
            )
        say(f"births of {len(codes)} machines seen")
        await open_clients(plan.clients - 1)
        say(f"{len(connections)} clients connected")
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(plan.events):
            delay = start + index / plan.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            flipper.flip(plan.order[index % len(plan.order)], tally.expect)
        say(f"{plan.events} events published")
        await _wait_until(tally.complete, time.monotonic() + plan.drain)
        counts = sorted(len(got) for got in tally.received)
        say(f"{tally.deliveries} deliveries, {counts[0]} to {counts[-1]} per client; {tally.unreadable} unreadable")
        for client, how in sorted(tally.dropped.items()):
            say(f"client {client} lost its connection: {how}")
    finally:
        for connection in connections:
            await connection.close()
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
    return tally
