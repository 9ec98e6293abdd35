"""The demo shop `make run` loads: its shape, and that loading it again changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from apps.inventory.models import Material
from apps.machines.choices import ExceptionKind, Weekday
from apps.machines.models import CalendarException, Department, ShiftCalendar, WorkCenter, WorkCenterType
from apps.routings.choices import JobStatus, OperationStatus, Priority
from apps.routings.demo import DemoSummary, load_demo_shop, plan_demo_shop
from apps.routings.demo.plan import Holiday, us_plant_holidays
from apps.routings.models import Customer, Job, Operation, Part, RoutingStep
from apps.routings.services import validate_routing

pytestmark = pytest.mark.django_db
PLANT = ZoneInfo(settings.PLANT_TIME_ZONE)


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoSummary]:
    """Loaded once for the module (it takes a few seconds) in a transaction rolled back at the end;
    each test runs in a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo_shop()
        transaction.set_rollback(True)


def snapshot() -> dict[str, Any]:
    return {
        "counts": {
            model.__name__: model.objects.count()
            for model in (
                Department,
                WorkCenterType,
                WorkCenter,
                ShiftCalendar,
                CalendarException,
                Material,
                Customer,
                Part,
                RoutingStep,
                Job,
                Operation,
            )
        },
        "jobs": list(Job.objects.order_by("number").values_list("number", "status", "released_at", "quantity")),
        "operations": list(Operation.objects.order_by("pk").values_list("pk", "status", "actual_start", "actual_end")),
    }


def test_departments_work_centers_and_calendars(demo: DemoSummary) -> None:
    assert list(Department.objects.values_list("code", flat=True)) == [
        "laser",
        "punch",
        "forming",
        "weld",
        "finish",
        "assembly",
        "shipping",
    ]
    assert 28 <= WorkCenter.objects.count() <= 32
    assert WorkCenterType.objects.count() == 13
    for center in WorkCenter.objects.select_related("work_center_type"):
        assert center.department_id == center.work_center_type.department_id
        assert Decimal("0.85") <= center.efficiency <= Decimal("1.15")
        assert center.hourly_rate > 0
    lasers = WorkCenter.objects.filter(work_center_type__code="fiber-laser").order_by("code")
    assert [(w.code, w.is_bottleneck, w.calendar.name, w.iot_device_id) for w in lasers] == [
        ("LAS-01", True, "Lasers with Saturday", "laser-01"),
        ("LAS-02", True, "Lasers with Saturday", "laser-02"),
    ]
    assert set(WorkCenter.objects.filter(is_bottleneck=True).values_list("code", flat=True)) == {"LAS-01", "LAS-02"}
    assert not WorkCenter.objects.filter(
        work_center_type__code__in=("fiber-laser", "turret-punch"), sigmanest_machine_id=""
    )
    assert WorkCenter.objects.get(code="PUN-01").name == "Amada EM-2510NT turret"

    default = ShiftCalendar.objects.get(is_plant_default=True)
    assert default.name == "Two shifts Mon–Fri"
    shifts = [
        (s.weekday, s.name, s.start, s.end, [(b.start, b.end) for b in s.breaks.all()])
        for s in default.shifts.prefetch_related("breaks")
    ]
    assert shifts == [
        entry
        for day in range(Weekday.MONDAY, Weekday.SATURDAY)
        for entry in (
            (day, "1st shift", time(6), time(14, 30), [(time(10), time(10, 30))]),
            (day, "2nd shift", time(14, 30), time(23), [(time(18, 30), time(19))]),
        )
    ]
    laser_calendar = ShiftCalendar.objects.get(name="Lasers with Saturday")
    assert not laser_calendar.is_plant_default
    assert list(laser_calendar.shifts.filter(weekday=Weekday.SATURDAY).values_list("start", "end")) == [
        (time(6), time(12))
    ]
    assert not WorkCenter.objects.exclude(work_center_type__code="fiber-laser").exclude(calendar=None)


def test_holidays_and_maintenance(demo: DemoSummary) -> None:
    today = timezone.localdate()
    holidays = CalendarException.objects.filter(kind=ExceptionKind.HOLIDAY)
    assert list(holidays.order_by("start_date").values_list("name", "start_date", "end_date")) == [
        (h.name, h.first_day, h.last_day) for h in us_plant_holidays(today, today + timedelta(days=366))
    ]
    assert not holidays.exclude(work_center=None)
    maintenance = CalendarException.objects.get(kind=ExceptionKind.MAINTENANCE)
    assert maintenance.work_center.code == "BRK-02"
    assert maintenance.starts_at > timezone.now()
    assert maintenance.ends_at - maintenance.starts_at == timedelta(hours=8, minutes=30)
    assert maintenance.starts_at.astimezone(PLANT).time() == time(6)


def test_us_plant_holidays_are_the_real_dates() -> None:
    assert us_plant_holidays(date(2026, 11, 22), date(2027, 12, 31)) == [
        Holiday("Thanksgiving", date(2026, 11, 26), date(2026, 11, 27)),
        Holiday("Christmas", date(2026, 12, 24), date(2026, 12, 25)),
        Holiday("New Year's Day", date(2027, 1, 1), date(2027, 1, 1)),
        Holiday("Memorial Day", date(2027, 5, 31), date(2027, 5, 31)),
        # 4 July 2027 is a Sunday: observed on Monday the 5th.
        Holiday("Independence Day", date(2027, 7, 4), date(2027, 7, 5)),
        Holiday("Labor Day", date(2027, 9, 6), date(2027, 9, 6)),
        Holiday("Thanksgiving", date(2027, 11, 25), date(2027, 11, 26)),
        # 25 December 2027 is a Saturday: the plant also closes on Friday the 24th.
        Holiday("Christmas", date(2027, 12, 24), date(2027, 12, 25)),
    ]
    # New Year's Day 2028 is a Saturday, observed on Friday 31 December 2027.
    assert us_plant_holidays(date(2027, 12, 26), date(2028, 1, 2)) == [
        Holiday("New Year's Day", date(2027, 12, 31), date(2028, 1, 1))
    ]


def test_parts_and_routings(demo: DemoSummary) -> None:
    assert Material.objects.count() == 17
    assert Customer.objects.count() == 40
    assert Part.objects.count() == 150
    assert Part.objects.filter(is_active=False, revision="A").count() == 14
    assert Part.objects.filter(revision="B").count() == 14
    nonlinear = 0
    for part in Part.objects.prefetch_related("routing_steps__predecessors", "routing_steps__work_center_type"):
        steps = list(part.routing_steps.all())
        assert 3 <= len(steps) <= 7, part
        validate_routing(part, steps)
        nonlinear += any(len(step.predecessors.all()) > 1 for step in steps)
        for step in steps:
            assert 10 <= step.setup_minutes <= 60
            assert Decimal("0.5") <= step.run_minutes_per_unit <= 25
    # Sinks and doors: two forming branches that join at the weld.
    assert nonlinear == Part.objects.filter(number__regex=r"^(SNK|HMD)-").count() > 20
    preferred = RoutingStep.objects.exclude(preferred_work_center=None).select_related("preferred_work_center")
    assert preferred.exists()
    for step in preferred:
        assert step.preferred_work_center.work_center_type_id == step.work_center_type_id
    door = RoutingStep.objects.filter(part__number="HMD-3070-F-18", part__revision="A")
    links = {
        s.sequence: sorted(p.sequence for p in s.predecessors.all()) for s in door.prefetch_related("predecessors")
    }
    assert links == {10: [], 20: [], 30: [10], 40: [], 50: [20, 40], 60: [], 70: []}


def test_open_jobs(demo: DemoSummary) -> None:
    today = timezone.localdate()
    jobs = Job.objects.select_related("part")
    assert jobs.count() == 300
    assert Counter(jobs.values_list("status", flat=True)) == {
        JobStatus.RELEASED: 239,
        JobStatus.IN_PROGRESS: 25,
        JobStatus.ON_HOLD: 6,
        JobStatus.DRAFT: 30,
    }
    assert demo.job_statuses == {"Draft": 30, "Released": 239, "In progress": 25, "On hold": 6}
    for job in jobs:
        assert today < job.due_date <= today + timedelta(days=42), job
        assert job.due_date.weekday() < 5
        assert job.part.is_active
        assert job.number.startswith(f"J{today:%y}-")
    priorities = Counter(jobs.values_list("priority", flat=True))
    assert priorities[Priority.NORMAL] > 150
    assert priorities[Priority.RUSH] > 5
    assert not jobs.filter(status=JobStatus.ON_HOLD, hold_reason="")
    for job in jobs.exclude(status=JobStatus.DRAFT):
        released = job.released_at.astimezone(PLANT)
        assert released < timezone.now() and released.weekday() < 5 and time(6) <= released.time() < time(23), job
    assert not jobs.filter(status=JobStatus.DRAFT, released_at__isnull=False)
    assert jobs.exclude(sales_order="").count() > 250


def test_released_jobs_carry_their_routing(demo: DemoSummary) -> None:
    assert not Operation.objects.filter(job__status=JobStatus.DRAFT)
    released = Job.objects.exclude(status=JobStatus.DRAFT).prefetch_related(
        "operations__predecessors", "part__routing_steps__predecessors"
    )
    for job in released:
        steps = [
            (s.sequence, s.operation_code, s.work_center_type_id, s.setup_minutes, s.run_minutes_per_unit)
            for s in job.part.routing_steps.all()
        ]
        operations = [
            (o.sequence, o.operation_code, o.work_center_type_id, o.setup_minutes, o.run_minutes_per_unit)
            for o in job.operations.all()
        ]
        assert operations == steps, job
        assert {o.quantity for o in job.operations.all()} == {job.quantity}
        assert all(o.predecessors.all() or o.sequence == 10 for o in job.operations.all())


def test_jobs_in_progress_were_worked_in_past_shifts(demo: DemoSummary) -> None:
    now = timezone.now()
    for job in Job.objects.filter(status=JobStatus.IN_PROGRESS).prefetch_related("operations"):
        operations = list(job.operations.all())
        started = [o for o in operations if o.status != OperationStatus.PENDING]
        assert started and started[0].sequence == 10, job
        assert [o.status for o in operations].count(OperationStatus.COMPLETE) <= len(operations) - 2
        for op in started:
            assert now - timedelta(days=7) < op.actual_start < now
            local = op.actual_start.astimezone(PLANT)
            assert local.weekday() < 5 and time(6) <= local.time() < time(23), op
            if op.status == OperationStatus.COMPLETE:
                assert op.actual_start < op.actual_end < now
        assert job.released_at < started[0].actual_start == job.status_changed_at
    assert not Operation.objects.filter(job__status__in=(JobStatus.RELEASED, JobStatus.ON_HOLD)).exclude(
        status=OperationStatus.PENDING
    )


def test_loading_again_changes_nothing(demo: DemoSummary) -> None:
    before = snapshot()
    again = load_demo_shop()
    assert snapshot() == before
    assert sum(again.created.values()) == 0
    assert again.totals == demo.totals


def test_command_prints_a_summary(demo: DemoSummary) -> None:
    out = StringIO()
    call_command("load_demo_shop", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Demo shop loaded in ")
    counts = {line[:25].strip(): line[25:].split() for line in lines[1:-1]}
    assert counts["work centers"] == ["0", "/", str(WorkCenter.objects.count())]
    assert counts["jobs"] == ["0", "/", "300"]
    assert counts["operations"] == ["0", "/", str(Operation.objects.count())]
    assert lines[-1] == "  jobs by status: draft 30, released 239, in progress 25, on hold 6"


def test_the_command_refuses_a_moment_it_cannot_read(demo: DemoSummary) -> None:
    with pytest.raises(CommandError, match="'Monday' is not a date and time: write ISO 8601"):
        call_command("load_demo_shop", "--now", "Monday", stdout=StringIO())


def test_plan_is_the_same_for_the_same_day() -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    first = plan_demo_shop(now=now, tz=PLANT)
    assert plan_demo_shop(now=now, tz=PLANT) == first
    later_that_day = plan_demo_shop(now=now + timedelta(hours=3), tz=PLANT)
    assert [(j.number, j.part, j.quantity, j.due_date, j.status) for j in later_that_day.jobs] == [
        (j.number, j.part, j.quantity, j.due_date, j.status) for j in first.jobs
    ]
    assert plan_demo_shop(now=now, tz=PLANT, seed=7).jobs != first.jobs
