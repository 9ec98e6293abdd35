from __future__ import annotations

from celery import shared_task

from .idempotency import prune_idempotent_actions


@shared_task(name="shopfloor.prune_idempotent_actions")
def prune_idempotent_actions_task() -> int:
    return prune_idempotent_actions()
