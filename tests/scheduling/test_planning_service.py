"""Planning runs end to end: queue, solve with a short limit, store slots and KPIs; cancel; bad input; permissions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.core.choices import JobStatus as BackgroundStatus
from apps.core.models import Job as BackgroundJob
from apps.core.services import request_job_cancel
from apps.core.testing import verified_client
from apps.machines.models import Department, WorkCenter, WorkCenterType
from apps.machines.selectors import plant_time_zone, working_intervals
from apps.routings.models import Job, Operation
from apps.scheduling.adapter import horizon_start
from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.models import Schedule, ScheduleSlot
from apps.scheduling.services import (
    DEFAULT_HORIZON_DAYS,
    plan_for_benchmark,
    plan_schedule,
    publish_schedule,
    start_planning_run,
)
from tests.scheduling.test_adapter import build_tiny_shop

pytestmark = pytest.mark.django_db
PLANT = plant_time_zone()

KPI_KEYS = [
    "late_jobs",
    "makespan_minutes",
    "setup_minutes",
    "total_tardiness_minutes",
    "utilisation",
    "weighted_tardiness",
]
RULES = ["CR", "EDD", "FIFO", "MWKR", "SLACK", "SPT"]


def queue_run(actor: Any, django_capture_on_commit_callbacks: Any, **options: Any) -> Schedule:
    with django_capture_on_commit_callbacks() as callbacks:
        schedule = start_planning_run(actor=actor, time_limit_seconds=2, workers=1, **options)
    assert len(callbacks) == 1  # the Celery task, sent once the transaction commits
    return schedule


def run_of(schedule: Schedule) -> BackgroundJob:
    assert schedule.run_id is not None
    return BackgroundJob.objects.get(pk=schedule.run_id)


def inside_working_time(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    starts_inside = any(a <= start < b for a, b in intervals)
    ends_inside = any(a < end <= b for a, b in intervals)
    return starts_inside and ends_inside


def test_a_planning_run_writes_slots_and_the_kpis_of_the_plan_and_every_rule(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    shop = build_tiny_shop(now=timezone.now())
    Job.objects.filter(number="J-2").update(due_date=timezone.localdate() - timedelta(days=3))
    planner = personas["planner"]
    schedule = queue_run(planner, django_capture_on_commit_callbacks, name="Monday plan")
    assert schedule.status == ScheduleStatus.PLANNING
    assert schedule.run is not None and schedule.run.kind == "scheduling.plan"
    assert schedule.run.status == BackgroundStatus.QUEUED
    assert schedule.horizon_start.second == 0 and schedule.horizon_start.microsecond == 0
    assert (schedule.horizon_end - schedule.horizon_start).days == DEFAULT_HORIZON_DAYS

    planned = plan_schedule(schedule_id=schedule.pk)

    assert planned.status == ScheduleStatus.READY
    assert planned.solver_status in ("optimal", "feasible")
    slots = {
        (slot.operation.job.number, slot.operation.sequence): slot
        for slot in ScheduleSlot.objects.filter(schedule=planned).select_related("operation__job", "work_center")
    }
    assert sorted(slots) == [("J-1", 10), ("J-1", 20), ("J-2", 20), ("J-2", 30)]
    assert slots[("J-1", 20)].start >= slots[("J-1", 10)].end
    assert slots[("J-2", 30)].start >= slots[("J-2", 20)].end
    running = slots[("J-2", 20)]
    assert (running.work_center.code, running.is_frozen, running.start) == ("LAS-2", True, planned.horizon_start)
    for key, slot in slots.items():
        if key == ("J-2", 20):
            continue
        assert not slot.is_frozen
        intervals = working_intervals(slot.work_center, planned.horizon_start, planned.horizon_end)
        assert inside_working_time(intervals, slot.start, slot.end), key
    assert sorted(planned.kpis) == KPI_KEYS
    assert sorted(planned.kpis["utilisation"]) == ["BRK-1", "LAS-1", "LAS-2"]
    assert planned.kpis["late_jobs"] == 1  # J-2 was due three days ago
    assert sorted(planned.rule_kpis) == RULES
    for figures in planned.rule_kpis.values():
        assert sorted(figures) == KPI_KEYS
        assert figures["weighted_tardiness"] >= planned.kpis["weighted_tardiness"]
    run = run_of(schedule)
    assert run.status == BackgroundStatus.SUCCEEDED
    assert run.progress == 100
    assert sorted(run.progress_detail) == ["best_bound", "objective", "solutions", "stage"]
    assert run.progress_detail["stage"] in ("weighted_tardiness", "makespan", "total_setup")
    assert run.result["schedule"] == planned.pk
    assert shop.rush.number == "J-1"

    # A second delivery of the task changes nothing.
    again = plan_schedule(schedule_id=schedule.pk)
    assert again.status == ScheduleStatus.READY
    assert ScheduleSlot.objects.filter(schedule=planned).count() == 4


def test_a_replan_starts_from_the_published_plan_and_shows_it_rebuilt(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    build_tiny_shop(now=timezone.now())
    Job.objects.filter(number="J-2").update(due_date=timezone.localdate() - timedelta(days=3))
    planner = personas["planner"]
    first = plan_schedule(schedule_id=queue_run(planner, django_capture_on_commit_callbacks, name="Morning").pk)
    assert (first.based_on, first.based_on_kpis) == (None, {})  # nothing was published to start from
    assert first.start.startswith(("rule:", "due-date tuning"))
    publish_schedule(actor=personas["production_manager"], schedule_id=first.pk)
    # Since the morning plan, J-1's cut was done.
    Operation.objects.filter(job__number="J-1", sequence=10).update(status="complete")

    second = queue_run(planner, django_capture_on_commit_callbacks, name="Noon")
    assert second.based_on_id == first.pk
    replanned = plan_schedule(schedule_id=second.pk)

    assert replanned.status == ScheduleStatus.READY
    assert replanned.start in ("earlier plan", "due-date tuning") or replanned.start.startswith("rule:")
    assert sorted(replanned.based_on_kpis) == KPI_KEYS  # the morning plan, rebuilt on the work left at noon
    assert replanned.based_on_kpis["weighted_tardiness"] >= replanned.kpis["weighted_tardiness"]
    assert ScheduleSlot.objects.filter(schedule=replanned).count() == 3
    body = verified_client(planner, Client).get(f"/scheduling/schedules/{replanned.pk}/").content.decode()
    assert "Morning, rebuilt" in body and "Search started from" in body
    stage = {
        "weighted_tardiness": "(weighted tardiness)",
        "makespan": "(makespan, minutes)",
        "total_setup": "(setup minutes)",
    }
    assert stage[run_of(replanned).progress_detail["stage"]] in body  # which objective "best so far" is
    admin_page = verified_client(personas["production_manager"], Client).get(
        reverse("admin:scheduling_schedule_change", args=[replanned.pk])
    )
    assert admin_page.status_code == 200 and "KPIs of the earlier plan, rebuilt" in admin_page.content.decode()

    fresh = plan_schedule(
        schedule_id=queue_run(planner, django_capture_on_commit_callbacks, start_from_published=False).pk
    )
    assert fresh.status == ScheduleStatus.READY
    assert (fresh.based_on, fresh.based_on_kpis) == (None, {})


def test_the_benchmark_replans_from_the_published_plan(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    build_tiny_shop(now=timezone.now())
    with pytest.raises(ValueError, match="no schedule is published"):
        plan_for_benchmark(time_limit_seconds=1, workers=1, horizon_days=14, start_from_published=True)
    first = plan_schedule(schedule_id=queue_run(personas["planner"], django_capture_on_commit_callbacks).pk)
    publish_schedule(actor=personas["production_manager"], schedule_id=first.pk)
    out = StringIO()
    call_command("benchmark_scheduler", "--shop", "demo", "--from-published", "--time-limit", "1", "--json", stdout=out)
    record = json.loads(out.getvalue())
    assert sorted(record["earlier_plan"]) == KPI_KEYS
    assert record["changes"]["operations"] == 4  # every open operation, the running one included
    assert record["changes"]["other_machine"] >= 0 and record["start"]


def test_a_cancelled_run_fails_and_writes_nothing(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    build_tiny_shop(now=timezone.now())
    schedule = queue_run(personas["planner"], django_capture_on_commit_callbacks)
    # Asked to stop while the worker picks it up: it stops at its first progress report.
    BackgroundJob.objects.filter(pk=run_of(schedule).pk).update(cancel_requested=True)

    planned = plan_schedule(schedule_id=schedule.pk)

    assert planned.status == ScheduleStatus.FAILED
    assert run_of(schedule).status == BackgroundStatus.CANCELLED
    assert not ScheduleSlot.objects.filter(schedule=planned).exists()


def test_an_operation_no_machine_can_run_fails_the_run_naming_job_and_operation(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    shop = build_tiny_shop(now=timezone.now())
    paint = Department.objects.create(code="finish", name="Finish", sequence=3)
    booth = WorkCenterType.objects.create(code="paint-booth", name="Paint booth", department=paint)
    WorkCenter.objects.create(code="PNT-1", name="Booth", department=paint, work_center_type=booth, is_active=False)
    Operation.objects.create(
        job=shop.rush,
        sequence=30,
        operation_code="PAINT",
        work_center_type=booth,
        quantity=20,
        setup_minutes=Decimal(5),
        run_minutes_per_unit=Decimal(1),
    )
    schedule = queue_run(personas["production_manager"], django_capture_on_commit_callbacks)

    planned = plan_schedule(schedule_id=schedule.pk)

    assert planned.status == ScheduleStatus.FAILED
    run = run_of(schedule)
    assert run.status == BackgroundStatus.FAILED
    assert run.error == "job J-1 operation 30: no active work center of type paint-booth can run it"
    assert not ScheduleSlot.objects.filter(schedule=planned).exists()


def test_an_operator_cannot_start_a_run(personas: dict[str, Any]) -> None:
    build_tiny_shop(now=timezone.now())
    with pytest.raises(PermissionDenied):
        start_planning_run(actor=personas["operator"])
    assert not Schedule.objects.exists()
    assert not BackgroundJob.objects.filter(kind="scheduling.plan").exists()


def test_work_that_cannot_finish_in_the_horizon_fails_the_run(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    shop = build_tiny_shop(now=timezone.now())
    # 20 units at 1,000 minutes: more than the 14 days' day shifts (at most 4,800 working minutes).
    Operation.objects.filter(job=shop.rush, sequence=10).update(run_minutes_per_unit=Decimal(1000))
    schedule = queue_run(personas["planner"], django_capture_on_commit_callbacks)

    planned = plan_schedule(schedule_id=schedule.pk)

    assert planned.status == ScheduleStatus.FAILED
    run = run_of(schedule)
    assert run.status == BackgroundStatus.FAILED
    assert run.error == (
        "job J-1 operation 10: takes 16008 minutes, more than all working time of its machines (LAS-1, LAS-2)"
    )
    assert not ScheduleSlot.objects.filter(schedule=planned).exists()


def test_the_benchmark_plans_the_shop_without_writing_a_schedule() -> None:
    build_tiny_shop(now=timezone.now())
    Job.objects.filter(number="J-2").update(due_date=timezone.localdate() - timedelta(days=3))

    record = plan_for_benchmark(time_limit_seconds=1, workers=1, horizon_days=14)

    assert (record["instance"], record["jobs"], record["machines"], record["operations"]) == ("demo", 2, 3, 4)
    assert record["status"] in ("optimal", "feasible")
    assert sorted(record["plan"]) == KPI_KEYS
    assert sorted(record["rules"]) == RULES
    assert record["best_rule"] in RULES
    assert record["tardiness_ratio"] <= 1
    # J-2 is days late whatever the plan: the solver's bound says how small the ratio could be.
    assert 0 < record["tardiness_ratio_floor"] <= record["tardiness_ratio"]
    assert not Schedule.objects.exists()


def test_a_run_cancelled_while_queued_never_plans(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    build_tiny_shop(now=timezone.now())
    schedule = queue_run(personas["planner"], django_capture_on_commit_callbacks)
    request_job_cancel(actor=personas["production_manager"], job_id=run_of(schedule).pk)

    planned = plan_schedule(schedule_id=schedule.pk)

    assert planned.status == ScheduleStatus.FAILED
    assert run_of(schedule).status == BackgroundStatus.CANCELLED
    assert not ScheduleSlot.objects.filter(schedule=planned).exists()


def test_the_benchmark_command_prints_one_json_line_for_the_shop() -> None:
    build_tiny_shop(now=timezone.now())
    out = StringIO()
    call_command("benchmark_scheduler", "--shop", "demo", "--time-limit", "1", "--workers", "1", "--json", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert (record["instance"], record["jobs"], record["operations"]) == ("demo", 2, 4)
    assert sorted(record["rules"]) == RULES


def test_the_benchmark_can_plan_the_shop_with_tighter_due_dates() -> None:
    build_tiny_shop(now=timezone.now())
    Job.objects.filter(number="J-2").update(due_date=timezone.localdate() + timedelta(days=3))
    as_promised = plan_for_benchmark(time_limit_seconds=1, workers=1, horizon_days=14)
    out = StringIO()
    call_command(
        "benchmark_scheduler", "--shop", "demo", "--due-earlier", "168", "--time-limit", "1", "--json", stdout=out
    )
    tighter = json.loads(out.getvalue())
    assert tighter["due_earlier_hours"] == 168
    late = [figures["late_jobs"] for figures in tighter["rules"].values()]
    assert min(late) > min(figures["late_jobs"] for figures in as_promised["rules"].values())
    with pytest.raises(CommandError, match="due dates can only be moved earlier"):
        call_command("benchmark_scheduler", "--shop", "demo", "--due-earlier", "-1", "--time-limit", "1", stdout=out)


def test_the_benchmark_plans_the_shop_from_a_given_moment() -> None:
    now = timezone.now()
    build_tiny_shop(now=now)
    out = StringIO()
    later = (now + timedelta(days=2)).astimezone(PLANT).replace(tzinfo=None)  # plant time, as a planner writes it
    call_command(
        "benchmark_scheduler", "--shop", "demo", "--now", later.isoformat(), "--time-limit", "1", "--json", stdout=out
    )
    record = json.loads(out.getvalue())
    origin = datetime.fromisoformat(record["origin"])
    assert origin == horizon_start(now + timedelta(days=2)) and origin.utcoffset() == timedelta(0)
    with pytest.raises(CommandError, match="--now plans a shop from that moment: give it with --shop demo"):
        call_command("benchmark_scheduler", "--now", later.isoformat(), stdout=StringIO())
    with pytest.raises(CommandError, match="'tomorrow' is not a date and time"):
        call_command("benchmark_scheduler", "--shop", "demo", "--now", "tomorrow", stdout=StringIO())


def test_the_benchmark_command_refuses_an_empty_shop() -> None:
    with pytest.raises(CommandError, match="--shop demo: no released job"):
        call_command("benchmark_scheduler", "--shop", "demo", "--time-limit", "1", stdout=StringIO())
