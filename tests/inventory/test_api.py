"""Materials pass the API contract; sheet and coil sizes are checked on the way in."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from apps.core.testing import ResourceContract
from apps.inventory.models import Material

_serial = itertools.count(1)


def sheet(code: str = "", **fields: Any) -> Material:
    values: dict[str, Any] = {
        "code": code or f"SS304-16-{next(_serial)}",
        "description": '16 ga 304 #4 sheet 48" × 120"',
        "grade": "304 #4",
        "form": "sheet",
        "thickness_mm": Decimal("1.519"),
        "sheet_width_mm": Decimal("1219.2"),
        "sheet_length_mm": Decimal("3048.0"),
        "unit": "sheet",
        **fields,
    }
    return Material.objects.create(**values)


class TestMaterialAPI(ResourceContract):
    basename = "inventory-material"
    allowed_role = "operator"
    graphql_list = "materials"
    graphql_fields = "id code grade form thicknessMm sheetWidthMm sheetLengthMm unit isActive"
    filter_case = ("form", "coil")
    create_data = {
        "code": "CRS-11",
        "description": "11 ga CRS sheet 60 × 120",
        "grade": "CRS",
        "form": "sheet",
        "thickness_mm": "3.038",
        "sheet_width_mm": "1524.0",
        "sheet_length_mm": "3048.0",
        "unit": "sheet",
    }
    create_role = "production_manager"

    def make_object(self, index: int) -> Material:
        if index == 1:
            return sheet(
                f"AL5052-COIL-{next(_serial)}",
                description="0.080 5052-H32 coil 48",
                grade="5052-H32",
                form="coil",
                thickness_mm=Decimal("2.032"),
                sheet_length_mm=None,
                unit="kg",
            )
        return sheet()

    def expected(self, obj: Any) -> dict[str, Any]:
        coil = obj.form == "coil"
        return {
            "id": obj.pk,
            "code": obj.code,
            "description": obj.description,
            "grade": "5052-H32" if coil else "304 #4",
            "form": obj.form,
            "thickness_mm": "2.032" if coil else "1.519",
            "sheet_width_mm": "1219.2",
            "sheet_length_mm": None if coil else "3048.0",
            "unit": "kg" if coil else "sheet",
            "is_active": True,
        }


@pytest.mark.django_db
def test_a_sheet_without_its_size_is_refused(client_for: Callable[[str], Any]) -> None:
    body = {**TestMaterialAPI.create_data, "sheet_width_mm": None, "sheet_length_mm": "-5"}

    response = client_for("production_manager").post(reverse("inventory-material-list"), body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "sheet_width_mm": ["A sheet or coil needs its width."],
        "sheet_length_mm": ["Must be more than zero."],
    }
    assert Material.objects.count() == 0


@pytest.mark.django_db
def test_patch_checks_the_stored_values_too(client_for: Callable[[str], Any]) -> None:
    tube = sheet("TUBE-1", form="tube", sheet_width_mm=None, sheet_length_mm=Decimal("6096.0"), unit="m")
    url = reverse("inventory-material-detail", kwargs={"pk": tube.pk})
    client = client_for("production_manager")

    to_sheet = client.patch(url, {"form": "sheet"}, format="json")
    renamed = client.patch(url, {"description": "1 in square tube 16 ga"}, format="json")

    assert to_sheet.status_code == 400
    assert to_sheet.json()["fields"] == {"sheet_width_mm": ["A sheet or coil needs its width."]}
    assert renamed.status_code == 200
    tube.refresh_from_db()
    assert (tube.form, tube.description) == ("tube", "1 in square tube 16 ga")


@pytest.mark.django_db
def test_deleting_a_material_is_refused_to_operators(client_for: Callable[[str], Any]) -> None:
    material = sheet()

    response = client_for("operator").delete(reverse("inventory-material-detail", kwargs={"pk": material.pk}))

    assert response.status_code == 403
    assert Material.objects.filter(pk=material.pk).exists()
