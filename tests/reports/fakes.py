"""A small report of known numbers, registered in place of the real ones by the run, schedule and delivery tests."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.reports.definitions import ReportDefinition, ReportParameters
from apps.reports.documents import Column, ColumnKind, ReportDocument, Section, Table, Total

MONDAY_NOON = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # Monday 12:00 in Chicago: the week of March 2-8 is done


def parts_report(code: str, name: str = "Parts made") -> ReportDefinition:
    """Parts per machine, 42 + 17 + 3 = 62, in files named `<code>-<first day>`."""

    def build(parameters: ReportParameters) -> ReportDocument:
        table = Table(
            title="Parts per machine",
            sheet="Parts",
            columns=[
                Column("machine", "Machine", total=Total.LABEL),
                Column("parts", "Parts", kind=ColumnKind.INTEGER, total=Total.SUM),
            ],
            rows=[
                {"machine": "LASER-1", "parts": 42},
                {"machine": "BRAKE-1", "parts": 17},
                {"machine": "WELD-1", "parts": 3},
            ],
        )
        return ReportDocument(
            title="Parts made",
            plant="Test plant",
            period_label=f"{parameters.period_start} – {parameters.period_end}",
            generated_at=MONDAY_NOON,
            time_zone="America/Chicago",
            sections=[Section(title="Parts", tables=[table])],
            language=parameters.language,
            file_stem=f"{code}-{parameters.period_start.isoformat()}",
        )

    return ReportDefinition(code=code, name=name, description="Parts per machine", build=build)
