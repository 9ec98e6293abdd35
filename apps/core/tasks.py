"""Celery tasks of core."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import OperatorLogRecord


@shared_task(name="core.prune_operator_log")
def prune_operator_log_task(keep_days: int = 90) -> int:
    """Drop log-panel records older than `keep_days`; safe to run twice."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = OperatorLogRecord.objects.filter(logged_at__lt=cutoff).delete()
    return deleted
