"""Late risk of jobs: late, at risk or on track, with exact minutes.

The plant works 06:00–14:30 Monday to Friday with a 10:00–10:30 break (480 minutes a day), in
America/Chicago. "Now" is Monday 4 March 2030, 08:00 local (14:00 UTC): 360 working minutes are
left today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet

from apps.machines.models import CalendarException
from apps.routings import services
from apps.routings.choices import JobStatus
from apps.routings.models import Job, Operation
from apps.routings.precedence import critical_path
from apps.routings.selectors import JobRisk, LateRisk, late_risk_for, late_risk_of

from .builders import Shop, build_shop, day_shift_plant_calendar, diamond_part, make_job, make_part, step, straight_part

NOW = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)
MONDAY, TUESDAY, WEDNESDAY, FRIDAY, SATURDAY = (date(2030, 3, d) for d in (4, 5, 6, 8, 9))
LAST_FRIDAY = date(2030, 3, 1)


def test_critical_path_takes_the_longest_chain() -> None:
    weights = {10: Decimal(20), 20: Decimal(40), 30: Decimal(10), 40: Decimal(60)}
    assert critical_path(weights, {10: [], 20: [10], 30: [10], 40: [20, 30]}) == Decimal(120)
    assert critical_path({**weights, 20: Decimal(0)}, {10: [], 20: [10], 30: [10], 40: [20, 30]}) == Decimal(90)
    assert critical_path({}, {}) == Decimal(0)


def test_critical_path_survives_a_cycle() -> None:
    assert critical_path({1: Decimal(5), 2: Decimal(7)}, {1: [2], 2: [1]}) == Decimal(12)


@pytest.fixture
def shop(db: Any) -> Shop:
    day_shift_plant_calendar()
    return build_shop()


def risk(job: Job) -> JobRisk:
    return late_risk_for(Job.objects.filter(pk=job.pk), now=NOW)[job.pk]


def test_due_date_passed_is_late(shop: Shop) -> None:
    job = make_job(shop, straight_part(shop), quantity=1, due=LAST_FRIDAY, status=JobStatus.RELEASED)
    assert risk(job) == JobRisk(LateRisk.LATE, Decimal("68.75"), 0)


def test_draft_uses_routing_times_times_quantity(shop: Shop) -> None:
    part = straight_part(shop)
    # 15 + 0.5 q, 20 + 1.25 q, 30 + 2 q one after the other: 65 + 3.75 q minutes.
    assert risk(make_job(shop, part, quantity=70, due=MONDAY)) == JobRisk(LateRisk.ON_TRACK, Decimal("327.50"), 360)
    assert risk(make_job(shop, part, quantity=80, due=MONDAY)) == JobRisk(LateRisk.AT_RISK, Decimal("365.00"), 360)
    assert risk(make_job(shop, part, quantity=80, due=TUESDAY)) == JobRisk(LateRisk.ON_TRACK, Decimal("365.00"), 840)


def test_exactly_enough_time_is_on_track(shop: Shop) -> None:
    part = make_part()
    step(part, 10, "CUT", shop.laser, "0", "1")
    assert risk(make_job(shop, part, quantity=360, due=MONDAY)).risk == LateRisk.ON_TRACK
    assert risk(make_job(shop, part, quantity=361, due=MONDAY)).risk == LateRisk.AT_RISK


def test_released_job_counts_only_unfinished_operations_on_the_critical_path(shop: Shop) -> None:
    job = make_job(shop, diamond_part(shop), quantity=10, due=MONDAY)
    services.release_job(actor=None, job_id=job.pk)
    # CUT 20, then BEND 40 beside PUNCH 10, then WELD 60: 120 minutes along CUT-BEND-WELD.
    assert risk(job) == JobRisk(LateRisk.ON_TRACK, Decimal("120.00"), 360)
    cut = Operation.objects.get(job=job, sequence=10)
    services.start_operation(actor=None, operation_id=cut.pk)
    assert risk(job).remaining_minutes == Decimal("120.00")  # in progress counts in full
    services.complete_operation(actor=None, operation_id=cut.pk)
    assert risk(job).remaining_minutes == Decimal("100.00")
    Operation.objects.filter(job=job, sequence=20).update(setup_minutes=Decimal("400"))
    assert risk(job) == JobRisk(LateRisk.AT_RISK, Decimal("480.00"), 360)


def test_on_hold_job_keeps_its_risk_and_closed_jobs_have_none(shop: Shop) -> None:
    part = straight_part(shop)
    held = make_job(shop, part, quantity=80, due=MONDAY)
    services.release_job(actor=None, job_id=held.pk)
    services.hold_job(actor=None, job_id=held.pk, reason="material")
    done = make_job(shop, part, due=LAST_FRIDAY, status=JobStatus.COMPLETE)
    cancelled = make_job(shop, part, due=LAST_FRIDAY, status=JobStatus.CANCELLED)
    found = late_risk_for(Job.objects.all(), now=NOW)
    assert found == {held.pk: JobRisk(LateRisk.AT_RISK, Decimal("365.00"), 360)}
    assert done.pk not in found and cancelled.pk not in found


def test_plant_holidays_and_overtime_change_the_available_minutes(shop: Shop) -> None:
    part = make_part()
    step(part, 10, "CUT", shop.laser, "0", "1")
    friday = make_job(shop, part, quantity=2000, due=FRIDAY)
    saturday = make_job(shop, part, quantity=2000, due=SATURDAY)
    assert risk(friday) == JobRisk(LateRisk.ON_TRACK, Decimal("2000.000"), 2280)

    CalendarException.objects.create(kind="holiday", name="Plant closed", start_date=WEDNESDAY, end_date=WEDNESDAY)
    CalendarException.objects.create(
        kind="shutdown", name="Laser service", work_center=shop.laser_1, start_date=TUESDAY, end_date=TUESDAY
    )
    CalendarException.objects.create(
        kind="overtime",
        name="Saturday morning",
        starts_at=datetime(2030, 3, 9, 14, 0, tzinfo=UTC),
        ends_at=datetime(2030, 3, 9, 18, 0, tzinfo=UTC),
    )
    # The plant-wide holiday takes 480 minutes; one machine's shutdown does not change the plant.
    assert risk(friday) == JobRisk(LateRisk.AT_RISK, Decimal("2000.000"), 1800)
    assert risk(saturday) == JobRisk(LateRisk.ON_TRACK, Decimal("2000.000"), 2040)


def test_without_a_plant_calendar_every_minute_counts(db: Any) -> None:
    shop = build_shop()
    part = make_part()
    step(part, 10, "CUT", shop.laser, "0", "1")
    assert risk(make_job(shop, part, quantity=961, due=MONDAY)) == JobRisk(LateRisk.AT_RISK, Decimal("961.000"), 960)


def test_risk_of_many_jobs_takes_a_constant_number_of_queries(shop: Shop, django_assert_num_queries: Any) -> None:
    def jobs_of(count: int) -> QuerySet[Job]:
        part = diamond_part(shop)
        for index in range(count):
            job = make_job(shop, part, quantity=5 + index, due=TUESDAY)
            if index % 2:
                services.release_job(actor=None, job_id=job.pk)
        return Job.objects.filter(part=part)

    few = list(jobs_of(2))
    many = list(jobs_of(30))
    # operations, their links, routing steps, their links, shifts, breaks, exceptions
    with django_assert_num_queries(7):
        late_risk_for(few, now=NOW)
    with django_assert_num_queries(7):
        assert len(late_risk_for(many, now=NOW)) == 30


def test_late_risk_of_a_queryset(shop: Shop) -> None:
    part = straight_part(shop)
    late = make_job(shop, part, quantity=1, due=LAST_FRIDAY)
    at_risk = make_job(shop, part, quantity=100, due=MONDAY)
    on_track = make_job(shop, part, quantity=1, due=FRIDAY)
    make_job(shop, part, quantity=1, due=FRIDAY, status=JobStatus.COMPLETE)
    found = late_risk_of(Job.objects.select_related("customer"), now=NOW)
    assert {pk: risk.risk for pk, risk in found.items()} == {
        late.pk: LateRisk.LATE,
        at_risk.pk: LateRisk.AT_RISK,
        on_track.pk: LateRisk.ON_TRACK,
    }
