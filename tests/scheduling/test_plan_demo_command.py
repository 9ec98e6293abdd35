"""`plan_demo_schedule`: `make demo` leaves a published plan, so queues and the Gantt have one at once."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.routings.choices import OperationStatus
from apps.routings.models import Operation
from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.models import Schedule, ScheduleSlot
from tests.scheduling.test_adapter import build_tiny_shop

pytestmark = pytest.mark.django_db


def plan(*args: str) -> str:
    out = StringIO()
    call_command("plan_demo_schedule", "--time-limit", "2", *args, stdout=out)
    return out.getvalue()


def test_the_demo_plan_is_made_by_the_planner_and_published_by_the_manager(personas: dict[str, Any]) -> None:
    shop = build_tiny_shop(now=timezone.now())
    before = Schedule.objects.create(
        name="Old", status=ScheduleStatus.PUBLISHED, horizon_start=timezone.now(), horizon_end=timezone.now()
    )

    printed = plan()

    published = Schedule.objects.get(status=ScheduleStatus.PUBLISHED)
    assert published.name == "Demo plan"
    assert published.created_by == personas["planner"]
    assert published.published_by == personas["production_manager"]
    assert Schedule.objects.get(pk=before.pk).status == ScheduleStatus.SUPERSEDED
    open_work = set(
        Operation.objects.filter(job=shop.rush, status=OperationStatus.PENDING).values_list("pk", flat=True)
    )
    assert open_work
    assert open_work <= set(ScheduleSlot.objects.filter(schedule=published).values_list("operation_id", flat=True))
    # Publishing gives the operations their planned times, which the dispatch lists read.
    assert not Operation.objects.filter(pk__in=open_work, planned_start__isnull=True).exists()
    assert printed.startswith(f"Published 'Demo plan': {published.slots.count()} operations")


def test_the_demo_plan_can_start_at_a_given_moment(personas: dict[str, Any]) -> None:
    build_tiny_shop(now=timezone.now())
    moment = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)

    printed = plan("--now", moment.isoformat())

    published = Schedule.objects.get(status=ScheduleStatus.PUBLISHED)
    assert published.horizon_start == moment
    assert f"on {moment.astimezone(UTC):%Y-%m-%d %H:%M} to " in printed


def test_without_the_demo_users_it_says_what_to_run(make_user: Any) -> None:
    build_tiny_shop(now=timezone.now())
    make_user("planner", "planner")

    with pytest.raises(CommandError, match="no active demo user 'production_manager': run create_demo_users first"):
        plan()
    assert not Schedule.objects.exists()


def test_a_plan_that_cannot_be_made_is_an_error_with_the_reason(personas: dict[str, Any]) -> None:
    shop = build_tiny_shop(now=timezone.now())
    Operation.objects.filter(job=shop.rush, sequence=10).update(run_minutes_per_unit=Decimal(1000))

    with pytest.raises(CommandError, match="The demo plan was not made: job J-1 operation 10: takes 16008 minutes"):
        plan()
    assert not Schedule.objects.filter(status=ScheduleStatus.PUBLISHED).exists()


def test_a_bad_horizon_is_refused_before_anything_is_written(personas: dict[str, Any]) -> None:
    build_tiny_shop(now=timezone.now())

    with pytest.raises(CommandError, match="The horizon must be 1 to 90 days."):
        plan("--horizon-days", "0")
    assert not Schedule.objects.exists()
