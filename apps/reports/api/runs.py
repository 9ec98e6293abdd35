"""Report runs over REST: the archive, "run now", and the files as streamed downloads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.viewsets import ShopReadOnlyViewSet
from apps.machines.models import Department, WorkCenter

from ..choices import ReportFormat
from ..definitions import REPORTS, ReportParameters
from ..downloads import run_file_response
from ..filters import ReportRunFilter
from ..models import ReportDelivery, ReportRun
from ..services import FORMATS, REQUEST_RUN, VIEW_RUN, request_report_run


class ReportDeliverySerializer(serializers.ModelSerializer[ReportDelivery]):
    class Meta:
        model = ReportDelivery
        fields = ("recipient", "status", "attempts", "last_error", "sent_at")


class ReportRunSerializer(serializers.ModelSerializer[ReportRun]):
    deliveries = ReportDeliverySerializer(many=True, read_only=True)
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportRun
        fields = (
            "id",
            "report",
            "schedule",
            "parameters",
            "formats",
            "period_start",
            "period_end",
            "status",
            "job",
            "requested_by",
            "error",
            "created_at",
            "finished_at",
            "delivery_status",
            "deliveries",
            "pdf_url",
            "xlsx_url",
        )

    def _url(self, run: ReportRun, name: str) -> str | None:
        if not getattr(run, name):
            return None
        return reverse(f"reports-reportrun-{name}", args=[run.pk])

    def get_pdf_url(self, run: ReportRun) -> str | None:
        return self._url(run, ReportFormat.PDF)

    def get_xlsx_url(self, run: ReportRun) -> str | None:
        return self._url(run, ReportFormat.XLSX)


class RunRequestSerializer(serializers.Serializer[Any]):
    report = serializers.ChoiceField(choices=[])
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False, allow_null=True)
    work_centers = serializers.PrimaryKeyRelatedField(queryset=WorkCenter.objects.all(), many=True, required=False)
    formats = serializers.MultipleChoiceField(choices=ReportFormat.choices, required=False)
    language = serializers.ChoiceField(choices=[("en", "English"), ("es", "Español")], default="en")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        report = self.fields["report"]
        assert isinstance(report, serializers.ChoiceField)
        report.choices = [(code, str(definition.name)) for code, definition in REPORTS.items()]


class ReportRunViewSet(ShopReadOnlyViewSet):
    """The report archive. POST runs a report now (as a background job); poll the run until it succeeded."""

    queryset = ReportRun.objects.prefetch_related("deliveries").order_by("-created_at")
    serializer_class = ReportRunSerializer
    filterset_class = ReportRunFilter
    ordering_fields = ("created_at", "period_start", "status")
    action_permissions = {"create": REQUEST_RUN, "pdf": VIEW_RUN, "xlsx": VIEW_RUN}

    @extend_schema(request=RunRequestSerializer, responses={202: ReportRunSerializer})
    def create(self, request: Request) -> Response:
        incoming = RunRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        department = data.get("department")
        parameters = ReportParameters(
            period_start=data["first_day"],
            period_end=data["last_day"],
            department_id=department.pk if department else None,
            work_center_ids=tuple(wc.pk for wc in data.get("work_centers", [])),
            language=data["language"],
        )
        formats = [name for name in FORMATS if name in data.get("formats", FORMATS)]
        try:
            run = request_report_run(actor=request.user, code=data["report"], parameters=parameters, formats=formats)
        except ValidationError as exc:
            raise serializers.ValidationError({"detail": exc.messages}) from exc
        return Response(ReportRunSerializer(run).data, status=202)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> FileResponse:
        return run_file_response(self.get_object(), ReportFormat.PDF)

    @extend_schema(
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY}
    )
    @action(detail=True, methods=["get"])
    def xlsx(self, request: Request, pk: str | None = None) -> FileResponse:
        return run_file_response(self.get_object(), ReportFormat.XLSX)
