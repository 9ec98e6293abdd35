"""Services of machines: shift checks, the plant default switch, work centers out of service."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.machines.models import Shift, ShiftCalendar, WorkCenter
from apps.machines.services import (
    BreakTimes,
    activate_work_center,
    deactivate_work_center,
    save_shift,
    set_plant_default_calendar,
    validate_exception_period,
    validate_shift,
)

from .shop import MON, day_shift_calendar, laser, utc

pytestmark = pytest.mark.django_db


def test_validate_shift_accepts_a_night_shift_with_a_break_after_midnight() -> None:
    shift = validate_shift(weekday=MON, start=time(22), end=time(6), breaks=[BreakTimes(time(2), time(2, 30))])

    assert (shift.weekday, shift.start, shift.end, len(shift.breaks)) == (MON, time(22), time(6), 1)


def test_validate_shift_names_the_break_that_does_not_fit() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_shift(
            weekday=MON,
            start=time(6),
            end=time(14),
            breaks=[BreakTimes(time(10), time(10, 30)), BreakTimes(time(13, 45), time(14, 15))],
        )

    assert raised.value.messages == ["The break 13:45–14:15 lies outside the shift 06:00–14:00."]
    assert raised.value.code == "break_outside_shift"


def test_validate_shift_refuses_an_empty_break() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_shift(weekday=MON, start=time(6), end=time(14), breaks=[BreakTimes(time(10), time(10))])

    assert raised.value.messages == ["The break 10:00–10:00 starts and ends at the same time."]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({}, "Give either the first and last day, or the start and end time, not both."),
        (
            {"start_date": date(2026, 1, 1), "end_date": date(2026, 1, 1), "starts_at": utc(2026, 1, 1)},
            "Give either the first and last day, or the start and end time, not both.",
        ),
        ({"start_date": date(2026, 1, 2)}, "Give both the first and the last day."),
        ({"start_date": date(2026, 1, 2), "end_date": date(2026, 1, 1)}, "The last day is before the first day."),
        ({"ends_at": utc(2026, 1, 2)}, "Give both the start and the end time."),
        ({"starts_at": utc(2026, 1, 2), "ends_at": utc(2026, 1, 2)}, "The end must be after the start."),
    ],
)
def test_validate_exception_period_refuses(period: dict[str, Any], message: str) -> None:
    full = {"start_date": None, "end_date": None, "starts_at": None, "ends_at": None, **period}

    with pytest.raises(ValidationError) as raised:
        validate_exception_period(**full)

    assert raised.value.messages == [message]


def test_save_shift_creates_and_replaces_breaks(personas: dict[str, Any]) -> None:
    calendar = ShiftCalendar.objects.create(name="Nights")
    manager = personas["production_manager"]

    shift = save_shift(
        actor=manager,
        calendar_id=calendar.pk,
        name="3rd shift",
        weekday=MON,
        start=time(22),
        end=time(6),
        breaks=[BreakTimes(time(2), time(2, 30))],
    )
    save_shift(
        actor=manager,
        calendar_id=calendar.pk,
        name="3rd shift",
        weekday=MON,
        start=time(22),
        end=time(6, 30),
        breaks=[BreakTimes(time(1), time(1, 15)), BreakTimes(time(4), time(4, 15))],
        shift_id=shift.pk,
    )

    shift.refresh_from_db()
    assert (shift.start, shift.end) == (time(22), time(6, 30))
    assert [(b.start, b.end) for b in shift.breaks.order_by("start")] == [
        (time(1), time(1, 15)),
        (time(4), time(4, 15)),
    ]


def test_save_shift_refused_without_permission_changes_nothing(personas: dict[str, Any]) -> None:
    calendar = ShiftCalendar.objects.create(name="Nights")

    with pytest.raises(PermissionDenied):
        save_shift(
            actor=personas["supervisor"],
            calendar_id=calendar.pk,
            name="x",
            weekday=MON,
            start=time(22),
            end=time(6),
            breaks=[],
        )

    assert Shift.objects.count() == 0


def test_save_shift_refuses_a_second_shift_starting_at_the_same_time() -> None:
    calendar = day_shift_calendar()

    with pytest.raises(ValidationError) as raised:
        save_shift(actor=None, calendar_id=calendar.pk, name="dup", weekday=MON, start=time(6), end=time(10), breaks=[])

    assert raised.value.message_dict == {"start": ["This calendar already has a shift starting at 06:00 that day."]}
    assert Shift.objects.filter(calendar=calendar, weekday=MON).count() == 1


def test_set_plant_default_switches_in_one_step(personas: dict[str, Any]) -> None:
    old = day_shift_calendar("Old", plant_default=True)
    new = day_shift_calendar("New")

    result = set_plant_default_calendar(actor=personas["production_manager"], calendar_id=new.pk)

    assert result == new
    assert list(ShiftCalendar.objects.filter(is_plant_default=True)) == [new]
    assert old.history.latest().history_change_reason == "No longer the plant default"
    latest = new.history.latest()
    assert (latest.history_change_reason, latest.history_user) == (
        "Made the plant default",
        personas["production_manager"],
    )


def test_set_plant_default_when_none_exists_and_again_is_a_no_op() -> None:
    only = day_shift_calendar("Only")

    set_plant_default_calendar(actor=None, calendar_id=only.pk)
    set_plant_default_calendar(actor=None, calendar_id=only.pk)

    assert list(ShiftCalendar.objects.filter(is_plant_default=True)) == [only]
    assert only.history.count() == 2  # created, made default; the repeat wrote nothing


def test_set_plant_default_refused_changes_nothing(personas: dict[str, Any]) -> None:
    old = day_shift_calendar("Old", plant_default=True)
    new = day_shift_calendar("New")

    with pytest.raises(PermissionDenied):
        set_plant_default_calendar(actor=personas["supervisor"], calendar_id=new.pk)

    assert list(ShiftCalendar.objects.filter(is_plant_default=True)) == [old]


def test_set_plant_default_of_a_missing_calendar() -> None:
    with pytest.raises(ShiftCalendar.DoesNotExist):
        set_plant_default_calendar(actor=None, calendar_id=999999)


def test_deactivate_and_activate_work_center(personas: dict[str, Any]) -> None:
    wc = laser("laser-1")
    manager = personas["production_manager"]

    deactivate_work_center(actor=manager, work_center_id=wc.pk)
    deactivate_work_center(actor=manager, work_center_id=wc.pk)
    wc.refresh_from_db()
    assert wc.is_active is False
    assert [h.history_change_reason for h in wc.history.order_by("history_id")] == [None, "Taken out of service"]

    activate_work_center(actor=manager, work_center_id=wc.pk)
    assert WorkCenter.objects.get(pk=wc.pk).is_active is True


def test_deactivate_refused_changes_nothing(personas: dict[str, Any]) -> None:
    wc = laser("laser-1")

    with pytest.raises(PermissionDenied):
        deactivate_work_center(actor=personas["maintenance"], work_center_id=wc.pk)

    assert WorkCenter.objects.get(pk=wc.pk).is_active is True
    assert wc.history.count() == 1
