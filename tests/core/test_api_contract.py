"""The core resources pass the API contract every resource must pass."""

from __future__ import annotations

from typing import Any

from apps.core.models import Job, OperatorLogRecord
from apps.core.testing import ActionCase, ResourceContract


class TestBackgroundJobAPI(ResourceContract):
    basename = "core-job"
    allowed_role = "supervisor"
    graphql_list = "backgroundJobs"
    graphql_fields = "id name status progress"
    filter_case = ("status", "failed")
    actions = (
        ActionCase(
            name="cancel",
            allowed_role="production_manager",
            denied_role="supervisor",
            state=lambda job: (job.status, job.cancel_requested),
        ),
    )

    def make_object(self, index: int) -> Job:
        return Job.objects.create(
            kind="test.kind",
            name=f"Import week {index}",
            status="queued" if index != 1 else "failed",
            error="bad row 3" if index == 1 else "",
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "kind": "test.kind",
            "name": obj.name,
            "status": obj.status,
            "requested_by": None,
            "created_at": obj.created_at.isoformat().replace("+00:00", "Z"),
            "started_at": None,
            "finished_at": None,
            "progress": 0,
            "progress_detail": {},
            "log": "",
            "result": {},
            "error": obj.error,
            "cancel_requested": False,
        }


class TestOperatorLogAPI(ResourceContract):
    basename = "core-operatorlog"
    allowed_role = "maintenance"
    denied_role = "operator"
    graphql_list = "operatorLog"
    graphql_fields = "id level message"
    filter_case = ("level", "ERROR")

    def make_object(self, index: int) -> OperatorLogRecord:
        return OperatorLogRecord.objects.create(
            level="ERROR" if index == 1 else "WARNING",
            source="operator.telemetry",
            message=f"Laser {index} stopped reporting",
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "logged_at": obj.logged_at.isoformat().replace("+00:00", "Z"),
            "level": obj.level,
            "source": "operator.telemetry",
            "message": obj.message,
            "request_id": "",
        }
