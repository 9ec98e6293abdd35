"""Departments, work center types, work centers and shift calendars."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.machines import calendar as working_time
from apps.machines.choices import Weekday
from apps.machines.models import Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType

from ..cells import BreakList, Choice, ClockTime, DecimalNumber, Text, WholeNumber, YesNo, format_breaks, format_time
from .base import Column, Counts, Kind, ModelKind, Problems, Reference, Row, Upsert, batches, lookup

SHIFT_COLUMNS = ("weekday", "shift", "start", "end", "breaks")
UNKNOWN_DEPARTMENT = gettext_lazy("Unknown department “%(code)s”: import departments first or fix the code.")


class DepartmentKind(ModelKind):
    slug = "departments"
    label = gettext_lazy("departments")
    model = Department
    key = key_field = "code"
    columns = (
        Column(
            "code", Text(), gettext_lazy("Short code, letters, digits and hyphens."), required=True, example="laser"
        ),
        Column("name", Text(), gettext_lazy("Name shown on pages."), required=True, example="Laser cutting", width=24),
        Column("sequence", WholeNumber(0, 32767), gettext_lazy("Order in the flow of work (0 first)."), example="10"),
    )
    fields = {"code": "code", "name": "name", "sequence": "sequence"}


class WorkCenterTypeKind(ModelKind):
    slug = "work_center_types"
    label = gettext_lazy("work center types")
    model = WorkCenterType
    key = key_field = "code"
    columns = (
        Column("code", Text(), gettext_lazy("Short code of the machine group."), required=True, example="fiber-3kw"),
        Column(
            "name", Text(), gettext_lazy("Name shown on pages."), required=True, example="Fiber laser 3 kW", width=24
        ),
        Column("department", Text(), gettext_lazy("Code of an existing department."), required=True, example="laser"),
        Column("description", Text(), gettext_lazy("Free text."), width=30),
    )
    fields = {"code": "code", "name": "name", "description": "description"}
    references = {"department": Reference("department", Department, "code", UNKNOWN_DEPARTMENT)}
    select_related = ("department",)


class WorkCenterKind(ModelKind):
    slug = "work_centers"
    label = gettext_lazy("work centers")
    model = WorkCenter
    key = key_field = "code"
    columns = (
        Column("code", Text(), gettext_lazy("Short code of the machine."), required=True, example="laser-1"),
        Column("name", Text(), gettext_lazy("Name shown on pages."), required=True, example="Fiber laser 1", width=24),
        Column("department", Text(), gettext_lazy("Code of an existing department."), required=True, example="laser"),
        Column(
            "work_center_type",
            Text(),
            gettext_lazy("Code of an existing work center type."),
            required=True,
            example="fiber-3kw",
            width=18,
        ),
        Column(
            "efficiency",
            DecimalNumber(Decimal("0.10")),
            gettext_lazy("Speed factor; blank = 1.00 (1.25 runs 25 % faster)."),
            example="1.00",
            number_format="0.00",
        ),
        Column("setup_category", Text(), gettext_lazy("Machines of one category share changeovers."), width=16),
        Column("bottleneck", YesNo(), gettext_lazy("yes or no; blank = no."), example="no"),
        Column(
            "hourly_rate",
            DecimalNumber(Decimal("0")),
            gettext_lazy("Cost per hour; blank = 0."),
            example="145.00",
            number_format="0.00",
        ),
        Column(
            "calendar",
            Text(),
            gettext_lazy("Name of an existing shift calendar; blank = the plant default."),
            example="Two shifts Mon-Fri",
            width=22,
        ),
        Column("iot_device_id", Text(), gettext_lazy("Id of the machine's IoT device; unique."), width=16),
        Column("sigmanest_machine_id", Text(), gettext_lazy("Machine id in Sigmanest."), width=20),
        Column("active", YesNo(), gettext_lazy("yes or no; blank = yes."), example="yes"),
    )
    fields = {
        "code": "code",
        "name": "name",
        "efficiency": "efficiency",
        "setup_category": "setup_category",
        "bottleneck": "is_bottleneck",
        "hourly_rate": "hourly_rate",
        "iot_device_id": "iot_device_id",
        "sigmanest_machine_id": "sigmanest_machine_id",
        "active": "is_active",
    }
    references = {
        "department": Reference("department", Department, "code", UNKNOWN_DEPARTMENT),
        "work_center_type": Reference(
            "work_center_type",
            WorkCenterType,
            "code",
            gettext_lazy("Unknown work center type “%(code)s”: import work center types first or fix the code."),
        ),
        "calendar": Reference(
            "calendar",
            ShiftCalendar,
            "name",
            gettext_lazy("Unknown shift calendar “%(code)s”: import calendars first or fix the name."),
        ),
    }
    select_related = ("department", "work_center_type", "calendar")

    def check_plan(self, plan: list[Upsert], rows: list[Row], problems: Problems) -> None:
        """An IoT device id identifies one machine: unique in the file and in the database."""
        seen: dict[str, int] = {}
        codes = set()
        for upsert in plan:
            machine = cast(WorkCenter, upsert.instance)
            codes.add(machine.code)
            if not machine.iot_device_id:
                continue
            if machine.iot_device_id in seen:
                problems.add(
                    upsert.row,
                    "iot_device_id",
                    _("Also on row %(row)s: each may appear once.") % {"row": seen[machine.iot_device_id]},
                )
            else:
                seen[machine.iot_device_id] = upsert.row
        taken = {}
        for batch in batches(sorted(seen)):
            for device, code in WorkCenter.objects.filter(iot_device_id__in=batch).values_list("iot_device_id", "code"):
                if code not in codes:
                    taken[device] = code
        for device, row in seen.items():
            if device in taken:
                problems.add(
                    row,
                    "iot_device_id",
                    _("Work center %(code)s already has this IoT device id.") % {"code": taken[device]},
                )


@dataclass
class CalendarPlan:
    """One calendar of the file: its weekly pattern of shifts and whether it is the plant default."""

    name: str
    first_row: int
    plant_default: bool | None = None
    shifts: list[tuple[int, str, time, time, list[tuple[time, time]]]] = field(default_factory=list)
    shift_rows: int = 0
    empty_rows: list[int] = field(default_factory=list)

    def pattern(self) -> list[tuple[int, str, time, time, list[tuple[time, time]]]]:
        return sorted(self.shifts, key=lambda shift: (shift[0], shift[2]))


class CalendarKind(Kind):
    """One row per shift. A calendar in the file gets exactly the file's shifts; calendars not in
    the file are left as they are. A calendar with no shifts is one row with blank shift cells."""

    slug = "calendars"
    label = gettext_lazy("shift calendars")
    columns = (
        Column(
            "calendar",
            Text(),
            gettext_lazy("Name of the calendar."),
            required=True,
            example="Two shifts Mon-Fri",
            width=22,
        ),
        Column(
            "weekday",
            Choice(Weekday, abbreviations=True),
            gettext_lazy("Day the shift starts: Monday … Sunday (or Mon … Sun); on every shift row."),
            example="Monday",
            width=12,
        ),
        Column("shift", Text(), gettext_lazy("Name of the shift; on every shift row."), example="1st shift", width=14),
        Column(
            "start",
            ClockTime(),
            gettext_lazy("Start, HH:MM plant time; on every shift row."),
            example="06:00",
            width=9,
            number_format="hh:mm",
        ),
        Column(
            "end",
            ClockTime(),
            gettext_lazy("End, HH:MM; at or before the start = the shift runs past midnight."),
            example="14:30",
            width=9,
            number_format="hh:mm",
        ),
        Column(
            "breaks",
            BreakList(),
            gettext_lazy("Unpaid breaks, start-end separated by semicolons."),
            example="10:00-10:10;12:00-12:30",
            width=26,
        ),
        Column(
            "plant_default",
            YesNo(),
            gettext_lazy("yes on the rows of the plant's default calendar; blank = keep as is."),
            example="yes",
            width=14,
        ),
    )

    def check(self, rows: list[Row], present: set[str], problems: Problems) -> dict[str, CalendarPlan]:
        calendars: dict[str, CalendarPlan] = {}
        starts: dict[tuple[str, int, time], int] = {}
        for row in rows:
            name = row.get("calendar")
            if name is None:
                continue
            if len(name) > ShiftCalendar._meta.get_field("name").max_length:  # type: ignore[operator]
                problems.add(row.number, "calendar", _("At most 100 characters."))
            plan = calendars.setdefault(name, CalendarPlan(name=name, first_row=row.number))
            self._check_default(plan, row, problems)
            if len(row.get("shift", "")) > Shift._meta.get_field("name").max_length:  # type: ignore[operator]
                problems.add(row.number, "shift", _("At most 50 characters."))
            if not any(row.get(header) is not None or header in row.failed for header in SHIFT_COLUMNS):
                plan.empty_rows.append(row.number)
                continue
            plan.shift_rows += 1
            missing = [h for h in SHIFT_COLUMNS[:4] if row.get(h) is None and h not in row.failed]
            for header in missing:
                problems.add(row.number, header, _("Required on a shift row."))
            if missing or row.failed:
                continue
            weekday, start, end = row.get("weekday"), row.get("start"), row.get("end")
            breaks = row.get("breaks", [])
            key = (name, weekday, start)
            if key in starts:
                problems.add(
                    row.number,
                    "start",
                    _("Row %(row)s already starts a shift of this calendar on this day at this time.")
                    % {"row": starts[key]},
                )
                continue
            starts[key] = row.number
            if not self._valid_shift(weekday, start, end, breaks, row, problems):
                continue
            plan.shifts.append((weekday, row.get("shift"), start, end, breaks))
        for plan in calendars.values():
            for row_number in plan.empty_rows if plan.shift_rows else []:
                problems.add(row_number, "weekday", _("Required: the other rows of this calendar are shifts."))
        defaults = [plan for plan in calendars.values() if plan.plant_default]
        for plan in defaults[1:]:
            problems.add(
                plan.first_row,
                "plant_default",
                _("Only one calendar can be the plant default; %(name)s is too.") % {"name": defaults[0].name},
            )
        return calendars

    def _check_default(self, plan: CalendarPlan, row: Row, problems: Problems) -> None:
        value = row.get("plant_default")
        if value is None:
            return
        if plan.plant_default is None:
            plan.plant_default = value
        elif plan.plant_default != value:
            problems.add(
                row.number,
                "plant_default",
                _("Differs from row %(row)s of the same calendar.") % {"row": plan.first_row},
            )

    def _valid_shift(
        self, weekday: int, start: time, end: time, breaks: list[tuple[time, time]], row: Row, problems: Problems
    ) -> bool:
        for brk_start, brk_end in breaks:
            if brk_start == brk_end:
                problems.add(row.number, "breaks", _("A break must end after it starts."))
                return False
        try:
            working_time.Shift(
                weekday=weekday,
                start=start,
                end=end,
                breaks=tuple(working_time.Break(start=s, end=e) for s, e in breaks),
            )
        except ValueError:
            problems.add(
                row.number,
                "breaks",
                _("A break lies outside its shift %(start)s–%(end)s.")
                % {
                    "start": format_time(start),
                    "end": format_time(end),
                },
            )
            return False
        return True

    def write(self, plan: dict[str, CalendarPlan], actor: Any) -> dict[str, Counts]:
        counts = Counts()
        existing: dict[str, ShiftCalendar] = lookup(ShiftCalendar, "name", set(plan))
        current = _patterns(list(existing.values()))
        wanted_default = next((name for name, item in plan.items() if item.plant_default), None)
        if wanted_default is not None:
            ShiftCalendar.objects.filter(is_plant_default=True).exclude(name=wanted_default).update(
                is_plant_default=False
            )
        for name, item in plan.items():
            calendar = existing.get(name)
            default = item.plant_default
            if calendar is not None:
                same_default = default is None or calendar.is_plant_default == default
                if same_default and current.get(calendar.pk) == _signature(item.pattern()):
                    counts.unchanged += 1
                    continue
                counts.updated += 1
                if default is not None:
                    calendar.is_plant_default = default
                calendar._history_user = actor  # type: ignore[attr-defined]
                calendar.save()
                calendar.shifts.all().delete()
            else:
                counts.created += 1
                calendar = ShiftCalendar(name=name, is_plant_default=bool(default))
                calendar._history_user = actor  # type: ignore[attr-defined]
                calendar.save()
            for weekday, shift_name, start, end, breaks in item.pattern():
                shift = Shift.objects.create(calendar=calendar, name=shift_name, weekday=weekday, start=start, end=end)
                ShiftBreak.objects.bulk_create([ShiftBreak(shift=shift, start=s, end=e) for s, e in breaks])
        return {self.slug: counts}

    def export(self) -> Iterator[Sequence[Any]]:
        calendars = list(ShiftCalendar.objects.order_by("name"))
        shifts = defaultdict(list)
        for shift in Shift.objects.prefetch_related("breaks").order_by("weekday", "start"):
            shifts[shift.calendar_id].append(shift)
        for calendar in calendars:
            if not shifts[calendar.pk]:
                yield [calendar.name, None, None, None, None, None, calendar.is_plant_default]
            for shift in shifts[calendar.pk]:
                yield [
                    calendar.name,
                    Weekday(shift.weekday).name.title(),
                    shift.name,
                    shift.start,
                    shift.end,
                    format_breaks([(b.start, b.end) for b in shift.breaks.all()]),
                    calendar.is_plant_default,
                ]


def _signature(
    pattern: list[tuple[int, str, time, time, list[tuple[time, time]]]],
) -> list[tuple[int, str, time, time, list[tuple[time, time]]]]:
    return [(weekday, name, start, end, sorted(breaks)) for weekday, name, start, end, breaks in pattern]


def _patterns(calendars: list[ShiftCalendar]) -> dict[int, Any]:
    by_calendar: dict[int, list[tuple[int, str, time, time, list[tuple[time, time]]]]] = defaultdict(list)
    for batch in batches(calendar.pk for calendar in calendars):
        shifts = Shift.objects.filter(calendar__in=batch).prefetch_related("breaks").order_by("weekday", "start")
        for shift in shifts:
            breaks = sorted((b.start, b.end) for b in shift.breaks.all())
            by_calendar[shift.calendar_id].append((shift.weekday, shift.name, shift.start, shift.end, breaks))
    return {calendar.pk: _signature(by_calendar[calendar.pk]) for calendar in calendars}
