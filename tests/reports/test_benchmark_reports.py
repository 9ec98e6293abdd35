"""`benchmark_reports` on a small synthetic report: the shape of what it prints, never its timings."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.reports.management.commands.benchmark_reports import month_oee_document, telemetry_document

SMALL = ["--machines", "3", "--days", "2", "--samples", "500", "--repeat", "1"]


def run(*arguments: str) -> str:
    out = StringIO()
    call_command("benchmark_reports", *arguments, stdout=out)
    return out.getvalue()


def test_json_prints_one_record_per_measurement() -> None:
    pdf, xlsx = (json.loads(line) for line in run(*SMALL, "--json").splitlines())

    assert set(pdf) == {"benchmark", "machines", "days", "pages", "seconds", "target_seconds", "ok"}
    assert pdf["benchmark"] == "oee_month_pdf"
    assert (pdf["machines"], pdf["days"], pdf["target_seconds"]) == (3, 2, 3.0)
    # The cover, then four sections that each start a page; the charts' heights decide whether there are more.
    assert isinstance(pdf["pages"], int) and pdf["pages"] >= 5
    assert isinstance(pdf["seconds"], float) and pdf["seconds"] > 0
    assert isinstance(pdf["ok"], bool)
    assert set(xlsx) == {"benchmark", "rows", "seconds", "target_seconds", "ok"}
    assert (xlsx["benchmark"], xlsx["rows"], xlsx["target_seconds"]) == ("samples_xlsx", 500, 8.0)
    assert isinstance(xlsx["seconds"], float) and xlsx["seconds"] > 0
    assert isinstance(xlsx["ok"], bool)


def test_plain_output_is_one_readable_line_per_measurement() -> None:
    lines = run(*SMALL).splitlines()

    assert len(lines) == 2
    assert re.match(r"oee_month_pdf  3 machines x 2 days, \d+ pages +\d+\.\d{3} s  \(target 3\.0 s\)", lines[0])
    assert re.match(r"samples_xlsx   500 rows +\d+\.\d{3} s  \(target 8\.0 s\)", lines[1])


@pytest.mark.parametrize("bad", [["--machines", "0"], ["--days", "0"], ["--repeat", "0"], ["--samples", "-1"]])
def test_rejects_sizes_that_measure_nothing(bad: list[str]) -> None:
    with pytest.raises(CommandError):
        run(*SMALL, *bad)


def test_synthetic_month_report_has_the_real_report_shape() -> None:
    document = month_oee_document(machines=4, days=3)

    assert [section.title for section in document.sections] == ["Summary", "Machines", "Machines by day", "Downtime"]
    assert len(document.sections[0].charts) == 3
    assert all(chart.startswith("<svg") for chart in document.sections[0].charts)
    machines, by_day, pareto = document.tables
    assert len(machines.rows) == 4
    assert len(by_day.rows) == 12
    assert len(pareto.rows) == 12
    assert machines.chart is not None
    assert month_oee_document(machines=4, days=3) == document  # a fixed seed: the same document every run


def test_synthetic_telemetry_has_one_row_per_sample() -> None:
    document = telemetry_document(rows=7)

    (table,) = document.tables
    assert [column.key for column in table.columns] == ["machine", "timestamp", "metric", "value"]
    assert len(table.rows) == 7
    assert table.rows[0]["machine"] == "Laser 01"
    assert table.rows[1]["metric"] == "feed_rate"
