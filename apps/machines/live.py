"""Live machine state over the Channels layer: group names, the payload of one machine, and the
push of deltas after the data they announce is committed.

Every machine's payload carries its `version` (LiveState.version, counted up on every change). A
client keeps the last version per machine; a delta that skips one means it missed a message, and
it asks for a snapshot again (`{"action": "resync"}`), as it does after every reconnect.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from apps.core.live import send_to_group

from .machine_state import Signals

PLANT_GROUP = "machines.plant"


def machine_group(work_center_id: int) -> str:
    return f"machine-{work_center_id}"


def department_group(department_id: int) -> str:
    return f"department-{department_id}"


def machine_payload(
    *,
    work_center_id: int,
    code: str,
    name: str,
    department_id: int,
    state: str,
    since: datetime,
    last_seen: datetime | None,
    program: str,
    part_count: int | None,
    signals: dict[str, Any],
    version: int,
) -> dict[str, Any]:
    """What a page needs to draw one machine; the same dict in snapshots and deltas."""
    pure = Signals.from_json(signals)
    return {
        "id": work_center_id,
        "code": code,
        "name": name,
        "department_id": department_id,
        "state": state,
        "since": since.isoformat(),
        "last_seen": last_seen.isoformat() if last_seen else None,
        "program": program,
        "part_count": part_count,
        "alarms": [{"source": a.source, "code": a.code, "level": a.level.value} for a in sorted(pure.alarms)],
        "signals": {
            "availability": pure.availability,
            "execution": pure.execution,
            "controller_mode": pure.controller_mode,
            **dict(pure.extra),
        },
        "version": version,
    }


def push_machine_deltas(payloads: Iterable[dict[str, Any]]) -> None:
    """Send each machine's delta to its machine, department and plant groups once the
    transaction commits (never before: a client could otherwise read a state that is rolled back)."""
    ready = list(payloads)
    if ready:
        transaction.on_commit(lambda: _send(ready))


def _send(payloads: list[dict[str, Any]]) -> None:
    for payload in payloads:
        message = {"type": "live.delta", "version": payload["version"], "data": payload}
        for group in (machine_group(payload["id"]), department_group(payload["department_id"]), PLANT_GROUP):
            send_to_group(group, message)
