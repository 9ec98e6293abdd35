"""Live pushes over the Channels layer, sent only after the data they announce is committed."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

JOBS_GROUP = "core.jobs"


def push_job_update(job_id: int) -> None:
    transaction.on_commit(lambda: _send_job_update(job_id))


def _send_job_update(job_id: int) -> None:
    from .models import Job

    job = (
        Job.objects.filter(pk=job_id)
        .values("id", "kind", "name", "status", "progress", "progress_detail", "cancel_requested")
        .first()
    )
    if job is None:
        return
    send_to_group(JOBS_GROUP, {"type": "relay", "event": "job", "data": job})


def send_to_group(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)
