"""A default tree of downtime reasons a plant starts from and then edits in the admin."""

from __future__ import annotations

from typing import Any

from django.db import migrations

# (code, name, planned, children)
DEFAULT_TREE: list[tuple[str, str, bool, list[tuple[str, str, bool]]]] = [
    (
        "breakdown",
        "Breakdown",
        False,
        [
            ("breakdown-mechanical", "Mechanical failure", False),
            ("breakdown-electrical", "Electrical failure", False),
            ("breakdown-tooling", "Tooling failure", False),
        ],
    ),
    (
        "waiting",
        "Waiting",
        False,
        [
            ("waiting-material", "Waiting for material", False),
            ("waiting-crane", "Waiting for crane", False),
            ("waiting-forklift", "Waiting for forklift", False),
            ("waiting-inspection", "Waiting for inspection", False),
        ],
    ),
    ("program-issue", "Program issue", False, []),
    ("quality-hold", "Quality hold", False, []),
    ("no-operator", "No operator", False, []),
    ("changeover", "Changeover", False, []),
    (
        "planned",
        "Planned stop",
        True,
        [
            ("planned-maintenance", "Planned maintenance", True),
            ("planned-meeting", "Meeting or training", True),
            ("planned-cleaning", "Cleaning", True),
        ],
    ),
]


def seed(apps: Any, schema_editor: Any) -> None:
    reason = apps.get_model("machines", "DowntimeReason")
    for position, (code, name, planned, children) in enumerate(DEFAULT_TREE):
        parent, _ = reason.objects.get_or_create(
            code=code, defaults={"name": name, "is_planned": planned, "sequence": position * 10}
        )
        for child_position, (child_code, child_name, child_planned) in enumerate(children):
            reason.objects.get_or_create(
                code=child_code,
                defaults={
                    "name": child_name,
                    "is_planned": child_planned,
                    "parent": parent,
                    "sequence": child_position,
                },
            )


def unseed(apps: Any, schema_editor: Any) -> None:
    reason = apps.get_model("machines", "DowntimeReason")
    codes = [code for code, *_ in DEFAULT_TREE]
    reason.objects.filter(parent__code__in=codes, intervals__isnull=True).delete()
    reason.objects.filter(code__in=codes, children__isnull=True, intervals__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("machines", "0002_machine_state")]

    operations = [migrations.RunPython(seed, unseed)]
