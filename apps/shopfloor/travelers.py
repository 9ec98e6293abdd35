"""Job travelers: the printed sheet that goes with a job through the shop, with a QR code for the
job and one per operation that the operator app scans to open that operation ready to start."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pypdfium2
import segno
import weasyprint
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from weasyprint.urls import URLFetcher, URLFetcherResponse

from apps.routings.choices import PartFileKind, Priority
from apps.routings.models import Job, Operation

# 22 mm is the smallest symbol a phone reads at arm's length; a millimetre more absorbs printer scaling.
QR_SYMBOL_MM = Decimal("23")
QR_QUIET_ZONE_MODULES = 4
# Long side of the drawing thumbnail in pixels: sharp at ~250 dpi in its 70 mm box, small in the PDF.
THUMBNAIL_PIXELS = 700

_PAGE_MARK = "\ue000"
_PAGES_MARK = "\ue001"


def operation_scan_url(base_url: str, operation_id: int) -> str:
    """What an operation's QR code holds; the operator app's scanner parses exactly this."""
    return f"{base_url.rstrip('/')}/shop/o/{operation_id}/"


def job_scan_url(base_url: str, job_id: int) -> str:
    """What the job's QR code holds; the operator app's scanner parses exactly this."""
    return f"{base_url.rstrip('/')}/shop/j/{job_id}/"


@dataclass(frozen=True)
class TravelerRow:
    """One routing line of the traveler, formatted for print."""

    sequence: int
    operation_code: str
    description: str
    work_center_type: str
    preferred_work_center: str
    setup_minutes: str
    run_minutes_per_unit: str
    quantity: int
    scan_url: str
    qr_code: str


def render_traveler_pdf(job: Job, *, base_url: str) -> bytes:
    """The traveler of `job` as an A4 (or `TRAVELER_PAGE_SIZE`) PDF."""
    html = traveler_html(job, base_url=base_url)
    document = weasyprint.HTML(string=html, base_url=str(_static_dir()), url_fetcher=StaticOnlyFetcher())
    pdf = document.write_pdf()
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return pdf


def traveler_html(job: Job, *, base_url: str) -> str:
    """The HTML that WeasyPrint turns into the traveler; separate so that its content can be checked."""
    operations = list(
        Operation.objects.filter(job=job)
        .select_related("work_center_type", "preferred_work_center")
        .order_by("sequence")
    )
    job_url = job_scan_url(base_url, job.pk)
    operation_urls = [operation_scan_url(base_url, operation.pk) for operation in operations]
    version = max(_qr_version(url) for url in [job_url, *operation_urls])
    plant_zone = ZoneInfo(settings.TIME_ZONE)
    printed_at = _plant_time(timezone.now(), plant_zone)
    part = job.part
    material = part.material
    thickness = part.thickness_mm if part.thickness_mm is not None else (material.thickness_mm if material else None)
    rows = [
        TravelerRow(
            sequence=operation.sequence,
            operation_code=operation.operation_code,
            description=operation.description,
            work_center_type=operation.work_center_type.name,
            preferred_work_center=operation.preferred_work_center.name if operation.preferred_work_center else "",
            setup_minutes=_number(operation.setup_minutes),
            run_minutes_per_unit=_number(operation.run_minutes_per_unit),
            quantity=operation.quantity,
            scan_url=url,
            qr_code=_qr_data_uri(url, version),
        )
        for operation, url in zip(operations, operation_urls, strict=True)
    ]
    context: dict[str, Any] = {
        "job": job,
        "part": part,
        "material": material,
        "thickness": _number(thickness) if thickness is not None else "",
        "priority": job.get_priority_display(),
        "is_rush": job.priority == Priority.RUSH,
        "status": job.get_status_display(),
        "released_at": _plant_time(job.released_at, plant_zone) if job.released_at else "",
        "language": get_language() or settings.LANGUAGE_CODE,
        "total_minutes": _number(sum((operation.total_minutes for operation in operations), Decimal("0"))),
        "rows": rows,
        "job_scan_url": job_url,
        "job_qr_code": _qr_data_uri(job_url, version),
        "qr_size_mm": _qr_size_mm(version),
        "drawing": drawing_thumbnail(job),
        "logo_url": (_static_dir() / "img" / "logo.svg").as_uri(),
        "page_size": settings.TRAVELER_PAGE_SIZE,
        "footer_job": _css_string(_("Job %(number)s") % {"number": job.number}),
        "footer_pages": _css_page_counter(_("Page %(page)s of %(pages)s") % {"page": _PAGE_MARK, "pages": _PAGES_MARK}),
        "footer_printed": _css_string(_("Printed %(time)s") % {"time": printed_at}),
    }
    return render_to_string("shopfloor/traveler.html", context)


def drawing_thumbnail(job: Job) -> str:
    """Page 1 of the part's newest drawing as a PNG data URI, or "" when there is none or it cannot be read.

    A traveler must print even when the drawing on file is damaged, so every failure to read or
    render it ends here as "no drawing".
    """
    drawing = job.part.files.filter(kind=PartFileKind.DRAWING).order_by("-created_at", "-pk").first()
    if drawing is None:
        return ""
    try:
        with drawing.file.open("rb") as stored:
            content = stored.read()
        return _pdf_first_page_png(content)
    except (OSError, ValueError, SuspiciousFileOperation, pypdfium2.PdfiumError):
        return ""


def _pdf_first_page_png(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    try:
        if len(document) == 0:
            return ""
        page = document[0]
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            return ""
        # Scale from the page's own size so a poster-sized drawing cannot blow up memory.
        bitmap = page.render(scale=THUMBNAIL_PIXELS / max(width, height))
        image = bitmap.to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    finally:
        document.close()


class StaticOnlyFetcher(URLFetcher):
    """Fetches data: URIs and files under the project's static/ dir, and refuses everything else.

    A traveler is printed from data in the database; nothing in it may make the server reach
    the network or read files outside static/.
    """

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path.is_relative_to(_static_dir()) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _mime_type(path)})
        raise ValueError(f"Traveler refuses to fetch {url!r}")


def _static_dir() -> Path:
    return (Path(settings.BASE_DIR) / "static").resolve()


def _mime_type(path: Path) -> str:
    return {
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".css": "text/css",
        ".woff2": "font/woff2",
        ".woff": "font/woff",
        ".ttf": "font/ttf",
    }.get(path.suffix.lower(), "application/octet-stream")


def _qr_version(url: str) -> int:
    version = segno.make(url, error="m", boost_error=False, micro=False).version
    assert isinstance(version, int)  # micro=False: always a regular QR version number
    return version


def _qr_data_uri(url: str, version: int) -> str:
    # One version for the whole traveler so every code prints at the same size; error level M as the
    # scanner app expects, never boosted; the standard four-module quiet zone stays in the image.
    code = segno.make(url, error="m", boost_error=False, micro=False, version=version)
    # One pixel per module, drawn without smoothing (image-rendering: pixelated in the template): sharp at
    # any print resolution and a few hundred bytes per code.
    return str(code.png_data_uri(scale=1, border=QR_QUIET_ZONE_MODULES, dark="#000", light="#fff"))


def _qr_size_mm(version: int) -> str:
    """Printed width of a code with its quiet zone, so that the symbol itself is QR_SYMBOL_MM wide."""
    modules = 17 + 4 * version
    total = QR_SYMBOL_MM * (modules + 2 * QR_QUIET_ZONE_MODULES) / modules
    return f"{total.quantize(Decimal('0.1'))}mm"


def _number(value: Decimal) -> str:
    """15.00 → "15", 0.500 → "0.5": shop paper shows minutes without trailing zeros."""
    return format(value.normalize(), "f")


def _plant_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _css_string(text: str) -> SafeString:
    """`text` as a quoted CSS string, safe inside a <style> element (user data goes in the footer)."""
    escaped = "".join(
        f"\\{ord(char):x} " if char in '"\\<>&' or ord(char) < 0x20 or ord(char) == 0x7F else char for char in text
    )
    return mark_safe(f'"{escaped}"')


def _css_page_counter(text: str) -> SafeString:
    """A CSS `content` value: the translated text with the page counters where the marks are."""
    quoted = _css_string(text)
    return mark_safe(str(quoted).replace(_PAGE_MARK, '" counter(page) "').replace(_PAGES_MARK, '" counter(pages) "'))
