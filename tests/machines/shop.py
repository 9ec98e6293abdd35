"""A small shop for the machines tests: departments, types, work centers and shift calendars."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from apps.machines.models import Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS = (MON, TUE, WED, THU, FRI)

_serial = itertools.count(1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def department(code: str = "", **fields: Any) -> Department:
    code = code or f"dept-{next(_serial)}"
    return Department.objects.create(code=code, name=fields.pop("name", code.title()), **fields)


def work_center_type(code: str = "", dept: Department | None = None, **fields: Any) -> WorkCenterType:
    code = code or f"type-{next(_serial)}"
    return WorkCenterType.objects.create(
        code=code, name=fields.pop("name", code), department=dept or department(), **fields
    )


def work_center(code: str = "", kind: WorkCenterType | None = None, **fields: Any) -> WorkCenter:
    code = code or f"wc-{next(_serial)}"
    kind = kind or work_center_type()
    fields.setdefault("department", kind.department)
    return WorkCenter.objects.create(code=code, name=fields.pop("name", code.upper()), work_center_type=kind, **fields)


def shift_calendar(
    name: str,
    shifts: list[tuple[int, time, time, list[tuple[time, time]]]],
    *,
    plant_default: bool = False,
) -> ShiftCalendar:
    """`shifts`: (weekday, start, end, [(break start, break end), ...])."""
    cal = ShiftCalendar.objects.create(name=name, is_plant_default=plant_default)
    for weekday, start, end, breaks in shifts:
        shift = Shift.objects.create(calendar=cal, name=f"{start:%H:%M}", weekday=weekday, start=start, end=end)
        ShiftBreak.objects.bulk_create(ShiftBreak(shift=shift, start=s, end=e) for s, e in breaks)
    return cal


def day_shift_calendar(name: str = "Day shift Mon–Fri", *, plant_default: bool = False) -> ShiftCalendar:
    """06:00–14:30 Monday to Friday with a 10:00–10:30 lunch: 8 working hours a day."""
    return shift_calendar(
        name,
        [(day, time(6), time(14, 30), [(time(10), time(10, 30))]) for day in WEEKDAYS],
        plant_default=plant_default,
    )


def night_shift_calendar(name: str = "Nights every day", days: tuple[int, ...] = tuple(range(7))) -> ShiftCalendar:
    """22:00–06:00 starting each of `days`, with a 03:00–03:30 break: 7.5 working hours a night.

    The break lies outside the hours that DST changes skip or repeat (01:00–02:59)."""
    return shift_calendar(name, [(day, time(22), time(6), [(time(3), time(3, 30))]) for day in days])


def laser(code: str, **fields: Any) -> WorkCenter:
    kind = WorkCenterType.objects.filter(code="fiber-laser-3kw").first() or work_center_type(
        "fiber-laser-3kw", department("laser"), name="Fiber laser 3 kW"
    )
    fields.setdefault("efficiency", Decimal("1.00"))
    return work_center(code, kind, **fields)
