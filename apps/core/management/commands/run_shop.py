"""Serve the whole shop from one command: daphne (HTTP + WebSockets), a Celery worker with beat,
and the simulated machines with their telemetry ingest.

`make run` calls this. The worker uses whatever broker is configured (a folder under var/ when
CELERY_BROKER_URL is not set), so nothing else has to be running on a laptop. Without MQTT_URL
the simulator hands its Sparkplug messages straight to the ingest in its own process; with it,
the simulator publishes to the broker and `run_ingest` consumes them. Ctrl-C or SIGTERM stops
every process it started.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server and a background worker on this machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Do not start a Celery worker.")
        parser.add_argument(
            "--no-simulator", action="store_true", help="Do not simulate machines (nor start the MQTT ingest)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        commands = [
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                options["host"],
                "-p",
                str(options["port"]),
                "cnc_copilot.asgi:application",
            ],
        ]
        if not options["no_worker"] and not settings.CELERY_TASK_ALWAYS_EAGER:
            commands.append(
                [
                    *(sys.executable, "-m", "celery", "-A", "cnc_copilot", "worker", "--beat"),
                    *("--loglevel", "INFO"),
                    *("--pool", "threads", "--concurrency", "2"),
                ]
            )
        names = ["web server", "worker"][: len(commands)]
        if not options["no_simulator"]:
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            if settings.MQTT_URL:
                commands.append([*manage, "run_ingest"])
                names.append("MQTT ingest")
                commands.append([*manage, "simulate_machines", "--broker", settings.MQTT_URL])
            else:
                commands.append([*manage, "simulate_machines", "--in-process"])
            names.append("machine simulator")
        children = [subprocess.Popen(command) for command in commands]
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [
            name
            for name, child in zip(names, children, strict=True)
            if child.returncode not in (0, -signal.SIGTERM, None)
        ]
        if failed and not stopping:
            self.stderr.write(f"stopped because the {' and the '.join(failed)} exited")
