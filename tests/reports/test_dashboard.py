"""The OEE dashboards against the database: the selectors feed the pure module the right minutes and counts,
the pages show them with their drill-down, and the plant page's queries do not grow with the machines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.machines.models import WorkCenter
from apps.reports.figures import Period, plant_figures
from apps.reports.models import ClosedDayFigures
from apps.reports.selectors import Scope
from tests.reports.floor import MONDAY, at, interval
from tests.routings.builders import Shop

pytestmark = pytest.mark.django_db


def monday() -> Period:
    return Period.of_days(MONDAY, MONDAY, now=at(23))


def test_plant_figures_match_the_hand_computed_shift(shop: Shop) -> None:
    figures = plant_figures(monday())
    laser = next(m for m in figures.machines if m.machine.code == "laser-1")
    f = laser.figures
    assert f.planned_production_minutes == Decimal("480.00")
    assert f.run_time_minutes == Decimal("450.00")
    assert f.breakdown_minutes == Decimal("30.00")
    assert f.break_minutes == Decimal("30.00")
    assert (f.good, f.scrap) == (250, 10)
    assert f.availability == Decimal("0.9375")  # 450 / 480
    assert f.performance == Decimal("0.8667")  # 260 × 1.5 = 390 / 450
    assert f.quality == Decimal("0.9615")  # 250 / 260
    assert f.oee == Decimal("0.7813")  # 390 × 250 / (260 × 480) = 0.78125
    assert f.mtbf_minutes == Decimal("450.00") and f.mttr_minutes == Decimal("30.00")
    # The other three machines reported nothing: no data, not 0 %, and the plant is the laser alone.
    others = [m.figures for m in figures.machines if m.machine.code != "laser-1"]
    assert [o.has_data for o in others] == [False, False, False]
    assert [o.oee for o in others] == [None, None, None]
    assert figures.plant.oee == f.oee and figures.plant.machines == 1
    assert [(row.label, row.minutes) for row in figures.pareto_by_reason] == [
        ("Breakdown › Mechanical failure", Decimal("30.00"))
    ]
    assert [name for name, _f in figures.shifts] == ["1st"]


def test_a_shift_filter_keeps_only_that_shift(shop: Shop) -> None:
    assert plant_figures(monday(), shift_name="1st").plant.oee == Decimal("0.7813")
    assert plant_figures(monday(), shift_name="2nd").plant.has_data is False


def test_department_scope(shop: Shop) -> None:
    brake_only = plant_figures(monday(), Scope(department_id=shop.brake_1.department_id))
    assert [m.machine.code for m in brake_only.machines] == ["brake-1"]
    assert brake_only.plant.has_data is False


def test_plant_dashboard_shows_figures_and_links_to_the_machine(shop: Shop, client_for: Callable[[str], Any]) -> None:
    response = client_for("production_manager").get(
        reverse("reports:dashboard"), {"first_day": MONDAY.isoformat(), "last_day": MONDAY.isoformat()}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "78.1 %" in page  # the OEE, in a gauge and in the tables
    assert "93.8 %" in page  # availability
    assert reverse("reports:machine", args=[shop.laser_1.pk]) in page
    assert "no data" in page
    assert page.count("<svg") >= 8  # four gauges and four charts, all server-rendered


def test_machine_page_drills_down_to_intervals_and_counts(shop: Shop, client_for: Callable[[str], Any]) -> None:
    response = client_for("supervisor").get(
        reverse("reports:machine", args=[shop.laser_1.pk]),
        {"first_day": MONDAY.isoformat(), "last_day": MONDAY.isoformat()},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "2026-11-16 12:00:00" in page and "Mechanical failure" in page
    assert page.count('class="cat-breakdown"') == 1
    assert "450.0" in page  # run time, minutes
    assert ">100<" in page and ">90<" in page  # the reported counts


def test_operators_and_outsiders_cannot_read_the_dashboards(shop: Shop, client_for: Callable[[str], Any]) -> None:
    for persona in ("operator", "outsider"):
        client = client_for(persona)
        assert client.get(reverse("reports:dashboard")).status_code == 403
        assert client.get(reverse("reports:machine", args=[shop.laser_1.pk])).status_code == 403


def test_bad_filter_dates_are_refused_with_a_message(shop: Shop, client_for: Callable[[str], Any]) -> None:
    response = client_for("production_manager").get(
        reverse("reports:dashboard"), {"first_day": "2026-11-20", "last_day": "2026-11-10"}
    )
    assert response.status_code == 200
    assert "The first day must not be after the last day." in response.content.decode()


def _dashboard_queries(client: Any, query: dict[str, str], *, stored: bool) -> int:
    """Queries for one dashboard request, with the closed days already stored or computed afresh."""
    if not stored:
        ClosedDayFigures.objects.all().delete()
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("reports:dashboard"), query)
    return len(captured)


def test_plant_dashboard_queries_do_not_grow_with_machines(
    shop: Shop, client_for: Callable[[str], Any], settings: Any
) -> None:
    settings.OEE_CACHE_SECONDS = 0  # compute every time
    client = client_for("production_manager")
    query = {"first_day": MONDAY.isoformat(), "last_day": MONDAY.isoformat()}
    few_computed = _dashboard_queries(client, query, stored=False)
    few_stored = _dashboard_queries(client, query, stored=True)
    for n in range(6):
        twin = WorkCenter.objects.create(
            code=f"laser-{n + 2}",
            name=f"Laser {n + 2}",
            department=shop.laser_1.department,
            work_center_type=shop.laser,
        )
        interval(twin, "running", at(6), at(14, 30) - timedelta(minutes=n))
    assert _dashboard_queries(client, query, stored=False) == few_computed
    assert _dashboard_queries(client, query, stored=True) == few_stored
    assert few_stored < few_computed  # a stored day is not read again from the intervals


def test_the_same_question_is_answered_from_the_cache(shop: Shop, client_for: Callable[[str], Any]) -> None:
    client = client_for("production_manager")
    query = {"first_day": MONDAY.isoformat(), "last_day": MONDAY.isoformat()}
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("reports:dashboard"), query)
    with CaptureQueriesContext(connection) as second:
        page = client.get(reverse("reports:dashboard"), query).content.decode()
    reads = [q["sql"] for q in second.captured_queries if "machines_machinestateinterval" in q["sql"]]
    assert any("machines_machinestateinterval" in q["sql"] for q in first.captured_queries)
    assert reads == [] and "78.1 %" in page
