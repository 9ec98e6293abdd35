from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.inventory.services import validate_material_dimensions


@pytest.mark.parametrize(
    ("form", "width", "length"),
    [("sheet", "1219.2", "3048"), ("coil", "1219.2", None), ("tube", None, "6096"), ("bar", None, None)],
)
def test_valid_sizes(form: str, width: str | None, length: str | None) -> None:
    validate_material_dimensions(
        form=form,
        sheet_width_mm=Decimal(width) if width else None,
        sheet_length_mm=Decimal(length) if length else None,
    )


@pytest.mark.parametrize(
    ("form", "width", "length", "errors"),
    [
        (
            "sheet",
            None,
            None,
            {"sheet_width_mm": ["A sheet or coil needs its width."], "sheet_length_mm": ["A sheet needs its length."]},
        ),
        ("coil", None, None, {"sheet_width_mm": ["A sheet or coil needs its width."]}),
        ("bar", "0", None, {"sheet_width_mm": ["Must be more than zero."]}),
    ],
)
def test_invalid_sizes(form: str, width: str | None, length: str | None, errors: dict[str, list[str]]) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_material_dimensions(
            form=form,
            sheet_width_mm=Decimal(width) if width else None,
            sheet_length_mm=Decimal(length) if length else None,
        )

    assert raised.value.message_dict == errors
