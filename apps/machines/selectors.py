"""When work centers can run: the ORM side of the working-time calendar.

`working_intervals` (one work center) and `working_intervals_for` (many, in a constant number of
queries) are the only way anything asks for capacity: they load a work center's shift calendar (or
the plant default), its shifts and breaks, and the plant-wide and own calendar exceptions, and hand
plain dataclasses to the pure `apps.machines.calendar` module.

An inactive work center has no working time at all: it is out of service, so nothing may be planned
on it, whatever its calendar says.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import calendar
from .live import machine_payload
from .machine_state import MachineState
from .models import CalendarException, MachineStateInterval, Shift, ShiftBreak, ShiftCalendar, WorkCenter

Interval = calendar.Interval

_REMOVING = frozenset(
    {calendar.ExceptionKind.HOLIDAY, calendar.ExceptionKind.MAINTENANCE, calendar.ExceptionKind.SHUTDOWN}
)


class NoShiftCalendar(LookupError):
    """A work center without its own calendar, and no plant default calendar to fall back on."""

    def __init__(self, work_center: WorkCenter) -> None:
        self.work_center = work_center
        super().__init__(
            _(
                "Work center %(code)s has no shift calendar and no plant default calendar is set: "
                "mark one shift calendar as the plant default or give the work center its own."
            )
            % {"code": work_center.code}
        )


def plant_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.PLANT_TIME_ZONE)


def today_start(now: datetime | None = None) -> datetime:
    """Local midnight at the start of the plant's today: every day before it is over."""
    today = (now or timezone.now()).astimezone(plant_time_zone()).date()
    return calendar.day_span(today, today, plant_time_zone())[0]


def end_of_plant_day(day: date) -> datetime:
    """When a date ends on the shop floor: local midnight after it (a due date is met until then)."""
    return calendar.day_span(day, day, plant_time_zone())[1]


@dataclass(frozen=True)
class CalendarInputs:
    """Everything the pure module needs for one work center."""

    shifts: tuple[calendar.Shift, ...]
    exceptions: tuple[calendar.CalendarException, ...]


def working_intervals(work_center: WorkCenter, start: datetime, end: datetime) -> list[Interval]:
    """When `work_center` can run in [start, end): sorted, merged UTC intervals."""
    return working_intervals_for([work_center], start, end)[work_center.pk]


def working_intervals_for(
    work_centers: Iterable[WorkCenter], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """`working_intervals` for many work centers, keyed by work center id, in at most four queries."""
    tz = plant_time_zone()
    return {
        pk: calendar.working_intervals(inputs.shifts, inputs.exceptions, tz, start, end) if inputs else []
        for pk, inputs in calendar_inputs_for(work_centers, start, end).items()
    }


def calendar_inputs_for(
    work_centers: Iterable[WorkCenter], start: datetime, end: datetime
) -> dict[int, CalendarInputs | None]:
    """The pure-module inputs of each work center (None for an inactive one).

    Queries: the plant default calendar (only when some work center has none of its own), the
    shifts, their breaks, and the exceptions overlapping [start, end).
    """
    centers = list(work_centers)
    active = [wc for wc in centers if wc.is_active]
    default_id: int | None = None
    if any(wc.calendar_id is None for wc in active):
        default_id = ShiftCalendar.objects.filter(is_plant_default=True).values_list("pk", flat=True).first()
        if default_id is None:
            raise NoShiftCalendar(next(wc for wc in active if wc.calendar_id is None))

    calendar_ids = {wc.calendar_id or default_id for wc in active}
    shifts_by_calendar: dict[int, list[calendar.Shift]] = {pk: [] for pk in calendar_ids if pk is not None}
    if shifts_by_calendar:
        rows = Shift.objects.filter(calendar_id__in=shifts_by_calendar).prefetch_related(
            Prefetch("breaks", queryset=ShiftBreak.objects.order_by("start"))
        )
        for row in rows:
            shifts_by_calendar[row.calendar_id].append(shift_from_row(row))

    exceptions = _exceptions_overlapping([wc.pk for wc in active], start, end) if active else []
    plant_wide = tuple(_to_pure(exc) for exc in exceptions if exc.work_center_id is None)
    own: dict[int, list[calendar.CalendarException]] = {}
    for exc in exceptions:
        if exc.work_center_id is not None:
            own.setdefault(exc.work_center_id, []).append(_to_pure(exc))

    result: dict[int, CalendarInputs | None] = {}
    for wc in centers:
        if not wc.is_active:
            result[wc.pk] = None
            continue
        calendar_id = wc.calendar_id or default_id
        assert calendar_id is not None  # the plant default was checked above
        result[wc.pk] = CalendarInputs(
            shifts=tuple(shifts_by_calendar[calendar_id]), exceptions=plant_wide + tuple(own.get(wc.pk, ()))
        )
    return result


def shift_from_row(row: Shift) -> calendar.Shift:
    """A stored shift as the pure module's dataclass (which re-checks that its breaks fit)."""
    return calendar.Shift(
        weekday=row.weekday,
        start=row.start,
        end=row.end,
        breaks=tuple(calendar.Break(b.start, b.end) for b in row.breaks.all()),
        name=row.name,
    )


def calendar_exceptions_between(work_center: WorkCenter, start: datetime, end: datetime) -> list[CalendarException]:
    """The plant-wide and own exceptions of `work_center` overlapping [start, end), in time order."""
    return sorted(_exceptions_overlapping([work_center.pk], start, end), key=lambda exc: _to_pure(exc).start)


def _exceptions_overlapping(work_center_ids: Sequence[int], start: datetime, end: datetime) -> list[CalendarException]:
    tz = plant_time_zone()
    # Local dates: a holiday on the 4th of July covers that local day, whatever UTC says.
    first_day, last_day = start.astimezone(tz).date(), end.astimezone(tz).date()
    overlaps = Q(start_date__lte=last_day, end_date__gte=first_day) | Q(starts_at__lt=end, ends_at__gt=start)
    applies = Q(work_center__isnull=True) | Q(work_center_id__in=work_center_ids)
    return list(CalendarException.objects.filter(overlaps & applies).select_related("work_center"))


def _to_pure(row: CalendarException) -> calendar.CalendarException:
    if row.start_date is not None and row.end_date is not None:
        start, end = calendar.day_span(row.start_date, row.end_date, plant_time_zone())
    else:
        assert row.starts_at is not None and row.ends_at is not None  # the table's check constraint
        start, end = row.starts_at, row.ends_at
    return calendar.CalendarException(kind=calendar.ExceptionKind(row.kind), start=start, end=end)


# --- Working time per day, for pages -------------------------------------------------------


class SegmentKind(StrEnum):
    WORKING = "working"
    BREAK = "break"
    OVERTIME = "overtime"
    CLOSED = "closed"


@dataclass(frozen=True)
class DaySegment:
    """A stretch of one local day: working, a break, overtime, or shift time lost to an exception.

    `offset_minutes` counts real minutes from local midnight, so a bar drawn on a day of
    `WorkingDay.length_minutes` puts it where the clock says, also on DST days.
    """

    kind: SegmentKind
    start: datetime
    end: datetime
    offset_minutes: int
    minutes: int


@dataclass(frozen=True)
class WorkingDay:
    day: date
    start: datetime
    end: datetime
    length_minutes: int
    intervals: tuple[Interval, ...]
    minutes: int
    segments: tuple[DaySegment, ...]
    hour_marks: tuple[tuple[int, str], ...]

    @property
    def hours(self) -> Decimal:
        return minutes_as_hours(self.minutes)


def minutes_as_hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"))


def working_minutes_by_day(work_center: WorkCenter, start_date: date, days: int) -> list[WorkingDay]:
    """Each local day from `start_date` on: its working intervals and minutes, and the segments
    (working, break, overtime, closed) a page draws as a bar."""
    if days < 1:
        raise ValueError(f"working_minutes_by_day: days must be at least 1, got {days}")
    tz = plant_time_zone()
    lo, hi = calendar.day_span(start_date, start_date + timedelta(days=days - 1), tz)
    inputs = calendar_inputs_for([work_center], lo, hi)[work_center.pk]
    if inputs is None:
        return [_day_layout(start_date + timedelta(days=n), tz, [], [], [], []) for n in range(days)]

    actual = calendar.working_intervals(inputs.shifts, inputs.exceptions, tz, lo, hi)
    pattern = calendar.working_intervals(inputs.shifts, [], tz, lo, hi)
    without_breaks = [calendar.Shift(s.weekday, s.start, s.end) for s in inputs.shifts]
    shift_spans = calendar.working_intervals(without_breaks, [], tz, lo, hi) if without_breaks else []
    removed = [(e.start, e.end) for e in inputs.exceptions if e.kind in _REMOVING]
    return [_day_layout(start_date + timedelta(days=n), tz, actual, pattern, shift_spans, removed) for n in range(days)]


def _day_layout(
    day: date,
    tz: ZoneInfo,
    actual: list[Interval],
    pattern: list[Interval],
    shift_spans: list[Interval],
    removed: list[Interval],
) -> WorkingDay:
    day_start, day_end = calendar.day_span(day, day, tz)
    clipped = [(max(s, day_start), min(e, day_end)) for s, e in actual if s < day_end and e > day_start]
    bounds = {day_start, day_end}
    for intervals in (actual, pattern, shift_spans, removed):
        for s, e in intervals:
            bounds.update(t for t in (s, e) if day_start < t < day_end)
    points = sorted(bounds)
    segments: list[DaySegment] = []
    for seg_start, seg_end in zip(points, points[1:], strict=False):
        kind = _classify(seg_start, actual, pattern, shift_spans, removed)
        if kind is None:
            continue
        if segments and segments[-1].kind == kind and segments[-1].end == seg_start:
            last = segments.pop()
            seg_start = last.start
        segments.append(
            DaySegment(
                kind=kind,
                start=seg_start,
                end=seg_end,
                offset_minutes=_minutes(day_start, seg_start),
                minutes=_minutes(seg_start, seg_end),
            )
        )
    marks = tuple((_minutes(day_start, _local_instant(day, hour, tz)), f"{hour:02d}:00") for hour in (6, 12, 18))
    return WorkingDay(
        day=day,
        start=day_start,
        end=day_end,
        length_minutes=_minutes(day_start, day_end),
        intervals=tuple(clipped),
        minutes=calendar.working_minutes(clipped),
        segments=tuple(segments),
        hour_marks=marks,
    )


def _classify(
    instant: datetime,
    actual: list[Interval],
    pattern: list[Interval],
    shift_spans: list[Interval],
    removed: list[Interval],
) -> SegmentKind | None:
    if _inside(instant, actual):
        return SegmentKind.WORKING if _inside(instant, pattern) else SegmentKind.OVERTIME
    if not _inside(instant, shift_spans):
        return None
    # Removals may overlap each other (a holiday during a shutdown), and there are only a few.
    closed = any(start <= instant < end for start, end in removed)
    return SegmentKind.CLOSED if closed else SegmentKind.BREAK


def _inside(instant: datetime, intervals: list[Interval]) -> bool:
    """Whether `instant` lies in one of the sorted, non-overlapping `intervals`."""
    index = bisect_right(intervals, (instant, datetime.max.replace(tzinfo=UTC))) - 1
    return index >= 0 and intervals[index][0] <= instant < intervals[index][1]


def _local_instant(day: date, hour: int, tz: ZoneInfo) -> datetime:
    # Hour marks are never in a DST gap (changes happen at 02:00), so a plain conversion is exact.
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def _minutes(start: datetime, end: datetime) -> int:
    return int((end.astimezone(UTC) - start.astimezone(UTC)) // timedelta(minutes=1))


# --- Live machine state, for pages and snapshots -----------------------------------------------


def offline_after() -> timedelta:
    """How long a machine may stay silent before it counts as offline (MACHINE_OFFLINE_AFTER_SECONDS)."""
    return timedelta(seconds=int(settings.MACHINE_OFFLINE_AFTER_SECONDS))


def live_machines(*, department_id: int | None = None, work_center_id: int | None = None) -> list[dict[str, Any]]:
    """Every active work center (of one department, or one machine) as the live payload, in plant
    order, in two queries. A machine silent for longer than the offline silence is shown offline
    here even before the periodic task has written it (checked on read)."""
    centers = WorkCenter.objects.filter(is_active=True).select_related("department", "live_state")
    if department_id is not None:
        centers = centers.filter(department_id=department_id)
    if work_center_id is not None:
        centers = centers.filter(pk=work_center_id)
    now = timezone.now()
    silence = offline_after()
    rows = []
    for wc in centers.order_by("department__sequence", "department__name", "code"):
        live = getattr(wc, "live_state", None)
        state, since = (live.state, live.since) if live else (MachineState.OFFLINE.value, wc.created_at)
        if live and live.last_seen and now - live.last_seen >= silence and state != MachineState.OFFLINE:
            state, since = MachineState.OFFLINE.value, live.last_seen + silence
        payload = machine_payload(
            work_center_id=wc.pk,
            code=wc.code,
            name=wc.name,
            department_id=wc.department_id,
            state=state,
            since=since,
            last_seen=live.last_seen if live else None,
            program=live.program if live else "",
            part_count=live.part_count if live else None,
            signals=live.signals if live else {},
            version=live.version if live else 0,
        )
        payload["department"] = wc.department.name
        payload["since_dt"] = since
        rows.append(payload)
    return rows


@dataclass(frozen=True)
class TimelineSegment:
    state: str
    label: str
    start: datetime
    end: datetime
    offset_permille: int
    width_permille: int
    reason: str


# A "shift" longer than this is a calendar that runs around the clock: a timeline of it would
# squeeze the last hours into a sliver, so the page shows the last eight hours instead.
LONGEST_SHIFT = timedelta(hours=16)


def shift_window(work_center: WorkCenter, now: datetime) -> tuple[datetime, datetime]:
    """The shift `now` lies in (from its calendar, breaks included), or the last eight hours when
    the machine is outside any shift, has no calendar, or runs around the clock."""
    try:
        inputs = calendar_inputs_for([work_center], now - timedelta(days=1), now + timedelta(days=1))
    except NoShiftCalendar:
        inputs = {}
    found = inputs.get(work_center.pk)
    if found is not None and found.shifts:
        whole = [calendar.Shift(s.weekday, s.start, s.end) for s in found.shifts]
        spans = calendar.working_intervals(
            whole, [], plant_time_zone(), now - timedelta(days=1), now + timedelta(days=1)
        )
        for start, end in spans:
            if start <= now < end and end - start <= LONGEST_SHIFT:
                return start, end
    return now - timedelta(hours=8), now


def state_timeline(work_center: WorkCenter, start: datetime, end: datetime, now: datetime) -> list[TimelineSegment]:
    """The machine's state intervals clipped to [start, end), placed in thousandths of the window
    for an SVG bar; the open interval runs until `now`. One query."""
    rows = (
        MachineStateInterval.objects.filter(work_center=work_center, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .select_related("reason")
        .order_by("started_at")
    )
    total = (end - start).total_seconds()
    segments: list[TimelineSegment] = []
    for row in rows:
        seg_start = max(row.started_at, start)
        seg_end = min(row.ended_at or now, end)
        if seg_end <= seg_start or total <= 0:
            continue
        offset = round((seg_start - start).total_seconds() * 1000 / total)
        width = max(1, round((seg_end - seg_start).total_seconds() * 1000 / total))
        segments.append(
            TimelineSegment(
                state=row.state,
                label=row.get_state_display(),
                start=seg_start,
                end=seg_end,
                offset_permille=offset,
                width_permille=width,
                reason=row.reason.name if row.reason else "",
            )
        )
    return segments
