from django.contrib import admin

from .models import Job, OperatorLogRecord


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = ("id", "name", "kind", "status", "progress", "requested_by", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("name", "kind", "log")
    list_select_related = ("requested_by",)
    autocomplete_fields = ("requested_by",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "kind",
        "name",
        "status",
        "requested_by",
        "started_at",
        "finished_at",
        "progress",
        "progress_detail",
        "log",
        "result",
        "error",
        "cancel_requested",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(OperatorLogRecord)
class OperatorLogRecordAdmin(admin.ModelAdmin[OperatorLogRecord]):
    list_display = ("logged_at", "level", "source", "message")
    list_filter = ("level", "source")
    search_fields = ("message", "request_id")
    date_hierarchy = "logged_at"
    readonly_fields = ("logged_at", "level", "source", "message", "request_id")

    def has_add_permission(self, request: object) -> bool:
        return False
