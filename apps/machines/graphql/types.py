"""GraphQL types of machines.

Foreign keys are declared as plain fields with their own resolvers: graphene-django would
otherwise fetch each related row with a query of its own (our base type overrides get_queryset),
one per row of a list. The resolvers still check the related model's view permission.
"""

from __future__ import annotations

from typing import Any

import graphene
from django.db.models import Prefetch, QuerySet

from apps.core.graphql.base import ShopObjectType, check_access, view_permission

from ..models import CalendarException, Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType


def related(type_name: str, model: type[Any], attribute: str, *, required: bool = True) -> graphene.Field:
    """A foreign key read from the row already loaded (select_related), permission-checked."""

    def resolve(root: Any, info: Any) -> Any:
        check_access(info, view_permission(model))
        return getattr(root, attribute)

    return graphene.Field(f"apps.machines.graphql.types.{type_name}", required=required, resolver=resolve)


class DepartmentType(ShopObjectType):
    class Meta:
        model = Department
        name = "Department"
        fields = ("id", "code", "name", "sequence")


class WorkCenterTypeType(ShopObjectType):
    department = related("DepartmentType", Department, "department")

    class Meta:
        model = WorkCenterType
        name = "WorkCenterType"
        fields = ("id", "code", "name", "department", "description")

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        return super().get_queryset(queryset, info).select_related("department")


class ShiftBreakType(ShopObjectType):
    class Meta:
        model = ShiftBreak
        name = "ShiftBreak"
        fields = ("id", "start", "end")


class ShiftType(ShopObjectType):
    breaks = graphene.List(graphene.NonNull(ShiftBreakType), required=True)

    class Meta:
        model = Shift
        name = "Shift"
        fields = ("id", "name", "weekday", "start", "end", "breaks")
        # 0 = Monday ... 6 = Sunday, as in REST; an enum would name them A_0 ... A_6.
        convert_choices_to_enum = False

    @staticmethod
    def resolve_breaks(shift: Shift, info: Any) -> Any:
        check_access(info, view_permission(ShiftBreak))
        return shift.breaks.all()


class ShiftCalendarType(ShopObjectType):
    shifts = graphene.List(graphene.NonNull(ShiftType), required=True)

    class Meta:
        model = ShiftCalendar
        name = "ShiftCalendar"
        fields = ("id", "name", "description", "is_plant_default", "shifts")

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(queryset, info)
            .prefetch_related(
                Prefetch(
                    "shifts",
                    queryset=Shift.objects.order_by("weekday", "start").prefetch_related(
                        Prefetch("breaks", queryset=ShiftBreak.objects.order_by("start"))
                    ),
                )
            )
        )

    @staticmethod
    def resolve_shifts(calendar: ShiftCalendar, info: Any) -> Any:
        check_access(info, view_permission(Shift))
        return calendar.shifts.all()


class WorkCenterNode(ShopObjectType):
    department = related("DepartmentType", Department, "department")
    work_center_type = related("WorkCenterTypeType", WorkCenterType, "work_center_type")
    calendar = related("ShiftCalendarType", ShiftCalendar, "calendar", required=False)

    class Meta:
        model = WorkCenter
        name = "WorkCenter"
        fields = (
            "id",
            "code",
            "name",
            "department",
            "work_center_type",
            "calendar",
            "efficiency",
            "setup_category",
            "is_bottleneck",
            "hourly_rate",
            "iot_device_id",
            "sigmanest_machine_id",
            "is_active",
        )

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        return super().get_queryset(queryset, info).select_related("department", "work_center_type", "calendar")


class CalendarExceptionType(ShopObjectType):
    work_center = related("WorkCenterNode", WorkCenter, "work_center", required=False)

    class Meta:
        model = CalendarException
        name = "CalendarException"
        fields = ("id", "kind", "name", "work_center", "start_date", "end_date", "starts_at", "ends_at")

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        return super().get_queryset(queryset, info).select_related("work_center")


class IntervalType(graphene.ObjectType):
    start = graphene.DateTime(required=True)
    end = graphene.DateTime(required=True)

    class Meta:
        name = "Interval"


class WorkingTimeType(graphene.ObjectType):
    work_center_id = graphene.ID(required=True)
    start = graphene.DateTime(required=True)
    end = graphene.DateTime(required=True)
    minutes = graphene.Int(required=True, description="Total working minutes in the range.")
    intervals = graphene.List(graphene.NonNull(IntervalType), required=True)

    class Meta:
        name = "WorkingTime"
