"""Supervisors' pages for issue reports: the list with filters, and one issue with acknowledge / close."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView

from apps.core.views_base import RoleRequiredMixin

from .filters import IssueReportFilter
from .issues import RESOLVE_ISSUE, acknowledge_issue, close_issue
from .models import IssueReport


class IssueListView(RoleRequiredMixin, ListView[IssueReport]):
    required_permission = RESOLVE_ISSUE
    template_name = "shopfloor/issue_list.html"
    context_object_name = "issues"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[IssueReport]:
        rows = IssueReport.objects.select_related("work_center", "job", "reported_by").order_by("-reported_at", "-pk")
        self.filterset = IssueReportFilter(self.request.GET, queryset=rows)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        return context


class IssueDetailView(RoleRequiredMixin, DetailView[IssueReport]):
    """One issue; its form posts `action=acknowledge` or `action=close` with a resolution."""

    required_permission = RESOLVE_ISSUE
    template_name = "shopfloor/issue_detail.html"
    context_object_name = "issue"
    queryset = IssueReport.objects.select_related(
        "work_center", "job", "operation", "reported_by", "acknowledged_by", "closed_by"
    )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        issue = get_object_or_404(IssueReport, pk=pk)
        verb = request.POST.get("action", "")
        try:
            if verb == "acknowledge":
                acknowledge_issue(user=request.user, issue_id=issue.pk)
                messages.success(request, _("Issue acknowledged; the reporter has been told."))
            elif verb == "close":
                close_issue(user=request.user, issue_id=issue.pk, resolution=request.POST.get("resolution", ""))
                messages.success(request, _("Issue closed; the reporter has been told."))
            else:
                messages.error(request, _("Unknown action."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("shopfloor:issue-detail", pk=issue.pk)
