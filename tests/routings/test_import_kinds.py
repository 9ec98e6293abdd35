"""Each kind of import: a good file gives exactly the rows it describes; a bad one writes nothing."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest

from apps.inventory.models import Material
from apps.machines.models import Department, Shift, ShiftCalendar, WorkCenter, WorkCenterType
from apps.routings.models import Customer, Job, Part, RoutingStep
from apps.routings.services import release_job

from .fixtures.import_shop import build_shop, import_rows, problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> dict[str, Any]:
    return build_shop()


def routing(part: Part) -> list[tuple[Any, ...]]:
    return [
        (
            step.sequence,
            step.operation_code,
            step.description,
            step.work_center_type.code,
            step.preferred_work_center.code if step.preferred_work_center else None,
            step.setup_minutes,
            step.run_minutes_per_unit,
            sorted(p.sequence for p in step.predecessors.all()),
        )
        for step in part.routing_steps.select_related("work_center_type", "preferred_work_center").order_by("sequence")
    ]


def test_departments_types_and_work_centers(db: Any) -> None:
    ShiftCalendar.objects.create(name="Lasers 3 shifts")
    outcome = import_rows(
        "departments", [["Code", "Name", "Sequence"], ["laser", "Laser", 10], ["forming", "Forming", 20]]
    )
    assert outcome.counts == {"departments": {"created": 2, "updated": 0, "unchanged": 0}}
    outcome = import_rows(
        "work_center_types",
        [["code", "name", "department"], ["fiber-3kw", "Fiber laser 3 kW", "laser"], ["brake", "Brake", "forming"]],
    )
    assert outcome.counts == {"work_center_types": {"created": 2, "updated": 0, "unchanged": 0}}
    header = [
        "code",
        "name",
        "department",
        "work_center_type",
        "efficiency",
        "setup_category",
        "bottleneck",
        "hourly_rate",
        "calendar",
        "iot_device_id",
        "sigmanest_machine_id",
        "active",
    ]
    outcome = import_rows(
        "work_centers",
        [
            header,
            [
                "laser-1",
                "Fiber laser 1",
                "laser",
                "fiber-3kw",
                1.25,
                "fiber",
                "yes",
                145,
                "Lasers 3 shifts",
                "dev-7",
                "L1",
                "yes",
            ],
            ["brake-1", "Brake 1", "forming", "brake", None, None, None, None, None, None, None, "no"],
        ],
    )
    assert outcome.ok and outcome.counts == {"work_centers": {"created": 2, "updated": 0, "unchanged": 0}}
    rows = list(
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
    )
    assert rows == [
        ("brake-1", "Brake 1", "forming", "brake", Decimal("1.00"), "", False, Decimal("0.00"), None, "", "", False),
        (
            "laser-1",
            "Fiber laser 1",
            "laser",
            "fiber-3kw",
            Decimal("1.25"),
            "fiber",
            True,
            Decimal("145.00"),
            "Lasers 3 shifts",
            "dev-7",
            "L1",
            True,
        ),
    ]
    # Only the columns in the file change; the same file again changes nothing.
    outcome = import_rows(
        "work_centers",
        [
            ["code", "name", "department", "work_center_type", "efficiency"],
            ["laser-1", "Fiber laser 1", "laser", "fiber-3kw", "1.5"],
        ],
    )
    assert outcome.counts == {"work_centers": {"created": 0, "updated": 1, "unchanged": 0}}
    laser = WorkCenter.objects.get(code="laser-1")
    assert (laser.efficiency, laser.iot_device_id, laser.calendar.name if laser.calendar else None) == (
        Decimal("1.50"),
        "dev-7",
        "Lasers 3 shifts",
    )
    outcome = import_rows(
        "departments", [["code", "name", "sequence"], ["laser", "Laser", 10], ["forming", "Forming", 20]]
    )
    assert outcome.counts == {"departments": {"created": 0, "updated": 0, "unchanged": 2}}


def test_work_center_problems_name_row_column_and_reason(shop: dict[str, Any]) -> None:
    header = ["code", "name", "department", "work_center_type", "efficiency", "calendar", "iot_device_id"]
    WorkCenter.objects.filter(code="brake-1").update(iot_device_id="dev-1")
    outcome = import_rows(
        "work_centers",
        [
            header,
            ["laser 2", "Laser 2", "lazer", "fiber-3kw", "0.05", "Nights", "dev-1"],
            ["laser-3", "Laser 3", "laser", "fiber-9kw", "fast", None, "dev-3"],
            ["laser-4", "Laser 4", "laser", "fiber-3kw", None, None, "dev-3"],
        ],
    )
    assert problems(outcome) == [
        (2, "code", "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
        (2, "department", "Unknown department “lazer”: import departments first or fix the code."),
        (2, "efficiency", "Must be at least 0.10."),
        (2, "calendar", "Unknown shift calendar “Nights”: import calendars first or fix the name."),
        (2, "iot_device_id", "Work center brake-1 already has this IoT device id."),
        (
            3,
            "work_center_type",
            "Unknown work center type “fiber-9kw”: import work center types first or fix the code.",
        ),
        (3, "efficiency", "Enter a number, with a point for decimals (1.25)."),
        (4, "iot_device_id", "Also on row 3: each may appear once."),
    ]
    assert [p.letter for p in outcome.problems][:3] == ["A", "C", "E"]
    assert WorkCenter.objects.count() == 2


def test_calendars_one_row_per_shift_with_night_shift_and_breaks(shop: dict[str, Any]) -> None:
    header = ["calendar", "weekday", "shift", "start", "end", "breaks", "plant_default"]
    rows = [
        header,
        ["Lasers 3 shifts", "Monday", "1st", "06:00", "14:00", "10:00-10:10;12:00-12:30", "yes"],
        ["Lasers 3 shifts", "monday", "night", time(22, 0), time(6, 0), "02:00-02:30", None],
        ["Lasers 3 shifts", "Saturday", "overtime", "6:00", "12:00", None, None],
        ["Office", "Friday", "day", "08:00", "16:30", "12:00-12:45", "no"],
    ]
    outcome = import_rows("calendars", rows)
    assert outcome.counts == {"calendars": {"created": 2, "updated": 0, "unchanged": 0}}
    shifts = [
        (s.calendar.name, s.weekday, s.name, s.start, s.end, [(b.start, b.end) for b in s.breaks.all()])
        for s in Shift.objects.select_related("calendar")
        .prefetch_related("breaks")
        .order_by("calendar__name", "weekday", "start")
    ]
    assert shifts == [
        ("Lasers 3 shifts", 0, "1st", time(6), time(14), [(time(10), time(10, 10)), (time(12), time(12, 30))]),
        ("Lasers 3 shifts", 0, "night", time(22), time(6), [(time(2), time(2, 30))]),
        ("Lasers 3 shifts", 5, "overtime", time(6), time(12), []),
        ("Office", 4, "day", time(8), time(16, 30), [(time(12), time(12, 45))]),
    ]
    assert list(ShiftCalendar.objects.filter(is_plant_default=True).values_list("name", flat=True)) == [
        "Lasers 3 shifts"
    ]
    assert import_rows("calendars", rows).counts == {"calendars": {"created": 0, "updated": 0, "unchanged": 2}}
    # A calendar in the file gets exactly the file's shifts.
    outcome = import_rows("calendars", [header, ["Office", "Friday", "day", "07:00", "15:30", None, None]])
    assert outcome.counts == {"calendars": {"created": 0, "updated": 1, "unchanged": 0}}
    assert list(Shift.objects.filter(calendar__name="Office").values_list("start", "end")) == [(time(7), time(15, 30))]
    assert Shift.objects.filter(calendar__name="Lasers 3 shifts").count() == 3


def test_calendar_problems(shop: dict[str, Any]) -> None:
    header = ["calendar", "weekday", "shift", "start", "end", "breaks", "plant_default"]
    outcome = import_rows(
        "calendars",
        [
            header,
            ["A", "Mon", "1st", "06:00", "14:00", "15:00-15:30", "yes"],
            ["A", "Monday", "1st", "06:00", "14:00", None, "no"],
            ["B", "Funday", "1st", "25:00", "14:00", "12-13", "yes"],
            ["C", "Tuesday", "1st", "06:00", "14:00", None, "yes"],
        ],
    )
    assert problems(outcome) == [
        (2, "breaks", "A break lies outside its shift 06:00–14:00."),
        (3, "start", "Row 2 already starts a shift of this calendar on this day at this time."),
        (3, "plant_default", "Differs from row 2 of the same calendar."),
        (4, "weekday", "Enter one of: Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday."),
        (4, "start", "Enter a time of day as HH:MM (e.g. 06:00 or 22:30)."),
        (4, "breaks", "Enter breaks as start-end separated by semicolons (e.g. 12:00-12:30;15:00-15:10)."),
        (4, "plant_default", "Only one calendar can be the plant default; A is too."),
        (5, "plant_default", "Only one calendar can be the plant default; A is too."),
    ]
    outcome = import_rows("calendars", [header, ["A", "Mon", "1st", "22:00", "06:00", "05:50-06:10", None]])
    assert problems(outcome) == [(2, "breaks", "A break lies outside its shift 22:00–06:00.")]
    assert ShiftCalendar.objects.count() == 1


def test_materials_from_a_semicolon_csv_with_bom_and_decimal_commas(db: Any) -> None:
    rows = [
        ["code", "description", "grade", "form", "thickness_mm", "sheet_width_mm", "sheet_length_mm", "unit", "active"],
        ["SS304-16", "16 ga 304 #4; 48x96", "304 #4", "Sheet", "1,519", "1219,2", "2438.4", "sheet", "yes"],
        ["CRS-11", "11 ga CRS coil", "CRS", "coil", "3.038", None, None, "kg", "no"],
    ]
    outcome = import_rows("materials", rows, fmt="csv", delimiter=";", bom=True)
    assert outcome.counts == {"materials": {"created": 2, "updated": 0, "unchanged": 0}}
    assert list(
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
    ) == [
        ("CRS-11", "11 ga CRS coil", "CRS", "coil", Decimal("3.038"), None, None, "kg", False),
        (
            "SS304-16",
            "16 ga 304 #4; 48x96",
            "304 #4",
            "sheet",
            Decimal("1.519"),
            Decimal("1219.2"),
            Decimal("2438.4"),
            "sheet",
            True,
        ),
    ]


def test_customers_upsert_by_code(shop: dict[str, Any]) -> None:
    outcome = import_rows(
        "customers",
        [
            ["code", "name", "email", "phone"],
            ["HOBART", "Hobart Corp", "orders@hobart.example", ""],
            ["NEW", "New Co", None, "555"],
        ],
        fmt="csv",
    )
    assert outcome.counts == {"customers": {"created": 1, "updated": 1, "unchanged": 0}}
    assert list(Customer.objects.order_by("code").values_list("code", "name", "email", "phone", "is_active")) == [
        ("HOBART", "Hobart Corp", "orders@hobart.example", "", True),
        ("NEW", "New Co", "", "555", True),
        ("VULCAN", "Vulcan", "", "", True),
    ]
    outcome = import_rows("customers", [["code", "name", "email"], ["X", "X", "not-an-address"]])
    assert problems(outcome) == [(2, "email", "Enter a valid email address.")]


PART_HEADER = [
    "part_number",
    "revision",
    "description",
    "material",
    "thickness_mm",
    "grain_direction",
    "customer",
    "sequence",
    "operation_code",
    "step_description",
    "work_center_type",
    "preferred_work_center",
    "setup_minutes",
    "run_minutes_per_unit",
    "predecessors",
]


def test_parts_with_routings(shop: dict[str, Any]) -> None:
    rows = [
        PART_HEADER,
        [
            "HD-200",
            "B",
            "Hood side",
            "SS304-16",
            1.519,
            "length",
            "HOBART",
            10,
            "LASER",
            "Cut left",
            "fiber-3kw",
            "laser-1",
            12,
            0.8,
            None,
        ],
        ["HD-200", "B", None, None, None, None, None, 20, "LASER", "Cut right", "fiber-3kw", None, 0, 0.8, ""],
        [
            "HD-200",
            "B",
            "Hood side",
            None,
            None,
            None,
            None,
            30,
            "BEND",
            None,
            "brake-135t",
            "brake-1",
            "15",
            "1.25",
            "10;20",
        ],
        # DR-100 gets a new routing: step 20 goes, 30 comes.
        [
            "DR-100",
            "A",
            "Door panel",
            "SS304-16",
            None,
            None,
            None,
            10,
            "LASER",
            None,
            "fiber-3kw",
            None,
            10,
            1.5,
            None,
        ],
        ["DR-100", "A", None, None, None, None, None, 30, "WELD", None, "brake-135t", None, 5, 2, None],
    ]
    outcome = import_rows("parts", rows)
    assert outcome.ok, outcome.problems
    assert outcome.counts == {
        "parts": {"created": 1, "updated": 1, "unchanged": 0},
        "routing_steps": {"created": 4, "updated": 0, "unchanged": 1, "deleted": 1},
    }
    hood = Part.objects.get(number="HD-200", revision="B")
    assert (hood.description, hood.material_id, hood.thickness_mm, hood.grain_direction, hood.customer_id) == (
        "Hood side",
        shop["material"].pk,
        Decimal("1.519"),
        "length",
        shop["hobart"].pk,
    )
    assert routing(hood) == [
        (10, "LASER", "Cut left", "fiber-3kw", "laser-1", Decimal("12.00"), Decimal("0.800"), []),
        (20, "LASER", "Cut right", "fiber-3kw", None, Decimal("0.00"), Decimal("0.800"), []),
        (30, "BEND", "", "brake-135t", "brake-1", Decimal("15.00"), Decimal("1.250"), [10, 20]),
    ]
    assert routing(shop["part"]) == [
        (10, "LASER", "", "fiber-3kw", None, Decimal("10.00"), Decimal("1.500"), []),
        (30, "WELD", "", "brake-135t", None, Decimal("5.00"), Decimal("2.000"), []),
    ]
    again = import_rows("parts", rows)
    assert again.counts == {
        "parts": {"created": 0, "updated": 0, "unchanged": 2},
        "routing_steps": {"created": 0, "updated": 0, "unchanged": 5},
    }


def test_parts_without_step_columns_leave_routings_alone(shop: dict[str, Any]) -> None:
    outcome = import_rows("parts", [["part_number", "revision", "description"], ["DR-100", "A", "Door panel, left"]])
    assert outcome.counts == {"parts": {"created": 0, "updated": 1, "unchanged": 0}}
    part = Part.objects.get(pk=shop["part"].pk)
    assert (part.description, part.material_id, part.routing_steps.count()) == (
        "Door panel, left",
        shop["material"].pk,
        2,
    )


def test_routing_problems(shop: dict[str, Any]) -> None:
    rows = [
        PART_HEADER,
        ["P-1", "A", "Cycle", None, None, None, None, 10, "LASER", None, "fiber-3kw", None, 1, 1, "30"],
        ["P-1", "A", None, None, None, None, None, 20, "BEND", None, "brake-135t", None, 1, 1, None],
        ["P-1", "A", None, None, None, None, None, 30, "BEND", None, "brake-135t", None, 1, 1, None],
        ["P-2", "A", "Unknown step", None, None, None, None, 10, "LASER", None, "fiber-3kw", "brake-1", 1, 1, "5"],
        ["P-2", "A", "Other text", None, None, None, None, 10, "BEND", None, "brake-135t", None, 1, 1, None],
        ["P-3", None, None, "NOPE", None, "diagonal", None, None, "LASER", None, None, None, -1, 1, None],
    ]
    outcome = import_rows("parts", rows)
    assert problems(outcome) == [
        (2, "predecessors", "The steps form a precedence cycle: 10 → 30 → 20 → 10."),
        (5, "preferred_work_center", "Work center brake-1 is a Press brake 135 t, not a Fiber laser 3 kW."),
        (6, "description", "Differs from row 5 of the same part."),
        (6, "sequence", "Row 5 already has step 10 of this part."),
        (7, "description", "Required on the part's first row."),
        (7, "material", "Unknown material “NOPE”: import materials first or fix the code."),
        (7, "grain_direction", "Enter one of: none, length, width."),
        (7, "sequence", "Required on a routing step row."),
        (7, "work_center_type", "Required on a routing step row."),
        (7, "setup_minutes", "Must be at least 0."),
    ]
    assert Part.objects.count() == 1 and RoutingStep.objects.count() == 2


JOB_HEADER = ["job_number", "customer", "part_number", "revision", "quantity", "due_date", "priority", "sales_order"]


def test_open_jobs_become_drafts_and_drafts_are_updated(shop: dict[str, Any], personas: dict[str, Any]) -> None:
    Part.objects.create(number="HD-200", revision="A", description="Hood", is_active=False)
    Part.objects.create(number="HD-200", revision="B", description="Hood")
    rows = [
        JOB_HEADER,
        ["J-1", "HOBART", "DR-100", "A", 25, date(2025, 3, 14), 1, "SO-1"],
        ["J-2", "VULCAN", "HD-200", None, "10", "2025-03-21", "low", None],
        ["J-3", "VULCAN", "DR-100", None, 5.0, "2025-03-28 00:00:00", None, None],
    ]
    outcome = import_rows("jobs", rows, actor=personas["planner"])
    assert outcome.counts == {"jobs": {"created": 3, "updated": 0, "unchanged": 0}}
    fields = (
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
    assert list(Job.objects.order_by("number").values_list(*fields)) == [
        ("J-1", "HOBART", "DR-100", "A", 25, date(2025, 3, 14), 1, "SO-1", "draft"),
        ("J-2", "VULCAN", "HD-200", "B", 10, date(2025, 3, 21), 4, "", "draft"),
        ("J-3", "VULCAN", "DR-100", "A", 5, date(2025, 3, 28), 3, "", "draft"),
    ]
    release_job(actor=personas["planner"], job_id=Job.objects.get(number="J-1").pk)
    # J-1 is released: the same row is fine, a change is refused; J-2 is a draft and changes.
    outcome = import_rows("jobs", [JOB_HEADER, rows[1], ["J-2", "VULCAN", "HD-200", "B", 12, "2025-03-21", 4, None]])
    assert outcome.counts == {"jobs": {"created": 0, "updated": 1, "unchanged": 1}}
    assert Job.objects.get(number="J-2").quantity == 12
    outcome = import_rows("jobs", [JOB_HEADER, ["J-1", "HOBART", "DR-100", "A", 30, date(2025, 3, 14), 1, "SO-1"]])
    assert problems(outcome) == [(2, "job_number", "Job J-1 is released; an import changes draft jobs only.")]
    assert Job.objects.get(number="J-1").quantity == 25


def test_job_problems(shop: dict[str, Any]) -> None:
    Part.objects.create(number="HD-200", revision="A", description="Hood")
    Part.objects.create(number="HD-200", revision="B", description="Hood")
    Customer.objects.create(code="GONE", name="Gone", is_active=False)
    outcome = import_rows(
        "jobs",
        [
            JOB_HEADER,
            ["J-1", "HOBART", "HD-200", None, 1, "2025-03-14", None, None],
            ["J-2", "GONE", "DR-100", "C", 0, "03/14/2025", "urgent", "x" * 41],
            ["J-1", None, "DR-100", "A", 2.5, "2025-02-30", 3, None],
        ],
    )
    assert problems(outcome) == [
        (2, "revision", "Part HD-200 has revisions A, B; say which."),
        (3, "revision", "Part DR-100 has no revision C (it has A)."),
        (3, "quantity", "Must be at least 1."),
        (3, "due_date", "Enter a date as YYYY-MM-DD (e.g. 2025-03-14) or as an Excel date."),
        (3, "priority", "Enter 1 (rush), 2 (high), 3 (normal) or 4 (low)."),
        (4, "job_number", "Also on row 2: each may appear once."),
        (4, "customer", "Required."),
        (4, "quantity", "Enter a whole number."),
        (4, "due_date", "2025-02-30 is not a date of the calendar."),
    ]
    outcome = import_rows("jobs", [JOB_HEADER, ["J-9", "GONE", "DR-100", "A", 1, "2025-03-14", 3, "x" * 41]])
    assert problems(outcome) == [
        (2, "customer", "Customer GONE is inactive."),
        (2, "sales_order", "Ensure this value has at most 40 characters (it has 41)."),
    ]
    assert Job.objects.count() == 0


def test_one_bad_row_among_500_writes_nothing_and_names_row_and_column(shop: dict[str, Any]) -> None:
    rows: list[list[Any]] = [JOB_HEADER]
    for n in range(500):
        rows.append([f"J-{n:04}", "HOBART", "DR-100", "A", 10, date(2025, 4, 1), 3, f"SO-{n}"])
    rows[316][4] = -3  # Excel row 317: the header is row 1
    rows[399][2] = "NO-SUCH-PART"  # Excel row 400
    for fmt in ("xlsx", "csv"):
        outcome = import_rows("jobs", rows, fmt=fmt)
        assert (outcome.rows, outcome.problem_count) == (500, 2)
        assert [(p.row, p.column, p.letter, p.message) for p in outcome.problems] == [
            (317, "quantity", "E", "Must be at least 1."),
            (400, "part_number", "C", "Unknown part NO-SUCH-PART rev A: import parts first or fix the number."),
        ]
        assert Job.objects.count() == 0
    rows[316][4], rows[399][2] = 3, "DR-100"
    outcome = import_rows("jobs", rows)
    assert outcome.counts == {"jobs": {"created": 500, "updated": 0, "unchanged": 0}}
    assert Job.objects.filter(status="draft").count() == 500


def test_problem_list_is_capped_at_the_first_200_in_row_order(shop: dict[str, Any]) -> None:
    rows: list[list[Any]] = [JOB_HEADER]
    rows += [[f"J-{n}", "NOPE", "DR-100", "A", 0, "2025-04-01", 3, None] for n in range(150)]
    outcome = import_rows("jobs", rows)
    assert outcome.problem_count == 300
    listed = [(p.row, p.column) for p in outcome.problems]
    assert len(listed) == 200
    assert listed[:4] == [(2, "customer"), (2, "quantity"), (3, "customer"), (3, "quantity")]
    assert listed[-1] == (101, "quantity")


def test_header_problems_stop_before_the_rows(shop: dict[str, Any]) -> None:
    outcome = import_rows(
        "jobs",
        [
            ["Job Number", "customer", "Part-Number", "qty", "customer", None, "due_date"],
            ["J-1", "HOBART", "DR-100", 1],
        ],
    )
    assert [(p.row, p.column, p.letter, p.message) for p in outcome.problems] == [
        (1, "quantity", "", "Missing column: every file of open jobs needs it."),
        (
            1,
            "qty",
            "D",
            "Unknown column. The columns of open jobs are: job_number, customer, part_number, revision, quantity, "
            "due_date, priority, sales_order.",
        ),
        (1, "customer", "E", "This column appears twice."),
        (1, "", "F", "This column has no header; name it or delete the column."),
    ]
    outcome = import_rows("jobs", [JOB_HEADER, ["J-1", "HOBART", "DR-100", "A", 1, "2025-04-01", 3, None, "stray"]])
    assert problems(outcome) == [(2, "", "This cell has no column header above it.")]
    assert Job.objects.count() == 0


def test_rows_keep_excel_numbering_across_blank_rows(shop: dict[str, Any]) -> None:
    outcome = import_rows(
        "jobs",
        [
            JOB_HEADER,
            ["J-1", "HOBART", "DR-100", "A", 1, "2025-04-01", 3, None],
            [],
            [],
            ["J-2", "HOBART", "DR-100", "A", -1, "2025-04-01", 3, None],
        ],
    )
    assert problems(outcome) == [(5, "quantity", "Must be at least 1.")]


def test_text_that_looks_like_a_formula_survives(shop: dict[str, Any]) -> None:
    outcome = import_rows("customers", [["code", "name"], ["EQ", "'=1+2 Fabrication"], ["AT", "@home"]], fmt="csv")
    assert outcome.ok
    assert dict(Customer.objects.filter(code__in=["EQ", "AT"]).values_list("code", "name")) == {
        "EQ": "=1+2 Fabrication",
        "AT": "@home",
    }


def test_untouched_tables(shop: dict[str, Any]) -> None:
    before = (Department.objects.count(), WorkCenterType.objects.count())
    import_rows("departments", [["code", "name"], ["weld", "Weld"]])
    assert (Department.objects.count(), WorkCenterType.objects.count()) == (before[0] + 1, before[1])


def test_checking_a_long_file_takes_a_few_queries_not_one_per_row(
    shop: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    rows: list[list[Any]] = [JOB_HEADER]
    rows += [[f"J-{n:05}", "HOBART", f"P-{n:05}", "A", 1, "2025-04-01", 3, None] for n in range(5000)]
    with django_assert_max_num_queries(20):
        outcome = import_rows("jobs", rows, fmt="csv")
    assert outcome.problem_count == 5000 and outcome.problems[0].message == (
        "Unknown part P-00000 rev A: import parts first or fix the number."
    )
