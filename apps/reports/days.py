"""A machine's time cut into parts at plant-local midnights and at shift edges, each with its OEE sums.

Every window the dashboards and reports show is a union of whole parts: a day, a week or a month is its days'
parts, a shift occurrence is its parts (two when it crosses midnight), the time outside shifts is the parts
without a shift. Parts are classified in one pass over the machine's whole time (`oee.oee_by_period`), so a stop
is judged on its whole length and a failure counts once, in the part holding its start; summing parts
(`oee.add_up`) therefore gives exactly the figures of the window itself.

A part that has settled never changes unless the machine's history is amended, so its sums are stored
(`ClosedDayFigures`, through `to_record` / `from_record`) and read back instead of the day's state intervals. No
drill-down pieces are kept: the lost time is tallied by reason (`analytics.lost_time`) for the Pareto charts.

Standard library only, like `oee`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from apps.machines.calendar import day_span

from . import analytics, oee

_DECIMALS = frozenset(name for name in oee.ADDED if isinstance(getattr(oee.OeeFigures(), name), Decimal))


@dataclass(frozen=True)
class DayPart:
    """One stretch of one machine inside one local day and inside one shift occurrence (or outside shifts)."""

    day: date
    shift: str  # the occurrence's name; "" outside shifts
    occurrence: datetime | None  # when that occurrence starts: it names the occurrence across midnight
    start: datetime
    end: datetime
    figures: oee.OeeFigures  # lean: no pieces, no counts
    lost: analytics.LostTime  # the lost time by reason, for the Pareto charts


def day_parts(
    machine: oee.MachineInput, start: datetime, end: datetime, tz: ZoneInfo, settings: oee.OeeSettings
) -> list[DayPart]:
    """The parts of [start, end) for one machine, in time order."""
    if end <= start:
        return []
    shifts = sorted(machine.shifts, key=lambda s: (s.start, s.end))
    edges = {start, end}
    day = start.astimezone(tz).date()
    while True:
        day += timedelta(days=1)
        midnight = day_span(day, day, tz)[0]
        if midnight >= end:
            break
        if midnight > start:
            edges.add(midnight)
    edges.update(t for s in shifts for t in (s.start, s.end) if start < t < end)
    cuts = sorted(e.astimezone(UTC) for e in edges)
    windows = [oee.Window("", lo, hi) for lo, hi in zip(cuts, cuts[1:], strict=False)]
    computed = oee.oee_by_period(machine, windows, settings, detail=oee.LOST_TIME)
    parts = []
    for window, figures in computed:
        occurrence = next((s for s in shifts if s.start <= window.start < s.end), None)
        parts.append(
            DayPart(
                day=window.start.astimezone(tz).date(),
                shift=occurrence.name if occurrence else "",
                occurrence=occurrence.start.astimezone(UTC) if occurrence else None,
                start=window.start,
                end=window.end,
                figures=replace(figures, pieces=()),
                lost=analytics.lost_time(figures.pieces),
            )
        )
    return parts


def to_record(parts: Sequence[DayPart]) -> list[dict[str, Any]]:
    """A day's parts as JSON for `ClosedDayFigures.parts` (Decimals as text, instants as epoch seconds)."""
    return [
        {
            "shift": part.shift,
            "occurrence": oee.to_seconds(part.occurrence) if part.occurrence else None,
            "start": oee.to_seconds(part.start),
            "end": oee.to_seconds(part.end),
            "sums": [_plain(getattr(part.figures, name)) for name in oee.ADDED],
            "has_data": part.figures.has_data,
            "lost": {
                key: [label, seconds, sorted(stops, key=str)] for key, (label, seconds, stops) in part.lost.items()
            },
        }
        for part in parts
    ]


def from_record(machine_id: int, day: date, record: Sequence[dict[str, Any]]) -> list[DayPart]:
    """The parts `to_record` stored, for machine `machine_id` on `day`."""
    with_data = frozenset({machine_id})
    parts = []
    for item in record:
        sums: dict[str, Any] = dict(zip(oee.ADDED, item["sums"], strict=True))
        for name in _DECIMALS:
            sums[name] = Decimal(sums[name])
        has_data = bool(item["has_data"])
        parts.append(
            DayPart(
                day=day,
                shift=item["shift"],
                occurrence=oee.from_seconds(item["occurrence"]) if item["occurrence"] is not None else None,
                start=oee.from_seconds(item["start"]),
                end=oee.from_seconds(item["end"]),
                figures=oee.OeeFigures(**sums, has_data=has_data, machine_ids=with_data if has_data else frozenset()),
                lost={key: (label, seconds, frozenset(stops)) for key, (label, seconds, stops) in item["lost"].items()},
            )
        )
    return parts


def _plain(value: int | Decimal) -> int | str:
    return str(value) if isinstance(value, Decimal) else value
