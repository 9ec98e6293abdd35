"""Changeover times for the demo shop's lasers and punches, between the sheet materials it buys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.machines.models import WorkCenterType
from apps.routings.demo.catalog import MATERIALS
from apps.scheduling.models import ChangeoverTime

# The demo's sheet-cutting types: a material change means other gas, nozzle, focus or tooling.
DEMO_TYPES = ("fiber-laser", "turret-punch")
SAME_GRADE_AND_GAUGE = 5  # only the sheet size differs: reload the table
SAME_GRADE = 10  # other thickness: nozzle, focus and parameters
SAME_FAMILY = 20  # other grade or coating of the same metal
OTHER_FAMILY = 30  # stainless, carbon steel, aluminium: cleaning, gas change, slats against contamination


def family(grade: str) -> str:
    if grade.startswith(("304", "430")):
        return "stainless"
    if grade.startswith("5052"):
        return "aluminium"
    return "carbon"


def changeover_minutes(before: tuple[str, str], after: tuple[str, str]) -> int:
    """Minutes between two (grade, thickness) sheets of different material codes."""
    if before == after:
        return SAME_GRADE_AND_GAUGE
    if before[0] == after[0]:
        return SAME_GRADE
    if family(before[0]) == family(after[0]):
        return SAME_FAMILY
    return OTHER_FAMILY


class Command(BaseCommand):
    help = (
        "Add the demo shop's changeover times (laser and punch, between its material codes). "
        "Idempotent: existing rows are left as they are."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        types = list(WorkCenterType.objects.filter(code__in=DEMO_TYPES).order_by("code"))
        if not types:
            raise CommandError("the demo work-center types are missing: run load_demo_shop first")
        sheets = {code: (grade, thickness) for code, _, grade, thickness, _ in MATERIALS}
        rows = [
            ChangeoverTime(
                work_center_type=kind,
                from_category=before,
                to_category=after,
                minutes=changeover_minutes(sheets[before], sheets[after]),
            )
            for kind in types
            for before in sheets
            for after in sheets
            if before != after
        ]
        existing = ChangeoverTime.objects.filter(work_center_type__in=types).count()
        ChangeoverTime.objects.bulk_create(rows, ignore_conflicts=True)
        created = ChangeoverTime.objects.filter(work_center_type__in=types).count() - existing
        self.stdout.write(f"Changeover times: {created} created, {len(rows) - created} already there.")
