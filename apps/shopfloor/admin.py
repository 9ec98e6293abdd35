from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.core.admin_base import ReadOnlyAdmin

from .models import Attendance, IdempotentAction, IssueReport, LaborEntry, ProductionEvent, ScrapReason


@admin.register(ScrapReason)
class ScrapReasonAdmin(admin.ModelAdmin[ScrapReason]):
    list_display = ("code", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(Attendance)
class AttendanceAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ("operator", "clocked_in_at", "clocked_out_at")
    list_filter = ("clocked_in_at", "work_centers")
    search_fields = ("operator__username", "operator__first_name", "operator__last_name")
    list_select_related = ("operator",)
    autocomplete_fields = ("operator",)
    date_hierarchy = "clocked_in_at"


@admin.register(LaborEntry)
class LaborEntryAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ("operator", "operation", "work_center", "phase", "started_at", "ended_at")
    list_filter = ("phase", "work_center")
    search_fields = ("operator__username", "operation__job__number")
    list_select_related = ("operator", "operation__job", "work_center")
    date_hierarchy = "started_at"


@admin.register(ProductionEvent)
class ProductionEventAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "operation",
        "work_center",
        "kind",
        "by",
        "quantity_good",
        "quantity_scrap",
        "scrap_reason",
        "pause_reason",
    )
    list_filter = ("kind", "work_center")
    search_fields = ("operation__job__number", "by__username", "note")
    list_select_related = ("operation__job", "work_center", "by", "scrap_reason", "pause_reason")
    date_hierarchy = "at"


@admin.register(IdempotentAction)
class IdempotentActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "action", "status_code", "key")
    list_filter = ("status_code",)
    search_fields = ("key", "action", "user__username")
    list_select_related = ("user",)


@admin.register(IssueReport)
class IssueReportAdmin(ReadOnlyAdmin):
    list_display = ("reported_at", "kind", "status", "work_center", "job", "reported_by")
    list_filter = ("status", "kind", "work_center")
    search_fields = ("text", "resolution", "job__number")
    list_select_related = ("work_center", "job", "reported_by")
    date_hierarchy = "reported_at"
