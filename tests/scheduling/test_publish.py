"""Publishing: one published schedule at a time, its slot times become the operations' planned times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from apps.core.testing import verified_client
from apps.routings.models import Operation
from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.models import Schedule, ScheduleSlot
from apps.scheduling.services import publish_schedule
from tests.scheduling.test_adapter import ORIGIN, TinyShop, build_tiny_shop

pytestmark = pytest.mark.django_db


def ready_schedule(shop: TinyShop, name: str, offset_minutes: int, status: str = ScheduleStatus.READY) -> Schedule:
    """A schedule with J-1's two operations: cut on LAS-1 (5 min changeover first), then bend on BRK-1."""
    schedule = Schedule.objects.create(
        name=name, status=status, horizon_start=ORIGIN, horizon_end=ORIGIN + timedelta(days=14)
    )
    cut, bend = Operation.objects.filter(job=shop.rush).order_by("sequence")
    at = ORIGIN + timedelta(minutes=offset_minutes)
    ScheduleSlot.objects.create(
        schedule=schedule,
        operation=cut,
        work_center=shop.las_1,
        setup_start=at,
        start=at + timedelta(minutes=5),
        end=at + timedelta(minutes=35),
        setup_minutes=5,
    )
    ScheduleSlot.objects.create(
        schedule=schedule,
        operation=bend,
        work_center=shop.brk_1,
        setup_start=at + timedelta(minutes=40),
        start=at + timedelta(minutes=40),
        end=at + timedelta(minutes=60),
    )
    return schedule


def planned_times(shop: TinyShop) -> list[tuple[datetime | None, datetime | None]]:
    return [(op.planned_start, op.planned_end) for op in Operation.objects.filter(job=shop.rush).order_by("sequence")]


def test_publishing_supersedes_the_published_schedule_and_sets_planned_times(personas: dict[str, Any]) -> None:
    shop = build_tiny_shop()
    manager = personas["production_manager"]
    first = ready_schedule(shop, "First", 0)
    second = ready_schedule(shop, "Second", 60)

    published = publish_schedule(actor=manager, schedule_id=first.pk)
    assert (published.status, published.published_by) == (ScheduleStatus.PUBLISHED, manager)
    assert published.published_at is not None

    publish_schedule(actor=manager, schedule_id=second.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ScheduleStatus.SUPERSEDED, ScheduleStatus.PUBLISHED)
    # Planned from the changeover on: the machine is taken from then.
    assert planned_times(shop) == [
        (ORIGIN + timedelta(minutes=60), ORIGIN + timedelta(minutes=95)),
        (ORIGIN + timedelta(minutes=100), ORIGIN + timedelta(minutes=120)),
    ]
    assert [op.planned_start for op in Operation.objects.filter(job=shop.running)] == [None, None, None]


@pytest.mark.parametrize("status", [ScheduleStatus.PLANNING, ScheduleStatus.FAILED, ScheduleStatus.SUPERSEDED])
def test_only_a_ready_schedule_can_be_published(personas: dict[str, Any], status: str) -> None:
    shop = build_tiny_shop()
    schedule = ready_schedule(shop, "Not ready", 0, status=status)
    with pytest.raises(ValidationError):
        publish_schedule(actor=personas["production_manager"], schedule_id=schedule.pk)
    schedule.refresh_from_db()
    assert schedule.status == status
    assert planned_times(shop) == [(None, None), (None, None)]


@pytest.mark.parametrize("role", ["operator", "planner"])
def test_only_a_production_manager_publishes(personas: dict[str, Any], role: str) -> None:
    shop = build_tiny_shop()
    schedule = ready_schedule(shop, "Ready", 0)
    with pytest.raises(PermissionDenied):
        publish_schedule(actor=personas[role], schedule_id=schedule.pk)
    schedule.refresh_from_db()
    assert (schedule.status, schedule.published_at) == (ScheduleStatus.READY, None)
    assert planned_times(shop) == [(None, None), (None, None)]


def test_the_admin_publish_action_calls_the_service(personas: dict[str, Any]) -> None:
    shop = build_tiny_shop()
    schedule = ready_schedule(shop, "Ready", 0)
    manager = verified_client(personas["production_manager"], Client)
    for name in ("schedule", "scheduleslot", "changeovertime"):
        assert manager.get(reverse(f"admin:scheduling_{name}_changelist")).status_code == 200
    response = manager.post(
        reverse("admin:scheduling_schedule_changelist"),
        {"action": "publish", "_selected_action": [schedule.pk], "index": 0},
        follow=True,
    )
    assert [str(message) for message in response.context["messages"]] == ["Ready published."]
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.PUBLISHED


def test_operators_clocked_in_are_told_when_their_machines_next_work_changes(
    personas: dict[str, Any], make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.core.models import Notification
    from apps.shopfloor.services import clock_in

    shop = build_tiny_shop()
    operator = personas["operator"]
    elsewhere = make_user("otto", "operator")
    clock_in(operator=operator, work_center_ids=[shop.las_1.pk, shop.brk_1.pk])
    clock_in(operator=elsewhere, work_center_ids=[shop.las_2.pk])
    manager = personas["production_manager"]
    cut, bend = Operation.objects.filter(job=shop.rush).order_by("sequence")

    with django_capture_on_commit_callbacks(execute=False):
        publish_schedule(actor=manager, schedule_id=ready_schedule(shop, "First", 0).pk)

    told = Notification.objects.filter(user=operator).order_by("title")
    assert [(n.kind, n.title, n.body, n.url) for n in told] == [
        (
            "scheduling.next_work",
            "BRK-1: next is J-1/20 OP20",
            "A new plan is published; this operation is planned to start at Mon 03.06 08:40.",
            f"/shop/o/{bend.pk}/",
        ),
        (
            "scheduling.next_work",
            "LAS-1: next is J-1/10 OP10",
            "A new plan is published; this operation is planned to start at Mon 03.06 08:00.",
            f"/shop/o/{cut.pk}/",
        ),
    ]
    assert not Notification.objects.filter(user=elsewhere).exists()

    # Another plan with the same next work on each machine (later times): nothing new to tell.
    with django_capture_on_commit_callbacks(execute=False):
        publish_schedule(actor=manager, schedule_id=ready_schedule(shop, "Second", 60).pk)
    assert Notification.objects.filter(user=operator).count() == 2
