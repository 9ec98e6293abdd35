"""OEE on hand-built machines; every expected figure is worked out by hand in the comments.

Plant time zone America/Chicago: CDT (UTC-5) in summer, CST (UTC-6) in winter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.reports.oee import (
    Category,
    CountRecord,
    Granularity,
    Interval,
    MachineInput,
    OeeSettings,
    Piece,
    ShiftOccurrence,
    SixBigLosses,
    StateSpan,
    Status,
    Window,
    combine,
    machine_oee,
    oee_by_period,
    period_windows,
)

CHI = ZoneInfo("America/Chicago")
DAY = "2026-06-15"  # a Monday in summer


def at(wall: str, day: str = DAY) -> datetime:
    """Plant-local wall time "HH:MM" on `day`, as aware UTC."""
    hour, minute = (int(part) for part in wall.split(":"))
    year, month, dom = (int(part) for part in day.split("-"))
    return datetime(year, month, dom, hour, minute, tzinfo=CHI).astimezone(UTC)


def span(
    start: datetime,
    end: datetime,
    state: str,
    source_id: int | None = None,
    *,
    reason_code: str = "",
    reason_name: str = "",
    reason_planned: bool = False,
) -> StateSpan:
    return StateSpan(start, end, state, reason_code, reason_name, reason_planned, source_id)


def count(moment: datetime, good: int, scrap: int = 0, cycle: int = 60, startup: bool = False) -> CountRecord:
    return CountRecord(at=moment, good=good, scrap=scrap, ideal_cycle_seconds=Decimal(cycle), startup=startup)


def machine(
    *,
    spans: Sequence[StateSpan] = (),
    counts: Sequence[CountRecord] = (),
    shifts: Sequence[ShiftOccurrence] = (),
    breaks: Sequence[Interval] = (),
    maintenance: Sequence[Interval] = (),
    machine_id: int = 1,
) -> MachineInput:
    return MachineInput(
        machine_id=machine_id,
        code=f"M{machine_id}",
        name=f"Machine {machine_id}",
        department="Turning",
        shifts=shifts,
        breaks=breaks,
        planned_maintenance=maintenance,
        spans=spans,
        counts=counts,
    )


FIRST_SHIFT = ShiftOccurrence("1st shift", at("06:00"), at("14:30"))


def test_shift_with_a_breakdown() -> None:
    # 06:00-14:30 is 510 min; the 10:00-10:30 break leaves 480 min = 28800 s scheduled.
    # running 180 + 15 + 240 = 435 min = 26100 s; alarm 45 min = 2700 s; idle in the break is BREAK.
    m = machine(
        shifts=[FIRST_SHIFT],
        breaks=[(at("10:00"), at("10:30"))],
        spans=[
            span(at("06:00"), at("09:00"), "running", 1),
            span(at("09:00"), at("09:45"), "alarm", 2, reason_code="spindle", reason_name="Spindle fault"),
            span(at("09:45"), at("10:00"), "running", 3),
            span(at("10:00"), at("10:30"), "idle", 4),
            span(at("10:30"), at("14:30"), "running", 5),
        ],
        counts=[count(at("09:00"), good=200, scrap=10), count(at("14:29"), good=200)],
    )
    figures = machine_oee(m, at("06:00"), at("14:30"))

    assert (figures.run_seconds, figures.breakdown_seconds, figures.break_seconds) == (26100, 2700, 1800)
    assert figures.planned_production_seconds == 28800
    assert figures.availability == Decimal("0.9063")  # 26100 / 28800 = 0.90625, half up
    # ideal = 410 units x 60 s = 24600 s; 24600 / 26100 = 0.942528...
    assert figures.ideal_seconds == Decimal(24600)
    assert figures.performance == Decimal("0.9425")
    assert figures.quality == Decimal("0.9756")  # 400 / 410 = 0.975609...
    # 24600 x 400 / (28800 x 410) = 24000 / 28800 = 0.83333...
    assert figures.oee == Decimal("0.8333")
    assert figures.status is Status.OK
    assert figures.breakdown_minutes == Decimal("45.00")
    assert figures.break_minutes == Decimal("30.00")
    assert figures.reduced_speed_minutes == Decimal("25.00")  # 26100 - 24600 = 1500 s
    assert figures.production_reject_minutes == Decimal("10.00")  # 10 scrap x 60 s
    assert figures.startup_reject_minutes == Decimal("0.00")
    assert figures.performance_over_100 is False
    assert figures.losses == SixBigLosses(
        breakdowns=2700,
        setups=0,
        small_stops=0,
        reduced_speed=Decimal(1500),
        startup_rejects=Decimal(0),
        production_rejects=Decimal(600),
    )
    assert figures.losses.minutes("reduced_speed") == Decimal("25.00")
    assert figures.failures == 1
    assert figures.mtbf_minutes == Decimal("435.00")  # 26100 s run time / 1 failure
    assert figures.mttr_minutes == Decimal("45.00")
    assert [(p.category, p.source_id, p.seconds) for p in figures.pieces] == [
        (Category.RUN, 1, 10800),
        (Category.BREAKDOWN, 2, 2700),
        (Category.RUN, 3, 900),
        (Category.BREAK, 4, 1800),
        (Category.RUN, 5, 14400),
    ]
    assert figures.pieces[1] == Piece(
        machine_id=1,
        start=at("09:00"),
        end=at("09:45"),
        category=Category.BREAKDOWN,
        state="alarm",
        reason_code="spindle",
        reason_name="Spindle fault",
        source_id=2,
    )


def test_setup_is_an_availability_loss() -> None:
    # 510 min shift, 40 min setup = 2400 s, running 470 min = 28200 s; 470 parts at 60 s = 28200 s ideal.
    m = machine(
        shifts=[FIRST_SHIFT],
        spans=[span(at("06:00"), at("06:40"), "setup"), span(at("06:40"), at("14:30"), "running")],
        counts=[count(at("14:00"), good=470)],
    )
    figures = machine_oee(m, at("06:00"), at("14:30"))

    assert (figures.setup_seconds, figures.run_seconds, figures.planned_production_seconds) == (2400, 28200, 30600)
    assert figures.setup_minutes == Decimal("40.00")
    assert figures.availability == Decimal("0.9216")  # 28200 / 30600 = 0.921568...
    assert figures.performance == Decimal("1.0000")
    assert figures.quality == Decimal("1.0000")
    assert figures.oee == Decimal("0.9216")
    assert figures.failures == 0
    assert figures.mtbf_minutes is None
    assert figures.mttr_minutes is None


def test_micro_stops_are_small_stops_inside_run_time() -> None:
    # One hour, three idle stops of 2 min (< 5 min) = 360 s of small stops; running 3240 s.
    shift = ShiftOccurrence("1st shift", at("06:00"), at("07:00"))
    m = machine(
        shifts=[shift],
        spans=[
            span(at("06:00"), at("06:10"), "running"),
            span(at("06:10"), at("06:12"), "idle"),
            span(at("06:12"), at("06:30"), "running"),
            span(at("06:30"), at("06:32"), "idle"),
            span(at("06:32"), at("06:50"), "running"),
            span(at("06:50"), at("06:52"), "idle"),
            span(at("06:52"), at("07:00"), "running"),
        ],
        counts=[count(at("06:59"), good=50)],
    )
    figures = machine_oee(m, at("06:00"), at("07:00"))

    assert (figures.run_seconds, figures.small_stop_seconds, figures.breakdown_seconds) == (3240, 360, 0)
    assert figures.run_time_seconds == 3600
    assert figures.small_stop_minutes == Decimal("6.00")
    assert figures.availability == Decimal("1.0000")  # small stops stay in run time
    assert figures.performance == Decimal("0.8333")  # 50 x 60 = 3000 / 3600
    assert figures.reduced_speed_minutes == Decimal("4.00")  # 3240 - 3000 = 240 s


def test_a_stop_of_exactly_the_threshold_is_a_breakdown() -> None:
    # 300 s is not shorter than small_stop_seconds=300.
    shift = ShiftOccurrence("1st shift", at("06:00"), at("07:00"))
    m = machine(
        shifts=[shift],
        spans=[
            span(at("06:00"), at("06:10"), "running"),
            span(at("06:10"), at("06:15"), "idle"),
            span(at("06:15"), at("07:00"), "running"),
        ],
    )
    figures = machine_oee(m, at("06:00"), at("07:00"))

    assert (figures.small_stop_seconds, figures.breakdown_seconds) == (0, 300)
    assert figures.failures == 0  # idle is a loss but not a failure


def test_small_stop_rule_looks_at_the_whole_span_not_the_clipped_part() -> None:
    # An idle span 06:58-07:08 (10 min) seen through a window ending 07:00 is still a breakdown.
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("08:00"))],
        spans=[span(at("06:00"), at("06:58"), "running"), span(at("06:58"), at("07:08"), "idle")],
    )
    figures = machine_oee(m, at("06:00"), at("07:00"))

    assert (figures.run_seconds, figures.small_stop_seconds, figures.breakdown_seconds) == (3480, 0, 120)


def test_slow_cycle_is_reduced_speed() -> None:
    # Running the whole hour; 100 parts at an ideal 30 s = 3000 s, so 600 s were lost to speed.
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("07:00"))],
        spans=[span(at("06:00"), at("07:00"), "running")],
        counts=[count(at("06:30"), good=100, cycle=30)],
    )
    figures = machine_oee(m, at("06:00"), at("07:00"))

    assert figures.availability == Decimal("1.0000")
    assert figures.performance == Decimal("0.8333")  # 3000 / 3600
    assert figures.reduced_speed_seconds == Decimal(600)
    assert figures.reduced_speed_minutes == Decimal("10.00")
    assert figures.oee == Decimal("0.8333")


def test_performance_above_100_is_not_capped_but_flagged() -> None:
    # 70 parts x 60 s = 4200 s ideal in 3600 s of run time: the standard is wrong, show it.
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("07:00"))],
        spans=[span(at("06:00"), at("07:00"), "running")],
        counts=[count(at("06:30"), good=70)],
    )
    figures = machine_oee(m, at("06:00"), at("07:00"))

    assert figures.performance == Decimal("1.1667")  # 4200 / 3600
    assert figures.performance_over_100 is True
    assert figures.reduced_speed_seconds == Decimal(0)


def test_scrap_and_startup_scrap_are_separate_rejects() -> None:
    # 2 start-up scrap + (50 good, 3 scrap): 55 units x 60 s = 3300 s ideal.
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("07:00"))],
        spans=[span(at("06:00"), at("07:00"), "running")],
        counts=[count(at("06:05"), good=0, scrap=2, startup=True), count(at("06:59"), good=50, scrap=3)],
    )
    figures = machine_oee(m, at("06:00"), at("07:00"))

    assert (figures.good, figures.scrap, figures.startup_scrap) == (50, 5, 2)
    assert figures.startup_reject_seconds == Decimal(120)
    assert figures.startup_reject_minutes == Decimal("2.00")
    assert figures.production_reject_minutes == Decimal("3.00")  # 3 x 60 s
    assert figures.quality == Decimal("0.9091")  # 50 / 55 = 0.90909...
    assert figures.performance == Decimal("0.9167")  # 3300 / 3600 = 0.91666...
    assert figures.oee == Decimal("0.8333")  # 3300 x 50 / (3600 x 55) = 0.83333...


def test_holiday_without_shifts_is_not_scheduled_and_has_no_data() -> None:
    # Friday 2026-07-03, the observed Independence Day: no shift occurrences; idle all day.
    holiday = "2026-07-03"
    m = machine(spans=[span(at("00:00", holiday), at("00:00", "2026-07-04"), "idle")])
    figures = machine_oee(m, at("00:00", holiday), at("00:00", "2026-07-04"))

    assert figures.not_scheduled_seconds == 86400
    assert figures.planned_production_seconds == 0
    assert figures.has_data is False
    assert figures.status is Status.NO_DATA
    assert (figures.availability, figures.performance, figures.quality, figures.oee) == (None, None, None, None)
    assert [(p.category, p.seconds) for p in figures.pieces] == [(Category.NOT_SCHEDULED, 86400)]


NIGHT = ShiftOccurrence("Night", at("22:00"), at("06:00", "2026-06-16"))


def night_machine() -> MachineInput:
    # running 22:00-02:00 (4 h), alarm 02:00-03:00, running 03:00-06:00 (3 h).
    return machine(
        shifts=[NIGHT],
        spans=[
            span(at("22:00"), at("02:00", "2026-06-16"), "running", 1),
            span(at("02:00", "2026-06-16"), at("03:00", "2026-06-16"), "alarm", 2),
            span(at("03:00", "2026-06-16"), at("06:00", "2026-06-16"), "running", 3),
        ],
        counts=[count(at("23:00"), good=100), count(at("05:00", "2026-06-16"), good=200)],
    )


def test_night_shift_across_midnight_as_one_shift_window() -> None:
    windows = period_windows(at("00:00"), at("00:00", "2026-06-17"), Granularity.SHIFT, CHI, [NIGHT])
    assert windows == [Window("2026-06-15 Night", at("22:00"), at("06:00", "2026-06-16"))]

    [(_, figures)] = oee_by_period(night_machine(), windows, OeeSettings())
    # run 7 h = 25200 s, breakdown 3600 s; ideal 300 x 60 = 18000 s.
    assert (figures.run_seconds, figures.breakdown_seconds, figures.not_scheduled_seconds) == (25200, 3600, 0)
    assert figures.availability == Decimal("0.8750")  # 25200 / 28800
    assert figures.performance == Decimal("0.7143")  # 18000 / 25200 = 0.714285...
    assert figures.oee == Decimal("0.6250")  # 18000 / 28800
    assert figures.failures == 1


def test_night_shift_split_into_days_at_local_midnight_sums_to_the_shift() -> None:
    windows = period_windows(at("00:00"), at("00:00", "2026-06-17"), Granularity.DAY, CHI)
    assert windows == [
        Window("2026-06-15", at("00:00"), at("00:00", "2026-06-16")),
        Window("2026-06-16", at("00:00", "2026-06-16"), at("00:00", "2026-06-17")),
    ]
    (_, first), (_, second) = oee_by_period(night_machine(), windows, OeeSettings())

    # 15th: 22:00-24:00 running (7200 s), 100 parts; the rest of the day is not scheduled (79200 s).
    assert (first.run_seconds, first.breakdown_seconds, first.not_scheduled_seconds, first.good) == (
        7200,
        0,
        79200,
        100,
    )
    assert first.pieces[-1] == Piece(1, at("22:00"), at("00:00", "2026-06-16"), Category.RUN, "running", source_id=1)
    # 16th: 00:00-02:00 and 03:00-06:00 running (18000 s), the alarm 3600 s, 200 parts.
    assert (second.run_seconds, second.breakdown_seconds, second.good, second.failures) == (18000, 3600, 200, 1)
    assert second.pieces[0] == Piece(
        1, at("00:00", "2026-06-16"), at("02:00", "2026-06-16"), Category.RUN, "running", source_id=1
    )

    whole = combine([first, second])
    assert whole.machines == 1  # one machine over two windows
    assert (whole.run_seconds, whole.breakdown_seconds, whole.ideal_seconds) == (25200, 3600, Decimal(18000))
    assert (whole.availability, whole.performance, whole.oee) == (
        Decimal("0.8750"),
        Decimal("0.7143"),
        Decimal("0.6250"),
    )


def test_spring_forward_night_shift_lasts_seven_hours() -> None:
    # 2026-03-08 02:00 CST jumps to 03:00 CDT: 22:00 CST (04:00Z) to 06:00 CDT (11:00Z) is 7 h.
    shift = ShiftOccurrence("Night", at("22:00", "2026-03-07"), at("06:00", "2026-03-08"))
    m = machine(shifts=[shift], spans=[span(shift.start, shift.end, "running")])
    [window] = period_windows(at("00:00", "2026-03-07"), at("00:00", "2026-03-09"), Granularity.SHIFT, CHI, [shift])
    assert window.seconds == 25200

    [(_, figures)] = oee_by_period(m, [window])
    assert figures.run_seconds == 25200
    assert figures.run_time_minutes == Decimal("420.00")

    days = period_windows(at("00:00", "2026-03-07"), at("00:00", "2026-03-09"), Granularity.DAY, CHI)
    assert [(w.label, w.seconds) for w in days] == [("2026-03-07", 86400), ("2026-03-08", 82800)]
    # 22:00-24:00 CST = 2 h on the 7th; 00:00 CST-06:00 CDT = 5 h on the 8th.
    assert [f.run_seconds for _, f in oee_by_period(m, days)] == [7200, 18000]


def test_fall_back_night_shift_lasts_nine_hours() -> None:
    # 2026-11-01 02:00 CDT falls back to 01:00 CST: 22:00 CDT (03:00Z) to 06:00 CST (12:00Z) is 9 h.
    shift = ShiftOccurrence("Night", at("22:00", "2026-10-31"), at("06:00", "2026-11-01"))
    m = machine(shifts=[shift], spans=[span(shift.start, shift.end, "idle")])
    [(_, figures)] = oee_by_period(m, [Window("night", shift.start, shift.end)])
    assert figures.breakdown_seconds == 32400

    days = period_windows(at("00:00", "2026-10-31"), at("00:00", "2026-11-02"), Granularity.DAY, CHI)
    assert [(w.label, w.seconds) for w in days] == [("2026-10-31", 86400), ("2026-11-01", 90000)]
    # 2 h on the 31st, 00:00 CDT-06:00 CST = 7 h on the 1st.
    assert [f.breakdown_seconds for _, f in oee_by_period(m, days)] == [7200, 25200]


def test_week_and_month_windows_start_at_local_midnight() -> None:
    # Monday 2026-03-02 is in ISO week 10; that week holds the spring-forward Sunday: 7 x 24 - 1 = 167 h.
    weeks = period_windows(at("00:00", "2026-03-04"), at("00:00", "2026-03-17"), Granularity.WEEK, CHI)
    assert weeks == [
        Window("2026-W10", at("00:00", "2026-03-04"), at("00:00", "2026-03-09")),
        Window("2026-W11", at("00:00", "2026-03-09"), at("00:00", "2026-03-16")),
        Window("2026-W12", at("00:00", "2026-03-16"), at("00:00", "2026-03-17")),
    ]
    assert weeks[1].seconds == 7 * 86400
    whole_week = period_windows(at("00:00", "2026-03-02"), at("00:00", "2026-03-09"), Granularity.WEEK, CHI)
    assert [w.seconds for w in whole_week] == [167 * 3600]

    months = period_windows(at("00:00", "2026-02-15"), at("00:00", "2026-04-01"), Granularity.MONTH, CHI)
    # March: 31 x 24 - 1 = 743 h.
    assert [(w.label, w.seconds) for w in months] == [("2026-02", 14 * 86400), ("2026-03", 743 * 3600)]
    december = period_windows(at("00:00", "2026-12-01"), at("00:00", "2027-01-01"), Granularity.MONTH, CHI)
    assert [(w.label, w.end) for w in december] == [("2026-12", at("00:00", "2027-01-01"))]


def test_span_crossing_the_shift_end_is_split() -> None:
    # Shift ends 14:30. A 60-min stop 14:00-15:00: 30 min is a breakdown, 30 min is not scheduled.
    stopped = machine(shifts=[FIRST_SHIFT], spans=[span(at("14:00"), at("15:00"), "unplanned_down", 7)])
    figures = machine_oee(stopped, at("14:00"), at("16:00"))

    assert (figures.breakdown_seconds, figures.not_scheduled_seconds) == (1800, 5400)
    assert figures.failures == 1
    assert [(p.start, p.end, p.category, p.source_id) for p in figures.pieces] == [
        (at("14:00"), at("14:30"), Category.BREAKDOWN, 7),
        (at("14:30"), at("15:00"), Category.NOT_SCHEDULED, 7),
        (at("15:00"), at("16:00"), Category.NOT_SCHEDULED, None),
    ]

    # The same hour running is all production time, inside the shift or not.
    running = machine(shifts=[FIRST_SHIFT], spans=[span(at("14:00"), at("15:00"), "running", 8)])
    figures = machine_oee(running, at("14:00"), at("16:00"))
    assert (figures.run_seconds, figures.planned_production_seconds, figures.not_scheduled_seconds) == (
        3600,
        3600,
        3600,
    )


def test_machine_without_data_has_no_ratios() -> None:
    # Scheduled 8.5 h but the machine never reported: all NO_DATA, nothing is 0 % or 100 %.
    m = machine(shifts=[FIRST_SHIFT], counts=[count(at("09:00"), good=10)])
    figures = machine_oee(m, at("06:00"), at("14:30"))

    assert figures.no_data_seconds == 30600
    assert figures.no_data_minutes == Decimal("510.00")
    assert figures.has_data is False
    assert figures.status is Status.NO_DATA
    assert (figures.availability, figures.performance, figures.quality, figures.oee) == (None, None, None, None)


def test_offline_span_counts_as_no_data() -> None:
    m = machine(
        shifts=[FIRST_SHIFT],
        spans=[span(at("06:00"), at("07:00"), "offline"), span(at("07:00"), at("14:30"), "running")],
    )
    figures = machine_oee(m, at("06:00"), at("14:30"))

    assert (figures.no_data_seconds, figures.run_seconds, figures.planned_production_seconds) == (3600, 27000, 27000)
    assert figures.availability == Decimal("1.0000")


def test_production_time_without_counts_has_no_performance() -> None:
    m = machine(shifts=[FIRST_SHIFT], spans=[span(at("06:00"), at("14:30"), "running")])
    figures = machine_oee(m, at("06:00"), at("14:30"))

    assert figures.has_data is True
    assert figures.status is Status.NO_COUNTS
    assert figures.availability == Decimal("1.0000")
    assert (figures.performance, figures.quality, figures.oee) == (None, None, None)
    assert figures.performance_over_100 is False


def test_running_during_a_break_is_production_time() -> None:
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("07:00"))],
        breaks=[(at("06:30"), at("06:45"))],
        spans=[span(at("06:00"), at("07:00"), "running")],
        counts=[count(at("06:59"), good=60)],
    )
    figures = machine_oee(m, at("06:00"), at("07:00"))

    assert (figures.run_seconds, figures.break_seconds, figures.planned_production_seconds) == (3600, 0, 3600)
    assert figures.oee == Decimal("1.0000")  # 60 x 60 s = 3600 s ideal


def test_no_work_planned_stops_and_maintenance_are_outside_planned_production() -> None:
    # 06:00-09:00 scheduled. running 1 h; idle "no-work" 30 min; planned_down 15 min; idle with a planned reason
    # 15 min; offline during planned maintenance 1 h.
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("09:00"))],
        maintenance=[(at("08:00"), at("09:00"))],
        spans=[
            span(at("06:00"), at("07:00"), "running"),
            span(at("07:00"), at("07:30"), "idle", reason_code="no-work", reason_name="No work"),
            span(at("07:30"), at("07:45"), "planned_down", reason_code="meeting", reason_name="Meeting"),
            span(at("07:45"), at("08:00"), "idle", reason_code="training", reason_planned=True),
            span(at("08:00"), at("09:00"), "offline"),
        ],
        counts=[count(at("06:30"), good=60)],
    )
    figures = machine_oee(m, at("06:00"), at("09:00"))

    assert figures.no_work_seconds == 1800
    assert figures.no_work_minutes == Decimal("30.00")
    assert figures.planned_stop_minutes == Decimal("30.00")
    assert figures.planned_maintenance_minutes == Decimal("60.00")
    assert figures.planned_downtime_minutes == Decimal("90.00")  # break 0 + maintenance 60 + planned stops 30
    assert (figures.no_data_seconds, figures.breakdown_seconds) == (0, 0)
    assert figures.planned_production_seconds == 3600
    assert figures.availability == Decimal("1.0000")
    assert figures.oee == Decimal("1.0000")
    assert [(p.category, p.reason_code) for p in figures.pieces[1:3]] == [
        (Category.NO_WORK, "no-work"),
        (Category.PLANNED_STOP, "meeting"),
    ]


def test_a_shift_without_work_has_data_but_no_planned_time() -> None:
    m = machine(shifts=[FIRST_SHIFT], spans=[span(at("06:00"), at("14:30"), "idle", reason_code="no-work")])
    figures = machine_oee(m, at("06:00"), at("14:30"))

    assert figures.has_data is True
    assert figures.status is Status.NO_PLANNED_TIME
    assert figures.availability is None


def test_combine_takes_ratios_of_sums_and_skips_machines_without_data() -> None:
    hour = ShiftOccurrence("1st shift", at("06:00"), at("07:00"))
    two_hours = ShiftOccurrence("1st shift", at("06:00"), at("08:00"))
    # A: 3600 s planned, all running, 60 good at 60 s -> 3600 s ideal.
    a = machine_oee(
        machine(shifts=[hour], spans=[span(at("06:00"), at("07:00"), "running")], counts=[count(at("06:30"), 60)]),
        at("06:00"),
        at("08:00"),
    )
    # B: 7200 s planned, 1800 s running, 5400 s down; 10 good + 5 scrap at 60 s -> 900 s ideal.
    b = machine_oee(
        machine(
            machine_id=2,
            shifts=[two_hours],
            spans=[span(at("06:00"), at("06:30"), "running"), span(at("06:30"), at("08:00"), "alarm")],
            counts=[count(at("06:20"), good=10, scrap=5)],
        ),
        at("06:00"),
        at("08:00"),
    )
    silent = machine_oee(machine(machine_id=3, shifts=[two_hours]), at("06:00"), at("08:00"))
    assert (a.availability, b.availability) == (Decimal("1.0000"), Decimal("0.2500"))

    plant = combine([a, b, silent])
    assert plant.machines == 2
    assert plant.no_data_seconds == 0  # the silent machine is skipped, not added as no-data time
    assert plant.planned_production_seconds == 10800
    assert plant.availability == Decimal("0.5000")  # 5400 / 10800, not the mean 0.625
    assert plant.performance == Decimal("0.8333")  # (3600 + 900) / 5400
    assert plant.quality == Decimal("0.9333")  # 70 / 75
    assert plant.oee == Decimal("0.3889")  # 4500 x 70 / (10800 x 75) = 0.38888...
    assert [p.machine_id for p in plant.pieces] == [1, 1, 2, 2]
    assert combine([silent]).has_data is False
    assert combine([silent]).availability is None


def test_mtbf_and_mttr_with_two_failures() -> None:
    # 8 h = 28800 s. alarm 30 min, unplanned_down 60 min, idle 20 min (a loss, not a failure).
    # run = 28800 - 1800 - 3600 - 1200 = 22200 s.
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("14:00"))],
        spans=[
            span(at("06:00"), at("08:00"), "running"),
            span(at("08:00"), at("08:30"), "alarm"),
            span(at("08:30"), at("11:00"), "running"),
            span(at("11:00"), at("12:00"), "unplanned_down"),
            span(at("12:00"), at("13:00"), "running"),
            span(at("13:00"), at("13:20"), "idle"),
            span(at("13:20"), at("14:00"), "running"),
        ],
    )
    figures = machine_oee(m, at("06:00"), at("14:00"))

    assert (figures.run_seconds, figures.breakdown_seconds) == (22200, 6600)
    assert (figures.failures, figures.failure_seconds) == (2, 5400)
    assert figures.mtbf_minutes == Decimal("185.00")  # 22200 / 2 = 11100 s
    assert figures.mttr_minutes == Decimal("45.00")  # 5400 / 2 = 2700 s


def test_failure_split_by_windows_is_counted_once() -> None:
    # An alarm 06:50-07:20 seen through two hourly windows: one failure, in the window of its start.
    m = machine(
        shifts=[ShiftOccurrence("1st shift", at("06:00"), at("08:00"))],
        spans=[
            span(at("06:00"), at("06:50"), "running"),
            span(at("06:50"), at("07:20"), "alarm"),
            span(at("07:20"), at("08:00"), "running"),
        ],
    )
    hours = [Window("6", at("06:00"), at("07:00")), Window("7", at("07:00"), at("08:00"))]
    (_, first), (_, second) = oee_by_period(m, hours)

    assert (first.failures, first.failure_seconds, second.failures, second.failure_seconds) == (1, 600, 0, 1200)
    assert combine([first, second]).mttr_minutes == Decimal("30.00")


def test_naive_datetimes_and_unknown_states_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        StateSpan(start=datetime(2026, 6, 15, 6), end=at("07:00"), state="running")
    with pytest.raises(ValueError, match="unknown state"):
        StateSpan(start=at("06:00"), end=at("07:00"), state="sleeping")
