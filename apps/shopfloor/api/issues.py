"""REST for issue reports: operators raise them (with a photo) and see their own; supervisors,
quality and maintenance see all, acknowledge and close them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import EmptySerializer
from apps.core.api.viewsets import ShopModelViewSet

from ..choices import IssueKind
from ..filters import IssueReportFilter
from ..issues import ADD_ISSUE, RESOLVE_ISSUE, TEXT_MAX_CHARS, acknowledge_issue, close_issue, report_issue
from ..models import IssueReport
from .views import answer


class IssueReportSerializer(serializers.ModelSerializer[IssueReport]):
    reported_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledged_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    closed_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)
    work_center_name = serializers.CharField(source="work_center.name", read_only=True, default=None)
    job_number = serializers.CharField(source="job.number", read_only=True, default=None)

    class Meta:
        model = IssueReport
        fields = (
            "id",
            "kind",
            "status",
            "text",
            "photo",
            "work_center",
            "work_center_name",
            "job",
            "job_number",
            "operation",
            "reported_by",
            "reported_at",
            "acknowledged_by",
            "acknowledged_at",
            "closed_by",
            "closed_at",
            "resolution",
        )
        read_only_fields = fields


class IssueReportCreateSerializer(serializers.Serializer[Any]):
    """The report form: a multipart body when it carries a photo. The photo is checked by the service."""

    kind = serializers.ChoiceField(choices=IssueKind.choices)
    text = serializers.CharField(max_length=TEXT_MAX_CHARS)
    photo = serializers.FileField(required=False, allow_null=True, allow_empty_file=False)
    work_center = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    job = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    operation = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class IssueCloseSerializer(serializers.Serializer[Any]):
    resolution = serializers.CharField(max_length=TEXT_MAX_CHARS)


class IssueReportViewSet(ShopModelViewSet):
    """Issue reports from the floor. Operators see their own; people who resolve issues see all.

    Send an Idempotency-Key header with a report from a device that may replay it when back online:
    the same key gets the same answer and creates one issue.
    """

    queryset = IssueReport.objects.all()
    serializer_class = IssueReportSerializer
    filterset_class = IssueReportFilter
    ordering_fields = ("reported_at", "status", "kind")
    search_fields = ("text",)
    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    action_permissions = {"create": ADD_ISSUE, "acknowledge": RESOLVE_ISSUE, "close": RESOLVE_ISSUE}

    def get_queryset(self) -> QuerySet[IssueReport]:
        rows = IssueReport.objects.select_related(
            "work_center", "job", "reported_by", "acknowledged_by", "closed_by"
        ).order_by("-reported_at", "-pk")
        if not self.request.user.has_perm(RESOLVE_ISSUE):
            rows = rows.filter(reported_by_id=self.request.user.pk)
        return rows

    @extend_schema(
        request={"multipart/form-data": IssueReportCreateSerializer, "application/json": IssueReportCreateSerializer},
        responses={201: IssueReportSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = IssueReportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data

        def perform() -> dict[str, Any]:
            issue = report_issue(
                user=request.user,
                kind=data["kind"],
                text=data["text"],
                photo=data.get("photo"),
                work_center_id=data.get("work_center"),
                job_id=data.get("job"),
                operation_id=data.get("operation"),
            )
            return dict(IssueReportSerializer(issue, context=self.get_serializer_context()).data)

        if request.headers.get("Idempotency-Key"):
            return answer(request, "shopfloor.report_issue", perform, status=status.HTTP_201_CREATED)
        return Response(perform(), status=status.HTTP_201_CREATED)

    @extend_schema(request=EmptySerializer, responses=IssueReportSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        issue = acknowledge_issue(user=request.user, issue_id=self.get_object().pk)
        return Response(IssueReportSerializer(issue, context=self.get_serializer_context()).data)

    @extend_schema(request=IssueCloseSerializer, responses=IssueReportSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        body = IssueCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issue = close_issue(
            user=request.user, issue_id=self.get_object().pk, resolution=body.validated_data["resolution"]
        )
        return Response(IssueReportSerializer(issue, context=self.get_serializer_context()).data)
