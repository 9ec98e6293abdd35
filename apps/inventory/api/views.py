from __future__ import annotations

from django.db.models import Model, ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException

from apps.core.api.viewsets import ShopModelViewSet

from ..filters import MaterialFilter
from ..models import Material
from .serializers import MaterialSerializer


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the shop's data.")
    default_code = "conflict"


class MaterialViewSet(ShopModelViewSet):
    """Raw material as bought: grade, form, thickness and sheet size."""

    queryset = Material.objects.all()
    serializer_class = MaterialSerializer
    filterset_class = MaterialFilter
    search_fields = ("code", "description", "grade")
    ordering_fields = ("code", "thickness_mm", "grade")

    def perform_destroy(self, instance: Model) -> None:
        try:
            instance.delete()
        except ProtectedError as exc:
            raise Conflict(
                _("%(row)s is still used by %(n)d parts; mark it inactive instead.")
                % {"row": instance, "n": len(exc.protected_objects)}
            ) from exc
