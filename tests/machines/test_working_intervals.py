"""working_intervals through the ORM: calendars, exceptions and DST in America/Chicago, exact UTC."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from apps.machines.calendar import working_minutes
from apps.machines.choices import ExceptionKind
from apps.machines.models import CalendarException, WorkCenter
from apps.machines.selectors import (
    NoShiftCalendar,
    SegmentKind,
    working_intervals,
    working_intervals_for,
    working_minutes_by_day,
)

from .shop import WEEKDAYS, day_shift_calendar, laser, night_shift_calendar, shift_calendar, utc, work_center

pytestmark = pytest.mark.django_db

# 2026-01-05 is a Monday. Chicago is UTC-6 in winter (CST) and UTC-5 in summer (CDT); clocks go
# forward on Sunday 2026-03-08 at 02:00 and back on Sunday 2026-11-01 at 02:00.


@pytest.fixture(autouse=True)
def chicago(settings: Any) -> None:
    settings.PLANT_TIME_ZONE = "America/Chicago"


@pytest.fixture
def plant_default() -> Any:
    return day_shift_calendar(plant_default=True)


def test_plant_default_calendar_versus_own_calendar(plant_default: Any) -> None:
    on_default = laser("laser-1")
    on_nights = work_center("brake-1", calendar=night_shift_calendar(days=WEEKDAYS))

    monday = (utc(2026, 1, 5, 6), utc(2026, 1, 6, 6))  # Monday 00:00 to Tuesday 00:00 in Chicago

    assert working_intervals(on_default, *monday) == [
        (utc(2026, 1, 5, 12), utc(2026, 1, 5, 16)),
        (utc(2026, 1, 5, 16, 30), utc(2026, 1, 5, 20, 30)),
    ]
    # The Monday night shift starts at 22:00 and runs past the end of the range.
    assert working_intervals(on_nights, *monday) == [(utc(2026, 1, 6, 4), utc(2026, 1, 6, 6))]


def test_night_shift_runs_across_midnight(plant_default: Any) -> None:
    nights = work_center("weld-1", calendar=night_shift_calendar(days=WEEKDAYS))

    result = working_intervals(nights, utc(2026, 1, 5, 18), utc(2026, 1, 6, 18))  # Monday noon to Tuesday noon

    # 22:00 Monday to 06:00 Tuesday local, less the 03:00–03:30 break.
    assert result == [
        (utc(2026, 1, 6, 4), utc(2026, 1, 6, 9)),
        (utc(2026, 1, 6, 9, 30), utc(2026, 1, 6, 12)),
    ]
    assert working_minutes(result) == 450


def test_plant_wide_holiday_by_dates_closes_whole_local_days(plant_default: Any) -> None:
    day = laser("laser-1")
    nights = work_center("weld-1", calendar=night_shift_calendar(days=WEEKDAYS))
    CalendarException.objects.create(
        kind=ExceptionKind.HOLIDAY, name="New Year's Day", start_date=date(2026, 1, 1), end_date=date(2026, 1, 1)
    )
    start, end = utc(2025, 12, 31, 6), utc(2026, 1, 2, 18)  # Wednesday 00:00 to Friday 12:00 local

    assert working_intervals(day, start, end) == [
        (utc(2025, 12, 31, 12), utc(2025, 12, 31, 16)),
        (utc(2025, 12, 31, 16, 30), utc(2025, 12, 31, 20, 30)),
        # Thursday is the holiday; Friday morning until the end of the range.
        (utc(2026, 1, 2, 12), utc(2026, 1, 2, 16)),
        (utc(2026, 1, 2, 16, 30), utc(2026, 1, 2, 18)),
    ]
    assert working_intervals(nights, start, end) == [
        # The Tuesday night shift's tail.
        (utc(2025, 12, 31, 6), utc(2025, 12, 31, 9)),
        (utc(2025, 12, 31, 9, 30), utc(2025, 12, 31, 12)),
        # Wednesday night runs until the holiday starts at local midnight (06:00 UTC).
        (utc(2026, 1, 1, 4), utc(2026, 1, 1, 6)),
        # Thursday night starts on the holiday and resumes when it ends at Friday 00:00 local.
        (utc(2026, 1, 2, 6), utc(2026, 1, 2, 9)),
        (utc(2026, 1, 2, 9, 30), utc(2026, 1, 2, 12)),
    ]


def test_maintenance_window_by_datetimes_on_one_work_center(plant_default: Any) -> None:
    serviced, other = laser("laser-1"), laser("laser-2")
    CalendarException.objects.create(
        kind=ExceptionKind.MAINTENANCE,
        name="Resonator service",
        work_center=serviced,
        starts_at=utc(2026, 1, 6, 14),  # Tuesday 08:00 local
        ends_at=utc(2026, 1, 6, 18),  # Tuesday 12:00 local
    )
    tuesday = (utc(2026, 1, 6, 6), utc(2026, 1, 7, 6))

    assert working_intervals(serviced, *tuesday) == [
        (utc(2026, 1, 6, 12), utc(2026, 1, 6, 14)),
        (utc(2026, 1, 6, 18), utc(2026, 1, 6, 20, 30)),
    ]
    assert working_intervals(other, *tuesday) == [
        (utc(2026, 1, 6, 12), utc(2026, 1, 6, 16)),
        (utc(2026, 1, 6, 16, 30), utc(2026, 1, 6, 20, 30)),
    ]


def test_saturday_overtime_on_one_laser_only(plant_default: Any) -> None:
    busy, idle = laser("laser-1"), laser("laser-2")
    out_of_service = laser("laser-3", is_active=False)
    for wc in (busy, out_of_service):
        CalendarException.objects.create(
            kind=ExceptionKind.OVERTIME,
            name="Saturday overtime",
            work_center=wc,
            starts_at=utc(2026, 1, 10, 12),  # Saturday 06:00 local
            ends_at=utc(2026, 1, 10, 18),  # Saturday 12:00 local
        )
    saturday = (utc(2026, 1, 10, 6), utc(2026, 1, 11, 6))

    assert working_intervals(busy, *saturday) == [(utc(2026, 1, 10, 12), utc(2026, 1, 10, 18))]
    assert working_intervals(idle, *saturday) == []
    # Out of service means no working time at all, overtime included.
    assert working_intervals(out_of_service, *saturday) == []


def test_a_plant_holiday_beats_overtime_booked_on_it(plant_default: Any) -> None:
    wc = laser("laser-1")
    CalendarException.objects.create(
        kind=ExceptionKind.SHUTDOWN, name="Inventory count", start_date=date(2026, 1, 10), end_date=date(2026, 1, 10)
    )
    CalendarException.objects.create(
        kind=ExceptionKind.OVERTIME,
        name="Saturday overtime",
        work_center=wc,
        starts_at=utc(2026, 1, 10, 12),
        ends_at=utc(2026, 1, 10, 18),
    )

    assert working_intervals(wc, utc(2026, 1, 10, 6), utc(2026, 1, 11, 6)) == []


def test_spring_forward_night_is_one_hour_shorter(plant_default: Any) -> None:
    nights = work_center("weld-1", calendar=night_shift_calendar())

    # Saturday 2026-03-07 12:00 CST to Sunday 2026-03-08 12:00 CDT.
    result = working_intervals(nights, utc(2026, 3, 7, 18), utc(2026, 3, 8, 17))

    assert result == [
        (utc(2026, 3, 8, 4), utc(2026, 3, 8, 8)),  # 22:00 CST to the 03:00 CDT break
        (utc(2026, 3, 8, 8, 30), utc(2026, 3, 8, 11)),  # 03:30 CDT to 06:00 CDT
    ]
    assert working_minutes(result) == 390


def test_fall_back_night_is_one_hour_longer(plant_default: Any) -> None:
    nights = work_center("weld-1", calendar=night_shift_calendar())

    # Saturday 2026-10-31 12:00 CDT to Sunday 2026-11-01 12:00 CST.
    result = working_intervals(nights, utc(2026, 10, 31, 17), utc(2026, 11, 1, 18))

    assert result == [
        (utc(2026, 11, 1, 3), utc(2026, 11, 1, 9)),  # 22:00 CDT to the 03:00 CST break
        (utc(2026, 11, 1, 9, 30), utc(2026, 11, 1, 12)),  # 03:30 CST to 06:00 CST
    ]
    assert working_minutes(result) == 510


def test_day_shift_keeps_local_hours_across_the_change(plant_default: Any) -> None:
    wc = laser("laser-1")

    friday_before = working_intervals(wc, utc(2026, 3, 6, 6), utc(2026, 3, 7, 6))
    monday_after = working_intervals(wc, utc(2026, 3, 9, 5), utc(2026, 3, 10, 5))

    assert friday_before[0][0] == utc(2026, 3, 6, 12)  # 06:00 CST
    assert monday_after[0][0] == utc(2026, 3, 9, 11)  # 06:00 CDT
    assert working_minutes(friday_before) == working_minutes(monday_after) == 480


def test_missing_plant_default_is_a_clear_error() -> None:
    orphan = laser("laser-9")
    own = work_center("saw-1", calendar=day_shift_calendar("Saw"))

    with pytest.raises(NoShiftCalendar) as raised:
        working_intervals(orphan, utc(2026, 1, 5), utc(2026, 1, 6))

    assert str(raised.value) == (
        "Work center laser-9 has no shift calendar and no plant default calendar is set: "
        "mark one shift calendar as the plant default or give the work center its own."
    )
    assert raised.value.work_center == orphan
    # A work center with its own calendar does not need the default.
    assert working_minutes(working_intervals(own, utc(2026, 1, 5, 6), utc(2026, 1, 6, 6))) == 480


def test_batch_form_loads_thirty_work_centers_in_four_queries(
    plant_default: Any, django_assert_num_queries: Any
) -> None:
    nights = night_shift_calendar(days=WEEKDAYS)
    weekend = shift_calendar("Weekend", [(day, time(7), time(15), []) for day in (5, 6)])
    centers = [laser(f"laser-{n}") for n in range(20)]
    centers += [work_center(f"weld-{n}", calendar=nights) for n in range(8)]
    centers += [work_center(f"ship-{n}", calendar=weekend) for n in range(4)]
    CalendarException.objects.create(
        kind=ExceptionKind.HOLIDAY, name="Holiday", start_date=date(2026, 1, 7), end_date=date(2026, 1, 7)
    )
    for wc in centers[::5]:
        CalendarException.objects.create(
            kind=ExceptionKind.MAINTENANCE,
            name="PM",
            work_center=wc,
            starts_at=utc(2026, 1, 6, 14),
            ends_at=utc(2026, 1, 6, 16),
        )
    centers = list(WorkCenter.objects.filter(pk__in=[wc.pk for wc in centers]))
    week = (utc(2026, 1, 5, 6), utc(2026, 1, 12, 6))

    with django_assert_num_queries(4):
        batch = working_intervals_for(centers, *week)

    assert len(batch) == 32
    assert batch == {wc.pk: working_intervals(wc, *week) for wc in centers}
    assert working_minutes(batch[centers[0].pk]) == 4 * 480 - 120  # holiday Wednesday, 2 h maintenance
    assert working_minutes(batch[centers[1].pk]) == 4 * 480


def test_working_minutes_by_day_on_the_spring_forward_sunday(plant_default: Any) -> None:
    nights = work_center("weld-1", calendar=night_shift_calendar())

    saturday, sunday = working_minutes_by_day(nights, date(2026, 3, 7), 2)

    assert (saturday.day, saturday.length_minutes) == (date(2026, 3, 7), 1440)
    assert (sunday.day, sunday.start, sunday.end) == (date(2026, 3, 8), utc(2026, 3, 8, 6), utc(2026, 3, 9, 5))
    assert sunday.length_minutes == 1380
    assert sunday.intervals == (
        (utc(2026, 3, 8, 6), utc(2026, 3, 8, 8)),
        (utc(2026, 3, 8, 8, 30), utc(2026, 3, 8, 11)),
        (utc(2026, 3, 9, 3), utc(2026, 3, 9, 5)),
    )
    assert sunday.minutes == 390
    assert [(s.kind, s.offset_minutes, s.minutes) for s in sunday.segments] == [
        (SegmentKind.WORKING, 0, 120),
        (SegmentKind.BREAK, 120, 30),
        (SegmentKind.WORKING, 150, 150),
        (SegmentKind.WORKING, 1260, 120),
    ]
    assert sunday.hour_marks == ((300, "06:00"), (660, "12:00"), (1020, "18:00"))


def test_working_minutes_by_day_shows_holidays_and_overtime(plant_default: Any) -> None:
    wc = laser("laser-1")
    CalendarException.objects.create(
        kind=ExceptionKind.HOLIDAY, name="New Year's Day", start_date=date(2026, 1, 1), end_date=date(2026, 1, 1)
    )
    CalendarException.objects.create(
        kind=ExceptionKind.OVERTIME,
        name="Sat",
        work_center=wc,
        starts_at=utc(2026, 1, 3, 12),
        ends_at=utc(2026, 1, 3, 16),
    )

    thursday, friday, saturday = working_minutes_by_day(wc, date(2026, 1, 1), 3)

    assert thursday.minutes == 0
    assert [(s.kind, s.offset_minutes, s.minutes) for s in thursday.segments] == [(SegmentKind.CLOSED, 360, 510)]
    assert [(s.kind, s.offset_minutes, s.minutes) for s in friday.segments] == [
        (SegmentKind.WORKING, 360, 240),
        (SegmentKind.BREAK, 600, 30),
        (SegmentKind.WORKING, 630, 240),
    ]
    assert friday.hours == 8
    assert [(s.kind, s.offset_minutes, s.minutes) for s in saturday.segments] == [(SegmentKind.OVERTIME, 360, 240)]
    assert saturday.minutes == 240


def test_inactive_work_center_has_no_working_days(plant_default: Any) -> None:
    wc = laser("laser-1", is_active=False)

    days = working_minutes_by_day(wc, date(2026, 1, 5), 7)

    assert [d.minutes for d in days] == [0] * 7
    assert all(d.segments == () for d in days)
