"""FilterSets of the shop floor, shared by pages, REST and GraphQL."""

from __future__ import annotations

import django_filters

from .models import Attendance, IssueReport, LaborEntry, ProductionEvent, ScrapReason


class ScrapReasonFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = ScrapReason
        fields = ("code", "name", "is_active")


class AttendanceFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="clocked_in_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="clocked_in_at", lookup_expr="lt")
    open = django_filters.BooleanFilter(field_name="clocked_out_at", lookup_expr="isnull")

    class Meta:
        model = Attendance
        fields = ("operator", "work_centers")


class LaborEntryFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    open = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull")

    class Meta:
        model = LaborEntry
        fields = ("operator", "operation", "work_center", "phase")


class ProductionEventFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = ProductionEvent
        fields = ("operation", "work_center", "kind", "by")


class IssueReportFilter(django_filters.FilterSet):
    class Meta:
        model = IssueReport
        fields = ("status", "kind", "work_center", "job")
