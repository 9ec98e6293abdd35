"""The operator app's API. Every action is a POST with an Idempotency-Key, answered once and
replayed on repeat (see ../idempotency.py); the work itself is done by ../services.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.serializers import EmptySerializer
from apps.core.api.viewsets import ShopModelViewSet, ShopReadOnlyViewSet
from apps.machines.models import MachineStateInterval, WorkCenter
from apps.machines.services import assign_downtime_reason
from apps.routings.choices import OperationStatus
from apps.routings.models import Job, Operation
from apps.scheduling.adapter import PLANNED_JOB_STATUSES

from .. import services
from ..filters import AttendanceFilter, LaborEntryFilter, ProductionEventFilter, ScrapReasonFilter
from ..idempotency import Answer, IdempotencyKeyError, run_once
from ..models import Attendance, LaborEntry, ProductionEvent, ScrapReason
from ..selectors import (
    Station,
    clocked_in_centers,
    downtime_prompts,
    machine_queue,
    operations_for_floor,
    station_of,
)
from ..services import CORRECT_LABOR, EXECUTE_OPERATION
from . import payloads
from .serializers import (
    AttendanceSerializer,
    ClockInSerializer,
    CompleteSerializer,
    CorrectionSerializer,
    LaborEntrySerializer,
    PauseSerializer,
    ProductionEventSerializer,
    ReasonChoiceSerializer,
    ReportSerializer,
    ScrapReasonSerializer,
    StartSerializer,
)


def answer(request: Request, action_name: str, perform: Callable[[], dict[str, Any]], status: int = 200) -> Response:
    """Run a shop-floor action once under the request's Idempotency-Key."""
    try:
        result: Answer = run_once(
            key=request.headers.get("Idempotency-Key", ""),
            user=request.user,
            action=action_name,
            perform=perform,
            status=status,
        )
    except IdempotencyKeyError as exc:
        return Response(
            {"detail": str(exc), "code": exc.code}, status=400 if exc.code != "idempotency_key_reused" else 422
        )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return Response(result.body, status=result.status, headers=headers)


def valid(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """Input checked before the key is spent: a malformed body is refused and may be sent again."""
    body = serializer_class(data=data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


def operation_payload(user: Any, operation_id: int) -> dict[str, Any]:
    op = get_object_or_404(operations_for_floor(), pk=operation_id)
    return payloads.operations([op], user, station_of(user))[0]


class FloorView(APIView):
    required_permission = EXECUTE_OPERATION


class MeView(FloorView):
    """Who I am on the floor: my shift, my machines, what I am working on."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(payloads.me(request.user))


class ClockInView(FloorView):
    @extend_schema(request=ClockInSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = valid(ClockInSerializer, request.data)

        def perform() -> dict[str, Any]:
            services.clock_in(operator=request.user, work_center_ids=data["work_centers"])
            return payloads.me(request.user)

        return answer(request, "clock-in", perform)


class MachinesView(FloorView):
    @extend_schema(request=ClockInSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = valid(ClockInSerializer, request.data)

        def perform() -> dict[str, Any]:
            services.set_attendance_machines(operator=request.user, work_center_ids=data["work_centers"])
            return payloads.me(request.user)

        return answer(request, "machines", perform)


class ClockOutView(FloorView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        def perform() -> dict[str, Any]:
            services.clock_out(operator=request.user)
            return payloads.me(request.user)

        return answer(request, "clock-out", perform)


class QueueView(FloorView):
    """The dispatch lists of the machines I am clocked in to (or of `?work_center=`)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        rule = str(request.query_params.get("rule", ""))
        wanted = request.query_params.get("work_center")
        mine = clocked_in_centers(request.user)
        station = Station.of(mine)
        centers = mine
        if wanted:
            if not str(wanted).isdigit():
                return Response({"detail": "work_center must be an id.", "code": "invalid"}, status=400)
            centers = [get_object_or_404(WorkCenter, pk=int(wanted), is_active=True)]
        lists = []
        for wc in centers:
            queue = machine_queue(wc, rule=rule)
            lists.append(
                {
                    **payloads.machine(wc),
                    "rule": queue.rule,
                    "diverged": queue.diverged,
                    "why": queue.why,
                    "entries": payloads.operations(queue.entries, request.user, station),
                }
            )
        return Response({"work_centers": lists})


class FloorJobView(FloorView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(Job, pk=pk)
        station = station_of(request.user)
        ops = list(operations_for_floor().filter(job=job).order_by("sequence"))
        return Response(
            {"id": job.pk, "number": job.number, "operations": payloads.operations(ops, request.user, station)}
        )


class FloorOperationViewSet(viewsets.GenericViewSet[Operation]):
    """Operations as the floor works them; the actions are the operator's buttons."""

    queryset = Operation.objects.none()
    serializer_class = EmptySerializer
    action_permissions: ClassVar[dict[str, str]] = {
        name: EXECUTE_OPERATION
        for name in ("retrieve", "start", "finish_setup", "pause", "resume", "report", "complete", "join", "leave")
    }
    http_method_names = ["get", "post"]

    def get_queryset(self) -> QuerySet[Operation]:
        return (
            operations_for_floor()
            .filter(job__status__in=PLANNED_JOB_STATUSES)
            .exclude(status=OperationStatus.CANCELLED)
        )

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(operation_payload(request.user, int(kwargs["pk"])))

    def _act(self, request: Request, pk: str | None, name: str, do: Callable[[int], Any]) -> Response:
        operation_id = int(str(pk)) if str(pk).isdigit() else 0
        get_object_or_404(Operation, pk=operation_id)

        def perform() -> dict[str, Any]:
            do(operation_id)
            return operation_payload(request.user, operation_id)

        return answer(request, f"operation:{name}:{operation_id}", perform)

    @extend_schema(request=StartSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        data = valid(StartSerializer, request.data)
        return self._act(
            request,
            pk,
            "start",
            lambda op: services.start_operation(
                operator=request.user, operation_id=op, work_center_id=data["work_center"]
            ),
        )

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], url_path="finish-setup")
    def finish_setup(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request, pk, "finish-setup", lambda op: services.finish_setup(operator=request.user, operation_id=op)
        )

    @extend_schema(request=PauseSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        data = valid(PauseSerializer, request.data)
        return self._act(
            request,
            pk,
            "pause",
            lambda op: services.pause_operation(
                operator=request.user, operation_id=op, reason_id=data["reason"], note=data.get("note", "")
            ),
        )

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request, pk, "resume", lambda op: services.resume_operation(operator=request.user, operation_id=op)
        )

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def join(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request, pk, "join", lambda op: services.join_operation(operator=request.user, operation_id=op)
        )

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request, pk, "leave", lambda op: services.leave_operation(operator=request.user, operation_id=op)
        )

    @extend_schema(request=ReportSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        data = valid(ReportSerializer, request.data)
        return self._act(
            request,
            pk,
            "report",
            lambda op: services.report_quantity(
                operator=request.user,
                operation_id=op,
                good=data["good"],
                scrap=data["scrap"],
                scrap_reason_id=data.get("scrap_reason"),
            ),
        )

    @extend_schema(request=CompleteSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        data = valid(CompleteSerializer, request.data)
        return self._act(
            request,
            pk,
            "complete",
            lambda op: services.complete_operation(
                operator=request.user,
                operation_id=op,
                good=data["good"],
                scrap=data["scrap"],
                scrap_reason_id=data.get("scrap_reason"),
                accept_short=data["accept_short"],
            ),
        )


class ReasonsView(FloorView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(payloads.reasons())


class DowntimePromptViewSet(viewsets.GenericViewSet[MachineStateInterval]):
    """Unplanned stops at my machines that still need a reason; answering one sets it."""

    queryset = MachineStateInterval.objects.none()
    serializer_class = EmptySerializer
    action_permissions: ClassVar[dict[str, str]] = {
        "list": EXECUTE_OPERATION,
        "reason": "machines.assign_downtime_reason",
    }
    pagination_class = None

    def get_queryset(self) -> QuerySet[MachineStateInterval]:
        return downtime_prompts(self.request.user)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response([payloads.prompt(interval) for interval in self.get_queryset()[:20]])

    @extend_schema(request=ReasonChoiceSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def reason(self, request: Request, pk: str | None = None) -> Response:
        interval = get_object_or_404(MachineStateInterval.objects.select_related("work_center"), pk=pk)
        data = valid(ReasonChoiceSerializer, request.data)

        def perform() -> dict[str, Any]:
            assign_downtime_reason(interval=interval, reason=data["reason"], user=request.user)
            interval.refresh_from_db()
            return payloads.prompt(interval)

        return answer(request, f"downtime-reason:{interval.pk}", perform)


class ScrapReasonViewSet(ShopModelViewSet):
    queryset = ScrapReason.objects.all()
    serializer_class = ScrapReasonSerializer
    filterset_class = ScrapReasonFilter
    search_fields = ("code", "name")


def own_rows(request: Request, queryset: QuerySet[Any], field: str) -> QuerySet[Any]:
    """Operators see their own rows; people who correct labor see everyone's."""
    if request.user.has_perm(CORRECT_LABOR):
        return queryset
    return queryset.filter(**{field: request.user})


class AttendanceViewSet(ShopReadOnlyViewSet):
    queryset = Attendance.objects.select_related("operator").prefetch_related("work_centers")
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilter
    action_permissions: ClassVar[dict[str, str]] = {"correct": CORRECT_LABOR}

    def get_queryset(self) -> QuerySet[Attendance]:
        return own_rows(self.request, super().get_queryset(), "operator")

    @extend_schema(request=CorrectionSerializer, responses=AttendanceSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        row = self.get_object()
        data = valid(CorrectionSerializer, request.data)
        fixed = services.correct_attendance(
            supervisor=request.user,
            attendance_id=row.pk,
            clocked_in_at=data["started_at"],
            clocked_out_at=data.get("ended_at"),
            reason=data["reason"],
        )
        return Response(AttendanceSerializer(fixed).data)


class LaborEntryViewSet(ShopReadOnlyViewSet):
    queryset = LaborEntry.objects.select_related("operator", "operation__job", "work_center")
    serializer_class = LaborEntrySerializer
    filterset_class = LaborEntryFilter
    action_permissions: ClassVar[dict[str, str]] = {"correct": CORRECT_LABOR}

    def get_queryset(self) -> QuerySet[LaborEntry]:
        return own_rows(self.request, super().get_queryset(), "operator")

    @extend_schema(request=CorrectionSerializer, responses=LaborEntrySerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        row = self.get_object()
        data = valid(CorrectionSerializer, request.data)
        fixed = services.correct_labor_entry(
            supervisor=request.user,
            entry_id=row.pk,
            started_at=data["started_at"],
            ended_at=data.get("ended_at"),
            reason=data["reason"],
        )
        return Response(LaborEntrySerializer(fixed).data)


class ProductionEventViewSet(ShopReadOnlyViewSet):
    queryset = ProductionEvent.objects.select_related(
        "operation__job", "work_center", "by", "scrap_reason", "pause_reason"
    )
    serializer_class = ProductionEventSerializer
    filterset_class = ProductionEventFilter
