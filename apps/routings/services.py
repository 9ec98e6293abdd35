"""Every state change of parts, routings and jobs.

Transitions are conditional updates on the old status (two people releasing the same job make one
release). Refusals raise ValidationError with a message a planner can act on and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.permissions import require_permission
from apps.machines.models import WorkCenter

from .choices import OPEN_JOB_STATUSES, JobStatus, OperationStatus
from .models import Customer, Job, Operation, Part, RoutingStep
from .precedence import default_predecessors, find_cycle, unknown_predecessors

RELEASE = "routings.release_job"
HOLD = "routings.hold_job"
CANCEL = "routings.cancel_job"
SPLIT = "routings.split_job"
ADD_JOB = "routings.add_job"
CHANGE_OPERATION = "routings.change_operation"


def validate_routing(part: Part, steps: Iterable[RoutingStep] | None = None) -> None:
    """A routing can be released when it has steps, no precedence cycle, and every step's work
    center type has at least one active work center."""
    steps = list(steps if steps is not None else part.routing_steps.select_related("work_center_type"))
    if not steps:
        raise ValidationError(_("Part %(part)s has no routing steps.") % {"part": part})
    by_id = {step.pk: step.sequence for step in steps}
    explicit = {step.sequence: [by_id[p.pk] for p in step.predecessors.all() if p.pk in by_id] for step in steps}
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
        _copy_routing(job, steps)
    job.refresh_from_db()
    return job


def _copy_routing(job: Job, steps: list[RoutingStep]) -> None:
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


def _move(job_id: int, allowed: Iterable[str], new_status: str, actor: Any, **fields: Any) -> int:
    now = timezone.now()
    return Job.objects.filter(pk=job_id, status__in=list(allowed)).update(
        status=new_status, status_changed_at=now, status_changed_by=actor, updated_at=now, **fields
    )


def _refuse(job_id: int, verb: str) -> ValidationError:
    job = Job.objects.get(pk=job_id)
    return ValidationError(
        _("Job %(job)s is %(status)s and cannot be %(verb)s.")
        % {"job": job.number, "status": job.get_status_display().lower(), "verb": verb}
    )


@transaction.atomic
def hold_job(*, actor: Any, job_id: int, reason: str) -> Job:
    """Stop a job from being worked (missing material, customer change…) without losing its place."""
    require_permission(actor, HOLD)
    if not reason.strip():
        raise ValidationError(_("Say why the job goes on hold."))
    if not _move(job_id, (JobStatus.RELEASED, JobStatus.IN_PROGRESS), JobStatus.ON_HOLD, actor, hold_reason=reason):
        raise _refuse(job_id, _("put on hold"))
    return Job.objects.get(pk=job_id)


@transaction.atomic
def resume_job(*, actor: Any, job_id: int) -> Job:
    """Take a job off hold: back to in progress if work had started, else released."""
    require_permission(actor, HOLD)
    started = Operation.objects.filter(job_id=job_id).exclude(status=OperationStatus.PENDING).exists()
    target = JobStatus.IN_PROGRESS if started else JobStatus.RELEASED
    if not _move(job_id, (JobStatus.ON_HOLD,), target, actor, hold_reason=""):
        raise _refuse(job_id, _("resumed"))
    return Job.objects.get(pk=job_id)


@transaction.atomic
def cancel_job(*, actor: Any, job_id: int, reason: str = "") -> Job:
    """Cancel an open job; its unfinished operations are cancelled with it."""
    require_permission(actor, CANCEL)
    note = {"notes": reason} if reason else {}
    if not _move(job_id, OPEN_JOB_STATUSES, JobStatus.CANCELLED, actor, **note):
        raise _refuse(job_id, _("cancelled"))
    Operation.objects.filter(job_id=job_id).exclude(status=OperationStatus.COMPLETE).update(
        status=OperationStatus.CANCELLED, updated_at=timezone.now()
    )
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
    new_job = Job.objects.create(
        number=f"{job.number}-{suffix}",
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
        Operation.objects.filter(job=job).update(quantity=job.quantity)
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
    return new_job


@transaction.atomic
def start_operation(*, actor: Any, operation_id: int, at: datetime | None = None) -> Operation:
    """Record that work began on an operation; the job becomes in progress."""
    require_permission(actor, CHANGE_OPERATION)
    when = at or timezone.now()
    operation = Operation.objects.select_related("job").get(pk=operation_id)
    if operation.job.status not in (JobStatus.RELEASED, JobStatus.IN_PROGRESS):
        raise _refuse(operation.job_id, _("worked on"))
    moved = Operation.objects.filter(pk=operation_id, status=OperationStatus.PENDING).update(
        status=OperationStatus.IN_PROGRESS, actual_start=when, updated_at=timezone.now()
    )
    if not moved:
        raise ValidationError(
            _("Operation %(op)s is %(status)s and cannot be started.")
            % {"op": operation, "status": operation.get_status_display().lower()}
        )
    _move(operation.job_id, (JobStatus.RELEASED,), JobStatus.IN_PROGRESS, actor)
    return Operation.objects.get(pk=operation_id)


@transaction.atomic
def complete_operation(*, actor: Any, operation_id: int, at: datetime | None = None) -> Operation:
    """Record that an operation finished; the job is complete when all its operations are."""
    require_permission(actor, CHANGE_OPERATION)
    when = at or timezone.now()
    operation = Operation.objects.select_related("job").get(pk=operation_id)
    moved = Operation.objects.filter(pk=operation_id, status=OperationStatus.IN_PROGRESS).update(
        status=OperationStatus.COMPLETE, actual_end=when, updated_at=timezone.now()
    )
    if not moved:
        raise ValidationError(
            _("Operation %(op)s is %(status)s; only an operation in progress can be completed.")
            % {"op": operation, "status": operation.get_status_display().lower()}
        )
    open_left = Operation.objects.filter(job_id=operation.job_id).exclude(
        status__in=(OperationStatus.COMPLETE, OperationStatus.CANCELLED)
    )
    if not open_left.exists():
        _move(operation.job_id, (JobStatus.IN_PROGRESS,), JobStatus.COMPLETE, actor)
    return Operation.objects.get(pk=operation_id)


def next_step_sequence(part: Part) -> int:
    """Where a new routing step goes: ten after the last, leaving room to insert."""
    last = part.routing_steps.aggregate(last=Max("sequence"))["last"]
    return (last or 0) + 10
