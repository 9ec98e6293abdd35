"""The machines admin: actions call the services; shift and exception forms check what tables cannot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.testing import verified_client
from apps.machines.models import CalendarException, ShiftCalendar, WorkCenter

from .shop import day_shift_calendar, laser

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(personas: dict[str, Any]) -> Callable[[str], Client]:
    return lambda role: verified_client(personas[role], Client)


def test_make_plant_default_action(admin_client_for: Callable[[str], Client]) -> None:
    old = day_shift_calendar("Old", plant_default=True)
    new = day_shift_calendar("New")

    response = admin_client_for("production_manager").post(
        reverse("admin:machines_shiftcalendar_changelist"),
        {"action": "make_plant_default", "_selected_action": [new.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "“New” is now the plant default calendar." in response.content.decode()
    assert list(ShiftCalendar.objects.filter(is_plant_default=True)) == [new]
    assert ShiftCalendar.objects.get(pk=old.pk).is_plant_default is False


def test_make_plant_default_action_needs_exactly_one(admin_client_for: Callable[[str], Client]) -> None:
    old = day_shift_calendar("Old", plant_default=True)
    new = day_shift_calendar("New")

    response = admin_client_for("production_manager").post(
        reverse("admin:machines_shiftcalendar_changelist"),
        {"action": "make_plant_default", "_selected_action": [old.pk, new.pk]},
        follow=True,
    )

    assert "Choose exactly one calendar as the plant default." in response.content.decode()
    assert list(ShiftCalendar.objects.filter(is_plant_default=True)) == [old]


def test_deactivate_and_activate_actions(admin_client_for: Callable[[str], Client]) -> None:
    one, two = laser("laser-1"), laser("laser-2")
    client = admin_client_for("production_manager")
    url = reverse("admin:machines_workcenter_changelist")

    taken = client.post(url, {"action": "deactivate", "_selected_action": [one.pk, two.pk]}, follow=True)
    assert "2 work centers taken out of service." in taken.content.decode()
    assert list(WorkCenter.objects.filter(is_active=True)) == []

    back = client.post(url, {"action": "activate", "_selected_action": [two.pk]}, follow=True)
    assert "1 work center put back in service." in back.content.decode()
    assert list(WorkCenter.objects.filter(is_active=True)) == [two]


def test_shift_page_refuses_a_break_outside_the_shift(admin_client_for: Callable[[str], Client]) -> None:
    calendar = day_shift_calendar()
    shift = calendar.shifts.get(weekday=0)
    lunch = shift.breaks.get()
    form = {
        "calendar": calendar.pk,
        "name": "1st",
        "weekday": 0,
        "start": "06:00",
        "end": "10:15",  # the stored 10:00–10:30 lunch no longer fits
        "breaks-TOTAL_FORMS": 1,
        "breaks-INITIAL_FORMS": 1,
        "breaks-MIN_NUM_FORMS": 0,
        "breaks-MAX_NUM_FORMS": 1000,
        "breaks-0-id": lunch.pk,
        "breaks-0-shift": shift.pk,
        "breaks-0-start": "10:00",
        "breaks-0-end": "10:30",
    }

    response = admin_client_for("production_manager").post(
        reverse("admin:machines_shift_change", args=[shift.pk]), form
    )

    assert response.status_code == 200
    assert "The break 10:00–10:30 lies outside the shift 06:00–10:15." in response.content.decode()
    shift.refresh_from_db()
    assert shift.end == time(14, 30)


def test_exception_page_refuses_days_and_times_together(admin_client_for: Callable[[str], Client]) -> None:
    response = admin_client_for("production_manager").post(
        reverse("admin:machines_calendarexception_add"),
        {
            "kind": "holiday",
            "name": "Both",
            "start_date": "2026-07-03",
            "end_date": "2026-07-03",
            "starts_at_0": "2026-07-03",
            "starts_at_1": "08:00",
            "ends_at_0": "2026-07-03",
            "ends_at_1": "12:00",
        },
    )

    assert response.status_code == 200
    assert "Give either the first and last day, or the start and end time, not both." in response.content.decode()
    assert CalendarException.objects.count() == 0


def test_changelists_open_for_the_manager(admin_client_for: Callable[[str], Client]) -> None:
    calendar = day_shift_calendar(plant_default=True)
    laser("laser-1")
    client = admin_client_for("production_manager")

    for model in (
        "department",
        "workcentertype",
        "workcenter",
        "shiftcalendar",
        "shift",
        "shiftbreak",
        "calendarexception",
    ):
        assert client.get(reverse(f"admin:machines_{model}_changelist")).status_code == 200, model
    assert client.get(reverse("admin:machines_shiftcalendar_change", args=[calendar.pk])).status_code == 200
