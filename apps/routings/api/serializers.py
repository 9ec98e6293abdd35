from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..choices import PartFileKind
from ..models import Customer, Job, Operation, Part, PartFile, RoutingStep
from ..selectors import JobRisk, LateRisk, late_risk_for
from ..services import OPERATION_WORKFLOW_FIELDS, save_routing_step

USERNAME: dict[str, Any] = {"slug_field": "username", "read_only": True}


class CustomerSerializer(serializers.ModelSerializer[Customer]):
    class Meta:
        model = Customer
        fields = ("id", "code", "name", "email", "phone", "is_active", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")


class PartSerializer(serializers.ModelSerializer[Part]):
    class Meta:
        model = Part
        fields = (
            "id",
            "number",
            "revision",
            "description",
            "customer",
            "material",
            "thickness_mm",
            "grain_direction",
            "is_active",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("created_at", "updated_at")


class PartFileSerializer(serializers.ModelSerializer[PartFile]):
    """A stored file's facts; the content comes from the `download` action, never a media URL."""

    uploaded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(**USERNAME)

    class Meta:
        model = PartFile
        fields = (
            "id",
            "part",
            "kind",
            "original_name",
            "size_bytes",
            "content_type",
            "sha256",
            "uploaded_by",
            "created_at",
        )
        read_only_fields = fields


class PartFileUploadSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=PartFileKind.choices)
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class RoutingStepSerializer(serializers.ModelSerializer[RoutingStep]):
    """A step of a part's standard routing. Leave `sequence` out to add it ten after the last;
    `predecessors` empty means the previous step in sequence."""

    sequence = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    predecessors = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=RoutingStep.objects.only("pk", "part_id", "sequence")
    )

    class Meta:
        model = RoutingStep
        fields = (
            "id",
            "part",
            "sequence",
            "operation_code",
            "description",
            "work_center_type",
            "preferred_work_center",
            "setup_minutes",
            "run_minutes_per_unit",
            "predecessors",
        )
        # The service checks the unique sequence with a message naming the step.
        validators: list[Any] = []

    def create(self, validated_data: dict[str, Any]) -> RoutingStep:
        predecessors = validated_data.pop("predecessors", None)
        return self._save(RoutingStep(**validated_data), predecessors)

    def update(self, instance: RoutingStep, validated_data: dict[str, Any]) -> RoutingStep:
        predecessors = validated_data.pop("predecessors", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self._save(instance, predecessors)

    def _save(self, step: RoutingStep, predecessors: list[RoutingStep] | None) -> RoutingStep:
        return save_routing_step(actor=self.context["request"].user, step=step, predecessors=predecessors)


class JobSerializer(serializers.ModelSerializer[Job]):
    """A job (work order). Status fields change only through the workflow actions.

    `late_risk` is late, at_risk or on_track for an open job and null for a closed one (the rule
    is in apps/routings/selectors.py).
    """

    status_changed_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(**USERNAME)
    released_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(**USERNAME)
    late_risk = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = (
            "id",
            "number",
            "customer",
            "part",
            "quantity",
            "due_date",
            "priority",
            "sales_order",
            "status",
            "status_changed_at",
            "status_changed_by",
            "released_at",
            "released_by",
            "hold_reason",
            "split_from",
            "notes",
            "late_risk",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "status",
            "status_changed_at",
            "released_at",
            "hold_reason",
            "split_from",
            "created_at",
            "updated_at",
        )

    def get_late_risk(self, job: Job) -> LateRisk | None:
        risks: dict[int, JobRisk] | None = self.context.get("late_risk")
        found = (late_risk_for([job]) if risks is None else risks).get(job.pk)
        return found.risk if found else None


class HoldSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200, help_text=_("Why the job stops: shown to the floor."))


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SplitSerializer(serializers.Serializer[Any]):
    quantity = serializers.IntegerField(help_text=_("How many to move to the new job."))


class OperationSerializer(serializers.ModelSerializer[Operation]):
    """A job's operation. Supervisors may change its estimates and preferred work center;
    starting and completing it is the shop floor's work."""

    job_number = serializers.CharField(source="job.number", read_only=True)
    total_minutes = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)

    class Meta:
        model = Operation
        fields = (
            "id",
            "job",
            "job_number",
            "sequence",
            "operation_code",
            "description",
            "work_center_type",
            "preferred_work_center",
            "quantity",
            "setup_minutes",
            "run_minutes_per_unit",
            "total_minutes",
            "predecessors",
            "status",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "created_at",
            "updated_at",
        )
        read_only_fields = OPERATION_WORKFLOW_FIELDS
