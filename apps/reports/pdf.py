"""Turn a `ReportDocument` into an A4 PDF with WeasyPrint.

Every cell is formatted here, in Python, before the template sees it: a month report holds tens of thousands of
cells, and one template filter per cell would cost more than the layout. Totals are computed here with the
semantics of the workbook's formulas (SUM and AVERAGE over the non-empty cells), so the PDF and the workbook of
one run always show the same totals.

A table with many rows (the per-machine-per-day table of a month is 1,200) is printed as a listing: each row one
line of monospaced text, padded so the columns line up and numbers stay right-aligned, in bands of five rows per
table row. WeasyPrint spends about a millisecond per table cell, so a real cell per value would take ten seconds
for such a report; the listing keeps a repeated header row and takes a fifth of that. Small tables, the ones
people read first, stay real tables.

WeasyPrint gets no base URL and a fetcher that only accepts `data:` URIs: charts and the logo are inline SVG,
and a report rendered on the server must never reach the network or the file system because of its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from .documents import Cell, Column, ColumnKind, RenderedFile, ReportDocument, Section, Table, Total

CONTENT_TYPE = "application/pdf"
TEMPLATE = "reports/pdf/report.html"
EMPTY = "—"

NUMERIC_KINDS = frozenset(
    {ColumnKind.INTEGER, ColumnKind.DECIMAL, ColumnKind.PERCENT, ColumnKind.MINUTES, ColumnKind.MONEY}
)
# From this many rows on, a table is printed as a listing (see the module's docstring).
LISTING_MIN_ROWS = 200
LISTING_BAND = 5
LISTING_MAX_TEXT = 40  # characters of a text cell in a listing; longer ones end in "…" (the workbook has all)
LISTING_GAP = 2
_LISTING_MAX_POINTS = Decimal("7.5")
_LINE_POINTS = Decimal("510")  # A4's 210 mm less two 15 mm margins, in points
_MONO_ADVANCE_EM = Decimal("0.6021")  # every glyph of DejaVu Sans Mono is this wide
_ONE = Decimal("1")
_TENTH = Decimal("0.1")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class PdfListing:
    """A long table as lines of monospaced text.

    `columns` are (label, numeric, width in characters, gap after it in characters), for the header cells;
    `bands` are the rows, LISTING_BAND lines to a string; `totals` the totals line or "".
    """

    columns: list[tuple[str, bool, int, int]]
    bands: list[str]
    totals: str
    font_points: Decimal
    characters: int  # of the widest line: the table's width in `ch`, which lets WeasyPrint skip measuring cells


@dataclass(frozen=True)
class PdfTable:
    """A table as the template draws it: every cell already text, numbers flagged for right alignment."""

    title: str
    note: str
    headers: list[tuple[str, bool]]
    rows: list[list[tuple[str, bool]]]
    totals: list[tuple[str, bool]] | None
    listing: PdfListing | None = None


@dataclass(frozen=True)
class PdfSection:
    """A section with its tables formatted for the template."""

    section: Section
    tables: list[PdfTable]


def render_pdf(document: ReportDocument) -> RenderedFile:
    """Render the document as a PDF in its own language and time zone."""
    zone = ZoneInfo(document.time_zone)
    with translation.override(document.language):
        html = render_to_string(
            TEMPLATE,
            {
                "document": document,
                "generated_at": format_datetime(document.generated_at, zone),
                "sections": [
                    PdfSection(section, [pdf_table(table, zone) for table in section.tables])
                    for section in document.sections
                ],
            },
        )
    fetcher = URLFetcher(allowed_protocols=("data",))
    content = HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
    return RenderedFile(name=f"{document.file_stem}.pdf", content_type=CONTENT_TYPE, content=content)


def pdf_table(table: Table, zone: ZoneInfo) -> PdfTable:
    """Format a table's cells and its totals row; called inside the document's language."""
    columns = list(table.columns)
    numeric = [column.kind in NUMERIC_KINDS for column in columns]
    rows = [
        [(format_cell(row.get(column.key), column.kind, zone), numeric[index]) for index, column in enumerate(columns)]
        for row in table.rows
    ]
    totals = None
    if table.has_totals and table.rows:
        totals = [(total_text(table, column, zone), numeric[index]) for index, column in enumerate(columns)]
    headers = [(column.label, flag) for column, flag in zip(columns, numeric, strict=True)]
    if len(rows) >= LISTING_MIN_ROWS:
        return PdfTable(table.title, table.note, headers, [], None, listing=listing(headers, rows, totals))
    return PdfTable(table.title, table.note, headers, rows, totals)


def listing(
    headers: list[tuple[str, bool]], rows: list[list[tuple[str, bool]]], totals: list[tuple[str, bool]] | None
) -> PdfListing:
    """Pad formatted cells into fixed-width lines; the font shrinks until the widest line fits the page."""
    lines = [*rows, totals] if totals else rows
    widths = []
    for index, (label, numeric) in enumerate(headers):
        longest = max((len(line[index][0]) for line in lines), default=0)
        if not numeric:
            longest = min(longest, LISTING_MAX_TEXT)
        widths.append(max([longest, *(len(word) for word in label.split())]))
    last = len(headers) - 1
    columns = [
        (label, numeric, widths[index], 0 if index == last else LISTING_GAP)
        for index, (label, numeric) in enumerate(headers)
    ]
    texts = [_listing_line(line, widths) for line in rows]
    characters = sum(widths) + LISTING_GAP * last
    points = min(_LISTING_MAX_POINTS, _LINE_POINTS / (characters * _MONO_ADVANCE_EM))
    return PdfListing(
        columns=columns,
        bands=["\n".join(texts[start : start + LISTING_BAND]) for start in range(0, len(texts), LISTING_BAND)],
        totals=_listing_line(totals, widths) if totals else "",
        font_points=points.quantize(_TENTH, rounding=ROUND_DOWN),
        characters=characters,
    )


def _listing_line(cells: list[tuple[str, bool]], widths: list[int]) -> str:
    parts = []
    for (text, numeric), width in zip(cells, widths, strict=True):
        if not numeric:
            text = " ".join(text.split())  # a line break or tab in a name would break the columns
        if len(text) > width:
            text = text[: width - 1] + "…"
        parts.append(text.rjust(width) if numeric else text.ljust(width))
    return (" " * LISTING_GAP).join(parts).rstrip()


def column_total(table: Table, column: Column) -> Decimal | None:
    """The figure of the workbook's totals formula: SUM or AVERAGE over the column's non-empty numbers.

    None when there is nothing to add up (no numeric cell, or a total that is not a sum or an average), which
    the PDF prints as an empty mark and the workbook leaves as an empty cell.
    """
    if column.kind not in NUMERIC_KINDS or column.total not in (Total.SUM, Total.AVERAGE):
        return None
    values = [number for row in table.rows if (number := _number(row.get(column.key))) is not None]
    if not values:
        return None
    total = sum(values, Decimal(0))
    return total if column.total is Total.SUM else total / len(values)


def total_text(table: Table, column: Column, zone: ZoneInfo) -> str:
    if column.total is Total.LABEL:
        return _("Total")
    if column.total is Total.NONE:
        return ""
    return format_cell(column_total(table, column), column.kind, zone)


def format_cell(value: Cell, kind: ColumnKind, zone: ZoneInfo) -> str:
    """One cell as the PDF prints it; text that does not fit the column's kind is printed as it is."""
    if value is None:
        return EMPTY
    number = _number(value)
    if number is not None and kind in NUMERIC_KINDS:
        return format_number(number, kind)
    if isinstance(value, datetime):
        return format_datetime(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def format_number(value: Decimal, kind: ColumnKind) -> str:
    """Round half away from zero, as Excel does when it displays the workbook's number formats."""
    if kind is ColumnKind.PERCENT:
        return f"{(value * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)} %"
    if kind is ColumnKind.MINUTES:
        return f"{value.quantize(_TENTH, rounding=ROUND_HALF_UP)}"
    if kind is ColumnKind.DECIMAL:
        return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP)}"
    if kind is ColumnKind.MONEY:
        return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):,}"
    return f"{value.quantize(_ONE, rounding=ROUND_HALF_UP):,}"


def format_datetime(value: datetime, zone: ZoneInfo) -> str:
    """An aware datetime as plant-local "2026-11-20 06:00"; a naive one is a bug upstream, not a guess here."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime in a report: {value.isoformat()}")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _number(value: Cell) -> Decimal | None:
    """The cell as a Decimal when it is a number (what Excel's SUM and AVERAGE count), else None."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)
