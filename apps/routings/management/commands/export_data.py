"""`manage.py export_data KIND --format xlsx|csv --output FILE`: the file the export page downloads."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.routings.imports.kinds import KINDS
from apps.routings.imports.services import export_csv, export_xlsx


class Command(BaseCommand):
    help = "Export master data or open jobs with exactly the columns import_data reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
        parser.add_argument("--output", required=True, help="File to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = KINDS[options["kind"]]
        if options["format"] == "csv":
            with open(options["output"], "w", encoding="utf-8", newline="") as target:
                rows = -1  # the header line
                for piece in export_csv(actor=None, kind=kind):
                    target.write(piece)
                    rows += 1
        else:
            with open(options["output"], "wb") as target:
                rows = export_xlsx(actor=None, kind=kind, target=target)
        self.stdout.write(f"wrote {rows} rows of {kind.slug} to {options['output']}")
