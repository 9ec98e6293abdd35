"""Production analytics on plain dataclasses: downtime Pareto, schedule adherence, cost per part, quality.

Standard library only (plus the pure `apps.machines.calendar`), like `oee`, whose pieces feed the downtime
Pareto. Money is Decimal to the cent, shares and yields are Decimal ratios to four places (0.8534 is 85.34 %),
durations are Decimal minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from apps.machines.calendar import merge, subtract

from .oee import LOST_TIME, Category, Piece, ratio, to_minutes

_CENTS = Decimal("0.01")
_TENTH = Decimal("0.1")
SETUP_LABEL = "Setup"
NO_REASON_LABEL = "No reason given"
NO_DEPARTMENT_LABEL = "No department"


@dataclass(frozen=True)
class ParetoItem:
    """One bar before sorting; keys are unique within one Pareto."""

    key: str
    label: str
    seconds: int
    occurrences: int = 0


@dataclass(frozen=True)
class ParetoRow:
    key: str
    label: str
    seconds: int
    occurrences: int
    share: Decimal | None  # None when the whole Pareto adds up to nothing
    cumulative_share: Decimal | None

    @property
    def minutes(self) -> Decimal:
        return to_minutes(self.seconds)


def pareto(items: Sequence[ParetoItem]) -> list[ParetoRow]:
    """Largest first (ties by label); the cumulative share is taken from running sums, so the last row is 1."""
    ordered = sorted(items, key=lambda item: (-item.seconds, item.label))
    shares = _shares([item.seconds for item in ordered])
    return [
        ParetoRow(
            key=item.key,
            label=item.label,
            seconds=item.seconds,
            occurrences=item.occurrences,
            share=share,
            cumulative_share=cumulative,
        )
        for item, (share, cumulative) in zip(ordered, shares, strict=True)
    ]


Stop = int | str  # one stop: its state interval's id, or "machine@start" for a piece without one
LostTime = Mapping[str, tuple[str, int, AbstractSet[Stop]]]  # reason key -> (label, seconds, stops)


def lost_time(pieces: Iterable[Piece]) -> dict[str, tuple[str, int, frozenset[Stop]]]:
    """Lost time (breakdowns, small stops, setups) by reason: seconds and the stops behind them.

    All setups are one reason "Setup", stops without a reason one "No reason given". A stop split by window or
    shift edges is one stop, so tallies of consecutive windows `merge` into the tally of the whole.
    """
    labels: dict[str, str] = {}
    seconds: dict[str, int] = {}
    stops: dict[str, set[Stop]] = {}
    for piece in pieces:
        if piece.category not in LOST_TIME:
            continue
        key, label = _reason_key(piece)
        labels[key] = label
        seconds[key] = seconds.get(key, 0) + piece.seconds
        stop: Stop = (
            piece.source_id if piece.source_id is not None else f"{piece.machine_id}@{int(piece.start.timestamp())}"
        )
        stops.setdefault(key, set()).add(stop)
    return {key: (labels[key], seconds[key], frozenset(stops[key])) for key in seconds}


def merge_lost_time(tallies: Iterable[LostTime]) -> dict[str, tuple[str, int, frozenset[Stop]]]:
    labels: dict[str, str] = {}
    seconds: dict[str, int] = {}
    stops: dict[str, set[Stop]] = {}
    for tally in tallies:
        for key, (label, lost, ids) in tally.items():
            labels[key] = label
            seconds[key] = seconds.get(key, 0) + lost
            stops.setdefault(key, set()).update(ids)
    return {key: (labels[key], seconds[key], frozenset(stops[key])) for key in seconds}


def reason_items(tally: LostTime) -> list[ParetoItem]:
    """One Pareto bar per reason."""
    return [ParetoItem(key, label, lost, len(ids)) for key, (label, lost, ids) in tally.items()]


def group_items(groups: Mapping[str, tuple[str, Iterable[LostTime]]]) -> list[ParetoItem]:
    """One Pareto bar per group (a machine, a department): key -> (label, the tallies of its machines)."""
    items = []
    for key, (label, tallies) in groups.items():
        lost, stops = 0, set[Stop]()
        for tally in tallies:
            for _label, seconds, ids in tally.values():
                lost += seconds
                stops.update(ids)
        if lost or stops:
            items.append(ParetoItem(key, label, lost, len(stops)))
    return items


def downtime_items(
    pieces: Iterable[Piece],
    *,
    by: Literal["reason", "machine", "department"],
    machine_labels: Mapping[int, str] | None = None,
    department_labels: Mapping[int, str] | None = None,
) -> list[ParetoItem]:
    """Lost time grouped for a Pareto, from drill-down pieces (see `lost_time`).

    Machines are labelled from `machine_labels` and grouped into departments by `department_labels`, both keyed by
    machine id. Occurrences count distinct state intervals; a piece without a `source_id` counts on its own.
    """
    if by == "reason":
        return reason_items(lost_time(pieces))
    machine_labels = machine_labels or {}
    department_labels = department_labels or {}
    by_machine: dict[int, list[Piece]] = {}
    for piece in pieces:
        by_machine.setdefault(piece.machine_id, []).append(piece)
    groups: dict[str, tuple[str, list[LostTime]]] = {}
    for machine_id, own in by_machine.items():
        if by == "machine":
            key, label = str(machine_id), machine_labels.get(machine_id, str(machine_id))
        else:
            key = department_labels.get(machine_id, "")
            label = key or NO_DEPARTMENT_LABEL
        groups.setdefault(key, (label, []))[1].append(lost_time(own))
    return group_items(groups)


@dataclass(frozen=True)
class PlannedActual:
    """One operation: where the published schedule put it and when the floor really ran it."""

    operation_id: int
    label: str
    work_center: str
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None


@dataclass(frozen=True)
class AdherenceRow:
    operation: PlannedActual
    start_deviation_minutes: Decimal | None  # actual - planned: positive is late
    finish_deviation_minutes: Decimal | None
    started_on_time: bool | None  # None when there is nothing to compare
    finished_on_time: bool | None


@dataclass(frozen=True)
class AdherenceSummary:
    rows: tuple[AdherenceRow, ...]
    tolerance_minutes: int
    started_on_time_rate: Decimal | None  # of the operations with both a planned and an actual start
    finished_on_time_rate: Decimal | None
    mean_finish_deviation_minutes: Decimal | None

    @property
    def count(self) -> int:
        return len(self.rows)


def adherence(rows: Sequence[PlannedActual], *, tolerance_minutes: int = 15) -> AdherenceSummary:
    """Schedule adherence: on time means no later than planned plus the tolerance; early is on time."""
    tolerance = timedelta(minutes=tolerance_minutes)
    results: list[AdherenceRow] = []
    finish_deltas: list[timedelta] = []
    for row in rows:
        start_delta = _delta(row.planned_start, row.actual_start)
        finish_delta = _delta(row.planned_end, row.actual_end)
        if finish_delta is not None:
            finish_deltas.append(finish_delta)
        results.append(
            AdherenceRow(
                operation=row,
                start_deviation_minutes=_delta_minutes(start_delta),
                finish_deviation_minutes=_delta_minutes(finish_delta),
                started_on_time=None if start_delta is None else start_delta <= tolerance,
                finished_on_time=None if finish_delta is None else finish_delta <= tolerance,
            )
        )
    started = [r.started_on_time for r in results if r.started_on_time is not None]
    finished = [r.finished_on_time for r in results if r.finished_on_time is not None]
    mean_finish = None
    if finish_deltas:
        mean_finish = _minutes(_microseconds(sum(finish_deltas, timedelta())) / len(finish_deltas))
    return AdherenceSummary(
        rows=tuple(results),
        tolerance_minutes=tolerance_minutes,
        started_on_time_rate=ratio(sum(started), len(started)),
        finished_on_time_rate=ratio(sum(finished), len(finished)),
        mean_finish_deviation_minutes=mean_finish,
    )


@dataclass(frozen=True)
class CostInput:
    run_seconds: int
    machine_rate_per_hour: Decimal
    labor_seconds: int
    labor_rate_per_hour: Decimal
    scrap_units: int
    material_cost_per_unit: Decimal
    good_units: int


@dataclass(frozen=True)
class CostBreakdown:
    machine: Decimal
    labor: Decimal
    scrap: Decimal  # material thrown away with scrapped parts
    total: Decimal
    per_good_part: Decimal | None  # None when nothing good was made


def cost_per_part(cost: CostInput) -> CostBreakdown:
    """Conversion cost plus scrapped material, spread over the good parts.

    Machine and labor time spent on scrapped parts is already in the machine and labor lines; the material of
    good parts is not included, it belongs to the part's standard cost. The total is the sum of the rounded
    lines, so the printed rows add up.
    """
    machine = _money(cost.run_seconds * cost.machine_rate_per_hour / 3600)
    labor = _money(cost.labor_seconds * cost.labor_rate_per_hour / 3600)
    scrap = _money(cost.scrap_units * cost.material_cost_per_unit)
    total = machine + labor + scrap
    per_good_part = _money(total / cost.good_units) if cost.good_units else None
    return CostBreakdown(machine=machine, labor=labor, scrap=scrap, total=total, per_good_part=per_good_part)


@dataclass(frozen=True)
class QualityInput:
    """First-pass counts of one operation (rework is not first pass and is left out by the caller)."""

    operation_id: int
    good: int
    scrap: int
    scrap_by_reason: Mapping[str, int] = field(default_factory=dict)
    opportunities_per_unit: int = 1

    def __post_init__(self) -> None:
        if sum(self.scrap_by_reason.values()) > self.scrap:
            raise ValueError(f"operation {self.operation_id}: scrap by reason adds up to more than the scrap")


@dataclass(frozen=True)
class ScrapRow:
    reason_code: str  # "" for scrap nobody gave a reason for
    label: str
    units: int
    share: Decimal | None
    cumulative_share: Decimal | None


@dataclass(frozen=True)
class QualitySummary:
    good: int
    scrap: int
    first_pass_yield: Decimal | None
    dpmo: Decimal | None
    scrap_by_reason: tuple[ScrapRow, ...]


def quality_summary(
    inputs: Sequence[QualityInput], *, reason_labels: Mapping[str, str] | None = None
) -> QualitySummary:
    """First-pass yield, DPMO and a Pareto of scrap by reason.

    FPY = sum of good / sum of units over the first-pass counts (not a product of per-operation yields).
    DPMO = scrap / (sum over operations of units x opportunities per unit) x 1,000,000, treating each scrapped
    unit as one defect. Scrap not booked to a reason shows as "No reason given".
    """
    reason_labels = reason_labels or {}
    good = sum(i.good for i in inputs)
    scrap = sum(i.scrap for i in inputs)
    opportunities = sum((i.good + i.scrap) * i.opportunities_per_unit for i in inputs)
    by_reason: dict[str, int] = {}
    for item in inputs:
        for code, units in item.scrap_by_reason.items():
            by_reason[code] = by_reason.get(code, 0) + units
        unexplained = item.scrap - sum(item.scrap_by_reason.values())
        if unexplained:
            by_reason[""] = by_reason.get("", 0) + unexplained
    labelled = sorted(
        (
            (code, reason_labels.get(code, code) if code else NO_REASON_LABEL, units)
            for code, units in by_reason.items()
        ),
        key=lambda row: (-row[2], row[1]),
    )
    shares = _shares([units for _, _, units in labelled])
    dpmo = None
    if opportunities:
        dpmo = (Decimal(scrap) * 1_000_000 / opportunities).quantize(_TENTH, rounding=ROUND_HALF_UP)
    return QualitySummary(
        good=good,
        scrap=scrap,
        first_pass_yield=ratio(good, good + scrap),
        dpmo=dpmo,
        scrap_by_reason=tuple(
            ScrapRow(reason_code=code, label=label, units=units, share=share, cumulative_share=cumulative)
            for (code, label, units), (share, cumulative) in zip(labelled, shares, strict=True)
        ),
    )


def _shares(values: Sequence[int]) -> list[tuple[Decimal | None, Decimal | None]]:
    """Each value's share of the total and the running share, for values already in Pareto order."""
    total = sum(values)
    running = 0
    result: list[tuple[Decimal | None, Decimal | None]] = []
    for value in values:
        running += value
        result.append((ratio(value, total), ratio(running, total)))
    return result


def _reason_key(piece: Piece) -> tuple[str, str]:
    if piece.category is Category.SETUP:
        return "setup", SETUP_LABEL
    if not piece.reason_code:
        return "", NO_REASON_LABEL
    return piece.reason_code, piece.reason_name or piece.reason_code


def _delta(planned: datetime | None, actual: datetime | None) -> timedelta | None:
    return None if planned is None or actual is None else actual - planned


def _delta_minutes(delta: timedelta | None) -> Decimal | None:
    return None if delta is None else _minutes(_microseconds(delta))


def _microseconds(delta: timedelta) -> Decimal:
    return Decimal(delta // timedelta(microseconds=1))


def _minutes(microseconds: Decimal) -> Decimal:
    return (microseconds / 60_000_000).quantize(_CENTS, rounding=ROUND_HALF_UP)


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(_CENTS, rounding=ROUND_HALF_UP)


Interval = tuple[datetime, datetime]  # aware, [start, end)


@dataclass(frozen=True)
class PhaseWindow:
    """A stretch during which an operation was on its machine and not paused, in setup or in run."""

    start: datetime
    end: datetime
    run: bool  # False: setup


def machine_run_seconds(
    windows: Sequence[PhaseWindow], *, running: Iterable[Interval], reporting: Iterable[Interval]
) -> int:
    """Machine time charged to one operation, in whole seconds.

    Where the machine reports its state (`reporting`: every state interval but offline), the machine's own
    clock decides: the time it was running (`running`) while the operation was on it, in setup or run. Where it
    reports nothing (a manned weld cell or bench, or a sensor that was down), the run phase the floor booked
    counts instead, so a station without a sensor still earns its rate. Setup without telemetry is not machine
    time; the operator's setup labor is charged as labor.
    """
    on_machine = merge((window.start, window.end) for window in windows)
    booked_run = merge((window.start, window.end) for window in windows if window.run)
    measured = _intersect(on_machine, merge(running))
    unmeasured_run = subtract(booked_run, merge(reporting))
    return _whole_seconds(measured) + _whole_seconds(unmeasured_run)


def job_cost(operations: Sequence[CostBreakdown], good_units: int) -> CostBreakdown:
    """A job's cost: its operations' lines added up, spread over the good parts the job delivered (those of its
    last operation). Adding rounded lines keeps the job rows equal to the sum of their operation rows."""
    machine = sum((op.machine for op in operations), Decimal("0.00"))
    labor = sum((op.labor for op in operations), Decimal("0.00"))
    scrap = sum((op.scrap for op in operations), Decimal("0.00"))
    total = machine + labor + scrap
    per_good_part = _money(total / good_units) if good_units else None
    return CostBreakdown(machine=machine, labor=labor, scrap=scrap, total=total, per_good_part=per_good_part)


def _intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """Both sorted and merged."""
    return subtract(first, subtract(first, second))


def _whole_seconds(intervals: Iterable[Interval]) -> int:
    return sum((end - start) // timedelta(seconds=1) for start, end in intervals)
