"""FilterSets of scheduling, shared by pages, REST and GraphQL."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.machines.models import WorkCenter
from apps.routings.models import Job

from .choices import Objective, ScheduleStatus
from .models import Schedule, ScheduleSlot


class ScheduleFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ScheduleStatus.choices)
    objective = django_filters.ChoiceFilter(label=_("Objective"), choices=Objective.choices)

    class Meta:
        model = Schedule
        fields = ("status", "objective")


class ScheduleSlotFilter(django_filters.FilterSet):
    schedule = django_filters.ModelChoiceFilter(label=_("Schedule"), queryset=Schedule.objects.all())
    work_center = django_filters.ModelChoiceFilter(label=_("Work center"), queryset=WorkCenter.objects.all())
    work_center_code = django_filters.CharFilter(label=_("Work center code"), field_name="work_center__code")
    job = django_filters.ModelChoiceFilter(label=_("Job"), queryset=Job.objects.all(), field_name="operation__job")
    is_frozen = django_filters.BooleanFilter(label=_("Frozen"))

    class Meta:
        model = ScheduleSlot
        fields = ("schedule", "work_center", "job", "is_frozen")
