"""Electrical energy of machines from their power readings: kWh over a window, while running and while not, and
per good part. Standard library only (and the pure `oee` helpers): plain dataclasses in, plain dataclasses out,
tested without a database.

What is measured. A machine's power P(t), in kW, from a power metric (`energy_inputs.POWER_METRICS`), integrated
over the window. "Running" is the machine state `running` (it is cutting, bending, welding: producing); every
other instant (idle, setup, stops, alarms, planned downtime, outside shifts, no state at all) is "not running".

Method, hour by hour (UTC hours), cheapest source first:

1. Roll-up. An hour wholly inside the window, ended before `settled_before` (the roll-up task may still be
   rewriting recent hours), that has an hourly roll-up of the power metric and in which the machine was running
   throughout or not running throughout: energy = mean kW x 1 h, all of it to that side. One row instead of 60 to
   3,600 samples; this covers nights, weekends and long runs. It equals the integral when the power is sampled at
   a regular interval, as meters do: the mean of evenly spaced samples is the time-weighted mean.
2. Samples, sample and hold. Any other hour with raw samples in it: each reading holds from its timestamp until the
   next reading, for at most `max_hold` (a meter that stops reporting does not go on counting; an "unavailable"
   reading holds nothing), clipped to the hour and the window and cut where the machine starts or stops running.
3. Roll-up only. An hour that needed samples but whose samples are gone (past retention) and that has a roll-up:
   mean kW x the part of the hour inside the window, to its side when the machine was on one side over that part,
   else "not split by state" (`unsplit_kwh`): counted in the total, in neither side.
4. Otherwise the hour has no power data: it adds nothing and is not covered.

Covered time is the time the energy stands for (whole hours for roll-ups, held stretches for samples); coverage
below 100 % means the meter was silent for part of the window. A window without any power data has no energy
(None), never 0 kWh; a machine without a power metric is told apart by its `power_metric` being None.
kWh per good part = all the energy of the window (running or not) / good parts reported in it.
Energies are kept to the Wh (0.001 kWh); the total is the sum of its three parts, so they always add up.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .oee import from_seconds, ratio, require_aware, to_seconds

Interval = tuple[datetime, datetime]  # aware, [start, end)

MAX_HOLD = timedelta(minutes=5)
HOUR_SECONDS = 3600

_KWH = Decimal("0.001")
_ZERO = Decimal("0.000")


@dataclass(frozen=True)
class PowerReading:
    """One power sample in kW; `kw` None is the meter saying "unavailable"."""

    at: datetime
    kw: float | None

    def __post_init__(self) -> None:
        require_aware(self.at, "PowerReading at")


@dataclass(frozen=True)
class HourMean:
    """The hourly roll-up of the power metric: mean kW over the UTC hour beginning at `hour`."""

    hour: datetime
    mean_kw: float

    def __post_init__(self) -> None:
        require_aware(self.hour, "HourMean hour")
        if to_seconds(self.hour) % HOUR_SECONDS:
            raise ValueError(f"HourMean hour must be the start of a UTC hour, got {self.hour.isoformat()}")


@dataclass(frozen=True)
class PartsReport:
    """Good parts reported at the machine at one moment (`shopfloor.ProductionEvent`)."""

    at: datetime
    good: int

    def __post_init__(self) -> None:
        require_aware(self.at, "PartsReport at")


@dataclass(frozen=True)
class EnergyInput:
    """What one machine's energy is computed from. `power_metric` None: the machine reports no power metric."""

    machine_id: int
    code: str
    name: str = ""
    department: str = ""
    power_metric: str | None = None
    hours: Sequence[HourMean] = ()
    readings: Sequence[PowerReading] = ()
    running: Sequence[Interval] = ()  # the machine's `running` state intervals, any order
    good_parts: Sequence[PartsReport] = ()  # good parts reported on the floor; each window counts its own


@dataclass(frozen=True)
class Energy:
    """Energy of one machine, or of several combined, over one window; sums, so that `combine` can add them up."""

    running_kwh: Decimal = _ZERO
    not_running_kwh: Decimal = _ZERO
    unsplit_kwh: Decimal = _ZERO
    covered_seconds: int = 0
    window_seconds: int = 0
    good: int = 0
    rollup_hours: int = 0
    sample_hours: int = 0
    has_data: bool = False
    machine_ids: frozenset[int] = frozenset()  # the machines with power data behind these figures

    @property
    def kwh(self) -> Decimal | None:
        """All the energy of the window; None without power data (unknown, not 0 kWh)."""
        if not self.has_data:
            return None
        return self.running_kwh + self.not_running_kwh + self.unsplit_kwh

    @property
    def running(self) -> Decimal | None:
        return self.running_kwh if self.has_data else None

    @property
    def not_running(self) -> Decimal | None:
        return self.not_running_kwh if self.has_data else None

    @property
    def not_running_share(self) -> Decimal | None:
        """Share of the energy split by state that was used while not running."""
        if not self.has_data:
            return None
        return ratio(self.not_running_kwh, self.running_kwh + self.not_running_kwh)

    @property
    def kwh_per_good_part(self) -> Decimal | None:
        kwh = self.kwh
        if kwh is None or self.good <= 0:
            return None
        return (kwh / self.good).quantize(_KWH, rounding=ROUND_HALF_UP)

    @property
    def coverage(self) -> Decimal | None:
        """Share of the window that the power data covers; None without data."""
        if not self.has_data:
            return None
        return ratio(self.covered_seconds, self.window_seconds)

    @property
    def covered_hours(self) -> Decimal:
        return (Decimal(self.covered_seconds) / HOUR_SECONDS).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def window_hours(self) -> Decimal:
        return (Decimal(self.window_seconds) / HOUR_SECONDS).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def machines(self) -> int:
        return len(self.machine_ids)


@dataclass(frozen=True)
class MachineEnergy:
    """One machine's energy over the whole window, and over each of the smaller windows asked for."""

    machine_id: int
    code: str
    name: str
    department: str
    power_metric: str | None
    energy: Energy
    per_window: tuple[Energy, ...] = ()

    @property
    def has_power_metric(self) -> bool:
        return self.power_metric is not None


def machine_energy(
    machine: EnergyInput,
    start: datetime,
    end: datetime,
    *,
    settled_before: datetime,
    max_hold: timedelta = MAX_HOLD,
) -> Energy:
    """The machine's energy over [start, end) by the method of the module docstring."""
    return energy_by_window(machine, [(start, end)], settled_before=settled_before, max_hold=max_hold)[0]


def energy_by_window(
    machine: EnergyInput,
    windows: Sequence[Interval],
    *,
    settled_before: datetime,
    max_hold: timedelta = MAX_HOLD,
) -> list[Energy]:
    """Energy per window; the machine's readings, roll-ups, running intervals and parts are indexed once for all."""
    require_aware(settled_before, "settled_before")
    if max_hold <= timedelta(0):
        raise ValueError("max_hold must be positive")
    prepared = _Prepared(machine, max_hold.total_seconds())
    settled = to_seconds(settled_before)
    return [prepared.energy(to_seconds(start), to_seconds(end), settled) for start, end in _checked(windows)]


def hours_needing_samples(
    machine: EnergyInput, windows: Sequence[Interval], *, settled_before: datetime
) -> list[datetime]:
    """The UTC hours (their starts) whose raw samples the computation reads: every hour overlapping a window that
    the roll-up (rule 1) cannot answer. Read the samples of these hours, and `max_hold` before each, no others."""
    require_aware(settled_before, "settled_before")
    prepared = _Prepared(machine, MAX_HOLD.total_seconds())
    settled = to_seconds(settled_before)
    needed: set[int] = set()
    for start, end in _checked(windows):
        lo, hi = to_seconds(start), to_seconds(end)
        for hour in _hours(lo, hi):
            if not prepared.rolled_up(hour, max(hour, lo), min(hour + HOUR_SECONDS, hi), settled):
                needed.add(hour)
    return [from_seconds(hour) for hour in sorted(needed)]


def sample_ranges(hours: Iterable[datetime], *, max_hold: timedelta = MAX_HOLD, limit: int = 48) -> list[Interval]:
    """Time ranges to read raw samples in: the hours joined where they touch, each begun `max_hold` early (the
    reading in force at the hour's start), at most `limit` of them (the closest ones merged: a few extra rows read,
    but one short query)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    ranges: list[list[datetime]] = []
    for hour in sorted(set(hours)):
        begin, finish = hour - max_hold, hour + timedelta(seconds=HOUR_SECONDS)
        if ranges and begin <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], finish)
        else:
            ranges.append([begin, finish])
    if len(ranges) > limit:
        gaps = sorted(range(1, len(ranges)), key=lambda i: (ranges[i][0] - ranges[i - 1][1], i))
        keep = sorted(gaps[len(ranges) - limit :])  # the widest gaps stay gaps
        merged: list[list[datetime]] = []
        starts = [0, *keep]
        for index, first in enumerate(starts):
            last = (starts[index + 1] if index + 1 < len(starts) else len(ranges)) - 1
            merged.append([ranges[first][0], ranges[last][1]])
        ranges = merged
    return [(begin, finish) for begin, finish in ranges]


def combine(energies: Iterable[Energy]) -> Energy:
    """A department's or the plant's energy: the sums over the figures with power data (none: no data)."""
    with_data = [e for e in energies if e.has_data]
    if not with_data:
        return Energy()
    return Energy(
        running_kwh=sum((e.running_kwh for e in with_data), _ZERO),
        not_running_kwh=sum((e.not_running_kwh for e in with_data), _ZERO),
        unsplit_kwh=sum((e.unsplit_kwh for e in with_data), _ZERO),
        covered_seconds=sum(e.covered_seconds for e in with_data),
        window_seconds=sum(e.window_seconds for e in with_data),
        good=sum(e.good for e in with_data),
        rollup_hours=sum(e.rollup_hours for e in with_data),
        sample_hours=sum(e.sample_hours for e in with_data),
        has_data=True,
        machine_ids=frozenset().union(*(e.machine_ids for e in with_data)),
    )


class _Prepared:
    """One machine's input in epoch seconds, sorted, with prefix sums of running time for O(log n) look-ups."""

    def __init__(self, machine: EnergyInput, max_hold: float) -> None:
        self.machine = machine
        self.max_hold = max_hold
        self.means = {to_seconds(h.hour): h.mean_kw for h in machine.hours if math.isfinite(h.mean_kw)}
        readings = sorted(machine.readings, key=lambda r: r.at)
        self.times = [_to_float_seconds(r.at) for r in readings]
        self.values = [r.kw if r.kw is not None and math.isfinite(r.kw) else None for r in readings]
        self.sampled_hours = {int(t // HOUR_SECONDS) * HOUR_SECONDS for t in self.times}
        merged: list[list[float]] = []
        for begin, finish in sorted((_to_float_seconds(a), _to_float_seconds(b)) for a, b in machine.running):
            if finish <= begin:
                continue
            if merged and begin <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], finish)
            else:
                merged.append([begin, finish])
        self.run_starts = [begin for begin, _finish in merged]
        self.run_ends = [finish for _begin, finish in merged]
        self.run_before = [0.0]  # running seconds before each interval
        for begin, finish in merged:
            self.run_before.append(self.run_before[-1] + finish - begin)
        parts = sorted(machine.good_parts, key=lambda p: p.at)
        self.part_times = [_to_float_seconds(p.at) for p in parts]
        self.parts_before = [0]
        for report in parts:
            self.parts_before.append(self.parts_before[-1] + report.good)

    def good(self, lo: float, hi: float) -> int:
        """Good parts reported in [lo, hi)."""
        return self.parts_before[bisect_left(self.part_times, hi)] - self.parts_before[bisect_left(self.part_times, lo)]

    def running_seconds(self, lo: float, hi: float) -> float:
        """Seconds of [lo, hi) in which the machine was running."""
        return self._running_until(hi) - self._running_until(lo)

    def _running_until(self, moment: float) -> float:
        index = bisect_right(self.run_starts, moment) - 1
        if index < 0:
            return 0.0
        return self.run_before[index] + min(moment, self.run_ends[index]) - self.run_starts[index]

    def side(self, lo: float, hi: float) -> bool | None:
        """True: running throughout [lo, hi); False: not running at all; None: both."""
        running = self.running_seconds(lo, hi)
        if running <= 0:
            return False
        if running >= hi - lo:
            return True
        return None

    def rolled_up(self, hour: int, lo: int, hi: int, settled: int) -> bool:
        """Rule 1: a whole, settled hour with a roll-up, on one side throughout."""
        whole = lo == hour and hi == hour + HOUR_SECONDS
        return whole and hi <= settled and hour in self.means and self.side(lo, hi) is not None

    def energy(self, lo: int, hi: int, settled: int) -> Energy:
        kws = {True: 0.0, False: 0.0, None: 0.0}  # kW-seconds: running, not running, not split
        covered = 0.0
        rollup_hours = sample_hours = 0
        for hour in _hours(lo, hi):
            part_lo, part_hi = max(hour, lo), min(hour + HOUR_SECONDS, hi)
            if self.rolled_up(hour, part_lo, part_hi, settled):
                kws[self.side(part_lo, part_hi)] += self.means[hour] * HOUR_SECONDS
                covered += HOUR_SECONDS
                rollup_hours += 1
            elif hour in self.sampled_hours:
                running, not_running, held = self._held(part_lo, part_hi)
                kws[True] += running
                kws[False] += not_running
                covered += held
                sample_hours += 1
            elif hour in self.means:
                kws[self.side(part_lo, part_hi)] += self.means[hour] * (part_hi - part_lo)
                covered += part_hi - part_lo
                rollup_hours += 1
        has_data = rollup_hours + sample_hours > 0
        return Energy(
            running_kwh=_kwh(kws[True]),
            not_running_kwh=_kwh(kws[False]),
            unsplit_kwh=_kwh(kws[None]),
            covered_seconds=round(covered),
            window_seconds=max(hi - lo, 0),
            good=self.good(lo, hi),
            rollup_hours=rollup_hours,
            sample_hours=sample_hours,
            has_data=has_data,
            machine_ids=frozenset({self.machine.machine_id}) if has_data else frozenset(),
        )

    def _held(self, lo: float, hi: float) -> tuple[float, float, float]:
        """Sample and hold over [lo, hi): kW-seconds while running, while not, and the seconds held."""
        running = not_running = held = 0.0
        times, values = self.times, self.values
        index = max(bisect_right(times, lo) - 1, 0)
        while index < len(times) and times[index] < hi:
            value = values[index]
            begin = times[index]
            finish = begin + self.max_hold
            if index + 1 < len(times):
                finish = min(finish, times[index + 1])
            begin, finish = max(begin, lo), min(finish, hi)
            if value is not None and finish > begin:
                run = self.running_seconds(begin, finish)
                running += value * run
                not_running += value * (finish - begin - run)
                held += finish - begin
            index += 1
        return running, not_running, held


def _hours(lo: int, hi: int) -> range:
    return range(lo - lo % HOUR_SECONDS, hi, HOUR_SECONDS)


def _kwh(kw_seconds: float) -> Decimal:
    return (Decimal(kw_seconds) / HOUR_SECONDS).quantize(_KWH, rounding=ROUND_HALF_UP)


def _checked(windows: Sequence[Interval]) -> Sequence[Interval]:
    for start, end in windows:
        require_aware(start, "window start")
        require_aware(end, "window end")
        if end < start:
            raise ValueError(f"window end {end.isoformat()} is before its start {start.isoformat()}")
    return windows


def _to_float_seconds(moment: datetime) -> float:
    return (moment - from_seconds(0)).total_seconds()
