"""Sustained MQTT ingest throughput, next to the naive one-row-per-sample ORM insert, in one run.

A publisher sends Sparkplug NDATA messages of `--per-message` samples through the broker for
`--seconds`, keeping at most `--window` messages ahead of the workers (an unbounded backlog would
only measure the broker's queue limit, which drops messages when full). `--workers N` runs N
workers, each on its own thread and database connection with a disjoint topic filter (one Sparkplug
group each), in a process of its own (forked, with its own database connection), the way a pool of
`run_ingest --topic` processes splits the plant: each decodes on its own core, and while one waits for
PostgreSQL another decodes.

Mosquitto's default `max_inflight_messages 20` caps a manually acknowledged batch at 20 messages;
`--private-broker` starts a Mosquitto of its own on a free port with the queue settings of the broker
the project ships (deploy/mosquitto/mosquitto.conf, see docs/telemetry-storage.md) and stops it
afterwards. Rows go to the configured database: one work center "BENCH-INGEST" and rows under
per-run streams, left for retention to remove.
"""

import json
import multiprocessing
import multiprocessing.queues
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.db.models import Sum
from paho.mqtt.enums import CallbackAPIVersion

from apps.machines.models import Department, WorkCenter, WorkCenterType
from apps.telemetry.ingest import CONNECT_TIMEOUT, MAX_BATCH, BrokerAddress, IngestWorker, forget_session
from apps.telemetry.models import Sample, SampleBlock
from apps.telemetry.sparkplug import DataType, MetricSample, Payload, encode_payload
from apps.telemetry.storage import ensure_partitions

MACHINE = "BENCH-INGEST"
DRAIN_TIMEOUT = 60.0
BROKER_START_TIMEOUT = 10.0
# The shipped broker's settings that the worker depends on (raised there from Mosquitto's defaults).
SHIPPED_BROKER = Path(settings.BASE_DIR) / "deploy" / "mosquitto" / "mosquitto.conf"
QUEUE_SETTINGS = ("max_inflight_messages", "max_queued_messages", "max_queued_bytes")
PRIVATE_BROKER_CONFIG = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence false
"""


def shipped_queue_settings() -> list[str]:
    """The QUEUE_SETTINGS lines of deploy/mosquitto/mosquitto.conf, all of them or a CommandError."""
    lines = [line.strip() for line in SHIPPED_BROKER.read_text().splitlines()]
    found = [line for line in lines if line.split(" ", 1)[0] in QUEUE_SETTINGS]
    missing = set(QUEUE_SETTINGS) - {line.split(" ", 1)[0] for line in found}
    if missing:
        raise CommandError(f"{SHIPPED_BROKER} does not set {', '.join(sorted(missing))}")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_broker() -> Iterator[str]:
    """A Mosquitto of this run's own on a free local port (its URL), stopped on exit."""
    binary = shutil.which("mosquitto") or next(
        (path for path in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(path)), None
    )
    if binary is None:
        raise CommandError("--private-broker needs the mosquitto binary on PATH")
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as folder:
        port = _free_port()
        config = Path(folder) / "mosquitto.conf"
        config.write_text(PRIVATE_BROKER_CONFIG.format(port=port) + "\n".join(shipped_queue_settings()) + "\n")
        process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + BROKER_START_TIMEOUT
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise CommandError(f"the private mosquitto did not start on port {port}") from None
                    time.sleep(0.05)
            yield f"mqtt://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=BROKER_START_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def bench_work_center() -> WorkCenter:
    department, _ = Department.objects.get_or_create(code="bench", defaults={"name": "Benchmark"})
    kind, _ = WorkCenterType.objects.get_or_create(
        code="bench", defaults={"name": "Benchmark", "department": department}
    )
    machine, _ = WorkCenter.objects.get_or_create(
        code=MACHINE, defaults={"name": "Ingest benchmark", "department": department, "work_center_type": kind}
    )
    return machine


def _backend_pid() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process (Linux /proc), None when it cannot be read."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DataMessages:
    """NDATA payloads of `per_message` Double values 1 ms apart, the last one at `now_ms`, of `signals` metrics.

    With one signal (aliases all 1) a message is one fast signal's run, which the ingest stores as one
    sample block; with more, the aliases 1..signals take turns, no run forms, and every value is a row.
    One Payload is filled once and only its timestamps and seq change per message: building 200
    MetricSample objects per message cost the publisher, which shares the CPU and the GIL with the
    workers, about as much as decoding them cost the worker.
    """

    def __init__(self, per_message: int, signals: int = 1) -> None:
        self._payload = Payload()
        for index in range(per_message):
            metric = self._payload.metrics.add()
            metric.alias = 1 + index % signals
            metric.double_value = float(index)
        self._metrics = list(self._payload.metrics)

    def encode(self, seq: int, now_ms: int) -> bytes:
        self._payload.timestamp = now_ms
        self._payload.seq = seq
        for moment, metric in enumerate(self._metrics, now_ms - len(self._metrics) + 1):
            metric.timestamp = moment
        return self._payload.SerializeToString()


def _forget_connections() -> None:
    """Close every database connection, and PostgreSQL's connection pool, before forking the workers.

    A forked child must not inherit an open socket of the parent's: two processes talking over one
    PostgreSQL connection corrupt each other's transactions. Each process opens its own afterwards.
    """
    connections.close_all()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None and connection.settings_dict.get("OPTIONS", {}).get("pool"):
        close_pool()


class _WorkerProcess:
    """One `IngestWorker` in a forked process; `messages` is what it has taken so far, `finish()` its figures."""

    def __init__(self, url: str, group: str, max_batch: int) -> None:
        context = multiprocessing.get_context("fork")
        self.client_id = f"bench-{group}"
        self._messages = context.Value("q", 0)
        self._ready = context.Event()
        self._stop = context.Event()
        self._results: multiprocessing.queues.Queue[dict[str, Any]] = context.Queue()
        self._process = context.Process(
            target=_run_worker,
            args=(url, self.client_id, group, max_batch, self._messages, self._ready, self._stop, self._results),
            daemon=True,
        )
        self._figures: dict[str, Any] | None = None

    @property
    def messages(self) -> int:
        return int(self._messages.value)

    def start(self) -> None:
        self._process.start()
        deadline = time.monotonic() + BROKER_START_TIMEOUT + CONNECT_TIMEOUT
        while not self._ready.wait(0.05):
            if not self._results.empty() or time.monotonic() > deadline or not self._process.is_alive():
                figures = self.finish()
                raise CommandError(f"an ingest worker did not start: {figures.get('error', 'no answer')}")

    def finish(self) -> dict[str, Any]:
        """Stop the worker (after the drain) and return its figures; {} if it gave none."""
        if self._figures is None:
            self._stop.set()
            try:
                self._figures = self._results.get(timeout=DRAIN_TIMEOUT)
            except queue.Empty:
                self._figures = {}
            self._process.join(timeout=DRAIN_TIMEOUT)
            if self._process.is_alive():
                self._process.kill()
        return self._figures


def _run_worker(
    url: str,
    client_id: str,
    group: str,
    max_batch: int,
    messages: Any,
    ready: Any,
    stop: Any,
    results: Any,
) -> None:
    """The forked worker: consume until told to stop, then report messages, batches and CPU seconds."""
    worker = IngestWorker(url, client_id, subscriptions=[f"spBv1.0/{group}/#"], max_batch=max_batch)
    try:
        worker.start()
    except (OSError, TimeoutError) as exc:
        results.put({"error": f"MQTT broker {worker.address.host}:{worker.address.port} is not reachable: {exc}"})
        return
    backend = _backend_pid()
    backend_before = _process_cpu_seconds(backend)
    cpu_before = time.process_time()
    ready.set()
    try:
        while not stop.is_set():
            worker.poll(timeout=0.1)
            messages.value = worker.messages
    finally:
        backend_after = _process_cpu_seconds(backend)
        worker.close()
        connection.close()
    results.put(
        {
            "batches": worker.batches,
            "duplicates": worker.stored.duplicates,
            "dead_letters": worker.dead_letters,
            "cpu_seconds": time.process_time() - cpu_before,
            "backend_seconds": (
                backend_after - backend_before if backend_before is not None and backend_after is not None else None
            ),
        }
    )


class Command(BaseCommand):
    help = "Measure MQTT ingest (samples/s stored, loss, duplicates) against a naive per-row ORM insert."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=60.0, help="How long to publish (default 60).")
        parser.add_argument("--per-message", type=int, default=200, help="Samples per Sparkplug message.")
        parser.add_argument(
            "--signals",
            type=int,
            default=1,
            help="Metrics interleaved in a message (default 1: one fast signal, stored as a block; more: rows).",
        )
        parser.add_argument("--window", type=int, default=2000, help="Messages the publisher may be ahead.")
        parser.add_argument("--workers", type=int, default=1, help="Ingest workers on disjoint topic filters.")
        parser.add_argument("--max-batch", type=int, default=MAX_BATCH, help="Messages per worker batch.")
        parser.add_argument("--private-broker", action="store_true", help="Start a tuned Mosquitto for the run.")
        parser.add_argument("--naive-seconds", type=float, default=0.0, help="Default: a third of --seconds.")
        parser.add_argument("--broker", default="", help="Default: MQTT_URL, else mqtt://127.0.0.1:1883.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        if not 1 <= options["signals"] <= options["per_message"]:
            raise CommandError("--signals must be between 1 and --per-message")
        if options["private_broker"]:
            with private_broker() as url:
                report = self._measure(url, options)
        else:
            report = self._measure(options["broker"] or settings.MQTT_URL or "mqtt://127.0.0.1:1883", options)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            width = max(len(key) for key in report)
            for key, value in report.items():
                self.stdout.write(f"{key:<{width}}  {value}")

    def _measure(self, url: str, options: dict[str, Any]) -> dict[str, Any]:
        run = uuid.uuid4().hex[:10]
        groups = [f"bench{run}w{number}" for number in range(options["workers"])]
        machine = bench_work_center()
        today = datetime.now(UTC).date()
        ensure_partitions([today - timedelta(days=1), today, today + timedelta(days=1)])
        _forget_connections()
        workers = [_WorkerProcess(url, group, options["max_batch"]) for group in groups]
        load_before = os.getloadavg()
        cpu_before = time.process_time()
        try:
            for worker in workers:
                worker.start()
            mqtt_figures = self._publish(url, groups, workers, options)
        finally:
            results = [worker.finish() for worker in workers]
            for worker in workers:
                forget_session(url, worker.client_id)
        load_after = os.getloadavg()
        cpu_seconds = time.process_time() - cpu_before + sum(result.get("cpu_seconds", 0.0) for result in results)
        backend_seconds = [result["backend_seconds"] for result in results if result.get("backend_seconds") is not None]
        backends_read = len(backend_seconds) == len(workers)
        in_blocks = sum(
            SampleBlock.objects.filter(stream__startswith=f"spb:{group}/").aggregate(values=Sum("count"))["values"] or 0
            for group in groups
        )
        stored = in_blocks + sum(Sample.objects.filter(stream__startswith=f"spb:{group}/").count() for group in groups)
        naive_seconds = options["naive_seconds"] or options["seconds"] / 3
        naive_rate = self._naive(machine, f"naive:{run}", naive_seconds)
        elapsed = mqtt_figures["elapsed"]
        rate = stored / elapsed if elapsed else 0.0
        batches = sum(result.get("batches", 0) for result in results)
        return {
            "database": connection.vendor,
            "workers": len(workers),
            "seconds": round(elapsed, 2),
            "messages": mqtt_figures["messages"],
            "samples_published": mqtt_figures["samples"],
            "samples_stored": stored,
            "samples_in_blocks": in_blocks,
            "samples_per_second": round(rate),
            "loss": mqtt_figures["samples"] - stored,
            "duplicates": sum(result.get("duplicates", 0) for result in results),
            "dead_letters": sum(result.get("dead_letters", 0) for result in results),
            "mean_batch_messages": round(mqtt_figures["messages"] / batches, 1) if batches else 0.0,
            "load_average_before": round(load_before[0], 2),
            "load_average_after": [round(value, 2) for value in load_after],
            "python_cpu_us_per_sample": round(cpu_seconds / stored * 1e6, 2) if stored else None,
            "postgres_cpu_us_per_sample": (
                round(sum(backend_seconds) / stored * 1e6, 2) if stored and backends_read else None
            ),
            "naive_orm_samples_per_second": round(naive_rate),
            "speedup": round(rate / naive_rate, 1) if naive_rate else None,
        }

    @staticmethod
    def _publish(url: str, groups: list[str], workers: list[_WorkerProcess], options: dict[str, Any]) -> dict[str, Any]:
        """Publish for --seconds, round robin over the workers' groups, then wait until every message is taken."""
        address = BrokerAddress.parse(url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{groups[0]}-publisher")
        if address.username is not None:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set()
        client.max_inflight_messages_set(100)
        client.connect(address.host, address.port)
        client.loop_start()
        window = options["window"]
        messages = DataMessages(options["per_message"], options["signals"])
        per_message = options["per_message"]
        now = datetime.now(UTC)
        birth = encode_payload(
            [
                MetricSample(name="bdSeq", datatype=DataType.Int64, value=0),
                *(
                    MetricSample(name=f"signal{alias}", alias=alias, datatype=DataType.Double, value=0.0)
                    for alias in range(1, options["signals"] + 1)
                ),
            ],
            timestamp=now,
            seq=0,
        )
        for group in groups:
            client.publish(f"spBv1.0/{group}/NBIRTH/{MACHINE}", birth, qos=1).wait_for_publish(10)
        # Each birth stores availability and each signal's first value.
        sent = [1] * len(groups)
        samples = (1 + options["signals"]) * len(groups)
        topics = [f"spBv1.0/{group}/NDATA/{MACHINE}" for group in groups]
        started = time.monotonic()
        last_ms = int(now.timestamp() * 1000)
        turn = 0
        while time.monotonic() - started < options["seconds"]:
            if sum(sent) - sum(worker.messages for worker in workers) > window:
                time.sleep(0.001)
                continue
            # The key is (timestamp, seq): seq wraps only every 256 messages, so a clock that never runs
            # backwards (nor ahead of real time: more than 5 minutes would be rejected) keeps keys distinct.
            last_ms = max(last_ms, int(time.time() * 1000))
            client.publish(topics[turn], messages.encode(sent[turn] % 256, last_ms), qos=1)
            sent[turn] += 1
            samples += per_message
            turn = (turn + 1) % len(groups)
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while any(worker.messages < count for worker, count in zip(workers, sent, strict=True)):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        client.disconnect()
        client.loop_stop()
        return {"messages": sum(sent), "samples": samples, "elapsed": elapsed}

    @staticmethod
    def _naive(machine: WorkCenter, stream: str, seconds: float) -> float:
        """One Sample.objects.create per sample, each its own transaction: what a first version would do."""
        count = 0
        started = time.monotonic()
        moment = datetime.now(UTC)
        while time.monotonic() - started < seconds:
            Sample.objects.create(
                work_center=machine, stream=stream, sequence=count, timestamp=moment, metric="signal", value_number=1.0
            )
            count += 1
        return count / (time.monotonic() - started)
