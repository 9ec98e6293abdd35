"""The routings admin: every model listed, workflow fields read-only, actions call the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.testing import verified_client
from apps.routings import services
from apps.routings.choices import JobStatus
from apps.routings.models import Job

from .builders import Shop, build_shop, make_job, straight_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> Shop:
    return build_shop()


@pytest.fixture
def manager(personas: dict[str, Any]) -> Client:
    return verified_client(personas["production_manager"], Client)


def run_action(client: Client, action: str, jobs: list[Job], **extra: str) -> list[str]:
    response = client.post(
        reverse("admin:routings_job_changelist"),
        {"action": action, "_selected_action": [job.pk for job in jobs], "index": 0, **extra},
        follow=True,
    )
    assert response.redirect_chain, response.content
    return [str(message) for message in response.context["messages"]]


def test_release_action_reports_each_refusal(shop: Shop, manager: Client) -> None:
    part = straight_part(shop)
    good = make_job(shop, part, number="J-1")
    cancelled = make_job(shop, part, number="J-2", status=JobStatus.CANCELLED)
    assert run_action(manager, "release", [good, cancelled]) == [
        "J-2: Job J-2 is cancelled; only a draft job can be released.",
        "1 job released.",
    ]
    assert good.operations.count() == 3
    assert Job.objects.get(pk=cancelled.pk).status == JobStatus.CANCELLED


def test_hold_action_takes_the_reason_from_the_action_form(shop: Shop, manager: Client) -> None:
    job = make_job(shop, straight_part(shop), number="J-3")
    services.release_job(actor=None, job_id=job.pk)
    assert run_action(manager, "hold", [job]) == ["J-3: Say why the job goes on hold."]
    assert run_action(manager, "hold", [job], reason="laser down") == ["1 job put on hold."]
    assert Job.objects.get(pk=job.pk).hold_reason == "laser down"
    assert run_action(manager, "resume", [job]) == ["1 job resumed."]
    assert run_action(manager, "cancel", [job], reason="customer cancelled") == ["1 job cancelled."]
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_job_pages_and_status_fields_are_read_only(shop: Shop, manager: Client) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=None, job_id=job.pk)
    page = manager.get(reverse("admin:routings_job_change", args=[job.pk]))
    assert page.status_code == 200
    fields = page.context["adminform"].form.fields
    assert "status" not in fields and "quantity" not in fields and "due_date" in fields
    for name in ("customer", "part", "partfile", "routingstep", "job", "operation"):
        assert manager.get(reverse(f"admin:routings_{name}_changelist")).status_code == 200
    assert manager.get(reverse("admin:routings_part_change", args=[job.part_id])).status_code == 200
    assert manager.get(reverse("admin:routings_job_changelist"), {"q": job.number}).status_code == 200


def test_routing_step_form_refuses_a_cycle(shop: Shop, manager: Client) -> None:
    part = straight_part(shop, "ADM-1")
    cut, weld = part.routing_steps.get(sequence=10), part.routing_steps.get(sequence=30)
    response = manager.post(
        reverse("admin:routings_routingstep_change", args=[cut.pk]),
        {
            "part": part.pk,
            "sequence": 10,
            "operation_code": "CUT",
            "description": "",
            "work_center_type": shop.laser.pk,
            "preferred_work_center": shop.laser_1.pk,
            "setup_minutes": "15",
            "run_minutes_per_unit": "0.5",
            "predecessors": [weld.pk],
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "The routing of ADM-1 rev A has a precedence cycle: 10 → 30 → 20 → 10."
    ]
    assert list(cut.predecessors.all()) == []
