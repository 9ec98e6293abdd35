"""Celery task of scheduling (the worker registers tasks from each app's tasks module)."""

from __future__ import annotations

from celery import shared_task

from .services import plan_schedule


@shared_task(name="scheduling.plan_schedule")
def plan_schedule_task(schedule_id: int) -> None:
    """Plan schedule `schedule_id`; a second delivery does nothing (the schedule is no longer planning)."""
    plan_schedule(schedule_id=schedule_id)
