"""Serve the whole shop from one command: daphne (HTTP + WebSockets) and a Celery worker with beat.

`make run` calls this. The worker uses whatever broker is configured (a folder under var/ when
CELERY_BROKER_URL is not set), so nothing else has to be running on a laptop.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server and a background worker on this machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Do not start a Celery worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        children: list[subprocess.Popen[bytes]] = []
        if not options["no_worker"] and not settings.CELERY_TASK_ALWAYS_EAGER:
            children.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "celery", "-A", "cnc_copilot", "worker", "--beat"),
                        *("--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME, "--loglevel", "INFO"),
                        *("--pool", "threads", "--concurrency", "2"),
                    ],
                )
            )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", f"{options['host']}:{options['port']}", use_reloader=False)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=10)
