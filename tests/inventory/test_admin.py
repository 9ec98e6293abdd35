from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.testing import verified_client
from apps.inventory.models import Material

pytestmark = pytest.mark.django_db


def test_admin_refuses_a_sheet_without_length(personas: dict[str, Any]) -> None:
    client = verified_client(personas["production_manager"], Client)

    response = client.post(
        reverse("admin:inventory_material_add"),
        {
            "code": "SS304-16",
            "description": "16 ga 304",
            "grade": "304 #4",
            "form": "sheet",
            "thickness_mm": "1.519",
            "sheet_width_mm": "1219.2",
            "sheet_length_mm": "",
            "unit": "sheet",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "A sheet needs its length." in response.content.decode()
    assert Material.objects.count() == 0
    assert client.get(reverse("admin:inventory_material_changelist")).status_code == 200
