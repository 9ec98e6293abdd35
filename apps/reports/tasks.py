"""Celery tasks of reports (the worker registers tasks from each app's tasks module).

A refused delivery is tried again as a new task carrying its attempt number, after
REPORT_DELIVERY_RETRY_SECONDS, up to REPORT_DELIVERY_MAX_RETRIES times; a fresh task rather than
`self.retry` so that a retry takes the same path in a worker and in eager mode (as core.send_web_push).
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings

from .services import (
    DeliveryFailed,
    deliver_report_run,
    give_up_report_delivery,
    render_report_run,
    run_scheduled_report,
)


@shared_task(name="reports.run_scheduled_report")
def run_scheduled_report_task(schedule_id: int, now: str | None = None) -> None:
    """Fired by beat at the schedule's time; `now` (ISO 8601, aware) replays a given moment."""
    try:
        run_scheduled_report(schedule_id=schedule_id, now=datetime.fromisoformat(now) if now else None)
    except DeliveryFailed as exc:
        _retry_or_give_up(exc.run_id, attempt=0, reason=exc.reason)


@shared_task(name="reports.run_report")
def run_report_task(run_id: int) -> None:
    """Render a queued run (a person's "Run now"); a second delivery of the task does nothing."""
    render_report_run(run_id=run_id)


@shared_task(name="reports.deliver_report_run")
def deliver_report_run_task(run_id: int, attempt: int = 0) -> int:
    """Send a run's pending e-mails; returns how many went out."""
    try:
        return deliver_report_run(run_id=run_id)
    except DeliveryFailed as exc:
        _retry_or_give_up(run_id, attempt=attempt, reason=exc.reason)
        return 0


def _retry_or_give_up(run_id: int, *, attempt: int, reason: str) -> None:
    if attempt < settings.REPORT_DELIVERY_MAX_RETRIES:
        deliver_report_run_task.apply_async(
            kwargs={"run_id": run_id, "attempt": attempt + 1}, countdown=settings.REPORT_DELIVERY_RETRY_SECONDS
        )
    else:
        give_up_report_delivery(run_id=run_id, reason=reason)
