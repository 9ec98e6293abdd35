from apps.core.graphql.base import ShopObjectType

from ..models import Material


class MaterialType(ShopObjectType):
    class Meta:
        model = Material
        name = "Material"
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
