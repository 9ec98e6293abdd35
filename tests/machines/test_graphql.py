"""GraphQL of machines: the workingTime query, and lists whose queries do not grow with rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import first_error_code, graphql

from .shop import day_shift_calendar, laser, night_shift_calendar, work_center

pytestmark = pytest.mark.django_db

WORKING_TIME = """
query ($id: ID!, $start: DateTime!, $end: DateTime!) {
  workingTime(workCenterId: $id, start: $start, end: $end) { workCenterId minutes intervals { start end } }
}
"""


def test_working_time(client_for: Callable[[str], Any]) -> None:
    day_shift_calendar(plant_default=True)
    wc = laser("laser-1")

    result = graphql(
        client_for("operator"),
        WORKING_TIME,
        {"id": wc.pk, "start": "2026-01-05T06:00:00+00:00", "end": "2026-01-06T06:00:00+00:00"},
    )

    assert result == {
        "data": {
            "workingTime": {
                "workCenterId": str(wc.pk),
                "minutes": 480,
                "intervals": [
                    {"start": "2026-01-05T12:00:00+00:00", "end": "2026-01-05T16:00:00+00:00"},
                    {"start": "2026-01-05T16:30:00+00:00", "end": "2026-01-05T20:30:00+00:00"},
                ],
            }
        }
    }


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"start": "2026-01-06T00:00:00+00:00", "end": "2026-01-05T00:00:00+00:00"}, "BAD_USER_INPUT"),
        ({"start": "2026-01-05T00:00:00+00:00", "end": "2027-01-07T00:00:00+00:00"}, "BAD_USER_INPUT"),
        ({"start": "2026-01-05T00:00:00", "end": "2026-01-06T00:00:00"}, "BAD_USER_INPUT"),
    ],
)
def test_working_time_refuses_bad_ranges(
    client_for: Callable[[str], Any], variables: dict[str, str], code: str
) -> None:
    day_shift_calendar(plant_default=True)
    wc = laser("laser-1")

    result = graphql(client_for("operator"), WORKING_TIME, {"id": wc.pk, **variables})

    assert first_error_code(result) == code


def test_working_time_unknown_work_center_and_missing_calendar(client_for: Callable[[str], Any]) -> None:
    wc = laser("laser-1")
    span = {"start": "2026-01-05T00:00:00+00:00", "end": "2026-01-06T00:00:00+00:00"}

    missing = graphql(client_for("operator"), WORKING_TIME, {"id": 999999, **span})
    no_calendar = graphql(client_for("operator"), WORKING_TIME, {"id": wc.pk, **span})

    assert first_error_code(missing) == "NOT_FOUND"
    assert first_error_code(no_calendar) == "NO_SHIFT_CALENDAR"
    assert no_calendar["errors"][0]["message"].startswith("Work center laser-1 has no shift calendar")


def test_working_time_forbidden_to_outsider(client_for: Callable[[str], Any]) -> None:
    wc = laser("laser-1")

    result = graphql(
        client_for("outsider"),
        WORKING_TIME,
        {"id": wc.pk, "start": "2026-01-05T00:00:00+00:00", "end": "2026-01-06T00:00:00+00:00"},
    )

    assert first_error_code(result) == "FORBIDDEN"
    assert result["data"] is None or result["data"]["workingTime"] is None


LISTS = """
{
  workCenters(first: 500) { code department { code } workCenterType { code } calendar { name } }
  shiftCalendars { name shifts { start breaks { start } } }
  calendarExceptions { name workCenter { code } }
}
"""


def test_lists_with_relations_take_a_fixed_number_of_queries(client_for: Callable[[str], Any]) -> None:
    client = client_for("operator")
    nights = night_shift_calendar()
    day_shift_calendar(plant_default=True)
    laser("laser-0")
    with CaptureQueriesContext(connection) as few:
        graphql(client, LISTS)
    for n in range(1, 31):
        laser(f"laser-{n}")
        work_center(f"weld-{n}", calendar=nights)

    with CaptureQueriesContext(connection) as many:
        result = graphql(client, LISTS)

    assert "errors" not in result
    assert len(result["data"]["workCenters"]) == 61
    rows = {row["code"]: row for row in result["data"]["workCenters"]}
    assert rows["weld-1"]["calendar"] == {"name": "Nights every day"}
    assert rows["laser-1"] == {
        "code": "laser-1",
        "department": {"code": "laser"},
        "workCenterType": {"code": "fiber-laser-3kw"},
        "calendar": None,
    }
    assert len(many) == len(few)
