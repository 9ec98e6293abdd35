"""Job travelers: every QR code on the printed PDF decodes to the job or to the right operation, the
routing flows over pages with its header and footer, and a bad drawing file never stops the print."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import weasyprint
from django.core.files.base import ContentFile
from PIL import Image

from apps.routings.models import Job, Operation, Part, PartFile
from apps.routings.services import release_job
from apps.shopfloor.travelers import (
    StaticOnlyFetcher,
    _css_page_counter,
    _css_string,
    job_scan_url,
    operation_scan_url,
    render_traveler_pdf,
    traveler_html,
)
from tests.routings.builders import Shop, build_shop, make_job, make_part, step, straight_part

pytestmark = pytest.mark.django_db

BASE_URL = "http://127.0.0.1:8000"
DPI = 150
MM_PER_POINT = 25.4 / 72


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def scan_tools() -> None:
    """The PDF → PNG → QR round trip needs poppler's pdftoppm and zbar's zbarimg: fail loudly without them."""
    missing = [tool for tool in ("pdftoppm", "zbarimg") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install poppler-utils and zbar-tools to check traveler QR codes",
            pytrace=False,
        )


needs_scan_tools = pytest.mark.usefixtures("scan_tools")


@pytest.fixture
def shop() -> Shop:
    return build_shop()


@pytest.fixture
def release(personas: dict[str, Any]) -> Callable[[Job], Job]:
    def run(job: Job) -> Job:
        return release_job(actor=personas["production_manager"], job_id=job.pk)

    return run


def routed_part(shop: Shop, operations: int) -> Part:
    """A part with `operations` steps at sequence 10, 20, …, alternating laser, brake, punch and weld."""
    part = make_part()
    kinds = [shop.laser, shop.brake, shop.punch, shop.weld]
    codes = ["CUT", "BEND", "PUNCH", "WELD"]
    for index in range(operations):
        step(
            part, (index + 1) * 10, codes[index % 4], kinds[index % 4], "12.5", "0.75", description=f"Step {index + 1}"
        )
    return part


def pages_as_png(pdf: bytes, folder: Path) -> list[Path]:
    source = folder / "traveler.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(source), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def decode(image: Path) -> list[str]:
    # zbarimg exits 4 when an image holds no code at all: that is an empty answer, not an error.
    result = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True, check=False)
    assert result.returncode in (0, 4), result.stderr
    return result.stdout.split()


@dataclass
class PrintedCode:
    page: int
    url: str
    width_mm: float
    row_text: str


def printed_codes(pdf: bytes, images: list[Path], folder: Path) -> list[PrintedCode]:
    """Each QR image drawn in the PDF, cut out of the page PNG on its own and decoded, with the text
    printed at the left edge of the same row (the operation's sequence number)."""
    found: list[PrintedCode] = []
    document = pypdfium2.PdfDocument(pdf)
    for number, page_png in enumerate(images):
        page = document[number]
        _, page_height = page.get_size()
        text = page.get_textpage()
        picture = Image.open(page_png)
        scale = DPI / 72
        for index, drawn in enumerate(page.get_objects(filter=(pypdfium2.raw.FPDF_PAGEOBJ_IMAGE,), max_depth=5)):
            left, bottom, right, top = drawn.get_bounds()
            if abs((right - left) - (top - bottom)) > 0.5:
                continue  # not square: the drawing thumbnail
            crop = folder / f"code-{number}-{index}.png"
            box = (
                left * scale - 4,
                (page_height - top) * scale - 4,
                right * scale + 4,
                (page_height - bottom) * scale + 4,
            )
            picture.crop(tuple(round(edge) for edge in box)).save(crop)
            urls = decode(crop)
            assert len(urls) == 1, f"page {number + 1}: {urls}"
            row_text = text.get_text_bounded(left=0, bottom=bottom, right=60, top=top).strip()
            found.append(PrintedCode(number + 1, urls[0], (right - left) * MM_PER_POINT, row_text))
    document.close()
    return found


def page_texts(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    texts = [document[index].get_textpage().get_text_range() for index in range(len(document))]
    document.close()
    return texts


def one_page_drawing() -> bytes:
    html = '<div style="border: 3mm solid #000; height: 150mm; font-size: 40pt">DRAWING DR-7 REV B</div>'
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf is not None
    return pdf


def attach_drawing(part: Part, content: bytes, name: str = "drawing.pdf") -> PartFile:
    return PartFile.objects.create(
        part=part,
        kind="drawing",
        file=ContentFile(content, name=name),
        original_name=name,
        size_bytes=len(content),
        content_type="application/pdf",
        sha256="0" * 64,
    )


def thumbnail_in(html: str) -> Image.Image | None:
    match = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="Drawing, page 1"', html)
    return Image.open(io.BytesIO(base64.b64decode(match.group(1)))) if match else None


def test_scan_urls_are_the_format_the_operator_app_parses() -> None:
    assert operation_scan_url(BASE_URL, 42) == "http://127.0.0.1:8000/shop/o/42/"
    assert job_scan_url(BASE_URL, 7) == "http://127.0.0.1:8000/shop/j/7/"
    assert job_scan_url("https://mes.example.com/", 7) == "https://mes.example.com/shop/j/7/"


@needs_scan_tools
def test_every_code_on_a_traveler_decodes_to_the_job_or_one_operation(
    shop: Shop, release: Callable[[Job], Job], tmp_path: Path
) -> None:
    job = release(make_job(shop, straight_part(shop, "BR-100"), quantity=25, number="J-24-0117"))
    operations = list(Operation.objects.filter(job=job).order_by("sequence"))

    images = pages_as_png(render_traveler_pdf(job, base_url=BASE_URL), tmp_path)

    assert len(images) == 1
    decoded = decode(images[0])
    assert sorted(decoded) == sorted(
        [job_scan_url(BASE_URL, job.pk)] + [operation_scan_url(BASE_URL, op.pk) for op in operations]
    )


@needs_scan_tools
def test_forty_operations_span_pages_and_every_code_maps_to_its_row(
    shop: Shop, release: Callable[[Job], Job], tmp_path: Path
) -> None:
    job = release(make_job(shop, routed_part(shop, 40), quantity=12, number="J-24-0400"))
    by_url = {operation_scan_url(BASE_URL, op.pk): op for op in Operation.objects.filter(job=job)}
    assert len(by_url) == 40

    pdf = render_traveler_pdf(job, base_url=BASE_URL)
    images = pages_as_png(pdf, tmp_path)
    codes = printed_codes(pdf, images, tmp_path)

    assert len(images) > 1
    assert sorted(url for image in images for url in decode(image)) == sorted([job_scan_url(BASE_URL, job.pk), *by_url])
    assert [code.url for code in codes if code.page == 1][0] == job_scan_url(BASE_URL, job.pk)
    operation_codes = [code for code in codes if code.url != job_scan_url(BASE_URL, job.pk)]
    assert [by_url[code.url].sequence for code in operation_codes] == list(range(10, 410, 10))
    assert [code.row_text for code in operation_codes] == [str(sequence) for sequence in range(10, 410, 10)]
    assert {code.page for code in operation_codes} == set(range(1, len(images) + 1))
    assert min(code.width_mm * 29 / 37 for code in codes) >= 22


def test_every_page_has_the_job_number_page_count_and_routing_header(shop: Shop, release: Callable[[Job], Job]) -> None:
    job = release(make_job(shop, routed_part(shop, 40), number="J-24-0401"))

    texts = page_texts(render_traveler_pdf(job, base_url=BASE_URL))

    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        assert "Job J-24-0401" in text
        assert f"Page {number} of {len(texts)}" in text
        assert "SCAN TO START" in text
        assert "OPERATOR" in text


def test_page_size_follows_the_setting(shop: Shop, release: Callable[[Job], Job], settings: Any) -> None:
    job = release(make_job(shop, straight_part(shop)))
    sizes = {}
    for name in ("A4", "letter"):
        settings.TRAVELER_PAGE_SIZE = name
        document = pypdfium2.PdfDocument(render_traveler_pdf(job, base_url=BASE_URL))
        sizes[name] = tuple(round(side) for side in document[0].get_size())
        document.close()

    assert sizes == {"A4": (595, 842), "letter": (612, 792)}


def test_header_shows_the_job_and_times_in_the_plant_time_zone(
    shop: Shop, release: Callable[[Job], Job], settings: Any
) -> None:
    settings.TIME_ZONE = "America/Chicago"
    job = release(make_job(shop, straight_part(shop, "BR-200"), quantity=25, number="J-24-0118", notes="Deburr all"))
    Job.objects.filter(pk=job.pk).update(released_at=datetime(2030, 1, 15, 12, 30, tzinfo=UTC))
    job.refresh_from_db()

    html = traveler_html(job, base_url=BASE_URL)

    assert "2030-01-15 06:30 CST" in html
    assert "Hobart Kitchens" in html
    assert "BR-200 &middot; rev A" in html
    assert "Deburr all" in html
    assert "No drawing" in html
    # CUT 15 + 0.5 × 25, BEND 20 + 1.25 × 25, WELD 30 + 2 × 25 = 27.5 + 51.25 + 80
    assert '<span class="value">158.75</span>' in html
    assert '<td class="num">0.5</td>' in html
    assert "Preferred: Fiber laser 3 kW 1" in html
    # Version 3 at level M holds these URLs: 29 modules + 2 × 4 quiet zone at 23 mm a symbol.
    assert html.count("width: 29.3mm; height: 29.3mm;") == 4


def test_queries_do_not_grow_with_the_routing(
    shop: Shop, release: Callable[[Job], Job], django_assert_num_queries: Any
) -> None:
    short = Job.objects.get(pk=release(make_job(shop, routed_part(shop, 3))).pk)
    long = Job.objects.get(pk=release(make_job(shop, routed_part(shop, 40))).pk)

    for job in (short, long):
        with django_assert_num_queries(4):
            traveler_html(job, base_url=BASE_URL)


def test_a_garbage_drawing_still_prints_with_no_drawing(shop: Shop, release: Callable[[Job], Job]) -> None:
    part = straight_part(shop)
    attach_drawing(part, b"%PDF-1.7\nthis is not really a PDF\x00\xff" * 20)
    job = release(make_job(shop, part))

    html = traveler_html(job, base_url=BASE_URL)
    pdf = render_traveler_pdf(job, base_url=BASE_URL)

    assert thumbnail_in(html) is None
    assert "No drawing" in html
    assert pdf.startswith(b"%PDF-")


def test_a_missing_drawing_file_still_prints_with_no_drawing(
    shop: Shop, release: Callable[[Job], Job], media: Path
) -> None:
    part = straight_part(shop)
    drawing = attach_drawing(part, one_page_drawing())
    Path(drawing.file.path).unlink()
    job = release(make_job(shop, part))

    html = traveler_html(job, base_url=BASE_URL)

    assert thumbnail_in(html) is None
    assert "No drawing" in html


def test_the_newest_readable_drawing_becomes_a_thumbnail(shop: Shop, release: Callable[[Job], Job]) -> None:
    part = straight_part(shop)
    attach_drawing(part, b"not a pdf at all", name="old.pdf")
    attach_drawing(part, one_page_drawing(), name="new.pdf")
    job = release(make_job(shop, part))

    html = traveler_html(job, base_url=BASE_URL)
    thumbnail = thumbnail_in(html)

    assert thumbnail is not None
    # A4 portrait drawing: the long side is scaled to 700 px.
    assert thumbnail.size == (495, 700)
    assert "No drawing" not in html
    assert render_traveler_pdf(job, base_url=BASE_URL).startswith(b"%PDF-")


def test_an_unreleased_job_prints_without_a_routing(shop: Shop) -> None:
    job = make_job(shop, straight_part(shop))

    html = traveler_html(job, base_url=BASE_URL)

    assert "This job has no operations yet" in html
    assert html.count('class="qr"') == 1


def test_fetcher_serves_static_files_and_data_only(settings: Any) -> None:
    fetcher = StaticOnlyFetcher()
    logo = Path(settings.BASE_DIR) / "static" / "img" / "logo.svg"

    served = fetcher.fetch(logo.as_uri())
    data = fetcher.fetch("data:text/plain;base64,b2s=")

    assert (served.content_type, served.read()) == ("image/svg+xml", logo.read_bytes())
    assert data.read() == b"ok"
    for refused in (
        "http://127.0.0.1:8000/static/img/logo.svg",
        "https://example.com/logo.svg",
        "ftp://example.com/logo.svg",
        "file:///etc/passwd",
        (logo.parent.parent.parent / "manage.py").as_uri(),
        logo.as_uri().replace("/img/logo.svg", "/img/../../manage.py"),
    ):
        with pytest.raises(ValueError, match="Traveler refuses to fetch"):
            fetcher.fetch(refused)


def test_footer_text_is_escaped_for_css() -> None:
    assert _css_string('J-1"</style>\\') == '"J-1\\22 \\3c /style\\3e \\5c "'
    assert _css_page_counter("Page \ue000 of \ue001") == '"Page " counter(page) " of " counter(pages) ""'
