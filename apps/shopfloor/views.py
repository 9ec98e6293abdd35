"""Shop-floor pages: the operator app's shell (a PWA whose screens are drawn by static/shopfloor/),
its manifest and service worker, the job traveler PDF and the supervisor's floor view."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView, TemplateView

from apps.accounts.models import User
from apps.core.permissions import PUBLIC
from apps.core.views_base import RoleRequiredMixin
from apps.routings.models import Job

from .filters import LaborEntryFilter
from .models import LaborEntry
from .selectors import floor_overview
from .services import CORRECT_LABOR, EXECUTE_OPERATION, correct_labor_entry
from .travelers import render_traveler_pdf


class OperatorAppView(RoleRequiredMixin, TemplateView):
    """The app shell. /shop/o/<id>/ and /shop/j/<id>/ are what traveler QR codes print: a phone's
    own camera app opens them here, on that operation or job."""

    required_permission = EXECUTE_OPERATION
    template_name = "shopfloor/app.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        initial: dict[str, int] = {}
        if "operation" in self.kwargs:
            initial["operation"] = int(self.kwargs["operation"])
        if "job" in self.kwargs:
            initial["job"] = int(self.kwargs["job"])
        user = cast(User, self.request.user)  # the permission check let only signed-in users through
        context.update(
            initial=initial,
            user_name=user.display_name,
            logout_url=reverse("account_logout"),
        )
        return context


class ManifestView(RoleRequiredMixin, View):
    required_permission = PUBLIC

    def get(self, request: HttpRequest) -> HttpResponse:
        response = render(request, "shopfloor/manifest.webmanifest", content_type="application/manifest+json")
        response["Cache-Control"] = "no-cache"
        return response


class ServiceWorkerView(RoleRequiredMixin, View):
    """The service worker must come from /shop/ to control /shop/; its code lives in static/."""

    required_permission = PUBLIC

    def get(self, request: HttpRequest) -> HttpResponse:
        path = finders.find("shopfloor/sw.js")
        if not path:
            raise Http404("service worker missing")
        with open(path, encoding="utf-8") as source:
            response = HttpResponse(source.read(), content_type="application/javascript")
        response["Service-Worker-Allowed"] = "/shop/"
        response["Cache-Control"] = "no-cache"
        return response


class TravelerView(RoleRequiredMixin, View):
    """The job's traveler as a PDF to print, with a QR code per operation."""

    required_permission = "routings.view_job"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(Job.objects.select_related("customer", "part__material"), pk=pk)
        base_url = settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")
        response = HttpResponse(render_traveler_pdf(job, base_url=base_url), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="traveler-{job.number}.pdf"'
        return response


class SupervisorView(RoleRequiredMixin, TemplateView):
    """Who is clocked in where, what is running, what is waiting, open issues."""

    required_permission = CORRECT_LABOR
    template_name = "shopfloor/supervisor.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(floor_overview())
        context["refresh_seconds"] = settings.SHOPFLOOR_SUPERVISOR_REFRESH_SECONDS
        return context


class LaborCorrectionForm(forms.Form):
    started_at = forms.DateTimeField(label=gettext_lazy("Start"))
    ended_at = forms.DateTimeField(label=gettext_lazy("End"), required=False)
    reason = forms.CharField(label=gettext_lazy("Why"), max_length=100)


class LaborView(RoleRequiredMixin, ListView[LaborEntry]):
    """A day's labor, per operator, where a supervisor fixes a forgotten stop or a wrong start; the
    history keeps who corrected what and why."""

    required_permission = CORRECT_LABOR
    template_name = "shopfloor/labor.html"
    context_object_name = "entries"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[LaborEntry]:
        rows = LaborEntry.objects.select_related("operator", "operation__job", "work_center").order_by(
            "operator__username", "started_at"
        )
        self.filterset = LaborEntryFilter(self.request.GET, queryset=rows)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["form"] = kwargs.get("form") or LaborCorrectionForm()
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        entry = get_object_or_404(LaborEntry, pk=request.POST.get("entry", 0) or 0)
        form = LaborCorrectionForm(request.POST)
        if form.is_valid():
            try:
                correct_labor_entry(
                    supervisor=request.user,
                    entry_id=entry.pk,
                    started_at=form.cleaned_data["started_at"],
                    ended_at=form.cleaned_data["ended_at"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Labor entry corrected."))
        else:
            messages.error(request, _("Give a start, an end after it, and why."))
        return redirect(request.get_full_path())
