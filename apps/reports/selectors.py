"""What the OEE computation reads from the database: state intervals, shift calendars and counts.

Everything is turned into `oee` dataclasses here, in a fixed number of queries whatever the number of
machines, so that the pure module does the arithmetic and the pages, reports and API share it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from apps.machines import calendar
from apps.machines.choices import ExceptionKind
from apps.machines.models import MachineStateInterval, WorkCenter
from apps.machines.selectors import CalendarInputs, calendar_inputs_for, plant_time_zone
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import ProductionEvent

from . import oee

Interval = tuple[datetime, datetime]

# Shift occurrences are looked up this far beyond the window, so that a night shift which began the
# evening before keeps its own name and date.
CALENDAR_MARGIN = timedelta(days=1)
_REMOVING = frozenset({calendar.ExceptionKind.HOLIDAY, calendar.ExceptionKind.SHUTDOWN})


@dataclass(frozen=True)
class Scope:
    """Which machines a figure covers: all active ones, one department's, or a list."""

    department_id: int | None = None
    work_center_ids: tuple[int, ...] = ()

    def work_centers(self) -> QuerySet[WorkCenter]:
        centers = WorkCenter.objects.filter(is_active=True).select_related("department")
        if self.department_id is not None:
            centers = centers.filter(department_id=self.department_id)
        if self.work_center_ids:
            centers = centers.filter(pk__in=self.work_center_ids)
        return centers.order_by("department__sequence", "code")


def machine_inputs(
    scope: Scope, start: datetime, end: datetime, *, now: datetime | None = None
) -> list[oee.MachineInput]:
    """One `MachineInput` per machine in `scope`, for [start, end), in queries that do not grow with the machines."""
    return inputs_for(list(scope.work_centers()), start, end, now=now)


def inputs_for(
    centers: Sequence[WorkCenter],
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    calendars: Mapping[int, CalendarInputs | None] | None = None,
) -> list[oee.MachineInput]:
    """`machine_inputs` for machines already read (with their department), and their calendars if already read
    (`calendar_inputs_for` reaching a day beyond both ends)."""
    now = now or timezone.now()
    if not centers:
        return []
    if calendars is None:
        calendars = calendar_inputs_for(centers, start - CALENDAR_MARGIN, end + CALENDAR_MARGIN)
    shifts = _shift_occurrences(centers, calendars, start, end)
    spans = _state_spans(centers, start, end, now)
    counts = _counts(centers, start, end)
    return [
        oee.MachineInput(
            machine_id=wc.pk,
            code=wc.code,
            name=wc.name,
            department=wc.department.name,
            shifts=shifts[wc.pk].occurrences,
            breaks=shifts[wc.pk].breaks,
            planned_maintenance=shifts[wc.pk].maintenance,
            spans=spans.get(wc.pk, ()),
            counts=counts.get(wc.pk, ()),
        )
        for wc in centers
    ]


@dataclass(frozen=True)
class _Calendar:
    occurrences: tuple[oee.ShiftOccurrence, ...]
    breaks: tuple[Interval, ...]
    maintenance: tuple[Interval, ...]


def _shift_occurrences(
    centers: Sequence[WorkCenter], inputs: Mapping[int, CalendarInputs | None], start: datetime, end: datetime
) -> dict[int, _Calendar]:
    """Named shift occurrences, their breaks and planned maintenance, per machine.

    Holidays and shutdowns remove shift time (nothing was planned); overtime adds an occurrence of its
    own; maintenance stays inside the shift as planned downtime, which OEE reports separately. Machines
    with the same shifts and exceptions (the usual case: one plant calendar) share one computation.
    """
    computed: dict[tuple[CalendarInputs, tuple[str, ...]], _Calendar] = {}
    result: dict[int, _Calendar] = {}
    for wc in centers:
        machine_inputs_ = inputs.get(wc.pk)
        if machine_inputs_ is None:
            result[wc.pk] = _Calendar((), (), ())
            continue
        # Shift names do not take part in a shift's equality; two calendars may differ only in them.
        key = (machine_inputs_, tuple(shift.name for shift in machine_inputs_.shifts))
        if key not in computed:
            computed[key] = _calendar_of(machine_inputs_, start, end)
        result[wc.pk] = computed[key]
    return result


def _calendar_of(inputs: CalendarInputs, start: datetime, end: datetime) -> _Calendar:
    tz = plant_time_zone()
    lo, hi = start - CALENDAR_MARGIN, end + CALENDAR_MARGIN
    removing = [exc for exc in inputs.exceptions if exc.kind in _REMOVING]
    occurrences: list[oee.ShiftOccurrence] = []
    breaks: list[Interval] = []
    for shift in inputs.shifts:
        scheduled = calendar.working_intervals([replace(shift, breaks=())], removing, tz, lo, hi)
        occurrences.extend(oee.ShiftOccurrence(shift.name, begin, finish) for begin, finish in scheduled)
        if shift.breaks:
            breaks.extend(calendar.subtract(scheduled, calendar.working_intervals([shift], removing, tz, lo, hi)))
    for exc in inputs.exceptions:
        if exc.kind == calendar.ExceptionKind.OVERTIME:
            occurrences.append(oee.ShiftOccurrence(str(ExceptionKind.OVERTIME.label), exc.start, exc.end))
    maintenance = [(exc.start, exc.end) for exc in inputs.exceptions if exc.kind == calendar.ExceptionKind.MAINTENANCE]
    return _Calendar(
        tuple(sorted((o for o in occurrences if o.end > start and o.start < end), key=lambda o: o.start)),
        tuple(calendar.merge(breaks)),
        tuple(calendar.merge(maintenance)),
    )


def _state_spans(
    centers: Sequence[WorkCenter], start: datetime, end: datetime, now: datetime
) -> dict[int, list[oee.StateSpan]]:
    """Whole (unclipped) state intervals overlapping the window: a stop's full length decides small or not.

    Read as tuples, not model instances: a busy month is tens of thousands of rows.
    """
    rows = (
        MachineStateInterval.objects.filter(work_center__in=centers, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .order_by("work_center_id", "started_at")
        .values_list(
            "pk",
            "work_center_id",
            "state",
            "started_at",
            "ended_at",
            "reason__code",
            "reason__name",
            "reason__parent__name",
            "reason__is_planned",
        )
    )
    spans: dict[int, list[oee.StateSpan]] = defaultdict(list)
    for pk, work_center_id, state, started_at, ended_at, code, name, parent, planned in rows:
        row_end = ended_at or now
        if row_end <= started_at:
            continue
        spans[work_center_id].append(
            oee.StateSpan(
                start=started_at,
                end=row_end,
                state=state,
                reason_code=code or "",
                reason_name=f"{parent} › {name}" if parent else name or "",
                reason_planned=bool(planned),
                source_id=pk,
                open=ended_at is None,
            )
        )
    return spans


def _counts(centers: Sequence[WorkCenter], start: datetime, end: datetime) -> dict[int, list[oee.CountRecord]]:
    """Good and scrap parts reported on the floor, each with its routing standard as the ideal cycle.

    Scrap reported before the operation's run started, or at that moment (setup, first-off parts), is a start-up
    reject.
    """
    events = list(
        ProductionEvent.objects.filter(
            work_center__in=centers,
            at__gte=start,
            at__lt=end,
            kind__in=(EventKind.REPORT, EventKind.COMPLETE),
        )
        .filter(Q(quantity_good__gt=0) | Q(quantity_scrap__gt=0))
        .order_by("at", "pk")
        .values_list(
            "pk",
            "work_center_id",
            "operation_id",
            "at",
            "quantity_good",
            "quantity_scrap",
            "operation__run_minutes_per_unit",
            "work_center__efficiency",
        )
    )
    run_started = dict(
        ProductionEvent.objects.filter(operation_id__in={event[2] for event in events}, kind=EventKind.START_RUN)
        .values("operation_id")
        .annotate(first=Min("at"))
        .values_list("operation_id", "first")
    )
    counts: dict[int, list[oee.CountRecord]] = defaultdict(list)
    for pk, work_center_id, operation_id, at, good, scrap, run_minutes, efficiency in events:
        first_run = run_started.get(operation_id)
        counts[work_center_id].append(
            oee.CountRecord(
                at=at,
                good=good,
                scrap=scrap,
                ideal_cycle_seconds=ideal_cycle_seconds(run_minutes, efficiency),
                startup=first_run is None or at <= first_run,
                source_id=pk,
            )
        )
    return counts


def ideal_cycle_seconds(run_minutes_per_unit: Decimal, efficiency: Decimal) -> Decimal:
    """The routing standard on this machine: a machine of efficiency 1.25 does the unit in 80 % of the time."""
    if not efficiency:
        return Decimal(run_minutes_per_unit) * 60
    return Decimal(run_minutes_per_unit) * 60 / Decimal(efficiency)
