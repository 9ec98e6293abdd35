"""A small sheet-metal shop for the routings tests: a laser, a brake, a punch and a weld cell,
a customer, and parts with a straight and a branching routing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from apps.machines.models import Department, Shift, ShiftBreak, ShiftCalendar, WorkCenter, WorkCenterType
from apps.routings.models import Customer, Job, Part, RoutingStep

_serial = itertools.count(1)


@dataclass
class Shop:
    laser: WorkCenterType
    brake: WorkCenterType
    punch: WorkCenterType
    weld: WorkCenterType
    laser_1: WorkCenter
    brake_1: WorkCenter
    punch_1: WorkCenter
    weld_1: WorkCenter
    customer: Customer


def build_shop() -> Shop:
    types: dict[str, WorkCenterType] = {}
    centers: dict[str, WorkCenter] = {}
    for sequence, (code, name) in enumerate(
        [("laser", "Fiber laser 3 kW"), ("brake", "Press brake 135 t"), ("punch", "Turret punch"), ("weld", "TIG weld")]
    ):
        department = Department.objects.create(code=f"{code}-dept", name=f"{name} dept", sequence=sequence)
        types[code] = WorkCenterType.objects.create(code=code, name=name, department=department)
        centers[code] = WorkCenter.objects.create(
            code=f"{code}-1", name=f"{name} 1", department=department, work_center_type=types[code]
        )
    customer = Customer.objects.create(code="HOB", name="Hobart Kitchens")
    return Shop(
        laser=types["laser"],
        brake=types["brake"],
        punch=types["punch"],
        weld=types["weld"],
        laser_1=centers["laser"],
        brake_1=centers["brake"],
        punch_1=centers["punch"],
        weld_1=centers["weld"],
        customer=customer,
    )


def make_part(number: str = "", **fields: Any) -> Part:
    number = number or f"P-{next(_serial)}"
    fields.setdefault("description", f"Panel {number}")
    return Part.objects.create(number=number, **fields)


def step(
    part: Part,
    sequence: int,
    code: str,
    kind: WorkCenterType,
    setup: str,
    run: str,
    after: list[RoutingStep] | None = None,
    **fields: Any,
) -> RoutingStep:
    created = RoutingStep.objects.create(
        part=part,
        sequence=sequence,
        operation_code=code,
        work_center_type=kind,
        setup_minutes=Decimal(setup),
        run_minutes_per_unit=Decimal(run),
        **fields,
    )
    if after:
        created.predecessors.set(after)
    return created


def straight_part(shop: Shop, number: str = "") -> Part:
    """Laser 10 → brake 20 → weld 30 (setup 15/20/30 min, run 0.5/1.25/2 min a unit)."""
    part = make_part(number)
    step(part, 10, "CUT", shop.laser, "15", "0.5", preferred_work_center=shop.laser_1)
    step(part, 20, "BEND", shop.brake, "20", "1.25")
    step(part, 30, "WELD", shop.weld, "30", "2")
    return part


def diamond_part(shop: Shop, number: str = "") -> Part:
    """Laser 10, then brake 20 and punch 30 side by side (both after 10), then weld 40 after both."""
    part = make_part(number)
    cut = step(part, 10, "CUT", shop.laser, "10", "1")
    bend = step(part, 20, "BEND", shop.brake, "20", "2")
    punch = step(part, 30, "PUNCH", shop.punch, "5", "0.5", after=[cut])
    step(part, 40, "WELD", shop.weld, "30", "3", after=[bend, punch])
    return part


def make_job(shop: Shop, part: Part, quantity: int = 10, due: date | None = None, **fields: Any) -> Job:
    return Job.objects.create(
        number=fields.pop("number", f"J-{next(_serial):05d}"),
        customer=fields.pop("customer", shop.customer),
        part=part,
        quantity=quantity,
        due_date=due or date(2030, 6, 28),
        **fields,
    )


WEEKDAYS = range(5)


def day_shift_plant_calendar() -> ShiftCalendar:
    """The plant default: 06:00–14:30 Monday to Friday with a 10:00–10:30 break (480 minutes a day)."""
    calendar = ShiftCalendar.objects.create(name="Day shift", is_plant_default=True)
    for weekday in WEEKDAYS:
        shift = Shift.objects.create(calendar=calendar, name="1st", weekday=weekday, start=time(6), end=time(14, 30))
        ShiftBreak.objects.create(shift=shift, start=time(10), end=time(10, 30))
    return calendar
