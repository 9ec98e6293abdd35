"""The PDF and Excel renderers on one sample document: same numbers in both, typed cells, pages that read right."""

from __future__ import annotations

import base64
import dataclasses
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pypdfium2
import pytest
from openpyxl.chart import BarChart

from apps.reports.documents import (
    Cell,
    ChartHint,
    Column,
    ColumnKind,
    Figure,
    ReportDocument,
    Section,
    Table,
    Total,
)
from apps.reports.excel import render_workbook, sheet_names
from apps.reports.pdf import LISTING_MIN_ROWS, column_total, format_cell, listing, pdf_table, render_pdf

MADRID = ZoneInfo("Europe/Madrid")
COLUMNS = (
    Column("machine", "Machine", total=Total.LABEL, width=20),
    Column("parts", "Good parts", ColumnKind.INTEGER, Total.SUM),
    Column("cycle", "Avg cycle", ColumnKind.DECIMAL, Total.AVERAGE),
    Column("oee", "OEE", ColumnKind.PERCENT, Total.AVERAGE),
    Column("downtime", "Downtime min", ColumnKind.MINUTES, Total.SUM),
    Column("cost", "Scrap cost", ColumnKind.MONEY, Total.SUM),
    Column("last_stop", "Last stop", ColumnKind.DATETIME, width=18),
    Column("day", "Day", ColumnKind.DATE, width=12),
)
ROWS: tuple[dict[str, Cell], ...] = (
    {
        "machine": "Laser 1",
        "parts": 120,
        "cycle": Decimal("41.25"),
        "oee": Decimal("0.853"),
        "downtime": Decimal("95.5"),
        "cost": Decimal("1234.5"),
        "last_stop": datetime(2026, 11, 20, 5, 0, tzinfo=UTC),
        "day": date(2026, 11, 20),
    },
    {
        "machine": "Press brake 2",
        "parts": 80,
        "cycle": Decimal("38.10"),
        "oee": Decimal("0.712"),
        "downtime": None,
        "cost": Decimal("250"),
        "last_stop": None,
        "day": date(2026, 11, 21),
    },
    {
        "machine": "Punch <3> & co",
        "parts": None,
        "cycle": None,
        "oee": None,
        "downtime": Decimal("30.25"),
        "cost": Decimal("1000000"),
        "last_stop": datetime(2026, 11, 21, 23, 30, tzinfo=UTC),
        "day": None,
    },
)
MACHINES = Table(
    "OEE per machine", "Machines", COLUMNS, ROWS, chart=ChartHint("bar", "machine", ("oee",), "OEE per machine")
)
EMPTY = Table("Stops", "Stops", COLUMNS, ())
CHART_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" viewBox="0 0 200 40">'
    '<rect x="0" y="0" width="120" height="40" fill="#009E73"/><text x="130" y="25">Chart label</text></svg>'
)


def sample_document(**changes: object) -> ReportDocument:
    document = ReportDocument(
        title="OEE November 2026",
        plant="Plant Nord",
        period_label="2026-11-01 – 2026-11-30",
        generated_at=datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
        time_zone="Europe/Madrid",
        parameters=(("Department", "Lasers"), ("Shifts", "all")),
        sections=(
            Section(
                "Overview",
                text="How the lasers did.",
                figures=(Figure("OEE", "72.4 %", "target 80 %"), Figure("Availability", "88.0 %")),
                charts=(CHART_SVG,),
                tables=(MACHINES,),
            ),
            Section("Details", tables=(EMPTY,), page_break_before=True),
        ),
        file_stem="oee-2026-11",
    )
    return dataclasses.replace(document, **changes)  # type: ignore[arg-type]


def pdf_text(content: bytes, tmp_path: Path, *, page: int | None = None) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def page_count(content: bytes) -> int:
    document = pypdfium2.PdfDocument(content)
    try:
        return len(document)
    finally:
        document.close()


def workbook(document: ReportDocument) -> openpyxl.Workbook:
    return openpyxl.load_workbook(BytesIO(render_workbook(document).content))


# --- PDF ------------------------------------------------------------------------------------------------------


def test_pdf_is_a_named_pdf_with_cover_and_sections_on_their_own_pages(tmp_path: Path) -> None:
    rendered = render_pdf(sample_document())

    assert rendered.name == "oee-2026-11.pdf"
    assert rendered.content_type == "application/pdf"
    assert rendered.content.startswith(b"%PDF")
    assert page_count(rendered.content) == 3
    cover, overview, details = (pdf_text(rendered.content, tmp_path, page=page) for page in (1, 2, 3))
    assert "OEE November 2026" in cover
    assert "Plant Nord" in cover
    assert "2026-11-01 – 2026-11-30" in cover
    assert "Department" in cover and "Lasers" in cover
    assert "Generated 2026-12-01 06:00 (Europe/Madrid)" in cover
    assert "Page 1 of 3" in cover
    assert "Overview" in overview and "Details" not in overview
    assert "Details" in details and "Page 3 of 3" in details


def test_pdf_formats_cells_by_kind_and_prints_totals_like_the_workbook(tmp_path: Path) -> None:
    text = pdf_text(render_pdf(sample_document()).content, tmp_path, page=2)
    lines = [" ".join(line.split()) for line in text.splitlines()]

    assert "Laser 1 120 41.25 85.3 % 95.5 1,234.50 2026-11-20 06:00 2026-11-20" in lines
    assert "Press brake 2 80 38.10 71.2 % — 250.00 — 2026-11-21" in lines
    assert "Punch <3> & co — — — 30.3 1,000,000.00 2026-11-22 00:30 —" in lines
    assert "Total 200 39.68 78.3 % 125.8 1,001,484.50" in lines
    assert "How the lasers did." in text
    assert "72.4 %" in text and "target 80 %" in text
    assert "Chart label" in text  # the inline SVG chart is drawn, its text included
    assert "OEE November 2026" in text  # the footer's left side


def test_pdf_prints_no_data_for_an_empty_table(tmp_path: Path) -> None:
    details = pdf_text(render_pdf(sample_document()).content, tmp_path, page=3)

    assert "Stops" in details
    assert "no data" in details
    assert "Machine" not in details  # no header without rows


def test_pdf_pages_render_as_images(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(render_pdf(sample_document()).content)

    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
        check=True,
    )

    pages = sorted(path.name for path in tmp_path.glob("page-*.png"))
    assert pages == ["page-1.png", "page-2.png"]
    assert all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in pages)


def test_pdf_repeats_the_table_header_on_every_page(tmp_path: Path) -> None:
    rows: list[dict[str, Cell]] = [{**ROWS[0], "machine": f"Machine {index:03d}"} for index in range(150)]
    document = sample_document(sections=(Section("Long", tables=(dataclasses.replace(MACHINES, rows=rows),)),))

    content = render_pdf(document).content

    pages = page_count(content)
    assert pages >= 4
    for page in range(2, pages + 1):
        text = pdf_text(content, tmp_path, page=page)
        assert "Downtime min" in text
        assert f"Page {page} of {pages}" in text
    assert "Machine 149" in pdf_text(content, tmp_path, page=pages)


def test_pdf_prints_long_tables_as_an_aligned_listing_with_header_and_totals(tmp_path: Path) -> None:
    rows: list[dict[str, Cell]] = [{**ROWS[index % 3], "machine": f"M{index:03d}"} for index in range(LISTING_MIN_ROWS)]
    table = dataclasses.replace(MACHINES, rows=rows)

    formatted = pdf_table(table, MADRID)
    assert formatted.listing is not None
    assert formatted.rows == []
    assert formatted.listing.columns[0] == ("Machine", False, 7, 2)
    assert formatted.listing.columns[-1] == ("Day", False, 10, 0)
    first, second = formatted.listing.bands[0].splitlines()[:2]
    assert first == "M000        120  41.25  85.3 %      95.5       1,234.50  2026-11-20 06:00  2026-11-20"
    assert second == "M001         80  38.10  71.2 %         —         250.00  —                 2026-11-21"
    assert len(formatted.listing.bands) == LISTING_MIN_ROWS // 5
    assert formatted.listing.totals == "Total    13,400  39.68  78.3 %    8395.0  66,099,461.50"

    content = render_pdf(sample_document(sections=(Section("Long", tables=(table,)),))).content
    pages = page_count(content)
    assert pages >= 3
    for page in range(2, pages + 1):
        assert "Downtime" in pdf_text(content, tmp_path, page=page)
    last = pdf_text(content, tmp_path, page=pages)
    assert "M199" in last
    assert "13,400" in last


def test_listing_cuts_long_text_and_shrinks_the_font_to_fit_the_page() -> None:
    headers = [("Reason", False), ("Minutes", True)]
    rows = [[("x" * 60, False), ("1.0", True)], [("two\nlines", False), ("12,345.5", True)]]

    result = listing(headers, rows, None)

    assert result.bands == ["x" * 39 + "…" + "       1.0\ntwo lines" + " " * 31 + "  12,345.5"]
    assert result.columns == [("Reason", False, 40, 2), ("Minutes", True, 8, 0)]
    assert result.characters == 50
    assert result.font_points == Decimal("7.5")
    wide = listing([(f"Column {index}", True) for index in range(20)], [[("1234567890", True)] * 20], None)
    assert wide.characters == 238
    assert wide.font_points == Decimal("3.5")  # 510 pt / (238 characters x 0.6021 em)


def test_pdf_shows_the_logo_instead_of_the_plant_name(tmp_path: Path) -> None:
    logo = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="0" y="30">ACME LOGO</text></svg>'

    cover = pdf_text(render_pdf(sample_document(logo_svg=logo)).content, tmp_path, page=1)

    assert "ACME LOGO" in cover
    assert cover.count("Plant Nord") == 1  # the plant line under the title, no longer the large name


def test_pdf_fetches_data_uris_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    image = tmp_path / "secret.png"
    image.write_bytes(base64.b64decode(_PIXEL_PNG))

    def logo(href: str) -> str:
        image = f'<image href="{href}" width="20" height="20"/>'
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">{image}</svg>'

    with caplog.at_level("ERROR", logger="weasyprint"):
        from_file = render_pdf(sample_document(logo_svg=logo(image.as_uri()))).content
        inline = render_pdf(sample_document(logo_svg=logo(f"data:image/png;base64,{_PIXEL_PNG}"))).content

    assert b"/Subtype /Image" not in from_file
    assert b"/Subtype /Image" in inline
    refusals = [record.getMessage() for record in caplog.records if "disallowed protocol" in record.getMessage()]
    assert len(refusals) == 1
    assert image.as_uri() in refusals[0]


def test_format_cell_by_kind() -> None:
    assert format_cell(Decimal("0.8525"), ColumnKind.PERCENT, MADRID) == "85.3 %"
    assert format_cell(1, ColumnKind.PERCENT, MADRID) == "100.0 %"
    assert format_cell(Decimal("12.25"), ColumnKind.MINUTES, MADRID) == "12.3"
    assert format_cell(Decimal("-1234567.005"), ColumnKind.MONEY, MADRID) == "-1,234,567.01"
    assert format_cell(Decimal("2.5"), ColumnKind.DECIMAL, MADRID) == "2.50"
    assert format_cell(12345, ColumnKind.INTEGER, MADRID) == "12,345"
    assert format_cell(datetime(2026, 7, 1, 4, 0, tzinfo=UTC), ColumnKind.DATETIME, MADRID) == "2026-07-01 06:00"
    assert format_cell(date(2026, 7, 1), ColumnKind.DATE, MADRID) == "2026-07-01"
    assert format_cell(None, ColumnKind.INTEGER, MADRID) == "—"
    assert format_cell("n/a", ColumnKind.MONEY, MADRID) == "n/a"
    with pytest.raises(ValueError, match="naive datetime"):
        format_cell(datetime(2026, 7, 1, 4, 0), ColumnKind.DATETIME, MADRID)


def test_column_total_sums_and_averages_the_non_empty_numbers() -> None:
    by_key = {column.key: column for column in COLUMNS}

    assert column_total(MACHINES, by_key["parts"]) == Decimal(200)
    assert column_total(MACHINES, by_key["cycle"]) == Decimal("39.675")
    assert column_total(MACHINES, by_key["oee"]) == Decimal("0.7825")
    assert column_total(MACHINES, by_key["downtime"]) == Decimal("125.75")
    assert column_total(MACHINES, by_key["machine"]) is None
    assert column_total(MACHINES, by_key["last_stop"]) is None
    only_empty = dataclasses.replace(MACHINES, rows=[{"machine": "Idle", "parts": None}])
    assert column_total(only_empty, by_key["parts"]) is None


# --- Excel ----------------------------------------------------------------------------------------------------


def test_workbook_has_a_summary_and_one_sheet_per_table() -> None:
    rendered = render_workbook(sample_document())

    assert rendered.name == "oee-2026-11.xlsx"
    assert rendered.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(BytesIO(rendered.content))
    assert book.sheetnames == ["Summary", "Machines", "Stops"]
    summary = [[cell for cell in row if cell is not None] for row in book["Summary"].iter_rows(values_only=True)]
    assert summary == [
        ["OEE November 2026"],
        ["Plant", "Plant Nord"],
        ["Period", "2026-11-01 – 2026-11-30"],
        ["Generated", datetime(2026, 12, 1, 6, 0), "Europe/Madrid"],
        [],
        ["Parameters"],
        ["Department", "Lasers"],
        ["Shifts", "all"],
        [],
        ["Overview"],
        ["OEE", "72.4 %", "target 80 %"],
        ["Availability", "88.0 %"],
    ]
    assert book["Summary"]["A1"].font.b is True


def test_workbook_table_sheet_has_a_frozen_bold_filtered_header_and_widths() -> None:
    sheet = workbook(sample_document())["Machines"]

    assert [cell.value for cell in sheet[1]] == [column.label for column in COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:H4"
    assert sheet.column_dimensions["A"].width == 20
    assert sheet.column_dimensions["B"].width == 14
    assert sheet.column_dimensions["G"].width == 18


def test_workbook_cells_are_typed_with_number_formats() -> None:
    sheet = workbook(sample_document())["Machines"]

    laser = sheet[2]
    assert [type(cell.value) for cell in laser] == [str, int, float, float, float, float, datetime, datetime]
    assert [cell.value for cell in laser] == [
        "Laser 1",
        120,
        41.25,
        0.853,
        95.5,
        1234.5,
        datetime(2026, 11, 20, 6, 0),  # plant-local, without a zone
        datetime(2026, 11, 20, 0, 0),
    ]
    assert [cell.number_format for cell in laser] == [
        "General",
        "#,##0",
        "0.00",
        "0.0%",
        "0.0",
        "#,##0.00",
        "yyyy-mm-dd hh:mm",
        "yyyy-mm-dd",
    ]
    assert [cell.value for cell in sheet[3]][4] is None
    assert [cell.value for cell in sheet[4]] == [
        "Punch <3> & co",
        None,
        None,
        None,
        30.25,
        1000000,
        datetime(2026, 11, 22, 0, 30),
        None,
    ]


def test_workbook_totals_are_formulas_that_give_the_pdf_totals() -> None:
    sheet = workbook(sample_document())["Machines"]

    totals = [cell.value for cell in sheet[5]]
    assert totals == [
        "Total",
        "=SUM(B2:B4)",
        "=AVERAGE(C2:C4)",
        "=AVERAGE(D2:D4)",
        "=SUM(E2:E4)",
        "=SUM(F2:F4)",
        None,
        None,
    ]
    assert all(cell.font.b for cell in sheet[5][:6])
    assert sheet["D5"].number_format == "0.0%"
    by_key = {column.key: column for column in COLUMNS}
    for letter, key in (("B", "parts"), ("C", "cycle"), ("D", "oee"), ("E", "downtime"), ("F", "cost")):
        function, cells = _formula(sheet[f"{letter}5"].value)
        values = [sheet[f"{letter}{row}"].value for row in cells]
        numbers = [value for value in values if isinstance(value, int | float)]
        figure = sum(numbers) if function == "SUM" else sum(numbers) / len(numbers)
        assert figure == pytest.approx(float(column_total(MACHINES, by_key[key]) or 0))
    assert sheet.max_row == 5


def test_workbook_adds_a_native_chart_of_the_table() -> None:
    sheet = workbook(sample_document())["Machines"]

    assert len(sheet._charts) == 1
    chart = sheet._charts[0]
    assert isinstance(chart, BarChart)
    assert len(chart.series) == 1
    assert chart.series[0].val.numRef.f == "'Machines'!$D$2:$D$4"
    assert chart.series[0].cat.numRef.f == "'Machines'!$A$2:$A$4"


def test_workbook_writes_only_the_header_of_an_empty_table() -> None:
    sheet = workbook(sample_document())["Stops"]

    assert sheet.max_row == 1
    assert [cell.value for cell in sheet[1]] == [column.label for column in COLUMNS]
    assert sheet.auto_filter.ref == "A1:H1"
    assert sheet._charts == []


def test_workbook_keeps_text_as_text() -> None:
    rows: list[dict[str, Cell]] = [{"machine": '=HYPERLINK("http://example.invalid","x")'}, {"machine": "Bell\x07 1"}]
    table = Table("Odd names", "Odd", (Column("machine", "Machine"),), rows)

    sheet = workbook(sample_document(sections=(Section("Odd", tables=(table,)),)))["Odd"]

    assert sheet["A2"].value == '=HYPERLINK("http://example.invalid","x")'
    assert sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "Bell 1"


def test_workbook_refuses_naive_datetimes() -> None:
    rows: list[dict[str, Cell]] = [{"at": datetime(2026, 11, 20, 6, 0)}]
    table = Table("Naive", "Naive", (Column("at", "At", ColumnKind.DATETIME),), rows)

    with pytest.raises(ValueError, match="naive datetime"):
        render_workbook(sample_document(sections=(Section("Naive", tables=(table,)),)))


def test_sheet_names_are_valid_and_unique() -> None:
    wanted = ["Machines", "machines", "a/b:c*d?e[f]g\\h", "x" * 40, "x" * 40, "", "'Quoted'", "History", "Summary"]

    assert sheet_names(wanted, reserved="Summary") == [
        "Machines",
        "machines (2)",
        "a b c d e f g h",
        "x" * 31,
        "x" * 27 + " (2)",
        "Sheet",
        "Quoted",
        "History (2)",
        "Summary (2)",
    ]


def _formula(text: str) -> tuple[str, range]:
    """ "=SUM(C2:C41)" -> ("SUM", rows 2..41)."""
    function, _, reference = text[1:-1].partition("(")
    first, last = reference.split(":")
    return function, range(int(first[1:]), int(last[1:]) + 1)


# A 1x1 PNG, for an image that must and one that must not be fetched.
_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
