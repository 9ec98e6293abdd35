"""Work-center calendars: when a machine can run, as UTC intervals.

Standard library only, so scheduling code can use and test it without Django.
Shifts are described in plant-local wall-clock time because that is how the shop
floor thinks; every concrete occurrence is converted to UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]
_Span = tuple[timedelta, timedelta]

_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Break:
    """An unpaid break inside a shift, in local wall-clock time."""

    start: time
    end: time

    def __post_init__(self) -> None:
        _require_wall_clock(self, self.start, self.end)
        if self.start == self.end:
            raise ValueError(f"{self!r}: start and end must differ")


@dataclass(frozen=True)
class Shift:
    """One shift of a weekly pattern, in plant-local wall-clock time.

    `weekday` (0 = Monday ... 6 = Sunday) is the day the shift starts; `end <= start`
    means it runs past midnight. A break time-of-day before `start` is on the next
    calendar day, so a 02:00 break belongs to a 22:00-06:00 shift.
    """

    weekday: int
    start: time
    end: time
    breaks: tuple[Break, ...] = ()
    # What the plant calls it ("1st shift"), for reports per shift; two shifts are equal whatever their names.
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _require_wall_clock(self, self.start, self.end)
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"{self!r}: weekday must be 0 (Monday) to 6 (Sunday)")
        (_, shift_end), breaks = _layout(self)
        for brk, (_, brk_end) in zip(self.breaks, breaks, strict=True):
            if brk_end > shift_end:
                raise ValueError(f"{brk!r} lies outside its shift {self!r}")


class ExceptionKind(StrEnum):
    HOLIDAY = "holiday"
    MAINTENANCE = "maintenance"
    SHUTDOWN = "shutdown"
    OVERTIME = "overtime"


@dataclass(frozen=True)
class CalendarException:
    """A one-off change to the weekly pattern.

    Holiday, maintenance and shutdown remove working time; overtime adds it, even
    outside any shift.
    """

    kind: ExceptionKind
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, f"{self!r} start")
        _require_aware(self.end, f"{self!r} end")
        if self.end <= self.start:
            raise ValueError(f"{self!r}: end must be after start")


def day_span(first_day: date, last_day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Whole local days `first_day`..`last_day` (inclusive) as aware UTC datetimes.

    Runs from local midnight of `first_day` to local midnight after `last_day`, so a
    day with a DST change lasts 23 or 25 real hours. The result is in UTC because
    Python subtracts two datetimes sharing one ZoneInfo as wall-clock times, which
    would hide that hour. A midnight that does not exist maps like any other wall
    time (see `working_intervals`).
    """
    if last_day < first_day:
        raise ValueError(f"day_span: last_day {last_day} is before first_day {first_day}")
    start = _to_utc(datetime.combine(first_day, time()), tz)
    return start, _to_utc(datetime.combine(last_day + _DAY, time()), tz)


def working_intervals(
    shifts: Sequence[Shift],
    exceptions: Sequence[CalendarException],
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Working time in [start, end) as sorted, merged, non-overlapping UTC intervals.

    Shift and break wall-clock times are placed in `tz` per concrete date, so a
    22:00-06:00 shift lasts 7 real hours on the night clocks go forward and 9 when
    they go back. A wall time inside a spring-forward gap maps to the first instant
    after the gap (02:30 -> 03:00); an ambiguous fall-back time uses its first
    occurrence (fold=0).

    Working time is (shifts minus breaks) plus overtime, minus holidays, maintenance
    and shutdowns: where removal and overtime overlap, removal wins, because a plant
    that is shut cannot honour overtime booked into it.
    """
    _require_aware(start, "working_intervals start")
    _require_aware(end, "working_intervals end")
    if end <= start:
        raise ValueError(f"working_intervals: end {end} must be after start {start}")
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)

    added = _shift_intervals(shifts, tz, lo, hi)
    removed: list[Interval] = []
    for exc in exceptions:
        interval = (exc.start.astimezone(UTC), exc.end.astimezone(UTC))
        (added if exc.kind == ExceptionKind.OVERTIME else removed).append(interval)

    working = subtract(merge(added), merge(removed))
    return merge((max(s, lo), min(e, hi)) for s, e in working)


def working_minutes(intervals: Iterable[Interval]) -> int:
    """Total whole minutes across `intervals`, rounded down."""
    # Via UTC: Python subtracts datetimes sharing one ZoneInfo as wall-clock times.
    total = sum((end.astimezone(UTC) - start.astimezone(UTC) for start, end in intervals), timedelta())
    return total // timedelta(minutes=1)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _require_wall_clock(item: Break | Shift, *times: time) -> None:
    # The zone comes from the work center; a zone on the time itself would be ignored.
    if any(t.tzinfo is not None for t in times):
        raise ValueError(f"{item!r}: times must be naive wall-clock times")


def _offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _place(start: time, end: time, day_start: time) -> _Span:
    """Offsets from midnight of the shift's start day.

    Times carry no date: a start earlier than `day_start` has rolled past midnight,
    and so has an end at or before its own start.
    """
    begin = _offset(start) + (_DAY if start < day_start else timedelta())
    finish = begin - _offset(start) + _offset(end)
    if finish <= begin:
        finish += _DAY
    return begin, finish


def _layout(shift: Shift) -> tuple[_Span, list[_Span]]:
    work = _place(shift.start, shift.end, shift.start)
    return work, [_place(b.start, b.end, shift.start) for b in shift.breaks]


def _shift_intervals(shifts: Sequence[Shift], tz: ZoneInfo, lo: datetime, hi: datetime) -> list[Interval]:
    # Start a day early: a night shift from the previous evening can run into `lo`.
    day = lo.astimezone(tz).date() - _DAY
    last_day = hi.astimezone(tz).date()
    layouts = [(shift.weekday, _layout(shift)) for shift in shifts]
    result: list[Interval] = []
    while day <= last_day:
        midnight = datetime.combine(day, time())
        for weekday, (work, breaks) in layouts:
            if weekday != day.weekday():
                continue
            work_utc = [_wall_span_to_utc(midnight, work, tz)]
            breaks_utc = merge(_wall_span_to_utc(midnight, b, tz) for b in breaks)
            result.extend(subtract(work_utc, breaks_utc))
        day += _DAY
    return result


def _wall_span_to_utc(midnight: datetime, span: _Span, tz: ZoneInfo) -> Interval:
    return _to_utc(midnight + span[0], tz), _to_utc(midnight + span[1], tz)


def _to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """Convert a naive local wall time; ambiguous -> first occurrence, gap -> end of gap."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    return _gap_end(wall, tz)


def _gap_end(wall: datetime, tz: ZoneInfo) -> datetime:
    # Inside a gap, fold=1 applies the post-transition offset and lands before the
    # transition, fold=0 the pre-transition one and lands after it. Transitions fall
    # on whole seconds, so a binary search over seconds finds the exact instant.
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(microsecond=0)
    after = wall.replace(tzinfo=tz, fold=0).astimezone(UTC).replace(microsecond=0)
    old_offset = before.astimezone(tz).utcoffset()
    while after - before > _SECOND:
        middle = before + _SECOND * ((after - before) // (2 * _SECOND))
        if middle.astimezone(tz).utcoffset() == old_offset:
            before = middle
        else:
            after = middle
    return after


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort, drop empty intervals, and join overlapping or touching ones."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(base: list[Interval], cuts: list[Interval]) -> list[Interval]:
    """Remove `cuts` from `base`; both must be sorted and merged."""
    result: list[Interval] = []
    for start, end in base:
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_start >= end:
                break
            if cut_end <= cursor:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = cut_end
        if cursor < end:
            result.append((cursor, end))
    return result
