"""Turn a `ReportDocument` into an Excel workbook with openpyxl.

The workbook is for people who go on computing: cells are typed (numbers, ratios, dates), totals are live
formulas over the data, and each table is its own sheet with a frozen, filterable header and, when the table
asks for one, a native chart.

Speed. A telemetry export holds 100,000 rows. openpyxl's write-only mode streams them, but it still builds a
`Cell` and runs its type inference and style lookup for every value: about 25 µs a cell, ten seconds for such an
export. So openpyxl writes the package, styles, views, filters and charts, and the table rows are written here
into the same stream as ready XML elements (`_stream_rows`), with the value's XML chosen by its Python type and
style ids looked up once per column. That takes a quarter of the time. The rows are the plain OOXML
`<row><c r= s= t=><v>` elements that openpyxl itself writes, and the tests read the files back with openpyxl.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.xml.constants import XML_NS
from openpyxl.xml.functions import Element, SubElement

from .documents import Cell, ChartHint, Column, ColumnKind, RenderedFile, ReportDocument, Table, Total

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_SHEET_NAME = 31

NUMBER_FORMATS: dict[ColumnKind, str] = {
    ColumnKind.INTEGER: "#,##0",
    ColumnKind.DECIMAL: "0.00",
    ColumnKind.PERCENT: "0.0%",
    ColumnKind.MINUTES: "0.0",
    ColumnKind.MONEY: "#,##0.00",
    ColumnKind.DATETIME: "yyyy-mm-dd hh:mm",
    ColumnKind.DATE: "yyyy-mm-dd",
}
NUMERIC_KINDS = frozenset(
    {ColumnKind.INTEGER, ColumnKind.DECIMAL, ColumnKind.PERCENT, ColumnKind.MINUTES, ColumnKind.MONEY}
)
# Excel refuses these in sheet names; "History" is reserved by Excel's change tracking.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RESERVED_SHEETS = ("history",)
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_PRESERVE_SPACE = f"{{{XML_NS}}}space"
_GENERAL = ""  # no style attribute: Excel's General format


def render_workbook(document: ReportDocument) -> RenderedFile:
    """Render the document as an .xlsx: a summary sheet, then one sheet per table."""
    zone = ZoneInfo(document.time_zone)
    workbook = Workbook(write_only=True)
    with translation.override(document.language):
        summary = _("Summary")
        _write_summary(workbook.create_sheet(summary), document, zone)
        tables = document.tables
        for table, name in zip(tables, sheet_names([table.sheet for table in tables], reserved=summary), strict=True):
            _write_table(workbook.create_sheet(name), table, zone)
    buffer = BytesIO()
    workbook.save(buffer)
    return RenderedFile(name=f"{document.file_stem}.xlsx", content_type=CONTENT_TYPE, content=buffer.getvalue())


def sheet_names(wanted: Sequence[str], *, reserved: str) -> list[str]:
    """Names Excel accepts: no []:*?/\\, at most 31 characters, unique regardless of case, "(2)" for repeats."""
    used = {reserved.casefold(), *_RESERVED_SHEETS}
    names = []
    for raw in wanted:
        base = _SHEET_FORBIDDEN.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", raw)).strip().strip("'").strip()
        base = (base or "Sheet")[:MAX_SHEET_NAME].rstrip()
        name, number = base, 2
        while name.casefold() in used:
            suffix = f" ({number})"
            name = base[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
            number += 1
        used.add(name.casefold())
        names.append(name)
    return names


def _write_summary(sheet: WriteOnlyWorksheet, document: ReportDocument, zone: ZoneInfo) -> None:
    """A few dozen cells at most: written through openpyxl's own cells."""
    for letter, width in (("A", 30), ("B", 24), ("C", 40)):
        sheet.column_dimensions[letter].width = width
    generated = WriteOnlyCell(sheet, value=_local(document.generated_at, zone))
    generated.number_format = NUMBER_FORMATS[ColumnKind.DATETIME]
    sheet.append([_text_cell(sheet, document.title, _TITLE)])
    sheet.append([_text_cell(sheet, _("Plant")), _text_cell(sheet, document.plant)])
    sheet.append([_text_cell(sheet, _("Period")), _text_cell(sheet, document.period_label)])
    sheet.append([_text_cell(sheet, _("Generated")), generated, _text_cell(sheet, document.time_zone)])
    if document.parameters:
        sheet.append([])
        sheet.append([_text_cell(sheet, _("Parameters"), _BOLD)])
        for label, value in document.parameters:
            sheet.append([_text_cell(sheet, label), _text_cell(sheet, value)])
    for section in document.sections:
        if not section.figures:
            continue
        sheet.append([])
        sheet.append([_text_cell(sheet, section.title, _BOLD)])
        for figure in section.figures:
            sheet.append(
                [_text_cell(sheet, figure.label), _text_cell(sheet, figure.value), _text_cell(sheet, figure.detail)]
            )


def _text_cell(sheet: WriteOnlyWorksheet, value: str, font: Font | None = None) -> Any:
    """Text stays text: characters Excel rejects are dropped, and a leading "=" makes no formula."""
    cell = WriteOnlyCell(sheet, value=_clean(value))
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


class _Styles:
    """Style ids of one workbook, registered once through openpyxl and reused for every cell."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self._sheet = sheet
        self._ids: dict[tuple[str, bool], str] = {}

    def get(self, number_format: str, *, bold: bool = False) -> str:
        key = (number_format, bold)
        if key not in self._ids:
            cell = WriteOnlyCell(self._sheet)
            if number_format:
                cell.number_format = number_format
            if bold:
                cell.font = _BOLD
            self._ids[key] = str(cell.style_id) if cell.has_style else _GENERAL
        return self._ids[key]


def _write_table(sheet: WriteOnlyWorksheet, table: Table, zone: ZoneInfo) -> None:
    columns = list(table.columns)
    letters = [get_column_letter(index) for index in range(1, len(columns) + 1)]
    for letter, column in zip(letters, columns, strict=True):
        sheet.column_dimensions[letter].width = column.width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{letters[-1]}{len(table.rows) + 1}"
    if table.chart is not None and table.rows:
        _add_chart(sheet, table, table.chart)
    _stream_rows(sheet, _table_rows(table, letters, _Styles(sheet), zone))


def _table_rows(table: Table, letters: list[str], styles: _Styles, zone: ZoneInfo) -> Iterator[Any]:
    """The header, the data and the totals row as XML `<row>` elements."""
    columns = list(table.columns)
    header = Element("row", {"r": "1"})
    bold = styles.get("", bold=True)
    for letter, column in zip(letters, columns, strict=True):
        _append_text(header, f"{letter}1", column.label, bold)
    yield header

    plan = [
        (column.key, letter, styles.get(NUMBER_FORMATS[column.kind]) if column.kind in NUMERIC_KINDS else _GENERAL)
        for column, letter in zip(columns, letters, strict=True)
    ]
    moments = (styles.get(NUMBER_FORMATS[ColumnKind.DATETIME]), styles.get(NUMBER_FORMATS[ColumnKind.DATE]))
    for number, values in enumerate(table.rows, start=2):
        row = Element("row", {"r": str(number)})
        for key, letter, style in plan:
            value = values.get(key)
            if value is not None:
                _append_value(row, f"{letter}{number}", value, style, moments, zone)
        yield row

    if table.has_totals and table.rows:
        last = len(table.rows) + 1
        row = Element("row", {"r": str(last + 1)})
        for letter, column in zip(letters, columns, strict=True):
            reference = f"{letter}{last + 1}"
            if column.total is Total.LABEL:
                _append_text(row, reference, _("Total"), bold)
            elif formula := _total_formula(table, column, letter, last):
                cell = SubElement(row, "c", {"r": reference, "s": styles.get(NUMBER_FORMATS[column.kind], bold=True)})
                SubElement(cell, "f").text = formula
        yield row


def _total_formula(table: Table, column: Column, letter: str, last: int) -> str:
    """SUM or AVERAGE over the data; none where the column has no number (AVERAGE would be #DIV/0!, and a SUM
    of nothing a 0 that was never measured), as the PDF then prints "—"."""
    if column.total not in (Total.SUM, Total.AVERAGE) or column.kind not in NUMERIC_KINDS:
        return ""
    if not any(_is_number(row.get(column.key)) for row in table.rows):
        return ""
    function = "SUM" if column.total is Total.SUM else "AVERAGE"
    return f"{function}({letter}2:{letter}{last})"


def _append_value(row: Any, reference: str, value: Cell, style: str, moments: tuple[str, str], zone: ZoneInfo) -> None:
    """One typed cell: numbers keep the column's format, dates and times their own (`moments`: the datetime and
    the date style), anything else is text."""
    if isinstance(value, str | bool):
        _append_text(row, reference, str(value), _GENERAL)
        return
    if isinstance(value, datetime):
        number = repr(to_excel(_local(value, zone)))
        style = moments[0]
    elif isinstance(value, date):
        number = str(to_excel(value))
        style = moments[1]
    else:
        number = format(value, "f") if isinstance(value, Decimal) else str(value)
    attributes = {"r": reference, "s": style} if style else {"r": reference}
    SubElement(SubElement(row, "c", attributes), "v").text = number


def _append_text(row: Any, reference: str, value: str, style: str) -> None:
    attributes = {"r": reference, "t": "inlineStr", "s": style} if style else {"r": reference, "t": "inlineStr"}
    text = _clean(value)
    element = SubElement(SubElement(SubElement(row, "c", attributes), "is"), "t")
    element.text = text
    if text != text.strip():
        element.set(_PRESERVE_SPACE, "preserve")


def _stream_rows(sheet: WriteOnlyWorksheet, rows: Iterator[Any]) -> None:
    """Write `<sheetData>` of a fresh write-only sheet from ready `<row>` elements.

    This is what `WriteOnlyWorksheet.append` does, minus its per-cell objects, through the same stream of the
    sheet's writer (openpyxl 3.1): the sheet's head (views, frozen pane, column widths) is written when the
    writer is created, and `close()` still writes the tail (auto filter, chart drawing) after the rows.
    """
    sheet._get_writer()
    stream = sheet._writer.xf.send(True)
    with stream.element("sheetData"):
        for row in rows:
            stream.write(row)
    sheet._writer.xf.send(None)
    # The rows are written: close() must find a row generator to close, not start a <sheetData> of its own.
    sheet._rows = _rows_written()


def _rows_written() -> Generator[None, None, None]:
    yield from ()


def _add_chart(sheet: WriteOnlyWorksheet, table: Table, hint: ChartHint) -> None:
    """A native chart of `hint.values` against `hint.category`, to the right of the data."""
    positions = {column.key: index for index, column in enumerate(table.columns, start=1)}
    kinds = {column.key: column.kind for column in table.columns}
    missing = [key for key in (hint.category, *hint.values) if key not in positions]
    if missing:
        raise ValueError(f"chart of table {table.title!r} names unknown columns: {', '.join(missing)}")
    factories: dict[str, Callable[[], BarChart | LineChart]] = {"bar": BarChart, "line": LineChart}
    if hint.kind not in factories:
        raise ValueError(f"chart of table {table.title!r}: kind must be 'bar' or 'line', not {hint.kind!r}")
    chart = factories[hint.kind]()
    last_row = len(table.rows) + 1
    chart.title = hint.title or table.title
    chart.width = 20
    chart.height = 10
    for key in hint.values:
        chart.add_data(Reference(sheet, min_col=positions[key], min_row=1, max_row=last_row), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=positions[hint.category], min_row=2, max_row=last_row))
    if len(hint.values) == 1:
        chart.legend = None  # the title names the only series
    if all(kinds[key] is ColumnKind.PERCENT for key in hint.values):
        chart.y_axis.number_format = "0%"
    # openpyxl 3.1 writes axes as deleted unless told otherwise: Excel would draw the chart without scales.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    sheet.add_chart(chart, f"{get_column_letter(len(table.columns) + 2)}2")


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    """Plant-local wall time without a zone: Excel has no time zones."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime in a report: {value.isoformat()}")
    return value.astimezone(zone).replace(tzinfo=None)


def _clean(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _is_number(value: Cell) -> bool:
    """What Excel's SUM and AVERAGE count: numbers, not text, dates or empty cells."""
    return isinstance(value, int | Decimal) and not isinstance(value, bool)
