"""Stored day figures (`closed_days`): exactly what the intervals give, stored once settled, and computed again
when the history behind them is amended."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.machines.choices import AmendmentCause
from apps.machines.machine_state import Reading
from apps.machines.models import (
    CalendarException,
    DowntimeReason,
    HistoryAmendment,
    MachineStateInterval,
    Shift,
    ShiftCalendar,
    WorkCenter,
)
from apps.machines.services import apply_readings, assign_downtime_reason
from apps.reports import analytics, oee
from apps.reports.figures import Period, PlantFigures, plant_figures
from apps.reports.models import ClosedDayFigures
from apps.reports.selectors import Scope, machine_inputs
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import ProductionEvent
from tests.reports.floor import CHICAGO, MONDAY, at, interval
from tests.routings.builders import Shop, make_job, straight_part

pytestmark = pytest.mark.django_db

WEDNESDAY = MONDAY + timedelta(days=2)
# Every day of the test is over, and amendments made by the tests (at the real time) come after it.
LATER = at(12, day=MONDAY + timedelta(days=3))
STATES = ("running", "running", "running", "idle", "setup", "alarm", "unplanned_down", "planned_down", "offline")
REASONS = ("", "", "breakdown-mechanical", "no-work")


def _sums(figures: oee.OeeFigures) -> tuple[Any, ...]:
    return (*(getattr(figures, name) for name in oee.ADDED), figures.has_data)


def _direct(period: Period, windows_of: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Each machine's figures computed straight from its intervals, window by window (no stored days)."""
    result = {}
    for machine in machine_inputs(Scope(), period.start, period.end, now=LATER):
        windows = windows_of(machine)
        result[machine.code] = [_sums(f) for _w, f in oee.oee_by_period(machine, windows)]
    return result


def _shown(figures: PlantFigures) -> dict[str, list[tuple[Any, ...]]]:
    return {m.machine.code: [_sums(m.figures), *(_sums(f) for _w, f in m.trend)] for m in figures.machines}


@pytest.fixture
def busy_week(shop: Shop, personas: dict[str, Any]) -> Shop:
    """Three machines over Monday to Wednesday: a night shift across midnight, random states (stops across
    midnight and across shift edges, no-work and breakdown reasons) and production reports."""
    calendar = ShiftCalendar.objects.get(is_plant_default=True)
    for weekday in range(5):
        Shift.objects.create(calendar=calendar, name="night", weekday=weekday, start=time(22), end=time(6))
    MachineStateInterval.objects.all().delete()
    ProductionEvent.objects.all().delete()
    rng = random.Random(11)
    job = make_job(shop, straight_part(shop), quantity=10_000)
    operation = job.operations.create(
        sequence=10,
        operation_code="CUT",
        work_center_type=shop.laser,
        quantity=10_000,
        setup_minutes=Decimal(0),
        run_minutes_per_unit=Decimal("1.2"),
    )
    machines = [shop.laser_1, *WorkCenter.objects.exclude(pk=shop.laser_1.pk).order_by("code")[:2]]
    start, end = at(0), at(0, day=WEDNESDAY + timedelta(days=1))
    for wc in machines:
        moment = start
        while moment < end:
            length = timedelta(minutes=rng.choice((1, 3, 4, 7, 20, 45, 90, 200)))
            interval(wc, rng.choice(STATES), moment, min(moment + length, end), reason=rng.choice(REASONS))
            moment += length
        for hour in range(0, 72, 2):
            ProductionEvent.objects.create(
                operation=operation,
                work_center=wc,
                kind=EventKind.REPORT if hour else EventKind.START_RUN,
                at=start + timedelta(hours=hour, minutes=rng.randint(0, 119)),
                by=personas["operator"],
                quantity_good=rng.randint(5, 60),
                quantity_scrap=rng.randint(0, 3),
            )
    # A stop still open at the end (not a reason to leave finished days out).
    MachineStateInterval.objects.filter(work_center=machines[0], ended_at=end).update(ended_at=None)
    return shop


def test_stored_days_give_exactly_what_the_intervals_give(busy_week: Shop) -> None:
    period = Period.of_days(MONDAY, WEDNESDAY, now=LATER)
    tz = CHICAGO

    def whole_and_days(machine: oee.MachineInput) -> list[oee.Window]:
        return [
            oee.Window("", period.start, period.end),
            *oee.period_windows(period.start, period.end, oee.Granularity.DAY, tz),
        ]

    expected = _direct(period, whole_and_days)
    computed = plant_figures(period, now=LATER)
    assert ClosedDayFigures.objects.count() == 3 * WorkCenter.objects.filter(is_active=True).count()
    stored = plant_figures(period, now=LATER)
    assert _shown(computed) == expected
    assert _shown(stored) == expected
    assert stored.plant == computed.plant
    assert stored.shifts == computed.shifts
    assert [window.label for window, _f in stored.trend] == ["2026-11-16", "2026-11-17", "2026-11-18"]

    # The Pareto of stored days counts each stop once, also one that runs across midnight.
    pieces = [
        piece
        for machine in machine_inputs(Scope(), period.start, period.end, now=LATER)
        for piece in oee.machine_oee(machine, period.start, period.end).pieces
    ]
    assert stored.pareto_by_reason == tuple(analytics.pareto(analytics.downtime_items(pieces, by="reason")))
    assert computed.pareto_by_reason == stored.pareto_by_reason
    labels = {m.machine.machine_id: m.machine.code for m in stored.machines}
    assert stored.pareto_by_machine == tuple(
        analytics.pareto(analytics.downtime_items(pieces, by="machine", machine_labels=labels))
    )


def test_stored_shifts_give_exactly_what_the_intervals_give(busy_week: Shop) -> None:
    period = Period.of_days(MONDAY, WEDNESDAY, now=LATER)

    def occurrences(machine: oee.MachineInput) -> list[oee.Window]:
        return oee.period_windows(period.start, period.end, oee.Granularity.SHIFT, CHICAGO, machine.shifts)

    expected = _direct(period, occurrences)
    plant_figures(period, now=LATER)
    shown = plant_figures(period, granularity=oee.Granularity.SHIFT, now=LATER)
    for machine in shown.machines:
        assert [_sums(f) for _w, f in machine.trend] == expected[machine.machine.code]
    night = plant_figures(period, shift_name="night", now=LATER)
    assert _sums(night.plant) == _sums(
        oee.combine([f for m in shown.machines for w, f in m.trend if w.label.endswith(" night")])
    )


def test_today_is_stored_up_to_its_last_settled_shift_edge(shop: Shop) -> None:
    today = Period.of_days(MONDAY, MONDAY, now=at(15))
    plant_figures(today, now=at(13))
    assert ClosedDayFigures.objects.get(work_center=shop.laser_1).until == at(6)  # the shift is not over
    plant_figures(today, now=at(14, 35))
    assert ClosedDayFigures.objects.get(work_center=shop.laser_1).until == at(6)  # over, but not settled yet
    figures = plant_figures(today, now=at(15))
    assert ClosedDayFigures.objects.get(work_center=shop.laser_1).until == at(14, 30)
    assert figures.plant.oee == Decimal("0.7813")
    assert plant_figures(today, now=at(15)).plant == figures.plant


def test_a_stop_still_open_is_not_stored(shop: Shop) -> None:
    MachineStateInterval.objects.create(work_center=shop.laser_1, state="idle", started_at=at(14, 30))
    plant_figures(Period.of_days(MONDAY, MONDAY, now=at(18)), now=at(18))
    assert ClosedDayFigures.objects.get(work_center=shop.laser_1).until == at(14, 30)


def test_a_reason_given_later_is_counted(shop: Shop, personas: dict[str, Any]) -> None:
    period = Period.of_days(MONDAY, MONDAY, now=LATER)
    before = plant_figures(period, now=LATER)
    assert before.plant.breakdown_minutes == Decimal(30)
    alarm = MachineStateInterval.objects.get(work_center=shop.laser_1, state="alarm")
    assign_downtime_reason(interval=alarm, reason=DowntimeReason.objects.get(code="no-work"), user=personas["admin"])
    assert HistoryAmendment.objects.filter(cause=AmendmentCause.REASON_GIVEN).count() == 1
    after = plant_figures(period, now=LATER + timedelta(minutes=1))
    assert after.plant.breakdown_minutes == Decimal(0)
    assert after.plant.no_work_minutes == Decimal(30)


def test_a_holiday_entered_afterwards_is_counted(shop: Shop) -> None:
    period = Period.of_days(MONDAY, MONDAY, now=LATER)
    assert plant_figures(period, now=LATER).plant.oee == Decimal("0.7813")
    CalendarException.objects.create(name="Snow day", kind="holiday", start_date=MONDAY, end_date=MONDAY)
    after = plant_figures(period, now=LATER)
    assert after.plant.not_scheduled_seconds > 0
    assert after.plant.break_seconds == 0  # no shift, so no break either


def test_a_machine_made_faster_is_counted(shop: Shop) -> None:
    period = Period.of_days(MONDAY, MONDAY, now=LATER)
    assert plant_figures(period, now=LATER).plant.oee == Decimal("0.7813")
    WorkCenter.objects.filter(pk=shop.laser_1.pk).update(efficiency=Decimal("1.25"))
    # 260 parts at 1.5 / 1.25 = 1.2 min: 312 ideal minutes over 480 planned, 250 of 260 good.
    assert plant_figures(period, now=LATER).plant.oee == Decimal("0.6250")


def test_machine_data_replayed_after_an_outage_amends_the_past(shop: Shop) -> None:
    yesterday = datetime.combine(date.today() - timedelta(days=1), time(9), tzinfo=CHICAGO)
    apply_readings(
        [
            Reading(shop.brake_1.code, yesterday, "execution", "ACTIVE"),
            Reading(shop.brake_1.code, yesterday + timedelta(minutes=5), "execution", "STOPPED"),
        ]
    )
    amendment = HistoryAmendment.objects.get(work_center=shop.brake_1)
    assert amendment.cause == AmendmentCause.MACHINE_DATA
    assert amendment.start is not None and amendment.start <= yesterday + timedelta(minutes=5)


def test_live_machine_data_amends_nothing(shop: Shop) -> None:
    now = timezone.now()
    apply_readings(
        [
            Reading(shop.brake_1.code, now - timedelta(seconds=2), "execution", "ACTIVE"),
            Reading(shop.brake_1.code, now, "execution", "STOPPED"),
        ]
    )
    assert not HistoryAmendment.objects.exists()
