"""OEE dashboards and report schedules in a real browser, as a production manager uses them (issue 7).

The data is the reports tests' hand-computed laser Monday (tests/reports/floor.py): 16 November 2026, shift
"1st" 06:00–14:30 Chicago with a 10:00–10:30 break; running 06:00–10:00, 10:30–12:00 and 12:30–14:30, a
30-minute mechanical breakdown at 12:00; 250 good and 10 scrap parts at 1.5 min each. By hand:
planned production 480 min, run time 450 min, ideal time 390 min,
availability 450 / 480 = 93.75 % -> "93.8 %", performance 390 / 450 = 86.67 % -> "86.7 %",
quality 250 / 260 = 96.15 % -> "96.2 %", OEE 390 × 250 / (260 × 480) = 78.125 % -> "78.1 %".
Here the plant calendar also has a "2nd" shift (14:30–23:00) in which no machine reported anything, so its
figures are "no data", shown as a dash, never 0 %.

The migrations seed the downtime and scrap reasons the day needs, but a live-server test empties every table when
it ends, so each test seeds them again with the migrations' own functions. (pytest-django's serialized rollback
cannot do it here: with Playwright's event loop running in the test thread, Django hands the test a fresh
connection object for that context, without the contents serialized at set-up.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from importlib import import_module
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyotp
import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from .conftest import authenticator_for, sign_in_with_code

pytestmark = pytest.mark.e2e

MONDAY = "2026-11-16"
# "Send now" on Monday 23 November (08:00 in Chicago): the weekly run covers Monday 16 to Sunday 22 November.
MONDAY_AFTER = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
WEEK = "2026-11-16 – 2026-11-22"
STEM = "oee-summary-2026-11-16-2026-11-22"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rendering the PDF and the workbook and sending the mail happen inside the "Send now" request (eager Celery).
SEND_TIMEOUT_MS = 60_000
# The reference rows the migrations seed (downtime and scrap reasons); each `seed` is idempotent.
SEEDS = (
    "apps.machines.migrations.0003_seed_downtime_reasons",
    "apps.machines.migrations.0004_no_work_reason",
    "apps.shopfloor.migrations.0002_seed_scrap_reasons",
)


@dataclass
class Plant:
    shop: Any  # tests.routings.builders.Shop
    manager: Any
    totp: pyotp.TOTP


@pytest.fixture
def plant(e2e_user: Callable[..., Any], settings: Any, tmp_path: Path) -> Plant:
    """The hand-computed laser Monday, a second shift without data, and a production manager with an
    authenticator (a confirmed TOTP device whose secret the test knows, as the phone app would)."""
    from apps.machines.models import Shift, ShiftCalendar
    from tests.reports.floor import shop_with_laser_day

    for module in SEEDS:
        import_module(module).seed(django_apps, None)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shop = shop_with_laser_day({"operator": e2e_user("olga", "operator")})
    calendar = ShiftCalendar.objects.get(is_plant_default=True)
    Shift.objects.bulk_create(
        Shift(calendar=calendar, name="2nd", weekday=day, start=time(14, 30), end=time(23)) for day in range(5)
    )
    manager = e2e_user("pam", "production_manager", first_name="Pam", last_name="Manager")
    return Plant(shop=shop, manager=manager, totp=authenticator_for(manager))


def sign_in(page: Page, plant: Plant) -> None:
    sign_in_with_code(page, plant.manager.username, plant.totp)


def expect_gauges(page: Page, *labels: str) -> None:
    """The gauges say these, in order, by their accessible names ("OEE: 78.1 %", "OEE: no data"); with fewer
    labels than gauges, only the first ones are checked. Retried until the page shows them."""
    gauges = page.locator("section.gauges svg.chart-gauge")
    expect(gauges).to_have_count(4)
    for index, label in enumerate(labels):
        expect(gauges.nth(index)).to_have_attribute("aria-label", label)


def row(table: Locator, label: str) -> Locator:
    return table.locator("tbody tr", has=table.page.locator("th", has_text=re.compile(f"^{re.escape(label)}$")))


def table_after(page: Page, heading: str) -> Locator:
    return page.locator(f"h2:text-is('{heading}') + table")


def cells(locator: Locator) -> list[str]:
    return [text.strip() for text in locator.locator("td").all_inner_texts()]


def show(page: Page, **choices: str) -> None:
    """Set the dashboard's filters (date fields filled, selects chosen by their visible label) and press Show."""
    filters = page.locator("form.filters")
    for name, value in choices.items():
        field = filters.locator(f"[name={name}]")
        if name in ("first_day", "last_day"):
            field.fill(value)
        else:
            field.select_option(label=value)
    with page.expect_navigation(wait_until="load"):
        filters.get_by_role("button", name="Show").click()


def test_manager_reads_the_plant_oee_and_filters_it_by_shift_and_department(
    page: Page, plant: Plant, artifacts_dir: Path
) -> None:
    sign_in(page, plant)
    page.locator("nav").get_by_role("link", name="OEE", exact=True).click()
    expect(page.locator("main h1")).to_have_text("Plant OEE")
    show(page, first_day=MONDAY, last_day=MONDAY)
    expect(page.locator("main p.hint").first).to_contain_text(MONDAY)

    # The gauges: the hand-computed figures, each with its big number printed.
    expect_gauges(page, "OEE: 78.1 %", "Availability: 93.8 %", "Performance: 86.7 %", "Quality: 96.2 %")
    expect(page.locator("section.gauges .gauge").first).to_contain_text("78.1 %")
    expect(page.locator("section.gauges svg.chart-gauge path.value")).to_have_count(4)
    expect(page.locator("p.facts-line")).to_contain_text(
        "Planned production 480 min · run time 450 min · 250 good, 10 scrap"
    )

    # The four charts are drawn, with data (no "No data" frame): one trend point (the 1st shift; the 2nd has no
    # data and leaves a gap), one Pareto bar of 30 min, one OEE bar (the laser; the other three have no data).
    charts = page.locator(".chart-grid")
    for kind in ("trend", "pareto", "stacked", "bars"):
        chart = charts.locator(f"svg.chart-{kind}")
        expect(chart).to_have_count(1)
        expect(chart).to_be_visible()
        assert "No data" not in (chart.get_attribute("aria-label") or ""), kind
    expect(charts.locator("svg.chart-trend g.points circle")).to_have_count(1)
    expect(charts.locator("svg.chart-trend g.points circle title")).to_contain_text("78.1 %")
    expect(charts.locator("svg.chart-pareto g.bars rect")).to_have_count(1)
    expect(charts.locator("svg.chart-pareto g.bars rect title")).to_have_text("Breakdown › Mechanical failure: 30 min")
    expect(charts.locator("svg.chart-stacked g.bars rect").first).to_be_attached()
    expect(charts.locator("svg.chart-bars g.bars rect")).to_have_count(1)

    machines = table_after(page, "Machines")
    assert cells(row(machines, "laser-1")) == ["78.1 %", "93.8 %", "86.7 %", "96.2 %", "480", "450", "250", "10"]
    for code in ("brake-1", "punch-1", "weld-1"):
        assert cells(row(machines, code)) == ["no data"], code
    shifts = table_after(page, "Shifts")
    assert cells(row(shifts, "1st"))[0] == "78.1 %"
    assert cells(row(shifts, "2nd")) == ["no data"]
    pareto = page.locator("table", has=page.locator("caption", has_text="By reason"))
    assert cells(pareto.locator("tbody tr")) == ["Breakdown › Mechanical failure", "30", "1", "100.0 %"]
    page.screenshot(path=str(artifacts_dir / "reports-dashboard.png"), full_page=True)

    # The 2nd shift: nobody reported anything, so every figure is a dash, not 0 %.
    show(page, shift="2nd")
    expect_gauges(page, "OEE: no data", "Availability: no data", "Performance: no data", "Quality: no data")
    expect(page.locator("section.gauges .gauge").first).to_contain_text("—")
    expect(page.locator("section.gauges")).not_to_contain_text("0.0 %")
    expect(page.locator("section.gauges svg.chart-gauge path.value")).to_have_count(0)
    assert cells(row(table_after(page, "Machines"), "laser-1")) == ["no data"]
    expect(page.locator(".chart-grid svg.chart-trend")).to_have_attribute("aria-label", "OEE trend: No data")
    page.screenshot(path=str(artifacts_dir / "reports-dashboard-2nd-shift.png"), full_page=True)

    # The 1st shift alone is the whole day here.
    show(page, shift="1st")
    expect_gauges(page, "OEE: 78.1 %")

    # A department: the press brakes reported nothing; the laser bay is the laser.
    show(page, shift="all shifts", department="Press brake 135 t dept")
    expect(page.locator("main h1")).to_have_text("OEE of Press brake 135 t dept")
    expect_gauges(page, "OEE: no data")
    assert [code.strip() for code in table_after(page, "Machines").locator("tbody th").all_inner_texts()] == ["brake-1"]
    show(page, department="Fiber laser 3 kW dept")
    expect(page.locator("main h1")).to_have_text("OEE of Fiber laser 3 kW dept")
    expect_gauges(page, "OEE: 78.1 %")
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_manager_drills_down_from_the_plant_to_the_laser_intervals_and_counts(
    page: Page, plant: Plant, artifacts_dir: Path
) -> None:
    sign_in(page, plant)
    page.goto(f"/reports/?first_day={MONDAY}&last_day={MONDAY}")
    row(table_after(page, "Machines"), "laser-1").get_by_role("link", name="laser-1").click()
    page.wait_for_url(re.compile(rf"/reports/machines/{plant.shop.laser_1.pk}/\?.*first_day={MONDAY}"))
    expect(page.locator("main h1")).to_have_text("OEE of laser-1 Fiber laser 3 kW 1")
    expect_gauges(page, "OEE: 78.1 %")

    made = page.locator("table", has=page.locator("caption", has_text="How the figures are made"))
    expected = {
        "Planned production time": "480.0 min",
        "Run time": "450.0 min",
        "Ideal time of all parts": "390.0 min",
        "Good / total parts": "250 / 260",
        "Availability = run time / planned": "93.8 %",
        "Performance = ideal time / run time": "86.7 %",
        "Quality = good / total": "96.2 %",
        "OEE": "78.1 %",
        "MTBF": "450 min",
        "MTTR": "30 min",
    }
    for label, value in expected.items():
        expect(row(made, label).locator("td")).to_have_text(value)

    # Every stretch of the day behind the figures, in plant time (1440 min in all): outside shifts until 06:00, three
    # runs (240 + 90 + 120 = 450 min run time), the break, the breakdown with its reason, then the 2nd shift in
    # which the laser reported nothing (510 min of no data, out of planned production) and the hour after it.
    intervals = page.locator("h2#intervals ~ table").first
    assert [cells(r) for r in intervals.locator("tbody tr").all()] == [
        ["2026-11-16 00:00:00", "2026-11-16 06:00:00", "360.0", "offline", "Outside shifts", "—"],
        ["2026-11-16 06:00:00", "2026-11-16 10:00:00", "240.0", "running", "Running", "—"],
        ["2026-11-16 10:00:00", "2026-11-16 10:30:00", "30.0", "idle", "Break (planned)", "—"],
        ["2026-11-16 10:30:00", "2026-11-16 12:00:00", "90.0", "running", "Running", "—"],
        [
            "2026-11-16 12:00:00",
            "2026-11-16 12:30:00",
            "30.0",
            "alarm",
            "Stop (availability loss)",
            "Breakdown › Mechanical failure",
        ],
        ["2026-11-16 12:30:00", "2026-11-16 14:30:00", "120.0", "running", "Running", "—"],
        ["2026-11-16 14:30:00", "2026-11-16 23:00:00", "510.0", "offline", "No data", "—"],
        ["2026-11-16 23:00:00", "2026-11-17 00:00:00", "60.0", "offline", "Outside shifts", "—"],
    ]
    expect(intervals.locator("tbody tr.cat-breakdown")).to_have_count(1)

    # The counts: the operator's three reports of parts (100 + 60 + 90 good, 4 + 2 + 4 scrap), 1.5 min (90 s)
    # ideal cycle each; the start of the run carries no parts and is not a count.
    counts = page.locator("h2#counts + table")
    assert [cells(r)[:4] for r in counts.locator("tbody tr").all()] == [
        ["2026-11-16 10:00:00", "100", "4", "90.0"],
        ["2026-11-16 12:00:00", "60", "2", "90.0"],
        ["2026-11-16 14:29:00", "90", "4", "90.0"],
    ]
    expect(page.locator("figure.strip svg.chart-state-strip")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "reports-machine-laser-1.png"), full_page=True)
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_manager_schedules_the_weekly_oee_report_sends_it_now_and_downloads_it(
    page: Page, plant: Plant, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch, artifacts_dir: Path
) -> None:
    from apps.reports import services
    from apps.reports.models import ReportSchedule

    # The reports' clock only (the live server runs in this process): sessions and sign-in keep the real one.
    monkeypatch.setattr(services, "timezone", SimpleNamespace(**{**vars(timezone), "now": lambda: MONDAY_AFTER}))
    sign_in(page, plant)
    page.locator("nav").get_by_role("link", name="Report schedules", exact=True).click()
    expect(page.locator("table[data-schedules] tbody")).to_contain_text("No report schedules yet.")

    # A new weekly schedule, to a plain address.
    page.get_by_role("link", name="New schedule").click()
    expect(page.locator("main h1")).to_have_text("New report schedule")
    page.get_by_label("Name:", exact=True).fill("Weekly OEE")
    page.get_by_label("Report:", exact=True).select_option(label="OEE summary")
    page.get_by_label("Frequency:", exact=True).select_option(value="weekly")
    page.get_by_label("Weekday:", exact=True).select_option(label="Monday")
    page.get_by_label("Send at (plant time):", exact=True).fill("06:00")
    page.get_by_label("Recipients (other addresses):", exact=True).fill("plant.manager@example.com")
    page.get_by_label("Language:", exact=True).select_option(value="en")
    for box in ("Attach the PDF:", "Attach the Excel workbook:", "Active:"):
        expect(page.get_by_label(box, exact=True)).to_be_checked()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Schedule “Weekly OEE” saved.")
    schedules = page.locator("table[data-schedules]")
    listed = schedules.locator("tbody tr", has_text="Weekly OEE")
    assert cells(listed)[:7] == [
        "Weekly OEE",
        "OEE summary",
        "Weekly (the previous Monday to Sunday), Monday, 06:00",
        "Whole plant",
        "PDF + Excel",
        "1",
        "Active",
    ]
    assert ReportSchedule.objects.get().recipient_emails.strip() == "plant.manager@example.com"

    # "Send now": rendered and e-mailed in the request, then the archive.
    listed.get_by_role("button", name="Send now").click(timeout=SEND_TIMEOUT_MS)
    page.wait_for_url(re.compile(r"/reports/runs/$"), timeout=SEND_TIMEOUT_MS)
    expect(page.locator(".messages")).to_contain_text("“Weekly OEE” is being prepared and e-mailed")
    runs = page.locator("table[data-runs] tbody tr")
    expect(runs).to_have_count(1)
    assert cells(runs.first)[:4] == ["OEE summary", WEEK, "Succeeded", "Weekly OEE"]
    assert cells(runs.first)[5:] == ["Sent (1)", "PDF · Excel"]

    # Exactly one mail, to the address, with both files.
    assert len(mailoutbox) == 1
    [mail] = mailoutbox
    assert mail.to == ["plant.manager@example.com"]
    assert mail.subject == f"OEE summary — {WEEK}"
    assert [(name, kind) for name, _content, kind in mail.attachments] == [
        (f"{STEM}.pdf", "application/pdf"),
        (f"{STEM}.xlsx", XLSX_TYPE),
    ]

    # The run's page: delivered to the one recipient.
    runs.first.get_by_role("link", name="OEE summary").click()
    expect(page.locator("[data-delivery-status]")).to_have_attribute("data-delivery-status", "sent")
    delivery = page.locator("table[data-deliveries] tbody tr")
    expect(delivery).to_have_count(1)
    assert cells(delivery)[:3] == ["plant.manager@example.com", "Sent", "1"]
    page.screenshot(path=str(artifacts_dir / "reports-run-detail.png"), full_page=True)
    page.get_by_role("link", name="← Report archive").click()

    # Downloads from the archive: attachments with the mail's file names and the right types.
    archive = page.locator("table[data-runs] tbody tr").first
    with page.expect_download() as pdf_download:
        archive.get_by_role("link", name="PDF").click()
    assert pdf_download.value.suggested_filename == f"{STEM}.pdf"
    pdf_bytes = Path(pdf_download.value.path()).read_bytes()
    assert pdf_bytes.startswith(b"%PDF-")
    with page.expect_download() as xlsx_download:
        archive.get_by_role("link", name="Excel").click()
    assert xlsx_download.value.suggested_filename == f"{STEM}.xlsx"
    workbook = load_workbook(BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet = workbook["Machines"]
    header = [cell.value for cell in sheet[1]]
    laser = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "laser-1")
    assert laser[header.index("OEE")] == pytest.approx(0.7813)

    # The headers the browser got (same session cookies, through the context's request client).
    for link, kind, name in (("PDF", "application/pdf", f"{STEM}.pdf"), ("Excel", XLSX_TYPE, f"{STEM}.xlsx")):
        href = archive.get_by_role("link", name=link).get_attribute("href")
        response = page.context.request.get(str(href))
        assert response.status == 200
        assert response.headers["content-type"] == kind
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert len(mailoutbox) == 1  # downloading sends nothing

    # A second "Send now" for the same week sends nothing more and makes no second run.
    page.locator("main").get_by_role("link", name="Report schedules").click()
    with page.expect_navigation(wait_until="load", timeout=SEND_TIMEOUT_MS):
        page.locator("table[data-schedules] tbody tr", has_text="Weekly OEE").get_by_role(
            "button", name="Send now"
        ).click()
    expect(page.locator("table[data-runs] tbody tr")).to_have_count(1)
    assert cells(page.locator("table[data-runs] tbody tr").first)[5] == "Sent (1)"
    assert len(mailoutbox) == 1
    assert page.e2e_problems == []  # type: ignore[attr-defined]
