"""The adapter from the shop in the database to the solver's Problem, on a tiny shop with exact numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.inventory.models import Material
from apps.machines.models import Department, WorkCenter, WorkCenterType
from apps.machines.selectors import plant_time_zone
from apps.routings.choices import JobStatus, OperationStatus, Priority
from apps.routings.models import Customer, Job, Operation, Part
from apps.scheduling import solver
from apps.scheduling.adapter import build_planning_input, horizon_start
from apps.scheduling.models import ChangeoverTime
from tests.routings.builders import day_shift_plant_calendar

pytestmark = pytest.mark.django_db

# Monday 08:00 plant time: the plant works 06:00-10:00 and 10:30-14:30 on weekdays.
ORIGIN = datetime(2030, 6, 3, 8, 0, tzinfo=plant_time_zone())


@dataclass
class TinyShop:
    laser: WorkCenterType
    brake: WorkCenterType
    las_1: WorkCenter
    las_2: WorkCenter
    brk_1: WorkCenter
    rush: Job
    running: Job


def build_tiny_shop(now: datetime = ORIGIN) -> TinyShop:
    """Two lasers (efficiency 1 and 1.25) and a brake; job J-1 (rush, laser then brake, pending) and
    job J-2 (low priority, overdue: cut complete, second cut running on LAS-2 for an hour, bend pending);
    a job on hold and a draft job that are not planned."""
    day_shift_plant_calendar()
    laser_dept = Department.objects.create(code="laser", name="Laser", sequence=1)
    forming = Department.objects.create(code="forming", name="Forming", sequence=2)
    laser = WorkCenterType.objects.create(code="fiber-laser", name="Fiber laser", department=laser_dept)
    brake = WorkCenterType.objects.create(code="press-brake", name="Press brake", department=forming)
    las_1 = WorkCenter.objects.create(
        code="LAS-1", name="Laser 1", department=laser_dept, work_center_type=laser, efficiency=Decimal("1.00")
    )
    las_2 = WorkCenter.objects.create(
        code="LAS-2", name="Laser 2", department=laser_dept, work_center_type=laser, efficiency=Decimal("1.25")
    )
    brk_1 = WorkCenter.objects.create(code="BRK-1", name="Brake 1", department=forming, work_center_type=brake)
    WorkCenter.objects.create(
        code="BRK-9", name="Retired brake", department=forming, work_center_type=brake, is_active=False
    )
    ChangeoverTime.objects.create(work_center_type=laser, from_category="SS304-16", to_category="CRS-14", minutes=20)
    customer = Customer.objects.create(code="HOB", name="Hobart Kitchens")
    stainless = Material.objects.create(
        code="SS304-16", description="16 ga 304", grade="304 #4", thickness_mm=Decimal("1.588")
    )
    part = Part.objects.create(number="P-1", description="Panel", material=stainless)

    def job(number: str, status: str, priority: int, due: date) -> Job:
        return Job.objects.create(
            number=number, customer=customer, part=part, quantity=20, due_date=due, priority=priority, status=status
        )

    def op(job: Job, sequence: int, kind: WorkCenterType, setup: str, run: str, **fields: Any) -> Operation:
        after = fields.pop("after", [])
        created = Operation.objects.create(
            job=job,
            sequence=sequence,
            operation_code=f"OP{sequence}",
            work_center_type=kind,
            quantity=20,
            setup_minutes=Decimal(setup),
            run_minutes_per_unit=Decimal(run),
            **fields,
        )
        created.predecessors.set(after)
        return created

    rush = job("J-1", JobStatus.RELEASED, Priority.RUSH, date(2030, 6, 4))
    cut = op(rush, 10, laser, "10", "1")  # 30 minutes
    op(rush, 20, brake, "5", "0.75", after=[cut])  # 20 minutes
    running = job("J-2", JobStatus.IN_PROGRESS, Priority.LOW, date(2030, 6, 1))
    first = op(running, 10, laser, "10", "1", status=OperationStatus.COMPLETE)
    second = op(
        running,
        20,
        laser,
        "0",
        "5",  # 100 minutes, 80 on LAS-2
        after=[first],
        status=OperationStatus.IN_PROGRESS,
        preferred_work_center=las_2,
        actual_start=now - timedelta(hours=1),
    )
    op(running, 30, brake, "10", "1", after=[first, second])
    held = job("J-3", JobStatus.ON_HOLD, Priority.NORMAL, date(2030, 6, 5))
    op(held, 10, laser, "10", "1")
    draft = job("J-4", JobStatus.DRAFT, Priority.NORMAL, date(2030, 6, 5))
    op(draft, 10, laser, "10", "1")
    return TinyShop(laser, brake, las_1, las_2, brk_1, rush, running)


def test_the_tiny_shop_becomes_the_exact_problem() -> None:
    build_tiny_shop()
    planning = build_planning_input(origin=ORIGIN, horizon_days=2)
    # Monday from 08:00 (minute 0) and Tuesday from 06:00 (minute 1320), each with its 10:00 break,
    # then Wednesday 06:00 to the horizon end at 08:00.
    days = ((0, 120), (150, 390), (1320, 1560), (1590, 1830), (2760, 2880))
    expected = solver.Problem(
        machines=(
            solver.Machine("BRK-1", days),
            solver.Machine("LAS-1", days, setup_group="fiber-laser"),
            solver.Machine("LAS-2", days, setup_group="fiber-laser"),
        ),
        jobs=(
            solver.Job(
                "J-1",
                (
                    solver.Operation(
                        "10", (solver.Option("LAS-1", 30), solver.Option("LAS-2", 24)), setup_category="SS304-16"
                    ),
                    solver.Operation("20", (solver.Option("BRK-1", 20),), predecessors=("10",)),
                ),
                due=2400,  # end of Tuesday the 4th
                weight=8,
            ),
            solver.Job(
                "J-2",
                (
                    # Running on LAS-2 since 07:00: 80 minutes there, 60 worked, 20 left.
                    solver.Operation(
                        "20",
                        (solver.Option("LAS-1", 100), solver.Option("LAS-2", 80)),
                        setup_category="SS304-16",
                        fixed=solver.Fixed("LAS-2", 0, 20),
                    ),
                    solver.Operation("30", (solver.Option("BRK-1", 30),), predecessors=("20",)),
                ),
                due=-1920,  # end of Saturday the 1st: already 32 hours late
                weight=1,
            ),
        ),
        horizon=2880,
        setup_matrices={"fiber-laser": solver.SetupMatrix({("SS304-16", "CRS-14"): 20})},
    )
    assert planning.problem == expected
    assert planning.origin == ORIGIN
    assert sorted(planning.work_centers) == ["BRK-1", "LAS-1", "LAS-2"]
    assert sorted(planning.operations) == [("J-1", "10"), ("J-1", "20"), ("J-2", "20"), ("J-2", "30")]


def test_break_straddle_setting_and_horizon_start() -> None:
    build_tiny_shop()
    planning = build_planning_input(origin=ORIGIN, horizon_days=1, allow_break_straddle=False)
    assert planning.problem.straddle is solver.Straddle.WITHIN_WINDOW
    assert planning.problem.horizon == 1440
    assert horizon_start(ORIGIN + timedelta(seconds=1)) == ORIGIN + timedelta(minutes=1)
    assert horizon_start(ORIGIN) == ORIGIN


def test_two_running_operations_on_one_machine_are_queued() -> None:
    shop = build_tiny_shop()
    Operation.objects.filter(job=shop.rush, sequence=10).update(
        status=OperationStatus.IN_PROGRESS, preferred_work_center=shop.las_2, actual_start=ORIGIN
    )
    problem = build_planning_input(origin=ORIGIN, horizon_days=2).problem
    fixed = {(job.id, op.id): op.fixed for job in problem.jobs for op in job.operations if op.fixed}
    # J-2/20 started first (07:00) and keeps LAS-2; J-1/10 goes to the free LAS-1 for its 30 minutes.
    assert fixed == {("J-2", "20"): solver.Fixed("LAS-2", 0, 20), ("J-1", "10"): solver.Fixed("LAS-1", 0, 30)}


def test_demo_changeovers_are_seeded_once() -> None:
    department = Department.objects.create(code="laser", name="Laser", sequence=1)
    laser = WorkCenterType.objects.create(code="fiber-laser", name="Fiber laser", department=department)
    call_command("seed_demo_changeovers", stdout=StringIO())
    call_command("seed_demo_changeovers", stdout=StringIO())
    minutes = {(row.from_category, row.to_category): row.minutes for row in ChangeoverTime.objects.all()}
    assert len(minutes) == 17 * 16  # every ordered pair of the demo's 17 sheet materials
    assert ChangeoverTime.objects.filter(work_center_type=laser).count() == 272
    assert minutes[("SS304-16-4", "SS304-16-4-60")] == 5  # only the sheet size differs
    assert minutes[("SS304-16-4", "SS304-14-4")] == 10  # same grade, other gauge
    assert minutes[("SS304-16-4", "SS430-16-4")] == 20  # other stainless grade
    assert minutes[("SS304-16-4", "CRS-16")] == 30  # stainless to carbon steel
    assert minutes[("CRS-16", "GALV-16")] == 20
