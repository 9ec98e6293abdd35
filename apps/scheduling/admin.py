from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import ChangeoverTime, Schedule, ScheduleSlot
from .services import PUBLISH, publish_schedule

# Everything on a schedule comes from its planning run or the publish workflow; only the name is free text.
SCHEDULE_FIELDS = (
    "name",
    "status",
    "objective",
    "horizon_start",
    "horizon_end",
    "time_limit_seconds",
    "workers",
    "allow_break_straddle",
    "based_on",
    "start",
    "run",
    "created_by",
    "solver_status",
    "objective_value",
    "best_bound",
    "gap",
    "kpis",
    "rule_kpis",
    "based_on_kpis",
    "published_at",
    "published_by",
    "created_at",
    "updated_at",
)


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin[Schedule]):
    list_display = ("name", "status", "objective", "horizon_start", "solver_status", "objective_value", "created_at")
    list_filter = ("status", "objective", "solver_status")
    search_fields = ("name",)
    list_select_related = ("run", "created_by")
    autocomplete_fields = ("created_by",)
    fields = SCHEDULE_FIELDS
    readonly_fields = tuple(field for field in SCHEDULE_FIELDS if field != "name")
    actions = ("publish",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a schedule is made by a planning run

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(PUBLISH))

    @admin.action(description=_("Publish (supersedes the published schedule)"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, _("Select exactly one schedule to publish."), messages.ERROR)
            return
        try:
            published = publish_schedule(actor=request.user, schedule_id=chosen[0].pk)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
            return
        self.message_user(request, _("%(name)s published.") % {"name": published.name}, messages.SUCCESS)


@admin.register(ScheduleSlot)
class ScheduleSlotAdmin(admin.ModelAdmin[ScheduleSlot]):
    list_display = ("schedule", "operation", "work_center", "setup_start", "start", "end", "setup_minutes", "is_frozen")
    list_filter = ("schedule__status", "is_frozen", "work_center")
    search_fields = ("schedule__name", "operation__job__number", "work_center__code")
    list_select_related = ("schedule", "operation__job", "work_center")
    autocomplete_fields = ("schedule", "operation", "work_center")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # slots are moved through the schedule pages, which check conflicts

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChangeoverTime)
class ChangeoverTimeAdmin(admin.ModelAdmin[ChangeoverTime]):
    list_display = ("work_center_type", "from_category", "to_category", "minutes")
    list_filter = ("work_center_type",)
    search_fields = ("work_center_type__code", "from_category", "to_category")
    list_select_related = ("work_center_type",)
    autocomplete_fields = ("work_center_type",)
