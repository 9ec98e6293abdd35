"""Work center pages: exact content, who may open them, and query counts that do not grow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.testing import verified_client
from apps.machines.choices import ExceptionKind
from apps.machines.models import CalendarException, WorkCenter

from .html import tables
from .shop import day_shift_calendar, department, laser, night_shift_calendar, utc, work_center, work_center_type

pytestmark = pytest.mark.django_db

HEADER = ["Code", "Name", "Department", "Type", "Efficiency", "Shift calendar", "Status"]


@pytest.fixture(autouse=True)
def chicago(settings: Any) -> None:
    settings.PLANT_TIME_ZONE = settings.TIME_ZONE = "America/Chicago"


@pytest.fixture
def page_client(personas: dict[str, Any]) -> Callable[[str], Client]:
    return lambda role: verified_client(personas[role], Client)


def test_work_center_list_shows_columns_and_badges(page_client: Callable[[str], Client]) -> None:
    default = day_shift_calendar("Two shifts", plant_default=True)
    laser("laser-1", name="Fiber laser 1", is_bottleneck=True)
    brake = work_center_type("brake-135t", department("forming", name="Forming", sequence=3), name="Brake 135 t")
    work_center("brake-1", brake, name="Press brake 1", calendar=night_shift_calendar("Nights"), is_active=False)

    response = page_client("operator").get(reverse("machines:workcenter-list"))

    assert response.status_code == 200
    assert tables(response.content.decode())["Work centers"] == [
        HEADER,
        [
            "laser-1",
            "Fiber laser 1 bottleneck",
            "Laser",
            "Fiber laser 3 kW",
            "1.00",
            f"plant default ({default.name})",
            "Active",
        ],
        ["brake-1", "Press brake 1", "Forming", "Brake 135 t", "1.00", "Nights", "Out of service"],
    ]


def test_work_center_list_filters(page_client: Callable[[str], Client]) -> None:
    day_shift_calendar(plant_default=True)
    one = laser("laser-1")
    laser("laser-2", is_active=False)
    work_center("weld-1")
    client = page_client("operator")
    url = reverse("machines:workcenter-list")

    by_department = client.get(url, {"department": one.department_id})
    active_lasers = client.get(url, {"work_center_type": one.work_center_type_id, "is_active": "true"})
    by_text = client.get(url, {"q": "WELD"})

    def codes(response: Any) -> list[str]:
        return [row[0] for row in tables(response.content.decode())["Work centers"][1:]]

    assert codes(by_department) == ["laser-1", "laser-2"]
    assert codes(active_lasers) == ["laser-1"]
    assert codes(by_text) == ["weld-1"]


def test_work_center_list_htmx_returns_the_table_only(page_client: Callable[[str], Client]) -> None:
    day_shift_calendar(plant_default=True)
    laser("laser-1")

    response = page_client("operator").get(reverse("machines:workcenter-list"), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<table class="table">')


def test_work_center_list_without_plant_default_says_so(page_client: Callable[[str], Client]) -> None:
    laser("laser-1")

    response = page_client("operator").get(reverse("machines:workcenter-list"))

    assert tables(response.content.decode())["Work centers"][1][5] == "none: set a plant default"


def test_work_center_list_queries_do_not_grow(
    page_client: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    day_shift_calendar(plant_default=True)
    nights = night_shift_calendar()
    client = page_client("supervisor")
    url = reverse("machines:workcenter-list")
    laser("laser-0")
    with CaptureQueriesContext(connection) as one_row:
        client.get(url)
    for n in range(1, 20):
        laser(f"laser-{n}", is_bottleneck=n % 4 == 0)
        work_center(f"weld-{n}", calendar=nights)

    with django_assert_max_num_queries(len(one_row)):
        response = client.get(url)

    assert len(tables(response.content.decode())["Work centers"]) == 1 + 39
    # Request overhead (session, user, second factor, permissions, session save) is 9 of these.
    assert len(one_row) == 14


@pytest.fixture
def serviced_laser() -> WorkCenter:
    """Two weeks from Monday 2026-01-05 on the plant default day shift (8 h Monday to Friday)."""
    day_shift_calendar("Day shift", plant_default=True)
    wc = laser("laser-1", name="Fiber laser 1", setup_category="fiber", iot_device_id="edge-7")
    other = laser("laser-2")
    CalendarException.objects.create(
        kind=ExceptionKind.MAINTENANCE,
        name="Resonator service",
        work_center=wc,
        starts_at=utc(2026, 1, 6, 14),
        ends_at=utc(2026, 1, 6, 18),
    )
    CalendarException.objects.create(
        kind=ExceptionKind.SHUTDOWN, name="Inventory count", start_date=date(2026, 1, 9), end_date=date(2026, 1, 9)
    )
    CalendarException.objects.create(
        kind=ExceptionKind.OVERTIME,
        name="Saturday overtime",
        work_center=wc,
        starts_at=utc(2026, 1, 10, 12),
        ends_at=utc(2026, 1, 10, 18),
    )
    CalendarException.objects.create(
        kind=ExceptionKind.MAINTENANCE,
        name="Other laser",
        work_center=other,
        starts_at=utc(2026, 1, 7, 14),
        ends_at=utc(2026, 1, 7, 18),
    )
    return wc


def test_work_center_detail_shows_two_weeks_of_working_time(
    page_client: Callable[[str], Client], serviced_laser: WorkCenter
) -> None:
    url = reverse("machines:workcenter-detail", kwargs={"pk": serviced_laser.pk})

    response = page_client("operator").get(url, {"start": "2026-01-05"})

    assert response.status_code == 200
    html = response.content.decode()
    shift = "06:00–10:00, 10:30–14:30"
    assert tables(html)["Working time per day"] == [
        ["Day", "Working time", "0006121824", "Hours"],
        ["Mon 5 Jan", shift, "", "8.0 h"],
        ["Tue 6 Jan", "06:00–08:00, 12:00–14:30", "", "4.5 h"],
        ["Wed 7 Jan", shift, "", "8.0 h"],
        ["Thu 8 Jan", shift, "", "8.0 h"],
        ["Fri 9 Jan", "—", "", "0.0 h"],
        ["Sat 10 Jan", "06:00–12:00", "", "6.0 h"],
        ["Sun 11 Jan", "—", "", "0.0 h"],
        ["Mon 12 Jan", shift, "", "8.0 h"],
        ["Tue 13 Jan", shift, "", "8.0 h"],
        ["Wed 14 Jan", shift, "", "8.0 h"],
        ["Thu 15 Jan", shift, "", "8.0 h"],
        ["Fri 16 Jan", shift, "", "8.0 h"],
        ["Sat 17 Jan", "—", "", "0.0 h"],
        ["Sun 18 Jan", "—", "", "0.0 h"],
        ["Total for the two weeks", "74.5 h"],
    ]
    assert tables(html)["Calendar exceptions"] == [
        ["Exception", "Kind", "Applies to", "When"],
        ["Resonator service", "Planned maintenance", "this work center", "Tue 6 Jan 2026 08:00 – Tue 6 Jan 2026 12:00"],
        ["Inventory count", "Shutdown", "whole plant", "Fri 9 Jan 2026"],
        ["Saturday overtime", "Overtime", "this work center", "Sat 10 Jan 2026 06:00 – Sat 10 Jan 2026 12:00"],
    ]
    assert "Mon 5 Jan 2026 – Sun 18 Jan 2026" in html
    assert "Times in America/Chicago." in html
    # The Tuesday bar: working 06:00–08:00, maintenance until 12:00 (the lunch break inside it too).
    assert '<rect class="seg-working" x="360" y="2" width="120" height="16"><title>06:00–08:00</title></rect>' in html
    assert '<rect class="seg-closed" x="480" y="2" width="240" height="16"><title>08:00–12:00</title></rect>' in html
    assert '<rect class="seg-overtime" x="360" y="2" width="360" height="16"><title>06:00–12:00</title></rect>' in html


def test_work_center_detail_facts(page_client: Callable[[str], Client], serviced_laser: WorkCenter) -> None:
    response = page_client("operator").get(reverse("machines:workcenter-detail", kwargs={"pk": serviced_laser.pk}))

    html = response.content.decode()
    facts = html[html.index('<dl class="facts">') : html.index("</dl>")]
    for fact in (
        '<dt>Status</dt><dd><span class="status status-active">Active</span></dd>',
        "<dt>Department</dt><dd>Laser</dd>",
        "<dt>Type</dt><dd>Fiber laser 3 kW</dd>",
        "<dt>Shift calendar</dt><dd>plant default (Day shift)</dd>",
        "<dt>Efficiency factor</dt><dd>1.00</dd>",
        "<dt>Setup category</dt><dd>fiber</dd>",
        "<dt>IoT device id</dt><dd>edge-7</dd>",
        "<dt>Sigmanest machine id</dt><dd>—</dd>",
    ):
        assert fact in facts


def test_work_center_detail_starts_today_in_plant_time(
    page_client: Callable[[str], Client], serviced_laser: WorkCenter
) -> None:
    url = reverse("machines:workcenter-detail", kwargs={"pk": serviced_laser.pk})

    default = page_client("operator").get(url)
    nonsense = page_client("operator").get(url, {"start": "9999-12-31"})

    today = timezone.localdate()
    rows = tables(default.content.decode())["Working time per day"]
    assert rows[1][0] == f"{today:%a} {today.day} {today:%b}"
    assert len(rows) == 1 + 14 + 1
    assert tables(nonsense.content.decode())["Working time per day"][1][0] == rows[1][0]


def test_work_center_detail_htmx_swaps_the_working_time_only(
    page_client: Callable[[str], Client], serviced_laser: WorkCenter
) -> None:
    url = reverse("machines:workcenter-detail", kwargs={"pk": serviced_laser.pk})

    response = page_client("operator").get(url, {"start": "2026-01-19"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert '<dl class="facts">' not in html
    assert "Mon 19 Jan 2026 – Sun 1 Feb 2026" in html
    assert f'hx-get="/machines/work-centers/{serviced_laser.pk}/?start=2026-01-05"' in html
    assert f'hx-get="/machines/work-centers/{serviced_laser.pk}/?start=2026-02-02"' in html


def test_work_center_detail_without_any_calendar(page_client: Callable[[str], Client]) -> None:
    wc = laser("laser-1")

    response = page_client("operator").get(reverse("machines:workcenter-detail", kwargs={"pk": wc.pk}))

    assert response.status_code == 200
    assert (
        '<p class="error" role="alert">Work center laser-1 has no shift calendar and no plant default calendar is '
        "set: mark one shift calendar as the plant default or give the work center its own.</p>"
    ) in response.content.decode()


def test_inactive_work_center_detail(page_client: Callable[[str], Client]) -> None:
    day_shift_calendar(plant_default=True)
    wc = laser("laser-1", is_active=False)

    response = page_client("operator").get(
        reverse("machines:workcenter-detail", kwargs={"pk": wc.pk}), {"start": "2026-01-05"}
    )

    html = response.content.decode()
    assert "Out of service: no working time, nothing is planned here." in html
    assert tables(html)["Working time per day"][-1] == ["Total for the two weeks", "0.0 h"]


def test_work_center_detail_queries_do_not_grow(
    page_client: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    day_shift_calendar(plant_default=True)
    wc = laser("laser-1")
    client = page_client("operator")
    url = reverse("machines:workcenter-detail", kwargs={"pk": wc.pk})
    with CaptureQueriesContext(connection) as plain:
        client.get(url, {"start": "2026-01-05"})
    for day in range(5, 19):
        CalendarException.objects.create(
            kind=ExceptionKind.MAINTENANCE,
            name=f"PM {day}",
            work_center=wc,
            starts_at=utc(2026, 1, day, 14),
            ends_at=utc(2026, 1, day, 15),
        )
        CalendarException.objects.create(
            kind=ExceptionKind.HOLIDAY, name=f"Day {day}", start_date=date(2026, 1, day), end_date=date(2026, 1, day)
        )

    with django_assert_max_num_queries(len(plain)):
        response = client.get(url, {"start": "2026-01-05"})

    assert len(tables(response.content.decode())["Calendar exceptions"]) == 1 + 28
    assert len(plain) == 16


@pytest.mark.parametrize("name", ["machines:workcenter-list", "machines:workcenter-detail"])
def test_outsider_is_refused_and_anonymous_sent_to_login(page_client: Callable[[str], Client], name: str) -> None:
    day_shift_calendar(plant_default=True)
    wc = laser("laser-1")
    url = reverse(name, kwargs={"pk": wc.pk} if name.endswith("detail") else {})

    assert page_client("outsider").get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
