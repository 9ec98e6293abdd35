from ..models import Job, OperatorLogRecord
from .base import ShopObjectType


class BackgroundJobType(ShopObjectType):
    class Meta:
        model = Job
        name = "BackgroundJob"
        fields = (
            "id",
            "kind",
            "name",
            "status",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "progress",
            "progress_detail",
            "log",
            "result",
            "error",
            "cancel_requested",
        )


class OperatorLogRecordType(ShopObjectType):
    class Meta:
        model = OperatorLogRecord
        fields = ("id", "logged_at", "level", "source", "message", "request_id")
