from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from .forms import BreakFormSet, CalendarExceptionForm, ShiftInCalendarForm
from .models import CalendarException, Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType
from .services import activate_work_center, deactivate_work_center, set_plant_default_calendar


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
