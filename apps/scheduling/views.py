"""Pages of scheduling: the schedules (list, detail with the plan against each dispatch rule and
the run's live progress), the Gantt (by work center or job, with manual moves), the load chart
and the late-job explanations. Every change calls a service."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView, View

from apps.core.htmx import HtmxPartialMixin, render_page
from apps.core.views_base import RoleRequiredMixin, form_problems, refusal

from . import gantt
from .choices import ScheduleStatus
from .filters import ScheduleFilter
from .forms import MoveSlotForm, PlanningRunForm
from .models import Schedule, ScheduleSlot
from .selectors import (
    GanttView,
    Zoom,
    default_schedule,
    gantt_chart,
    gap_percent,
    kpi_rows,
    late_jobs,
    load_by_period,
    progress_stage,
    schedule_queryset,
)
from .services import PLAN, PUBLISH, publish_schedule, start_planning_run
from .slot_edits import CHANGE_SLOT, SlotConflicts, move_slot

VIEW_SCHEDULE = "scheduling.view_schedule"


class ScheduleListView(RoleRequiredMixin, HtmxPartialMixin, ListView[Schedule]):
    required_permission = VIEW_SCHEDULE
    template_name = "scheduling/schedule_list.html"
    partial_template_name = "scheduling/partials/schedule_table.html"
    paginate_by = 25

    def get_queryset(self) -> Any:
        self.filterset = ScheduleFilter(self.request.GET, queryset=schedule_queryset())
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        for schedule in context["object_list"]:
            schedule.gap_percent = gap_percent(schedule)
        context["can_plan"] = self.request.user.has_perm(PLAN)
        context["plan_form"] = PlanningRunForm()
        context["query"] = self.request.GET.urlencode()
        return context


class PlanningRunStartView(RoleRequiredMixin, View):
    """POST only: queue a planning run and open its schedule, where its progress shows."""

    required_permission = PLAN

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PlanningRunForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_problems(form))
            return redirect("scheduling:schedule-list")
        try:
            schedule = start_planning_run(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, refusal(exc))
            return redirect("scheduling:schedule-list")
        messages.success(request, _("Planning run started: %(name)s.") % {"name": schedule.name})
        return redirect("scheduling:schedule-detail", pk=schedule.pk)


class ScheduleDetailView(RoleRequiredMixin, View):
    """The schedule's facts, its run (polled while planning) and the plan against each rule."""

    required_permission = VIEW_SCHEDULE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        schedule = get_object_or_404(schedule_queryset(), pk=pk)
        context = {
            "schedule": schedule,
            "run": schedule.run,
            "kpi_rows": kpi_rows(schedule),
            "gap_percent": gap_percent(schedule),
            "progress_stage": progress_stage(schedule),
            "may_publish": request.user.has_perm(PUBLISH) and schedule.status == ScheduleStatus.READY,
            "slot_count": ScheduleSlot.objects.filter(schedule=schedule).count(),
            "is_planning": schedule.status == ScheduleStatus.PLANNING,
        }
        return render_page(request, "scheduling/schedule_detail.html", "scheduling/partials/schedule_run.html", context)


class SchedulePublishView(RoleRequiredMixin, View):
    required_permission = PUBLISH

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        schedule = get_object_or_404(Schedule, pk=pk)
        try:
            publish_schedule(actor=request.user, schedule_id=schedule.pk)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, refusal(exc))
        else:
            messages.success(
                request, _("%(name)s is published: it drives the dispatch lists.") % {"name": schedule.name}
            )
        return redirect("scheduling:schedule-detail", pk=schedule.pk)


class ScheduleChoiceMixin:
    """Pages that show one schedule: the one in the URL, else the published, else the newest ready."""

    request: HttpRequest
    kwargs: dict[str, Any]

    def chosen_schedule(self) -> Schedule | None:
        pk = self.kwargs.get("pk")
        if pk is not None:
            return get_object_or_404(Schedule, pk=pk)
        return default_schedule()

    def start_day(self, schedule: Schedule) -> date:
        raw = self.request.GET.get("start", "")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return timezone.localtime(max(schedule.horizon_start, timezone.now())).date()

    def page_url(self, name: str, schedule: Schedule) -> str:
        if self.kwargs.get("pk") is not None:
            return reverse(f"scheduling:{name}-of", kwargs={"pk": schedule.pk})
        return reverse(f"scheduling:{name}")


def _choice(raw: str | None, kind: type[Any], default: Any) -> Any:
    try:
        return kind(raw)
    except ValueError:
        return default


class GanttPageView(RoleRequiredMixin, ScheduleChoiceMixin, TemplateView):
    required_permission = VIEW_SCHEDULE
    template_name = "scheduling/gantt.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        schedule = self.chosen_schedule()
        context["schedule"] = schedule
        if schedule is None:
            return context
        view = _choice(self.request.GET.get("view"), GanttView, GanttView.WORK_CENTER)
        zoom = _choice(self.request.GET.get("zoom"), Zoom, Zoom.WEEK)
        start = self.start_day(schedule)
        base = self.page_url("gantt", schedule)
        query = f"view={view.value}&zoom={zoom.value}&start={start.isoformat()}"
        may_move = self.request.user.has_perm(CHANGE_SLOT) and schedule.status in (
            ScheduleStatus.READY,
            ScheduleStatus.PUBLISHED,
        )
        chart = gantt_chart(
            schedule, view=view, zoom=zoom, start_day=start, bar_href=f"{base}?{query}&slot=SLOT" if may_move else ""
        )
        # render_svg escapes every text it draws.
        context["svg"] = mark_safe(gantt.render_svg(chart))
        context.update(
            view=view.value,
            zoom=zoom.value,
            start=start,
            base=base,
            previous_start=start - timedelta(days=zoom.days),
            next_start=start + timedelta(days=zoom.days),
            may_move=may_move,
        )
        if may_move:
            chosen = self.request.GET.get("slot", "")
            slot = (
                ScheduleSlot.objects.filter(schedule=schedule, pk=chosen).select_related("operation__job").first()
                if chosen.isdigit()
                else None
            )
            initial: dict[str, Any] = {}
            if slot is not None:
                initial = {
                    "slot": slot.pk,
                    "work_center": slot.work_center_id,
                    "start": timezone.localtime(slot.setup_start).replace(tzinfo=None),
                }
            context["move_form"] = MoveSlotForm(initial=initial)
            context["chosen_slot"] = slot
        return context


class SlotMoveView(RoleRequiredMixin, View):
    """POST only: move a slot; the conflicts are shown on the Gantt, nothing is saved then."""

    required_permission = CHANGE_SLOT

    def post(self, request: HttpRequest) -> HttpResponse:
        form = MoveSlotForm(request.POST)
        back = request.POST.get("next", "")
        if not back.startswith("/scheduling/"):
            back = reverse("scheduling:gantt")
        if not form.is_valid():
            messages.error(request, form_problems(form))
            return redirect(back)
        try:
            slot = move_slot(
                actor=request.user,
                slot_id=form.cleaned_data["slot"],
                work_center_id=form.cleaned_data["work_center"].pk,
                start=form.cleaned_data["start"],
            )
        except SlotConflicts as exc:
            for conflict in exc.conflicts:
                messages.error(request, conflict.message)
            messages.warning(request, _("Nothing was moved."))
            return redirect(back)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, refusal(exc))
            return redirect(back)
        messages.success(
            request,
            _("Moved to %(machine)s, %(start)s–%(end)s.")
            % {
                "machine": slot.work_center.code,
                "start": timezone.localtime(slot.setup_start).strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(slot.end).strftime("%Y-%m-%d %H:%M"),
            },
        )
        return redirect(back)


class LoadPageView(RoleRequiredMixin, ScheduleChoiceMixin, TemplateView):
    required_permission = VIEW_SCHEDULE
    template_name = "scheduling/load.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        schedule = self.chosen_schedule()
        context["schedule"] = schedule
        if schedule is None:
            return context
        weekly = self.request.GET.get("period") == "week"
        start = self.start_day(schedule)
        if weekly:
            start -= timedelta(days=start.weekday())
        periods = 4 if weekly else 14
        rows = load_by_period(schedule, start_day=start, periods=periods, weekly=weekly)
        context.update(
            rows=rows,
            periods=[cell.period_start for cell in rows[0].cells] if rows else [],
            weekly=weekly,
            start=start,
            base=self.page_url("load", schedule),
        )
        return context


class LateJobsPageView(RoleRequiredMixin, ScheduleChoiceMixin, TemplateView):
    required_permission = VIEW_SCHEDULE
    template_name = "scheduling/late_jobs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        schedule = self.chosen_schedule()
        context["schedule"] = schedule
        context["late_jobs"] = late_jobs(schedule) if schedule is not None else []
        return context
