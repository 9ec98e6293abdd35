"""A shop with one hand-computed day on the laser, for the report tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from apps.machines.models import DowntimeReason, MachineStateInterval, WorkCenter
from apps.routings.models import Operation
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import ProductionEvent, ScrapReason
from tests.routings.builders import Shop, build_shop, day_shift_plant_calendar, make_job, straight_part

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 11, 16)


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


def interval(wc: WorkCenter, state: str, start: datetime, end: datetime, reason: str = "") -> MachineStateInterval:
    return MachineStateInterval.objects.create(
        work_center=wc,
        state=state,
        started_at=start,
        ended_at=end,
        reason=DowntimeReason.objects.get(code=reason) if reason else None,
    )


def laser_day(shop: Shop, operator: Any) -> Operation:
    """The laser's Monday on the 06:00–14:30 shift with a 10:00–10:30 break.

    Running 06:00–10:00, idle over the break, running 10:30–12:00, a 30-minute alarm (mechanical breakdown),
    running 12:30–14:30: planned production 480 min, run time 450 min. 250 good and 10 scrap parts at the
    routing standard of 1.5 min each: ideal time 390 min.
    """
    wc = shop.laser_1
    interval(wc, "running", at(6), at(10))
    interval(wc, "idle", at(10), at(10, 30))
    interval(wc, "running", at(10, 30), at(12))
    interval(wc, "alarm", at(12), at(12, 30), reason="breakdown-mechanical")
    interval(wc, "running", at(12, 30), at(14, 30))
    job = make_job(shop, straight_part(shop), quantity=260)
    operation = job.operations.create(
        sequence=10,
        operation_code="CUT",
        work_center_type=shop.laser,
        quantity=260,
        setup_minutes=Decimal("0"),
        run_minutes_per_unit=Decimal("1.5"),
    )
    scrap = ScrapReason.objects.order_by("code").first()
    for kind, when, good, bad in (
        (EventKind.START_RUN, at(6), 0, 0),
        (EventKind.REPORT, at(10), 100, 4),
        (EventKind.REPORT, at(12), 60, 2),
        (EventKind.COMPLETE, at(14, 29), 90, 4),
    ):
        ProductionEvent.objects.create(
            operation=operation,
            work_center=wc,
            kind=kind,
            at=when,
            by=operator,
            quantity_good=good,
            quantity_scrap=bad,
            scrap_reason=scrap if bad else None,
        )
    return operation


def shop_with_laser_day(personas: dict[str, Any]) -> Shop:
    day_shift_plant_calendar()
    shop = build_shop()
    laser_day(shop, personas["operator"])
    return shop
