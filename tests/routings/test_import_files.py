"""What is refused before any row is read: wrong file types, empty files, files too big or too long."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from apps.routings.imports import reader
from apps.routings.imports.reader import MAX_FILE_BYTES, MAX_ROWS
from apps.routings.models import Job

from .fixtures.import_shop import build_shop, csv_bytes, import_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
JOB_HEADER = ["job_number", "customer", "part_number", "revision", "quantity", "due_date", "priority", "sales_order"]


@pytest.fixture
def shop(db: Any) -> dict[str, Any]:
    return build_shop()


def refused(content: bytes, filename: str, kind: str = "jobs") -> str:
    outcome = import_bytes(kind, content, filename)
    assert outcome.problems == [] and outcome.counts == {}
    return outcome.refused


def a_zip_that_is_not_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (PNG, "jobs.xlsx", "This is a PNG file, not a spreadsheet."),
        (PNG, "jobs.csv", "This is a PNG file, not a spreadsheet."),
        (b"%PDF-1.7\n", "jobs.csv", "This is a PDF file, not a spreadsheet."),
        (
            XLS,
            "jobs.xlsx",
            "This is an old Excel 97–2003 workbook (.xls) renamed to .xlsx; save it as Excel Workbook (.xlsx).",
        ),
        (
            XLS,
            "jobs.xls",
            "Old Excel 97–2003 workbooks (.xls) cannot be read; save the file as Excel Workbook (.xlsx) or CSV.",
        ),
        (
            b"job_number,customer\r\nJ-1,HOBART\r\n",
            "jobs.xlsx",
            "This is a text (CSV) file named .xlsx; rename it to .csv.",
        ),
        (
            xlsx_bytes([JOB_HEADER]),
            "jobs.csv",
            "This is an Excel workbook or another zip file named .csv; rename it to .xlsx.",
        ),
        (a_zip_that_is_not_a_workbook(), "jobs.xlsx", "This zip file is not an Excel workbook (.xlsx)."),
        (
            b"PK\x03\x04 truncated",
            "jobs.xlsx",
            "This file is not an Excel workbook (.xlsx): it is damaged or not a workbook.",
        ),
        (bytes(range(1, 40)) * 10 + b"\xff\xfe", "jobs.csv", "This file is not a CSV text file."),
        (b"job_number\r\n", "jobs.txt", "Only Excel workbooks (.xlsx) and CSV files (.csv) can be imported."),
        (b"job_number\r\n", "jobs", "Only Excel workbooks (.xlsx) and CSV files (.csv) can be imported."),
    ],
    ids=[
        "png-as-xlsx",
        "png-as-csv",
        "pdf-as-csv",
        "xls-renamed",
        "xls",
        "csv-as-xlsx",
        "xlsx-as-csv",
        "zip-as-xlsx",
        "broken-zip",
        "binary-as-csv",
        "txt",
        "no-extension",
    ],
)
def test_wrong_file_types_are_refused(shop: dict[str, Any], content: bytes, filename: str, message: str) -> None:
    assert refused(content, filename) == message
    assert Job.objects.count() == 0


def test_a_csv_that_is_not_utf8(shop: dict[str, Any]) -> None:
    content = "job_number,customer\r\nJ-1,Müller\r\n".encode("cp1252")
    assert refused(content, "jobs.csv") == (
        "The file is not UTF-8 text. In Excel choose “Save as” → “CSV UTF-8 (Comma delimited)”."
    )


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "jobs.csv", "The file is empty."),
        (b"", "jobs.xlsx", "The file is empty."),
        (b"\xef\xbb\xbf", "jobs.csv", "The file is empty."),
        (b"\r\n;;;\r\n\r\n", "jobs.csv", "The file is empty."),
        (xlsx_bytes([]), "jobs.xlsx", "The file is empty."),
        (csv_bytes([JOB_HEADER], bom=True), "jobs.csv", "The file has a header row but no rows to import."),
        (xlsx_bytes([JOB_HEADER, [], [None, ""]]), "jobs.xlsx", "The file has a header row but no rows to import."),
    ],
    ids=[
        "empty-csv",
        "empty-xlsx",
        "bom-only",
        "separators-only",
        "blank-workbook",
        "header-only-csv",
        "header-only-xlsx",
    ],
)
def test_empty_files_are_refused(shop: dict[str, Any], content: bytes, filename: str, message: str) -> None:
    assert refused(content, filename) == message


def test_a_20_mb_csv_is_refused_by_the_row_cap_without_reading_it_all(shop: dict[str, Any], tmp_path: Path) -> None:
    """20 MB of jobs is about 400,000 rows: under the 25 MB size cap, over the 50,000-row cap.

    The reader stops at the first row over the cap, so the refusal is quick and nothing is written.
    """
    path = tmp_path / "jobs-20mb.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(JOB_HEADER) + "\r\n")
        n = 0
        while handle.tell() < 20 * 1024 * 1024:
            handle.write(f"J-{n:07},HOBART,DR-100,A,10,2025-04-01,3,SO-{n:07}\r\n")
            n += 1
    assert 20 * 1024 * 1024 <= path.stat().st_size < MAX_FILE_BYTES and n > MAX_ROWS
    started = time.monotonic()
    assert refused(path.read_bytes(), path.name) == (
        "The file has more than 50,000 rows; import at most 50,000 rows at a time."
    )
    assert time.monotonic() - started < 10
    assert Job.objects.count() == 0


def test_a_file_over_the_size_cap_is_refused_before_reading(shop: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "jobs-26mb.csv"
    with path.open("wb") as handle:
        handle.write((",".join(JOB_HEADER) + "\r\n").encode())
        handle.write(b"J-1,HOBART,DR-100,A,10,2025-04-01,3," + b"x" * (26 * 1024 * 1024) + b"\r\n")
    assert refused(path.read_bytes(), path.name) == (
        "The file is 26.0 MB; the largest file that can be imported is 25 MB; split the file."
    )


def test_a_workbook_that_unpacks_to_too_much_is_refused(shop: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", b"a" * (1024 * 1024 + 1))  # a zip bomb in miniature
    assert (
        refused(buffer.getvalue(), "jobs.xlsx")
        == "The workbook is too large when unpacked; split it into smaller files."
    )


def test_the_first_sheet_is_read_and_formulas_give_their_values(shop: dict[str, Any]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "jobs"
    sheet.append(JOB_HEADER)
    sheet.append(["J-1", "HOBART", "DR-100", "A", 4, "2025-04-01", 3, None])
    workbook.create_sheet("notes").append(["anything", "here"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    outcome = import_bytes("jobs", buffer.getvalue(), "jobs.xlsx")
    assert outcome.counts == {"jobs": {"created": 1, "updated": 0, "unchanged": 0}}


def test_semicolon_and_comma_files_with_and_without_bom(shop: dict[str, Any]) -> None:
    rows = [JOB_HEADER, ["J-1", "HOBART", "DR-100", "A", 4, "2025-04-01", 3, "SO; 1"]]
    for n, options in enumerate([{"delimiter": ";", "bom": True}, {"delimiter": ",", "bom": False}]):
        rows[1][0] = f"J-{n}"
        outcome = import_bytes("jobs", csv_bytes(rows, **options), "jobs.csv")
        assert outcome.counts == {"jobs": {"created": 1, "updated": 0, "unchanged": 0}}, outcome.problems
    assert list(Job.objects.order_by("number").values_list("number", "sales_order")) == [
        ("J-0", "SO; 1"),
        ("J-1", "SO; 1"),
    ]
