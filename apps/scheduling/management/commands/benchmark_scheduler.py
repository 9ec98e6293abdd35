"""Measure the scheduler on public job-shop and flexible job-shop instances.

    python manage.py benchmark_scheduler ../shared/benchmarks/jssp/la*.txt --format jssp \
        --time-limit 10 --workers 2 --json --baseline

prints one JSON object per instance per line (see docs/benchmarks.md for the fields). The
solver is the one the product plans with, minimising the makespan; `--baseline` also runs the
plain textbook CP-SAT model with the same time and workers, for comparison.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.machines.management.arguments import NOW_HELP, plant_datetime
from apps.scheduling.benchmarks import (
    InstanceFormat,
    InstanceFormatError,
    best_known,
    gap_percent,
    load_instance,
    run_benchmark,
)
from apps.scheduling.services import plan_for_benchmark


class Command(BaseCommand):
    help = "Solve benchmark instances with the product's scheduler and print the makespans."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="Instance files.")
        parser.add_argument("--format", choices=[choice.value for choice in InstanceFormat], default="jssp")
        parser.add_argument("--time-limit", type=float, default=10.0, help="Seconds per instance (default 10).")
        parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="One JSON object per instance per line.")
        parser.add_argument("--solutions", type=Path, help="Write DIR/<instance>.json with every operation's slot.")
        parser.add_argument(
            "--baseline", action="store_true", help="Also run the plain textbook CP-SAT model (same time, workers)."
        )
        parser.add_argument("--shop", choices=["demo"], help="Plan a shop from the database instead of files.")
        parser.add_argument(
            "--due-earlier",
            type=int,
            default=0,
            metavar="HOURS",
            help="With --shop: move every due date this many hours earlier (a tighter variant of the shop).",
        )
        parser.add_argument(
            "--from-published",
            action="store_true",
            help="With --shop: replan from the published schedule, as planning runs do (the demo publishes one).",
        )
        parser.add_argument("--now", type=plant_datetime, help=f"With --shop: plan from this moment. {NOW_HELP}")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["shop"]:
            try:
                record = plan_for_benchmark(
                    time_limit_seconds=options["time_limit"],
                    workers=options["workers"],
                    seed=options["seed"],
                    due_earlier_hours=options["due_earlier"],
                    start_from_published=options["from_published"],
                    now=options["now"],
                )
            except (ValueError, LookupError) as error:  # bad input, an empty shop, no calendar
                raise CommandError(f"--shop demo: {error}") from error
            self.stdout.write(json.dumps(record))
            return
        if options["now"] is not None:
            raise CommandError("--now plans a shop from that moment: give it with --shop demo")
        files: list[Path] = options["files"]
        if not files:
            raise CommandError("give at least one instance file (or --shop demo)")
        if options["time_limit"] <= 0 or options["workers"] < 1:
            raise CommandError("--time-limit must be positive and --workers at least 1")
        instance_format = InstanceFormat(options["format"])
        solutions: Path | None = options["solutions"]
        if solutions is not None:
            solutions.mkdir(parents=True, exist_ok=True)
        for path in files:
            try:
                instance = load_instance(path, instance_format)
            except (OSError, InstanceFormatError) as error:
                raise CommandError(f"{path}: {error}") from error
            run = run_benchmark(
                instance, options["time_limit"], options["workers"], options["seed"], options["baseline"]
            )
            record = run.record()
            reference = best_known(path)
            if reference is not None:
                record["best_known"] = reference
                record["gap_pct"] = gap_percent(_int(record["makespan"]), reference)
                if "baseline_makespan" in record:
                    record["baseline_gap_pct"] = gap_percent(_int(record["baseline_makespan"]), reference)
            if solutions is not None:
                (solutions / f"{instance.name}.json").write_text(json.dumps(run.solution()))
            if options["json"]:
                self.stdout.write(json.dumps(record))
            else:
                self.stdout.write(_line(record))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _line(record: dict[str, Any]) -> str:
    text = (
        f"{record['instance']:>10}  {record['jobs']}x{record['machines']}  makespan {record['makespan']}"
        f"  bound {record['best_bound']}  {record['status']}  {record['wall_s']:.1f}s"
    )
    if "best_known" in record:
        text += f"  best known {record['best_known']} ({record['gap_pct']:+.2f}%)"
    if "baseline_makespan" in record:
        text += f"  baseline {record['baseline_makespan']}"
    rules = record["rules"]
    if rules:
        best = min(rules, key=lambda rule: rules[rule])
        text += f"  best rule {best} {rules[best]}"
    return text
