"""A run's stored PDF or workbook as an HTTP download, for the archive pages and the API alike."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from .choices import ReportFormat
from .models import ReportRun
from .services import download_name

CONTENT_TYPES: dict[str, str] = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def run_file_response(run: ReportRun, file_format: str) -> FileResponse:
    """Streamed from storage in chunks, as an attachment (never shown inline), with the file name the mail uses."""
    stored = getattr(run, file_format, None) if file_format in CONTENT_TYPES else None
    if not stored:
        raise Http404(_("This run has no such file."))
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The stored file is missing.")) from exc
    return FileResponse(
        handle, as_attachment=True, filename=download_name(run, file_format), content_type=CONTENT_TYPES[file_format]
    )
