"""Cost per part (issue 7): machine, labor and scrap cost of the jobs completed in a period, on hand numbers.

The Monday below (plant time, 2026-11-16), worked out by hand:

J-A, 100 of part P-COST (material 12.35 a part):
- 10 CUT on laser-1 (90.00/h, its department's labor rate 30.00/h, the machine reports its state). Setup
  06:00-06:20, run 06:20-07:00, paused 07:00-07:30, run 07:30-08:30. The laser ran 06:10-06:12 (a test cut during
  setup, counted), 06:20-06:58 and 07:32-08:30 and again 08:30-09:00 for someone else (not counted):
  2 + 38 + 58 = 98 min -> 98/60 x 90.00 = 147.00. Labor: the operator 20 + 40 + 60 = 120 min and a helper
  07:30-08:00, 30 min: 150 min -> 2.5 x 30.00 = 75.00. Good 50 + 50, scrap 2 + 1 = 3 -> 3 x 12.35 = 37.05.
  Total 259.05, per good part 259.05 / 100 = 2.5905 -> 2.59.
- 20 BEND on brake-1 (60.00/h, no state from the brake, no labor rate for its department: plant-wide 24.00/h).
  Run 09:00-10:00 as booked: 60 min -> 60.00. Labor 60 min -> 24.00. Good 98, scrap 2 -> 24.70. Total 108.70,
  per good part 108.70 / 98 = 1.10918 -> 1.11.
- 30 PACK cancelled: not costed, and not the job's last operation.
- The job: machine 207.00, labor 99.00, scrap 61.75, total 367.75; it delivered the 98 good parts of BEND:
  367.75 / 98 = 3.75255 -> 3.75.

J-B, 10 of part P-NOCOST (no material cost): 5 CUT completed with nothing recorded on the floor (not costed), then
10 WELD on weld-1 (no machine rate), run 11:00-11:30, labor 30 min at the plant-wide 24.00 -> 12.00, good 8,
scrap 2 (material unknown: 0). Total 12.00, per good part 1.50.

J-OLD was completed the Friday before and J-OPEN is still in progress: neither is in Monday's report.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.testing import verified_client
from apps.machines.models import WorkCenter
from apps.reports.analytics import CostBreakdown, PhaseWindow, job_cost, machine_run_seconds
from apps.reports.costing import RateKind, RateUsed, job_costs, phase_windows
from apps.reports.definitions import ReportParameters
from apps.reports.documents import Table
from apps.reports.excel import render_workbook
from apps.reports.models import LaborRate
from apps.reports.pdf import render_pdf
from apps.reports.report_cost import COST_REPORT, build_cost_per_part
from apps.routings.choices import JobStatus, OperationStatus
from apps.routings.models import Job, Operation, Part
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import LaborEntry, ProductionEvent, ScrapReason
from tests.reports.floor import MONDAY, at, interval
from tests.routings.builders import Shop, build_shop, make_job, make_part

FRIDAY_BEFORE = date(2026, 11, 13)


# --- pure: windows and machine time --------------------------------------------------------------------------


def test_phase_windows_follow_setup_run_pauses_and_completion() -> None:
    events = [
        (at(6), EventKind.START_SETUP),
        (at(6, 10), EventKind.REPORT),  # counts do not move the machine
        (at(6, 20), EventKind.START_RUN),
        (at(7), EventKind.PAUSE),
        (at(7, 30), EventKind.RESUME),
        (at(7, 40), EventKind.JOIN),
        (at(8, 30), EventKind.COMPLETE),
    ]
    assert phase_windows(events) == [
        PhaseWindow(at(6), at(6, 20), run=False),
        PhaseWindow(at(6, 20), at(7), run=True),
        PhaseWindow(at(7, 30), at(8, 30), run=True),
    ]


def test_phase_windows_resume_the_paused_phase_and_completing_while_paused_adds_nothing() -> None:
    events = [
        (at(6), EventKind.START_SETUP),
        (at(6, 5), EventKind.PAUSE),
        (at(6, 15), EventKind.RESUME),
        (at(6, 30), EventKind.START_RUN),
        (at(7), EventKind.PAUSE),
        (at(9), EventKind.COMPLETE),
    ]
    assert phase_windows(events) == [
        PhaseWindow(at(6), at(6, 5), run=False),
        PhaseWindow(at(6, 15), at(6, 30), run=False),
        PhaseWindow(at(6, 30), at(7), run=True),
    ]


WINDOWS = [PhaseWindow(at(6), at(6, 20), run=False), PhaseWindow(at(6, 20), at(8), run=True)]


def test_machine_time_is_the_machines_running_time_while_the_operation_was_on_it() -> None:
    # Running 06:10-06:15 (in setup: counted) and 06:30-07:30, idle 07:30-08:00, running 08:00-09:00 (after).
    running = [(at(6, 10), at(6, 15)), (at(6, 30), at(7, 30)), (at(8), at(9))]
    reporting = [(at(5), at(9))]
    assert machine_run_seconds(WINDOWS, running=running, reporting=reporting) == (5 + 60) * 60


def test_machine_time_without_telemetry_is_the_booked_run_phase() -> None:
    assert machine_run_seconds(WINDOWS, running=[], reporting=[]) == 100 * 60  # 06:20-08:00; setup is labor


def test_machine_time_mixes_measured_and_booked_where_telemetry_stops() -> None:
    # State known 06:00-07:00 (running 06:20-06:50), nothing after: 30 measured + 07:00-08:00 booked.
    running = [(at(6, 20), at(6, 50))]
    reporting = [(at(6), at(7))]
    assert machine_run_seconds(WINDOWS, running=running, reporting=reporting) == (30 + 60) * 60


def test_job_cost_adds_the_operation_lines_and_spreads_them_over_the_delivered_parts() -> None:
    first = CostBreakdown(Decimal("147.00"), Decimal("75.00"), Decimal("37.05"), Decimal("259.05"), Decimal("2.59"))
    second = CostBreakdown(Decimal("60.00"), Decimal("24.00"), Decimal("24.70"), Decimal("108.70"), Decimal("1.11"))
    assert job_cost([first, second], 98) == CostBreakdown(
        Decimal("207.00"), Decimal("99.00"), Decimal("61.75"), Decimal("367.75"), Decimal("3.75")
    )
    assert job_cost([first], 0).per_good_part is None


# --- the shop's Monday ------------------------------------------------------------------------------------


def _operation(job: Job, sequence: int, code: str, wc: WorkCenter, end: datetime | None, **fields: Any) -> Operation:
    return job.operations.create(
        sequence=sequence,
        operation_code=code,
        work_center_type=wc.work_center_type,
        work_center=wc,
        quantity=job.quantity,
        setup_minutes=Decimal("0"),
        run_minutes_per_unit=Decimal("1"),
        status=fields.pop("status", OperationStatus.COMPLETE),
        actual_start=fields.pop("start", None),
        actual_end=end,
        **fields,
    )


def _events(operation: Operation, operator: Any, *steps: tuple[str, datetime, int, int]) -> None:
    scrap_reason = ScrapReason.objects.get_or_create(code="BURR", defaults={"name": "Burr"})[0]
    assert operation.work_center is not None
    for kind, when, good, scrap in steps:
        ProductionEvent.objects.create(
            operation=operation,
            work_center=operation.work_center,
            kind=kind,
            at=when,
            by=operator,
            quantity_good=good,
            quantity_scrap=scrap,
            scrap_reason=scrap_reason if scrap else None,
        )


def _labor(operation: Operation, operator: Any, phase: str, start: datetime, end: datetime) -> None:
    assert operation.work_center is not None
    LaborEntry.objects.create(
        operator=operator,
        operation=operation,
        work_center=operation.work_center,
        phase=phase,
        started_at=start,
        ended_at=end,
    )


def monday(shop: Shop, personas: dict[str, Any]) -> None:
    operator, helper = personas["operator"], personas["supervisor"]
    WorkCenter.objects.filter(pk=shop.laser_1.pk).update(hourly_rate=Decimal("90.00"))
    WorkCenter.objects.filter(pk=shop.brake_1.pk).update(hourly_rate=Decimal("60.00"))
    LaborRate.objects.create(department=shop.laser_1.department, hourly_rate=Decimal("30.00"))
    LaborRate.objects.create(department=None, hourly_rate=Decimal("24.00"))

    part = make_part("P-COST", material_cost=Decimal("12.35"))
    job_a = make_job(shop, part, quantity=100, number="J-A", status=JobStatus.COMPLETE)
    cut = _operation(job_a, 10, "CUT", shop.laser_1, at(8, 30))
    _events(
        cut,
        operator,
        (EventKind.START_SETUP, at(6), 0, 0),
        (EventKind.START_RUN, at(6, 20), 0, 0),
        (EventKind.REPORT, at(7), 50, 2),
        (EventKind.PAUSE, at(7), 0, 0),
        (EventKind.RESUME, at(7, 30), 0, 0),
        (EventKind.JOIN, at(7, 30), 0, 0),
        (EventKind.REPORT, at(8, 30), 50, 1),
        (EventKind.COMPLETE, at(8, 30), 0, 0),
    )
    _labor(cut, operator, "setup", at(6), at(6, 20))
    _labor(cut, operator, "run", at(6, 20), at(7))
    _labor(cut, operator, "run", at(7, 30), at(8, 30))
    _labor(cut, helper, "run", at(7, 30), at(8))
    laser = shop.laser_1
    interval(laser, "setup", at(6), at(6, 10))
    interval(laser, "running", at(6, 10), at(6, 12))
    interval(laser, "setup", at(6, 12), at(6, 20))
    interval(laser, "running", at(6, 20), at(6, 58))
    interval(laser, "idle", at(6, 58), at(7, 32))
    interval(laser, "running", at(7, 32), at(9))

    bend = _operation(job_a, 20, "BEND", shop.brake_1, at(10))
    _events(
        bend,
        operator,
        (EventKind.START_RUN, at(9), 0, 0),
        (EventKind.REPORT, at(10), 98, 2),
        (EventKind.COMPLETE, at(10), 0, 0),
    )
    _labor(bend, operator, "run", at(9), at(10))
    _operation(job_a, 30, "PACK", shop.weld_1, None, status=OperationStatus.CANCELLED)

    job_b = make_job(shop, make_part("P-NOCOST"), quantity=10, number="J-B", status=JobStatus.COMPLETE)
    weld = _operation(job_b, 10, "WELD", shop.weld_1, at(11, 30))
    _events(
        weld,
        operator,
        (EventKind.START_RUN, at(11), 0, 0),
        (EventKind.REPORT, at(11, 30), 8, 2),
        (EventKind.COMPLETE, at(11, 30), 0, 0),
    )
    _labor(weld, operator, "run", at(11), at(11, 30))
    # Cut before the shop floor app was used: complete, on no machine, nothing recorded.
    job_b.operations.create(
        sequence=5,
        operation_code="CUT",
        work_center_type=shop.laser,
        quantity=10,
        setup_minutes=Decimal("0"),
        run_minutes_per_unit=Decimal("1"),
        status=OperationStatus.COMPLETE,
        actual_end=at(5),
    )

    old = make_job(shop, part, quantity=5, number="J-OLD", status=JobStatus.COMPLETE)
    _events(
        _operation(old, 10, "CUT", shop.laser_1, at(7, day=FRIDAY_BEFORE)),
        operator,
        (EventKind.START_RUN, at(6, day=FRIDAY_BEFORE), 0, 0),
        (EventKind.REPORT, at(7, day=FRIDAY_BEFORE), 5, 0),
    )
    running = make_job(shop, part, quantity=5, number="J-OPEN", status=JobStatus.IN_PROGRESS)
    _operation(running, 10, "CUT", shop.laser_1, at(12))  # done, but the job is not
    _operation(running, 20, "BEND", shop.brake_1, None, status=OperationStatus.IN_PROGRESS)


@pytest.fixture
def costed_shop(personas: dict[str, Any]) -> Shop:
    shop = build_shop()
    monday(shop, personas)
    return shop


def _monday_costs(**scope: Any) -> Any:
    start, end = at(0), at(0, day=MONDAY + timedelta(days=1))
    return job_costs(start=start, end=end, **scope)


def _lines(breakdown: CostBreakdown) -> tuple[str, ...]:
    return tuple(
        str(value)
        for value in (breakdown.machine, breakdown.labor, breakdown.scrap, breakdown.total, breakdown.per_good_part)
    )


@pytest.mark.django_db
def test_job_costs_of_the_monday(costed_shop: Shop) -> None:
    sheet = _monday_costs()

    assert [job.number for job in sheet.jobs] == ["J-A", "J-B"]
    job_a, job_b = sheet.jobs
    assert [(op.label, op.machine, op.run_seconds, op.labor_seconds, op.good, op.scrap) for op in job_a.operations] == [
        ("J-A/10 CUT", "laser-1", 98 * 60, 150 * 60, 100, 3),
        ("J-A/20 BEND", "brake-1", 60 * 60, 60 * 60, 98, 2),
    ]
    assert [_lines(op.cost) for op in job_a.operations] == [
        ("147.00", "75.00", "37.05", "259.05", "2.59"),
        ("60.00", "24.00", "24.70", "108.70", "1.11"),
    ]
    assert (job_a.part, job_a.customer, job_a.quantity, job_a.good, job_a.scrap) == (
        "P-COST rev A",
        "Hobart Kitchens",
        100,
        98,
        5,
    )
    assert job_a.finished_at == at(10)
    assert _lines(job_a.cost) == ("207.00", "99.00", "61.75", "367.75", "3.75")
    assert (job_b.good, job_b.run_seconds, job_b.labor_seconds, job_b.unrecorded) == (8, 30 * 60, 30 * 60, 1)
    assert [(op.label, op.recorded) for op in job_b.operations] == [("J-B/5 CUT", False), ("J-B/10 WELD", True)]
    assert _lines(job_b.cost) == ("0.00", "12.00", "0.00", "12.00", "1.50")

    assert sheet.rates == (
        RateUsed(RateKind.MACHINE, "brake-1", Decimal("60.00")),
        RateUsed(RateKind.MACHINE, "laser-1", Decimal("90.00")),
        RateUsed(RateKind.MACHINE, "weld-1", None),
        RateUsed(RateKind.LABOR, "Fiber laser 3 kW dept", Decimal("30.00")),
        RateUsed(RateKind.LABOR, "Press brake 135 t dept", Decimal("24.00"), plant_wide=True),
        RateUsed(RateKind.LABOR, "TIG weld dept", Decimal("24.00"), plant_wide=True),
        RateUsed(RateKind.MATERIAL, "P-COST rev A", Decimal("12.3500")),
        RateUsed(RateKind.MATERIAL, "P-NOCOST rev A", None),
    )
    assert [(rate.kind, rate.subject) for rate in sheet.missing] == [
        (RateKind.MACHINE, "weld-1"),
        (RateKind.MATERIAL, "P-NOCOST rev A"),
    ]


@pytest.mark.django_db
def test_a_department_costs_only_its_operations_but_per_part_counts_what_the_job_delivered(costed_shop: Shop) -> None:
    sheet = _monday_costs(department_id=costed_shop.laser_1.department_id)

    [job_a] = sheet.jobs
    assert [op.label for op in job_a.operations] == ["J-A/10 CUT"]
    # 259.05 over the 98 parts J-A delivered = 2.6434 -> 2.64
    assert _lines(job_a.cost) == ("147.00", "75.00", "37.05", "259.05", "2.64")
    assert [job.number for job in _monday_costs(work_center_ids=[costed_shop.weld_1.pk]).jobs] == ["J-B"]


@pytest.mark.django_db
def test_job_costs_take_six_queries_whatever_the_number_of_jobs(
    costed_shop: Shop, personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(6):
        _monday_costs()
    for copy in range(5):
        job = make_job(costed_shop, make_part(), quantity=3, number=f"J-MORE-{copy}", status=JobStatus.COMPLETE)
        op = _operation(job, 10, "CUT", costed_shop.laser_1, at(13))
        _events(op, personas["operator"], (EventKind.START_RUN, at(12), 0, 0), (EventKind.REPORT, at(13), 3, 0))
        _labor(op, personas["operator"], "run", at(12), at(13))
    with CaptureQueriesContext(connection) as queries:
        assert len(_monday_costs().jobs) == 7
    assert len(queries) == 6


@pytest.mark.django_db
def test_a_period_without_completed_jobs_reads_once_and_costs_nothing(costed_shop: Shop) -> None:
    with CaptureQueriesContext(connection) as queries:
        sheet = job_costs(start=at(0, day=date(2026, 11, 18)), end=at(0, day=date(2026, 11, 19)))
    assert (sheet.jobs, sheet.rates, len(queries)) == ((), (), 1)


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="The period ends before it starts"):
        job_costs(start=at(10), end=at(9))


# --- the report --------------------------------------------------------------------------------------------


def _table(document: Any, sheet: str) -> Table:
    return next(table for table in document.tables if table.sheet == sheet)


@pytest.mark.django_db
def test_cost_report_lists_jobs_operations_and_rates_with_totals(costed_shop: Shop) -> None:
    code, name, _description, build = COST_REPORT
    assert (code, str(name), build) == ("cost-per-part", "Cost per part", build_cost_per_part)
    document = build(ReportParameters(period_start=MONDAY, period_end=MONDAY))

    assert document.title == "Cost per part"
    assert document.file_stem == "cost-per-part-2026-11-16-2026-11-16"
    [section] = document.sections
    assert [(figure.label, figure.value) for figure in section.figures] == [
        ("Jobs completed", "2"),
        ("Good parts", "106"),
        ("Total cost", "379.75"),
        ("Machine", "207.00"),
        ("Labor", "111.00"),
        ("Scrap material", "61.75"),
    ]
    assert "Not set, counted as 0: machine rate of weld-1; material cost of P-NOCOST rev A." in section.text
    jobs = _table(document, "Jobs")
    assert [
        (row["job"], row["part"], row["finished"], row["good"], row["scrap"], row["total"], row["per_part"])
        for row in jobs.rows
    ] == [
        ("J-A", "P-COST rev A", at(10), 98, 5, Decimal("367.75"), Decimal("3.75")),
        ("J-B", "P-NOCOST rev A", at(11, 30), 8, 2, Decimal("12.00"), Decimal("1.50")),
    ]
    assert [row["unrecorded"] for row in jobs.rows] == [None, 1]
    operations = _table(document, "Operations")
    assert [
        (row["operation"], row["machine_code"], row["good"], row["machine_minutes"], row["labor_minutes"], row["total"])
        for row in operations.rows
    ] == [
        ("J-A/10 CUT", "laser-1", 100, Decimal("98.00"), Decimal("150.00"), Decimal("259.05")),
        ("J-A/20 BEND", "brake-1", 98, Decimal("60.00"), Decimal("60.00"), Decimal("108.70")),
        ("J-B/5 CUT", "", None, None, None, None),  # nothing recorded: empty, not 0
        ("J-B/10 WELD", "weld-1", 8, Decimal("30.00"), Decimal("30.00"), Decimal("12.00")),
    ]
    rates = _table(document, "Rates")
    assert [(row["kind"], row["subject"], row["rate"], row["note"]) for row in rates.rows] == [
        ("Machine, per hour", "brake-1", "60.00", ""),
        ("Machine, per hour", "laser-1", "90.00", ""),
        ("Machine, per hour", "weld-1", None, "not set: counted as 0"),
        ("Labor, per hour", "Fiber laser 3 kW dept", "30.00", ""),
        ("Labor, per hour", "Press brake 135 t dept", "24.00", "plant-wide rate"),
        ("Labor, per hour", "TIG weld dept", "24.00", "plant-wide rate"),
        ("Material, per part", "P-COST rev A", "12.3500", ""),
        ("Material, per part", "P-NOCOST rev A", None, "not set: counted as 0"),
    ]

    workbook = openpyxl.load_workbook(BytesIO(render_workbook(document).content))
    sheet = workbook["Jobs"]
    header = [cell.value for cell in sheet[1]]
    assert header == [
        "Job",
        "Part",
        "Completed",
        "Good",
        "Scrap",
        "Machine",
        "Labor",
        "Scrap material",
        "Total",
        "Per good part",
        "Not recorded",
    ]
    assert [cell.value for cell in sheet[4]] == [
        "Total",
        None,
        None,
        "=SUM(D2:D3)",
        "=SUM(E2:E3)",
        "=SUM(F2:F3)",
        "=SUM(G2:G3)",
        "=SUM(H2:H3)",
        "=SUM(I2:I3)",
        None,  # a sum of costs per part would mean nothing
        None,
    ]
    assert [sheet.cell(row=row, column=9).value for row in (2, 3)] == [367.75, 12]
    operations_sheet = workbook["Operations"]
    assert [operations_sheet[f"{column}6"].value for column in "AGHIJK"] == [
        "Total",
        "=SUM(G2:G5)",
        "=SUM(H2:H5)",
        "=SUM(I2:I5)",
        "=SUM(J2:J5)",
        None,
    ]
    assert operations_sheet["J4"].value is None  # the unrecorded operation: no 0 to add up
    assert render_pdf(document).content.startswith(b"%PDF")


@pytest.mark.django_db
def test_cost_report_of_an_empty_period(costed_shop: Shop) -> None:
    document = build_cost_per_part(ReportParameters(period_start=date(2026, 11, 18), period_end=date(2026, 11, 18)))
    [section] = document.sections
    assert [figure.value for figure in section.figures] == ["0", "0", "0.00", "0.00", "0.00", "0.00"]
    assert all(not table.rows for table in document.tables)
    assert "Not set" not in section.text
    assert render_workbook(document).content


# --- where the rates live ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_labor_rate_per_department_and_one_plant_wide(costed_shop: Shop) -> None:
    department = costed_shop.laser_1.department
    with pytest.raises(ValidationError) as plant:
        LaborRate(department=None, hourly_rate=Decimal("20")).full_clean()
    assert plant.value.messages == ["The plant already has a plant-wide labor rate."]
    with pytest.raises(ValidationError) as same:
        LaborRate(department=department, hourly_rate=Decimal("20")).full_clean()
    assert same.value.messages == ["This department already has a labor rate."]
    with pytest.raises(ValidationError) as negative:
        LaborRate(department=costed_shop.punch_1.department, hourly_rate=Decimal("-1")).full_clean()
    assert "hourly_rate" in negative.value.message_dict
    for wrong in (
        LaborRate(department=None, hourly_rate=Decimal("20")),
        LaborRate(department=costed_shop.punch_1.department, hourly_rate=Decimal("-1")),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            wrong.save()
    assert LaborRate.objects.count() == 2


@pytest.mark.django_db
def test_a_part_material_cost_cannot_be_negative() -> None:
    part = Part(number="P-NEG", description="Bracket", material_cost=Decimal("-0.01"))
    with pytest.raises(ValidationError) as error:
        part.full_clean()
    assert list(error.value.message_dict) == ["material_cost"]


@pytest.mark.django_db
def test_rates_are_edited_in_the_admin(costed_shop: Shop, make_user: Any) -> None:
    client = verified_client(make_user("root", is_staff=True, is_superuser=True), Client)
    listing = client.get(reverse("admin:reports_laborrate_changelist"))
    assert listing.status_code == 200
    assert "Fiber laser 3 kW dept: 30.00/h" in listing.content.decode()
    department = costed_shop.punch_1.department
    response = client.post(
        reverse("admin:reports_laborrate_add"), {"department": department.pk, "hourly_rate": "27.50"}
    )
    assert response.status_code == 302
    assert LaborRate.objects.get(department=department).hourly_rate == Decimal("27.50")
    refused = client.post(reverse("admin:reports_laborrate_add"), {"department": "", "hourly_rate": "99"})
    assert "The plant already has a plant-wide labor rate." in refused.content.decode()
    assert LaborRate.objects.count() == 3

    part = Part.objects.get(number="P-COST")
    page = client.get(reverse("admin:routings_part_change", args=[part.pk])).content.decode()
    assert 'name="material_cost"' in page and 'value="12.3500"' in page
