"""Measure the PDF and Excel renderers on synthetic documents of production size.

    python manage.py benchmark_reports --machines 40 --days 30 --samples 100000 --repeat 3 --json

prints one JSON object per measurement: the month OEE report as a PDF (target 3 s) and a telemetry export of
`--samples` rows as a workbook (target 8 s). The documents are built in memory with a fixed seed, without the
database, so the figures measure the renderers alone and compare across machines and commits.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pypdfium2
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.reports import charts
from apps.reports.documents import (
    Cell,
    ChartHint,
    Column,
    ColumnKind,
    Figure,
    RenderedFile,
    ReportDocument,
    Section,
    Table,
    Total,
)
from apps.reports.excel import render_workbook
from apps.reports.pdf import render_pdf

PDF_TARGET_SECONDS = 3.0
XLSX_TARGET_SECONDS = 8.0
TIME_ZONE = "Europe/Madrid"
FIRST_DAY = date(2026, 11, 1)
GENERATED_AT = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
SHIFT_MINUTES = 900  # two shifts of 8 h less two 30-minute breaks
DEPARTMENTS = ("Laser", "Punch", "Press brake", "Welding", "Polishing")
REASONS = (
    "Waiting for material",
    "Tool change",
    "Program error",
    "Sheet jam",
    "Nozzle crash",
    "Operator absent",
    "Quality check",
    "Hydraulic fault",
    "Waiting for crane",
    "Cleaning",
    "Network outage",
    "Other",
)
METRICS = ("spindle_load", "feed_rate", "laser_power", "gas_pressure")
_PERCENT = Decimal("0.001")
_CENT = Decimal("0.01")


class Command(BaseCommand):
    help = "Time the PDF and Excel report renderers on synthetic month and telemetry documents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--machines", type=int, default=40, help="Machines in the OEE report (default 40).")
        parser.add_argument("--days", type=int, default=30, help="Days in the OEE report (default 30).")
        parser.add_argument("--samples", type=int, default=100_000, help="Telemetry rows in the workbook.")
        parser.add_argument("--repeat", type=int, default=3, help="Renders per measurement; the median counts.")
        parser.add_argument("--json", action="store_true", help="One JSON object per measurement per line.")

    def handle(self, *args: Any, **options: Any) -> None:
        machines: int = options["machines"]
        days: int = options["days"]
        samples: int = options["samples"]
        repeat: int = options["repeat"]
        if machines < 1 or days < 1 or samples < 0 or repeat < 1:
            raise CommandError("--machines, --days and --repeat must be at least 1, --samples at least 0")

        report = month_oee_document(machines=machines, days=days)
        pdf_seconds, pdf = _median_seconds(lambda: render_pdf(report), repeat=repeat)
        samples_document = telemetry_document(rows=samples)
        xlsx_seconds, _workbook = _median_seconds(lambda: render_workbook(samples_document), repeat=repeat)

        records: list[dict[str, Any]] = [
            {
                "benchmark": "oee_month_pdf",
                "machines": machines,
                "days": days,
                "pages": _page_count(pdf.content),
                "seconds": round(pdf_seconds, 3),
                "target_seconds": PDF_TARGET_SECONDS,
                "ok": pdf_seconds < PDF_TARGET_SECONDS,
            },
            {
                "benchmark": "samples_xlsx",
                "rows": samples,
                "seconds": round(xlsx_seconds, 3),
                "target_seconds": XLSX_TARGET_SECONDS,
                "ok": xlsx_seconds < XLSX_TARGET_SECONDS,
            },
        ]
        for record in records:
            self.stdout.write(json.dumps(record) if options["json"] else _line(record))


def _median_seconds(render: Callable[[], RenderedFile], *, repeat: int) -> tuple[float, RenderedFile]:
    timings = []
    for _run in range(repeat):
        started = time.perf_counter()
        rendered = render()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), rendered


def _page_count(content: bytes) -> int:
    document = pypdfium2.PdfDocument(content)
    try:
        return len(document)
    finally:
        document.close()


def _line(record: dict[str, Any]) -> str:
    if record["benchmark"] == "oee_month_pdf":
        size = f"{record['machines']} machines x {record['days']} days, {record['pages']} pages"
    else:
        size = f"{record['rows']} rows"
    verdict = "ok" if record["ok"] else "TOO SLOW"
    return (
        f"{record['benchmark']:<14} {size:<40} {record['seconds']:>8.3f} s"
        f"  (target {record['target_seconds']:.1f} s)  {verdict}"
    )


def month_oee_document(*, machines: int, days: int) -> ReportDocument:
    """A month OEE report shaped like the real one: summary with charts, per machine, per machine and day, Pareto."""
    rng = random.Random(7)
    names = [f"{DEPARTMENTS[index % len(DEPARTMENTS)]} {index + 1:02d}" for index in range(machines)]
    day_rows: list[dict[str, Cell]] = []
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        for name in names:
            day_rows.append(_machine_day(rng, name, day))
    machine_rows = [_machine_total(name, [row for row in day_rows if row["machine"] == name]) for name in names]
    plant = _machine_total("Plant", day_rows)
    pareto_rows = _pareto_rows(rng)

    daily_oee = [
        (
            str((FIRST_DAY + timedelta(days=offset)).day),
            _machine_total("", day_rows[offset * machines : (offset + 1) * machines])["oee"],
        )
        for offset in range(days)
    ]
    summary = Section(
        title="Summary",
        text="Plant OEE over the month, with the machines and the downtime reasons that cost the most.",
        figures=(
            Figure("OEE", _percent_text(plant["oee"]), "target 80 %"),
            Figure("Availability", _percent_text(plant["availability"])),
            Figure("Performance", _percent_text(plant["performance"])),
            Figure("Quality", _percent_text(plant["quality"])),
            Figure("Downtime", f"{_decimal(plant['downtime']) / 60:,.0f} h"),
        ),
        charts=(
            charts.trend([(day, _ratio(value)) for day, value in daily_oee], title="OEE per day"),
            charts.bars([(str(row["machine"]), _ratio(row["oee"])) for row in machine_rows], title="OEE per machine"),
            charts.pareto(
                [(str(row["reason"]), _ratio(row["minutes"]), _ratio(row["cumulative"])) for row in pareto_rows],
                title="Downtime Pareto",
            ),
        ),
    )
    return ReportDocument(
        title="OEE report",
        plant="Synthetic plant",
        period_label=f"{FIRST_DAY.isoformat()} – {(FIRST_DAY + timedelta(days=days - 1)).isoformat()}",
        generated_at=GENERATED_AT,
        time_zone=TIME_ZONE,
        parameters=(("Department", "All"), ("Machines", str(machines))),
        sections=(
            summary,
            Section(
                title="Machines",
                tables=(
                    Table(
                        "OEE per machine",
                        "Machines",
                        _oee_columns(first=Column("machine", "Machine", total=Total.LABEL, width=18)),
                        machine_rows,
                        chart=ChartHint("bar", "machine", ("oee",), "OEE per machine"),
                    ),
                ),
                page_break_before=True,
            ),
            Section(
                title="Machines by day",
                tables=(
                    Table(
                        "OEE per machine and day",
                        "Machines by day",
                        (Column("day", "Day", ColumnKind.DATE, Total.LABEL, 12), *_oee_columns()),
                        day_rows,
                    ),
                ),
                page_break_before=True,
            ),
            Section(
                title="Downtime",
                tables=(Table("Downtime Pareto", "Pareto", _pareto_columns(), pareto_rows),),
                page_break_before=True,
            ),
        ),
        file_stem="oee-benchmark",
    )


def telemetry_document(*, rows: int) -> ReportDocument:
    """A raw telemetry export: one row per sample, the shape that makes a workbook large."""
    rng = random.Random(11)
    start = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    samples: list[dict[str, Cell]] = [
        {
            "machine": f"{DEPARTMENTS[index % len(DEPARTMENTS)]} {index % 40 + 1:02d}",
            "timestamp": start + timedelta(seconds=index),
            "metric": METRICS[index % len(METRICS)],
            "value": Decimal(rng.randrange(0, 1_000_000)) / 100,
        }
        for index in range(rows)
    ]
    columns = (
        Column("machine", "Machine", width=16),
        Column("timestamp", "Time", ColumnKind.DATETIME, width=18),
        Column("metric", "Metric", width=16),
        Column("value", "Value", ColumnKind.DECIMAL, width=12),
    )
    return ReportDocument(
        title="Telemetry samples",
        plant="Synthetic plant",
        period_label="2026-11-20",
        generated_at=GENERATED_AT,
        time_zone=TIME_ZONE,
        sections=(Section(title="Samples", tables=(Table("Samples", "Samples", columns, samples),)),),
        file_stem="samples-benchmark",
    )


def _oee_columns(*, first: Column | None = None) -> tuple[Column, ...]:
    columns = (
        Column("machine", "Machine", width=16),
        Column("planned", "Planned min", ColumnKind.MINUTES, Total.SUM, 12),
        Column("downtime", "Downtime min", ColumnKind.MINUTES, Total.SUM, 12),
        Column("good", "Good", ColumnKind.INTEGER, Total.SUM, 10),
        Column("scrap", "Scrap", ColumnKind.INTEGER, Total.SUM, 10),
        Column("availability", "Availability", ColumnKind.PERCENT, Total.AVERAGE, 12),
        Column("performance", "Performance", ColumnKind.PERCENT, Total.AVERAGE, 12),
        Column("quality", "Quality", ColumnKind.PERCENT, Total.AVERAGE, 10),
        Column("oee", "OEE", ColumnKind.PERCENT, Total.AVERAGE, 10),
    )
    return columns if first is None else (first, *columns[1:])


def _pareto_columns() -> tuple[Column, ...]:
    return (
        Column("reason", "Reason", total=Total.LABEL, width=24),
        Column("stops", "Stops", ColumnKind.INTEGER, Total.SUM, 10),
        Column("minutes", "Minutes", ColumnKind.MINUTES, Total.SUM, 12),
        Column("share", "Share", ColumnKind.PERCENT, Total.SUM, 10),
        Column("cumulative", "Cumulative", ColumnKind.PERCENT, width=12),
        Column("cost", "Lost margin", ColumnKind.MONEY, Total.SUM, 14),
    )


def _machine_day(rng: random.Random, machine: str, day: date) -> dict[str, Cell]:
    """One machine's day; about one in thirty has no data at all (machine offline), printed as empty cells."""
    if rng.random() < 0.03:
        return {"day": day, "machine": machine, "planned": None, "downtime": None, "good": None, "scrap": None}
    planned = Decimal(SHIFT_MINUTES)
    downtime = Decimal(rng.randrange(0, 2400)) / 10
    good = rng.randrange(200, 900)
    scrap = rng.randrange(0, 25)
    row: dict[str, Cell] = {
        "day": day,
        "machine": machine,
        "planned": planned,
        "downtime": downtime,
        "good": good,
        "scrap": scrap,
    }
    row.update(_ratios(planned, downtime, good, scrap, performance=Decimal(rng.randrange(700, 1020)) / 1000))
    return row


def _machine_total(machine: str, rows: list[dict[str, Cell]]) -> dict[str, Cell]:
    """Sums of minutes and units and ratios of the sums, as the real report combines machines and days."""
    measured = [row for row in rows if row["planned"] is not None]
    total: dict[str, Cell] = {"machine": machine, "planned": None, "downtime": None, "good": None, "scrap": None}
    if not measured:
        return total
    planned = sum((_decimal(row["planned"]) for row in measured), Decimal(0))
    downtime = sum((_decimal(row["downtime"]) for row in measured), Decimal(0))
    good = sum(_decimal(row["good"]) for row in measured)
    scrap = sum(_decimal(row["scrap"]) for row in measured)
    performance = sum((_decimal(row["performance"]) for row in measured), Decimal(0)) / len(measured)
    total.update(planned=planned, downtime=downtime, good=int(good), scrap=int(scrap))
    total.update(_ratios(planned, downtime, int(good), int(scrap), performance=performance))
    return total


def _ratios(planned: Decimal, downtime: Decimal, good: int, scrap: int, *, performance: Decimal) -> dict[str, Cell]:
    availability = (planned - downtime) / planned
    quality = Decimal(good) / (good + scrap) if good + scrap else Decimal(0)
    return {
        "availability": availability.quantize(_PERCENT),
        "performance": performance.quantize(_PERCENT),
        "quality": quality.quantize(_PERCENT),
        "oee": (availability * performance * quality).quantize(_PERCENT),
    }


def _pareto_rows(rng: random.Random) -> list[dict[str, Cell]]:
    minutes = sorted((Decimal(rng.randrange(300, 30000)) / 10 for _reason in REASONS), reverse=True)
    total = sum(minutes, Decimal(0))
    rows: list[dict[str, Cell]] = []
    running = Decimal(0)
    for reason, value in zip(REASONS, minutes, strict=True):
        running += value
        rows.append(
            {
                "reason": reason,
                "stops": rng.randrange(5, 400),
                "minutes": value,
                "share": (value / total).quantize(_PERCENT),
                "cumulative": (running / total).quantize(_PERCENT),
                "cost": (value * Decimal("1.85")).quantize(_CENT),
            }
        )
    return rows


def _decimal(value: Cell) -> Decimal:
    if isinstance(value, int | Decimal):
        return Decimal(value)
    raise TypeError(f"expected a number, got {value!r}")


def _ratio(value: Cell) -> Decimal | None:
    return None if value is None else _decimal(value)


def _percent_text(value: Cell) -> str:
    return "—" if value is None else f"{(_decimal(value) * 100).quantize(Decimal('0.1'))} %"
