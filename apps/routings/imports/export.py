"""Writing a kind to .xlsx or .csv with exactly the columns the importer reads back.

Excel cells are typed (numbers as numbers, dates as dates, times as times); text is always
written as text, so a description starting with "=" never becomes a formula. CSV files are
UTF-8 with a byte order mark so that Excel shows accents right; a text cell starting with = + - @
gets a leading apostrophe (spreadsheet formula injection), which the importer removes again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .cells import FORMULA_STARTS, format_time
from .kinds import Kind
from .reader import column_letter


def _text_for_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(kind: Kind, rows: Iterable[Sequence[Any]] | None = None) -> Iterator[str]:
    """The CSV file piece by piece (a byte order mark, the header, then one row each), for a
    streaming response or a file; `rows` defaults to every row of the kind."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(kind.headers)
    yield "\ufeff" + _drain(buffer)
    for values in kind.export() if rows is None else rows:
        writer.writerow([_text_for_csv(value) for value in values])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write_xlsx(kind: Kind, target: IO[bytes], rows: Iterable[Sequence[Any]] | None = None) -> int:
    """The kind's rows as a one-sheet workbook with a frozen header row; the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(kind.label)[:31])
    _header(sheet, kind)
    count = 0
    for values in kind.export() if rows is None else rows:
        sheet.append(
            [_xlsx_cell(sheet, column.number_format, value) for column, value in zip(kind.columns, values, strict=True)]
        )
        count += 1
    workbook.save(target)
    return count


def write_template(kind: Kind, target: IO[bytes]) -> None:
    """An empty sheet with the kind's headers, and a second sheet saying what goes in each column."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(kind.label)[:31])
    _header(sheet, kind)
    guide = workbook.create_sheet(title=_("Columns")[:31])
    for letter, width in zip("ABCD", (24, 12, 60, 24), strict=True):
        guide.column_dimensions[letter].width = width
    bold = Font(bold=True)
    guide.append([_bold(guide, str(text), bold) for text in (_("column"), _("required"), _("what"), _("example"))])
    for column in kind.columns:
        guide.append([column.header, _("yes") if column.required else "", str(column.help), column.example])
    guide.append([])
    guide.append([_("Import reads the first sheet only: fill it, keep its header row, delete nothing else.")])
    workbook.save(target)


def _header(sheet: Any, kind: Kind) -> None:
    bold = Font(bold=True)
    for index, column in enumerate(kind.columns):
        sheet.column_dimensions[column_letter(index)].width = max(column.width, len(column.header) + 2)
    sheet.freeze_panes = "A2"
    sheet.append([_bold(sheet, header, bold) for header in kind.headers])


def _bold(sheet: Any, text: str, font: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = font
    return cell


def _xlsx_cell(sheet: Any, number_format: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal | date | time):
        cell = WriteOnlyCell(sheet, value=value)
        if number_format:
            cell.number_format = number_format
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        return cell
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell
