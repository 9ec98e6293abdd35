from time import perf_counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.machines.management.arguments import NOW_HELP, plant_datetime
from apps.routings.demo import DEMO_SEED, load_demo_shop


class Command(BaseCommand):
    help = (
        "Load the demo shop (departments, work centers, calendars, materials, customers, parts with "
        "routings, ~300 open jobs). Idempotent: rows that exist are left as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Random seed (default %(default)s).")
        parser.add_argument("--now", type=plant_datetime, help=NOW_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        began = perf_counter()
        summary = load_demo_shop(now=options["now"], seed=options["seed"])
        elapsed = perf_counter() - began
        self.stdout.write(f"Demo shop loaded in {elapsed:.1f} s (created this run / rows in the table):")
        for table, total in summary.totals.items():
            self.stdout.write(f"  {table:<22} {summary.created[table]:>5} / {total}")
        statuses = ", ".join(f"{label.lower()} {count}" for label, count in summary.job_statuses.items())
        self.stdout.write(f"  jobs by status: {statuses}")
