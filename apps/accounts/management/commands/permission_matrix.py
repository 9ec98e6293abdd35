from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.matrix import render_markdown


class Command(BaseCommand):
    help = "Write docs/permissions.md from the role matrix and the routes (--check: only compare)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if the file is out of date.")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(settings.BASE_DIR) / "docs" / "permissions.md"
        text = render_markdown()
        if options["check"]:
            if not target.exists() or target.read_text() != text:
                raise CommandError("docs/permissions.md is out of date: run manage.py permission_matrix")
            self.stdout.write("docs/permissions.md is up to date")
            return
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)
        self.stdout.write(f"wrote {target}")
