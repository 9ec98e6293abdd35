"""Pages of machines: the work center list, and a work center with its next two weeks of working time."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.views.generic import DetailView, ListView

from apps.core.htmx import HtmxPartialMixin
from apps.core.views_base import RoleRequiredMixin

from .filters import WorkCenterFilter
from .models import ShiftCalendar, WorkCenter
from .selectors import (
    NoShiftCalendar,
    calendar_exceptions_between,
    minutes_as_hours,
    plant_time_zone,
    working_minutes_by_day,
)

VIEW_WORK_CENTER = "machines.view_workcenter"

# The detail page shows this many days of working time, the horizon a planner looks at.
WORKING_TIME_DAYS = 14
MAX_DAYS_FROM_TODAY = 10 * 366


class WorkCenterListView(RoleRequiredMixin, HtmxPartialMixin, ListView[WorkCenter]):
    required_permission = VIEW_WORK_CENTER
    template_name = "machines/workcenter_list.html"
    partial_template_name = "machines/partials/workcenter_table.html"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[WorkCenter]:
        queryset = WorkCenter.objects.select_related("department", "work_center_type", "calendar")
        self.filterset = WorkCenterFilter(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["plant_default"] = ShiftCalendar.objects.filter(is_plant_default=True).first()
        return context


class WorkCenterDetailView(RoleRequiredMixin, HtmxPartialMixin, DetailView[WorkCenter]):
    """The facts of a work center and when it can run over the next two weeks (plant time);
    `?start=YYYY-MM-DD` moves the window, and htmx swaps only the working-time part."""

    required_permission = VIEW_WORK_CENTER
    template_name = "machines/workcenter_detail.html"
    partial_template_name = "machines/partials/working_time.html"
    queryset = WorkCenter.objects.select_related("department", "work_center_type", "calendar")
    context_object_name = "work_center"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        work_center: WorkCenter = self.object
        first_day = self._first_day()
        context.update(
            first_day=first_day,
            last_day=first_day + timedelta(days=WORKING_TIME_DAYS - 1),
            previous_start=first_day - timedelta(days=WORKING_TIME_DAYS),
            next_start=first_day + timedelta(days=WORKING_TIME_DAYS),
            plant_time_zone=str(plant_time_zone()),
            plant_default=None
            if work_center.calendar_id
            else ShiftCalendar.objects.filter(is_plant_default=True).first(),
        )
        try:
            days = working_minutes_by_day(work_center, first_day, WORKING_TIME_DAYS)
        except NoShiftCalendar as exc:
            context["calendar_error"] = str(exc)
            return context
        context["days"] = days
        context["total_hours"] = minutes_as_hours(sum(day.minutes for day in days))
        context["exceptions"] = calendar_exceptions_between(work_center, days[0].start, days[-1].end)
        return context

    def _first_day(self) -> date:
        today = timezone.localdate(timezone=plant_time_zone())
        try:
            chosen = date.fromisoformat(self.request.GET.get("start", ""))
        except ValueError:
            return today
        # Far-off dates say nothing about a calendar and would overflow the date arithmetic.
        return chosen if abs((chosen - today).days) <= MAX_DAYS_FROM_TODAY else today
