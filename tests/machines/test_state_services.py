"""apply_readings and friends: exact intervals, alarms, live rows and log records in the database.

The plant default is a day shift, Monday to Friday 06:00–14:30 Chicago time with lunch 10:00–10:30:
on Monday 2026-11-23 that is 12:00–16:00 and 16:30–20:30 UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test.utils import override_settings

from apps.core.models import OperatorLogRecord
from apps.machines.machine_state import Reading
from apps.machines.models import Alarm, DowntimeReason, LiveState, MachineStateInterval, WorkCenter
from apps.machines.services import (
    acknowledge_alarm,
    apply_readings,
    assign_downtime_reason,
    create_display_token,
    display_for_token,
    refresh_machine_states,
    revoke_display_tokens,
)

from .shop import day_shift_calendar, laser, utc

pytestmark = pytest.mark.django_db


def mon(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return utc(2026, 11, 23, hour, minute).replace(second=second)


def r(code: str, when: datetime, metric: str, value: Any) -> Reading:
    return Reading(code, when, metric, value)


def intervals(wc: WorkCenter) -> list[tuple[str, datetime, datetime | None]]:
    rows = MachineStateInterval.objects.filter(work_center=wc).order_by("started_at")
    return [(i.state, i.started_at, i.ended_at) for i in rows]


@pytest.fixture
def wc(db: Any) -> WorkCenter:
    day_shift_calendar(plant_default=True)
    return laser("WC-1")


def test_a_batch_writes_every_transition_and_the_alarm(
    wc: WorkCenter, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        apply_readings(
            [
                r("WC-1", mon(12, 1), "execution", "ACTIVE"),
                r("WC-1", mon(12, 0), "availability", "AVAILABLE"),
                r("WC-1", mon(12, 2), "condition:system", "FAULT:1105"),
                r("WC-1", mon(12, 3), "condition:system", "NORMAL"),
                r("WC-1", mon(12, 4), "execution", "READY"),
                r("WC-1", mon(12, 4), "program", "O1234"),
                r("WC-1", mon(12, 4), "part_count", 41),
                r("NOT-A-MACHINE", mon(12, 4), "execution", "ACTIVE"),
            ]
        )
    assert intervals(wc) == [
        ("idle", mon(12, 0), mon(12, 1)),
        ("running", mon(12, 1), mon(12, 2)),
        ("alarm", mon(12, 2), mon(12, 3)),
        ("running", mon(12, 3), mon(12, 4)),
        ("idle", mon(12, 4), None),
    ]
    assert list(Alarm.objects.values_list("source", "code", "level", "raised_at", "cleared_at")) == [
        ("system", "1105", "fault", mon(12, 2), mon(12, 3))
    ]
    live = LiveState.objects.get(work_center=wc)
    assert (live.state, live.since, live.last_seen, live.program, live.part_count, live.version) == (
        "idle",
        mon(12, 4),
        mon(12, 4),
        "O1234",
        41,
        1,
    )
    assert list(OperatorLogRecord.objects.values_list("level", "source", "message")) == [
        ("ERROR", "operator.machines", "Fault 1105 on WC-1 (system)")
    ]


def test_batches_continue_the_open_interval_and_silence_is_offline(wc: WorkCenter) -> None:
    apply_readings([r("WC-1", mon(12, 0), "execution", "ACTIVE")])
    apply_readings([r("WC-1", mon(12, 1), "spindle_speed", 1200.0)])
    assert intervals(wc) == [("running", mon(12, 0), None)]
    # 12:01 + 120 s of silence: offline from 12:03 until the next reading at 12:10.
    apply_readings([r("WC-1", mon(12, 10), "execution", "ACTIVE")])
    assert intervals(wc) == [
        ("running", mon(12, 0), mon(12, 3)),
        ("offline", mon(12, 3), mon(12, 10)),
        ("running", mon(12, 10), None),
    ]
    assert LiveState.objects.get(work_center=wc).version == 3


@override_settings(MACHINE_OFFLINE_AFTER_SECONDS=30)
def test_silence_follows_the_setting(wc: WorkCenter) -> None:
    apply_readings([r("WC-1", mon(12, 0), "execution", "ACTIVE"), r("WC-1", mon(12, 1), "execution", "ACTIVE")])
    assert intervals(wc) == [
        ("running", mon(12, 0), mon(12, 0, 30)),
        ("offline", mon(12, 0, 30), mon(12, 1)),
        ("running", mon(12, 1), None),
    ]


def test_lunch_and_the_end_of_shift_are_planned_downtime(wc: WorkCenter) -> None:
    apply_readings(
        [
            r("WC-1", mon(15, 59), "execution", "READY"),
            r("WC-1", mon(16, 0), "execution", "READY"),
            r("WC-1", mon(16, 1), "execution", "ACTIVE"),
            r("WC-1", mon(16, 2), "execution", "READY"),
            r("WC-1", mon(16, 3), "execution", "STOPPED"),
            r("WC-1", mon(16, 30), "execution", "STOPPED"),
        ]
    )
    assert intervals(wc) == [
        ("idle", mon(15, 59), mon(16, 0)),
        ("planned_down", mon(16, 0), mon(16, 1)),
        ("running", mon(16, 1), mon(16, 2)),
        ("planned_down", mon(16, 2), mon(16, 5)),
        ("offline", mon(16, 5), mon(16, 30)),
        ("unplanned_down", mon(16, 30), None),
    ]


def test_late_readings_do_not_rewrite_history(wc: WorkCenter) -> None:
    apply_readings([r("WC-1", mon(12, 5), "execution", "ACTIVE")])
    apply_readings([r("WC-1", mon(12, 4), "execution", "STOPPED")])
    assert intervals(wc) == [("running", mon(12, 5), None)]
    assert LiveState.objects.get(work_center=wc).version == 1


def test_an_alarm_raised_cleared_and_raised_again_in_one_batch(wc: WorkCenter) -> None:
    apply_readings(
        [
            r("WC-1", mon(12, 0), "alarm", "E17"),
            r("WC-1", mon(12, 1), "alarm", None),
            r("WC-1", mon(12, 2), "alarm", "E17"),
        ]
    )
    apply_readings([r("WC-1", mon(12, 3), "alarm", 0)])
    assert list(Alarm.objects.order_by("raised_at").values_list("code", "raised_at", "cleared_at")) == [
        ("E17", mon(12, 0), mon(12, 1)),
        ("E17", mon(12, 2), mon(12, 3)),
    ]
    assert intervals(wc) == [
        ("alarm", mon(12, 0), mon(12, 1)),
        ("idle", mon(12, 1), mon(12, 2)),
        ("alarm", mon(12, 2), mon(12, 3)),
        ("idle", mon(12, 3), None),
    ]


def test_warnings_are_alarms_and_logged_but_do_not_stop_the_machine(
    wc: WorkCenter, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        apply_readings(
            [r("WC-1", mon(12, 0), "execution", "ACTIVE"), r("WC-1", mon(12, 0), "condition:temp", "WARNING:2045")]
        )
    assert intervals(wc) == [("running", mon(12, 0), None)]
    assert list(Alarm.objects.values_list("code", "level", "cleared_at")) == [("2045", "warning", None)]
    assert list(OperatorLogRecord.objects.values_list("level", "message")) == [
        ("WARNING", "Warning 2045 on WC-1 (temp)")
    ]


def test_refresh_marks_silent_machines_offline_from_the_silence(wc: WorkCenter) -> None:
    apply_readings([r("WC-1", mon(12, 0), "execution", "ACTIVE")])
    assert refresh_machine_states(now=mon(12, 1)) == 0
    assert refresh_machine_states(now=mon(12, 20)) == 1
    assert intervals(wc) == [("running", mon(12, 0), mon(12, 2)), ("offline", mon(12, 2), None)]
    assert refresh_machine_states(now=mon(12, 21)) == 0


def test_refresh_moves_into_planned_downtime_at_the_end_of_the_shift(wc: WorkCenter) -> None:
    apply_readings([r("WC-1", mon(15, 59), "execution", "READY")])
    with override_settings(MACHINE_OFFLINE_AFTER_SECONDS=3600):
        assert refresh_machine_states(now=mon(16, 0, 10)) == 1
    assert intervals(wc) == [("idle", mon(15, 59), mon(16, 0, 10)), ("planned_down", mon(16, 0, 10), None)]


def test_assign_downtime_reason(wc: WorkCenter, make_user: Callable[..., Any]) -> None:
    from django.contrib.auth.models import Permission

    apply_readings([r("WC-1", mon(12, 0), "execution", "STOPPED"), r("WC-1", mon(12, 1), "execution", "ACTIVE")])
    down, running = MachineStateInterval.objects.filter(work_center=wc).order_by("started_at")
    crane = DowntimeReason.objects.get(code="waiting-crane")
    nobody = make_user("nobody")
    with pytest.raises(PermissionDenied):
        assign_downtime_reason(interval=down, reason=crane, user=nobody)
    down.refresh_from_db()
    assert down.reason_id is None

    lead = make_user("lead")
    lead.user_permissions.add(Permission.objects.get(codename="assign_downtime_reason"))
    lead = type(lead).objects.get(pk=lead.pk)
    assigned = assign_downtime_reason(interval=down, reason=crane, user=lead)
    assert (assigned.reason_id, assigned.reason_set_by_id) == (crane.pk, lead.pk)
    assert str(crane) == "Waiting › Waiting for crane"
    with pytest.raises(ValidationError):
        assign_downtime_reason(interval=running, reason=crane, user=lead)


def test_acknowledge_alarm_keeps_the_first(wc: WorkCenter, make_user: Callable[..., Any]) -> None:
    from django.contrib.auth.models import Permission

    apply_readings([r("WC-1", mon(12, 0), "alarm", "E1")])
    alarm = Alarm.objects.get()
    first, second = make_user("first"), make_user("second")
    with pytest.raises(PermissionDenied):
        acknowledge_alarm(alarm=alarm, user=first)
    perm = Permission.objects.get(codename="acknowledge_alarm")
    first.user_permissions.add(perm)
    second.user_permissions.add(perm)
    first, second = (type(first).objects.get(pk=u.pk) for u in (first, second))
    assert acknowledge_alarm(alarm=alarm, user=first).acknowledged_by_id == first.pk
    assert acknowledge_alarm(alarm=alarm, user=second).acknowledged_by_id == first.pk


def test_display_tokens(wc: WorkCenter) -> None:
    token, secret = create_display_token(department=wc.department, name="Laser TV", user=None)
    assert token.token_hash != secret and len(token.token_hash) == 64
    found = display_for_token(secret)
    assert found is not None and found.pk == token.pk and found.department_id == wc.department_id
    assert display_for_token("wrong") is None
    assert revoke_display_tokens(token_ids=[token.pk], user=None) == 1
    assert display_for_token(secret) is None


def test_seeded_reason_tree() -> None:
    roots = list(DowntimeReason.objects.filter(parent=None).values_list("code", "is_planned"))
    assert roots == [
        ("breakdown", False),
        ("waiting", False),
        ("program-issue", False),
        ("quality-hold", False),
        ("no-operator", False),
        ("changeover", False),
        ("planned", True),
        ("no-work", True),
    ]
    assert list(DowntimeReason.objects.filter(parent__code="waiting").values_list("code", flat=True)) == [
        "waiting-material",
        "waiting-crane",
        "waiting-forklift",
        "waiting-inspection",
    ]


def test_shift_window_and_timeline(wc: WorkCenter) -> None:
    from datetime import timedelta

    from apps.machines.selectors import TimelineSegment, shift_window, state_timeline

    assert shift_window(wc, mon(13, 0)) == (mon(12, 0), mon(20, 30))
    assert shift_window(wc, mon(22, 0)) == (mon(14, 0), mon(22, 0))

    apply_readings(
        [
            r("WC-1", mon(11, 59), "execution", "ACTIVE"),
            r("WC-1", mon(12, 0), "execution", "ACTIVE"),
            r("WC-1", mon(12, 1), "execution", "STOPPED"),
        ]
    )
    down = MachineStateInterval.objects.get(state="unplanned_down")
    down.reason = DowntimeReason.objects.get(code="no-operator")
    down.save()
    start, end = mon(12, 0), mon(12, 0) + timedelta(minutes=100)
    assert state_timeline(wc, start, end, now=mon(12, 11)) == [
        TimelineSegment("running", "running", mon(12, 0), mon(12, 1), 0, 10, ""),
        TimelineSegment("unplanned_down", "unplanned downtime", mon(12, 1), mon(12, 11), 10, 100, "No operator"),
    ]
