"""A tiny scheduled shop for the page, API, Gantt and edit tests, built with the ORM (no solver).

Plant calendar 06:00–14:30 Monday to Friday with a 10:00–10:30 break (America/Chicago).
Monday 2030-06-03:
  laser-1: J-1/10 CUT 06:00–06:20, J-2/10 CUT 07:00–07:19 (5 min setup from 07:00, run 07:05)
  brake-1: J-1/20 BEND 06:30–07:00
  weld-1:  J-1/30 WELD 07:10–07:56
J-2 is due Monday too: it ends less than a day before, so it is at risk.
Tuesday 2030-06-04 (J-3 is due Monday, so it is late):
  laser-1: J-3/10 CUT 06:00–06:19
  brake-1: J-3/20 BEND 06:30–07:00
laser-2 is a second laser of efficiency 1.25 (free); laser-3 a laser out of service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from apps.machines.models import WorkCenter
from apps.routings.models import Job, Operation
from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.models import Schedule, ScheduleSlot
from tests.routings.builders import Shop, build_shop, day_shift_plant_calendar, make_job, make_part

TZ = ZoneInfo("America/Chicago")
MONDAY = date(2030, 6, 3)


def local(text: str) -> datetime:
    """'2030-06-03 06:00' in plant time."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@dataclass
class Tiny:
    shop: Shop
    laser_2: WorkCenter
    laser_3: WorkCenter
    schedule: Schedule
    jobs: dict[str, Job]
    ops: dict[str, Operation]
    slots: dict[str, ScheduleSlot]


def operation(job: Job, sequence: int, code: str, kind: object, setup: str, run: str) -> Operation:
    return Operation.objects.create(
        job=job,
        sequence=sequence,
        operation_code=code,
        work_center_type=kind,
        quantity=job.quantity,
        setup_minutes=Decimal(setup),
        run_minutes_per_unit=Decimal(run),
    )


def slot(
    schedule: Schedule,
    op: Operation,
    wc: WorkCenter,
    setup_start: str,
    start: str,
    end: str,
    setup: int = 0,
    **fields: object,
) -> ScheduleSlot:
    return ScheduleSlot.objects.create(
        schedule=schedule,
        operation=op,
        work_center=wc,
        setup_start=local(setup_start),
        start=local(start),
        end=local(end),
        setup_minutes=setup,
        **fields,
    )


def build_tiny(status: str = ScheduleStatus.READY) -> Tiny:
    shop = build_shop()
    day_shift_plant_calendar()
    laser_2 = WorkCenter.objects.create(
        code="laser-2",
        name="Fiber laser 3 kW 2",
        department=shop.laser_1.department,
        work_center_type=shop.laser,
        efficiency=Decimal("1.25"),
    )
    laser_3 = WorkCenter.objects.create(
        code="laser-3",
        name="Old laser",
        department=shop.laser_1.department,
        work_center_type=shop.laser,
        is_active=False,
    )
    part = make_part("BRKT-1")
    jobs = {
        "J-1": make_job(shop, part, quantity=8, due=date(2030, 6, 7), number="J-1", status="released"),
        "J-2": make_job(shop, part, quantity=8, due=MONDAY, number="J-2", status="released"),
        "J-3": make_job(shop, part, quantity=8, due=MONDAY, number="J-3", status="released"),
    }
    ops = {
        "J-1/10": operation(jobs["J-1"], 10, "CUT", shop.laser, "15", "0.5"),
        "J-1/20": operation(jobs["J-1"], 20, "BEND", shop.brake, "20", "1.25"),
        "J-1/30": operation(jobs["J-1"], 30, "WELD", shop.weld, "30", "2"),
        "J-2/10": operation(jobs["J-2"], 10, "CUT", shop.laser, "10", "0.5"),
        "J-3/10": operation(jobs["J-3"], 10, "CUT", shop.laser, "15", "0.5"),
        "J-3/20": operation(jobs["J-3"], 20, "BEND", shop.brake, "20", "1.25"),
    }
    schedule = Schedule.objects.create(
        name="Tiny plan",
        status=status,
        horizon_start=local("2030-06-03 06:00"),
        horizon_end=local("2030-06-17 06:00"),
        kpis={
            "late_jobs": 1,
            "weighted_tardiness": 1260,
            "total_tardiness_minutes": 420,
            "makespan_minutes": 1500,
            "setup_minutes": 5,
            "utilisation": {"laser-1": 0.5, "brake-1": 0.25},
        },
        rule_kpis={
            "EDD": {
                "late_jobs": 2,
                "weighted_tardiness": 2000,
                "total_tardiness_minutes": 700,
                "makespan_minutes": 1600,
                "setup_minutes": 15,
                "utilisation": {"laser-1": 0.5, "brake-1": 0.25},
            },
            "SPT": None,
        },
    )
    slots = {
        "J-1/10": slot(
            schedule, ops["J-1/10"], shop.laser_1, "2030-06-03 06:00", "2030-06-03 06:00", "2030-06-03 06:20"
        ),
        "J-2/10": slot(
            schedule, ops["J-2/10"], shop.laser_1, "2030-06-03 07:00", "2030-06-03 07:05", "2030-06-03 07:19", setup=5
        ),
        "J-1/20": slot(
            schedule, ops["J-1/20"], shop.brake_1, "2030-06-03 06:30", "2030-06-03 06:30", "2030-06-03 07:00"
        ),
        "J-1/30": slot(
            schedule, ops["J-1/30"], shop.weld_1, "2030-06-03 07:10", "2030-06-03 07:10", "2030-06-03 07:56"
        ),
        "J-3/10": slot(
            schedule, ops["J-3/10"], shop.laser_1, "2030-06-04 06:00", "2030-06-04 06:00", "2030-06-04 06:19"
        ),
        "J-3/20": slot(
            schedule, ops["J-3/20"], shop.brake_1, "2030-06-04 06:30", "2030-06-04 06:30", "2030-06-04 07:00"
        ),
    }
    return Tiny(shop, laser_2, laser_3, schedule, jobs, ops, slots)
