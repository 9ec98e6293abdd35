"""Every state change of parts, routings and jobs.

Transitions are conditional updates on the old status (two people releasing the same job make one
release). Refusals raise ValidationError with a message a planner can act on and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.permissions import require_permission
from apps.machines.models import WorkCenter

from .choices import OPEN_JOB_STATUSES, JobStatus, OperationPhase, OperationStatus
from .models import Customer, Job, Operation, Part, PartFile, RoutingStep
from .precedence import default_predecessors, find_cycle, unknown_predecessors
from .uploads import check_part_file

RELEASE = "routings.release_job"
HOLD = "routings.hold_job"
CANCEL = "routings.cancel_job"
SPLIT = "routings.split_job"
ADD_JOB = "routings.add_job"
CHANGE_JOB = "routings.change_job"
DELETE_JOB = "routings.delete_job"
CHANGE_OPERATION = "routings.change_operation"
ADD_PART_FILE = "routings.add_partfile"
ADD_ROUTING_STEP = "routings.add_routingstep"
CHANGE_ROUTING_STEP = "routings.change_routingstep"

# Fields a planner may still change on an open job, and those fixed once it is released (its
# operations were made from them).
JOB_FIELDS_WHILE_OPEN = frozenset({"due_date", "priority", "sales_order", "notes"})
JOB_FIELDS_WHILE_DRAFT = frozenset({"number", "customer", "part", "quantity"})
OPERATION_FIELDS = frozenset({"setup_minutes", "run_minutes_per_unit", "preferred_work_center", "description"})

# What only the workflow changes on an operation (copied at release, moved by the shop floor):
# read-only in the admin and the API.
OPERATION_WORKFLOW_FIELDS = (
    "job",
    "sequence",
    "operation_code",
    "work_center_type",
    "quantity",
    "predecessors",
    "status",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "created_at",
    "updated_at",
)


def _audit(model: type[models.Model], ids: Iterable[int], actor: Any, reason: str, *, created: bool = False) -> None:
    """History rows for changes made by conditional or bulk updates, which bypass save()."""
    rows = list(model._default_manager.filter(pk__in=list(ids)))
    model.history.bulk_history_create(  # type: ignore[attr-defined]
        rows,
        update=not created,
        default_user=actor if getattr(actor, "pk", None) else None,
        default_change_reason=reason[:100],
    )


def validate_routing(part: Part, steps: Iterable[RoutingStep] | None = None) -> None:
    """A routing can be released when it has steps, no precedence cycle, and every step's work
    center type has at least one active work center."""
    if steps is None:
        steps = part.routing_steps.select_related("work_center_type").prefetch_related("predecessors")
    steps = list(steps)
    if not steps:
        raise ValidationError(_("Part %(part)s has no routing steps.") % {"part": part})
    by_id = {step.pk: step.sequence for step in steps}
    for step in steps:
        foreign = [p for p in step.predecessors.all() if p.pk not in by_id]
        if foreign:
            raise ValidationError(
                _("Step %(seq)s of %(part)s follows %(other)s, which is not a step of this routing.")
                % {"seq": step.sequence, "part": part, "other": foreign[0]}
            )
    explicit = {step.sequence: [by_id[p.pk] for p in step.predecessors.all()] for step in steps}
    _check_graph(str(part), default_predecessors([s.sequence for s in steps], explicit))
    type_ids = {step.work_center_type_id for step in steps}
    staffed = set(
        WorkCenter.objects.filter(work_center_type_id__in=type_ids, is_active=True).values_list(
            "work_center_type_id", flat=True
        )
    )
    for step in steps:
        if step.work_center_type_id not in staffed:
            raise ValidationError(
                _("Step %(seq)s of %(part)s needs a %(type)s, but no active work center is of that type.")
                % {"seq": step.sequence, "part": part, "type": step.work_center_type}
            )


def _check_graph(owner: str, predecessors: dict[int, list[int]]) -> None:
    missing = unknown_predecessors(predecessors)
    if missing:
        step, befores = next(iter(missing.items()))
        raise ValidationError(
            _("Step %(step)s of %(owner)s follows step(s) %(missing)s, which do not exist.")
            % {"step": step, "owner": owner, "missing": ", ".join(map(str, befores))}
        )
    cycle = find_cycle(predecessors)
    if cycle:
        raise ValidationError(
            _("The routing of %(owner)s has a precedence cycle: %(cycle)s.")
            % {"owner": owner, "cycle": " → ".join(map(str, cycle))}
        )


@transaction.atomic
def create_job(
    *,
    actor: Any,
    number: str,
    customer: Customer,
    part: Part,
    quantity: int,
    due_date: date,
    priority: int = 3,
    sales_order: str = "",
    notes: str = "",
) -> Job:
    """A new draft job. Its operations are made when it is released."""
    require_permission(actor, ADD_JOB)
    job = Job(
        number=number,
        customer=customer,
        part=part,
        quantity=quantity,
        due_date=due_date,
        priority=priority,
        sales_order=sales_order,
        notes=notes,
        status=JobStatus.DRAFT,
    )
    job.full_clean()
    job.save()
    return job


@transaction.atomic
def update_job(*, actor: Any, job_id: int, changes: Mapping[str, Any]) -> Job:
    """Change an open job's due date, priority, sales order or notes; its number, customer, part
    and quantity only while it is a draft (the operations were made from them at release)."""
    require_permission(actor, CHANGE_JOB)
    unknown = set(changes) - JOB_FIELDS_WHILE_OPEN - JOB_FIELDS_WHILE_DRAFT
    if unknown:
        raise ValidationError(_("These job fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status not in OPEN_JOB_STATUSES:
        raise _refuse(job.pk, _("changed"))
    fixed = sorted(
        name for name, value in changes.items() if name in JOB_FIELDS_WHILE_DRAFT and getattr(job, name) != value
    )
    if fixed and job.status != JobStatus.DRAFT:
        raise ValidationError(
            {
                name: _("Job %(job)s is released: its %(field)s can no longer change; split or cancel it instead.")
                % {"job": job.number, "field": getattr(Job._meta.get_field(name), "verbose_name", name)}
                for name in fixed
            }
        )
    for name, value in changes.items():
        setattr(job, name, value)
    job.full_clean()
    job.save()
    return job


@transaction.atomic
def delete_job(*, actor: Any, job_id: int) -> None:
    """Delete a draft entered by mistake; a released job is cancelled instead, so its trail stays."""
    require_permission(actor, DELETE_JOB)
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status != JobStatus.DRAFT:
        raise ValidationError(
            _("Job %(job)s is %(status)s; only a draft can be deleted, cancel it instead.")
            % {"job": job.number, "status": job.get_status_display().lower()}
        )
    job.delete()


def release_job(*, actor: Any, job_id: int) -> Job:
    """Release a draft job to the floor: copy the part's routing into its operations.

    Released once even when two people press the button together: the status moves from draft
    in a conditional update, and only the caller that moved it copies the routing.
    """
    require_permission(actor, RELEASE)
    with transaction.atomic():
        job = Job.objects.select_related("part").get(pk=job_id)
        if job.status != JobStatus.DRAFT:
            raise ValidationError(
                _("Job %(job)s is %(status)s; only a draft job can be released.")
                % {"job": job.number, "status": job.get_status_display().lower()}
            )
        steps = list(job.part.routing_steps.select_related("work_center_type").prefetch_related("predecessors"))
        validate_routing(job.part, steps)
        now = timezone.now()
        moved = Job.objects.filter(pk=job.pk, status=JobStatus.DRAFT).update(
            status=JobStatus.RELEASED,
            released_at=now,
            released_by=actor,
            status_changed_at=now,
            status_changed_by=actor,
            updated_at=now,
        )
        if not moved:
            raise ValidationError(_("Job %(job)s was released by someone else just now.") % {"job": job.number})
        _audit(Job, [job.pk], actor, "released")
        operation_ids = _copy_routing(job, steps)
        _audit(Operation, operation_ids, actor, "copied from the routing", created=True)
    job.refresh_from_db()
    return job


def _copy_routing(job: Job, steps: list[RoutingStep]) -> list[int]:
    Operation.objects.bulk_create(
        [
            Operation(
                job=job,
                sequence=step.sequence,
                operation_code=step.operation_code,
                description=step.description,
                work_center_type_id=step.work_center_type_id,
                preferred_work_center_id=step.preferred_work_center_id,
                quantity=job.quantity,
                setup_minutes=step.setup_minutes,
                run_minutes_per_unit=step.run_minutes_per_unit,
            )
            for step in steps
        ]
    )
    by_sequence = {op.sequence: op for op in Operation.objects.filter(job=job)}
    step_sequence = {step.pk: step.sequence for step in steps}
    explicit = {step.sequence: [step_sequence[p.pk] for p in step.predecessors.all()] for step in steps}
    links = default_predecessors([s.sequence for s in steps], explicit)
    through = Operation.predecessors.through
    through.objects.bulk_create(
        [
            through(from_operation_id=by_sequence[seq].pk, to_operation_id=by_sequence[before].pk)
            for seq, befores in links.items()
            for before in befores
        ]
    )
    return [op.pk for op in by_sequence.values()]


def _move(job_id: int, allowed: Iterable[str], new_status: str, actor: Any, reason: str, **fields: Any) -> int:
    now = timezone.now()
    moved = Job.objects.filter(pk=job_id, status__in=list(allowed)).update(
        status=new_status, status_changed_at=now, status_changed_by=actor, updated_at=now, **fields
    )
    if moved:
        _audit(Job, [job_id], actor, reason)
    return moved


def _refuse(job_id: int, verb: str) -> ValidationError:
    job = Job.objects.get(pk=job_id)
    return ValidationError(
        _("Job %(job)s is %(status)s and cannot be %(verb)s.")
        % {"job": job.number, "status": job.get_status_display().lower(), "verb": verb}
    )


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    limit = Job._meta.get_field("hold_reason").max_length or 200
    if len(reason) > limit:
        raise ValidationError(_("Keep the reason to %(n)s characters.") % {"n": limit})
    return f"{what}: {reason}" if reason else what


@transaction.atomic
def hold_job(*, actor: Any, job_id: int, reason: str) -> Job:
    """Stop a job from being worked (missing material, customer change…) without losing its place."""
    require_permission(actor, HOLD)
    if not reason.strip():
        raise ValidationError(_("Say why the job goes on hold."))
    note = _reason(reason, "put on hold")
    allowed = (JobStatus.RELEASED, JobStatus.IN_PROGRESS)
    if not _move(job_id, allowed, JobStatus.ON_HOLD, actor, note, hold_reason=reason.strip()):
        raise _refuse(job_id, _("put on hold"))
    return Job.objects.get(pk=job_id)


@transaction.atomic
def resume_job(*, actor: Any, job_id: int) -> Job:
    """Take a job off hold: back to in progress if work had started, else released."""
    require_permission(actor, HOLD)
    started = Operation.objects.filter(job_id=job_id).exclude(status=OperationStatus.PENDING).exists()
    target = JobStatus.IN_PROGRESS if started else JobStatus.RELEASED
    if not _move(job_id, (JobStatus.ON_HOLD,), target, actor, "resumed", hold_reason=""):
        raise _refuse(job_id, _("resumed"))
    return Job.objects.get(pk=job_id)


@transaction.atomic
def cancel_job(*, actor: Any, job_id: int, reason: str = "") -> Job:
    """Cancel an open job; its unfinished operations are cancelled with it.

    The reason is added to the job's notes, below what was there.
    """
    require_permission(actor, CANCEL)
    note = _reason(reason, "cancelled")
    fields: dict[str, Any] = {}
    if reason.strip():
        line = _("Cancelled: %(reason)s") % {"reason": reason.strip()}
        fields["notes"] = models.Case(
            models.When(notes="", then=Value(line)),
            default=Concat(F("notes"), Value("\n" + line), output_field=models.TextField()),
            output_field=models.TextField(),
        )
    if not _move(job_id, OPEN_JOB_STATUSES, JobStatus.CANCELLED, actor, note, **fields):
        raise _refuse(job_id, _("cancelled"))
    unfinished = Operation.objects.filter(job_id=job_id).exclude(status=OperationStatus.COMPLETE)
    ids = list(unfinished.values_list("pk", flat=True))
    unfinished.update(status=OperationStatus.CANCELLED, updated_at=timezone.now())
    _audit(Operation, ids, actor, "job cancelled")
    return Job.objects.get(pk=job_id)


@transaction.atomic
def split_job(*, actor: Any, job_id: int, quantity: int) -> Job:
    """Split `quantity` off a job that has not started into a new job with the same routing.

    The new job is numbered <number>-<n>; both keep the due date and status.
    """
    require_permission(actor, SPLIT)
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status not in (JobStatus.DRAFT, JobStatus.RELEASED, JobStatus.ON_HOLD):
        raise _refuse(job_id, _("split"))
    if Operation.objects.filter(job=job).exclude(status=OperationStatus.PENDING).exists():
        raise ValidationError(_("Job %(job)s has started operations and cannot be split.") % {"job": job.number})
    if not 0 < quantity < job.quantity:
        raise ValidationError(
            _("Split quantity must be between 1 and %(max)s for job %(job)s.")
            % {"max": job.quantity - 1, "job": job.number}
        )
    suffix = Job.objects.filter(split_from=job).count() + 2
    while Job.objects.filter(number=f"{job.number}-{suffix}").exists():
        suffix += 1
    number = f"{job.number}-{suffix}"
    if len(number) > (Job._meta.get_field("number").max_length or 40):
        raise ValidationError(_("Job %(job)s has a number too long to number a split after it.") % {"job": job.number})
    new_job = Job.objects.create(
        number=number,
        customer_id=job.customer_id,
        part_id=job.part_id,
        quantity=quantity,
        due_date=job.due_date,
        priority=job.priority,
        sales_order=job.sales_order,
        status=job.status,
        released_at=job.released_at,
        released_by_id=job.released_by_id,
        hold_reason=job.hold_reason,
        split_from=job,
        status_changed_at=timezone.now(),
        status_changed_by=actor,
    )
    job.quantity -= quantity
    job.save(update_fields=["quantity", "updated_at"])
    operations = list(job.operations.prefetch_related("predecessors").order_by("sequence"))
    if operations:
        Operation.objects.filter(job=job).update(quantity=job.quantity, updated_at=timezone.now())
        _audit(Operation, [op.pk for op in operations], actor, f"split {quantity} off to {number}")
        Operation.objects.bulk_create(
            [
                Operation(
                    job=new_job,
                    sequence=op.sequence,
                    operation_code=op.operation_code,
                    description=op.description,
                    work_center_type_id=op.work_center_type_id,
                    preferred_work_center_id=op.preferred_work_center_id,
                    quantity=quantity,
                    setup_minutes=op.setup_minutes,
                    run_minutes_per_unit=op.run_minutes_per_unit,
                )
                for op in operations
            ]
        )
        new_by_sequence = {op.sequence: op.pk for op in Operation.objects.filter(job=new_job)}
        through = Operation.predecessors.through
        through.objects.bulk_create(
            [
                through(
                    from_operation_id=new_by_sequence[op.sequence], to_operation_id=new_by_sequence[before.sequence]
                )
                for op in operations
                for before in op.predecessors.all()
            ]
        )
        _audit(Operation, new_by_sequence.values(), actor, f"split from {job.number}", created=True)
    return new_job


@transaction.atomic
def start_operation(*, actor: Any, operation_id: int, at: datetime | None = None) -> Operation:
    """Record that work began on an operation; the job becomes in progress."""
    require_permission(actor, CHANGE_OPERATION)
    mark_operation_started(actor=actor, operation_id=operation_id, at=at or timezone.now())
    return Operation.objects.get(pk=operation_id)


def mark_operation_started(
    *, actor: Any, operation_id: int, at: datetime, work_center: WorkCenter | None = None, phase: str = ""
) -> None:
    """Pending → in progress (and the job with it). The caller has checked the actor's right to do
    it: the office does it with `change_operation`, the shop floor with its own permission."""
    operation = Operation.objects.select_related("job").get(pk=operation_id)
    if operation.job.status not in (JobStatus.RELEASED, JobStatus.IN_PROGRESS):
        raise _refuse(operation.job_id, _("worked on"))
    moved = Operation.objects.filter(pk=operation_id, status=OperationStatus.PENDING).update(
        status=OperationStatus.IN_PROGRESS,
        actual_start=at,
        work_center=work_center,
        phase=phase or OperationPhase.RUN,
        updated_at=timezone.now(),
    )
    if not moved:
        raise ValidationError(
            _("Operation %(op)s is %(status)s and cannot be started.")
            % {"op": operation, "status": operation.get_status_display().lower()},
            code="conflict",
        )
    _audit(Operation, [operation_id], actor, "started")
    _move(operation.job_id, (JobStatus.RELEASED,), JobStatus.IN_PROGRESS, actor, "first operation started")


@transaction.atomic
def complete_operation(*, actor: Any, operation_id: int, at: datetime | None = None) -> Operation:
    """Record that an operation finished; the job is complete when all its operations are."""
    require_permission(actor, CHANGE_OPERATION)
    mark_operation_complete(actor=actor, operation_id=operation_id, at=at or timezone.now())
    return Operation.objects.get(pk=operation_id)


def mark_operation_complete(*, actor: Any, operation_id: int, at: datetime) -> None:
    """In progress → complete; the job is complete when all its operations are. The caller has
    checked the actor's right to do it."""
    operation = Operation.objects.select_related("job").get(pk=operation_id)
    if operation.job.status not in (JobStatus.RELEASED, JobStatus.IN_PROGRESS):
        raise _refuse(operation.job_id, _("worked on"))
    moved = Operation.objects.filter(pk=operation_id, status=OperationStatus.IN_PROGRESS).update(
        status=OperationStatus.COMPLETE, actual_end=at, paused_since=None, updated_at=timezone.now()
    )
    if not moved:
        raise ValidationError(
            _("Operation %(op)s is %(status)s; only an operation in progress can be completed.")
            % {"op": operation, "status": operation.get_status_display().lower()},
            code="conflict",
        )
    _audit(Operation, [operation_id], actor, "completed")
    open_left = Operation.objects.filter(job_id=operation.job_id).exclude(
        status__in=(OperationStatus.COMPLETE, OperationStatus.CANCELLED)
    )
    if not open_left.exists():
        _move(operation.job_id, (JobStatus.IN_PROGRESS,), JobStatus.COMPLETE, actor, "all operations complete")


@transaction.atomic
def update_operation(*, actor: Any, operation_id: int, changes: Mapping[str, Any]) -> Operation:
    """Adjust a released operation: setup and run estimates, the preferred machine, its text.

    The preferred work center must be an active machine of the operation's type.
    """
    require_permission(actor, CHANGE_OPERATION)
    unknown = set(changes) - OPERATION_FIELDS
    if unknown:
        raise ValidationError(
            _("These operation fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    operation = Operation.objects.select_for_update().select_related("job", "work_center_type").get(pk=operation_id)
    if operation.status in (OperationStatus.COMPLETE, OperationStatus.CANCELLED):
        raise ValidationError(
            _("Operation %(op)s is %(status)s and can no longer be changed.")
            % {"op": operation, "status": operation.get_status_display().lower()}
        )
    work_center = changes.get("preferred_work_center")
    if work_center is not None:
        check_preferred_work_center(work_center, operation.work_center_type_id, str(operation.work_center_type))
    for name, value in changes.items():
        setattr(operation, name, value)
    operation.full_clean()
    operation.save()
    return operation


def check_preferred_work_center(work_center: WorkCenter, type_id: int, type_name: str) -> None:
    """A preferred work center must be an active machine of the step's or operation's type."""
    if work_center.work_center_type_id != type_id:
        raise ValidationError(
            {"preferred_work_center": _("%(wc)s is not a %(type)s.") % {"wc": work_center, "type": type_name}}
        )
    if not work_center.is_active:
        raise ValidationError({"preferred_work_center": _("%(wc)s is not active.") % {"wc": work_center}})


def validate_routing_step(step: RoutingStep, predecessors: Iterable[RoutingStep]) -> None:
    """Checks on one step before it is saved: its preferred machine is of its type, and its
    predecessors are other steps of the same part that make no cycle with the rest."""
    if step.preferred_work_center_id is not None and step.preferred_work_center is not None:
        check_preferred_work_center(step.preferred_work_center, step.work_center_type_id, str(step.work_center_type))
    befores = list(predecessors)
    for before in befores:
        if before.part_id != step.part_id or (step.pk is not None and before.pk == step.pk):
            raise ValidationError(
                {
                    "predecessors": _("Step %(seq)s can only follow other steps of %(part)s, not %(other)s.")
                    % {"seq": step.sequence, "part": step.part, "other": before}
                }
            )
    others = list(RoutingStep.objects.filter(part_id=step.part_id).exclude(pk=step.pk).prefetch_related("predecessors"))
    sequence_of = {other.pk: other.sequence for other in others}
    if step.pk is not None:
        sequence_of[step.pk] = step.sequence
    explicit = {
        other.sequence: [sequence_of[p.pk] for p in other.predecessors.all() if p.pk in sequence_of] for other in others
    }
    explicit[step.sequence] = [before.sequence for before in befores]
    _check_graph(str(step.part), default_predecessors(list(explicit), explicit))


@transaction.atomic
def save_routing_step(
    *, actor: Any, step: RoutingStep, predecessors: Iterable[RoutingStep] | None = None
) -> RoutingStep:
    """Create or change a step of a part's standard routing.

    A new step without a sequence goes ten after the last. `predecessors=None` keeps the
    current ones (none for a new step: it follows the previous step in sequence).
    """
    require_permission(actor, CHANGE_ROUTING_STEP if step.pk else ADD_ROUTING_STEP)
    if step.sequence is None:
        step.sequence = next_step_sequence(step.part)
    step.full_clean(exclude=["predecessors"])
    befores = list(predecessors) if predecessors is not None else list(step.predecessors.all()) if step.pk else []
    validate_routing_step(step, befores)
    step.save()
    if predecessors is not None:
        step.predecessors.set(befores)
    return step


@transaction.atomic
def upload_part_file(*, actor: Any, part_id: int, kind: str, uploaded_file: UploadedFile) -> PartFile:
    """Keep a drawing, DXF or NC program of a part after checking what it really is.

    The file is stored under a server-made name; its original name is kept for downloads.
    """
    require_permission(actor, ADD_PART_FILE)
    part = Part.objects.get(pk=part_id)
    uploaded_file.seek(0)
    checked = check_part_file(
        kind=kind, name=uploaded_file.name or "", declared_size=uploaded_file.size, chunks=uploaded_file.chunks()
    )
    uploaded_file.seek(0)
    part_file = PartFile(
        part=part,
        kind=kind,
        original_name=checked.original_name,
        size_bytes=checked.size,
        content_type=checked.content_type,
        sha256=checked.sha256,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    part_file.file.save(checked.stored_name, uploaded_file, save=False)
    try:
        part_file.save()
    except Exception:
        # The row did not make it: do not leave an orphan file in storage.
        part_file.file.delete(save=False)
        raise
    return part_file


def next_step_sequence(part: Part) -> int:
    """Where a new routing step goes: ten after the last, leaving room to insert."""
    last = part.routing_steps.aggregate(last=Max("sequence"))["last"]
    return (last or 0) + 10
