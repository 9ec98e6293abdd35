"""Pages of core: home, background jobs, the operator log panel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, TemplateView, View

from .choices import JobStatus
from .filters import JobFilter, OperatorLogRecordFilter
from .htmx import HtmxPartialMixin
from .models import Job, OperatorLogRecord
from .permissions import AUTHENTICATED, CANCEL_JOB, VIEW_JOB, VIEW_OPERATOR_LOG
from .services import request_job_cancel
from .views_base import RoleRequiredMixin


class HomeView(RoleRequiredMixin, TemplateView):
    required_permission = AUTHENTICATED
    template_name = "core/home.html"


class JobListView(RoleRequiredMixin, HtmxPartialMixin, ListView[Job]):
    required_permission = VIEW_JOB
    template_name = "core/job_list.html"
    partial_template_name = "core/partials/job_table.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Job]:
        queryset = Job.objects.select_related("requested_by").defer("log", "result")
        self.filterset = JobFilter(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["has_active"] = any(
            job.status in (JobStatus.QUEUED, JobStatus.RUNNING) for job in context["object_list"]
        )
        return context


class JobDetailView(RoleRequiredMixin, HtmxPartialMixin, DetailView[Job]):
    required_permission = VIEW_JOB
    template_name = "core/job_detail.html"
    partial_template_name = "core/partials/job_status.html"
    queryset = Job.objects.select_related("requested_by")
    context_object_name = "job"


class JobCancelView(RoleRequiredMixin, View):
    required_permission = CANCEL_JOB
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(Job, pk=pk)
        job = request_job_cancel(actor=request.user, job_id=job.pk)
        messages.info(request, _("Cancel requested for “%(name)s”.") % {"name": job.name})
        return redirect("core:job-detail", pk=job.pk)


class OperatorLogView(RoleRequiredMixin, HtmxPartialMixin, ListView[OperatorLogRecord]):
    required_permission = VIEW_OPERATOR_LOG
    template_name = "core/operator_log.html"
    partial_template_name = "core/partials/operator_log_table.html"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[OperatorLogRecord]:
        self.filterset = OperatorLogRecordFilter(self.request.GET, queryset=OperatorLogRecord.objects.all())
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        return context
