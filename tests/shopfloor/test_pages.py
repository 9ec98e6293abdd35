"""The shop-floor pages: the app shell and its PWA files, travelers, the supervisor's view, labor corrections."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.core.testing import verified_client
from apps.shopfloor import services
from apps.shopfloor.models import LaborEntry

from .floor import Floor, build_floor


@pytest.fixture
def floor(personas: dict[str, Any]) -> Floor:
    return build_floor(personas["production_manager"])


@pytest.fixture
def page_for(personas: dict[str, Any]) -> Callable[[str], Client]:
    return lambda role: verified_client(personas[role], Client)


def test_the_qr_urls_open_the_app_on_that_operation(page_for: Callable[[str], Client], floor: Floor) -> None:
    response = page_for("operator").get(f"/shop/o/{floor.cut.pk}/")
    assert response.status_code == 200
    assert response.context["initial"] == {"operation": floor.cut.pk}
    assert b'rel="manifest"' in response.content
    assert page_for("operator").get(f"/shop/j/{floor.job.pk}/").context["initial"] == {"job": floor.job.pk}
    assert page_for("outsider").get("/shop/").status_code == 403
    assert Client().get("/shop/").status_code == 302


def test_manifest_and_service_worker(page_for: Callable[[str], Client]) -> None:
    manifest = Client().get("/shop/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    body = json.loads(manifest.content)
    assert (body["start_url"], body["scope"], body["display"]) == ("/shop/", "/shop/", "standalone")
    worker = Client().get("/shop/sw.js")
    assert (worker.status_code, worker["Service-Worker-Allowed"], worker["Content-Type"]) == (
        200,
        "/shop/",
        "application/javascript",
    )
    assert b"importScripts" in worker.content


def test_traveler_pdf(page_for: Callable[[str], Client], floor: Floor) -> None:
    response = page_for("operator").get(f"/shop/jobs/{floor.job.pk}/traveler.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="traveler-{floor.job.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert page_for("outsider").get(f"/shop/jobs/{floor.job.pk}/traveler.pdf").status_code == 403


def test_supervisor_sees_who_runs_what(
    page_for: Callable[[str], Client], floor: Floor, personas: dict[str, Any]
) -> None:
    operator = personas["operator"]
    services.clock_in(operator=operator, work_center_ids=[floor.shop.laser_1.pk])
    services.start_operation(operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk)
    client = page_for("supervisor")
    client.get("/shop/supervisor/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/shop/supervisor/")
    assert response.status_code == 200
    row = next(r for r in response.context["rows"] if r.work_center == floor.shop.laser_1)
    assert ([p.username for p in row.operators], [op.pk for op in row.running]) == (["operator"], [floor.cut.pk])
    assert f"{floor.job.number}/10 CUT".encode() in response.content
    # Constant: session and user, then attendance, running work, plan, live states, machines, issues.
    assert len(queries) <= 20, [q["sql"] for q in queries.captured_queries]
    assert page_for("operator").get("/shop/supervisor/").status_code == 403


def test_supervisor_corrects_labor_on_the_page(
    page_for: Callable[[str], Client], floor: Floor, personas: dict[str, Any]
) -> None:
    entry = LaborEntry.objects.create(
        operator=personas["operator"],
        operation=floor.cut,
        work_center=floor.shop.laser_1,
        phase="run",
        started_at=datetime(2030, 6, 3, 12, tzinfo=UTC),
    )
    client = page_for("supervisor")
    assert client.get("/shop/labor/").status_code == 200
    response = client.post(
        "/shop/labor/",
        {
            "entry": entry.pk,
            "started_at": "2030-06-03 07:00",
            "ended_at": "2030-06-03 09:30",
            "reason": "forgot to stop",
        },
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.minutes == 150
    assert entry.history.latest().history_change_reason == "forgot to stop"  # type: ignore[attr-defined]
    refused = client.post(
        "/shop/labor/",
        {"entry": entry.pk, "started_at": "2030-06-03 07:00", "ended_at": "2030-06-03 06:00", "reason": "x"},
    )
    assert refused.status_code == 302
    entry.refresh_from_db()
    assert entry.minutes == 150
    assert page_for("operator").post("/shop/labor/", {"entry": entry.pk}).status_code == 403
