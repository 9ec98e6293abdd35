"""Reading an uploaded .xlsx or .csv into a header row and data rows, refusing what is not one.

The file's content decides what it is, not its name: a PNG or an old .xls renamed to .xlsx, or a
workbook named .csv, is refused with a message that says what to do instead.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .cells import is_blank

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_ROWS = 50_000
# A workbook is a zip: a small file can unpack to gigabytes. Real sheets of MAX_ROWS rows
# unpack to well under this.
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
EXTENSIONS = (".xlsx", ".csv")

_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and old .doc)
_KNOWN_BINARY = {
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"%PDF": "PDF",
}


NOT_UTF8 = _lazy("The file is not UTF-8 text. In Excel choose “Save as” → “CSV UTF-8 (Comma delimited)”.")


class FileRefused(Exception):
    """The file as a whole cannot be imported (type, size, empty, too many rows)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """The first sheet of a file: headers as written, and rows numbered as Excel shows them."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    decimal_comma: bool = False


def normalize_header(header: Any) -> str:
    """ "Part number", "part-number" and "PART_NUMBER" all name the column part_number."""
    return re.sub(r"[\s\-]+", "_", str(header).strip().lower())


def column_letter(index: int) -> str:
    return get_column_letter(index + 1)


def file_size(file: IO[bytes]) -> int:
    position = file.tell()
    size = file.seek(0, io.SEEK_END)
    file.seek(position)
    return size


def check_file(file: IO[bytes], filename: str) -> str:
    """The format ("xlsx" or "csv") of a file that may be read, or FileRefused saying why not."""
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == ".xls":
        raise FileRefused(
            _("Old Excel 97–2003 workbooks (.xls) cannot be read; save the file as Excel Workbook (.xlsx) or CSV.")
        )
    if extension not in EXTENSIONS:
        raise FileRefused(_("Only Excel workbooks (.xlsx) and CSV files (.csv) can be imported."))
    size = file_size(file)
    if size == 0:
        raise FileRefused(_("The file is empty."))
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            _("The file is %(size).1f MB; the largest file that can be imported is %(max)d MB; split the file.")
            % {"size": size / 1024 / 1024, "max": MAX_FILE_BYTES // 1024 // 1024}
        )
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    if head.startswith(_OLE):
        raise FileRefused(
            _("This is an old Excel 97–2003 workbook (.xls) renamed to %(ext)s; save it as Excel Workbook (.xlsx).")
            % {"ext": extension}
        )
    for magic, name in _KNOWN_BINARY.items():
        if head.startswith(magic):
            raise FileRefused(_("This is a %(kind)s file, not a spreadsheet.") % {"kind": name})
    is_zip = head.startswith(_ZIP)
    if extension == ".xlsx":
        if not is_zip:
            if _looks_like_text(head):
                raise FileRefused(_("This is a text (CSV) file named .xlsx; rename it to .csv."))
            raise FileRefused(_("This file is not an Excel workbook (.xlsx)."))
        return "xlsx"
    if is_zip:
        raise FileRefused(_("This is an Excel workbook or another zip file named .csv; rename it to .xlsx."))
    if _has_control_bytes(head):
        raise FileRefused(_("This file is not a CSV text file."))
    if not _looks_like_text(head):
        raise FileRefused(str(NOT_UTF8))
    return "csv"


def _has_control_bytes(head: bytes) -> bool:
    """Binary files have bytes that text never has (tab, line ends and form feed aside)."""
    return bool(_CONTROL.search(head))


def _looks_like_text(head: bytes) -> bool:
    if _has_control_bytes(head):
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the 8 KB boundary is fine
    except UnicodeDecodeError:
        return False
    return True


def read_table(file: IO[bytes], filename: str, *, max_rows: int = MAX_ROWS) -> Table:
    """The header row and every non-blank data row of the file's first sheet."""
    kind = check_file(file, filename)
    table = _read_xlsx(file, max_rows) if kind == "xlsx" else _read_csv(file, max_rows)
    if not table.headers:
        raise FileRefused(_("The file is empty."))
    if not table.rows:
        raise FileRefused(_("The file has a header row but no rows to import."))
    return table


def _collect(table: Table, numbered: Iterator[tuple[int, list[Any]]], max_rows: int) -> Table:
    for number, cells in numbered:
        if all(is_blank(cell) for cell in cells):
            continue
        if not table.headers:
            table.headers = _trim(cells)
            continue
        if len(table.rows) == max_rows:
            raise FileRefused(
                _("The file has more than %(max)s rows; import at most %(max)s rows at a time.")
                % {"max": f"{max_rows:,}"}
            )
        table.rows.append((number, cells))
    return table


def _trim(cells: list[Any]) -> list[str]:
    """Header cells without the blank ones Excel leaves after the last column."""
    headers = ["" if is_blank(cell) else str(cell).strip() for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _read_xlsx(file: IO[bytes], max_rows: int) -> Table:
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise FileRefused(_("This file is not an Excel workbook (.xlsx): it is damaged or not a workbook.")) from error
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("This zip file is not an Excel workbook (.xlsx)."))
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileRefused(_("The workbook is too large when unpacked; split it into smaller files."))
    file.seek(0)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:
        raise FileRefused(_("The Excel workbook cannot be read: it is damaged or not a workbook.")) from error
    try:
        if not workbook.worksheets:
            raise FileRefused(_("The workbook has no worksheet."))
        sheet = workbook.worksheets[0]
        rows = ((number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1))
        return _collect(Table(headers=[]), rows, max_rows)
    finally:
        workbook.close()


def _read_csv(file: IO[bytes], max_rows: int) -> Table:
    file.seek(0)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        first_line = ""
        for line in text:  # the header: the first line that is not empty
            if line.strip("\r\n"):
                first_line = line
                break
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        table = _collect(Table(headers=[], decimal_comma=delimiter == ";"), enumerate(reader, start=1), max_rows)
    except UnicodeDecodeError as error:
        raise FileRefused(str(NOT_UTF8)) from error
    except csv.Error as error:
        raise FileRefused(_("The CSV file cannot be read: %(reason)s.") % {"reason": error}) from error
    finally:
        text.detach()
    return table
