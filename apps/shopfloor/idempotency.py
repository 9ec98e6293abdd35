"""Exactly-once shop-floor actions for devices that retry: the same Idempotency-Key gets the same
answer, and the action behind it runs once.

The key's row is inserted before the action runs, in the action's own transaction. A second
request with the same key, even one arriving while the first is still running, waits on the
unique index until the first commits and then replays its answer; if the first fails with an
unexpected error, its row goes with the rollback and a retry runs the action afresh. Refusals
(conflicts, invalid input) are answers too, stored and replayed like successes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import IdempotentAction

KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
# How a refusal's code maps to an HTTP status.
REFUSAL_STATUS = {"conflict": 409, "not_clocked_in": 409, "short": 409}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


class IdempotencyKeyError(ValueError):
    """The key is missing, malformed, or was used for another action or by another user."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def check_key(key: str) -> str:
    key = key.strip()
    if not key:
        raise IdempotencyKeyError(
            _("Send an Idempotency-Key header with every shop-floor action."), "idempotency_key_missing"
        )
    if not KEY_PATTERN.fullmatch(key):
        raise IdempotencyKeyError(
            _("An Idempotency-Key is 8 to 64 letters, digits or the characters _ . : -"), "idempotency_key_invalid"
        )
    return key


def refusal(exc: ValidationError) -> Answer:
    code = exc.code or "invalid"
    if code not in REFUSAL_STATUS:
        code = "invalid"
    return Answer(REFUSAL_STATUS.get(code, 400), {"detail": " ".join(exc.messages), "code": code})


def run_once(*, key: str, user: Any, action: str, perform: Callable[[], dict[str, Any]], status: int = 200) -> Answer:
    """Run `perform` once for this key; a ValidationError it raises becomes a stored refusal."""
    key = check_key(key)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentAction.objects.create(key=key, user=user, action=action, status_code=0)
        except IntegrityError:
            return _replay(key, user, action)
        try:
            with transaction.atomic():
                answer = Answer(status, perform())
        except ValidationError as exc:
            answer = refusal(exc)
        record.status_code, record.response = answer.status, answer.body
        record.save(update_fields=["status_code", "response"])
    return answer


def _replay(key: str, user: Any, action: str) -> Answer:
    stored = IdempotentAction.objects.get(key=key)
    if stored.user_id != user.pk or stored.action != action:
        raise IdempotencyKeyError(
            _("This Idempotency-Key was already used for another action."), "idempotency_key_reused"
        )
    return Answer(stored.status_code, stored.response, replayed=True)


def prune_idempotent_actions(*, now: Any = None) -> int:
    """Forget answers older than IDEMPOTENCY_KEY_DAYS: no device stays offline that long."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS)
    deleted, _rows = IdempotentAction.objects.filter(created_at__lt=cutoff).delete()
    return deleted
