"""FilterSets of inventory, shared by pages, REST and GraphQL."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .choices import MaterialForm
from .models import Material

YES_NO_ANY = (("", _("Any")), ("true", _("Yes")), ("false", _("No")))


class MaterialFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label=_("Code or description"))
    form = django_filters.ChoiceFilter(choices=MaterialForm.choices, label=_("Form"), empty_label=_("All forms"))
    grade = django_filters.CharFilter(lookup_expr="iexact", label=_("Grade"))
    thickness_min = django_filters.NumberFilter(
        field_name="thickness_mm", lookup_expr="gte", label=_("Thickness from (mm)")
    )
    thickness_max = django_filters.NumberFilter(
        field_name="thickness_mm", lookup_expr="lte", label=_("Thickness to (mm)")
    )
    is_active = django_filters.BooleanFilter(label=_("Active"), widget=forms.Select(choices=YES_NO_ANY))

    class Meta:
        model = Material
        fields = ("code", "form", "grade", "unit", "is_active")

    def filter_text(self, queryset: QuerySet[Material], name: str, value: str) -> QuerySet[Material]:
        return queryset.filter(Q(code__icontains=value) | Q(description__icontains=value))
