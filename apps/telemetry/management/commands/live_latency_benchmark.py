"""`live_latency_benchmark`: how long a machine's state change takes to reach a browser, with the real
processes (daphne, run_ingest) and services (MQTT broker, Redis, the database). See docs/benchmarks-live.md.

Every child process is started here and ended here, whatever happens, and the run is bounded to
--seconds + 30 s: a benchmark left running would skew whatever runs next on the machine.
"""

import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.telemetry.benchmarks.live_latency import (
    BenchmarkError,
    ExecutionFlipper,
    Fixture,
    Plan,
    ServerProcess,
    measure,
    prepare_fixture,
    remove_fixture,
)
from apps.telemetry.ingest import BrokerAddress, forget_session
from apps.telemetry.sparkplug.topic import NAMESPACE

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
BOUND = 30.0  # seconds the whole run may take beyond --seconds
SETUP = 18.0  # of those, for the processes, the fixture, the clients and the births
DRAIN = 5.0  # of those, for the last deliveries after the last flip
TEARDOWN = 5.0  # of those, for stopping the processes and deleting the fixture
GRACE = 3.0  # seconds a process has to exit after SIGTERM before it is killed
LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")
SUBSCRIBED = re.compile(r"ingesting from")


class Stop(Exception):
    """SIGTERM: leave through the clean-up like Ctrl-C does."""


class Command(BaseCommand):
    help = (
        "Measure machine event to browser latency: Sparkplug execution flips through MQTT, run_ingest, the Redis "
        "channel layer and daphne to WebSocket clients of the plant page. Needs REDIS_URL and an MQTT broker."
    )

    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--machines", type=int, default=200, help="Machines flipped (clones beyond the shop's).")
        parser.add_argument("--clients", type=int, default=100, help="WebSocket clients on the plant page.")
        parser.add_argument("--seconds", type=float, default=60.0, help="How long events are published.")
        parser.add_argument("--rate", type=float, default=10.0, help="Execution flips per second, all machines.")
        parser.add_argument(
            "--broker", default="", help=f"mqtt://host:port (default: MQTT_URL, else {DEFAULT_BROKER})."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()

        def say(text: str) -> None:
            if options["verbosity"] >= 2:
                self.stderr.write(f"{time.monotonic() - started:6.1f} s  {text}")

        machines, clients, seconds, rate = options["machines"], options["clients"], options["seconds"], options["rate"]
        if machines < 1 or clients < 1 or seconds <= 0 or rate <= 0:
            raise CommandError("--machines, --clients, --seconds and --rate must be positive.")
        broker = self._broker(options["broker"])
        self._check_services()

        run = uuid.uuid4().hex[:10]
        group = f"latency-{run}"
        ingest_id = f"latency-bench-{run}"
        env = {"DJANGO_SETTINGS_MODULE": "cnc_copilot.settings", **os.environ, "PYTHONUNBUFFERED": "1"}
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        processes: list[ServerProcess] = []
        fixture: Fixture | None = None
        flipper: ExecutionFlipper | None = None
        previous = signal.signal(signal.SIGTERM, self._stop)
        with tempfile.TemporaryDirectory(prefix="latency-bench-") as logs:
            try:
                daphne = ServerProcess(
                    "daphne",
                    [
                        sys.executable,
                        "-m",
                        "daphne",
                        "-e",
                        "tcp:port=0:interface=127.0.0.1",
                        "cnc_copilot.asgi:application",
                    ],
                    Path(logs),
                    env,
                )
                processes.append(daphne)
                ingest = ServerProcess(
                    "run_ingest",
                    [sys.executable, manage, "run_ingest", "--broker", broker, "--client-id", ingest_id]
                    + ["--topic", f"{NAMESPACE}/{group}/#"],
                    Path(logs),
                    env,
                )
                processes.append(ingest)
                fixture = prepare_fixture(machines)
                say(f"{len(fixture.codes)} machines, {len(fixture.created_ids)} of them cloned")
                ready_by = started + SETUP
                port = int(daphne.wait_for(LISTENING, ready_by).group(1))
                ingest.wait_for(SUBSCRIBED, ready_by)
                say(f"daphne on port {port}, run_ingest subscribed")
                flipper = ExecutionFlipper(broker, group, fixture.codes)
                flipper.start()
                plan = Plan(
                    url=f"ws://127.0.0.1:{port}/ws/machines/plant/",
                    cookie=fixture.session_key,
                    clients=clients,
                    codes=fixture.codes,
                    rate=rate,
                    seconds=seconds,
                    ready_by=ready_by,
                    drain=DRAIN,
                )
                limit = started + seconds + BOUND - TEARDOWN - time.monotonic()
                tally = asyncio.run(asyncio.wait_for(measure(plan, flipper, say), timeout=max(1.0, limit)))
            except BenchmarkError as exc:
                raise CommandError(str(exc)) from None
            except TimeoutError:
                raise CommandError(f"the benchmark did not finish within --seconds + {BOUND:g} s") from None
            except (KeyboardInterrupt, Stop):
                raise CommandError("interrupted") from None
            finally:
                signal.signal(signal.SIGTERM, previous)
                if flipper is not None:
                    flipper.stop()
                for process in processes:
                    process.terminate()
                reaped_by = time.monotonic() + GRACE
                for process in processes:
                    process.reap(reaped_by)
                self._forget(broker, ingest_id)
                if fixture is not None:
                    remove_fixture(fixture)
        report = tally.report(machines=machines, seconds=seconds)
        load = os.getloadavg()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json()))
            self.stderr.write(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            return
        figures = report.as_json()
        self.stdout.write(
            f"{figures['events']} events x {figures['clients']} clients over {figures['machines']} machines in "
            f"{seconds:g} s: {figures['deliveries']} deliveries, {figures['missed']} missed\n"
            f"latency ms: p50 {figures['p50_ms']}  p95 {figures['p95_ms']}  p99 {figures['p99_ms']}  "
            f"max {figures['max_ms']}\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )

    @staticmethod
    def _stop(signum: int, frame: FrameType | None) -> None:
        raise Stop

    @staticmethod
    def _forget(broker: str, client_id: str) -> None:
        """Drop the ingest's persistent session, so the broker keeps no queue for a client that never returns."""
        try:
            forget_session(broker, client_id)
        except OSError:
            return

    @staticmethod
    def _broker(option: str) -> str:
        url = option or settings.MQTT_URL or DEFAULT_BROKER
        try:
            BrokerAddress.parse(url)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return url

    @staticmethod
    def _check_services() -> None:
        """Other processes must reach the same channel layer and database as this one."""
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        if not settings.REDIS_URL or "channels_redis" not in backend:
            raise CommandError(
                "Set REDIS_URL (redis://127.0.0.1:6379/0): the in-memory channel layer cannot carry a push "
                "from the ingest process to daphne."
            )
        name = str(settings.DATABASES["default"]["NAME"])
        if name in (":memory:", "") or "mode=memory" in name:
            raise CommandError("The database is in memory: daphne and the ingest worker could not see it.")
