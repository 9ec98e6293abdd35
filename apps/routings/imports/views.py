"""Pages of imports: upload a file, follow its import, export a kind, download a template."""

from __future__ import annotations

import tempfile
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from apps.core.htmx import render_page
from apps.core.models import Job as BackgroundJob
from apps.core.views_base import RoleRequiredMixin

from .forms import ExportForm, ImportForm
from .kinds import KINDS, Kind
from .reader import MAX_FILE_BYTES, MAX_ROWS
from .services import (
    IMPORT_MASTER_DATA,
    JOB_KIND,
    export_csv,
    export_filename,
    export_xlsx,
    start_import,
    template_csv,
    template_xlsx,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECENT_IMPORTS = 15


class ImportView(RoleRequiredMixin, View):
    """Upload a file; the page then follows its import and shows the problems or the counts."""

    required_permission = IMPORT_MASTER_DATA

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ImportForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = start_import(
                    actor=request.user, kind=form.cleaned_data["kind"], upload=upload, filename=upload.name
                )
            except ValidationError as error:
                form.add_error("file", error)
            else:
                messages.info(request, _("“%(name)s” is queued; this page shows its result.") % {"name": job.name})
                return redirect(f"{reverse('imports:import')}?job={job.pk}")
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: ImportForm, status: int = 200) -> HttpResponse:
        imports = BackgroundJob.objects.filter(kind=JOB_KIND).select_related("requested_by")
        selected = None
        job_id = request.GET.get("job", "")
        if job_id.isdigit():
            selected = imports.filter(pk=int(job_id)).first()
            if selected is None:
                raise Http404("no such import")
        context: dict[str, Any] = {
            "form": form,
            "job": selected,
            "result": _result(selected),
            "recent": imports.defer("log")[:RECENT_IMPORTS],
            "kinds": list(KINDS.values()),
            "max_mb": MAX_FILE_BYTES // 1024 // 1024,
            "max_rows": MAX_ROWS,
        }
        return render_page(
            request, "imports/import.html", "imports/partials/import_result.html", context, status=status
        )


def _result(job: BackgroundJob | None) -> dict[str, Any]:
    if job is None:
        return {}
    result = dict(job.result or {})
    result["more"] = result.get("problem_count", 0) - len(result.get("problems", []))
    result["counts"] = {table.replace("_", " "): numbers for table, numbers in result.get("counts", {}).items()}
    return result


class ExportView(RoleRequiredMixin, View):
    """Choose a kind and a format; the file downloads with exactly the columns the importer reads."""

    required_permission = IMPORT_MASTER_DATA

    def get(self, request: HttpRequest) -> HttpResponseBase:
        form = ExportForm(request.GET or None)
        if not form.is_bound:
            return render(request, "imports/export.html", {"form": form})
        if not form.is_valid():
            return render(request, "imports/export.html", {"form": form}, status=400)
        kind = KINDS[form.cleaned_data["kind"]]
        if form.cleaned_data["format"] == "csv":
            response = StreamingHttpResponse(
                (piece.encode("utf-8") for piece in export_csv(actor=request.user, kind=kind)),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = f'attachment; filename="{export_filename(kind, "csv")}"'
            return response
        workbook = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
        export_xlsx(actor=request.user, kind=kind, target=workbook)
        workbook.seek(0)
        return FileResponse(workbook, as_attachment=True, filename=export_filename(kind, "xlsx"), content_type=XLSX)


class TemplateView(RoleRequiredMixin, View):
    """An empty file of a kind with its header row (and, in Excel, a sheet explaining each column)."""

    required_permission = IMPORT_MASTER_DATA

    def get(self, request: HttpRequest, kind: str) -> HttpResponseBase:
        spec = _kind_or_404(kind)
        if request.GET.get("format") == "csv":
            response = HttpResponse(template_csv(kind=spec).encode("utf-8"), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{export_filename(spec, "csv", template=True)}"'
            return response
        workbook = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
        template_xlsx(kind=spec, target=workbook)
        workbook.seek(0)
        return FileResponse(
            workbook, as_attachment=True, filename=export_filename(spec, "xlsx", template=True), content_type=XLSX
        )


def _kind_or_404(slug: str) -> Kind:
    if slug not in KINDS:
        raise Http404("no such kind of import")
    return KINDS[slug]
