"""GraphQL types of scheduling. KPIs are JSON, shaped as in the REST API."""

from __future__ import annotations

from typing import Any

import graphene
from django.db.models import QuerySet
from graphene.types.generic import GenericScalar

from apps.core.graphql.base import ShopObjectType
from apps.machines.models import WorkCenter
from apps.routings.graphql.types import related
from apps.routings.models import Operation

from ..models import Schedule, ScheduleSlot

_WORK_CENTER = "apps.machines.graphql.types.WorkCenterNode"
_OPERATION = "apps.routings.graphql.types.OperationType"


class ScheduleType(ShopObjectType):
    kpis = GenericScalar(required=True)
    rule_kpis = GenericScalar(required=True)
    based_on_kpis = GenericScalar(required=True)

    class Meta:
        model = Schedule
        name = "Schedule"
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
            "created_at",
            "solver_status",
            "objective_value",
            "best_bound",
            "gap",
            "kpis",
            "rule_kpis",
            "published_at",
        )
        convert_choices_to_enum = False

    @staticmethod
    def resolve_kpis(root: Schedule, info: Any) -> Any:
        return root.kpis

    @staticmethod
    def resolve_rule_kpis(root: Schedule, info: Any) -> Any:
        return root.rule_kpis

    @staticmethod
    def resolve_based_on_kpis(root: Schedule, info: Any) -> Any:
        return root.based_on_kpis


class ScheduleConflictType(graphene.ObjectType):
    class Meta:
        name = "ScheduleConflict"

    kind = graphene.String(required=True)
    message = graphene.String(required=True)


class ScheduleSlotType(ShopObjectType):
    schedule_id = graphene.ID(required=True)
    operation = related(_OPERATION, Operation, "operation")
    work_center = related(_WORK_CENTER, WorkCenter, "work_center")

    class Meta:
        model = ScheduleSlot
        name = "ScheduleSlot"
        fields = ("id", "operation", "work_center", "setup_start", "start", "end", "setup_minutes", "is_frozen")

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        return super().get_queryset(queryset, info).select_related("operation__job", "work_center")

    @staticmethod
    def resolve_schedule_id(root: ScheduleSlot, info: Any) -> int:
        return root.schedule_id
