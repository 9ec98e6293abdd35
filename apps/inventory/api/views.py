from __future__ import annotations

from apps.core.api.viewsets import ShopModelViewSet

from ..filters import MaterialFilter
from ..models import Material
from .serializers import MaterialSerializer


class MaterialViewSet(ShopModelViewSet):
    """Raw material as bought: grade, form, thickness and sheet size."""

    queryset = Material.objects.all()
    serializer_class = MaterialSerializer
    filterset_class = MaterialFilter
    search_fields = ("code", "description", "grade")
    ordering_fields = ("code", "thickness_mm", "grade")
