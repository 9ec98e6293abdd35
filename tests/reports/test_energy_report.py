"""Energy against the database: the selector reads roll-ups for the hours they answer and samples for the others,
in a constant number of queries; the report (PDF and workbook) and the machine page show the hand-computed Monday
of the laser; machines without a power metric say so and never show 0 kWh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.machines.models import WorkCenter
from apps.reports.definitions import ReportParameters
from apps.reports.energy_inputs import energy_inputs, machine_energies, power_metrics, settled_before
from apps.reports.excel import render_workbook
from apps.reports.pdf import render_pdf
from apps.reports.report_energy import ENERGY_REPORT, energy_report
from apps.reports.selectors import Scope
from apps.telemetry.models import HourlyRollup, Sample, SampleBlock
from apps.telemetry.storage import ensure_partitions
from tests.reports.floor import MONDAY, at, interval
from tests.routings.builders import Shop

pytestmark = pytest.mark.django_db

# Monday at the plant is 06:00 UTC on the 16th to 06:00 UTC on the 17th (Chicago, UTC-6).
DAY_START = datetime(2026, 11, 16, 6, tzinfo=UTC)
DAY_END = DAY_START + timedelta(days=1)
LATER = datetime(2026, 11, 18, tzinfo=UTC)


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 16, hour, minute, tzinfo=UTC)


def samples(wc: WorkCenter, start: datetime, values: list[float], *, metric: str = "power_kw") -> None:
    """One reading every 5 minutes from `start` (on PostgreSQL, into day partitions made for them first)."""
    ensure_partitions((start + timedelta(minutes=5 * index)).date() for index in range(len(values)))
    first = Sample.objects.filter(work_center=wc).count()
    Sample.objects.bulk_create(
        Sample(
            work_center=wc,
            stream="meter",
            sequence=first + index,
            timestamp=start + timedelta(minutes=5 * index),
            metric=metric,
            value_number=value,
        )
        for index, value in enumerate(values)
    )


def rollup(wc: WorkCenter, hour: datetime, mean: float, metric: str = "power_kw") -> None:
    HourlyRollup.objects.create(
        work_center=wc, metric=metric, hour=hour, count=12, minimum=mean, maximum=mean, mean=mean, last=mean
    )


@pytest.fixture
def metered(shop: Shop) -> Shop:
    """The laser's Monday (running 06:00-10:00, 10:30-12:00, 12:30-14:30 at the plant; 250 good parts) metered:

    - 00:00-06:00 (06-12 UTC), stopped: roll-ups of 2 kW an hour -> 12 kWh not running. Raw samples of 100 kW in
      those hours are what retention has not dropped yet; the roll-ups answer, so they are not read.
    - 06:00-07:00 (12-13 UTC), running throughout: roll-up of 30 kW -> 30 kWh running.
    - 10:00-11:00 (16-17 UTC), idle then running from 10:30: a roll-up (20 kW) that cannot be split, and samples
      every 5 minutes, 8 kW for the first half hour and 32 kW for the second -> 4 kWh not running, 16 running.
    - No power data for the other 16 hours. Total 62 kWh (46 running, 16 not), 8 of 24 hours covered.

    The punch reported power a week before but nothing on Monday; the brake and the weld cell have no power metric.
    """
    laser = shop.laser_1
    for hour in range(6, 12):
        rollup(laser, utc(hour), 2.0)
    samples(laser, utc(6), [100.0] * 72)
    rollup(laser, utc(12), 30.0)
    rollup(laser, utc(16), 20.0)
    samples(laser, utc(16), [8.0] * 6 + [32.0] * 6)
    samples(shop.punch_1, datetime(2026, 11, 9, 15, tzinfo=UTC), [12.0])
    return shop


def monday_energies(**kwargs: Any) -> dict[str, Any]:
    return {m.code: m for m in machine_energies(Scope(), DAY_START, DAY_END, now=LATER, **kwargs)}


def test_the_laser_monday_by_hand(metered: Shop) -> None:
    figures = monday_energies()
    laser = figures["laser-1"]
    e = laser.energy
    assert laser.power_metric == "power_kw"
    assert (e.kwh, e.running, e.not_running, e.unsplit_kwh) == (
        Decimal("62.000"),
        Decimal("46.000"),
        Decimal("16.000"),
        Decimal("0.000"),
    )
    assert (e.rollup_hours, e.sample_hours, e.covered_seconds, e.window_seconds) == (7, 1, 8 * 3600, 24 * 3600)
    assert (e.good, e.kwh_per_good_part, e.coverage) == (250, Decimal("0.248"), Decimal("0.3333"))
    assert e.not_running_share == Decimal("0.2581")  # 16 / 62
    # No power metric at all, or no power data in the period: unknown energy, never 0 kWh.
    assert [
        (code, figures[code].power_metric, figures[code].energy.kwh) for code in ("brake-1", "punch-1", "weld-1")
    ] == [
        ("brake-1", None, None),
        ("punch-1", "power_kw", None),
        ("weld-1", None, None),
    ]


def test_power_stored_in_a_sample_block_counts_like_rows(metered: Shop) -> None:
    """A fast meter's readings arrive as sample blocks: 10:00-11:00 from one block gives the same Monday."""
    laser = metered.laser_1
    before = monday_energies()["laser-1"].energy
    Sample.objects.filter(work_center=laser, timestamp__gte=utc(16)).delete()
    SampleBlock.objects.create(
        work_center=laser,
        stream="meter-fast",
        first_sequence=0,
        metric="power_kw",
        start=utc(16),
        end=utc(16, 55),
        interval_us=300_000_000,
        count=12,
        data=SampleBlock.pack([8.0] * 6 + [32.0] * 6),
    )
    assert Sample.objects.filter(work_center=laser, timestamp__gte=utc(16)).count() == 0
    assert monday_energies()["laser-1"].energy == before


def test_rollups_answer_their_hours_and_only_the_others_are_read_raw(metered: Shop) -> None:
    inputs = {m.code: m for m in energy_inputs(Scope(), [(DAY_START, DAY_END)], now=LATER, settled=LATER)}
    read = [r.at for r in inputs["laser-1"].readings]
    # 12:00-13:00 UTC and the night come from roll-ups; the first hour read raw is 13:00 (no roll-up), from 12:55.
    assert read and min(read) >= utc(12, 55)
    assert sorted(read) == [utc(16) + timedelta(minutes=5 * i) for i in range(12)]


def test_queries_do_not_grow_with_the_machines(metered: Shop) -> None:
    with CaptureQueriesContext(connection) as few:
        monday_energies()
    for n in range(5):
        twin = WorkCenter.objects.create(
            code=f"laser-{n + 2}",
            name=f"Laser {n + 2}",
            department=metered.laser_1.department,
            work_center_type=metered.laser,
        )
        interval(twin, "running", at(6), at(9))
        rollup(twin, utc(13), 25.0)
        samples(twin, utc(15), [10.0] * 12)
    with CaptureQueriesContext(connection) as many:
        figures = monday_energies()
    assert len(many) == len(few) == 6  # machines, roll-ups, intervals, parts, sample rows, sample blocks
    # A twin runs 12:00-15:00 UTC: its 13:00 roll-up is whole, settled and running throughout (25 kWh); it is
    # stopped over its 15:00 samples (10 kW for an hour).
    twin = figures["laser-6"].energy
    assert (twin.running, twin.not_running) == (Decimal("25.000"), Decimal("10.000"))


def test_a_meter_in_watts_is_read_through_the_setting(metered: Shop, settings: Any) -> None:
    settings.ENERGY_POWER_METRICS = {"power_kw": 1.0, "wattage": 0.001}
    samples(metered.weld_1, utc(14), [5000.0] * 12, metric="wattage")
    weld = monday_energies()["weld-1"]
    assert (weld.power_metric, weld.energy.kwh, weld.energy.not_running) == (
        "wattage",
        Decimal("5.000"),
        Decimal("5.000"),
    )


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ({}, "at least one power metric"),
        ({"power_kw": 0}, "positive number of kW per unit"),
        ({"power_kw": "1"}, "positive number of kW per unit"),
        ({"": 1.0}, "is not a metric name"),
    ],
)
def test_a_wrong_power_metric_setting_is_refused(settings: Any, configured: dict[Any, Any], message: str) -> None:
    settings.ENERGY_POWER_METRICS = configured
    with pytest.raises(ImproperlyConfigured, match=message):
        power_metrics()


def test_settled_hours_lag_the_rollup_task() -> None:
    assert settled_before(LATER) == LATER - timedelta(minutes=30)


def test_the_report_document(metered: Shop) -> None:
    code, name, description, build = ENERGY_REPORT
    assert (code, str(name), build) == ("energy", "Energy", energy_report)
    assert str(description)
    document = build(ReportParameters(MONDAY, MONDAY))
    assert document.file_stem == "energy-2026-11-16-2026-11-16"
    summary = document.sections[0]
    assert [(f.label, f.value, f.detail) for f in summary.figures] == [
        ("Energy", "62.0 kWh", "1 of 4 machines with power data"),
        ("While not running", "16.0 kWh", "25.8 % of the energy split by state"),
        ("kWh per good part", "0.248 kWh", "250 good parts on machines with power data"),
        ("Power data coverage", "33.3 %", ""),
    ]
    assert len(summary.charts) == 2 and all(chart.startswith("<svg") for chart in summary.charts)
    machines, departments = document.sections[1].tables
    rows = {row["machine"]: row for row in machines.rows}
    assert rows["laser-1"] == {
        "machine": "laser-1",
        "name": "Fiber laser 3 kW 1",
        "department": "Fiber laser 3 kW dept",
        "metric": "power_kw",
        "kwh": Decimal("62.000"),
        "running": Decimal("46.000"),
        "not_running": Decimal("16.000"),
        "not_running_share": Decimal("0.2581"),
        "good": 250,
        "per_part": Decimal("0.248"),
        "coverage": Decimal("0.3333"),
    }
    assert (rows["brake-1"]["metric"], rows["brake-1"]["kwh"], rows["brake-1"]["per_part"]) == (
        "no power metric",
        None,
        None,
    )
    assert (rows["punch-1"]["metric"], rows["punch-1"]["kwh"]) == ("power_kw (no data in this period)", None)
    assert "brake-1, weld-1 report no power metric" in machines.note
    assert [(row["department"], row["kwh"], row["good"]) for row in departments.rows] == [
        ("Fiber laser 3 kW dept", Decimal("62.000"), 250),
        ("Press brake 135 t dept", None, None),
        ("Turret punch dept", None, None),
        ("TIG weld dept", None, None),
    ]
    [per_day] = document.sections[2].tables
    assert [(row["machine"], row["day"], row["kwh"]) for row in per_day.rows] == [
        ("laser-1", "2026-11-16", Decimal("62.000"))
    ]


def test_without_power_data_the_report_shows_dashes_not_zeros(metered: Shop) -> None:
    brake_only = energy_report(ReportParameters(MONDAY, MONDAY, department_id=metered.brake_1.department_id))
    assert [(f.label, f.value) for f in brake_only.sections[0].figures] == [
        ("Energy", "—"),
        ("While not running", "—"),
        ("kWh per good part", "—"),
        ("Power data coverage", "—"),
    ]
    assert all("No data" in chart for chart in brake_only.sections[0].charts)
    assert brake_only.sections[2].tables[0].rows == []


def test_the_report_renders_as_pdf_and_workbook(metered: Shop) -> None:
    document = energy_report(ReportParameters(MONDAY, MONDAY, work_center_ids=(metered.laser_1.pk, metered.brake_1.pk)))
    pdf = render_pdf(document)
    assert pdf.name == "energy-2026-11-16-2026-11-16.pdf" and pdf.content.startswith(b"%PDF")
    book = openpyxl.load_workbook(BytesIO(render_workbook(document).content))
    sheet = book["Machines"]
    header = [cell.value for cell in sheet[1]]
    values = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["laser-1"]["kWh"] == pytest.approx(62.0)
    assert values["laser-1"]["kWh per good part"] == pytest.approx(0.248)
    assert values["brake-1"]["kWh"] is None  # empty, not 0
    assert values["brake-1"]["Power metric"] == "no power metric"


def test_the_report_in_spanish_builds(metered: Shop) -> None:
    document = energy_report(ReportParameters(MONDAY, MONDAY, language="es"))
    assert document.language == "es" and document.sections[1].tables[0].rows


def test_the_machine_page_shows_the_energy_panel(metered: Shop, client_for: Callable[[str], Any]) -> None:
    client = client_for("production_manager")
    day = {"first_day": MONDAY.isoformat(), "last_day": MONDAY.isoformat()}
    page = client.get(reverse("reports:machine", args=[metered.laser_1.pk]), day).content.decode()
    assert 'id="energy"' in page
    for text in ("62.0 kWh", "46.0 kWh", "16.0 kWh", "25.8 %", "0.248 kWh", "8.0 of 24.0 h", "33.3 %"):
        assert text in page, text
    assert 'Hours from hourly roll-ups</th><td class="num">7<' in page
    assert 'Hours from raw samples</th><td class="num">1<' in page
    assert "Energy per day (kWh)" in page
    brake = client.get(reverse("reports:machine", args=[metered.brake_1.pk]), day).content.decode()
    assert "No power metric" in brake and "0.0 kWh" not in brake
    punch = client.get(reverse("reports:machine", args=[metered.punch_1.pk]), day).content.decode()
    assert "No power data for this period" in punch
