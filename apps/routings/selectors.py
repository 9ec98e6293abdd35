"""Reads of jobs that span apps: how late each open job is likely to be.

The late-risk rule, as the job list explains it:

- **late**: the due date has passed (in the plant's time zone) and the job is not complete;
- **at risk**: its remaining work needs more minutes than the plant works from now to the end of
  its due date;
- **on track**: otherwise.

Complete and cancelled jobs have no late risk.

Remaining work is the critical path, in standard minutes, through the precedence of the job's
operations that are not complete (setup + run per unit × quantity each; an operation in progress
counts in full because progress within an operation is not recorded yet). A job without
operations (a draft) uses its part's standard routing times × the job quantity. The plant's
working minutes come from the plant default shift calendar with the plant-wide exceptions
(holidays, shutdowns, overtime), through `apps.machines.calendar`. Without a plant default
calendar every minute of the clock counts. The rule looks at each job on its own: it does not know
that jobs compete for the same machines; the scheduler does.

Everything here runs in a constant number of queries, however many jobs are asked about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.machines import calendar
from apps.machines.models import CalendarException, Shift, ShiftBreak
from apps.machines.selectors import end_of_plant_day, plant_time_zone, shift_from_row

from .choices import OPEN_JOB_STATUSES, OperationStatus
from .models import Job, Operation, RoutingStep
from .precedence import critical_path, default_predecessors

DONE_OPERATION_STATUSES = (OperationStatus.COMPLETE, OperationStatus.CANCELLED)


class LateRisk(models.TextChoices):
    LATE = "late", _("Late")
    AT_RISK = "at_risk", _("At risk")
    ON_TRACK = "on_track", _("On track")


@dataclass(frozen=True)
class JobRisk:
    """A job's late risk and the two numbers it was decided on."""

    risk: LateRisk
    remaining_minutes: Decimal
    available_minutes: int


@dataclass(frozen=True)
class _Step:
    sequence: int
    setup: Decimal
    run_per_unit: Decimal
    quantity: int | None  # None: the job's quantity (a routing step)
    done: bool = False


def late_risk_for(jobs: Iterable[Job], *, now: datetime | None = None) -> dict[int, JobRisk]:
    """The late risk of each open job in `jobs`, keyed by job id (closed jobs are left out).

    A job needs only its id, status, due date, part id and quantity loaded.
    """
    now = now or timezone.now()
    tz = plant_time_zone()
    today = now.astimezone(tz).date()
    open_jobs = [job for job in jobs if job.status in OPEN_JOB_STATUSES]
    if not open_jobs:
        return {}
    work = _remaining_work(open_jobs)
    due_ends = {job.due_date: end_of_plant_day(job.due_date) for job in open_jobs}
    future_ends = [end for end in due_ends.values() if end > now]
    available = _plant_minutes_until(now, future_ends)
    result: dict[int, JobRisk] = {}
    for job in open_jobs:
        remaining = work.get(job.pk, Decimal(0))
        minutes = available.get(due_ends[job.due_date], 0)
        if job.due_date < today:
            risk = LateRisk.LATE
        elif remaining > minutes:
            risk = LateRisk.AT_RISK
        else:
            risk = LateRisk.ON_TRACK
        result[job.pk] = JobRisk(risk=risk, remaining_minutes=remaining, available_minutes=minutes)
    return result


def late_risk_of(jobs: QuerySet[Job], *, now: datetime | None = None) -> dict[int, JobRisk]:
    """`late_risk_for` the open jobs of a queryset, loading only what the rule needs."""
    open_jobs = jobs.filter(status__in=OPEN_JOB_STATUSES).select_related(None).prefetch_related(None)
    return late_risk_for(open_jobs.only("pk", "status", "due_date", "part_id", "quantity"), now=now)


def _remaining_work(jobs: list[Job]) -> dict[int, Decimal]:
    """Critical-path minutes of the unfinished work of each job (two to four queries)."""
    steps_by_job: dict[int, list[_Step]] = defaultdict(list)
    links_by_job: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    sequence_of: dict[int, tuple[int, int]] = {}
    operations = Operation.objects.filter(job_id__in=[job.pk for job in jobs]).values_list(
        "pk", "job_id", "sequence", "status", "setup_minutes", "run_minutes_per_unit", "quantity"
    )
    for pk, job_id, sequence, status, setup, run, quantity in operations:
        sequence_of[pk] = (job_id, sequence)
        steps_by_job[job_id].append(_Step(sequence, setup, run, quantity, done=status in DONE_OPERATION_STATUSES))
    if sequence_of:
        through = Operation.predecessors.through
        for after, before in through.objects.filter(from_operation__job_id__in=list(steps_by_job)).values_list(
            "from_operation_id", "to_operation_id"
        ):
            job_id, sequence = sequence_of[after]
            if before in sequence_of:
                links_by_job[job_id][sequence].append(sequence_of[before][1])

    routings = _routings({job.part_id for job in jobs if job.pk not in steps_by_job})
    result: dict[int, Decimal] = {}
    for job in jobs:
        if job.pk in steps_by_job:
            steps, links = steps_by_job[job.pk], links_by_job[job.pk]
        else:
            steps, links = routings.get(job.part_id, ([], {}))
        weights = {
            step.sequence: Decimal(0)
            if step.done
            else step.setup + step.run_per_unit * (step.quantity if step.quantity is not None else job.quantity)
            for step in steps
        }
        result[job.pk] = critical_path(weights, default_predecessors(list(weights), links))
    return result


def _routings(part_ids: set[int]) -> dict[int, tuple[list[_Step], dict[int, list[int]]]]:
    """The standard routing of each part: its steps and explicit predecessors by sequence."""
    if not part_ids:
        return {}
    found: dict[int, tuple[list[_Step], dict[int, list[int]]]] = {}
    sequence_of: dict[int, tuple[int, int]] = {}
    rows = RoutingStep.objects.filter(part_id__in=part_ids).values_list(
        "pk", "part_id", "sequence", "setup_minutes", "run_minutes_per_unit"
    )
    for pk, part_id, sequence, setup, run in rows:
        sequence_of[pk] = (part_id, sequence)
        found.setdefault(part_id, ([], defaultdict(list)))[0].append(_Step(sequence, setup, run, None))
    if sequence_of:
        through = RoutingStep.predecessors.through
        for after, before in through.objects.filter(from_routingstep__part_id__in=list(found)).values_list(
            "from_routingstep_id", "to_routingstep_id"
        ):
            part_id, sequence = sequence_of[after]
            if before in sequence_of and sequence_of[before][0] == part_id:
                found[part_id][1][sequence].append(sequence_of[before][1])
    return found


def _plant_minutes_until(now: datetime, ends: Iterable[datetime]) -> dict[datetime, int]:
    """Working minutes of the plant from `now` to each of `ends` (three queries)."""
    ends = sorted(set(ends))
    if not ends:
        return {}
    intervals = plant_working_intervals(now, ends[-1])
    if intervals is None:
        return {end: calendar.working_minutes([(now, end)]) for end in ends}
    return {end: calendar.working_minutes([(s, min(e, end)) for s, e in intervals if s < end]) for end in ends}


def plant_working_intervals(start: datetime, end: datetime) -> list[calendar.Interval] | None:
    """When the plant works in [start, end) by its default calendar and plant-wide exceptions;
    None when no calendar is marked as the plant default."""
    tz = plant_time_zone()
    shifts = list(
        Shift.objects.filter(calendar__is_plant_default=True).prefetch_related(
            models.Prefetch("breaks", queryset=ShiftBreak.objects.order_by("start"))
        )
    )
    if not shifts:
        return None
    first_day, last_day = start.astimezone(tz).date(), end.astimezone(tz).date()
    overlapping = CalendarException.objects.filter(
        Q(start_date__lte=last_day, end_date__gte=first_day) | Q(starts_at__lt=end, ends_at__gt=start),
        work_center__isnull=True,
    )
    exceptions = [_exception(row) for row in overlapping]
    return calendar.working_intervals([shift_from_row(s) for s in shifts], exceptions, tz, start, end)


def _exception(row: CalendarException) -> calendar.CalendarException:
    if row.start_date is not None and row.end_date is not None:
        start, end = calendar.day_span(row.start_date, row.end_date, plant_time_zone())
    else:
        assert row.starts_at is not None and row.ends_at is not None  # the table's check constraint
        start, end = row.starts_at, row.ends_at
    return calendar.CalendarException(kind=calendar.ExceptionKind(row.kind), start=start, end=end)


def attach_late_risk(
    jobs: Iterable[Job], *, known: dict[int, JobRisk] | None = None, now: datetime | None = None
) -> list[Any]:
    """Set `job.late` (a JobRisk, or None for a closed job) on each job, for templates; risks
    already `known` (from the late-risk filter) are not worked out again."""
    rows = list(jobs)
    risks = known if known is not None else late_risk_for(rows, now=now)
    for job in rows:
        job.late = risks.get(job.pk)  # type: ignore[attr-defined]
    return rows
