"""Celery tasks of machines."""

from __future__ import annotations

from celery import shared_task

from .services import refresh_machine_states


@shared_task(name="machines.refresh_machine_states")
def refresh_machine_states_task() -> int:
    """Silent machines go offline and shift ends become planned downtime even when no reading
    comes in to trigger it; safe to run twice (a second run finds nothing to change)."""
    return refresh_machine_states()
