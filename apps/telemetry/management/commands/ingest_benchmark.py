"""Sustained MQTT ingest throughput, next to the naive one-row-per-sample ORM insert, in one run.

A publisher sends Sparkplug NDATA messages of `--per-message` samples through the broker for
`--seconds`, keeping at most `--window` messages ahead of the workers (an unbounded backlog would
only measure the broker's queue limit, which drops messages when full). `--workers N` runs N
workers, each on its own thread and database connection with a disjoint topic filter (one Sparkplug
group each), the way a pool of `run_ingest --topic` processes splits the plant. While one worker
waits for PostgreSQL, another decodes: the database's work and Python's overlap.

Mosquitto's default `max_inflight_messages 20` caps a manually acknowledged batch at 20 messages;
`--private-broker` starts a Mosquitto of its own on a free port with the queue settings of the broker
the project ships (deploy/mosquitto/mosquitto.conf, see docs/telemetry-storage.md) and stops it
afterwards. Rows go to the configured database: one work center "BENCH-INGEST" and rows under
per-run streams, left for retention to remove.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
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
from django.db import close_old_connections, connection
from paho.mqtt.enums import CallbackAPIVersion

from apps.machines.models import Department, WorkCenter, WorkCenterType
from apps.telemetry.ingest import MAX_BATCH, BrokerAddress, IngestWorker, forget_session
from apps.telemetry.models import Sample
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
    """NDATA payloads of `per_message` values of alias 1 (born as Double), 1 ms apart, the last one at `now_ms`.

    One Payload is filled once and only its timestamps and seq change per message: building 200
    MetricSample objects per message cost the publisher, which shares the CPU and the GIL with the
    workers, about as much as decoding them cost the worker.
    """

    def __init__(self, per_message: int) -> None:
        self._payload = Payload()
        for index in range(per_message):
            metric = self._payload.metrics.add()
            metric.alias = 1
            metric.double_value = float(index)
        self._metrics = list(self._payload.metrics)

    def encode(self, seq: int, now_ms: int) -> bytes:
        self._payload.timestamp = now_ms
        self._payload.seq = seq
        for moment, metric in enumerate(self._metrics, now_ms - len(self._metrics) + 1):
            metric.timestamp = moment
        return self._payload.SerializeToString()


class Command(BaseCommand):
    help = "Measure MQTT ingest (samples/s stored, loss, duplicates) against a naive per-row ORM insert."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=60.0, help="How long to publish (default 60).")
        parser.add_argument("--per-message", type=int, default=200, help="Samples per Sparkplug message.")
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
        workers = [
            IngestWorker(url, f"bench-{group}", subscriptions=[f"spBv1.0/{group}/#"], max_batch=options["max_batch"])
            for group in groups
        ]
        started: list[IngestWorker] = []
        consumers: list[threading.Thread] = []
        load_before = os.getloadavg()
        cpu_before = time.process_time()
        backend_seconds: list[float] = []
        try:
            for worker in workers:
                try:
                    worker.start()
                except (OSError, TimeoutError) as exc:
                    where = f"{worker.address.host}:{worker.address.port}"
                    raise CommandError(f"MQTT broker {where} is not reachable: {exc}") from None
                started.append(worker)
                consumer = threading.Thread(target=self._consume, args=(worker, backend_seconds), daemon=True)
                consumer.start()
                consumers.append(consumer)
            mqtt_figures = self._publish(url, groups, workers, options)
        finally:
            for worker in started:
                worker.stop()
            for consumer in consumers:
                consumer.join(timeout=DRAIN_TIMEOUT)
            for worker in started:
                forget_session(url, worker.client_id)
        load_after = os.getloadavg()
        cpu_seconds = time.process_time() - cpu_before
        backends_read = len(backend_seconds) == len(workers)
        stored = sum(Sample.objects.filter(stream__startswith=f"spb:{group}/").count() for group in groups)
        naive_seconds = options["naive_seconds"] or options["seconds"] / 3
        naive_rate = self._naive(machine, f"naive:{run}", naive_seconds)
        elapsed = mqtt_figures["elapsed"]
        rate = stored / elapsed if elapsed else 0.0
        batches = sum(worker.batches for worker in workers)
        return {
            "database": connection.vendor,
            "workers": len(workers),
            "seconds": round(elapsed, 2),
            "messages": mqtt_figures["messages"],
            "samples_published": mqtt_figures["samples"],
            "samples_stored": stored,
            "samples_per_second": round(rate),
            "loss": mqtt_figures["samples"] - stored,
            "duplicates": sum(worker.stored.duplicates for worker in workers),
            "dead_letters": sum(worker.dead_letters for worker in workers),
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
    def _consume(worker: IngestWorker, backend_seconds: list[float]) -> None:
        """Run one worker; add the CPU seconds its PostgreSQL backend spent, when that server is local."""
        backend = _backend_pid()
        before = _process_cpu_seconds(backend)
        try:
            worker.run()
        finally:
            after = _process_cpu_seconds(backend)
            if before is not None and after is not None:
                backend_seconds.append(after - before)
            close_old_connections()
            connection.close()

    @staticmethod
    def _publish(url: str, groups: list[str], workers: list[IngestWorker], options: dict[str, Any]) -> dict[str, Any]:
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
        messages = DataMessages(options["per_message"])
        per_message = options["per_message"]
        now = datetime.now(UTC)
        birth = encode_payload(
            [
                MetricSample(name="bdSeq", datatype=DataType.Int64, value=0),
                MetricSample(name="signal", alias=1, datatype=DataType.Double, value=0.0),
            ],
            timestamp=now,
            seq=0,
        )
        for group in groups:
            client.publish(f"spBv1.0/{group}/NBIRTH/{MACHINE}", birth, qos=1).wait_for_publish(10)
        # Each birth stores availability and the signal's first value.
        sent = [1] * len(groups)
        samples = 2 * len(groups)
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
