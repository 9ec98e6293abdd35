from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import EmptySerializer
from apps.core.api.viewsets import ShopReadOnlyViewSet

from ..filters import ScheduleFilter, ScheduleSlotFilter
from ..models import ScheduleSlot
from ..selectors import schedule_queryset
from ..services import PLAN, PUBLISH, publish_schedule, start_planning_run
from ..slot_edits import CHANGE_SLOT, SlotConflicts, move_slot
from .serializers import (
    MoveRefusedSerializer,
    MoveSlotSerializer,
    PlanningRunSerializer,
    ScheduleSerializer,
    ScheduleSlotSerializer,
)


class ScheduleViewSet(ShopReadOnlyViewSet):
    """Schedules with the KPIs of the plan and of each dispatch rule. `plan` queues a planning run
    (the answer is the new schedule, status planning; its `run` is the background job to poll);
    `publish` makes a ready schedule the one that drives dispatch."""

    queryset = schedule_queryset()
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilter
    search_fields = ("name",)
    ordering_fields = ("created_at", "name", "status")
    action_permissions = {"plan": PLAN, "publish": PUBLISH}

    @extend_schema(request=PlanningRunSerializer, responses={202: ScheduleSerializer})
    @action(detail=False, methods=["post"])
    def plan(self, request: Request) -> Response:
        body = PlanningRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        schedule = start_planning_run(actor=request.user, **body.validated_data)
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=EmptySerializer, responses=ScheduleSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        schedule = publish_schedule(actor=request.user, schedule_id=self.get_object().pk)
        return Response(ScheduleSerializer(schedule_queryset().get(pk=schedule.pk)).data)


class ScheduleSlotViewSet(ShopReadOnlyViewSet):
    """Where and when each operation runs in a schedule; `move` moves one (409 with every
    conflict when the move would overlap, leave working time, break precedence or use a
    machine that cannot run the operation; nothing is saved then)."""

    queryset = ScheduleSlot.objects.select_related("operation__job", "work_center")
    serializer_class = ScheduleSlotSerializer
    filterset_class = ScheduleSlotFilter
    ordering_fields = ("start", "work_center")
    action_permissions = {"move": CHANGE_SLOT}

    @extend_schema(request=MoveSlotSerializer, responses={200: ScheduleSlotSerializer, 409: MoveRefusedSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        slot = self.get_object()
        body = MoveSlotSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            moved = move_slot(
                actor=request.user,
                slot_id=slot.pk,
                work_center_id=body.validated_data["work_center"].pk,
                start=body.validated_data["start"],
            )
        except SlotConflicts as exc:
            return Response(
                {
                    "detail": _("The move was refused; nothing changed."),
                    "code": "conflict",
                    "conflicts": [{"kind": str(c.kind), "message": c.message} for c in exc.conflicts],
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(ScheduleSlotSerializer(self.get_queryset().get(pk=moved.pk)).data)
