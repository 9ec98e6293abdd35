"""Celery tasks of core."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import OperatorLogRecord
from .notifications import push_notifications


@shared_task(name="core.prune_operator_log")
def prune_operator_log_task(keep_days: int = 90) -> int:
    """Drop log-panel records older than `keep_days`; safe to run twice."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = OperatorLogRecord.objects.filter(logged_at__lt=cutoff).delete()
    return deleted


# Further attempts for a delivery the push service refused for a reason other than "gone".
PUSH_MAX_RETRIES = 4


@shared_task(name="core.send_web_push")
def send_web_push_task(notification_ids: list[int], deliveries: list[list[int]] | None = None, attempt: int = 0) -> int:
    """Push notifications to their users' devices; returns how many deliveries succeeded.

    A retry is a new task carrying only the deliveries that failed ([notification id,
    subscription id] pairs), after a growing pause; a fresh task rather than `self.retry` so
    that a retry is the same path in a worker and in eager mode.
    """
    sent, failed = push_notifications(notification_ids, deliveries)
    if failed and attempt < PUSH_MAX_RETRIES:
        send_web_push_task.apply_async(
            kwargs={
                "notification_ids": sorted({n_id for n_id, _s in failed}),
                "deliveries": failed,
                "attempt": attempt + 1,
            },
            countdown=30 * 2**attempt,
        )
    return sent
