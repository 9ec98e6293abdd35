from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.machines.models import WorkCenter
from apps.scheduling.services import DEFAULT_HORIZON_DAYS

from ..choices import Objective
from ..models import Schedule, ScheduleSlot

USERNAME: dict[str, Any] = {"slug_field": "username", "read_only": True}


class ScheduleSerializer(serializers.ModelSerializer[Schedule]):
    created_by = serializers.SlugRelatedField(**USERNAME)
    published_by = serializers.SlugRelatedField(**USERNAME)

    class Meta:
        model = Schedule
        fields = (
            "id",
            "name",
            "status",
            "objective",
            "horizon_start",
            "horizon_end",
            "time_limit_seconds",
            "workers",
            "allow_break_straddle",
            "based_on",
            "start",
            "based_on_kpis",
            "run",
            "created_by",
            "created_at",
            "solver_status",
            "objective_value",
            "best_bound",
            "gap",
            "kpis",
            "rule_kpis",
            "published_at",
            "published_by",
        )
        read_only_fields = fields


class PlanningRunSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    horizon_days = serializers.IntegerField(min_value=1, max_value=90, default=DEFAULT_HORIZON_DAYS)
    objective = serializers.ChoiceField(choices=Objective.choices, default=Objective.LEXICOGRAPHIC)
    time_limit_seconds = serializers.IntegerField(min_value=1, max_value=3600, default=60)
    workers = serializers.IntegerField(min_value=1, max_value=16, default=2)
    allow_break_straddle = serializers.BooleanField(default=True)
    start_from_published = serializers.BooleanField(
        default=True, help_text=_("Start from the published schedule where it still beats the dispatch rules.")
    )


class ScheduleSlotSerializer(serializers.ModelSerializer[ScheduleSlot]):
    job = serializers.IntegerField(source="operation.job_id", read_only=True)
    job_number = serializers.CharField(source="operation.job.number", read_only=True)
    work_center_code = serializers.CharField(source="work_center.code", read_only=True)

    class Meta:
        model = ScheduleSlot
        fields = (
            "id",
            "schedule",
            "operation",
            "job",
            "job_number",
            "work_center",
            "work_center_code",
            "setup_start",
            "start",
            "end",
            "setup_minutes",
            "is_frozen",
        )
        read_only_fields = fields


class MoveSlotSerializer(serializers.Serializer[Any]):
    work_center = serializers.PrimaryKeyRelatedField(queryset=WorkCenter.objects.all(), help_text=_("Target machine."))
    start = serializers.DateTimeField(help_text=_("When the slot (its setup first) begins."))


class ConflictSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    message = serializers.CharField()


class MoveRefusedSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField()
    conflicts = ConflictSerializer(many=True)
