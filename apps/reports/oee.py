"""OEE of one machine over one window, from its state intervals, shift occurrences and production counts.

Standard library only (plus the pure `apps.machines.calendar` and `machine_state`), so reports and benchmarks
run it on plain dataclasses without a database.

Classification. Every instant t of the window [start, end) is put in exactly one category. Instants are whole
seconds (datetimes are truncated to the second), so the categories always add up to the window's length. With s
the state of the span covering t (OFFLINE where no span covers t):

1. s is running or setup -> RUN or SETUP (production time). This holds outside shifts, in breaks and in planned
   maintenance too: the machine worked, its counts count, so running outside shift time is planned production.
2. else t is outside every shift -> NOT_SCHEDULED (excluded from everything).
3. else t is in a break -> BREAK (planned downtime).
4. else t is in planned maintenance -> PLANNED_MAINTENANCE (planned downtime).
5. else the span's reason code is a "no work" code -> NO_WORK: its own category, outside planned production time
   and not a loss.
6. else s is planned_down or the reason is planned -> PLANNED_STOP (planned downtime, with its reason).
7. else s is offline -> NO_DATA (outside planned production time; reported as time without data).
8. else (idle, unplanned_down, alarm) a stop. A stop whose whole span, as given and not clipped to the window,
   lasts less than `small_stop_seconds` is a SMALL_STOP (a performance loss, part of run time); otherwise it is
   a BREAKDOWN (an availability loss, "breakdowns" among the six big losses).

Spans must therefore be passed unclipped. Where spans overlap, a later start cuts the earlier span short.

Figures:
- planned production = RUN + SETUP + SMALL_STOP + BREAKDOWN; run time (operating time) = RUN + SMALL_STOP;
- availability = run time / planned production;
- ideal seconds = sum over counts with `at` in the window of (good + scrap) x ideal cycle seconds;
- performance = ideal seconds / run time, not capped (above 1 sets `performance_over_100`);
- quality = good / (good + scrap); OEE = availability x performance x quality, computed from the exact ratios;
- a ratio with a zero denominator is None. A window with no time of a reporting span (only OFFLINE or
  NOT_SCHEDULED) has no data: every ratio is None, never 0 % or 100 %. Production time without a single counted
  unit makes performance, quality and OEE None (status NO_COUNTS).
- six big losses in seconds: breakdowns, setups, small stops, reduced speed = max(0, RUN - ideal seconds),
  start-up rejects and production rejects = scrap x ideal cycle of start-up / other counts.
- MTBF = run time / failures and MTTR = failure seconds / failures. A failure is an unplanned_down or alarm span
  that has BREAKDOWN time; it is counted in the window holding its start, while its BREAKDOWN seconds count in
  the windows they fall in, so both sum exactly over consecutive windows. Deciding whether a span has
  BREAKDOWN time looks at its whole extent, so pass the shifts, breaks and maintenance around it as well.

Department and plant figures (`combine`) add seconds, units and ideal seconds and take ratios of the sums, never
a mean of ratios.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from apps.machines.calendar import day_span
from apps.machines.machine_state import MachineState

Interval = tuple[datetime, datetime]  # aware, [start, end)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_MINUTES = Decimal("0.01")
_RATIO = Decimal("0.0001")


class Category(StrEnum):
    """Where a stretch of time goes in the OEE time model (see the module docstring)."""

    RUN = "run"
    SETUP = "setup"
    SMALL_STOP = "small_stop"
    BREAKDOWN = "breakdown"
    BREAK = "break"
    PLANNED_MAINTENANCE = "planned_maintenance"
    PLANNED_STOP = "planned_stop"
    NO_WORK = "no_work"
    NO_DATA = "no_data"
    NOT_SCHEDULED = "not_scheduled"


# Lost time the downtime Pareto charts break down by reason, machine and department.
LOST_TIME = frozenset({Category.BREAKDOWN, Category.SMALL_STOP, Category.SETUP})


class Status(StrEnum):
    """Whether the ratios can be read, and if not, why."""

    OK = "ok"
    NO_DATA = "no_data"
    NO_PLANNED_TIME = "no_planned_time"  # data, but no planned production time (e.g. a whole shift without work)
    NO_COUNTS = "no_counts"


class Granularity(StrEnum):
    SHIFT = "shift"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_STATES = frozenset(MachineState)
_FAILURE_STATES = frozenset({MachineState.UNPLANNED_DOWN, MachineState.ALARM})
# States whose stretches are stops: how long the whole stop lasts decides small stop or breakdown.
STOP_STATES = frozenset({MachineState.IDLE, MachineState.UNPLANNED_DOWN, MachineState.ALARM})


@dataclass(frozen=True)
class StateSpan:
    """One machine state interval (`machines.MachineStateInterval`), unclipped."""

    start: datetime
    end: datetime
    state: str
    reason_code: str = ""
    reason_name: str = ""
    reason_planned: bool = False
    source_id: int | None = None  # the interval's pk, for drill-down
    open: bool = False  # still going: `end` is only "now"

    def __post_init__(self) -> None:
        require_aware(self.start, "StateSpan start")
        require_aware(self.end, "StateSpan end")
        if self.end < self.start:
            raise ValueError(f"{self!r}: end is before start")
        if self.state not in _STATES:
            raise ValueError(f"{self!r}: unknown state {self.state!r}")


@dataclass(frozen=True)
class CountRecord:
    """A production report (`shopfloor.ProductionEvent`) at one instant."""

    at: datetime
    good: int
    scrap: int
    ideal_cycle_seconds: Decimal  # routing standard per unit on this machine
    startup: bool = False  # scrap made during setup or on first-off parts: a start-up reject
    source_id: int | None = None

    def __post_init__(self) -> None:
        require_aware(self.at, "CountRecord at")

    @property
    def units(self) -> int:
        return self.good + self.scrap


@dataclass(frozen=True)
class ShiftOccurrence:
    """One concrete shift, e.g. "1st shift" on one day; holidays and shutdowns already removed."""

    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class MachineInput:
    machine_id: int
    code: str
    name: str
    department: str
    shifts: Sequence[ShiftOccurrence]  # scheduled time, overtime included
    breaks: Sequence[Interval]  # break time inside shifts
    planned_maintenance: Sequence[Interval]  # maintenance calendar exceptions inside shifts
    spans: Sequence[StateSpan]
    counts: Sequence[CountRecord]


@dataclass(frozen=True)
class OeeSettings:
    small_stop_seconds: int = 300
    no_work_reason_codes: frozenset[str] = frozenset({"no-work"})


class Piece(NamedTuple):
    """One classified stretch of one machine, for drill-down from a figure to the intervals behind it.

    A named tuple rather than a dataclass: a plant month holds hundreds of thousands of them.
    """

    machine_id: int
    start: datetime
    end: datetime
    category: Category
    state: str
    reason_code: str = ""
    reason_name: str = ""
    source_id: int | None = None

    @property
    def seconds(self) -> int:
        return (self.end - self.start) // _SECOND


@dataclass(frozen=True)
class Window:
    """One reporting period, clipped to the range asked for."""

    label: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return (self.end - self.start) // _SECOND


@dataclass(frozen=True)
class SixBigLosses:
    """Seconds lost to each of the six big losses; rejects are the ideal time of the scrapped parts."""

    breakdowns: int
    setups: int
    small_stops: int
    reduced_speed: Decimal
    startup_rejects: Decimal
    production_rejects: Decimal

    def minutes(self, loss: str) -> Decimal:
        """Minutes of one loss by field name, for charts that loop over the six."""
        seconds: int | Decimal = getattr(self, loss)
        return to_minutes(seconds)


@dataclass(frozen=True)
class OeeFigures:
    """Seconds per category, units and ideal seconds: all additive, so `combine` can sum them.

    Ratios, losses and minutes are properties derived from these sums.
    """

    run_seconds: int = 0
    setup_seconds: int = 0
    small_stop_seconds: int = 0
    breakdown_seconds: int = 0
    break_seconds: int = 0
    planned_maintenance_seconds: int = 0
    planned_stop_seconds: int = 0
    no_work_seconds: int = 0
    no_data_seconds: int = 0
    not_scheduled_seconds: int = 0
    good: int = 0
    scrap: int = 0
    startup_scrap: int = 0
    ideal_seconds: Decimal = Decimal(0)
    startup_reject_seconds: Decimal = Decimal(0)
    production_reject_seconds: Decimal = Decimal(0)
    failures: int = 0
    failure_seconds: int = 0
    has_data: bool = False
    machine_ids: frozenset[int] = frozenset()  # the machines with data behind these figures
    pieces: tuple[Piece, ...] = field(default=(), repr=False)
    counts: tuple[CountRecord, ...] = field(default=(), repr=False)

    @property
    def machines(self) -> int:
        return len(self.machine_ids)

    @property
    def units(self) -> int:
        return self.good + self.scrap

    @property
    def losses(self) -> SixBigLosses:
        return SixBigLosses(
            breakdowns=self.breakdown_seconds,
            setups=self.setup_seconds,
            small_stops=self.small_stop_seconds,
            reduced_speed=self.reduced_speed_seconds,
            startup_rejects=self.startup_reject_seconds,
            production_rejects=self.production_reject_seconds,
        )

    @property
    def planned_production_seconds(self) -> int:
        return self.run_seconds + self.setup_seconds + self.small_stop_seconds + self.breakdown_seconds

    @property
    def run_time_seconds(self) -> int:
        """Operating time: small stops are a speed loss, so they stay inside it."""
        return self.run_seconds + self.small_stop_seconds

    @property
    def planned_downtime_seconds(self) -> int:
        return self.break_seconds + self.planned_maintenance_seconds + self.planned_stop_seconds

    @property
    def reduced_speed_seconds(self) -> Decimal:
        return max(Decimal(0), self.run_seconds - self.ideal_seconds)

    @property
    def status(self) -> Status:
        if not self.has_data:
            return Status.NO_DATA
        if self.planned_production_seconds == 0:
            return Status.NO_PLANNED_TIME
        if self.units == 0:
            return Status.NO_COUNTS
        return Status.OK

    @property
    def availability(self) -> Decimal | None:
        if not self.has_data:
            return None
        return ratio(self.run_time_seconds, self.planned_production_seconds)

    @property
    def performance(self) -> Decimal | None:
        if not self.has_data or self.units == 0:
            return None
        return ratio(self.ideal_seconds, self.run_time_seconds)

    @property
    def quality(self) -> Decimal | None:
        if not self.has_data:
            return None
        return ratio(self.good, self.units)

    @property
    def oee(self) -> Decimal | None:
        # run/planned x ideal/run x good/units, with run cancelled out so only one rounding happens.
        if self.availability is None or self.performance is None or self.quality is None:
            return None
        return ratio(self.ideal_seconds * self.good, self.planned_production_seconds * self.units)

    @property
    def performance_over_100(self) -> bool:
        """A warning: more parts than the standard allows, so the routing's cycle time is probably wrong."""
        return self.performance is not None and self.ideal_seconds > self.run_time_seconds

    @property
    def mtbf_minutes(self) -> Decimal | None:
        return to_minutes(Decimal(self.run_time_seconds) / self.failures) if self.failures else None

    @property
    def mttr_minutes(self) -> Decimal | None:
        return to_minutes(Decimal(self.failure_seconds) / self.failures) if self.failures else None

    @property
    def planned_production_minutes(self) -> Decimal:
        return to_minutes(self.planned_production_seconds)

    @property
    def run_time_minutes(self) -> Decimal:
        return to_minutes(self.run_time_seconds)

    @property
    def run_minutes(self) -> Decimal:
        return to_minutes(self.run_seconds)

    @property
    def setup_minutes(self) -> Decimal:
        return to_minutes(self.setup_seconds)

    @property
    def small_stop_minutes(self) -> Decimal:
        return to_minutes(self.small_stop_seconds)

    @property
    def breakdown_minutes(self) -> Decimal:
        return to_minutes(self.breakdown_seconds)

    @property
    def reduced_speed_minutes(self) -> Decimal:
        return to_minutes(self.reduced_speed_seconds)

    @property
    def startup_reject_minutes(self) -> Decimal:
        return to_minutes(self.startup_reject_seconds)

    @property
    def production_reject_minutes(self) -> Decimal:
        return to_minutes(self.production_reject_seconds)

    @property
    def break_minutes(self) -> Decimal:
        return to_minutes(self.break_seconds)

    @property
    def planned_maintenance_minutes(self) -> Decimal:
        return to_minutes(self.planned_maintenance_seconds)

    @property
    def planned_stop_minutes(self) -> Decimal:
        return to_minutes(self.planned_stop_seconds)

    @property
    def planned_downtime_minutes(self) -> Decimal:
        return to_minutes(self.planned_downtime_seconds)

    @property
    def no_work_minutes(self) -> Decimal:
        return to_minutes(self.no_work_seconds)

    @property
    def no_data_minutes(self) -> Decimal:
        return to_minutes(self.no_data_seconds)


# The additive sums of OeeFigures (everything but the flags and the drill-down), in the order of its fields.
ADDED = tuple(f.name for f in fields(OeeFigures) if f.name not in {"has_data", "machine_ids", "pieces", "counts"})
_sums_of = attrgetter(*ADDED)


def to_minutes(seconds: int | Decimal) -> Decimal:
    """Seconds as Decimal minutes to the hundredth, the way reports show durations."""
    return (Decimal(seconds) / 60).quantize(_MINUTES, rounding=ROUND_HALF_UP)


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """A ratio to four places (0.8534 is 85.34 %); None, not 0, when there is nothing to divide by."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_RATIO, rounding=ROUND_HALF_UP)


def machine_oee(
    machine: MachineInput, start: datetime, end: datetime, settings: OeeSettings = OeeSettings()
) -> OeeFigures:
    """Classify [start, end) second by second (see the module docstring) and total it up."""
    require_aware(start, "machine_oee start")
    require_aware(end, "machine_oee end")
    if end < start:
        raise ValueError(f"machine_oee: end {end} is before start {start}")
    return oee_by_period(machine, [Window("", start, end)], settings)[0][1]


def _figures(
    prepared: _Prepared, classified: _Classified, lo: int, hi: int, detail: frozenset[Category] | None
) -> OeeFigures:
    machine = prepared.machine
    seconds = dict.fromkeys(Category, 0)
    pieces: list[Piece] = []
    has_data = False
    failure_seconds = 0
    for piece_lo, piece_hi, placed, category in classified.between(lo, hi):
        seconds[category] += piece_hi - piece_lo
        span = placed.span if placed else None
        state = span.state if span else MachineState.OFFLINE
        if state != MachineState.OFFLINE and category is not Category.NOT_SCHEDULED:
            has_data = True
        if category is Category.BREAKDOWN and state in _FAILURE_STATES:
            failure_seconds += piece_hi - piece_lo
        if detail is None or category in detail:
            pieces.append(
                Piece(
                    machine.machine_id,
                    from_seconds(piece_lo),
                    from_seconds(piece_hi),
                    category,
                    state,
                    span.reason_code if span else "",
                    span.reason_name if span else "",
                    span.source_id if span else None,
                )
            )
    failures = sum(1 for placed in prepared.timeline.starting_in(lo, hi) if classified.is_failure(placed))
    counts = prepared.counts_in(lo, hi)
    startup = [c for c in counts if c.startup]
    return OeeFigures(
        run_seconds=seconds[Category.RUN],
        setup_seconds=seconds[Category.SETUP],
        small_stop_seconds=seconds[Category.SMALL_STOP],
        breakdown_seconds=seconds[Category.BREAKDOWN],
        break_seconds=seconds[Category.BREAK],
        planned_maintenance_seconds=seconds[Category.PLANNED_MAINTENANCE],
        planned_stop_seconds=seconds[Category.PLANNED_STOP],
        no_work_seconds=seconds[Category.NO_WORK],
        no_data_seconds=seconds[Category.NO_DATA],
        not_scheduled_seconds=seconds[Category.NOT_SCHEDULED],
        good=sum(c.good for c in counts),
        scrap=sum(c.scrap for c in counts),
        startup_scrap=sum(c.scrap for c in startup),
        ideal_seconds=sum((c.units * c.ideal_cycle_seconds for c in counts), Decimal(0)),
        startup_reject_seconds=sum((c.scrap * c.ideal_cycle_seconds for c in startup), Decimal(0)),
        production_reject_seconds=sum((c.scrap * c.ideal_cycle_seconds for c in counts if not c.startup), Decimal(0)),
        failures=failures,
        failure_seconds=failure_seconds,
        has_data=has_data,
        machine_ids=frozenset({machine.machine_id}) if has_data else frozenset(),
        pieces=tuple(pieces),
        counts=counts if detail is None else (),
    )


def combine(figures: Sequence[OeeFigures]) -> OeeFigures:
    """Department or plant figures, or one machine over several windows: sums over the figures with data.

    No data if none has any. Sum only windows that do not overlap, or time is counted twice.

    Pieces and counts are concatenated in input order, so a department's Pareto can drill down to machines.
    """
    return add_up([f for f in figures if f.has_data])


def add_up(figures: Sequence[OeeFigures]) -> OeeFigures:
    """One machine over consecutive windows: every sum added, those of windows without data too, so the result is
    what the joined window itself gives (unlike `combine`, which leaves machines without data out)."""
    if len(figures) == 1:
        return figures[0]
    if not figures:
        return OeeFigures()
    sums: dict[str, Any] = dict(zip(ADDED, map(sum, zip(*map(_sums_of, figures), strict=True)), strict=True))
    return OeeFigures(
        **sums,
        has_data=any(f.has_data for f in figures),
        machine_ids=frozenset().union(*(f.machine_ids for f in figures)),
        pieces=tuple(piece for f in figures for piece in f.pieces),
        counts=tuple(count for f in figures for count in f.counts),
    )


def period_windows(
    start: datetime,
    end: datetime,
    granularity: Granularity,
    tz: ZoneInfo,
    shifts: Sequence[ShiftOccurrence] = (),
) -> list[Window]:
    """Reporting periods overlapping [start, end), clipped to it, in time order.

    Days, ISO weeks (from Monday) and months begin at local midnight, so a day with a DST change lasts 23 or
    25 hours. SHIFT windows are the given occurrences, labelled "YYYY-MM-DD <name>" by their local start date.
    """
    require_aware(start, "period_windows start")
    require_aware(end, "period_windows end")
    if end <= start:
        return []
    if granularity is Granularity.SHIFT:
        return [
            Window(
                label=f"{shift.start.astimezone(tz).date().isoformat()} {shift.name}",
                start=max(shift.start, start).astimezone(UTC),
                end=min(shift.end, end).astimezone(UTC),
            )
            for shift in sorted(shifts, key=lambda s: (s.start, s.end))
            if shift.start < end and shift.end > start
        ]
    windows: list[Window] = []
    period = _period_start(start.astimezone(tz).date(), granularity)
    while True:
        following = _next_period(period, granularity)
        window_start, window_end = day_span(period, following - timedelta(days=1), tz)
        if window_start >= end:
            return windows
        windows.append(
            Window(
                label=_period_label(period, granularity),
                start=max(window_start, start.astimezone(UTC)),
                end=min(window_end, end.astimezone(UTC)),
            )
        )
        period = following


def oee_by_period(
    machine: MachineInput,
    windows: Iterable[Window],
    settings: OeeSettings = OeeSettings(),
    *,
    detail: frozenset[Category] | None = None,
) -> list[tuple[Window, OeeFigures]]:
    """OEE per window. The machine's time is classified once, over the hull of the windows, and each window sums
    its part of it: classifying a stretch does not depend on the window it is seen through.

    `detail` keeps only the drill-down pieces of those categories, and no counts (None keeps everything).
    """
    prepared = _Prepared(machine)
    bounds = [(window, to_seconds(window.start), to_seconds(window.end)) for window in windows]
    if not bounds:
        return []
    for window, lo, hi in bounds:
        if hi < lo:
            raise ValueError(f"{window!r}: end is before start")
    classified = _Classified(prepared, settings, min(lo for _w, lo, _h in bounds), max(hi for _w, _l, hi in bounds))
    return [(window, _figures(prepared, classified, lo, hi, detail)) for window, lo, hi in bounds]


def _period_start(day: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def _next_period(period: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return period + timedelta(days=7)
    if granularity is Granularity.MONTH:
        return date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return period + timedelta(days=1)


def _period_label(period: date, granularity: Granularity) -> str:
    if granularity is Granularity.WEEK:
        year, week, _ = period.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity is Granularity.MONTH:
        return f"{period.year}-{period.month:02d}"
    return period.isoformat()


@dataclass(frozen=True)
class _PlacedSpan:
    start: int  # seconds since the epoch, cut short by the next span
    end: int
    whole_seconds: int  # the span's own length, for the small-stop rule
    span: StateSpan


class _Timeline:
    """Spans in time order, non-overlapping, found by bisection."""

    def __init__(self, spans: Iterable[StateSpan]) -> None:
        ordered = sorted(((to_seconds(s.start), to_seconds(s.end), s) for s in spans), key=lambda t: t[:2])
        placed = []
        for index, (lo, hi, span) in enumerate(ordered):
            cut = min(hi, ordered[index + 1][0]) if index + 1 < len(ordered) else hi
            if cut > lo:
                placed.append(_PlacedSpan(start=lo, end=cut, whole_seconds=hi - lo, span=span))
        self.placed = placed
        self._starts = [p.start for p in placed]

    def starting_in(self, lo: int, hi: int) -> list[_PlacedSpan]:
        return self.placed[bisect_left(self._starts, lo) : bisect_left(self._starts, hi)]

    def at(self, instant: int) -> _PlacedSpan | None:
        index = bisect_right(self._starts, instant) - 1
        if index >= 0 and instant < self.placed[index].end:
            return self.placed[index]
        return None

    def boundaries(self, lo: int, hi: int) -> list[int]:
        # Spans do not overlap, so only the one starting before `lo` can reach into the window.
        first, last = max(bisect_left(self._starts, lo) - 1, 0), bisect_left(self._starts, hi)
        return [point for p in self.placed[first:last] for point in (p.start, p.end) if lo < point < hi]


class _IntervalSet:
    """Merged intervals in seconds; answers "is this instant inside?" by bisection."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged: list[list[int]] = []
        for lo, hi in sorted((to_seconds(s), to_seconds(e)) for s, e in intervals):
            if lo >= hi:
                continue
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self._starts = [lo for lo, _ in merged]
        self._ends = [hi for _, hi in merged]

    def __contains__(self, instant: int) -> bool:
        index = bisect_right(self._starts, instant) - 1
        return index >= 0 and instant < self._ends[index]

    @property
    def points(self) -> list[int]:
        return self._starts + self._ends


class _Calendar:
    """A machine's shifts, breaks and planned maintenance, with every edge where one of them changes."""

    def __init__(self, machine: MachineInput) -> None:
        self.shifts = _IntervalSet((s.start, s.end) for s in machine.shifts)
        self.breaks = _IntervalSet(machine.breaks)
        self.maintenance = _IntervalSet(machine.planned_maintenance)
        self._points = sorted(set(self.shifts.points + self.breaks.points + self.maintenance.points))

    def boundaries(self, lo: int, hi: int) -> list[int]:
        return self._points[bisect_right(self._points, lo) : bisect_left(self._points, hi)]

    def open_for_stops(self, instant: int) -> bool:
        """In a shift and in neither a break nor planned maintenance: where a stop is a loss."""
        return instant in self.shifts and instant not in self.breaks and instant not in self.maintenance


class _Prepared:
    """One machine's input indexed for fast look-ups, reused across windows."""

    def __init__(self, machine: MachineInput) -> None:
        self.machine = machine
        self.calendar = _Calendar(machine)
        self.timeline = _Timeline(machine.spans)
        self._counts = sorted(machine.counts, key=lambda c: c.at)
        self._count_seconds = [to_seconds(c.at) for c in self._counts]

    def counts_in(self, lo: int, hi: int) -> tuple[CountRecord, ...]:
        return tuple(self._counts[bisect_left(self._count_seconds, lo) : bisect_left(self._count_seconds, hi)])


class _Classified:
    """One machine's time from `lo` to `hi` classified once, sliced per window by bisection."""

    def __init__(self, prepared: _Prepared, settings: OeeSettings, lo: int, hi: int) -> None:
        self._calendar = prepared.calendar
        self._settings = settings
        self._stretches = _classify(prepared.timeline, prepared.calendar, settings, lo, hi)
        self._starts = [stretch[0] for stretch in self._stretches]
        self._failure: dict[int, bool] = {}

    def between(self, lo: int, hi: int) -> list[tuple[int, int, _PlacedSpan | None, Category]]:
        first = max(bisect_right(self._starts, lo) - 1, 0)
        last = bisect_left(self._starts, hi)
        return [
            (max(piece_lo, lo), min(piece_hi, hi), placed, category)
            for piece_lo, piece_hi, placed, category in self._stretches[first:last]
            if piece_hi > lo and piece_lo < hi
        ]

    def is_failure(self, placed: _PlacedSpan) -> bool:
        known = self._failure.get(placed.start)
        if known is None:
            known = self._failure[placed.start] = _is_failure(placed, self._calendar, self._settings)
        return known


def _classify(
    timeline: _Timeline, calendar: _Calendar, settings: OeeSettings, lo: int, hi: int
) -> list[tuple[int, int, _PlacedSpan | None, Category]]:
    """Cut [lo, hi) at every edge, classify each stretch, and join neighbours of one span and one category."""
    edges = sorted({lo, hi, *timeline.boundaries(lo, hi), *calendar.boundaries(lo, hi)})
    stretches: list[tuple[int, int, _PlacedSpan | None, Category]] = []
    for piece_lo, piece_hi in zip(edges, edges[1:], strict=False):
        placed = timeline.at(piece_lo)
        category = _category(placed, piece_lo, calendar, settings)
        if stretches and stretches[-1][2] is placed and stretches[-1][3] is category:
            stretches[-1] = (stretches[-1][0], piece_hi, placed, category)
        else:
            stretches.append((piece_lo, piece_hi, placed, category))
    return stretches


def _category(placed: _PlacedSpan | None, instant: int, calendar: _Calendar, settings: OeeSettings) -> Category:
    state = placed.span.state if placed else MachineState.OFFLINE
    if state == MachineState.RUNNING:
        return Category.RUN
    if state == MachineState.SETUP:
        return Category.SETUP
    if instant not in calendar.shifts:
        return Category.NOT_SCHEDULED
    if instant in calendar.breaks:
        return Category.BREAK
    if instant in calendar.maintenance:
        return Category.PLANNED_MAINTENANCE
    if placed is None:
        return Category.NO_DATA
    if placed.span.reason_code in settings.no_work_reason_codes:
        return Category.NO_WORK
    if state == MachineState.PLANNED_DOWN or placed.span.reason_planned:
        return Category.PLANNED_STOP
    if state == MachineState.OFFLINE:
        return Category.NO_DATA
    return Category.SMALL_STOP if placed.whole_seconds < settings.small_stop_seconds else Category.BREAKDOWN


def _is_failure(placed: _PlacedSpan, calendar: _Calendar, settings: OeeSettings) -> bool:
    """An unplanned_down or alarm span with BREAKDOWN time anywhere in its extent, not just in the window."""
    if placed.span.state not in _FAILURE_STATES:
        return False
    edges = [placed.start, *calendar.boundaries(placed.start, placed.end)]
    return any(_category(placed, edge, calendar, settings) is Category.BREAKDOWN for edge in edges)


def to_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch: how the pure report modules index time."""
    return (moment - _EPOCH) // _SECOND


def from_seconds(seconds: int | float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
