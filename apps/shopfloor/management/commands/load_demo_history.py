from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.machines.management.arguments import NOW_HELP, plant_datetime
from apps.shopfloor.demo_history import HistoryError, load_demo_history


class Command(BaseCommand):
    help = (
        "Give the demo shop a simulated past: machine states from the machine simulator through the ingest, "
        "HIST- jobs worked on them through the shop-floor services. Running it again replaces that history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=30, help="How far back from now (default 30).")
        parser.add_argument(
            "--exact",
            action="store_true",
            help="Start exactly HOURS ago, even if that leaves out the last whole working day (a Monday morning).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same history.")
        parser.add_argument("--now", type=plant_datetime, help=NOW_HELP)
        parser.add_argument(
            "--machines", type=int, default=None, help="The first N machines in plant order (default: all)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["hours"] <= 0:
            raise CommandError("--hours must be positive.")
        try:
            summary = load_demo_history(
                now=options["now"],
                hours=options["hours"],
                seed=options["seed"],
                machines=options["machines"],
                whole_day=not options["exact"],
            )
        except HistoryError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Demo history {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} UTC on {summary.machines} "
            f"machines: {summary.messages} Sparkplug messages into {summary.intervals} machine state intervals "
            f"({summary.simulation_seconds:g} s), {summary.explained_stops} stops explained"
            + (f", {summary.no_work} without work for two hours" if summary.no_work else "")
            + "."
        )
        self.stdout.write(
            f"{summary.jobs} HIST- jobs ({summary.complete_jobs} complete), {summary.operations} operations, "
            f"{summary.production_events} production events ({summary.production_seconds:g} s)."
        )
