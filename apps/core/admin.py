from django.contrib import admin

from .models import Job, Notification, OperatorLogRecord, PushSubscription


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


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "body", "user__username")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = ("user", "kind", "title", "body", "url", "read_at", "created_at", "updated_at")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin[PushSubscription]):
    list_display = ("user", "user_agent", "created_at", "last_success_at", "failures")
    list_filter = ("last_success_at",)
    search_fields = ("user__username", "user_agent", "endpoint")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = ("user", "endpoint", "p256dh", "auth", "user_agent", "created_at", "last_success_at", "failures")

    def has_add_permission(self, request: object) -> bool:
        return False
