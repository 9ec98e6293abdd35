from __future__ import annotations

from typing import Any

import graphene
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from apps.core.graphql.base import ShopMutation, check_access, list_field, resolve_list, view_permission
from apps.scheduling.services import DEFAULT_HORIZON_DAYS

from ..choices import Objective
from ..filters import ScheduleSlotFilter
from ..models import Schedule, ScheduleSlot
from ..selectors import schedule_queryset
from ..services import MAX_HORIZON_DAYS, PLAN, PUBLISH, publish_schedule, start_planning_run
from ..slot_edits import CHANGE_SLOT, SlotConflicts, move_slot
from .types import ScheduleConflictType, ScheduleSlotType, ScheduleType

MAX_PAGE = 500


def _invalid(exc: ValidationError) -> GraphQLError:
    return GraphQLError(" ".join(exc.messages), extensions={"code": "INVALID"})


class SchedulingQuery(graphene.ObjectType):
    schedules = list_field(ScheduleType, status=graphene.String(), objective=graphene.String())
    schedule = graphene.Field(ScheduleType, id=graphene.ID(required=True))
    schedule_slots = graphene.List(
        graphene.NonNull(ScheduleSlotType),
        schedule_id=graphene.ID(required=True),
        work_center=graphene.ID(description="A work center id."),
        first=graphene.Int(default_value=MAX_PAGE),
        offset=graphene.Int(default_value=0),
        description="The slots of one schedule, optionally of one work center, in time order.",
    )

    def resolve_schedules(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(ScheduleType, info, **kwargs)

    def resolve_schedule(self, info: Any, id: str) -> Schedule | None:
        check_access(info, view_permission(Schedule))
        return schedule_queryset().filter(pk=id).first() if str(id).isdigit() else None

    def resolve_schedule_slots(
        self, info: Any, schedule_id: str, first: int, offset: int, work_center: str | None = None
    ) -> Any:
        check_access(info, view_permission(ScheduleSlot))
        data = {"schedule": schedule_id, **({"work_center": work_center} if work_center else {})}
        filterset = ScheduleSlotFilter(data, queryset=ScheduleSlotType.get_queryset(ScheduleSlot.objects.all(), info))
        if not filterset.is_valid():
            raise GraphQLError(str(dict(filterset.errors)), extensions={"code": "BAD_USER_INPUT"})
        first = max(0, min(first, MAX_PAGE))
        return filterset.qs.order_by("work_center_id", "start")[offset : offset + first]


class StartPlanningRun(ShopMutation):
    """Queue a planning run; poll the schedule (status planning → ready) or its background job."""

    required_permission = PLAN

    class Arguments:
        name = graphene.String(default_value="")
        horizon_days = graphene.Int(default_value=DEFAULT_HORIZON_DAYS)
        objective = graphene.String(default_value=Objective.LEXICOGRAPHIC.value)
        time_limit_seconds = graphene.Int(default_value=60)
        workers = graphene.Int(default_value=2)
        allow_break_straddle = graphene.Boolean(default_value=True)
        start_from_published = graphene.Boolean(default_value=True)

    schedule = graphene.Field(ScheduleType)

    @classmethod
    def perform(cls, root: Any, info: Any, **arguments: Any) -> StartPlanningRun:
        if not 1 <= arguments["horizon_days"] <= MAX_HORIZON_DAYS:
            raise GraphQLError(f"horizonDays is 1 to {MAX_HORIZON_DAYS}.", extensions={"code": "BAD_USER_INPUT"})
        try:
            schedule = start_planning_run(actor=info.context.user, **arguments)
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return StartPlanningRun(schedule=schedule)


class PublishSchedule(ShopMutation):
    required_permission = PUBLISH

    class Arguments:
        id = graphene.ID(required=True)

    schedule = graphene.Field(ScheduleType)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str) -> PublishSchedule:
        if not (str(id).isdigit() and Schedule.objects.filter(pk=int(id)).exists()):
            raise GraphQLError("No such schedule.", extensions={"code": "NOT_FOUND"})
        try:
            schedule = publish_schedule(actor=info.context.user, schedule_id=int(id))
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return PublishSchedule(schedule=schedule)


class MoveScheduleSlot(ShopMutation):
    """Move a slot to a machine and start; refused moves answer `conflicts` and change nothing."""

    required_permission = CHANGE_SLOT

    class Arguments:
        id = graphene.ID(required=True)
        work_center = graphene.ID(required=True)
        start = graphene.DateTime(required=True)

    slot = graphene.Field(ScheduleSlotType)
    conflicts = graphene.List(graphene.NonNull(ScheduleConflictType), required=True)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str, work_center: str, start: Any) -> MoveScheduleSlot:
        if not (str(id).isdigit() and str(work_center).isdigit()):
            raise GraphQLError("No such slot or work center.", extensions={"code": "NOT_FOUND"})
        try:
            slot = move_slot(actor=info.context.user, slot_id=int(id), work_center_id=int(work_center), start=start)
        except SlotConflicts as exc:
            return MoveScheduleSlot(
                slot=None,
                conflicts=[ScheduleConflictType(kind=str(c.kind), message=c.message) for c in exc.conflicts],
            )
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return MoveScheduleSlot(slot=slot, conflicts=[])


class SchedulingMutation(graphene.ObjectType):
    start_planning_run = StartPlanningRun.Field()
    publish_schedule = PublishSchedule.Field()
    move_schedule_slot = MoveScheduleSlot.Field()
