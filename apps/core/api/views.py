from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ..filters import JobFilter, OperatorLogRecordFilter
from ..models import Job, OperatorLogRecord
from ..permissions import CANCEL_JOB
from ..services import request_job_cancel
from .serializers import BackgroundJobSerializer, EmptySerializer, OperatorLogRecordSerializer
from .viewsets import ShopReadOnlyViewSet


class JobViewSet(ShopReadOnlyViewSet):
    """Background jobs (schedule runs, imports, reports, syncs) with progress and log."""

    queryset = Job.objects.select_related("requested_by").all()
    serializer_class = BackgroundJobSerializer
    filterset_class = JobFilter
    ordering_fields = ("created_at", "status", "kind")
    action_permissions = {"cancel": CANCEL_JOB}

    @extend_schema(request=EmptySerializer, responses=BackgroundJobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = request_job_cancel(actor=request.user, job_id=self.get_object().pk)
        return Response(BackgroundJobSerializer(job).data)


class OperatorLogRecordViewSet(ShopReadOnlyViewSet):
    """The operator log panel: plain-words warnings for the people running the shop."""

    queryset = OperatorLogRecord.objects.all()
    serializer_class = OperatorLogRecordSerializer
    filterset_class = OperatorLogRecordFilter
    search_fields = ("message",)
