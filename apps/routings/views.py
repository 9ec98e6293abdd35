"""Pages of routings: jobs (list with late risk, detail with its routing and workflow buttons) and
parts (list, detail with routing and files). Every change calls a service."""

from __future__ import annotations

from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import DetailView, ListView, View

from apps.core.htmx import HtmxPartialMixin
from apps.core.views_base import RoleRequiredMixin, form_problems, refusal

from .choices import OPEN_JOB_STATUSES, JobStatus
from .filters import JobFilter, PartFilter
from .forms import CancelForm, HoldForm, PartFileUploadForm, SplitForm
from .models import Job, Operation, Part, PartFile, RoutingStep
from .precedence import default_predecessors
from .selectors import attach_late_risk, late_risk_for
from .services import (
    ADD_PART_FILE,
    CANCEL,
    HOLD,
    RELEASE,
    SPLIT,
    cancel_job,
    hold_job,
    release_job,
    resume_job,
    split_job,
    upload_part_file,
)
from .uploads import attachment_response

VIEW_JOB = "routings.view_job"
VIEW_PART = "routings.view_part"
VIEW_PART_FILE = "routings.view_partfile"


def step_rows(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Operations or routing steps with what the routing table shows, in a fixed number of queries."""
    return queryset.select_related("work_center_type__department", "preferred_work_center").prefetch_related(
        Prefetch("predecessors", queryset=queryset.model.objects.only("pk", "sequence"))
    )


def annotate_rows(rows: list[Any], quantity: int | None = None) -> Decimal:
    """Set `after` (the steps each row waits for, the previous one when none is given) and
    `total` (setup + run × quantity, the row's own quantity unless one is given) on each row;
    answer the sum of the totals."""
    explicit = {row.sequence: [before.sequence for before in row.predecessors.all()] for row in rows}
    after = default_predecessors(list(explicit), explicit)
    total = Decimal(0)
    for row in rows:
        row.after = after[row.sequence]
        row.total = row.setup_minutes + row.run_minutes_per_unit * (row.quantity if quantity is None else quantity)
        total += row.total
    return total


class JobListView(RoleRequiredMixin, HtmxPartialMixin, ListView[Job]):
    required_permission = VIEW_JOB
    template_name = "routings/job_list.html"
    partial_template_name = "routings/partials/job_table.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Job]:
        queryset = Job.objects.select_related("customer", "part")
        self.filterset = JobFilter(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["jobs"] = attach_late_risk(context["object_list"], known=self.filterset.late_risks)
        context["can_release"] = self.request.user.has_perm(RELEASE)
        context["query"] = self.request.GET.urlencode()
        return context


class JobDetailView(RoleRequiredMixin, DetailView[Job]):
    required_permission = VIEW_JOB
    template_name = "routings/job_detail.html"
    context_object_name = "job"
    queryset = Job.objects.select_related(
        "customer", "part", "part__material", "status_changed_by", "released_by", "split_from"
    )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job: Job = self.object
        operations = list(step_rows(Operation.objects.filter(job=job)).order_by("sequence"))
        context["operations"] = operations
        if operations:
            context["total_minutes"] = annotate_rows(operations)
        else:
            # Not released yet: show the routing it will get.
            steps = list(step_rows(RoutingStep.objects.filter(part_id=job.part_id)))
            context["routing_steps"] = steps
            context["total_minutes"] = annotate_rows(steps, job.quantity)
        context["late"] = late_risk_for([job]).get(job.pk)
        context["splits"] = list(Job.objects.filter(split_from=job).only("pk", "number", "quantity"))
        user = self.request.user
        open_job = job.status in OPEN_JOB_STATUSES
        context["may"] = {
            "release": user.has_perm(RELEASE) and job.status == JobStatus.DRAFT,
            "hold": user.has_perm(HOLD) and job.status in (JobStatus.RELEASED, JobStatus.IN_PROGRESS),
            "resume": user.has_perm(HOLD) and job.status == JobStatus.ON_HOLD,
            "cancel": user.has_perm(CANCEL) and open_job,
            "split": user.has_perm(SPLIT)
            and job.status in (JobStatus.DRAFT, JobStatus.RELEASED, JobStatus.ON_HOLD)
            and job.quantity > 1,
        }
        context["hold_form"] = HoldForm()
        context["cancel_form"] = CancelForm()
        context["split_form"] = SplitForm(initial={"quantity": job.quantity // 2 or 1})
        return context


class JobActionView(RoleRequiredMixin, View, ABC):
    """A workflow button on the job page: POST only, calls one service, says how it went."""

    form_class: type[forms.Form] | None = None
    # Formatted with the job number and the service's answer.
    success_message: str | Promise = ""

    @abstractmethod
    def perform(self, job: Job, data: dict[str, Any]) -> Any: ...

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(Job, pk=pk)
        data: dict[str, Any] = {}
        if self.form_class is not None:
            form = self.form_class(request.POST)
            if not form.is_valid():
                messages.error(request, form_problems(form))
                return redirect("routings:job-detail", pk=job.pk)
            data = form.cleaned_data
        try:
            result = self.perform(job, data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, refusal(exc))
        else:
            messages.success(request, self.success_message % {"job": job.number, "result": result})
        return redirect("routings:job-detail", pk=job.pk)


class JobReleaseView(JobActionView):
    required_permission = RELEASE
    success_message = gettext_lazy("Job %(job)s released: its routing is now its operations.")

    def perform(self, job: Job, data: dict[str, Any]) -> Any:
        return release_job(actor=self.request.user, job_id=job.pk)


class JobHoldView(JobActionView):
    required_permission = HOLD
    form_class = HoldForm
    success_message = gettext_lazy("Job %(job)s is on hold.")

    def perform(self, job: Job, data: dict[str, Any]) -> Any:
        return hold_job(actor=self.request.user, job_id=job.pk, reason=data["reason"])


class JobResumeView(JobActionView):
    required_permission = HOLD
    success_message = gettext_lazy("Job %(job)s resumed.")

    def perform(self, job: Job, data: dict[str, Any]) -> Any:
        return resume_job(actor=self.request.user, job_id=job.pk)


class JobCancelView(JobActionView):
    required_permission = CANCEL
    form_class = CancelForm
    success_message = gettext_lazy("Job %(job)s cancelled.")

    def perform(self, job: Job, data: dict[str, Any]) -> Any:
        return cancel_job(actor=self.request.user, job_id=job.pk, reason=data["reason"])


class JobSplitView(JobActionView):
    required_permission = SPLIT
    form_class = SplitForm
    success_message = gettext_lazy("Job %(job)s split: %(result)s is the new job.")

    def perform(self, job: Job, data: dict[str, Any]) -> Any:
        return split_job(actor=self.request.user, job_id=job.pk, quantity=data["quantity"])


class JobReleaseSelectedView(RoleRequiredMixin, View):
    """Release the jobs ticked on the job list, one by one; each refusal is reported by job."""

    required_permission = RELEASE

    def post(self, request: HttpRequest) -> HttpResponse:
        ids = [int(value) for value in request.POST.getlist("job") if value.isdigit()]
        back = self._back(request)
        if not ids:
            messages.warning(request, _("Tick the jobs to release first."))
            return redirect(back)
        numbers = dict(Job.objects.filter(pk__in=ids).values_list("pk", "number"))
        released = 0
        for pk in sorted(numbers, key=numbers.__getitem__):
            try:
                release_job(actor=request.user, job_id=pk)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"{numbers[pk]}: {refusal(exc)}")
            else:
                released += 1
        if released:
            messages.success(
                request, ngettext("%(n)d job released.", "%(n)d jobs released.", released) % {"n": released}
            )
        return redirect(back)

    @staticmethod
    def _back(request: HttpRequest) -> str:
        target = str(request.POST.get("next", ""))
        if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return target
        return reverse("routings:job-list")


class PartListView(RoleRequiredMixin, HtmxPartialMixin, ListView[Part]):
    required_permission = VIEW_PART
    template_name = "routings/part_list.html"
    partial_template_name = "routings/partials/part_table.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Part]:
        queryset = (
            Part.objects.select_related("customer", "material")
            .annotate(step_count=Count("routing_steps", distinct=True), file_count=Count("files", distinct=True))
            .order_by("number", "revision")
        )
        self.filterset = PartFilter(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        return context


class PartDetailView(RoleRequiredMixin, DetailView[Part]):
    required_permission = VIEW_PART
    template_name = "routings/part_detail.html"
    context_object_name = "part"
    queryset = Part.objects.select_related("customer", "material")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        part: Part = self.object
        steps = list(step_rows(RoutingStep.objects.filter(part=part)))
        annotate_rows(steps, 1)
        context["steps"] = steps
        user = self.request.user
        if user.has_perm(VIEW_PART_FILE):
            context["files"] = list(PartFile.objects.filter(part=part).select_related("uploaded_by"))
        if user.has_perm(ADD_PART_FILE):
            context["upload_form"] = kwargs.get("upload_form") or PartFileUploadForm()
        if user.has_perm(VIEW_JOB):
            open_jobs = Job.objects.filter(part=part).exclude(status__in=(JobStatus.COMPLETE, JobStatus.CANCELLED))
            context["open_jobs"] = list(open_jobs.select_related("customer")[:20])
        return context


class PartFileUploadView(RoleRequiredMixin, View):
    required_permission = ADD_PART_FILE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        part = get_object_or_404(Part, pk=pk)
        form = PartFileUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, form_problems(form))
            return redirect("routings:part-detail", pk=part.pk)
        try:
            stored = upload_part_file(
                actor=request.user,
                part_id=part.pk,
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, refusal(exc))
        else:
            messages.success(
                request, _("“%(name)s” is stored with part %(part)s.") % {"name": stored.original_name, "part": part}
            )
        return redirect("routings:part-detail", pk=part.pk)


class PartFileDownloadView(RoleRequiredMixin, View):
    """A part file, as an attachment under its original name; files are never served from MEDIA."""

    required_permission = VIEW_PART_FILE

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        return attachment_response(get_object_or_404(PartFile, pk=pk))
