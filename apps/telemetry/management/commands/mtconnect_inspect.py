import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.telemetry.mtconnect.client import AgentError, AgentUnavailable, MTConnectClient
from apps.telemetry.mtconnect.documents import ErrorDocument, ProbeDocument, StreamsDocument, parse_document
from apps.telemetry.mtconnect.report import inspection, render_table
from apps.telemetry.observations import MalformedMessage


class Command(BaseCommand):
    help = (
        "Show what an MTConnect agent (URL: reads /probe and /current) or a saved document (probe, current "
        "or sample) says about each device, and the state the MES derives from it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="URL_OR_FILE", help="Agent base URL (http://host:5000) or an XML file.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
        parser.add_argument("--timeout", type=float, default=10.0, help="Seconds to wait for the agent (URL only).")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        probe: ProbeDocument | None
        streams: StreamsDocument | None
        if source.startswith(("http://", "https://")):
            probe, streams = _from_agent(source, options["timeout"])
        else:
            probe, streams = _from_file(Path(source))
        report = inspection(probe, streams)
        self.stdout.write(json.dumps(report, indent=2) if options["json"] else render_table(report))


def _from_agent(url: str, timeout: float) -> tuple[ProbeDocument, StreamsDocument]:
    try:
        with MTConnectClient(url, timeout=timeout) as client:
            return client.probe(), client.current()
    except (AgentUnavailable, AgentError) as exc:
        raise CommandError(str(exc)) from exc
    except MalformedMessage as exc:
        raise CommandError(f"{url} does not look like an MTConnect agent: {exc}") from exc


def _from_file(path: Path) -> tuple[ProbeDocument | None, StreamsDocument | None]:
    if not path.is_file():
        raise CommandError(f"no such file: {path} (give an agent URL starting with http:// or an XML file)")
    try:
        document = parse_document(path.read_bytes())
    except MalformedMessage as exc:
        raise CommandError(f"{path} is not an MTConnect document: {exc}") from exc
    if isinstance(document, ErrorDocument):
        codes = ", ".join(document.codes)
        raise CommandError(f"{path} is an MTConnectError document ({codes}): it describes no device")
    if isinstance(document, ProbeDocument):
        return document, None
    return None, document
