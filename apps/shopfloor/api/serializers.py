from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.machines.models import DowntimeReason

from ..models import Attendance, LaborEntry, ProductionEvent, ScrapReason


class ClockInSerializer(serializers.Serializer[Any]):
    work_centers = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=20)


class StartSerializer(serializers.Serializer[Any]):
    work_center = serializers.IntegerField(min_value=1)


class PauseSerializer(serializers.Serializer[Any]):
    reason = serializers.IntegerField(min_value=1)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReportSerializer(serializers.Serializer[Any]):
    good = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)
    scrap = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)
    scrap_reason = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class CompleteSerializer(ReportSerializer):
    accept_short = serializers.BooleanField(default=False)


class ReasonChoiceSerializer(serializers.Serializer[Any]):
    reason = serializers.PrimaryKeyRelatedField(queryset=DowntimeReason.objects.filter(is_active=True))


class CorrectionSerializer(serializers.Serializer[Any]):
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=100)


class ScrapReasonSerializer(serializers.ModelSerializer[ScrapReason]):
    class Meta:
        model = ScrapReason
        fields = ("id", "code", "name", "is_active")


class AttendanceSerializer(serializers.ModelSerializer[Attendance]):
    operator_name = serializers.CharField(source="operator.get_username", read_only=True)

    class Meta:
        model = Attendance
        fields = ("id", "operator", "operator_name", "clocked_in_at", "clocked_out_at", "work_centers")
        read_only_fields = fields


class LaborEntrySerializer(serializers.ModelSerializer[LaborEntry]):
    operator_name = serializers.CharField(source="operator.get_username", read_only=True)
    job = serializers.CharField(source="operation.job.number", read_only=True)

    class Meta:
        model = LaborEntry
        fields = (
            "id",
            "operator",
            "operator_name",
            "operation",
            "job",
            "work_center",
            "phase",
            "started_at",
            "ended_at",
        )
        read_only_fields = fields


class ProductionEventSerializer(serializers.ModelSerializer[ProductionEvent]):
    class Meta:
        model = ProductionEvent
        fields = (
            "id",
            "operation",
            "work_center",
            "kind",
            "at",
            "by",
            "quantity_good",
            "quantity_scrap",
            "scrap_reason",
            "pause_reason",
            "note",
        )
        read_only_fields = fields
