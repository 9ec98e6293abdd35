from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from apps.core.admin_base import ReadOnlyAdmin

from .forms import BreakFormSet, CalendarExceptionForm, ShiftInCalendarForm
from .models import (
    Alarm,
    CalendarException,
    Department,
    DisplayToken,
    DowntimeReason,
    HistoryAmendment,
    LiveState,
    MachineStateInterval,
    Shift,
    ShiftBreak,
    ShiftCalendar,
    WorkCenter,
    WorkCenterType,
)
from .services import (
    ACKNOWLEDGE_ALARM,
    acknowledge_alarm,
    activate_work_center,
    assign_downtime_reason,
    create_display_token,
    deactivate_work_center,
    revoke_display_tokens,
    set_plant_default_calendar,
)


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "sequence")
    list_editable = ("sequence",)
    search_fields = ("code", "name")
    list_select_related = True
    ordering = ("sequence", "name")


@admin.register(WorkCenterType)
class WorkCenterTypeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "department")
    search_fields = ("code", "name", "description")
    list_filter = ("department",)
    list_select_related = ("department",)
    autocomplete_fields = ("department",)


@admin.register(WorkCenter)
class WorkCenterAdmin(SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "department",
        "work_center_type",
        "calendar",
        "efficiency",
        "is_bottleneck",
        "is_active",
    )
    list_filter = ("department", "work_center_type", "is_active", "is_bottleneck", "calendar")
    search_fields = ("code", "name", "iot_device_id", "sigmanest_machine_id")
    list_select_related = ("department", "work_center_type", "calendar")
    autocomplete_fields = ("department", "work_center_type", "calendar")
    # In or out of service is a workflow change with its own service: use the actions.
    readonly_fields = ("is_active", "created_at", "updated_at")
    actions = ("deactivate", "activate")

    @admin.action(description=_("Take out of service"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[WorkCenter]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for pk in ids:
            deactivate_work_center(actor=request.user, work_center_id=pk)
        self.message_user(
            request,
            ngettext("%(n)d work center taken out of service.", "%(n)d work centers taken out of service.", len(ids))
            % {"n": len(ids)},
        )

    @admin.action(description=_("Put back in service"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[WorkCenter]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for pk in ids:
            activate_work_center(actor=request.user, work_center_id=pk)
        self.message_user(
            request,
            ngettext("%(n)d work center put back in service.", "%(n)d work centers put back in service.", len(ids))
            % {"n": len(ids)},
        )


class ShiftInline(admin.TabularInline[Shift, ShiftCalendar]):
    model = Shift
    form = ShiftInCalendarForm
    extra = 0
    show_change_link = True  # the breaks of a shift are edited on the shift's own page


@admin.register(ShiftCalendar)
class ShiftCalendarAdmin(SimpleHistoryAdmin):
    list_display = ("name", "is_plant_default", "updated_at")
    list_filter = ("is_plant_default",)
    search_fields = ("name", "description")
    list_select_related = True
    readonly_fields = ("is_plant_default", "created_at", "updated_at")
    inlines = (ShiftInline,)
    actions = ("make_plant_default",)

    @admin.action(description=_("Make the plant default calendar"), permissions=["change"])
    def make_plant_default(self, request: HttpRequest, queryset: QuerySet[ShiftCalendar]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one calendar as the plant default."), messages.ERROR)
            return
        chosen = set_plant_default_calendar(actor=request.user, calendar_id=queryset.get().pk)
        self.message_user(request, _("“%(name)s” is now the plant default calendar.") % {"name": chosen.name})


class ShiftBreakInline(admin.TabularInline[ShiftBreak, Shift]):
    model = ShiftBreak
    formset = BreakFormSet
    extra = 1


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin[Shift]):
    list_display = ("calendar", "weekday", "name", "start", "end")
    list_filter = ("calendar", "weekday")
    search_fields = ("name", "calendar__name")
    list_select_related = ("calendar",)
    autocomplete_fields = ("calendar",)
    inlines = (ShiftBreakInline,)


@admin.register(ShiftBreak)
class ShiftBreakAdmin(admin.ModelAdmin[ShiftBreak]):
    """Breaks are edited on their shift's page, where they are checked against the shift."""

    list_display = ("shift", "start", "end")
    list_filter = ("shift__calendar", "shift__weekday")
    search_fields = ("shift__name", "shift__calendar__name")
    list_select_related = ("shift__calendar",)
    autocomplete_fields = ("shift",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalendarException)
class CalendarExceptionAdmin(SimpleHistoryAdmin):
    form = CalendarExceptionForm
    list_display = ("name", "kind", "work_center", "start_date", "end_date", "starts_at", "ends_at")
    list_filter = ("kind", ("work_center", admin.EmptyFieldListFilter), "work_center__department")
    search_fields = ("name", "work_center__code", "work_center__name")
    list_select_related = ("work_center",)
    autocomplete_fields = ("work_center",)


@admin.register(DowntimeReason)
class DowntimeReasonAdmin(admin.ModelAdmin[DowntimeReason]):
    list_display = ("code", "name", "parent", "is_planned", "is_active", "sequence")
    list_filter = ("is_planned", "is_active", ("parent", admin.EmptyFieldListFilter))
    search_fields = ("code", "name", "parent__name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    ordering = ("parent__sequence", "sequence", "name")


@admin.register(MachineStateInterval)
class MachineStateIntervalAdmin(admin.ModelAdmin[MachineStateInterval]):
    """Intervals come from telemetry: only the downtime reason is given here, through the service."""

    list_display = ("work_center", "state", "started_at", "ended_at", "reason", "reason_set_by")
    list_filter = ("state", "work_center__department", ("reason", admin.EmptyFieldListFilter))
    search_fields = ("work_center__code", "work_center__name", "reason__name")
    list_select_related = ("work_center", "reason", "reason_set_by")
    autocomplete_fields = ("reason",)
    readonly_fields = ("work_center", "state", "started_at", "ended_at", "reason_set_by", "reason_set_at")
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: MachineStateInterval, form: Any, change: bool) -> None:
        if obj.reason is not None:
            assign_downtime_reason(interval=obj, reason=obj.reason, user=request.user)


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin[Alarm]):
    """Alarms are raised and cleared by the machines; people only acknowledge them."""

    list_display = ("work_center", "level", "code", "source", "raised_at", "cleared_at", "acknowledged_by")
    list_filter = ("level", "work_center__department", ("cleared_at", admin.EmptyFieldListFilter))
    search_fields = ("work_center__code", "code", "source", "message")
    list_select_related = ("work_center", "acknowledged_by")
    readonly_fields = (
        "work_center",
        "source",
        "code",
        "level",
        "message",
        "raised_at",
        "cleared_at",
        "acknowledged_by",
        "acknowledged_at",
    )
    date_hierarchy = "raised_at"
    actions = ("acknowledge",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Acknowledge"), permissions=["acknowledge"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alarm]) -> None:
        alarms = list(queryset)
        for alarm in alarms:
            acknowledge_alarm(alarm=alarm, user=request.user)
        self.message_user(
            request,
            ngettext("%(n)d alarm acknowledged.", "%(n)d alarms acknowledged.", len(alarms)) % {"n": len(alarms)},
        )

    def has_acknowledge_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(ACKNOWLEDGE_ALARM))


@admin.register(LiveState)
class LiveStateAdmin(admin.ModelAdmin[LiveState]):
    """The machines' current state, written by telemetry only: read here, never edited."""

    list_display = ("work_center", "state", "since", "last_seen", "program", "part_count", "version")
    list_filter = ("state", "work_center__department")
    search_fields = ("work_center__code", "work_center__name", "program")
    list_select_related = ("work_center",)
    readonly_fields = ("work_center", "state", "since", "last_seen", "program", "part_count", "signals", "version")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DisplayToken)
class DisplayTokenAdmin(admin.ModelAdmin[DisplayToken]):
    """Adding a display makes its secret and shows the TV's address once; only a hash is kept."""

    list_display = ("name", "department", "created_by", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked", "department")
    search_fields = ("name", "department__name")
    list_select_related = ("department", "created_by")
    autocomplete_fields = ("department",)
    fields = ("department", "name", "created_by", "created_at", "last_used_at", "revoked")
    readonly_fields = ("created_by", "created_at", "last_used_at", "revoked")
    actions = ("revoke",)

    def get_readonly_fields(self, request: HttpRequest, obj: DisplayToken | None = None) -> Any:
        return (*self.readonly_fields, "department") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: DisplayToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, secret = create_display_token(department=obj.department, name=obj.name, user=request.user)
        obj.pk, obj.token_hash, obj.created_at = token.pk, token.token_hash, token.created_at
        url = request.build_absolute_uri(reverse("machines:department-display", args=[secret]))
        self.message_user(
            request,
            format_html(
                "{} <code>{}</code>",
                _("Open this address on the TV. It is shown only now; if it is lost, add a new display."),
                url,
            ),
            messages.WARNING,
        )

    @admin.action(description=_("Revoke (the screen goes dark)"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[DisplayToken]) -> None:
        count = revoke_display_tokens(token_ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(request, ngettext("%(n)d display revoked.", "%(n)d displays revoked.", count) % {"n": count})


@admin.register(HistoryAmendment)
class HistoryAmendmentAdmin(ReadOnlyAdmin):
    """Written where a machine's past changes after the fact; stored OEE figures it reaches are recomputed."""

    list_display = ("recorded_at", "work_center", "cause", "start", "end")
    list_filter = ("cause", "work_center__department")
    search_fields = ("work_center__code", "work_center__name")
    list_select_related = ("work_center",)
    date_hierarchy = "recorded_at"
