"""The materials page: exact rows, filters, who may open it, and a query count that does not grow."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.testing import verified_client
from tests.machines.html import tables

from .test_api import sheet

pytestmark = pytest.mark.django_db

URL = "inventory:material-list"


@pytest.fixture
def page_client(personas: dict[str, Any]) -> Callable[[str], Client]:
    return lambda role: verified_client(personas[role], Client)


def test_material_list_rows(page_client: Callable[[str], Client]) -> None:
    sheet("SS304-16")
    sheet(
        "HRPO-COIL",
        description="10 ga HRPO coil",
        grade="HRPO",
        form="coil",
        thickness_mm=Decimal("3.416"),
        sheet_length_mm=None,
        unit="kg",
        is_active=False,
    )

    response = page_client("operator").get(reverse(URL))

    assert response.status_code == 200
    assert tables(response.content.decode())["Materials"] == [
        ["Code", "Description", "Grade", "Form", "Thickness (mm)", "Size (mm)", "Unit", "Status"],
        ["HRPO-COIL", "10 ga HRPO coil", "HRPO", "Coil", "3.416", "1219.2", "kg", "Inactive"],
        ["SS304-16", '16 ga 304 #4 sheet 48" × 120"', "304 #4", "Sheet", "1.519", "1219.2 × 3048.0", "sheet", "Active"],
    ]


def test_material_list_filters(page_client: Callable[[str], Client]) -> None:
    sheet("SS304-16")
    sheet("SS304-11", thickness_mm=Decimal("3.038"))
    sheet("AL-COIL", form="coil", sheet_length_mm=None, grade="5052-H32")
    sheet("OLD-1", is_active=False)
    client = page_client("operator")

    def codes(**query: str) -> list[str]:
        return [row[0] for row in tables(client.get(reverse(URL), query).content.decode())["Materials"][1:]]

    assert codes(form="coil") == ["AL-COIL"]
    assert codes(q="ss304") == ["SS304-11", "SS304-16"]
    assert codes(thickness_min="2") == ["SS304-11"]
    assert codes(is_active="false") == ["OLD-1"]
    assert codes(q="nothing like it") == ["No materials match."]


def test_material_list_queries_do_not_grow(
    page_client: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    client = page_client("operator")
    sheet()
    with CaptureQueriesContext(connection) as one_row:
        client.get(reverse(URL))
    for _ in range(40):
        sheet()

    with django_assert_max_num_queries(len(one_row)):
        response = client.get(reverse(URL))

    assert len(tables(response.content.decode())["Materials"]) == 1 + 41


def test_outsider_is_refused(page_client: Callable[[str], Client]) -> None:
    assert page_client("outsider").get(reverse(URL)).status_code == 403
    assert Client().get(reverse(URL)).status_code == 302
