from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import Conflict
from apps.core.api.serializers import EmptySerializer
from apps.core.api.viewsets import ShopModelViewSet

from .. import calendar
from ..filters import (
    CalendarExceptionFilter,
    DepartmentFilter,
    ShiftCalendarFilter,
    ShiftFilter,
    WorkCenterFilter,
    WorkCenterTypeFilter,
)
from ..models import CalendarException, Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType
from ..selectors import NoShiftCalendar, working_intervals
from ..services import (
    CHANGE_SHIFT_CALENDAR,
    CHANGE_WORK_CENTER,
    activate_work_center,
    deactivate_work_center,
    set_plant_default_calendar,
)
from .serializers import (
    CalendarExceptionSerializer,
    DepartmentSerializer,
    ShiftCalendarSerializer,
    ShiftSerializer,
    WorkCenterSerializer,
    WorkCenterTypeSerializer,
    WorkingTimeQuerySerializer,
    WorkingTimeSerializer,
)

VIEW_WORK_CENTER = "machines.view_workcenter"


class DepartmentViewSet(ShopModelViewSet):
    """Departments of the plant, in the order work flows through them."""

    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter
    search_fields = ("code", "name")
    ordering_fields = ("sequence", "code", "name")


class WorkCenterTypeViewSet(ShopModelViewSet):
    """Groups of interchangeable machines; routings name a type."""

    queryset = WorkCenterType.objects.all()
    serializer_class = WorkCenterTypeSerializer
    filterset_class = WorkCenterTypeFilter
    search_fields = ("code", "name", "description")
    ordering_fields = ("code", "name")


class WorkCenterViewSet(ShopModelViewSet):
    """Machines and manned stations, with when each can run (`working-time`)."""

    queryset = WorkCenter.objects.all()
    serializer_class = WorkCenterSerializer
    filterset_class = WorkCenterFilter
    search_fields = ("code", "name", "iot_device_id", "sigmanest_machine_id")
    ordering_fields = ("code", "name", "department__sequence")
    action_permissions = {
        "working_time": VIEW_WORK_CENTER,
        "deactivate": CHANGE_WORK_CENTER,
        "activate": CHANGE_WORK_CENTER,
    }

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, required=True, description="ISO 8601 date-time"),
            OpenApiParameter("end", str, required=True, description="ISO 8601 date-time"),
        ],
        responses=WorkingTimeSerializer,
    )
    @action(detail=True, methods=["get"], url_path="working-time")
    def working_time(self, request: Request, pk: str | None = None) -> Response:
        """When this work center can run between `start` and `end`: its shifts minus breaks, plus
        overtime, minus holidays, maintenance and shutdowns (plant-wide and its own). An inactive
        work center has none."""
        work_center = self.get_object()
        query = WorkingTimeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        try:
            intervals = working_intervals(work_center, start, end)
        except NoShiftCalendar as exc:
            raise Conflict(str(exc), code="no_shift_calendar") from exc
        body = {
            "work_center": work_center.pk,
            "start": start,
            "end": end,
            "minutes": calendar.working_minutes(intervals),
            "intervals": [{"start": s, "end": e} for s, e in intervals],
        }
        return Response(WorkingTimeSerializer(body).data)

    @extend_schema(request=EmptySerializer, responses=WorkCenterSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Take the work center out of service: it gets no working time and nothing is planned on it."""
        work_center = deactivate_work_center(actor=request.user, work_center_id=self.get_object().pk)
        return Response(WorkCenterSerializer(work_center).data)

    @extend_schema(request=EmptySerializer, responses=WorkCenterSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        """Put the work center back in service."""
        work_center = activate_work_center(actor=request.user, work_center_id=self.get_object().pk)
        return Response(WorkCenterSerializer(work_center).data)


class ShiftCalendarViewSet(ShopModelViewSet):
    """Weekly shift patterns with their shifts and breaks; one of them is the plant default."""

    queryset = ShiftCalendar.objects.prefetch_related(
        Prefetch(
            "shifts",
            queryset=Shift.objects.order_by("weekday", "start").prefetch_related(
                Prefetch("breaks", queryset=ShiftBreak.objects.order_by("start"))
            ),
        )
    )
    serializer_class = ShiftCalendarSerializer
    filterset_class = ShiftCalendarFilter
    search_fields = ("name", "description")
    ordering_fields = ("name",)
    action_permissions = {"set_plant_default": CHANGE_SHIFT_CALENDAR}

    @extend_schema(request=EmptySerializer, responses=ShiftCalendarSerializer)
    @action(detail=True, methods=["post"], url_path="set-plant-default")
    def set_plant_default(self, request: Request, pk: str | None = None) -> Response:
        """Make this the calendar of every work center without its own; the previous default
        stops being it at the same moment."""
        chosen = set_plant_default_calendar(actor=request.user, calendar_id=self.get_object().pk)
        return Response(ShiftCalendarSerializer(self.get_queryset().get(pk=chosen.pk)).data)


class ShiftViewSet(ShopModelViewSet):
    """Shifts of a calendar with their unpaid breaks, in plant-local wall-clock time. Writing a
    shift replaces its breaks; leaving `breaks` out keeps them."""

    queryset = Shift.objects.prefetch_related(Prefetch("breaks", queryset=ShiftBreak.objects.order_by("start")))
    serializer_class = ShiftSerializer
    filterset_class = ShiftFilter
    search_fields = ("name",)
    ordering_fields = ("weekday", "start")


class CalendarExceptionViewSet(ShopModelViewSet):
    """Holidays, planned maintenance, shutdowns and overtime, plant-wide or per work center."""

    queryset = CalendarException.objects.all()
    serializer_class = CalendarExceptionSerializer
    filterset_class = CalendarExceptionFilter
    search_fields = ("name",)
    ordering_fields = ("start_date", "starts_at", "kind")
