"""What operators do at the machine: clock in and out, start, set up, run, pause, report, complete.

Every action is one function in one transaction that locks the operation row first, so two phones
acting on the same operation at once are served one after the other and the second sees what the
first did (a conflict, not a lost update). A refused action raises ValidationError with a code and
changes nothing:

- `not_clocked_in`: the operator is not clocked in to that machine;
- `conflict`: the operation is not in the state the action needs (someone else got there first);
- `short`: completing with fewer good parts than ordered needs `accept_short`;
- `invalid`: the input itself is wrong (a machine that cannot run the operation, too many parts).

The Operation row (routings) carries the summary planning reads: where it runs, its phase, whether
it is paused, good and scrap counts. ProductionEvent keeps the full story; LaborEntry the people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.permissions import require_permission
from apps.machines.choices import AmendmentCause
from apps.machines.models import DowntimeReason, WorkCenter
from apps.machines.services import amend_history
from apps.routings.choices import OperationPhase, OperationStatus
from apps.routings.models import Operation
from apps.routings.services import mark_operation_complete, mark_operation_started

from .choices import EventKind
from .models import Attendance, LaborEntry, ProductionEvent, ScrapReason

EXECUTE_OPERATION = "shopfloor.execute_operation"
CORRECT_LABOR = "shopfloor.correct_labor"


# --- attendance ---------------------------------------------------------------------------------


def _active_centers(work_center_ids: Sequence[int]) -> list[WorkCenter]:
    wanted = set(work_center_ids)
    centers = list(WorkCenter.objects.filter(pk__in=wanted, is_active=True))
    missing = wanted - {wc.pk for wc in centers}
    if missing:
        raise ValidationError(
            _("No active machine with id %(ids)s.") % {"ids": ", ".join(str(i) for i in sorted(missing))},
            code="invalid",
        )
    return centers


@transaction.atomic
def clock_in(*, operator: Any, work_center_ids: Sequence[int], at: datetime | None = None) -> Attendance:
    """Start a shift on one or more machines."""
    require_permission(operator, EXECUTE_OPERATION)
    centers = _active_centers(work_center_ids)
    current = Attendance.objects.open().filter(operator=operator).first()
    if current is not None:
        raise ValidationError(
            _("You are already clocked in since %(time)s.")
            % {"time": timezone.localtime(current.clocked_in_at).strftime("%H:%M")},
            code="conflict",
        )
    attendance = Attendance.objects.create(operator=operator, clocked_in_at=at or timezone.now())
    attendance.work_centers.set(centers)
    return attendance


@transaction.atomic
def set_attendance_machines(*, operator: Any, work_center_ids: Sequence[int], at: datetime | None = None) -> Attendance:
    """Change the machines an operator minds during the shift. Leaving a machine ends the
    operator's labor on the operations running there."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    centers = _active_centers(work_center_ids)
    attendance = _locked_attendance(operator)
    kept = {wc.pk for wc in centers}
    for entry in LaborEntry.objects.filter(operator=operator, ended_at__isnull=True).exclude(work_center_id__in=kept):
        _end_labor(entry, when, event_by=operator)
    attendance.work_centers.set(centers)
    return attendance


@transaction.atomic
def clock_out(*, operator: Any, at: datetime | None = None) -> Attendance:
    """End the shift; open labor ends with it (the operations keep running for whoever is left)."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    attendance = _locked_attendance(operator)
    if when < attendance.clocked_in_at:
        raise ValidationError(_("Clock-out cannot be before clock-in."), code="invalid")
    for entry in LaborEntry.objects.filter(operator=operator, ended_at__isnull=True):
        _end_labor(entry, when, event_by=operator)
    attendance.clocked_out_at = when
    attendance.save(update_fields=["clocked_out_at", "updated_at"])
    return attendance


def _locked_attendance(operator: Any) -> Attendance:
    attendance = Attendance.objects.open().select_for_update().filter(operator=operator).first()
    if attendance is None:
        raise ValidationError(_("You are not clocked in."), code="not_clocked_in")
    return attendance


def _require_clocked_in(operator: Any, work_center: WorkCenter) -> None:
    if not Attendance.objects.open().filter(operator=operator, work_centers=work_center).exists():
        raise ValidationError(
            _("You are not clocked in to %(machine)s.") % {"machine": work_center.name}, code="not_clocked_in"
        )


# --- operations ---------------------------------------------------------------------------------


def _lock(operation_id: int) -> Operation:
    try:
        return (
            Operation.objects.select_for_update(of=("self",))
            .select_related("job", "work_center", "work_center_type")
            .get(pk=operation_id)
        )
    except Operation.DoesNotExist:
        raise ValidationError(_("No operation %(id)s.") % {"id": operation_id}, code="invalid") from None


def _conflict(operation: Operation, doing: str) -> ValidationError:
    if operation.status == OperationStatus.COMPLETE:
        state = _("already completed")
    elif operation.status == OperationStatus.CANCELLED:
        state = _("cancelled")
    elif operation.status == OperationStatus.PENDING:
        state = _("not started")
    elif operation.paused_since is not None:
        state = _("paused")
    else:
        state = _("in %(phase)s") % {"phase": operation.get_phase_display().lower()}
    return ValidationError(
        _("Cannot %(doing)s %(op)s: it is %(state)s.") % {"doing": doing, "op": operation, "state": state},
        code="conflict",
    )


def _running(operation: Operation, doing: str, *, paused: bool | None = False) -> WorkCenter:
    """The machine of an operation in progress; `paused` None accepts both paused and not."""
    if operation.status != OperationStatus.IN_PROGRESS or operation.work_center is None:
        raise _conflict(operation, doing)
    if paused is not None and (operation.paused_since is not None) != paused:
        raise _conflict(operation, doing)
    return operation.work_center


def _event(operation: Operation, work_center: WorkCenter, kind: str, by: Any, at: datetime, **fields: Any) -> None:
    ProductionEvent.objects.create(operation=operation, work_center=work_center, kind=kind, by=by, at=at, **fields)
    # A phone that was offline reports yesterday's work today: the counts of a closed day change.
    amend_history(work_center_ids=[work_center.pk], start=at, end=at, cause=AmendmentCause.PRODUCTION_REPORTED)


def _start_labor(operator: Any, operation: Operation, work_center: WorkCenter, phase: str, at: datetime) -> None:
    LaborEntry.objects.create(
        operator=operator, operation=operation, work_center=work_center, phase=phase, started_at=at
    )


def _end_labor(entry: LaborEntry, at: datetime, *, event_by: Any | None = None) -> None:
    entry.ended_at = max(at, entry.started_at)
    entry.save(update_fields=["ended_at", "updated_at"])
    if event_by is not None:
        _event(entry.operation, entry.work_center, EventKind.LEAVE, event_by, at)


def _open_labor(operation: Operation) -> list[LaborEntry]:
    return list(LaborEntry.objects.filter(operation=operation, ended_at__isnull=True).select_related("operator"))


@transaction.atomic
def start_operation(*, operator: Any, operation_id: int, work_center_id: int, at: datetime | None = None) -> Operation:
    """Begin an operation on a machine: in setup when it has setup time, else straight into run."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    work_center = WorkCenter.objects.filter(pk=work_center_id, is_active=True).first()
    if work_center is None:
        raise ValidationError(_("No active machine with id %(id)s.") % {"id": work_center_id}, code="invalid")
    if work_center.work_center_type_id != operation.work_center_type_id:
        raise ValidationError(
            _("%(machine)s cannot run %(op)s: it needs a %(type)s.")
            % {"machine": work_center.name, "op": operation, "type": operation.work_center_type.name},
            code="invalid",
        )
    _require_clocked_in(operator, work_center)
    if operation.status != OperationStatus.PENDING:
        raise _conflict(operation, _("start"))
    waiting = [op for op in operation.predecessors.all() if op.status == OperationStatus.PENDING]
    if waiting:
        raise ValidationError(
            _("%(op)s waits for %(before)s, which has not started.")
            % {"op": operation, "before": ", ".join(f"{op.sequence} {op.operation_code}" for op in waiting)},
            code="invalid",
        )
    phase = OperationPhase.SETUP if operation.setup_minutes > 0 else OperationPhase.RUN
    mark_operation_started(actor=operator, operation_id=operation.pk, at=when, work_center=work_center, phase=phase)
    kind = EventKind.START_SETUP if phase == OperationPhase.SETUP else EventKind.START_RUN
    _event(operation, work_center, kind, operator, when)
    _start_labor(operator, operation, work_center, phase, when)
    return _fresh(operation.pk)


@transaction.atomic
def finish_setup(*, operator: Any, operation_id: int, at: datetime | None = None) -> Operation:
    """Setup done, first good part signed off: the operation runs. Labor moves to the run phase."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    work_center = _running(operation, _("finish the setup of"))
    _require_clocked_in(operator, work_center)
    if operation.phase != OperationPhase.SETUP:
        raise _conflict(operation, _("finish the setup of"))
    Operation.objects.filter(pk=operation.pk).update(phase=OperationPhase.RUN, updated_at=timezone.now())
    for entry in _open_labor(operation):
        _end_labor(entry, when)
        _start_labor(entry.operator, operation, work_center, OperationPhase.RUN, when)
    _event(operation, work_center, EventKind.START_RUN, operator, when)
    return _fresh(operation.pk)


@transaction.atomic
def join_operation(*, operator: Any, operation_id: int, at: datetime | None = None) -> Operation:
    """A second pair of hands on an operation in progress (a big weldment, a heavy bend)."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    work_center = _running(operation, _("join"))
    _require_clocked_in(operator, work_center)
    if LaborEntry.objects.filter(operation=operation, operator=operator, ended_at__isnull=True).exists():
        raise ValidationError(_("You are already working on %(op)s.") % {"op": operation}, code="conflict")
    _start_labor(operator, operation, work_center, operation.phase, when)
    _event(operation, work_center, EventKind.JOIN, operator, when)
    return _fresh(operation.pk)


@transaction.atomic
def leave_operation(*, operator: Any, operation_id: int, at: datetime | None = None) -> Operation:
    """Stop working on an operation that goes on without you."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    entry = LaborEntry.objects.filter(operation=operation, operator=operator, ended_at__isnull=True).first()
    if entry is None:
        raise ValidationError(_("You are not working on %(op)s.") % {"op": operation}, code="conflict")
    _end_labor(entry, when, event_by=operator)
    return _fresh(operation.pk)


@transaction.atomic
def pause_operation(
    *, operator: Any, operation_id: int, reason_id: int, note: str = "", at: datetime | None = None
) -> Operation:
    """Stop work for a reason (waiting for material, for the crane, a program issue…); labor stops too."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    work_center = _running(operation, _("pause"))
    _require_clocked_in(operator, work_center)
    reason = DowntimeReason.objects.filter(pk=reason_id, is_active=True).first()
    if reason is None:
        raise ValidationError(_("Choose a pause reason from the list."), code="invalid")
    Operation.objects.filter(pk=operation.pk).update(paused_since=when, updated_at=timezone.now())
    for entry in _open_labor(operation):
        _end_labor(entry, when)
    _event(operation, work_center, EventKind.PAUSE, operator, when, pause_reason=reason, note=note[:500])
    return _fresh(operation.pk)


@transaction.atomic
def resume_operation(*, operator: Any, operation_id: int, at: datetime | None = None) -> Operation:
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    work_center = _running(operation, _("resume"), paused=True)
    _require_clocked_in(operator, work_center)
    Operation.objects.filter(pk=operation.pk).update(paused_since=None, updated_at=timezone.now())
    _start_labor(operator, operation, work_center, operation.phase, when)
    _event(operation, work_center, EventKind.RESUME, operator, when)
    return _fresh(operation.pk)


def _check_counts(operation: Operation, good: int, scrap: int, scrap_reason_id: int | None) -> ScrapReason | None:
    if good < 0 or scrap < 0:
        raise ValidationError(_("Quantities cannot be negative."), code="invalid")
    reason = None
    if scrap:
        if scrap_reason_id is not None:
            reason = ScrapReason.objects.filter(pk=scrap_reason_id, is_active=True).first()
        if reason is None:
            raise ValidationError(_("Scrapped parts need a scrap reason."), code="invalid")
    left = operation.quantity - operation.quantity_good
    if good > left:
        raise ValidationError(
            _("%(good)s good is more than the %(left)s still needed (%(done)s of %(qty)s reported).")
            % {"good": good, "left": left, "done": operation.quantity_good, "qty": operation.quantity},
            code="invalid",
        )
    return reason


@transaction.atomic
def report_quantity(
    *,
    operator: Any,
    operation_id: int,
    good: int,
    scrap: int = 0,
    scrap_reason_id: int | None = None,
    at: datetime | None = None,
) -> Operation:
    """Good and scrapped parts made since the last report (a partial completion)."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    work_center = _running(operation, _("report on"), paused=None)
    _require_clocked_in(operator, work_center)
    if good + scrap == 0:
        raise ValidationError(_("Report at least one part, good or scrap."), code="invalid")
    reason = _check_counts(operation, good, scrap, scrap_reason_id)
    _count(operation, work_center, operator, when, good, scrap, reason)
    return _fresh(operation.pk)


def _count(
    operation: Operation,
    work_center: WorkCenter,
    operator: Any,
    at: datetime,
    good: int,
    scrap: int,
    reason: ScrapReason | None,
) -> None:
    Operation.objects.filter(pk=operation.pk).update(
        quantity_good=F("quantity_good") + good, quantity_scrap=F("quantity_scrap") + scrap, updated_at=timezone.now()
    )
    _event(
        operation,
        work_center,
        EventKind.REPORT,
        operator,
        at,
        quantity_good=good,
        quantity_scrap=scrap,
        scrap_reason=reason,
    )
    operation.quantity_good += good
    operation.quantity_scrap += scrap


@transaction.atomic
def complete_operation(
    *,
    operator: Any,
    operation_id: int,
    good: int = 0,
    scrap: int = 0,
    scrap_reason_id: int | None = None,
    accept_short: bool = False,
    at: datetime | None = None,
) -> Operation:
    """Finish an operation, with the last parts' counts. Fewer good parts than ordered must be
    confirmed (`accept_short`): the job then goes on with what there is."""
    require_permission(operator, EXECUTE_OPERATION)
    when = at or timezone.now()
    operation = _lock(operation_id)
    work_center = _running(operation, _("complete"), paused=None)
    _require_clocked_in(operator, work_center)
    reason = _check_counts(operation, good, scrap, scrap_reason_id)
    total_good = operation.quantity_good + good
    if total_good < operation.quantity and not accept_short:
        raise ValidationError(
            _("Only %(good)s of %(qty)s parts are good. Confirm to complete short.")
            % {"good": total_good, "qty": operation.quantity},
            code="short",
        )
    if good or scrap:
        _count(operation, work_center, operator, when, good, scrap, reason)
    for entry in _open_labor(operation):
        _end_labor(entry, when)
    mark_operation_complete(actor=operator, operation_id=operation.pk, at=when)
    _event(operation, work_center, EventKind.COMPLETE, operator, when)
    return _fresh(operation.pk)


def _fresh(operation_id: int) -> Operation:
    return Operation.objects.select_related("job", "work_center", "work_center_type").get(pk=operation_id)


# --- corrections ----------------------------------------------------------------------------------


def _check_correction(supervisor: Any, reason: str, start: datetime, end: datetime | None) -> str:
    require_permission(supervisor, CORRECT_LABOR)
    if not reason.strip():
        raise ValidationError(_("Say why the record is corrected."), code="invalid")
    if end is not None and end < start:
        raise ValidationError(_("The end cannot be before the start."), code="invalid")
    return reason.strip()[:100]


def _save_correction(row: Attendance | LaborEntry, supervisor: Any, reason: str, **fields: Any) -> None:
    """Save with who corrected it and why, for the history."""
    for name, value in fields.items():
        setattr(row, name, value)
    row._change_reason = reason  # type: ignore[union-attr]
    row._history_user = supervisor  # type: ignore[union-attr]
    row.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def correct_labor_entry(
    *, supervisor: Any, entry_id: int, started_at: datetime, ended_at: datetime | None, reason: str
) -> LaborEntry:
    """A supervisor fixes a forgotten stop or a wrong start; the history keeps who, when and why."""
    why = _check_correction(supervisor, reason, started_at, ended_at)
    entry = LaborEntry.objects.select_for_update().get(pk=entry_id)
    _save_correction(entry, supervisor, why, started_at=started_at, ended_at=ended_at)
    return entry


@transaction.atomic
def correct_attendance(
    *, supervisor: Any, attendance_id: int, clocked_in_at: datetime, clocked_out_at: datetime | None, reason: str
) -> Attendance:
    """A supervisor fixes a forgotten clock-out or a wrong clock-in, with the reason kept."""
    why = _check_correction(supervisor, reason, clocked_in_at, clocked_out_at)
    attendance = Attendance.objects.select_for_update().get(pk=attendance_id)
    if (
        clocked_out_at is None
        and attendance.clocked_out_at is not None
        and Attendance.objects.open().filter(operator=attendance.operator).exists()
    ):
        raise ValidationError(_("This operator has another open shift."), code="conflict")
    _save_correction(attendance, supervisor, why, clocked_in_at=clocked_in_at, clocked_out_at=clocked_out_at)
    return attendance
