"""The JSON the operator app reads: built from the selectors' rows, plain dicts of strings and numbers
(they are stored as replayable answers, so nothing here may need a custom encoder)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Max
from django.urls import reverse

from apps.machines.models import DowntimeReason, MachineStateInterval, WorkCenter
from apps.routings.choices import OperationStatus
from apps.routings.models import Operation
from apps.scheduling.models import ScheduleSlot
from apps.scheduling.selectors import published_schedule

from ..choices import EventKind
from ..models import Attendance, LaborEntry, ProductionEvent, ScrapReason
from ..selectors import (
    PROMPTED_STATES,
    Station,
    allowed_actions,
    clocked_in_centers,
    is_ready,
    unstarted_predecessors,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def machine(work_center: WorkCenter) -> dict[str, Any]:
    return {"id": work_center.pk, "code": work_center.code, "name": work_center.name}


def person(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


def me(user: Any) -> dict[str, Any]:
    attendance = Attendance.objects.open().filter(operator=user).first()
    centers = clocked_in_centers(user)
    labor = LaborEntry.objects.filter(operator=user, ended_at__isnull=True).order_by("started_at")
    every = (
        WorkCenter.objects.filter(is_active=True).select_related("department").order_by("department__sequence", "code")
    )
    return {
        "user": person(user),
        "attendance": None
        if attendance is None
        else {
            "id": attendance.pk,
            "clocked_in_at": _when(attendance.clocked_in_at),
            "work_centers": [machine(wc) for wc in centers],
        },
        "labor": [
            {
                "operation": entry.operation_id,
                "work_center": entry.work_center_id,
                "phase": entry.phase,
                "started_at": _when(entry.started_at),
            }
            for entry in labor
        ],
        "work_centers": [{**machine(wc), "department": wc.department.name} for wc in every],
    }


def operations(ops: Sequence[Operation], user: Any, station: Station) -> list[dict[str, Any]]:
    """Payloads of many operations (rows of `operations_for_floor`) with at most four more queries,
    whatever their number: their slots in the published plan, the machines that may run them, when
    their labor last changed, and why the paused ones are paused."""
    ids = [op.pk for op in ops]
    schedule = published_schedule()
    slots: dict[int, ScheduleSlot] = {}
    if schedule is not None and ops:
        rows = ScheduleSlot.objects.filter(schedule=schedule, operation__in=ids)
        slots = {slot.operation_id: slot for slot in rows}
    eligible: dict[int, list[WorkCenter]] = defaultdict(list)
    types = {op.work_center_type_id for op in ops}
    for wc in WorkCenter.objects.filter(work_center_type_id__in=types, is_active=True).order_by("code"):
        eligible[wc.work_center_type_id].append(wc)
    labor_changed: dict[int, datetime] = {}
    if ops:
        labor = LaborEntry.objects.filter(operation__in=ids).values("operation").annotate(last=Max("updated_at"))
        labor_changed = {row["operation"]: row["last"] for row in labor}
    pauses = _pause_events([op.pk for op in ops if op.paused_since is not None])
    return [
        _operation(
            op,
            user,
            station,
            slots.get(op.pk),
            eligible[op.work_center_type_id],
            version=_version(op, labor_changed.get(op.pk)),
            pause=pauses.get(op.pk),
        )
        for op in ops
    ]


def _version(op: Operation, labor_changed: datetime | None) -> int:
    """Microseconds since 1970 of the last change an operator can see: the operation, its job or
    part, the steps it waits for, or anyone's labor on it. Every action changes one of them, so a copy
    with a higher version is newer; the app keeps it over an older answer that arrives late (a replay,
    a cached read)."""
    changed = [op.updated_at, op.job.updated_at, op.job.part.updated_at]
    changed += [before.updated_at for before in op.predecessors.all()]
    if labor_changed is not None:
        changed.append(labor_changed)
    return (max(changed) - EPOCH) // timedelta(microseconds=1)


def _pause_events(paused_ids: list[int]) -> dict[int, ProductionEvent]:
    """The latest pause event of each paused operation: it says why."""
    if not paused_ids:
        return {}
    events = (
        ProductionEvent.objects.filter(operation__in=paused_ids, kind=EventKind.PAUSE)
        .select_related("pause_reason")
        .order_by("operation", "at", "pk")
    )
    return {event.operation_id: event for event in events}


def _operation(
    op: Operation,
    user: Any,
    station: Station,
    slot: ScheduleSlot | None,
    eligible: list[WorkCenter],
    *,
    version: int,
    pause: ProductionEvent | None,
) -> dict[str, Any]:
    job, part = op.job, op.job.part
    reason = pause.pause_reason if pause is not None else None
    return {
        "id": op.pk,
        "version": version,
        "job": {
            "id": job.pk,
            "number": job.number,
            "customer": job.customer.name,
            "due_date": job.due_date.isoformat(),
            "priority": job.get_priority_display(),
            "notes": job.notes,
            "quantity": job.quantity,
        },
        "sequence": op.sequence,
        "operation_code": op.operation_code,
        "description": op.description,
        "part": {
            "number": part.number,
            "revision": part.revision,
            "description": part.description,
            "material": part.material.code if part.material is not None else "",
            "thickness_mm": str(part.thickness_mm) if part.thickness_mm is not None else "",
        },
        "files": [
            {
                "id": f.pk,
                "kind": f.kind,
                "name": f.original_name,
                "url": reverse("routings:part-file-download", kwargs={"pk": f.pk}),
            }
            for f in part.files.all()
        ],
        "work_center_type": {"id": op.work_center_type_id, "name": op.work_center_type.name},
        "work_center": machine(op.work_center) if op.work_center is not None else None,
        "eligible_work_centers": [machine(wc) for wc in eligible],
        "quantity": op.quantity,
        "quantity_good": op.quantity_good,
        "quantity_scrap": op.quantity_scrap,
        "status": op.status,
        "phase": op.phase,
        "paused": op.paused_since is not None,
        "paused_since": _when(op.paused_since),
        "pause_reason": {"id": reason.pk, "name": reason.name} if reason is not None else None,
        "setup_minutes": str(op.setup_minutes),
        "run_minutes_per_unit": str(op.run_minutes_per_unit),
        "planned_start": _when(slot.setup_start) if slot is not None else None,
        "planned_end": _when(slot.end) if slot is not None else None,
        "ready": is_ready(op),
        "waiting_for": _waiting_for(op),
        "people": [person(entry.operator) for entry in getattr(op, "open_labor", [])],
        "actions": allowed_actions(op, user, station),
    }


def _waiting_for(op: Operation) -> list[dict[str, Any]]:
    """The earlier steps, not started yet, that keep a pending operation from starting. Steps follow
    steps of their own job only, so the job's number names them without another query."""
    if op.status != OperationStatus.PENDING:
        return []
    return [
        {"id": before.pk, "job": op.job.number, "sequence": before.sequence, "operation_code": before.operation_code}
        for before in unstarted_predecessors(op)
    ]


def reasons() -> dict[str, Any]:
    return {
        "downtime": [
            {"id": r.pk, "code": r.code, "name": r.name, "parent": r.parent_id, "planned": r.is_planned}
            for r in DowntimeReason.objects.filter(is_active=True).order_by("sequence", "name")
        ],
        "scrap": [{"id": r.pk, "code": r.code, "name": r.name} for r in ScrapReason.objects.filter(is_active=True)],
        # The machine states that ask the operator why: the app fetches its prompts when a machine enters one.
        "prompted_states": [str(state) for state in PROMPTED_STATES],
    }


def prompt(interval: MachineStateInterval) -> dict[str, Any]:
    return {
        "id": interval.pk,
        "work_center": machine(interval.work_center),
        "state": interval.state,
        "started_at": _when(interval.started_at),
        "ended_at": _when(interval.ended_at),
    }
