"""The live pages: what they show, who may open them, and a constant number of queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.testing import verified_client
from apps.machines.machine_state import Reading
from apps.machines.models import Alarm, DowntimeReason, MachineStateInterval, WorkCenter
from apps.machines.services import apply_readings, create_display_token, revoke_display_tokens

from .shop import laser, shift_calendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def around_the_clock(db: Any) -> None:
    shift_calendar("24/7", [(day, time(0), time(0), []) for day in range(7)], plant_default=True)


@pytest.fixture
def operator(make_user: Callable[..., Any]) -> Client:
    return verified_client(make_user("olga", "operator"), Client)


def machines(count: int, start: int = 1) -> list[WorkCenter]:
    return [laser(f"WC-{n}") for n in range(start, start + count)]


def feed(*codes: str) -> None:
    now = timezone.now()
    apply_readings(
        [Reading(code, now, "execution", "ACTIVE") for code in codes]
        + [Reading(code, now, "program", f"P-{code}") for code in codes]
    )


def test_plant_status_shows_every_machine_with_its_state(around_the_clock: None, operator: Client) -> None:
    one, two = machines(2)
    feed("WC-1")
    apply_readings([Reading("WC-2", timezone.now(), "alarm", "E42")])
    html = operator.get(reverse("machines:plant-status")).content.decode()
    assert f'data-machine="{one.pk}" data-version="1" data-state="running"' in html
    assert f'data-machine="{two.pk}" data-version="1" data-state="alarm"' in html
    assert "P-WC-1" in html
    assert '<span class="alarm-chip alarm-fault">E42</span>' in html
    assert "css/live.css" in html and "js/live-machines.js" in html
    assert 'data-live-socket="/ws/machines/plant/"' in html
    assert '<strong data-count="running">1</strong>' in html
    assert '<strong data-count="alarm">1</strong>' in html


def test_plant_status_query_count_does_not_grow_with_machines(around_the_clock: None, operator: Client) -> None:
    machines(2)
    feed("WC-1", "WC-2")
    operator.get(reverse("machines:plant-status"))
    with CaptureQueriesContext(connection) as few:
        assert operator.get(reverse("machines:plant-status")).status_code == 200
    machines(6, start=3)
    feed("WC-3", "WC-4", "WC-5")
    with CaptureQueriesContext(connection) as many:
        assert operator.get(reverse("machines:plant-status")).status_code == 200
    assert len(many) == len(few)


def test_department_dashboard_and_its_query_count(around_the_clock: None, operator: Client) -> None:
    (one,) = machines(1)
    url = reverse("machines:department-live", args=[one.department_id])
    operator.get(url)
    with CaptureQueriesContext(connection) as few:
        response = operator.get(url)
    assert response.status_code == 200
    assert f'data-live-socket="/ws/machines/departments/{one.department_id}/"' in response.content.decode()
    machines(4, start=2)
    feed("WC-2", "WC-3")
    with CaptureQueriesContext(connection) as many:
        assert operator.get(url).status_code == 200
    assert len(many) == len(few)
    assert operator.get(reverse("machines:department-live", args=[999999])).status_code == 404


def test_tv_display_needs_a_live_token_and_no_login(around_the_clock: None) -> None:
    (one,) = machines(1)
    token, secret = create_display_token(department=one.department, name="Laser TV", user=None)
    anonymous = Client()
    response = anonymous.get(reverse("machines:department-display", args=[secret]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-live-socket="/ws/machines/display/{secret}/"' in html
    assert 'class="tv-display"' in html and 'class="nav"' not in html
    assert anonymous.get(reverse("machines:department-display", args=["wrong"])).status_code == 404
    revoke_display_tokens(token_ids=[token.pk], user=None)
    assert anonymous.get(reverse("machines:department-display", args=[secret])).status_code == 404


def test_machine_page_draws_the_shift_timeline(around_the_clock: None, make_user: Callable[..., Any]) -> None:
    (one,) = machines(1)
    now = timezone.now()
    apply_readings(
        [
            Reading("WC-1", now - timedelta(minutes=3), "execution", "STOPPED"),
            Reading("WC-1", now - timedelta(minutes=2), "execution", "ACTIVE"),
            Reading("WC-1", now - timedelta(minutes=2), "spindle_speed", 1500.0),
            Reading("WC-1", now - timedelta(minutes=1), "condition:system", "FAULT:1105"),
        ]
    )
    user = make_user("lead", "operator")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["assign_downtime_reason", "acknowledge_alarm"]))
    client = verified_client(user, Client)
    url = reverse("machines:workcenter-live", args=[one.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<rect class="seg-state state-') == 3
    assert '<rect class="seg-state state-unplanned_down"' in html
    assert '<dd data-signal="spindle_speed">1500.0</dd>' in html
    down = MachineStateInterval.objects.get(work_center=one, state="unplanned_down")
    alarm = Alarm.objects.get(work_center=one)
    assert reverse("machines:assign-downtime-reason", args=[down.pk]) in html
    assert reverse("machines:acknowledge-alarm", args=[alarm.pk]) in html
    assert len(queries) <= 20

    crane = DowntimeReason.objects.get(code="waiting-crane")
    response = client.post(reverse("machines:assign-downtime-reason", args=[down.pk]), {"reason": crane.pk})
    assert (response.status_code, response["Location"]) == (302, url)
    down.refresh_from_db()
    assert (down.reason_id, down.reason_set_by_id) == (crane.pk, user.pk)

    response = client.post(reverse("machines:acknowledge-alarm", args=[alarm.pk]))
    assert response.status_code == 302
    alarm.refresh_from_db()
    assert alarm.acknowledged_by_id == user.pk


def test_a_viewer_without_the_permissions_sees_no_forms_and_is_refused(
    around_the_clock: None, make_user: Callable[..., Any]
) -> None:
    """Every role may say why its machine stopped; someone who may only look at machines may not."""
    viewer = make_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_workcenter"))
    operator = verified_client(viewer, Client)
    (one,) = machines(1)
    apply_readings([Reading("WC-1", timezone.now(), "execution", "STOPPED")])
    down = MachineStateInterval.objects.get(work_center=one)
    html = operator.get(reverse("machines:workcenter-live", args=[one.pk])).content.decode()
    assert reverse("machines:assign-downtime-reason", args=[down.pk]) not in html
    crane = DowntimeReason.objects.get(code="waiting-crane")
    response = operator.post(reverse("machines:assign-downtime-reason", args=[down.pk]), {"reason": crane.pk})
    assert response.status_code == 403
    down.refresh_from_db()
    assert down.reason_id is None


def test_pages_refuse_the_outsider_and_send_anonymous_to_sign_in(
    around_the_clock: None, make_user: Callable[..., Any]
) -> None:
    (one,) = machines(1)
    outsider = verified_client(make_user("nobody"), Client)
    for url in (
        reverse("machines:plant-status"),
        reverse("machines:department-live", args=[one.department_id]),
        reverse("machines:workcenter-live", args=[one.pk]),
    ):
        assert outsider.get(url).status_code == 403
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_admin_adds_a_display_and_shows_its_address_once(around_the_clock: None, make_user: Callable[..., Any]) -> None:
    from apps.machines.models import DisplayToken

    (one,) = machines(1)
    admin = verified_client(make_user("root", is_staff=True, is_superuser=True), Client)
    response = admin.post(
        reverse("admin:machines_displaytoken_add"), {"department": one.department_id, "name": "Laser TV"}, follow=True
    )
    assert response.status_code == 200
    token = DisplayToken.objects.get()
    shown = [str(m) for m in response.context["messages"] if "/machines/display/" in str(m)]
    assert len(shown) == 1
    secret = shown[0].split("/machines/display/")[1].split("/")[0]
    assert (token.name, token.department_id) == ("Laser TV", one.department_id)
    assert token.created_by is not None and token.created_by.username == "root"
    assert Client().get(reverse("machines:department-display", args=[secret])).status_code == 200
    again = admin.get(reverse("admin:machines_displaytoken_change", args=[token.pk])).content.decode()
    assert secret not in again

    admin.post(
        reverse("admin:machines_displaytoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked is True
    assert Client().get(reverse("machines:department-display", args=[secret])).status_code == 404


def test_state_changelists_open_for_a_superuser(around_the_clock: None, make_user: Callable[..., Any]) -> None:
    machines(1)
    apply_readings([Reading("WC-1", timezone.now(), "alarm", "E1")])
    admin = verified_client(make_user("root", is_staff=True, is_superuser=True), Client)
    for model in ("downtimereason", "machinestateinterval", "alarm", "livestate", "displaytoken"):
        assert admin.get(reverse(f"admin:machines_{model}_changelist")).status_code == 200, model
    alarm = Alarm.objects.get()
    admin.post(reverse("admin:machines_alarm_changelist"), {"action": "acknowledge", "_selected_action": [alarm.pk]})
    alarm.refresh_from_db()
    assert alarm.acknowledged_by is not None and alarm.acknowledged_by.username == "root"
