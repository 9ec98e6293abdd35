"""Each machine's OEE day parts (`days.py`) for a period: closed days read back from `ClosedDayFigures`, the rest
computed from the state intervals, counts and calendars, and closed days stored on the way.

A stored day is used only while it still describes the machine's history:
- it was computed with the same settings: the machine's efficiency (its ideal cycles), its calendar around that
  day, the small-stop rule, the no-work reasons and every downtime reason's code, name and planned flag
  (`settings_key`);
- no `HistoryAmendment` of the machine recorded after it was computed reaches into that day (late machine data,
  a reason given or a part reported after the day, a calendar edited).
A day is stored only once it is final (`days.is_final`): over, with no stop still open across it.

The queries do not grow with the number of machines or days: the reasons, the calendars, the stored days and the
amendments, then at most two reads of intervals, counts and calendars (one for today, one for machines with closed
days to compute).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from apps.machines.calendar import day_span
from apps.machines.models import DowntimeReason, HistoryAmendment, WorkCenter
from apps.machines.selectors import CalendarInputs, calendar_inputs_for, today_start
from apps.machines.services import AMENDMENT_DELAY

from . import days, oee
from .models import ClosedDayFigures
from .selectors import CALENDAR_MARGIN, inputs_for

# Part of every settings key: change it when the classification rules or the stored format change.
RULES_VERSION = "1"
# How old a part's end must be before the part is stored; history amended later than that is recorded.
SETTLED = AMENDMENT_DELAY


def machine_parts(
    centers: Sequence[WorkCenter],
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    settings: oee.OeeSettings,
    now: datetime,
) -> dict[int, list[days.DayPart]]:
    """Every machine's parts of [start, end) (start at a local midnight), in time order."""
    if not centers or end <= start:
        return {wc.pk: [] for wc in centers}
    period_days = _days_between(start, end, tz)
    calendars = calendar_inputs_for(centers, start - CALENDAR_MARGIN, end + CALENDAR_MARGIN)
    keys = _settings_keys(centers, period_days, settings, tz, calendars)
    stored = _stored(centers, period_days, keys, tz)

    kept: dict[int, list[days.DayPart]] = {}
    compute_from: dict[int, datetime] = {}
    for wc in centers:
        kept[wc.pk], compute_from[wc.pk] = _stored_run(wc.pk, period_days, stored, start, end, tz)
    # Two reads at most, whatever the number of machines: those whose stored figures reach into today (the usual
    # case), and those with earlier days to compute.
    today = max(start, today_start(now))
    groups = (
        [wc for wc in centers if compute_from[wc.pk] >= today and compute_from[wc.pk] < end],
        [wc for wc in centers if compute_from[wc.pk] < today],
    )
    result: dict[int, list[days.DayPart]] = {}
    to_store: list[ClosedDayFigures] = []
    for group in groups:
        if not group:
            continue
        read_from = min(compute_from[wc.pk] for wc in group)
        for machine in inputs_for(group, read_from, end, now=now, calendars=calendars):
            own_start = compute_from[machine.machine_id]
            parts = days.day_parts(machine, own_start, end, tz, settings)
            result[machine.machine_id] = [*kept[machine.machine_id], *parts]
            to_store.extend(_to_store(machine, kept[machine.machine_id], parts, keys, now))
    ClosedDayFigures.objects.bulk_create(
        to_store,
        update_conflicts=True,
        unique_fields=["work_center", "day"],
        update_fields=["computed_at", "settings_key", "until", "parts"],
    )
    for wc in centers:
        result.setdefault(wc.pk, kept[wc.pk])
    return result


def _stored_run(
    machine_id: int,
    period_days: Sequence[date],
    stored: dict[tuple[int, date], tuple[datetime, list[days.DayPart]]],
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
) -> tuple[list[days.DayPart], datetime]:
    """The stored parts from the period's start on, as far as they reach without a gap, and where they stop."""
    kept: list[days.DayPart] = []
    reach = start
    for day in period_days:
        day_end = day_span(day, day, tz)[1]
        row = stored.get((machine_id, day))
        if row is None:
            break
        until, parts = row
        kept.extend(part for part in parts if part.end <= end)
        reach = min(until, end)
        if until < day_end:
            break
    return kept, reach


def _to_store(
    machine: oee.MachineInput,
    kept: Sequence[days.DayPart],
    parts: Sequence[days.DayPart],
    keys: dict[tuple[int, date], str],
    now: datetime,
) -> list[ClosedDayFigures]:
    """The days whose stored figures can now reach further: up to the last part edge that has settled.

    An edge has settled when it is `SETTLED` old (amendments after that are recorded, see
    `machines.services.amend_history`) and no stop is still open before it (its length, and so whether it is a
    small stop or a failure, is not known yet). `now` is when the inputs were read, so an amendment made while
    they were being computed still makes the stored figures stale."""
    limit = now - SETTLED
    open_stops = [span.start for span in machine.spans if span.open and span.state in oee.STOP_STATES]
    if open_stops:
        limit = min(limit, *open_stops)
    settled = [part for part in parts if part.end <= limit]
    if not settled:
        return []
    by_day: dict[date, list[days.DayPart]] = defaultdict(list)
    for part in [*kept, *settled]:
        by_day[part.day].append(part)
    rows = []
    for day in sorted({part.day for part in settled}):
        rows.append(
            ClosedDayFigures(
                work_center_id=machine.machine_id,
                day=day,
                computed_at=now,
                settings_key=keys[(machine.machine_id, day)],
                until=max(part.end for part in by_day[day]),
                parts=days.to_record(by_day[day]),
            )
        )
    return rows


def _days_between(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    first, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _settings_keys(
    centers: Sequence[WorkCenter],
    days_: Sequence[date],
    settings: oee.OeeSettings,
    tz: ZoneInfo,
    calendars: Mapping[int, CalendarInputs | None],
) -> dict[tuple[int, date], str]:
    """What each machine's day is computed with: the rules, the reasons, the machine's efficiency and its calendar
    around that day (shifts and the exceptions near it), so a stored day is not used once any of them changed."""
    if not days_:
        return {}
    reasons = DowntimeReason.objects.order_by("pk").values_list("pk", "code", "name", "parent_id", "is_planned")
    shared = _digest(
        repr((RULES_VERSION, settings.small_stop_seconds, sorted(settings.no_work_reason_codes), list(reasons)))
    )
    described: dict[tuple[int, date], str] = {}
    keys: dict[tuple[int, date], str] = {}
    for wc in centers:
        inputs = calendars.get(wc.pk)
        for day in days_:
            if (id(inputs), day) not in described:
                described[(id(inputs), day)] = _digest(_calendar_around(inputs, day, tz))
            keys[(wc.pk, day)] = _digest(f"{shared}|{wc.efficiency}|{described[(id(inputs), day)]}")
    return keys


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _calendar_around(inputs: CalendarInputs | None, day: date, tz: ZoneInfo) -> str:
    if inputs is None:
        return "inactive"
    day_start, day_end = day_span(day, day, tz)
    near = [
        exc
        for exc in inputs.exceptions
        if exc.start < day_end + CALENDAR_MARGIN and exc.end > day_start - CALENDAR_MARGIN
    ]
    return repr((inputs.shifts, [shift.name for shift in inputs.shifts], sorted(near, key=repr)))


def _stored(
    centers: Sequence[WorkCenter], period_days: Sequence[date], keys: dict[tuple[int, date], str], tz: ZoneInfo
) -> dict[tuple[int, date], tuple[datetime, list[days.DayPart]]]:
    """The stored figures still true, by machine and day: how far they reach, and their parts."""
    rows = list(
        ClosedDayFigures.objects.filter(
            work_center__in=centers, day__gte=period_days[0], day__lte=period_days[-1]
        ).values_list("work_center_id", "day", "computed_at", "settings_key", "until", "parts")
    )
    rows = [row for row in rows if row[3] == keys[(row[0], row[1])]]
    if not rows:
        return {}
    amendments: dict[int, list[tuple[datetime, datetime | None, datetime | None]]] = defaultdict(list)
    for work_center_id, recorded_at, begins, ends in HistoryAmendment.objects.filter(
        work_center__in=centers, recorded_at__gte=min(row[2] for row in rows)
    ).values_list("work_center_id", "recorded_at", "start", "end"):
        amendments[work_center_id].append((recorded_at, begins, ends))
    stored: dict[tuple[int, date], tuple[datetime, list[days.DayPart]]] = {}
    for work_center_id, day, computed_at, _key, until, parts in rows:
        day_start = day_span(day, day, tz)[0]
        if any(
            recorded_at >= computed_at and (begins is None or begins < until) and (ends is None or ends > day_start)
            for recorded_at, begins, ends in amendments[work_center_id]
        ):
            continue
        stored[(work_center_id, day)] = (until, days.from_record(work_center_id, day, parts))
    return stored
