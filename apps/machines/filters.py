"""FilterSets of machines, shared by pages, REST and GraphQL."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import CalendarException, Department, Shift, ShiftCalendar, WorkCenter, WorkCenterType
from .selectors import plant_time_zone

YES_NO_ANY = (("", _("Any")), ("true", _("Yes")), ("false", _("No")))


class DepartmentFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Department
        fields = ("code", "name")


class WorkCenterTypeFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = WorkCenterType
        fields = ("code", "name", "department")


class WorkCenterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label=_("Code or name"))
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("Department"), empty_label=_("All departments")
    )
    work_center_type = django_filters.ModelChoiceFilter(
        queryset=WorkCenterType.objects.all(), label=_("Type"), empty_label=_("All types")
    )
    is_active = django_filters.BooleanFilter(label=_("Active"), widget=forms.Select(choices=YES_NO_ANY))
    is_bottleneck = django_filters.BooleanFilter(label=_("Bottleneck"), widget=forms.Select(choices=YES_NO_ANY))

    class Meta:
        model = WorkCenter
        fields = ("code", "department", "work_center_type", "calendar", "setup_category", "is_active", "is_bottleneck")

    def filter_text(self, queryset: QuerySet[WorkCenter], name: str, value: str) -> QuerySet[WorkCenter]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class ShiftCalendarFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = ShiftCalendar
        fields = ("name", "is_plant_default")


class ShiftFilter(django_filters.FilterSet):
    class Meta:
        model = Shift
        fields = ("calendar", "weekday")


class CalendarExceptionFilter(django_filters.FilterSet):
    plant_wide = django_filters.BooleanFilter(field_name="work_center", lookup_expr="isnull", label=_("Whole plant"))
    after = django_filters.IsoDateTimeFilter(method="filter_after", label=_("Ends after"))
    before = django_filters.IsoDateTimeFilter(method="filter_before", label=_("Starts before"))

    class Meta:
        model = CalendarException
        fields = ("kind", "work_center", "plant_wide")

    def filter_after(self, queryset: QuerySet[CalendarException], name: str, value: Any) -> QuerySet[CalendarException]:
        # Whole-day exceptions are compared by the plant's local date, the way they were entered.
        return queryset.filter(Q(ends_at__gt=value) | Q(end_date__gte=value.astimezone(plant_time_zone()).date()))

    def filter_before(
        self, queryset: QuerySet[CalendarException], name: str, value: Any
    ) -> QuerySet[CalendarException]:
        return queryset.filter(Q(starts_at__lt=value) | Q(start_date__lte=value.astimezone(plant_time_zone()).date()))
