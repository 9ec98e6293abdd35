"""Periodic telemetry housekeeping: day partitions ahead, retention behind, hourly roll-ups.

Both tasks are idempotent and cheap to run more often than needed; the beat schedule runs the
partition task hourly and the roll-ups every ten minutes over the last two hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import shared_task

from apps.telemetry.storage import (
    drop_blocks_before,
    drop_samples_before,
    ensure_partitions,
    retention_days,
    roll_up_hours,
)


@shared_task(name="telemetry.maintain_sample_partitions")
def maintain_sample_partitions_task(days_ahead: int = 3) -> dict[str, int]:
    """Create the partitions of today and the next `days_ahead` days; drop samples past SAMPLE_RETENTION_DAYS.

    On SQLite (no partitions) the old rows are deleted instead; `dropped` then counts rows.
    `blocks_dropped` counts the sample blocks whose last value is past retention.
    """
    today = datetime.now(UTC).date()
    created = ensure_partitions(today + timedelta(days=offset) for offset in range(days_ahead + 1))
    cutoff = today - timedelta(days=retention_days())
    dropped = drop_samples_before(cutoff)
    return {"created": len(created), "dropped": dropped, "blocks_dropped": drop_blocks_before(cutoff)}


@shared_task(name="telemetry.roll_up_hours")
def roll_up_hours_task(hours: int = 2) -> int:
    """Roll up the current hour and the `hours` before it (late samples land in past hours too)."""
    now = datetime.now(UTC)
    return roll_up_hours(now - timedelta(hours=hours), now)
