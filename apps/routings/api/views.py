from __future__ import annotations

from typing import Any

from django.db.models import Model, Prefetch
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from apps.core.api.serializers import EmptySerializer
from apps.core.api.viewsets import ShopModelViewSet, ShopReadOnlyViewSet

from ..filters import CustomerFilter, JobFilter, OperationFilter, PartFileFilter, PartFilter, RoutingStepFilter
from ..models import Customer, Job, Operation, Part, PartFile, RoutingStep
from ..selectors import late_risk_for
from ..services import (
    ADD_PART_FILE,
    CANCEL,
    HOLD,
    RELEASE,
    SPLIT,
    cancel_job,
    create_job,
    delete_job,
    hold_job,
    release_job,
    resume_job,
    split_job,
    update_job,
    update_operation,
    upload_part_file,
)
from ..uploads import attachment_response
from .serializers import (
    CancelSerializer,
    CustomerSerializer,
    HoldSerializer,
    JobSerializer,
    OperationSerializer,
    PartFileSerializer,
    PartFileUploadSerializer,
    PartSerializer,
    RoutingStepSerializer,
    SplitSerializer,
)

VIEW_PART_FILE = "routings.view_partfile"
VIEW_ROUTING_STEP = "routings.view_routingstep"


class CustomerViewSet(ShopModelViewSet):
    """Customers who order work."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    search_fields = ("code", "name")
    ordering_fields = ("code", "name")


class PartViewSet(ShopModelViewSet):
    """Part numbers at a revision; `files` lists and uploads drawings, DXF and NC programs,
    `routing-steps` reads the standard routing."""

    queryset = Part.objects.all()
    serializer_class = PartSerializer
    filterset_class = PartFilter
    search_fields = ("number", "description")
    ordering_fields = ("number", "revision")
    action_permissions = {
        "files": VIEW_PART_FILE,
        "upload_file": ADD_PART_FILE,
        "routing_steps": VIEW_ROUTING_STEP,
    }

    @extend_schema(request=None, responses=PartFileSerializer(many=True))
    @action(detail=True, methods=["get"])
    def files(self, request: Request, pk: str | None = None) -> Response:
        rows = PartFile.objects.filter(part=self.get_object()).select_related("uploaded_by")
        return Response(PartFileSerializer(rows, many=True).data)

    @extend_schema(request={"multipart/form-data": PartFileUploadSerializer}, responses={201: PartFileSerializer})
    @files.mapping.post
    def upload_file(self, request: Request, pk: str | None = None) -> Response:
        part = self.get_object()
        form = PartFileUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        part_file = upload_part_file(
            actor=request.user,
            part_id=part.pk,
            kind=form.validated_data["kind"],
            uploaded_file=form.validated_data["file"],
        )
        return Response(PartFileSerializer(part_file).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RoutingStepSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="routing-steps")
    def routing_steps(self, request: Request, pk: str | None = None) -> Response:
        rows = RoutingStep.objects.filter(part=self.get_object()).prefetch_related("predecessors")
        return Response(RoutingStepSerializer(rows, many=True).data)


class PartFileViewSet(ShopReadOnlyViewSet):
    """Stored part files; `download` streams one as an attachment."""

    queryset = PartFile.objects.select_related("uploaded_by")
    serializer_class = PartFileSerializer
    filterset_class = PartFileFilter
    search_fields = ("original_name",)
    ordering_fields = ("created_at", "original_name")
    action_permissions = {"download": VIEW_PART_FILE}

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        return attachment_response(self.get_object())


class RoutingStepViewSet(ShopModelViewSet):
    """Steps of standard routings; writes go through the service that checks precedence."""

    queryset = RoutingStep.objects.select_related("part").prefetch_related("predecessors")
    serializer_class = RoutingStepSerializer
    filterset_class = RoutingStepFilter
    search_fields = ("operation_code", "description", "part__number")
    ordering_fields = ("part", "sequence")


class JobViewSet(ShopModelViewSet):
    """Jobs (work orders). Create makes a draft; status changes only through the workflow actions
    release, hold, resume, cancel and split, each a service call refused with 400 and a reason."""

    queryset = Job.objects.select_related("status_changed_by", "released_by")
    serializer_class = JobSerializer
    filterset_class = JobFilter
    search_fields = ("number", "sales_order", "customer__name", "part__number")
    ordering_fields = ("due_date", "priority", "number", "status")
    action_permissions = {"release": RELEASE, "hold": HOLD, "resume": HOLD, "cancel": CANCEL, "split": SPLIT}

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[Any]:
        if kwargs.get("many") and args:
            # A page of jobs: their late risk in one go rather than one job at a time.
            kwargs["context"] = {**self.get_serializer_context(), "late_risk": late_risk_for(args[0])}
        return super().get_serializer(*args, **kwargs)

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        data = serializer.validated_data
        serializer.instance = create_job(
            actor=self.request.user,
            number=data["number"],
            customer=data["customer"],
            part=data["part"],
            quantity=data["quantity"],
            due_date=data["due_date"],
            priority=data.get("priority", 3),
            sales_order=data.get("sales_order", ""),
            notes=data.get("notes", ""),
        )

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        assert serializer.instance is not None
        serializer.instance = update_job(
            actor=self.request.user, job_id=serializer.instance.pk, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: Model) -> None:
        delete_job(actor=self.request.user, job_id=instance.pk)

    def _answer(self, job: Job, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(job).data, status=code)

    @extend_schema(request=EmptySerializer, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(release_job(actor=request.user, job_id=self.get_object().pk))

    @extend_schema(request=HoldSerializer, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        body = HoldSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(hold_job(actor=request.user, job_id=job.pk, reason=body.validated_data["reason"]))

    @extend_schema(request=EmptySerializer, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(resume_job(actor=request.user, job_id=self.get_object().pk))

    @extend_schema(request=CancelSerializer, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(cancel_job(actor=request.user, job_id=job.pk, reason=body.validated_data["reason"]))

    @extend_schema(request=SplitSerializer, responses={201: JobSerializer})
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk: str | None = None) -> Response:
        """Move `quantity` to a new job (returned) with the same routing and due date."""
        job = self.get_object()
        body = SplitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new_job = split_job(actor=request.user, job_id=job.pk, quantity=body.validated_data["quantity"])
        return self._answer(new_job, status.HTTP_201_CREATED)


class OperationViewSet(ShopModelViewSet):
    """Operations of released jobs: read, and change of estimates and preferred work center.

    They are made by releasing a job and started/completed on the shop floor, so there is no
    create or delete here.
    """

    queryset = Operation.objects.select_related("job").prefetch_related(
        Prefetch("predecessors", queryset=Operation.objects.only("pk"))
    )
    serializer_class = OperationSerializer
    filterset_class = OperationFilter
    search_fields = ("operation_code", "description", "job__number")
    ordering_fields = ("job", "sequence", "planned_start")
    http_method_names = ["get", "put", "patch", "head", "options"]

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        assert serializer.instance is not None
        serializer.instance = update_operation(
            actor=self.request.user, operation_id=serializer.instance.pk, changes=serializer.validated_data
        )
