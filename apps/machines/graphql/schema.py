from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
from graphql import GraphQLError

from apps.core.graphql.base import check_access, list_field, resolve_list, view_permission

from .. import calendar
from ..models import WorkCenter
from ..selectors import NoShiftCalendar, working_intervals
from .types import (
    CalendarExceptionType,
    DepartmentType,
    ShiftCalendarType,
    WorkCenterNode,
    WorkCenterTypeType,
    WorkingTimeType,
)

# Same limit as the REST working-time action: a year is what planning looks ahead.
MAX_WORKING_TIME_DAYS = 366


class MachinesQuery(graphene.ObjectType):
    departments = list_field(DepartmentType, code=graphene.String())
    work_center_types = list_field(WorkCenterTypeType, code=graphene.String(), department=graphene.ID())
    work_centers = list_field(
        WorkCenterNode,
        code=graphene.String(),
        department=graphene.ID(),
        work_center_type=graphene.ID(),
        is_active=graphene.Boolean(),
        is_bottleneck=graphene.Boolean(),
    )
    shift_calendars = list_field(ShiftCalendarType, is_plant_default=graphene.Boolean())
    calendar_exceptions = list_field(CalendarExceptionType, kind=graphene.String(), work_center=graphene.ID())
    working_time = graphene.Field(
        WorkingTimeType,
        work_center_id=graphene.ID(required=True),
        start=graphene.DateTime(required=True),
        end=graphene.DateTime(required=True),
        description="When a work center can run in [start, end), as UTC intervals.",
    )

    def resolve_departments(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(DepartmentType, info, **kwargs)

    def resolve_work_center_types(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(WorkCenterTypeType, info, **kwargs)

    def resolve_work_centers(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(WorkCenterNode, info, **kwargs)

    def resolve_shift_calendars(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(ShiftCalendarType, info, **kwargs)

    def resolve_calendar_exceptions(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(CalendarExceptionType, info, **kwargs)

    def resolve_working_time(self, info: Any, work_center_id: str, start: datetime, end: datetime) -> Any:
        check_access(info, view_permission(WorkCenter))
        if start.tzinfo is None or end.tzinfo is None:
            raise GraphQLError("Give start and end with a UTC offset.", extensions={"code": "BAD_USER_INPUT"})
        if end <= start or (end - start).days > MAX_WORKING_TIME_DAYS:
            raise GraphQLError(
                f"The end must be after the start and at most {MAX_WORKING_TIME_DAYS} days later.",
                extensions={"code": "BAD_USER_INPUT"},
            )
        work_center = WorkCenter.objects.filter(pk=work_center_id).first()
        if work_center is None:
            raise GraphQLError("No such work center.", extensions={"code": "NOT_FOUND"})
        try:
            intervals = working_intervals(work_center, start, end)
        except NoShiftCalendar as exc:
            raise GraphQLError(str(exc), extensions={"code": "NO_SHIFT_CALENDAR"}) from exc
        return WorkingTimeType(
            work_center_id=work_center.pk,
            start=start,
            end=end,
            minutes=calendar.working_minutes(intervals),
            intervals=[{"start": s, "end": e} for s, e in intervals],
        )


class MachinesMutation(graphene.ObjectType):
    pass
