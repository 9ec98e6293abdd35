"""FilterSets of core, shared by pages, REST and GraphQL."""

import django_filters

from .models import Job, OperatorLogRecord


class JobFilter(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ("status", "kind", "requested_by")


class OperatorLogRecordFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="logged_at", lookup_expr="gte")
    message = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = OperatorLogRecord
        fields = ("level", "source")
