from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.telemetry.edge.cli import run, status
from apps.telemetry.edge.config import ConfigError, load_config


class Command(BaseCommand):
    help = (
        "Run the edge gateway (store-and-forward from MTConnect agents to the MQTT broker) from a TOML or JSON "
        "configuration, or print its buffer's backlog with --status. It never touches the MES database."
    )
    # The gateway runs on shop-floor PCs without the MES database: system checks must not need one.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--config", required=True, type=Path, help="The gateway's TOML or JSON file.")
        parser.add_argument("--status", action="store_true", help="Print the buffer's backlog and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = load_config(options["config"])
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        if options["status"]:
            self.stdout.write(status(config))
            return
        run(config)
