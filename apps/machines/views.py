"""Pages of machines: the work center list, a work center with its next two weeks of working time,
and the live pages (plant status grid, department dashboard and TV display, one machine now)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from apps.core.htmx import HtmxPartialMixin
from apps.core.permissions import PUBLIC
from apps.core.views_base import RoleRequiredMixin

from .filters import WorkCenterFilter
from .models import STATE_CHOICES, Alarm, Department, DowntimeReason, MachineStateInterval, ShiftCalendar, WorkCenter
from .selectors import (
    NoShiftCalendar,
    calendar_exceptions_between,
    live_machines,
    minutes_as_hours,
    plant_time_zone,
    shift_window,
    state_timeline,
    working_minutes_by_day,
)
from .services import (
    ACKNOWLEDGE_ALARM,
    ASSIGN_DOWNTIME_REASON,
    DOWN_STATES,
    acknowledge_alarm,
    assign_downtime_reason,
    display_for_token,
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


# --- Live machine state ---------------------------------------------------------------------


def state_labels() -> dict[str, str]:
    """The state names in the reader's language, for the page and for its script."""
    return {value: str(label) for value, label in STATE_CHOICES}


def time_in_state(since: datetime, now: datetime) -> str:
    """'3 h 05 min' / '12 min': what a person reads on a tile (the script keeps it current)."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}


def _with_durations(machines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = timezone.now()
    for machine in machines:
        machine["time_in_state"] = time_in_state(machine["since_dt"], now)
        machine["last_seen_dt"] = datetime.fromisoformat(machine["last_seen"]) if machine["last_seen"] else None
        machine["state_label"] = state_labels().get(machine["state"], machine["state"])
    return machines


def _by_department(machines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[int, dict[str, Any]] = {}
    for machine in machines:
        group = groups.setdefault(
            machine["department_id"], {"id": machine["department_id"], "name": machine["department"], "machines": []}
        )
        group["machines"].append(machine)
    return list(groups.values())


def live_refresh_seconds() -> int:
    """How often a live page asks for a fresh snapshot on its own: 0 when pushed deltas reach it.

    The in-memory channel layer (no REDIS_URL) lives inside one process, so updates made by the
    ingest or the simulator in another process never reach the web server's sockets; the pages
    then re-read the machines' state from the database every few seconds instead.
    """
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    return 5 if backend == "channels.layers.InMemoryChannelLayer" else 0


class LivePageMixin:
    """What every live page hands its template and script."""

    def live_context(self, machines: list[dict[str, Any]], socket_path: str) -> dict[str, Any]:
        counts = {state: 0 for state in state_labels()}
        for machine in machines:
            counts[machine["state"]] = counts.get(machine["state"], 0) + 1
        return {
            "machines": machines,
            "departments": _by_department(machines),
            "socket_path": socket_path,
            "refresh_seconds": live_refresh_seconds(),
            "state_labels": state_labels(),
            "live_texts": {
                "live": _("Live"),
                "reconnecting": _("Connection lost, reconnecting…"),
                "denied": _("Not allowed to watch these machines."),
                "minutes": _("{m} min"),
                "hours": _("{h} h {mm} min"),
            },
            "state_counts": [(state, label, counts[state]) for state, label in state_labels().items()],
            "plant_time_zone": str(plant_time_zone()),
        }


class PlantStatusView(RoleRequiredMixin, LivePageMixin, TemplateView):
    """Every machine of the plant as a coloured tile: state, time in it, program and part count.

    The job a machine is on lives in scheduling, which sits above machines and cannot be read
    from here; the program and part count the machine reports stand in for it."""

    required_permission = VIEW_WORK_CENTER
    template_name = "machines/plant_status.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.live_context(_with_durations(live_machines()), "/ws/machines/plant/"))
        return context


class DepartmentDashboardView(RoleRequiredMixin, LivePageMixin, TemplateView):
    required_permission = VIEW_WORK_CENTER
    template_name = "machines/department_dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        department = get_object_or_404(Department, pk=self.kwargs["pk"])
        machines = _with_durations(live_machines(department_id=department.pk))
        context.update(self.live_context(machines, f"/ws/machines/departments/{department.pk}/"))
        context["department"] = department
        return context


class DepartmentDisplayView(LivePageMixin, TemplateView):
    """The department's TV: large, dark, no navigation, no login. The display token in the URL
    is the credential; an unknown or revoked one shows nothing (404)."""

    required_permission = PUBLIC
    template_name = "machines/department_display.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        token = display_for_token(str(self.kwargs["token"]))
        if token is None:
            raise Http404
        machines = _with_durations(live_machines(department_id=token.department_id))
        context.update(self.live_context(machines, f"/ws/machines/display/{self.kwargs['token']}/"))
        context["department"] = token.department
        return context


class MachineLiveView(RoleRequiredMixin, LivePageMixin, DetailView[WorkCenter]):
    """One machine now: its state, live signals, active alarms, and the state timeline of the
    current shift; stretches of downtime wait here for someone to say why."""

    required_permission = VIEW_WORK_CENTER
    template_name = "machines/machine_live.html"
    queryset = WorkCenter.objects.select_related("department", "work_center_type")
    context_object_name = "work_center"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        work_center: WorkCenter = self.object
        now = timezone.now()
        machines = _with_durations(live_machines(work_center_id=work_center.pk))
        context.update(self.live_context(machines, f"/ws/machines/work-centers/{work_center.pk}/"))
        start, end = shift_window(work_center, now)
        context.update(
            machine=machines[0] if machines else None,
            window_start=start,
            window_end=end,
            timeline=state_timeline(work_center, start, end, now),
            now_permille=min(1000, round((now - start).total_seconds() * 1000 / (end - start).total_seconds())),
            active_alarms=list(
                Alarm.objects.filter(work_center=work_center, cleared_at__isnull=True).select_related("acknowledged_by")
            ),
            awaiting_reason=list(
                MachineStateInterval.objects.filter(
                    work_center=work_center, state__in=DOWN_STATES, reason__isnull=True, started_at__gte=start
                ).order_by("-started_at")[:20]
            ),
            reasons=list(DowntimeReason.objects.filter(is_active=True).select_related("parent")),
            may_assign=self.request.user.has_perm(ASSIGN_DOWNTIME_REASON),
            may_acknowledge=self.request.user.has_perm(ACKNOWLEDGE_ALARM),
        )
        return context


class AssignDowntimeReasonView(RoleRequiredMixin, View):
    required_permission = ASSIGN_DOWNTIME_REASON

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        interval = get_object_or_404(MachineStateInterval, pk=pk)
        reason = DowntimeReason.objects.filter(pk=request.POST.get("reason") or 0).first()
        if reason is None:
            messages.error(request, _("Choose a downtime reason."))
        else:
            try:
                assign_downtime_reason(interval=interval, reason=reason, user=request.user)
                messages.success(request, _("Downtime reason saved."))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        return redirect("machines:workcenter-live", pk=interval.work_center_id)


class AcknowledgeAlarmView(RoleRequiredMixin, View):
    required_permission = ACKNOWLEDGE_ALARM

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        alarm = get_object_or_404(Alarm, pk=pk)
        acknowledge_alarm(alarm=alarm, user=request.user)
        messages.success(request, _("Alarm acknowledged."))
        return redirect("machines:workcenter-live", pk=alarm.work_center_id)
