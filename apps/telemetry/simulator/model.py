"""The behaviour of one simulated machine: jobs, setups, cycles, stops, alarms and breakdowns inside shifts.

Pure and deterministic: no Django, no clock, no I/O. A `MachineModel` is a generator of `Event`s in
time order, seeded from (seed, work center code), so the same seed always gives the same shop floor and
machines do not move in lockstep. The metrics are the ones the MES derives machine state from
(docs/machine-state.md): `execution`, `controller_mode`, `program`, `part_count`, `alarm`, and one number
(`laser_power` in watts on lasers, `spindle_load` in percent elsewhere). Manual stations report only
`execution` and `part_count`, as a scanner at a bench would.

A machine with a power meter (`MachineSpec.power_meter`; every demo machine but the manual stations) also reports
its electrical draw, `power_kw`, every POWER_PERIOD whatever it does, as a meter would: standby outside working
time, then by what the machine does (idle, setup, stopped by an alarm, or working: a base plus a share of the load
number), with ±3 % noise from a generator of its own, so that metering a machine changes nothing else it reports.

Working time comes from a `Calendar` (the work center's `working_intervals`): a cycle, setup or stop that
reaches the end of a shift is cut there and the machine reports READY with no load, so nothing runs
outside working time; a breakdown is taken as repaired before the next shift.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from apps.telemetry.observations import Value

Interval = tuple[datetime, datetime]

EXECUTION = "execution"
CONTROLLER_MODE = "controller_mode"
PROGRAM = "program"
PART_COUNT = "part_count"
ALARM = "alarm"
LASER_POWER = "laser_power"
SPINDLE_LOAD = "spindle_load"
POWER_KW = "power_kw"

ACTIVE, READY, STOPPED, INTERRUPTED = "ACTIVE", "READY", "STOPPED", "INTERRUPTED"
AUTOMATIC, MANUAL = "AUTOMATIC", "MANUAL"

SAMPLE_PERIOD = timedelta(seconds=30)  # how often the number is reported while a cycle runs
POWER_PERIOD = timedelta(seconds=60)  # how often a power meter reports, day and night


class Kind(StrEnum):
    LASER = "laser"
    PUNCH = "punch"
    BRAKE = "brake"
    WELDING = "welding"
    ROBOT = "robot"
    POLISHING = "polishing"
    MANUAL = "manual"


# Work center type codes of the demo shop (apps/routings/demo/catalog.py); anything else is a manual station.
KIND_BY_TYPE: dict[str, Kind] = {
    "fiber-laser": Kind.LASER,
    "turret-punch": Kind.PUNCH,
    "press-brake-large": Kind.BRAKE,
    "press-brake-small": Kind.BRAKE,
    "panel-bender": Kind.BRAKE,
    "tig-weld": Kind.WELDING,
    "spot-weld": Kind.WELDING,
    "mig-robot": Kind.ROBOT,
    "grain-polish": Kind.POLISHING,
    "deburr": Kind.POLISHING,
    "paint-booth": Kind.POLISHING,
}


def kind_of(work_center_type: str) -> Kind:
    return KIND_BY_TYPE.get(work_center_type, Kind.MANUAL)


Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Profile:
    """Durations in seconds, chances per cycle. `load` is the number while cutting/bending/welding."""

    program_prefix: str
    cycle: Range
    gap: Range
    cycles_per_job: tuple[int, int]
    setup: Range
    parts_per_cycle: tuple[int, int]
    load: Range
    micro_stop: float
    alarm: float
    breakdown: float
    alarm_codes: tuple[str, ...]
    numeric: str | None = SPINDLE_LOAD


PROFILES: dict[Kind, Profile] = {
    # Cutting a sheet takes 2-8 min; the gap is the pallet change and the pierce of the next sheet.
    Kind.LASER: Profile(
        "NEST-", (120, 480), (10, 45), (1, 6), (300, 900), (4, 24), (3800, 6000), 0.06, 0.03, 0.003,
        ("LAS-1120", "LAS-2045", "LAS-3310"), LASER_POWER,
    ),
    Kind.PUNCH: Profile("PUN-", (60, 240), (10, 30), (2, 10), (300, 900), (2, 12), (30, 85), 0.05, 0.02, 0.002,
                        ("PUN-0412", "PUN-0907")),
    # Many short bends per job, a long setup for every tool change.
    Kind.BRAKE: Profile("BND-", (15, 60), (5, 20), (10, 60), (600, 1800), (1, 1), (20, 90), 0.01, 0.005, 0.0005,
                        ("BRK-0101", "BRK-0230")),
    # Long arc-on periods, fitting between them.
    Kind.WELDING: Profile("WLD-", (300, 1500), (60, 300), (2, 8), (300, 1200), (1, 1), (40, 95), 0.05, 0.01,
                          0.002, ("WLD-0050", "WLD-0071")),
    Kind.ROBOT: Profile("ROB-", (180, 420), (20, 60), (5, 20), (900, 1800), (1, 2), (50, 90), 0.04, 0.02, 0.002,
                        ("ROB-SRVO-062", "ROB-ARC-013")),
    Kind.POLISHING: Profile("POL-", (60, 300), (20, 120), (3, 12), (120, 600), (1, 4), (25, 70), 0.03, 0.005,
                            0.001, ("POL-0300",)),
    Kind.MANUAL: Profile("ST-", (600, 2400), (60, 600), (1, 4), (120, 600), (1, 3), (0, 0), 0.0, 0.0, 0.0, (),
                         None),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PowerProfile:
    """Electrical draw in kW. `standby` outside working time (controls, chiller or pump on standby), `idle` ready
    to work, `setup` with the operator changing tools, `stopped` by an alarm; working: `base` + `per_load` x the
    load number (W of laser power, or % of spindle load)."""

    standby: float
    idle: float
    setup: float
    stopped: float
    base: float
    per_load: float


POWER: dict[Kind, PowerProfile] = {
    # A 6 kW fiber laser: resonator, chiller, drives and fume extraction; 29-39 kW while cutting.
    Kind.LASER: PowerProfile(2.0, 9.0, 6.0, 7.0, 12.0, 0.0045),
    Kind.PUNCH: PowerProfile(0.6, 4.0, 3.0, 3.5, 8.0, 0.15),  # 12.5-20.8 kW punching
    Kind.BRAKE: PowerProfile(0.2, 2.5, 1.5, 2.0, 4.0, 0.1),  # hydraulic pump idling; 6-13 kW bending
    Kind.WELDING: PowerProfile(0.1, 0.8, 0.5, 0.6, 3.0, 0.12),  # 7.8-14.4 kW with the arc on
    Kind.ROBOT: PowerProfile(0.4, 2.0, 1.2, 1.5, 6.0, 0.1),  # 11-15 kW welding
    Kind.POLISHING: PowerProfile(0.1, 1.5, 0.8, 1.0, 3.0, 0.08),  # 5-8.6 kW grinding
}


class Calendar(Protocol):
    """When a machine may run: sorted, non-overlapping UTC intervals inside [start, end)."""

    def intervals(self, start: datetime, end: datetime) -> Sequence[Interval]: ...


@dataclass(frozen=True, slots=True)
class FixedCalendar:
    """A calendar given as a list of intervals (tests, and the runner's prefetched windows)."""

    periods: Sequence[Interval]

    def intervals(self, start: datetime, end: datetime) -> Sequence[Interval]:
        return [(max(a, start), min(b, end)) for a, b in self.periods if b > start and a < end]


@dataclass(frozen=True, slots=True)
class MachineSpec:
    """One simulated machine: its work center code, department and behaviour."""

    code: str
    department: str
    kind: Kind
    power_meter: bool = False  # reports `power_kw` (machines of a kind without a POWER profile never do)

    @property
    def profile(self) -> Profile:
        return PROFILES[self.kind]

    @property
    def power(self) -> PowerProfile | None:
        return POWER.get(self.kind) if self.power_meter else None

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics this machine reports, in birth (alias) order."""
        if self.kind is Kind.MANUAL:
            return (EXECUTION, PART_COUNT)
        numeric = self.profile.numeric
        assert numeric is not None
        metered = (POWER_KW,) if self.power is not None else ()
        return (EXECUTION, CONTROLLER_MODE, PROGRAM, PART_COUNT, ALARM, numeric, *metered)


@dataclass(frozen=True, slots=True, order=True)
class Event:
    at: datetime
    metric: str
    value: Value


class ShiftEnded(Exception):
    """Raised inside a shift's activities when the next step would cross the end of working time."""


LOOKAHEAD = timedelta(days=8)  # how far ahead the calendar is asked for the next working interval
IDLE_WINDOWS = 8  # a machine with no working time in this many windows (64 days) reports nothing more


@dataclass
class MachineModel:
    """Events of one machine from `start` on; `advance(until)` returns the ones up to `until` in order."""

    spec: MachineSpec
    calendar: Calendar
    start: datetime
    seed: int
    current: dict[str, Value] = field(init=False)
    _rng: random.Random = field(init=False, repr=False)
    _events: Iterator[Event] = field(init=False, repr=False)
    _next: Event | None = field(init=False, default=None, repr=False)
    _job: int = field(init=False, default=0)
    _parts: int = field(init=False, default=0)
    _reported: dict[str, Value] = field(init=False, default_factory=dict, repr=False)
    _power_rng: random.Random = field(init=False, repr=False)
    _next_power: datetime | None = field(init=False, default=None, repr=False)
    _periods: list[Interval] = field(init=False, default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"{self.seed}:{self.spec.code}")
        self._power_rng = random.Random(f"{self.seed}:{self.spec.code}:power")
        initial: dict[str, Value] = {
            EXECUTION: READY,
            CONTROLLER_MODE: AUTOMATIC,
            PROGRAM: "",
            PART_COUNT: 0,
            ALARM: "",
        }
        if self.spec.profile.numeric is not None:
            initial[self.spec.profile.numeric] = 0.0
        if self.spec.power is not None:
            initial[POWER_KW] = 0.0
            self._next_power = self.start  # the meter's first reading goes out with the birth
        self.current = {metric: initial[metric] for metric in self.spec.metrics}
        self._reported = dict(self.current)
        self._events = self._run()
        self._next = next(self._events, None)

    def advance(self, until: datetime) -> list[Event]:
        """Every event with `at <= until` not returned before; `current` then holds the values at `until`.

        Power readings are merged in time order; one at the moment of other events reflects them.
        """
        out: list[Event] = []
        while True:
            event, tick = self._next, self._next_power
            if tick is not None and tick > until:
                tick = None
            if event is not None and event.at <= until and (tick is None or event.at <= tick):
                self.current[event.metric] = event.value
                out.append(event)
                self._next = next(self._events, None)
            elif tick is not None:
                if event is None and (not self._periods or tick > self._periods[-1][1]):
                    self._next_power = None  # no working time ahead: the machine reports nothing more
                    continue
                value = self._power_at(tick)
                self.current[POWER_KW] = value
                out.append(Event(tick, POWER_KW, value))
                self._next_power = tick + POWER_PERIOD
            else:
                return out

    def _power_at(self, moment: datetime) -> float:
        """The meter's reading at `moment`, from the values at `moment` (every event up to it is applied).

        The working period holding `moment`, if any, is known by then: the next event is later than `moment`,
        and the model registers a period before it yields anything of it.
        """
        power = self.spec.power
        assert power is not None
        current = self.current
        index = bisect_right(self._periods, (moment, moment)) - 1
        working = any(begin <= moment < end for begin, end in self._periods[max(index - 1, 0) : index + 2])
        if not working:
            level = power.standby
        elif current.get(ALARM) or current[EXECUTION] == STOPPED:
            level = power.stopped
        elif current[EXECUTION] == ACTIVE:
            load = current.get(self.spec.profile.numeric or "", 0.0)
            level = power.base + power.per_load * float(load if isinstance(load, int | float) else 0.0)
        elif current.get(CONTROLLER_MODE) == MANUAL:
            level = power.setup
        else:
            level = power.idle
        return round(level * self._power_rng.uniform(0.97, 1.03), 2)

    def _run(self) -> Iterator[Event]:
        moment, idle_windows = self.start, 0
        while idle_windows < IDLE_WINDOWS:
            periods = self.calendar.intervals(moment, moment + LOOKAHEAD)
            if not periods:
                moment += LOOKAHEAD
                idle_windows += 1
                continue
            idle_windows = 0
            for begin, end in periods:
                self._periods.append((max(begin, moment), end))
                yield from _Shift(self, max(begin, moment), end).run()
                moment = end

    def _uniform(self, bounds: Range) -> float:
        return self._rng.uniform(*bounds)

    def _seconds(self, bounds: Range) -> timedelta:
        return timedelta(seconds=round(self._rng.uniform(*bounds)))


@dataclass
class _Shift:
    """The activities of one working interval; `clock` moves forward, `events` collects what is reported."""

    machine: MachineModel
    clock: datetime
    end: datetime
    events: list[Event] = field(default_factory=list)

    def emit(self, metric: str, value: Value) -> None:
        """Report a value; a state-like metric is reported only when it changes, the number always."""
        reported = self.machine._reported
        if metric not in reported or (metric != self.machine.spec.profile.numeric and reported[metric] == value):
            return
        reported[metric] = value
        self.events.append(Event(self.clock, metric, value))

    def wait(self, duration: timedelta) -> None:
        if self.clock + duration >= self.end:
            raise ShiftEnded
        self.clock += duration

    def run(self) -> Iterator[Event]:
        machine, profile = self.machine, self.machine.spec.profile
        numeric = profile.numeric
        self.emit(EXECUTION, READY)
        self.emit(CONTROLLER_MODE, AUTOMATIC)
        try:
            while True:
                self.job()
                yield from self.flush()
        except ShiftEnded:
            yield from self.flush()
        self.clock = self.end
        # Shift over: whatever was running stops, alarms are reset, the machine waits for the next shift.
        self.emit(ALARM, "")
        self.emit(EXECUTION, READY)
        self.emit(CONTROLLER_MODE, AUTOMATIC)
        if numeric is not None and machine._reported[numeric] != 0.0:
            self.emit(numeric, 0.0)
        yield from self.flush()

    def flush(self) -> Iterator[Event]:
        events, self.events = self.events, []
        yield from events

    def job(self) -> None:
        machine, profile, rng = self.machine, self.machine.spec.profile, self.machine._rng
        machine._job += 1
        job = machine._job
        # Setup: the operator changes tools or the nest, in manual mode, no program active.
        self.emit(CONTROLLER_MODE, MANUAL)
        self.emit(PROGRAM, "")
        self.wait(machine._seconds(profile.setup))
        self.emit(CONTROLLER_MODE, AUTOMATIC)
        cycles = rng.randint(*profile.cycles_per_job)
        for cycle in range(1, cycles + 1):
            name = f"{profile.program_prefix}{job:04d}"
            self.emit(PROGRAM, f"{name}-{cycle:02d}" if machine.spec.kind is Kind.LASER else name)
            self.cycle()
            self.emit(EXECUTION, READY)
            self.wait(machine._seconds(profile.gap))

    def cycle(self) -> None:
        machine, profile, rng = self.machine, self.machine.spec.profile, self.machine._rng
        duration = machine._seconds(profile.cycle)
        interruption = rng.random() < profile.micro_stop
        roll = rng.random()
        fails = roll < profile.alarm + profile.breakdown
        breakdown = roll < profile.breakdown
        stop_at = timedelta(seconds=round(duration.total_seconds() * rng.uniform(0.2, 0.9)))
        if not (interruption or fails):
            stop_at = duration
        self.emit(EXECUTION, ACTIVE)
        self.run_for(stop_at)
        if fails:
            code = rng.choice(profile.alarm_codes)
            self.emit(ALARM, f"{code}-B" if breakdown else code)
            self.emit(EXECUTION, STOPPED)
            self.load(0.0)
            self.wait(machine._seconds((1800, 10800) if breakdown else (120, 600)))
            self.emit(ALARM, "")
            self.emit(EXECUTION, READY)
            return
        if interruption:
            self.emit(EXECUTION, INTERRUPTED)
            self.load(0.0)
            self.wait(machine._seconds((20, 120)))
            self.emit(EXECUTION, ACTIVE)
            self.run_for(duration - stop_at)
        machine._parts += rng.randint(*profile.parts_per_cycle)
        self.emit(PART_COUNT, machine._parts)
        self.load(0.0)

    def run_for(self, duration: timedelta) -> None:
        """Cutting/bending/welding: the number reported now and every SAMPLE_PERIOD, rounded to 0.1."""
        profile, end = self.machine.spec.profile, self.clock + duration
        while self.clock < end:
            self.load(round(self.machine._uniform(profile.load), 1))
            self.wait(min(SAMPLE_PERIOD, end - self.clock))

    def load(self, value: float) -> None:
        numeric = self.machine.spec.profile.numeric
        if numeric is not None:
            self.emit(numeric, value)
