from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.machines.calendar import (
    Break,
    CalendarException,
    ExceptionKind,
    Shift,
    day_span,
    working_intervals,
    working_minutes,
)

CHICAGO = ZoneInfo("America/Chicago")
MADRID = ZoneInfo("Europe/Madrid")

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS = (MON, TUE, WED, THU, FRI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=tz)


def day_shifts(*breaks: Break) -> list[Shift]:
    return [Shift(day, time(6), time(14), breaks) for day in WEEKDAYS]


# 2026-01-05 is a Monday; Chicago is on CST (UTC-6) in January.


def test_day_shift_with_lunch_break() -> None:
    shifts = [Shift(MON, time(6), time(14, 30), (Break(time(10), time(10, 30)),))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 1, 5), local(CHICAGO, 2026, 1, 6))

    assert result == [
        (utc(2026, 1, 5, 12), utc(2026, 1, 5, 16)),
        (utc(2026, 1, 5, 16, 30), utc(2026, 1, 5, 20, 30)),
    ]
    assert all(s.tzinfo is UTC and e.tzinfo is UTC for s, e in result)
    assert working_minutes(result) == 480


def test_two_shifts_monday_to_friday_are_merged_where_they_touch() -> None:
    shifts = [
        Shift(day, start, end, (brk,))
        for day in WEEKDAYS
        for start, end, brk in (
            (time(6), time(14), Break(time(10), time(10, 30))),
            (time(14), time(22), Break(time(18), time(18, 30))),
        )
    ]

    two_days = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 1, 5), local(CHICAGO, 2026, 1, 7))
    week = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 1, 5), local(CHICAGO, 2026, 1, 12))

    assert two_days == [
        (utc(2026, 1, 5, 12), utc(2026, 1, 5, 16)),
        (utc(2026, 1, 5, 16, 30), utc(2026, 1, 6, 0)),
        (utc(2026, 1, 6, 0, 30), utc(2026, 1, 6, 4)),
        (utc(2026, 1, 6, 12), utc(2026, 1, 6, 16)),
        (utc(2026, 1, 6, 16, 30), utc(2026, 1, 7, 0)),
        (utc(2026, 1, 7, 0, 30), utc(2026, 1, 7, 4)),
    ]
    assert len(week) == 15
    assert working_minutes(week) == 5 * 15 * 60


def test_query_spanning_weeks() -> None:
    result = working_intervals(day_shifts(), [], CHICAGO, local(CHICAGO, 2026, 1, 1), local(CHICAGO, 2026, 2, 1))

    # January 2026 has 22 weekdays.
    assert len(result) == 22
    assert result[0] == (utc(2026, 1, 1, 12), utc(2026, 1, 1, 20))
    assert result[-1] == (utc(2026, 1, 30, 12), utc(2026, 1, 30, 20))
    assert working_minutes(result) == 22 * 8 * 60


def test_night_shift_crosses_midnight_with_break_on_next_day() -> None:
    shifts = [Shift(FRI, time(22), time(6), (Break(time(2), time(2, 30)),))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 1, 9), local(CHICAGO, 2026, 1, 11))

    assert result == [
        (utc(2026, 1, 10, 4), utc(2026, 1, 10, 8)),
        (utc(2026, 1, 10, 8, 30), utc(2026, 1, 10, 12)),
    ]
    assert working_minutes(result) == 450


def test_night_shift_that_started_before_the_query_is_included_and_clipped() -> None:
    shifts = [Shift(FRI, time(22), time(6), (Break(time(2), time(2, 30)),))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 1, 10), local(CHICAGO, 2026, 1, 10, 4))

    assert result == [
        (utc(2026, 1, 10, 6), utc(2026, 1, 10, 8)),
        (utc(2026, 1, 10, 8, 30), utc(2026, 1, 10, 10)),
    ]
    assert working_minutes(result) == 210


def test_day_span_is_whole_local_days() -> None:
    assert day_span(date(2026, 12, 25), date(2026, 12, 25), CHICAGO) == (
        utc(2026, 12, 25, 6),
        utc(2026, 12, 26, 6),
    )
    assert day_span(date(2026, 12, 24), date(2026, 12, 26), MADRID) == (
        utc(2026, 12, 23, 23),
        utc(2026, 12, 26, 23),
    )


def test_day_span_on_dst_days_lasts_23_and_25_hours() -> None:
    spring = day_span(date(2026, 3, 29), date(2026, 3, 29), MADRID)
    autumn = day_span(date(2026, 11, 1), date(2026, 11, 1), CHICAGO)

    assert spring == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert spring[0].tzinfo is UTC and spring[1].tzinfo is UTC
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn == (utc(2026, 11, 1, 5), utc(2026, 11, 2, 6))
    assert autumn[1] - autumn[0] == timedelta(hours=25)


def test_holiday_via_day_span_removes_the_day() -> None:
    christmas = CalendarException(ExceptionKind.HOLIDAY, *day_span(date(2026, 12, 25), date(2026, 12, 25), CHICAGO))

    result = working_intervals(
        day_shifts(),
        [christmas],
        CHICAGO,
        local(CHICAGO, 2026, 12, 21),
        local(CHICAGO, 2026, 12, 28),
    )

    assert result == [
        (utc(2026, 12, 21, 12), utc(2026, 12, 21, 20)),
        (utc(2026, 12, 22, 12), utc(2026, 12, 22, 20)),
        (utc(2026, 12, 23, 12), utc(2026, 12, 23, 20)),
        (utc(2026, 12, 24, 12), utc(2026, 12, 24, 20)),
    ]


def test_maintenance_cuts_part_of_a_shift() -> None:
    maintenance = CalendarException(
        ExceptionKind.MAINTENANCE, local(CHICAGO, 2026, 1, 5, 9), local(CHICAGO, 2026, 1, 5, 11)
    )

    result = working_intervals(
        day_shifts(), [maintenance], CHICAGO, local(CHICAGO, 2026, 1, 5), local(CHICAGO, 2026, 1, 6)
    )

    assert result == [
        (utc(2026, 1, 5, 12), utc(2026, 1, 5, 15)),
        (utc(2026, 1, 5, 17), utc(2026, 1, 5, 20)),
    ]


def test_saturday_overtime_adds_time_outside_shifts() -> None:
    overtime = [
        CalendarException(ExceptionKind.OVERTIME, local(CHICAGO, 2026, 1, 10, 6), local(CHICAGO, 2026, 1, 10, 14)),
        # Overtime right after a shift extends it into one interval.
        CalendarException(ExceptionKind.OVERTIME, local(CHICAGO, 2026, 1, 9, 14), local(CHICAGO, 2026, 1, 9, 16)),
    ]

    result = working_intervals(day_shifts(), overtime, CHICAGO, local(CHICAGO, 2026, 1, 9), local(CHICAGO, 2026, 1, 11))

    assert result == [
        (utc(2026, 1, 9, 12), utc(2026, 1, 9, 22)),
        (utc(2026, 1, 10, 12), utc(2026, 1, 10, 20)),
    ]
    assert working_minutes(result) == 18 * 60


def test_removal_beats_overtime() -> None:
    saturday = (local(CHICAGO, 2026, 1, 10, 6), local(CHICAGO, 2026, 1, 10, 14))
    overtime = CalendarException(ExceptionKind.OVERTIME, *saturday)
    holiday = CalendarException(ExceptionKind.HOLIDAY, *day_span(date(2026, 1, 10), date(2026, 1, 10), CHICAGO))
    shutdown = CalendarException(
        ExceptionKind.SHUTDOWN, local(CHICAGO, 2026, 1, 10, 12), local(CHICAGO, 2026, 1, 10, 18)
    )
    query = (local(CHICAGO, 2026, 1, 10), local(CHICAGO, 2026, 1, 11))

    # Order of exceptions does not matter: removal wins either way.
    assert working_intervals([], [holiday, overtime], CHICAGO, *query) == []
    assert working_intervals([], [overtime, holiday], CHICAGO, *query) == []
    assert working_intervals([], [shutdown, overtime], CHICAGO, *query) == [
        (utc(2026, 1, 10, 12), utc(2026, 1, 10, 18)),
    ]


def test_chicago_spring_forward_night_shift_lasts_7_hours() -> None:
    # Clocks go from 02:00 CST to 03:00 CDT on Sunday 2026-03-08.
    shifts = [Shift(SAT, time(22), time(6))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 3, 7), local(CHICAGO, 2026, 3, 9))

    assert result == [(utc(2026, 3, 8, 4), utc(2026, 3, 8, 11))]
    assert working_minutes(result) == 7 * 60


def test_chicago_fall_back_night_shift_lasts_9_hours() -> None:
    # Clocks go from 02:00 CDT back to 01:00 CST on Sunday 2026-11-01.
    shifts = [Shift(SAT, time(22), time(6))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 10, 31), local(CHICAGO, 2026, 11, 2))

    assert result == [(utc(2026, 11, 1, 3), utc(2026, 11, 1, 12))]
    assert working_minutes(result) == 9 * 60


def test_madrid_spring_forward_night_shift_lasts_7_hours() -> None:
    # Clocks go from 02:00 CET to 03:00 CEST on Sunday 2026-03-29.
    shifts = [Shift(SAT, time(22), time(6))]

    result = working_intervals(shifts, [], MADRID, local(MADRID, 2026, 3, 28), local(MADRID, 2026, 3, 30))

    assert result == [(utc(2026, 3, 28, 21), utc(2026, 3, 29, 4))]
    assert working_minutes(result) == 7 * 60


def test_day_shifts_keep_local_wall_time_across_dst() -> None:
    result = working_intervals(day_shifts(), [], CHICAGO, local(CHICAGO, 2026, 3, 6), local(CHICAGO, 2026, 3, 10))

    assert result == [
        (utc(2026, 3, 6, 12), utc(2026, 3, 6, 20)),
        (utc(2026, 3, 9, 11), utc(2026, 3, 9, 19)),
    ]


def test_nonexistent_wall_time_maps_to_end_of_gap() -> None:
    shifts = [Shift(SUN, time(2, 30), time(10))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 3, 8), local(CHICAGO, 2026, 3, 9))

    assert result == [(utc(2026, 3, 8, 8), utc(2026, 3, 8, 15))]


def test_break_inside_the_gap_takes_no_time() -> None:
    shifts = [Shift(SAT, time(22), time(6), (Break(time(2), time(2, 30)),))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 3, 7), local(CHICAGO, 2026, 3, 9))

    assert result == [(utc(2026, 3, 8, 4), utc(2026, 3, 8, 11))]


def test_ambiguous_wall_time_uses_first_occurrence() -> None:
    shifts = [Shift(SUN, time(1, 30), time(5))]

    result = working_intervals(shifts, [], CHICAGO, local(CHICAGO, 2026, 11, 1), local(CHICAGO, 2026, 11, 2))

    # 01:30 CDT is 06:30 UTC; 05:00 CST is 11:00 UTC.
    assert result == [(utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 11))]
    assert working_minutes(result) == 270


def test_working_minutes_floors_the_total() -> None:
    assert working_minutes([]) == 0
    # Same-zone local datetimes still count real time: the fall-back night is 9 hours.
    assert working_minutes([(local(CHICAGO, 2026, 10, 31, 22), local(CHICAGO, 2026, 11, 1, 6))]) == 540
    assert working_minutes([(utc(2026, 1, 5, 12), utc(2026, 1, 5, 12, 1, 59))]) == 1
    assert (
        working_minutes(
            [
                (utc(2026, 1, 5, 12), utc(2026, 1, 5, 12, 0, 30)),
                (utc(2026, 1, 5, 13), utc(2026, 1, 5, 13, 0, 30)),
            ]
        )
        == 1
    )


def test_query_must_be_aware_and_forward() -> None:
    aware = local(CHICAGO, 2026, 1, 5)
    with pytest.raises(ValueError, match="working_intervals start must be timezone-aware"):
        working_intervals([], [], CHICAGO, datetime(2026, 1, 5), aware)
    with pytest.raises(ValueError, match="working_intervals end must be timezone-aware"):
        working_intervals([], [], CHICAGO, aware, datetime(2026, 1, 6))
    with pytest.raises(ValueError, match="end .* must be after start"):
        working_intervals([], [], CHICAGO, aware, aware)


def test_exception_must_be_aware_and_forward() -> None:
    aware = local(CHICAGO, 2026, 1, 5)
    with pytest.raises(ValueError, match=r"CalendarException\(.*\) start must be timezone-aware"):
        CalendarException(ExceptionKind.HOLIDAY, datetime(2026, 1, 5), aware)
    with pytest.raises(ValueError, match=r"CalendarException\(.*\): end must be after start"):
        CalendarException(ExceptionKind.SHUTDOWN, aware, aware - timedelta(hours=1))


def test_shift_weekday_must_be_in_range() -> None:
    with pytest.raises(ValueError, match=r"Shift\(weekday=7.*weekday must be 0"):
        Shift(7, time(6), time(14))
    with pytest.raises(ValueError, match=r"Shift\(weekday=-1"):
        Shift(-1, time(6), time(14))


def test_break_must_lie_inside_its_shift() -> None:
    # 05:00 is before the 06:00 start, so it reads as the next morning.
    with pytest.raises(ValueError, match=r"Break\(start=.*\) lies outside its shift Shift\("):
        Shift(MON, time(6), time(14), (Break(time(5), time(5, 30)),))
    with pytest.raises(ValueError, match="lies outside its shift"):
        Shift(MON, time(6), time(14), (Break(time(13, 45), time(14, 15)),))
    with pytest.raises(ValueError, match="lies outside its shift"):
        Shift(FRI, time(22), time(6), (Break(time(5, 45), time(6, 15)),))
    with pytest.raises(ValueError, match=r"Break\(.*\): start and end must differ"):
        Break(time(10), time(10))


def test_breaks_may_touch_shift_edges_and_midnight() -> None:
    shift = Shift(
        FRI,
        time(22),
        time(6),
        (
            Break(time(22), time(22, 15)),
            Break(time(23, 45), time(0, 15)),
            Break(time(5, 45), time(6)),
        ),
    )

    result = working_intervals([shift], [], CHICAGO, local(CHICAGO, 2026, 1, 9), local(CHICAGO, 2026, 1, 11))

    assert result == [
        (utc(2026, 1, 10, 4, 15), utc(2026, 1, 10, 5, 45)),
        (utc(2026, 1, 10, 6, 15), utc(2026, 1, 10, 11, 45)),
    ]


def test_shift_times_must_be_wall_clock() -> None:
    with pytest.raises(ValueError, match="naive wall-clock"):
        Shift(MON, time(6, tzinfo=UTC), time(14))


def test_day_span_rejects_reversed_days() -> None:
    with pytest.raises(ValueError, match="last_day 2026-12-24 is before first_day 2026-12-25"):
        day_span(date(2026, 12, 25), date(2026, 12, 24), CHICAGO)
