"""Base ViewSets every app's API uses: role permissions, pagination and filters come from here."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, ProtectedError
from django.utils.translation import gettext as _
from rest_framework import viewsets

from .errors import Conflict


class ShopReadOnlyViewSet(viewsets.ReadOnlyModelViewSet[Any]):
    """Read-only resource. Set `queryset`, `serializer_class` and `filterset_class`."""

    action_permissions: ClassVar[dict[str, str]] = {}


class ShopModelViewSet(viewsets.ModelViewSet[Any]):
    """Full resource. Workflow changes go through extra actions that call services, listed in
    `action_permissions` with the permission each needs."""

    action_permissions: ClassVar[dict[str, str]] = {}

    def perform_destroy(self, instance: Model) -> None:
        """Rows other rows still point at are not deleted: say so (409) instead of failing."""
        try:
            instance.delete()
        except ProtectedError as exc:
            raise Conflict(
                _("%(row)s is still used by %(n)d other records; deactivate it or move them first.")
                % {"row": instance, "n": len(exc.protected_objects)}
            ) from exc
