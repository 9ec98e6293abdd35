"""Manual slot moves: the Django side of `edits` (gathers rows, checks, saves or refuses)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.permissions import require_permission
from apps.machines.models import WorkCenter
from apps.machines.selectors import plant_time_zone, working_intervals
from apps.routings.models import Operation
from apps.routings.precedence import default_predecessors

from . import edits
from .choices import ScheduleStatus
from .models import ScheduleSlot

CHANGE_SLOT = "scheduling.change_scheduleslot"
EDITABLE = (ScheduleStatus.READY, ScheduleStatus.PUBLISHED)
# How far past the new start working time is looked up: longer than any operation runs.
SEARCH_DAYS = 60


class SlotConflicts(ValidationError):
    """A move refused for what it would break; `conflicts` lists each one with its kind."""

    def __init__(self, conflicts: tuple[edits.Conflict, ...]) -> None:
        self.conflicts = conflicts
        super().__init__([conflict.message for conflict in conflicts])


def operation_label(operation: Operation) -> str:
    return f"{operation.job.number}/{operation.sequence} {operation.operation_code}"


@transaction.atomic
def move_slot(*, actor: Any, slot_id: int, work_center_id: int, start: datetime) -> ScheduleSlot:
    """Move a slot to `work_center_id` with its setup beginning at `start`.

    The run is recomputed for the machine (standard minutes ÷ efficiency, pausing over
    non-working time). Raises SlotConflicts listing every conflict; nothing is saved then.
    """
    require_permission(actor, CHANGE_SLOT)
    slot = (
        ScheduleSlot.objects.select_for_update(of=("self",))
        .select_related("schedule", "operation__job", "operation__work_center_type")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None:
        raise ValidationError(_("No such schedule slot."))
    if slot.schedule.status not in EDITABLE:
        raise ValidationError(
            _("Only slots of a ready or published schedule can be moved; this one is %(status)s.")
            % {"status": slot.schedule.get_status_display()}
        )
    if slot.is_frozen:
        raise ValidationError(_("This operation is running or complete; it stays where it is."))
    machine_row = WorkCenter.objects.select_related("work_center_type").filter(pk=work_center_id).first()
    if machine_row is None:
        raise ValidationError(_("No such work center."))

    operation = slot.operation
    job_operations = list(
        Operation.objects.filter(job_id=operation.job_id).select_related("job").prefetch_related("predecessors")
    )
    explicit = {row.sequence: [before.sequence for before in row.predecessors.all()] for row in job_operations}
    before_of = default_predecessors(list(explicit), explicit)
    by_sequence = {row.sequence: row for row in job_operations}
    predecessor_ids = {by_sequence[seq].pk for seq in before_of[operation.sequence]}
    successor_ids = {by_sequence[seq].pk for seq, befores in before_of.items() if operation.sequence in befores}
    # Links between jobs are explicit only.
    predecessor_ids |= {row.pk for row in operation.predecessors.all()}
    successor_ids |= set(operation.successors.values_list("pk", flat=True))

    related = ScheduleSlot.objects.filter(schedule_id=slot.schedule_id).select_related("operation__job")
    neighbours = list(
        related.filter(operation_id__in=predecessor_ids | successor_ids)
        | related.filter(work_center_id=machine_row.pk).exclude(pk=slot.pk)
    )

    def placed(row: ScheduleSlot) -> edits.PlacedSlot:
        return edits.PlacedSlot(operation_label(row.operation), row.setup_start, row.start, row.end)

    result = edits.check_move(
        edits.MoveRequest(
            label=operation_label(operation),
            required_type_id=operation.work_center_type_id,
            required_type_name=operation.work_center_type.name,
            work_minutes=float(operation.total_minutes),
            setup_minutes=slot.setup_minutes,
            setup_start=start,
        ),
        edits.Machine(
            code=machine_row.code,
            type_id=machine_row.work_center_type_id,
            type_name=machine_row.work_center_type.name,
            is_active=machine_row.is_active,
            efficiency=float(machine_row.efficiency),
        ),
        working_intervals(machine_row, start, start + timedelta(days=SEARCH_DAYS)),
        on_machine=[placed(row) for row in neighbours if row.work_center_id == machine_row.pk and row.pk != slot.pk],
        predecessors=[placed(row) for row in neighbours if row.operation_id in predecessor_ids],
        successors=[placed(row) for row in neighbours if row.operation_id in successor_ids],
        tz=plant_time_zone(),
    )
    if result.conflicts:
        raise SlotConflicts(result.conflicts)
    slot.work_center = machine_row
    slot.setup_start = result.setup_start
    slot.start = result.start
    slot.end = result.end
    slot.save(update_fields=["work_center", "setup_start", "start", "end"])
    return slot
