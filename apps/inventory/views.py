"""Pages of inventory: the materials list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.views.generic import ListView

from apps.core.htmx import HtmxPartialMixin
from apps.core.views_base import RoleRequiredMixin

from .filters import MaterialFilter
from .models import Material


class MaterialListView(RoleRequiredMixin, HtmxPartialMixin, ListView[Material]):
    required_permission = "inventory.view_material"
    template_name = "inventory/material_list.html"
    partial_template_name = "inventory/partials/material_table.html"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[Material]:
        self.filterset = MaterialFilter(self.request.GET, queryset=Material.objects.all())
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        return context
