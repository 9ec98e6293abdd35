"""Export → import gives back the same shop: the export writes exactly what the importer reads."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from apps.inventory.models import Material
from apps.machines.models import Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType
from apps.routings.imports.export import csv_lines, write_xlsx
from apps.routings.imports.kinds import KINDS
from apps.routings.models import Customer, Job, Part, RoutingStep
from apps.routings.services import cancel_job, release_job

from .fixtures.import_shop import build_shop, import_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> dict[str, Any]:
    shop = build_shop()
    night = ShiftCalendar.objects.create(name="Lasers; nights")
    for weekday in range(5):
        day = Shift.objects.create(calendar=night, name="1st", weekday=weekday, start=time(6), end=time(14, 30))
        ShiftBreak.objects.create(shift=day, start=time(10), end=time(10, 10))
        ShiftBreak.objects.create(shift=day, start=time(12), end=time(12, 30))
        late = Shift.objects.create(calendar=night, name="night", weekday=weekday, start=time(22), end=time(6))
        ShiftBreak.objects.create(shift=late, start=time(2), end=time(2, 30))
    WorkCenter.objects.filter(code="laser-1").update(
        calendar=night,
        efficiency=Decimal("1.25"),
        setup_category="fiber",
        is_bottleneck=True,
        hourly_rate=Decimal("145.50"),
        iot_device_id="dev-7",
        sigmanest_machine_id="L1",
    )
    Material.objects.create(
        code="CRS-11",
        description='11 ga CRS, "HRPO"',
        grade="CRS",
        form="coil",
        thickness_mm=Decimal("3.038"),
        unit="kg",
        is_active=False,
    )
    Customer.objects.create(code="ACME", name="=ACME Fabrication, Inc.", email="buy@acme.example", phone="+1 555")
    hood = Part.objects.create(
        number="HD-200",
        revision="B",
        description="Hood side — left",
        customer=shop["hobart"],
        thickness_mm=Decimal("1.519"),
        grain_direction="length",
    )
    cut_a = RoutingStep.objects.create(
        part=hood,
        sequence=10,
        operation_code="LASER",
        work_center_type=shop["fiber"],
        preferred_work_center=shop["laser_1"],
        setup_minutes=Decimal("12.5"),
        run_minutes_per_unit=Decimal("0.125"),
    )
    cut_b = RoutingStep.objects.create(
        part=hood,
        sequence=20,
        operation_code="LASER",
        description="second blank",
        work_center_type=shop["fiber"],
        setup_minutes=Decimal("0"),
        run_minutes_per_unit=Decimal("0.8"),
    )
    bend = RoutingStep.objects.create(
        part=hood,
        sequence=30,
        operation_code="BEND",
        work_center_type=shop["brake"],
        setup_minutes=Decimal("15"),
        run_minutes_per_unit=Decimal("1.25"),
    )
    bend.predecessors.set([cut_a, cut_b])
    Part.objects.create(number="BRKT-9", revision="A", description="Bracket, bought in", is_active=False)
    for n, (customer, quantity) in enumerate([("HOBART", 25), ("VULCAN", 3), ("ACME", 1), ("HOBART", 40)]):
        Job.objects.create(
            number=f"J-{n}",
            customer=Customer.objects.get(code=customer),
            part=shop["part"],
            quantity=quantity,
            due_date=date(2025, 3, 10 + n),
            priority=1 + n % 4,
            sales_order=f"SO-{n}" if n % 2 else "",
        )
    release_job(actor=None, job_id=Job.objects.get(number="J-1").pk)
    cancel_job(actor=None, job_id=Job.objects.get(number="J-3").pk)
    return shop


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every table the importer writes, by natural keys (ids and timestamps differ between shops)."""
    return {
        "departments": list(Department.objects.order_by("code").values_list("code", "name", "sequence")),
        "types": list(
            WorkCenterType.objects.order_by("code").values_list("code", "name", "department__code", "description")
        ),
        "calendars": list(ShiftCalendar.objects.order_by("name").values_list("name", "is_plant_default")),
        "shifts": list(
            Shift.objects.order_by("calendar__name", "weekday", "start").values_list(
                "calendar__name", "weekday", "name", "start", "end"
            )
        ),
        "breaks": list(
            ShiftBreak.objects.order_by("shift__calendar__name", "shift__weekday", "shift__start", "start").values_list(
                "shift__calendar__name", "shift__weekday", "shift__start", "start", "end"
            )
        ),
        "work_centers": list(
            WorkCenter.objects.order_by("code").values_list(
                "code",
                "name",
                "department__code",
                "work_center_type__code",
                "efficiency",
                "setup_category",
                "is_bottleneck",
                "hourly_rate",
                "calendar__name",
                "iot_device_id",
                "sigmanest_machine_id",
                "is_active",
            )
        ),
        "materials": list(
            Material.objects.order_by("code").values_list(
                "code",
                "description",
                "grade",
                "form",
                "thickness_mm",
                "sheet_width_mm",
                "sheet_length_mm",
                "unit",
                "is_active",
            )
        ),
        "customers": list(Customer.objects.order_by("code").values_list("code", "name", "email", "phone", "is_active")),
        "parts": list(
            Part.objects.order_by("number", "revision").values_list(
                "number",
                "revision",
                "description",
                "material__code",
                "thickness_mm",
                "grain_direction",
                "customer__code",
                "is_active",
            )
        ),
        "steps": list(
            RoutingStep.objects.order_by("part__number", "sequence").values_list(
                "part__number",
                "sequence",
                "operation_code",
                "description",
                "work_center_type__code",
                "preferred_work_center__code",
                "setup_minutes",
                "run_minutes_per_unit",
            )
        ),
        "links": sorted(
            RoutingStep.predecessors.through.objects.values_list(
                "from_routingstep__part__number", "from_routingstep__sequence", "to_routingstep__sequence"
            )
        ),
        "jobs": list(
            Job.objects.order_by("number").values_list(
                "number",
                "customer__code",
                "part__number",
                "part__revision",
                "quantity",
                "due_date",
                "priority",
                "sales_order",
                "status",
            )
        ),
    }


def export(kind: str, fmt: str) -> bytes:
    if fmt == "csv":
        return "".join(csv_lines(KINDS[kind])).encode("utf-8")
    buffer = io.BytesIO()
    write_xlsx(KINDS[kind], buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_reimports_unchanged(shop: dict[str, Any], fmt: str) -> None:
    before = snapshot()
    for kind in KINDS:
        outcome = import_bytes(kind, export(kind, fmt), f"{kind}.{fmt}")
        assert outcome.ok, (kind, outcome.refused, outcome.problems)
        assert all(numbers["created"] == numbers["updated"] == 0 for numbers in outcome.counts.values()), (
            kind,
            outcome.counts,
        )
    assert snapshot() == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_rebuilds_the_shop_in_an_empty_database(shop: dict[str, Any], fmt: str) -> None:
    files = {kind: export(kind, fmt) for kind in KINDS}
    before = snapshot()
    Job.objects.all().delete()
    RoutingStep.objects.all().delete()
    Part.objects.all().delete()
    Customer.objects.all().delete()
    Material.objects.all().delete()
    WorkCenter.objects.all().delete()
    ShiftCalendar.objects.all().delete()
    WorkCenterType.objects.all().delete()
    Department.objects.all().delete()
    for kind, content in files.items():
        outcome = import_bytes(kind, content, f"{kind}.{fmt}")
        assert outcome.ok, (kind, outcome.refused, outcome.problems)
    after = snapshot()
    # Open jobs come back as drafts (a planner releases them again); the cancelled one stays out.
    expected_jobs = [(*job[:-1], "draft") for job in before.pop("jobs") if job[-1] != "cancelled"]
    assert after.pop("jobs") == expected_jobs
    assert after == before


def test_excel_export_is_typed_with_a_frozen_header(shop: dict[str, Any]) -> None:
    workbook = load_workbook(io.BytesIO(export("jobs", "xlsx")))
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == KINDS["jobs"].headers
    row = [cell.value for cell in sheet[2]]
    assert row == ["J-0", "HOBART", "DR-100", "A", 25, datetime(2025, 3, 10), 1, None]
    assert sheet["F2"].number_format == "yyyy-mm-dd"
    assert sheet["E2"].data_type == "n" and sheet.column_dimensions["A"].width >= 12
    customers = load_workbook(io.BytesIO(export("customers", "xlsx"))).worksheets[0]
    assert (customers["B2"].value, customers["B2"].data_type) == ("=ACME Fabrication, Inc.", "s")


def test_csv_export_has_a_bom_and_guards_formulas(shop: dict[str, Any]) -> None:
    text = export("customers", "csv").decode("utf-8")
    assert text.startswith("\ufeffcode,name,email,phone,active\r\n")
    assert "ACME,\"'=ACME Fabrication, Inc.\",buy@acme.example,'+1 555,yes\r\n" in text
