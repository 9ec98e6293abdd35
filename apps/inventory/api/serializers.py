from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import Material
from ..services import validate_material_dimensions


class MaterialSerializer(serializers.ModelSerializer[Material]):
    class Meta:
        model = Material
        fields = (
            "id",
            "code",
            "description",
            "grade",
            "form",
            "thickness_mm",
            "sheet_width_mm",
            "sheet_length_mm",
            "unit",
            "is_active",
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(key: str) -> Any:
            return attrs[key] if key in attrs else getattr(self.instance, key, None)

        validate_material_dimensions(
            form=current("form") or Material._meta.get_field("form").get_default(),
            sheet_width_mm=current("sheet_width_mm"),
            sheet_length_mm=current("sheet_length_mm"),
        )
        return attrs
