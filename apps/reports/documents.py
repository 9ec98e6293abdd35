"""A report as plain data, before it is a PDF or a workbook.

Report definitions build a `ReportDocument`; `pdf.render_pdf` and `excel.render_workbook` turn the same
document into files, so the two always carry the same numbers. No Django import: renderers and their
benchmarks run on these dataclasses alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

Cell = str | int | Decimal | datetime | date | None


class ColumnKind(StrEnum):
    """How a column's values are typed in Excel and formatted in the PDF."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"  # two places
    PERCENT = "percent"  # a ratio: 0.853 is shown as 85.3 %
    MINUTES = "minutes"  # Decimal minutes, one place
    MONEY = "money"  # Decimal, two places
    DATETIME = "datetime"  # aware; shown in the document's time zone
    DATE = "date"


class Total(StrEnum):
    """What the totals row holds for a column: an Excel formula in the workbook, the same figure in the PDF."""

    NONE = ""
    SUM = "sum"
    AVERAGE = "average"
    LABEL = "label"  # the word "Total"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = ColumnKind.TEXT
    total: Total = Total.NONE
    width: int = 14  # characters, for the workbook


@dataclass(frozen=True)
class ChartHint:
    """Ask the workbook for a native Excel chart of this table: `category` against each of `values`."""

    kind: str  # "bar" or "line"
    category: str
    values: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True)
class Table:
    """One table: a sheet in the workbook (named `sheet`, at most 31 characters), a table in the PDF.

    `rows` are dicts keyed by column key. A row whose value is None prints empty ("no data"), never 0.
    """

    title: str
    sheet: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Cell]]
    chart: ChartHint | None = None
    note: str = ""

    @property
    def has_totals(self) -> bool:
        return any(column.total is not Total.NONE for column in self.columns)


@dataclass(frozen=True)
class Figure:
    """A key figure shown large on the PDF's summary, e.g. ("OEE", "72.4 %")."""

    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Section:
    """A heading with its key figures, charts (SVG text from `charts`) and tables."""

    title: str
    text: str = ""
    figures: Sequence[Figure] = ()
    charts: Sequence[str] = ()
    tables: Sequence[Table] = ()
    page_break_before: bool = False


@dataclass(frozen=True)
class ReportDocument:
    title: str
    plant: str
    period_label: str
    generated_at: datetime
    time_zone: str
    parameters: Sequence[tuple[str, str]] = ()
    sections: Sequence[Section] = ()
    logo_svg: str = ""
    language: str = "en"
    file_stem: str = "report"  # file names: <file_stem>.pdf, <file_stem>.xlsx

    @property
    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]


@dataclass(frozen=True)
class RenderedFile:
    name: str
    content_type: str
    content: bytes = field(repr=False)
