from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.admin_base import ReadOnlyAdmin

from .forms import ScheduleChecks
from .models import ClosedDayFigures, LaborRate, OeeTarget, ReportDelivery, ReportRun, ReportSchedule
from .services import (
    REQUEST_RUN,
    RETRY_DELIVERY,
    delete_report_schedule,
    retry_report_delivery,
    save_report_schedule,
    trigger_report_schedule,
)


@admin.register(OeeTarget)
class OeeTargetAdmin(admin.ModelAdmin[OeeTarget]):
    list_display = ("__str__", "department", "work_center", "oee", "availability", "performance", "quality")
    list_filter = ("department",)
    search_fields = ("department__name", "work_center__code", "work_center__name")
    list_select_related = ("department", "work_center")
    autocomplete_fields = ("department", "work_center")


class ReportScheduleAdminForm(ScheduleChecks):
    class Meta:
        model = ReportSchedule
        fields = "__all__"


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin[ReportSchedule]):
    """Saved and deleted through the services, so that the beat task follows every change."""

    form = ReportScheduleAdminForm

    list_display = ("name", "report", "frequency", "send_at", "department", "language", "is_active", "last_run_at")
    list_filter = ("report", "frequency", "is_active", "language", "department")
    search_fields = ("name", "recipient_emails", "recipient_users__username", "recipient_users__email")
    list_select_related = ("department", "periodic_task")
    autocomplete_fields = ("department", "work_centers", "recipient_users")
    readonly_fields = ("periodic_task", "last_run_at", "created_by", "created_at", "updated_at")
    actions = ("run_now",)

    def save_model(self, request: HttpRequest, obj: ReportSchedule, form: forms.ModelForm[Any], change: bool) -> None:
        """Saved in save_related, by the service, once the machines and recipients are known."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm[Any], formsets: Any, change: bool) -> None:
        save_report_schedule(
            actor=request.user,
            schedule=form.instance,
            work_centers=form.cleaned_data["work_centers"],
            recipient_users=form.cleaned_data["recipient_users"],
        )

    def delete_model(self, request: HttpRequest, obj: ReportSchedule) -> None:
        delete_report_schedule(actor=request.user, schedule_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ReportSchedule]) -> None:
        for schedule in queryset:
            delete_report_schedule(actor=request.user, schedule_id=schedule.pk)

    def has_run_now_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(REQUEST_RUN))

    @admin.action(description=_("Run now (the period just finished; never sent twice)"), permissions=["run_now"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[ReportSchedule]) -> None:
        for schedule in queryset:
            trigger_report_schedule(actor=request.user, schedule_id=schedule.pk)
        self.message_user(request, _("Queued."), messages.SUCCESS)


class ReportDeliveryInline(admin.TabularInline[ReportDelivery, ReportRun]):
    model = ReportDelivery
    fields = ("recipient", "user", "status", "attempts", "sent_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


RUN_FIELDS = (
    "report",
    "schedule",
    "period_start",
    "period_end",
    "parameters",
    "formats",
    "status",
    "job",
    "requested_by",
    "pdf",
    "xlsx",
    "file_stem",
    "error",
    "delivery_status",
    "created_at",
    "finished_at",
)


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin[ReportRun]):
    list_display = ("report", "period_start", "period_end", "status", "delivery_status", "schedule", "created_at")
    list_filter = ("report", "status", "delivery_status")
    search_fields = ("report", "schedule__name", "requested_by__username")
    list_select_related = ("schedule", "requested_by", "job")
    date_hierarchy = "created_at"
    fields = RUN_FIELDS
    readonly_fields = RUN_FIELDS
    inlines = (ReportDeliveryInline,)
    actions = ("retry_delivery",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are made by schedules and the archive page's "Run now"

    def has_retry_delivery_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RETRY_DELIVERY))

    @admin.action(description=_("Send again to the failed recipients"), permissions=["retry_delivery"])
    def retry_delivery(self, request: HttpRequest, queryset: QuerySet[ReportRun]) -> None:
        again = sum(retry_report_delivery(actor=request.user, run_id=run.pk) for run in queryset)
        self.message_user(request, _("Sending again to %(count)d recipient(s).") % {"count": again}, messages.SUCCESS)


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin[ReportDelivery]):
    list_display = ("recipient", "run", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "run__report")
    search_fields = ("recipient", "user__username", "run__report")
    list_select_related = ("run", "user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a delivery's status is the mail server's answer, not an opinion

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LaborRate)
class LaborRateAdmin(admin.ModelAdmin[LaborRate]):
    """Cost per part reads these; machine rates are on the work centers, material costs on the parts."""

    list_display = ("__str__", "department", "hourly_rate", "updated_at")
    search_fields = ("department__name", "department__code")
    list_select_related = ("department",)
    autocomplete_fields = ("department",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(ClosedDayFigures)
class ClosedDayFiguresAdmin(ReadOnlyAdmin):
    """Derived from the intervals: deleting rows makes the next dashboard or report compute those days again."""

    list_display = ("work_center", "day", "until", "computed_at")
    list_filter = ("work_center__department", "day")
    search_fields = ("work_center__code", "work_center__name")
    list_select_related = ("work_center",)
    date_hierarchy = "day"
    exclude = ("parts",)
