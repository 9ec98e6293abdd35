"""A planned reason for a machine that is idle because nothing was scheduled on it.

OEE keeps that time out of planned production time as its own category (issue 7), so the reason
must exist under a code the reports know: `no-work`.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    reason = apps.get_model("machines", "DowntimeReason")
    reason.objects.get_or_create(
        code="no-work", defaults={"name": "No work scheduled", "is_planned": True, "sequence": 70}
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("machines", "DowntimeReason").objects.filter(code="no-work", intervals__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("machines", "0003_seed_downtime_reasons")]

    operations = [migrations.RunPython(seed, unseed)]
