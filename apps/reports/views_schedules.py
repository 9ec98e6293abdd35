"""Pages for production managers: report schedules (list, new, edit, delete) and the archive of runs
(list, "Run now", one run with its deliveries, downloads). Every change calls a service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.generic import ListView, View

from apps.core.htmx import render_page
from apps.core.views_base import RoleRequiredMixin, form_problems, refusal

from .choices import DeliveryStatus, ReportFormat, RunStatus
from .definitions import REPORTS
from .downloads import run_file_response
from .filters import ReportRunFilter
from .forms import ReportScheduleForm, RunFilterForm, RunRequestForm
from .models import ReportDelivery, ReportRun, ReportSchedule
from .services import (
    ADD_SCHEDULE,
    CHANGE_SCHEDULE,
    DELETE_SCHEDULE,
    REQUEST_RUN,
    RETRY_DELIVERY,
    VIEW_RUN,
    VIEW_SCHEDULE,
    delete_report_schedule,
    request_report_run,
    retry_report_delivery,
    save_report_schedule,
    trigger_report_schedule,
)


def report_name(code: str) -> str:
    return str(REPORTS[code].name) if code in REPORTS else code


# --- schedules --------------------------------------------------------------------------------------


class ScheduleListView(RoleRequiredMixin, ListView[ReportSchedule]):
    required_permission = VIEW_SCHEDULE
    template_name = "reports/schedules.html"
    context_object_name = "schedules"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[ReportSchedule]:
        return ReportSchedule.objects.select_related("department").prefetch_related("recipient_users", "work_centers")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for schedule in context["schedules"]:
            schedule.report_name = report_name(schedule.report)
            schedule.recipient_count = len(schedule_recipients_from_prefetch(schedule))
        return context


def schedule_recipients_from_prefetch(schedule: ReportSchedule) -> set[str]:
    """The distinct addresses of a schedule from its prefetched users: no query per row of the list."""
    users = {user.email.strip().casefold() for user in schedule.recipient_users.all() if user.is_active and user.email}
    return users | {address.casefold() for address in schedule.email_addresses}


class ScheduleFormView(RoleRequiredMixin, View):
    """New (no pk) or edit (pk): the form posts here and the service saves the schedule and its beat task."""

    required_permission = ADD_SCHEDULE

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("pk") is not None:
            self.required_permission = CHANGE_SCHEDULE
        return super().dispatch(request, *args, **kwargs)

    def schedule(self, pk: int | None) -> ReportSchedule | None:
        return get_object_or_404(ReportSchedule, pk=pk) if pk is not None else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        schedule = self.schedule(pk)
        return self.page(request, ReportScheduleForm(instance=schedule), schedule)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        schedule = self.schedule(pk)
        form = ReportScheduleForm(request.POST, instance=schedule)
        if form.is_valid():
            try:
                saved = save_report_schedule(
                    actor=request.user,
                    schedule=form.save(commit=False),
                    work_centers=form.cleaned_data["work_centers"],
                    recipient_users=form.cleaned_data["recipient_users"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Schedule “%(name)s” saved.") % {"name": saved.name})
                return redirect("reports:schedule-list")
        return self.page(request, form, schedule, status=400)

    def page(
        self, request: HttpRequest, form: ReportScheduleForm, schedule: ReportSchedule | None, status: int = 200
    ) -> HttpResponse:
        return render(request, "reports/schedules_form.html", {"form": form, "schedule": schedule}, status=status)


class ScheduleDeleteView(RoleRequiredMixin, View):
    required_permission = DELETE_SCHEDULE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        schedule = get_object_or_404(ReportSchedule, pk=pk)
        return render(request, "reports/schedules_delete.html", {"schedule": schedule})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        schedule = get_object_or_404(ReportSchedule, pk=pk)
        delete_report_schedule(actor=request.user, schedule_id=schedule.pk)
        messages.success(
            request, _("Schedule “%(name)s” deleted; its runs stay in the archive.") % {"name": schedule.name}
        )
        return redirect("reports:schedule-list")


class ScheduleSendNowView(RoleRequiredMixin, View):
    """POST only: do now what beat will do at the schedule's time (a period already sent is not sent again)."""

    required_permission = REQUEST_RUN

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        schedule = get_object_or_404(ReportSchedule, pk=pk)
        trigger_report_schedule(actor=request.user, schedule_id=schedule.pk)
        messages.success(
            request,
            _("“%(name)s” is being prepared and e-mailed to its recipients; it appears in the archive.")
            % {"name": schedule.name},
        )
        return redirect("reports:run-list")


# --- the archive ------------------------------------------------------------------------------------


class RunListView(RoleRequiredMixin, ListView[ReportRun]):
    required_permission = VIEW_RUN
    template_name = "reports/runs.html"
    context_object_name = "runs"
    paginate_by = 25

    def get_queryset(self) -> QuerySet[ReportRun]:
        runs = (
            ReportRun.objects.select_related("schedule", "requested_by")
            .annotate(recipients=Count("deliveries"))
            .order_by("-created_at", "-pk")
        )
        # The shared FilterSet filters; the form shows its report and status as choices.
        self.filter_form = RunFilterForm(self.request.GET)
        return ReportRunFilter(self.request.GET, queryset=runs).qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for run in context["runs"]:
            run.report_name = report_name(run.report)
        context["filter_form"] = self.filter_form
        if self.request.user.has_perm(REQUEST_RUN):
            context["run_form"] = RunRequestForm()
        return context


class RunRequestView(RoleRequiredMixin, View):
    """POST only: queue a run and open it, where its progress shows."""

    required_permission = REQUEST_RUN

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RunRequestForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_problems(form))
            return redirect("reports:run-list")
        try:
            run = request_report_run(
                actor=request.user,
                code=form.cleaned_data["report"],
                parameters=form.parameters(),
                formats=form.formats(),
            )
        except ValidationError as exc:
            messages.error(request, refusal(exc))
            return redirect("reports:run-list")
        messages.success(request, _("Report queued: %(name)s.") % {"name": report_name(run.report)})
        return redirect("reports:run-detail", pk=run.pk)


class RunDetailView(RoleRequiredMixin, View):
    """One run: its facts and files (polled while it renders) and who it was e-mailed to."""

    required_permission = VIEW_RUN

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        deliveries = Prefetch("deliveries", queryset=ReportDelivery.objects.select_related("user").order_by("pk"))
        run = get_object_or_404(
            ReportRun.objects.select_related("schedule", "job", "requested_by").prefetch_related(deliveries), pk=pk
        )
        delivery_rows = list(run.deliveries.all())
        context = {
            "run": run,
            "report_name": report_name(run.report),
            "deliveries": delivery_rows,
            "is_rendering": run.status in (RunStatus.QUEUED, RunStatus.RUNNING),
            "may_retry": request.user.has_perm(RETRY_DELIVERY)
            and any(delivery.status == DeliveryStatus.FAILED for delivery in delivery_rows),
        }
        return render_page(request, "reports/run_detail.html", "reports/run_facts.html", context)


class RunDeliveryRetryView(RoleRequiredMixin, View):
    required_permission = RETRY_DELIVERY

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(ReportRun, pk=pk)
        again = retry_report_delivery(actor=request.user, run_id=run.pk)
        if again:
            messages.success(request, _("Sending again to %(count)d recipient(s).") % {"count": again})
        else:
            messages.error(request, _("No failed delivery to send again."))
        return redirect("reports:run-detail", pk=run.pk)


class RunDownloadView(RoleRequiredMixin, View):
    """The PDF or the workbook of a run, streamed as an attachment (never shown inline)."""

    required_permission = VIEW_RUN
    file_format: str = ReportFormat.PDF

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        return run_file_response(get_object_or_404(ReportRun, pk=pk), self.file_format)
