"""The scrap reasons a sheet-metal plant starts from and then edits in the admin."""

from __future__ import annotations

from typing import Any

from django.db import migrations

DEFAULT_REASONS = [
    ("CUT", "Bad cut (dross, burn, dimension)"),
    ("BEND", "Wrong bend angle or flange length"),
    ("WELD", "Weld defect"),
    ("SURFACE", "Scratched or dented surface"),
    ("MATERIAL", "Material defect"),
    ("PROGRAM", "Wrong program or revision"),
    ("HANDLING", "Damaged in handling"),
    ("SETUP", "Setup piece"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    reason = apps.get_model("shopfloor", "ScrapReason")
    for code, name in DEFAULT_REASONS:
        reason.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("shopfloor", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
