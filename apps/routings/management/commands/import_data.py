"""`manage.py import_data KIND FILE [--user USERNAME]`: import a file as the import page does."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.routings.imports.kinds import KINDS
from apps.routings.imports.services import import_local_file


class Command(BaseCommand):
    help = "Import master data or open jobs from an .xlsx or .csv file; nothing is written if any row has a problem."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file")
        parser.add_argument("--user", help="Import as this user (their permissions apply); default: the system.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"no user {options['user']!r}")
        try:
            job, outcome = import_local_file(actor=actor, kind=options["kind"], path=options["file"])
        except FileNotFoundError as error:
            raise CommandError(f"no file {options['file']!r}") from error
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from error
        if outcome is None or not outcome.ok:
            for problem in outcome.problems if outcome else []:
                self.stderr.write(str(problem))
            raise CommandError(f"{job.error or job.get_status_display()} (background job {job.pk})")
        self.stdout.write(f"{outcome.summary()} (background job {job.pk})")
