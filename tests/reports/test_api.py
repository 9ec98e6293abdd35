"""OEE figures and report runs over REST and GraphQL: exact figures, bad input refused, roles enforced,
downloads streamed as attachments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from apps.core.testing import first_error_code, graphql
from apps.reports.models import ReportRun
from tests.reports.floor import MONDAY
from tests.routings.builders import Shop

pytestmark = pytest.mark.django_db

DAY = {"first_day": MONDAY.isoformat(), "last_day": MONDAY.isoformat()}


def test_plant_oee_over_rest(shop: Shop, client_for: Callable[[str], Any]) -> None:
    response = client_for("supervisor").get(reverse("reports-oee"), DAY)
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["first_day"] == "2026-11-16"
    assert body["plant"]["oee"] == "0.7813"
    assert body["plant"]["availability"] == "0.9375"
    assert body["plant"]["minutes"]["planned_production"] == "480.00"
    assert body["plant"]["losses_minutes"]["breakdowns"] == "30.00"
    laser = next(m for m in body["machines"] if m["code"] == "laser-1")
    assert laser["figures"]["quality"] == "0.9615"
    brake = next(m for m in body["machines"] if m["code"] == "brake-1")
    assert brake["figures"]["status"] == "no_data" and brake["figures"]["oee"] is None
    assert body["pareto"]["by_reason"][0]["label"] == "Breakdown › Mechanical failure"


def test_machine_oee_drills_down_to_intervals_and_counts(shop: Shop, client_for: Callable[[str], Any]) -> None:
    response = client_for("supervisor").get(reverse("reports-oee-machine", args=[shop.laser_1.pk]), DAY)
    assert response.status_code == 200
    body = response.json()
    breakdowns = [piece for piece in body["intervals"] if piece["counted_as"] == "breakdown"]
    assert [(b["seconds"], b["reason_code"]) for b in breakdowns] == [(1800, "breakdown-mechanical")]
    assert [(c["good"], c["scrap"]) for c in body["counts"]] == [(100, 4), (60, 2), (90, 4)]
    assert sum(piece["seconds"] for piece in body["intervals"]) == 24 * 3600


def test_bad_oee_requests_are_refused_with_the_field_named(shop: Shop, client_for: Callable[[str], Any]) -> None:
    client = client_for("supervisor")
    response = client.get(reverse("reports-oee"), {"first_day": "16.11.2026"})
    assert response.status_code == 400
    assert "first_day" in response.json()["detail"]
    response = client.get(reverse("reports-oee"), {"first_day": "2026-11-20", "last_day": "2026-11-01"})
    assert response.status_code == 400
    assert client.get(reverse("reports-oee-machine", args=[999999]), DAY).status_code == 404


def test_operators_cannot_read_oee(shop: Shop, client_for: Callable[[str], Any]) -> None:
    assert client_for("operator").get(reverse("reports-oee"), DAY).status_code == 403
    result = graphql(client_for("operator"), "{ oee }")
    assert first_error_code(result) == "FORBIDDEN"


def test_oee_over_graphql(shop: Shop, client_for: Callable[[str], Any]) -> None:
    result = graphql(
        client_for("supervisor"),
        "query($f: Date, $l: Date, $m: ID!) "
        "{ oee(firstDay: $f, lastDay: $l) machineOee(id: $m, firstDay: $f, lastDay: $l) }",
        {"f": "2026-11-16", "l": "2026-11-16", "m": shop.laser_1.pk},
    )
    assert "errors" not in result, result
    assert result["data"]["oee"]["plant"]["oee"] == "0.7813"
    assert len(result["data"]["machineOee"]["counts"]) == 3


def test_run_a_report_over_rest_and_download_it(
    shop: Shop, client_for: Callable[[str], Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for("supervisor")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports-reportrun-list"),
            {"report": "oee-summary", "first_day": "2026-11-16", "last_day": "2026-11-16"},
            format="json",
        )
    assert response.status_code == 202, response.content
    run = ReportRun.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded", run.error  # Celery runs eagerly in tests
    detail = client.get(reverse("reports-reportrun-detail", args=[run.pk])).json()
    assert detail["pdf_url"] and detail["xlsx_url"]
    pdf = client.get(detail["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith('attachment; filename="')
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    xlsx = client.get(detail["xlsx_url"])
    assert xlsx["Content-Disposition"].endswith('.xlsx"')
    path = run.xlsx.path
    workbook = load_workbook(path)
    assert "Machines" in workbook.sheetnames


def test_bad_run_requests_change_nothing(shop: Shop, client_for: Callable[[str], Any]) -> None:
    url = reverse("reports-reportrun-list")
    body = {"report": "no-such-report", "first_day": "2026-11-16", "last_day": "2026-11-16"}
    assert client_for("supervisor").post(url, body, format="json").status_code == 400
    body = {"report": "oee-summary", "first_day": "2026-11-16", "last_day": "2026-11-16"}
    assert client_for("operator").post(url, body, format="json").status_code == 403
    assert not ReportRun.objects.exists()


def test_request_run_over_graphql(shop: Shop, client_for: Callable[[str], Any]) -> None:
    mutation = (
        'mutation { requestReportRun(report: "downtime-pareto", firstDay: "2026-11-16", lastDay: "2026-11-16") '
        "{ run { id status report } } }"
    )
    result = graphql(client_for("supervisor"), mutation)
    assert "errors" not in result, result
    assert result["data"]["requestReportRun"]["run"]["report"] == "downtime-pareto"
    denied = graphql(client_for("operator"), mutation)
    assert first_error_code(denied) == "FORBIDDEN"
    assert ReportRun.objects.count() == 1
