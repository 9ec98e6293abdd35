"""Base ViewSets every app's API uses: role permissions, pagination and filters come from here."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model
from rest_framework import viewsets


class ShopReadOnlyViewSet(viewsets.ReadOnlyModelViewSet[Any]):
    """Read-only resource. Set `queryset`, `serializer_class` and `filterset_class`."""

    action_permissions: ClassVar[dict[str, str]] = {}


class ShopModelViewSet(viewsets.ModelViewSet[Any]):
    """Full resource. Workflow changes go through extra actions that call services, listed in
    `action_permissions` with the permission each needs."""

    action_permissions: ClassVar[dict[str, str]] = {}

    def perform_destroy(self, instance: Model) -> None:
        instance.delete()
