import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.telemetry.opcua.client import OpcUaUnavailable
from apps.telemetry.opcua.nodemap import MachineMap, NodeMapError, load_node_map
from apps.telemetry.opcua.report import inspect_endpoint, render_table


class Command(BaseCommand):
    help = (
        "Browse an OPC UA server's Machinery 'Machines' folder: each machine's identification and the values "
        "the MES would read (state, operation mode, stacklight, part count, program). Read-only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", metavar="ENDPOINT", help="Server endpoint, e.g. opc.tcp://10.0.0.5:4840")
        parser.add_argument("--map", type=Path, help="Node map (YAML or JSON): work centers, metrics, security.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
        parser.add_argument("--timeout", type=float, default=5.0, help="Seconds to wait for each server answer.")

    def handle(self, *args: Any, **options: Any) -> None:
        endpoint: str = options["endpoint"]
        if not endpoint.startswith("opc.tcp://"):
            raise CommandError(f"{endpoint!r} is not an OPC UA endpoint (expected opc.tcp://host:port)")
        # asyncua narrates every request at INFO: noise on a terminal, the report is the output.
        logging.getLogger("asyncua").setLevel(logging.WARNING)
        node_map: list[MachineMap] = []
        if options["map"] is not None:
            try:
                node_map = load_node_map(options["map"])
            except NodeMapError as exc:
                raise CommandError(str(exc)) from exc
        try:
            report = asyncio.run(inspect_endpoint(endpoint, node_map, timeout=options["timeout"]))
        except (OpcUaUnavailable, NodeMapError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) if options["json"] else render_table(report))
