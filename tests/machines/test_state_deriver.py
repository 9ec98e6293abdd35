"""The pure state machine: every rule, every precedence between two rules, every alarm fold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.machines.machine_state import (
    ActiveAlarm,
    AlarmLevel,
    MachineState,
    Reading,
    Signals,
    derive_state,
    fold,
    fold_all,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
S = MachineState


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def signals(*pairs: tuple[str, object]) -> Signals:
    return fold_all(Signals(), [Reading("WC-1", T0, metric, value) for metric, value in pairs])  # type: ignore[arg-type]


def state(*pairs: tuple[str, object], working: bool = True, now: datetime = T0) -> MachineState:
    return derive_state(signals(*pairs), now=now, working_time=working)


def test_no_reading_ever_is_offline() -> None:
    assert derive_state(Signals(), now=T0, working_time=True) == S.OFFLINE


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ((("availability", "AVAILABLE"),), S.IDLE),
        ((("availability", "UNAVAILABLE"),), S.OFFLINE),
        ((("availability", None),), S.OFFLINE),
        ((("availability", "AVAILABLE"), ("execution", "ACTIVE")), S.RUNNING),
        ((("execution", "ACTIVE"),), S.RUNNING),
        ((("execution", "READY"),), S.IDLE),
        ((("execution", "FEED_HOLD"),), S.IDLE),
        ((("execution", "INTERRUPTED"),), S.IDLE),
        ((("execution", "PROGRAM_COMPLETED"),), S.IDLE),
        ((("execution", "STOPPED"),), S.UNPLANNED_DOWN),
        ((("execution", "READY"), ("controller_mode", "MANUAL")), S.SETUP),
        ((("execution", "READY"), ("controller_mode", "MANUAL_DATA_INPUT")), S.SETUP),
        ((("execution", "READY"), ("controller_mode", "EDIT")), S.IDLE),
        ((("execution", "STOPPED"), ("controller_mode", "MANUAL")), S.SETUP),
        ((("execution", "ACTIVE"), ("controller_mode", "MANUAL")), S.RUNNING),
        ((("spindle_speed", 1200.0),), S.IDLE),
        ((("state", "running"),), S.RUNNING),
        ((("state", "idle"),), S.IDLE),
        ((("state", "setup"),), S.SETUP),
        ((("state", "down"),), S.UNPLANNED_DOWN),
        ((("state", "RUNNING"),), S.RUNNING),
        ((("state", "something-else"), ("execution", "ACTIVE")), S.RUNNING),
        ((("execution", "ACTIVE"), ("state", "idle")), S.IDLE),
        ((("execution", "READY"), ("state", "running")), S.RUNNING),
        ((("condition:system", "FAULT:1105"),), S.ALARM),
        ((("execution", "ACTIVE"), ("condition:system", "FAULT:1105")), S.ALARM),
        ((("execution", "ACTIVE"), ("condition:system", "WARNING:2045")), S.RUNNING),
        ((("availability", "UNAVAILABLE"), ("condition:system", "FAULT:1105")), S.OFFLINE),
        ((("alarm", "E17"),), S.ALARM),
        ((("alarm", 17),), S.ALARM),
        ((("alarm", "E17"), ("alarm", "")), S.IDLE),
        ((("alarm", "E17"), ("alarm", 0)), S.IDLE),
        ((("alarm", "E17"), ("alarm", None)), S.IDLE),
        ((("state", "running"), ("alarm", "E17")), S.ALARM),
    ],
)
def test_rules_in_working_time(pairs: tuple[tuple[str, object], ...], expected: MachineState) -> None:
    assert state(*pairs) == expected


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ((("execution", "READY"),), S.PLANNED_DOWN),
        ((("execution", "STOPPED"),), S.PLANNED_DOWN),
        ((("controller_mode", "MANUAL"),), S.PLANNED_DOWN),
        ((("state", "down"),), S.PLANNED_DOWN),
        ((("state", "setup"),), S.PLANNED_DOWN),
        ((("execution", "ACTIVE"),), S.RUNNING),
        ((("state", "running"),), S.RUNNING),
        ((("condition:system", "FAULT:1"),), S.ALARM),
        ((("availability", "UNAVAILABLE"),), S.OFFLINE),
    ],
)
def test_rules_outside_working_time(pairs: tuple[tuple[str, object], ...], expected: MachineState) -> None:
    assert state(*pairs, working=False) == expected


def test_silence_makes_a_machine_offline_exactly_at_the_limit() -> None:
    running = signals(("execution", "ACTIVE"))
    assert derive_state(running, now=at(119), working_time=True) == S.RUNNING
    assert derive_state(running, now=at(120), working_time=True) == S.OFFLINE
    assert derive_state(running, now=at(59), working_time=True, silence=timedelta(seconds=60)) == S.RUNNING
    assert derive_state(running, now=at(60), working_time=True, silence=timedelta(seconds=60)) == S.OFFLINE


def test_conditions_fold_per_code_and_per_item() -> None:
    s = signals(("condition:system", "WARNING:2045"), ("condition:system", "FAULT:1105"), ("condition:servo", "FAULT"))
    assert s.alarms == {
        ActiveAlarm("system", "2045", AlarmLevel.WARNING),
        ActiveAlarm("system", "1105", AlarmLevel.FAULT),
        ActiveAlarm("servo", "servo", AlarmLevel.FAULT),
    }
    cleared_one = fold(s, Reading("WC-1", at(1), "condition:system", "NORMAL:1105"))
    assert cleared_one.alarms == {
        ActiveAlarm("system", "2045", AlarmLevel.WARNING),
        ActiveAlarm("servo", "servo", AlarmLevel.FAULT),
    }
    cleared_item = fold(cleared_one, Reading("WC-1", at(2), "condition:system", "NORMAL"))
    assert cleared_item.alarms == {ActiveAlarm("servo", "servo", AlarmLevel.FAULT)}
    unavailable = fold(cleared_item, Reading("WC-1", at(3), "condition:servo", None))
    assert unavailable.alarms == frozenset()
    escalated = fold(s, Reading("WC-1", at(4), "condition:system", "FAULT:2045"))
    assert ActiveAlarm("system", "2045", AlarmLevel.FAULT) in escalated.alarms
    assert ActiveAlarm("system", "2045", AlarmLevel.WARNING) not in escalated.alarms


def test_alarm_metric_replaces_its_code() -> None:
    s = signals(("alarm", "E17"), ("alarm", 18.0))
    assert s.alarms == {ActiveAlarm("alarm", "18", AlarmLevel.FAULT)}


def test_program_part_count_and_other_signals_are_kept() -> None:
    s = signals(("program", "O1234"), ("part_count", 41), ("spindle_speed", 1200.5), ("part_count", "42"))
    assert (s.program, s.part_count, s.extra) == ("O1234", 42, (("spindle_speed", 1200.5),))


def test_last_seen_never_goes_back() -> None:
    s = fold(Signals(), Reading("WC-1", at(10), "execution", "ACTIVE"))
    late = fold(s, Reading("WC-1", at(5), "spindle_speed", 100.0))
    assert late.last_seen == at(10)


def test_signals_survive_json() -> None:
    s = signals(
        ("availability", "AVAILABLE"),
        ("execution", "ACTIVE"),
        ("controller_mode", "AUTOMATIC"),
        ("state", "setup"),
        ("program", "O1"),
        ("part_count", 3),
        ("condition:system", "WARNING:1"),
        ("spindle_speed", 10.0),
    )
    assert Signals.from_json(s.to_json()) == s
    assert Signals.from_json({}) == Signals()


def test_a_full_day_of_transitions() -> None:
    """A sequence as a machine sends it; the state after each reading."""
    steps = [
        ("availability", "AVAILABLE", True, S.IDLE),
        ("controller_mode", "MANUAL", True, S.SETUP),
        ("controller_mode", "AUTOMATIC", True, S.IDLE),
        ("execution", "ACTIVE", True, S.RUNNING),
        ("condition:system", "FAULT:1105", True, S.ALARM),
        ("condition:system", "NORMAL", True, S.RUNNING),
        ("execution", "STOPPED", True, S.UNPLANNED_DOWN),
        ("execution", "READY", True, S.IDLE),
        ("execution", "READY", False, S.PLANNED_DOWN),
        ("availability", "UNAVAILABLE", False, S.OFFLINE),
    ]
    s = Signals()
    for n, (metric, value, working, expected) in enumerate(steps):
        s = fold(s, Reading("WC-1", at(n), metric, value))
        assert derive_state(s, now=at(n), working_time=working) == expected, (n, metric, value)
