"""Writing the demo shop: what is missing is created, keyed on natural keys (codes, part number +
revision, job numbers); new jobs are moved through the routing services the way a planner and the
floor would, so a second run changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from apps.inventory.choices import MaterialForm, Unit
from apps.inventory.models import Material
from apps.machines.choices import ExceptionKind
from apps.machines.models import (
    CalendarException,
    Department,
    Shift,
    ShiftBreak,
    ShiftCalendar,
    WorkCenter,
    WorkCenterType,
)
from apps.machines.selectors import plant_time_zone
from apps.routings import services
from apps.routings.choices import JobStatus
from apps.routings.models import Customer, Job, Operation, Part, RoutingStep

from .catalog import CALENDARS, CUSTOMERS, DEPARTMENTS, MAINTENANCE, MATERIALS, WORK_CENTER_TYPES, WORK_CENTERS
from .plan import DEMO_SEED, DemoPlan, StepPlan, plan_demo_shop

CHANGE_REASON = "demo shop"


M = TypeVar("M", bound=models.Model)


@dataclass
class DemoSummary:
    """What one run created, and how many rows each table holds afterwards."""

    created: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)
    job_statuses: dict[str, int] = field(default_factory=dict)


def _ensure(
    model: type[M], key: Callable[[M], Hashable], wanted: Iterable[M], existing: Iterable[M]
) -> tuple[dict[Hashable, M], list[M]]:
    """All wanted rows by natural key: the existing ones untouched, the missing ones created."""
    rows = {key(row): row for row in existing}
    missing = [row for row in wanted if key(row) not in rows]
    created: list[M] = []
    if missing:
        if hasattr(model, "history"):
            created = bulk_create_with_history(missing, model, default_change_reason=CHANGE_REASON)
        else:
            created = model._default_manager.bulk_create(missing)
        rows.update({key(row): row for row in created})
    return rows, created


def demo_job_prefix(now: datetime) -> str:
    """Jobs are numbered J<yy>-0001 from the year the demo was first loaded, so that loading it
    again next year finds the same jobs rather than adding a second set."""
    first = Job.objects.filter(number__regex=r"^J[0-9]{2}-0001$").order_by("created_at").first()
    return first.number[:3] if first else f"J{now.astimezone(plant_time_zone()):%y}"


@transaction.atomic
def load_demo_shop(*, now: datetime | None = None, seed: int = DEMO_SEED) -> DemoSummary:
    """Load the demo shop as of `now` (default: this moment). Rows that exist, found by their
    natural keys, are left as they are: a second run creates and changes nothing."""
    now = now or timezone.now()
    summary = DemoSummary()
    plan = plan_demo_shop(now=now, tz=plant_time_zone(), seed=seed, job_prefix=demo_job_prefix(now))
    work_centers = _load_plant(plan, summary)
    materials, new_materials = _ensure(
        Material,
        lambda m: m.code,
        [
            Material(
                code=code,
                description=description,
                grade=grade,
                form=MaterialForm.SHEET,
                thickness_mm=Decimal(thickness),
                sheet_width_mm=Decimal(width),
                sheet_length_mm=Decimal(length),
                unit=Unit.SHEET,
            )
            for code, description, grade, thickness, (width, length) in MATERIALS
        ],
        Material.objects.filter(code__in=[m[0] for m in MATERIALS]),
    )
    summary.created["materials"] = len(new_materials)
    customers, new_customers = _ensure(
        Customer,
        lambda c: c.code,
        [
            Customer(code=code, name=name, email=f"orders@{code.lower()}.example.com", phone=f"({area}) 555-01{n:02d}")
            for n, (code, name, _segment, area) in enumerate(CUSTOMERS)
        ],
        Customer.objects.filter(code__in=[c[0] for c in CUSTOMERS]),
    )
    summary.created["customers"] = len(new_customers)
    parts = _load_parts(plan, materials, customers, work_centers, summary)
    _load_jobs(plan, parts, customers, summary)
    _count(summary)
    return summary


def _load_plant(plan: DemoPlan, summary: DemoSummary) -> dict[Hashable, WorkCenter]:
    departments, new_departments = _ensure(
        Department,
        lambda d: d.code,
        [Department(code=code, name=name, sequence=10 * n) for n, (code, name) in enumerate(DEPARTMENTS, 1)],
        Department.objects.filter(code__in=[d[0] for d in DEPARTMENTS]),
    )
    summary.created["departments"] = len(new_departments)
    types, new_types = _ensure(
        WorkCenterType,
        lambda t: t.code,
        [
            WorkCenterType(code=code, name=name, department=departments[department], description=description)
            for code, name, department, description in WORK_CENTER_TYPES
        ],
        WorkCenterType.objects.filter(code__in=[t[0] for t in WORK_CENTER_TYPES]),
    )
    summary.created["work center types"] = len(new_types)
    calendars = _load_calendars(summary)
    work_centers, new_work_centers = _ensure(
        WorkCenter,
        lambda w: w.code,
        [
            WorkCenter(
                code=w.code,
                name=w.name,
                department_id=types[w.type].department_id,
                work_center_type=types[w.type],
                calendar=calendars[w.calendar] if w.calendar else None,
                efficiency=Decimal(w.efficiency),
                setup_category=w.setup_category,
                is_bottleneck=w.bottleneck,
                hourly_rate=Decimal(w.hourly_rate),
                iot_device_id=w.iot_device_id,
                sigmanest_machine_id=w.sigmanest_machine_id,
            )
            for w in WORK_CENTERS
        ],
        WorkCenter.objects.filter(code__in=[w.code for w in WORK_CENTERS]),
    )
    summary.created["work centers"] = len(new_work_centers)
    _holidays, new_holidays = _ensure(
        CalendarException,
        lambda e: (e.name, e.start_date),
        [
            CalendarException(kind=ExceptionKind.HOLIDAY, name=h.name, start_date=h.first_day, end_date=h.last_day)
            for h in plan.holidays
        ],
        CalendarException.objects.filter(kind=ExceptionKind.HOLIDAY, work_center__isnull=True),
    )
    summary.created["calendar exceptions"] = len(new_holidays)
    brake = work_centers[MAINTENANCE[0]]
    _maintenance, new_maintenance = _ensure(
        CalendarException,
        lambda e: e.name,
        [
            CalendarException(
                kind=ExceptionKind.MAINTENANCE,
                name=MAINTENANCE[1],
                work_center=brake,
                starts_at=plan.maintenance_window[0].astimezone(UTC),
                ends_at=plan.maintenance_window[1].astimezone(UTC),
            )
        ],
        CalendarException.objects.filter(kind=ExceptionKind.MAINTENANCE, work_center=brake),
    )
    summary.created["calendar exceptions"] += len(new_maintenance)
    return work_centers


def _load_calendars(summary: DemoSummary) -> dict[Hashable, ShiftCalendar]:
    """The two calendars; shifts are only written with a calendar the demo creates, so a planner's
    edits to them survive. The plant default is left alone when one is already set."""
    has_default = ShiftCalendar.objects.filter(is_plant_default=True).exists()
    calendars, new = _ensure(
        ShiftCalendar,
        lambda c: c.name,
        [
            ShiftCalendar(name=name, description=description, is_plant_default=default and not has_default)
            for name, description, default, _shifts in CALENDARS
        ],
        ShiftCalendar.objects.filter(name__in=[c[0] for c in CALENDARS]),
    )
    summary.created["shift calendars"] = len(new)
    patterns = {name: shifts for name, _description, _default, shifts in CALENDARS}
    rows = [
        (Shift(calendar=cal, name=name, weekday=day, start=start, end=end), breaks)
        for cal in new
        for day, (name, start, end, breaks) in patterns[cal.name]
    ]
    Shift.objects.bulk_create([shift for shift, _breaks in rows])
    ShiftBreak.objects.bulk_create(
        [ShiftBreak(shift=shift, start=start, end=end) for shift, breaks in rows for start, end in breaks]
    )
    summary.created["shifts"] = len(rows)
    summary.created["shift breaks"] = sum(len(breaks) for _shift, breaks in rows)
    return calendars


def _load_parts(
    plan: DemoPlan,
    materials: dict[Hashable, Material],
    customers: dict[Hashable, Customer],
    work_centers: dict[Hashable, WorkCenter],
    summary: DemoSummary,
) -> dict[Hashable, Part]:
    """Parts by (number, revision); routings are only written with a part the demo creates."""
    parts, new = _ensure(
        Part,
        lambda p: (p.number, p.revision),
        [
            Part(
                number=p.number,
                revision=p.revision,
                description=p.description,
                customer=customers[p.customer] if p.customer else None,
                material=materials[p.material],
                thickness_mm=materials[p.material].thickness_mm,
                grain_direction=p.family.grain,
                is_active=p.is_active,
            )
            for p in plan.parts
        ],
        Part.objects.filter(number__in={p.number for p in plan.parts}),
    )
    summary.created["parts"] = len(new)
    types = {t.code: t for t in WorkCenterType.objects.filter(code__in=[t[0] for t in WORK_CENTER_TYPES])}
    planned = {(p.number, p.revision): p for p in plan.parts}
    steps = [
        (part, step, _routing_step(part, step, types, work_centers))
        for part in new
        for step in planned[(part.number, part.revision)].steps
    ]
    RoutingStep.objects.bulk_create([row for _part, _step, row in steps])
    by_key = {(part.pk, step.sequence): row for part, step, row in steps}
    through = RoutingStep.predecessors.through
    through.objects.bulk_create(
        [
            through(from_routingstep_id=row.pk, to_routingstep_id=by_key[(part.pk, before)].pk)
            for part, step, row in steps
            for before in step.after
        ]
    )
    summary.created["routing steps"] = len(steps)
    return parts


def _routing_step(
    part: Part, step: StepPlan, types: dict[str, WorkCenterType], work_centers: dict[Hashable, WorkCenter]
) -> RoutingStep:
    return RoutingStep(
        part=part,
        sequence=step.sequence,
        operation_code=step.operation_code,
        description=step.description,
        work_center_type=types[step.work_center_type],
        preferred_work_center=work_centers[step.preferred_work_center] if step.preferred_work_center else None,
        setup_minutes=step.setup_minutes,
        run_minutes_per_unit=step.run_minutes_per_unit,
    )


def _load_jobs(
    plan: DemoPlan, parts: dict[Hashable, Part], customers: dict[Hashable, Customer], summary: DemoSummary
) -> None:
    """Create the missing jobs as drafts, then release, hold and start them through the services,
    as the planner and the floor would have; only jobs created now are moved."""
    jobs, new = _ensure(
        Job,
        lambda j: j.number,
        [
            Job(
                number=j.number,
                customer=customers[j.customer],
                part=parts[j.part],
                quantity=j.quantity,
                due_date=j.due_date,
                priority=j.priority,
                sales_order=j.sales_order,
                status=JobStatus.DRAFT,
            )
            for j in plan.jobs
        ],
        Job.objects.filter(number__in=[j.number for j in plan.jobs]),
    )
    summary.created["jobs"] = len(new)
    fresh = {job.number for job in new}
    moved = [j for j in plan.jobs if j.number in fresh and j.status != JobStatus.DRAFT]
    for job in moved:
        services.release_job(actor=None, job_id=jobs[job.number].pk)
        if job.status == JobStatus.ON_HOLD:
            services.hold_job(actor=None, job_id=jobs[job.number].pk, reason=job.hold_reason)
    working = [j for j in moved if j.progress]
    operations = {
        (op.job_id, op.sequence): op.pk
        for op in Operation.objects.filter(job__in=[jobs[j.number] for j in working]).only("job_id", "sequence")
    }
    for job in working:
        for times in job.progress:
            operation_id = operations[(jobs[job.number].pk, times.sequence)]
            services.start_operation(actor=None, operation_id=operation_id, at=times.start)
            if times.end is not None:
                services.complete_operation(actor=None, operation_id=operation_id, at=times.end)
    # The services stamp "now"; the demo dates releases back to when a planner would have made them.
    stamped = []
    for job in moved:
        row = jobs[job.number]
        row.released_at, row.status_changed_at = job.released_at, job.status_changed_at
        stamped.append(row)
    Job.objects.bulk_update(stamped, ["released_at", "status_changed_at"])
    summary.created["operations"] = Operation.objects.filter(job__number__in=fresh).count()


def _count(summary: DemoSummary) -> None:
    tables: dict[str, Any] = {
        "departments": Department,
        "work center types": WorkCenterType,
        "work centers": WorkCenter,
        "shift calendars": ShiftCalendar,
        "shifts": Shift,
        "shift breaks": ShiftBreak,
        "calendar exceptions": CalendarException,
        "materials": Material,
        "customers": Customer,
        "parts": Part,
        "routing steps": RoutingStep,
        "jobs": Job,
        "operations": Operation,
    }
    summary.totals = {name: model.objects.count() for name, model in tables.items()}
    counts = Counter(Job.objects.values_list("status", flat=True))
    summary.job_statuses = {str(status.label): counts[status.value] for status in JobStatus if counts[status.value]}
