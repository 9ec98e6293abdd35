"""FilterSets shared by the archive page, REST and GraphQL."""

from __future__ import annotations

import django_filters

from .choices import RunStatus
from .models import ReportRun


class ReportRunFilter(django_filters.FilterSet):
    report = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    schedule = django_filters.NumberFilter(field_name="schedule_id")
    period_start_after = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_end_before = django_filters.DateFilter(field_name="period_end", lookup_expr="lte")

    class Meta:
        model = ReportRun
        fields = ("report", "status", "schedule")
