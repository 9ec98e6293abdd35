"""Machine state from telemetry: a pure state machine per work center (no ORM, no clock).

Sources differ in what they say: an MTConnect agent reports availability, execution, controller
mode and conditions; a Sparkplug or JSON publisher may send a direct `state` (running / idle /
setup / down) and an `alarm` code. `fold` keeps the latest of each signal in `Signals`, and
`derive_state` turns them into one `MachineState` with these rules, the first that holds wins:

1. offline        no reading ever, or none for `silence` (default 120 s), or `availability` is
                  known and not AVAILABLE (None is the sources' "unavailable")
2. alarm          an active fault: a `condition:*` FAULT, or a non-empty `alarm` code
3. running        direct state `running`, else (no direct state) execution ACTIVE
4. planned_down   the calendar says non-working time (and the machine is not running)
5. setup          direct state `setup`, else controller mode MANUAL or MANUAL_DATA_INPUT
6. unplanned_down direct state `down`, else execution STOPPED (MTConnect: "stopped in an
                  unplanned manner and must be restarted")
7. idle           everything else (READY, FEED_HOLD, INTERRUPTED, PROGRAM_COMPLETED, nothing yet)

A direct `state`, when a machine sends one, is the controller's own verdict and replaces the
execution and controller-mode rules; offline and alarm still come first. Warnings never change
the state: they are alarms to see, not stops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

Value = float | int | str | bool | None

DEFAULT_SILENCE = timedelta(seconds=120)
# Live signals kept per machine besides the ones the rules read: enough for a detail page, and a
# bound on what one misbehaving publisher can make a row grow to.
MAX_EXTRA_SIGNALS = 40

CONDITION_PREFIX = "condition:"
ALARM_METRIC = "alarm"
DIRECT_STATE_METRIC = "state"
RULE_METRICS = frozenset({"availability", "execution", "controller_mode", "program", "part_count", DIRECT_STATE_METRIC})


class MachineState(StrEnum):
    RUNNING = "running"
    IDLE = "idle"
    SETUP = "setup"
    PLANNED_DOWN = "planned_down"
    UNPLANNED_DOWN = "unplanned_down"
    ALARM = "alarm"
    OFFLINE = "offline"


class AlarmLevel(StrEnum):
    FAULT = "fault"
    WARNING = "warning"


# What a direct `state` metric may say, in the words publishers use.
DIRECT_STATES: Mapping[str, MachineState] = {
    "running": MachineState.RUNNING,
    "run": MachineState.RUNNING,
    "idle": MachineState.IDLE,
    "setup": MachineState.SETUP,
    "down": MachineState.UNPLANNED_DOWN,
    "stopped": MachineState.UNPLANNED_DOWN,
}
SETUP_MODES = frozenset({"MANUAL", "MANUAL_DATA_INPUT"})


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one metric of one machine (`machine` is the work center code; UTC timestamp)."""

    machine: str
    timestamp: datetime
    metric: str
    value: Value


@dataclass(frozen=True, slots=True, order=True)
class ActiveAlarm:
    """An alarm the machine reports as active: `source` is the condition name or "alarm"."""

    source: str
    code: str
    level: AlarmLevel


@dataclass(frozen=True)
class Signals:
    """The latest value of every signal the rules read, the active alarms, and other live values."""

    availability: str | None = None
    has_availability: bool = False
    execution: str | None = None
    controller_mode: str | None = None
    direct_state: MachineState | None = None
    program: str = ""
    part_count: int | None = None
    alarms: frozenset[ActiveAlarm] = frozenset()
    last_seen: datetime | None = None
    extra: tuple[tuple[str, Value], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form, stored with the live state so the rules can run again later."""
        return {
            "availability": self.availability,
            "has_availability": self.has_availability,
            "execution": self.execution,
            "controller_mode": self.controller_mode,
            "direct_state": self.direct_state.value if self.direct_state else None,
            "program": self.program,
            "part_count": self.part_count,
            "alarms": [[a.source, a.code, a.level.value] for a in sorted(self.alarms)],
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "extra": [[name, value] for name, value in self.extra],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Signals:
        if not data:
            return cls()
        direct = data.get("direct_state")
        last_seen = data.get("last_seen")
        return cls(
            availability=data.get("availability"),
            has_availability=bool(data.get("has_availability")),
            execution=data.get("execution"),
            controller_mode=data.get("controller_mode"),
            direct_state=MachineState(direct) if direct else None,
            program=str(data.get("program") or ""),
            part_count=data.get("part_count"),
            alarms=frozenset(ActiveAlarm(s, c, AlarmLevel(lv)) for s, c, lv in data.get("alarms", ())),
            last_seen=datetime.fromisoformat(last_seen) if last_seen else None,
            extra=tuple((str(name), value) for name, value in data.get("extra", ())),
        )


def fold(signals: Signals, reading: Reading) -> Signals:
    """`signals` after `reading`. Readings are applied in the order given (the service sorts each
    batch by time); `last_seen` never goes back, so a late sample cannot make a machine look silent."""
    last_seen = reading.timestamp if signals.last_seen is None else max(signals.last_seen, reading.timestamp)
    value, metric = reading.value, reading.metric
    updated = replace(signals, last_seen=last_seen)
    if metric == "availability":
        return replace(updated, availability=_text(value), has_availability=True)
    if metric == "execution":
        return replace(updated, execution=_text(value))
    if metric == "controller_mode":
        return replace(updated, controller_mode=_text(value))
    if metric == "program":
        return replace(updated, program=_text(value) or "")
    if metric == "part_count":
        return replace(updated, part_count=_integer(value))
    if metric == DIRECT_STATE_METRIC:
        text = _text(value)
        return replace(updated, direct_state=DIRECT_STATES.get(text.lower()) if text else None)
    if metric == ALARM_METRIC:
        return replace(updated, alarms=_fold_alarm_code(signals.alarms, value))
    if metric.startswith(CONDITION_PREFIX):
        return replace(updated, alarms=_fold_condition(signals.alarms, metric[len(CONDITION_PREFIX) :], value))
    return replace(updated, extra=_fold_extra(signals.extra, metric, value))


def fold_all(signals: Signals, readings: Iterable[Reading]) -> Signals:
    for reading in readings:
        signals = fold(signals, reading)
    return signals


def derive_state(
    signals: Signals, *, now: datetime, working_time: bool, silence: timedelta = DEFAULT_SILENCE
) -> MachineState:
    """The state at `now` by the rules in the module docstring (`working_time`: the calendar's
    answer for `now`)."""
    if signals.last_seen is None or now - signals.last_seen >= silence:
        return MachineState.OFFLINE
    if signals.has_availability and signals.availability != "AVAILABLE":
        return MachineState.OFFLINE
    if any(alarm.level is AlarmLevel.FAULT for alarm in signals.alarms):
        return MachineState.ALARM
    direct = signals.direct_state
    if direct is MachineState.RUNNING or (direct is None and signals.execution == "ACTIVE"):
        return MachineState.RUNNING
    if not working_time:
        return MachineState.PLANNED_DOWN
    if direct is not None:
        return direct
    if signals.controller_mode in SETUP_MODES:
        return MachineState.SETUP
    if signals.execution == "STOPPED":
        return MachineState.UNPLANNED_DOWN
    return MachineState.IDLE


def _fold_alarm_code(alarms: frozenset[ActiveAlarm], value: Value) -> frozenset[ActiveAlarm]:
    """The `alarm` metric carries the active code; empty, zero, false or None clears it."""
    kept = frozenset(a for a in alarms if a.source != ALARM_METRIC)
    if value is None or value is False or value == 0 or (isinstance(value, str) and value.strip() in ("", "0")):
        return kept
    code = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    return kept | {ActiveAlarm(ALARM_METRIC, code, AlarmLevel.FAULT)}


def _fold_condition(alarms: frozenset[ActiveAlarm], name: str, value: Value) -> frozenset[ActiveAlarm]:
    """MTConnect conditions: FAULT:<code> / WARNING:<code> raise that code (the condition's name
    when there is none), NORMAL:<code> clears it, NORMAL or None (unavailable) clears the item."""
    others = frozenset(a for a in alarms if a.source != name)
    text = _text(value)
    if text is None:
        return others
    level_text, _, code = text.partition(":")
    level_text = level_text.strip().upper()
    if level_text == "NORMAL":
        return others if not code else alarms - {a for a in alarms if a.source == name and a.code == code}
    if level_text not in ("FAULT", "WARNING"):
        return alarms
    level = AlarmLevel.FAULT if level_text == "FAULT" else AlarmLevel.WARNING
    code = code or name
    same_code = {a for a in alarms if a.source == name and a.code == code}
    return (alarms - same_code) | {ActiveAlarm(name, code, level)}


def _fold_extra(extra: tuple[tuple[str, Value], ...], metric: str, value: Value) -> tuple[tuple[str, Value], ...]:
    current = dict(extra)
    if metric not in current and len(current) >= MAX_EXTRA_SIGNALS:
        return extra
    current[metric] = value
    return tuple(sorted(current.items()))


def _text(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _integer(value: Value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
