"""The JSON the operator app reads: built from the selectors' rows, plain dicts of strings and numbers
(they are stored as replayable answers, so nothing here may need a custom encoder)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.urls import reverse

from apps.machines.models import DowntimeReason, MachineStateInterval, WorkCenter
from apps.routings.models import Operation
from apps.scheduling.models import ScheduleSlot

from ..models import Attendance, LaborEntry, ScrapReason
from ..selectors import Station, allowed_actions, clocked_in_centers, is_ready, published_schedule


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
    """Payloads of many operations (rows of `operations_for_floor`) with two more queries, whatever
    their number: their slots in the published plan and the machines that may run them."""
    schedule = published_schedule()
    slots: dict[int, ScheduleSlot] = {}
    if schedule is not None and ops:
        rows = ScheduleSlot.objects.filter(schedule=schedule, operation__in=[op.pk for op in ops])
        slots = {slot.operation_id: slot for slot in rows}
    eligible: dict[int, list[WorkCenter]] = defaultdict(list)
    types = {op.work_center_type_id for op in ops}
    for wc in WorkCenter.objects.filter(work_center_type_id__in=types, is_active=True).order_by("code"):
        eligible[wc.work_center_type_id].append(wc)
    return [_operation(op, user, station, slots.get(op.pk), eligible[op.work_center_type_id]) for op in ops]


def _operation(
    op: Operation, user: Any, station: Station, slot: ScheduleSlot | None, eligible: list[WorkCenter]
) -> dict[str, Any]:
    job, part = op.job, op.job.part
    return {
        "id": op.pk,
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
        "setup_minutes": str(op.setup_minutes),
        "run_minutes_per_unit": str(op.run_minutes_per_unit),
        "planned_start": _when(slot.setup_start) if slot is not None else None,
        "planned_end": _when(slot.end) if slot is not None else None,
        "ready": is_ready(op),
        "people": [person(entry.operator) for entry in getattr(op, "open_labor", [])],
        "actions": allowed_actions(op, user, station),
    }


def reasons() -> dict[str, Any]:
    return {
        "downtime": [
            {"id": r.pk, "code": r.code, "name": r.name, "parent": r.parent_id, "planned": r.is_planned}
            for r in DowntimeReason.objects.filter(is_active=True).order_by("sequence", "name")
        ],
        "scrap": [{"id": r.pk, "code": r.code, "name": r.name} for r in ScrapReason.objects.filter(is_active=True)],
    }


def prompt(interval: MachineStateInterval) -> dict[str, Any]:
    return {
        "id": interval.pk,
        "work_center": {"id": interval.work_center_id, "name": interval.work_center.name},
        "state": interval.state,
        "started_at": _when(interval.started_at),
        "ended_at": _when(interval.ended_at),
    }
