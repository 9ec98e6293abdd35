"""GraphQL types of routings.

Foreign keys are plain fields with their own resolvers reading the row already loaded
(select_related), so a list costs a constant number of queries; each resolver still checks the
related model's view permission. Choice fields keep their stored values ("released", 3), as in
the REST API.
"""

from __future__ import annotations

from typing import Any

import graphene
from django.db.models import Prefetch, QuerySet

from apps.core.graphql.base import ShopObjectType, check_access, view_permission
from apps.inventory.models import Material
from apps.machines.models import WorkCenter, WorkCenterType

from ..models import Customer, Job, Operation, Part, PartFile, RoutingStep


def related(type_path: str, model: type[Any], attribute: str, *, required: bool = True) -> graphene.Field:
    """A foreign key read from the row already loaded, permission-checked."""

    def resolve(root: Any, info: Any) -> Any:
        check_access(info, view_permission(model))
        return getattr(root, attribute)

    return graphene.Field(type_path, required=required, resolver=resolve)


def related_list(type_path: str, model: type[Any], attribute: str) -> graphene.List:
    """A to-many relation read from the prefetched rows, permission-checked."""

    def resolve(root: Any, info: Any) -> Any:
        check_access(info, view_permission(model))
        return list(getattr(root, attribute).all())

    return graphene.List(graphene.NonNull(type_path), required=True, resolver=resolve)


def predecessor_ids() -> graphene.List:
    """Ids of the steps or operations that must finish first (prefetched)."""

    def resolve(root: Any, info: Any) -> list[int]:
        return [row.pk for row in root.predecessors.all()]

    return graphene.List(graphene.NonNull(graphene.ID), required=True, resolver=resolve)


_HERE = "apps.routings.graphql.types"
_WORK_CENTER_TYPE = "apps.machines.graphql.types.WorkCenterTypeType"
_WORK_CENTER = "apps.machines.graphql.types.WorkCenterNode"
_MATERIAL = "apps.inventory.graphql.types.MaterialType"


class CustomerType(ShopObjectType):
    class Meta:
        model = Customer
        name = "Customer"
        fields = ("id", "code", "name", "email", "phone", "is_active")


class PartFileType(ShopObjectType):
    """A stored file's facts; download it from /routings/part-files/<id>/download/."""

    class Meta:
        model = PartFile
        name = "PartFile"
        fields = ("id", "kind", "original_name", "size_bytes", "content_type", "sha256", "created_at")
        convert_choices_to_enum = False


class RoutingStepType(ShopObjectType):
    work_center_type = related(_WORK_CENTER_TYPE, WorkCenterType, "work_center_type")
    preferred_work_center = related(_WORK_CENTER, WorkCenter, "preferred_work_center", required=False)
    predecessors = predecessor_ids()

    class Meta:
        model = RoutingStep
        name = "RoutingStep"
        fields = (
            "id",
            "sequence",
            "operation_code",
            "description",
            "work_center_type",
            "preferred_work_center",
            "setup_minutes",
            "run_minutes_per_unit",
            "predecessors",
        )


class PartType(ShopObjectType):
    customer = related(f"{_HERE}.CustomerType", Customer, "customer", required=False)
    material = related(_MATERIAL, Material, "material", required=False)
    routing_steps = related_list(f"{_HERE}.RoutingStepType", RoutingStep, "routing_steps")
    files = related_list(f"{_HERE}.PartFileType", PartFile, "files")

    class Meta:
        model = Part
        name = "Part"
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
            "routing_steps",
            "files",
        )
        convert_choices_to_enum = False

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        steps = RoutingStep.objects.select_related("work_center_type", "preferred_work_center").prefetch_related(
            "predecessors"
        )
        return (
            super()
            .get_queryset(queryset, info)
            .select_related("customer", "material")
            .prefetch_related(Prefetch("routing_steps", queryset=steps), "files")
        )


class OperationType(ShopObjectType):
    job = related(f"{_HERE}.JobType", Job, "job")
    work_center_type = related(_WORK_CENTER_TYPE, WorkCenterType, "work_center_type")
    preferred_work_center = related(_WORK_CENTER, WorkCenter, "preferred_work_center", required=False)
    total_minutes = graphene.Decimal(required=True)
    predecessors = predecessor_ids()

    class Meta:
        model = Operation
        name = "Operation"
        fields = (
            "id",
            "job",
            "sequence",
            "operation_code",
            "description",
            "work_center_type",
            "preferred_work_center",
            "quantity",
            "setup_minutes",
            "run_minutes_per_unit",
            "predecessors",
            "status",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
        )
        convert_choices_to_enum = False

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(queryset, info)
            .select_related("job", "work_center_type", "preferred_work_center")
            .prefetch_related(Prefetch("predecessors", queryset=Operation.objects.only("pk")))
        )


class JobType(ShopObjectType):
    customer = related(f"{_HERE}.CustomerType", Customer, "customer")
    part = related(f"{_HERE}.PartType", Part, "part")
    split_from = related(f"{_HERE}.JobType", Job, "split_from", required=False)
    operations = related_list(f"{_HERE}.OperationType", Operation, "operations")

    class Meta:
        model = Job
        name = "Job"
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
            "released_at",
            "hold_reason",
            "split_from",
            "notes",
            "operations",
        )
        convert_choices_to_enum = False

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        operations = Operation.objects.select_related("work_center_type", "preferred_work_center").prefetch_related(
            Prefetch("predecessors", queryset=Operation.objects.only("pk"))
        )
        return (
            super()
            .get_queryset(queryset, info)
            .select_related("customer", "part", "split_from")
            .prefetch_related(Prefetch("operations", queryset=operations))
        )
