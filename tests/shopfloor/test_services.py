"""Every shop-floor transition, and every refused one with nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.machines.choices import AmendmentCause
from apps.machines.models import HistoryAmendment
from apps.routings.choices import JobStatus, OperationPhase, OperationStatus
from apps.routings.models import Operation
from apps.scheduling import solver
from apps.shopfloor import services
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import Attendance, LaborEntry, ProductionEvent

from .floor import Floor, build_floor

T0 = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def floor(personas: dict[str, Any]) -> Floor:
    return build_floor(personas["production_manager"])


@pytest.fixture
def operator(personas: dict[str, Any], floor: Floor) -> Any:
    user = personas["operator"]
    services.clock_in(operator=user, work_center_ids=[floor.shop.laser_1.pk, floor.shop.brake_1.pk], at=at(0))
    return user


def snapshot(operation: Operation) -> tuple[Any, ...]:
    op = Operation.objects.get(pk=operation.pk)
    return (
        op.status,
        op.phase,
        op.paused_since,
        op.quantity_good,
        op.quantity_scrap,
        op.work_center_id,
        ProductionEvent.objects.count(),
        LaborEntry.objects.count(),
        LaborEntry.objects.filter(ended_at__isnull=True).count(),
    )


def refused(code: str, operation: Operation, call: Any) -> None:
    before = snapshot(operation)
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.code == code, caught.value.messages
    assert snapshot(operation) == before


def events(operation: Operation) -> list[tuple[str, int, int]]:
    return [(e.kind, e.quantity_good, e.quantity_scrap) for e in ProductionEvent.objects.filter(operation=operation)]


def test_a_whole_operation_setup_run_pause_report_complete(floor: Floor, operator: Any) -> None:
    cut = services.start_operation(
        operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk, at=at(5)
    )
    assert (cut.status, cut.phase, cut.work_center_id, cut.actual_start) == (
        OperationStatus.IN_PROGRESS,
        OperationPhase.SETUP,
        floor.shop.laser_1.pk,
        at(5),
    )
    assert cut.job.status == JobStatus.IN_PROGRESS
    services.finish_setup(operator=operator, operation_id=cut.pk, at=at(20))
    services.pause_operation(
        operator=operator, operation_id=cut.pk, reason_id=floor.waiting_for_material.pk, note="sheet", at=at(30)
    )
    paused = Operation.objects.get(pk=cut.pk)
    assert paused.paused_since == at(30)
    services.report_quantity(
        operator=operator, operation_id=cut.pk, good=4, scrap=1, scrap_reason_id=floor.bad_cut.pk, at=at(31)
    )
    services.resume_operation(operator=operator, operation_id=cut.pk, at=at(40))
    done = services.complete_operation(operator=operator, operation_id=cut.pk, good=6, at=at(50))
    assert (done.status, done.quantity_good, done.quantity_scrap, done.actual_end, done.paused_since) == (
        OperationStatus.COMPLETE,
        10,
        1,
        at(50),
        None,
    )
    assert events(cut) == [
        (EventKind.START_SETUP, 0, 0),
        (EventKind.START_RUN, 0, 0),
        (EventKind.PAUSE, 0, 0),
        (EventKind.REPORT, 4, 1),
        (EventKind.RESUME, 0, 0),
        (EventKind.REPORT, 6, 0),
        (EventKind.COMPLETE, 0, 0),
    ]
    pause = ProductionEvent.objects.get(operation=cut, kind=EventKind.PAUSE)
    assert (pause.pause_reason_id, pause.note) == (floor.waiting_for_material.pk, "sheet")
    labor = [
        (e.phase, e.started_at, e.ended_at) for e in LaborEntry.objects.filter(operation=cut).order_by("started_at")
    ]
    # Setup 15 min, run 10 min before the pause, nothing while paused, run 10 min after.
    assert labor == [
        (OperationPhase.SETUP, at(5), at(20)),
        (OperationPhase.RUN, at(20), at(30)),
        (OperationPhase.RUN, at(40), at(50)),
    ]


def test_no_setup_time_starts_in_run(floor: Floor, operator: Any) -> None:
    Operation.objects.filter(pk=floor.cut.pk).update(setup_minutes=0)
    cut = services.start_operation(operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk)
    assert cut.phase == OperationPhase.RUN
    assert events(cut) == [(EventKind.START_RUN, 0, 0)]


def test_completing_the_last_operation_completes_the_job(floor: Floor, operator: Any, personas: dict[str, Any]) -> None:
    services.set_attendance_machines(
        operator=operator,
        work_center_ids=[floor.shop.laser_1.pk, floor.shop.brake_1.pk, floor.shop.weld_1.pk],
    )
    for op, machine in (
        (floor.cut, floor.shop.laser_1),
        (floor.bend, floor.shop.brake_1),
        (floor.weld, floor.shop.weld_1),
    ):
        services.start_operation(operator=operator, operation_id=op.pk, work_center_id=machine.pk)
        services.complete_operation(operator=operator, operation_id=op.pk, good=10)
    floor.job.refresh_from_db()
    assert floor.job.status == JobStatus.COMPLETE


def test_complete_before_start_is_refused(floor: Floor, operator: Any) -> None:
    refused(
        "conflict",
        floor.cut,
        lambda: services.complete_operation(operator=operator, operation_id=floor.cut.pk, good=10),
    )


def test_start_twice_is_a_conflict(floor: Floor, operator: Any) -> None:
    services.start_operation(operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk)
    refused(
        "conflict",
        floor.cut,
        lambda: services.start_operation(
            operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk
        ),
    )


def test_start_on_a_machine_not_clocked_in_to_is_refused(floor: Floor, personas: dict[str, Any]) -> None:
    user = personas["operator"]
    services.clock_in(operator=user, work_center_ids=[floor.shop.brake_1.pk])
    refused(
        "not_clocked_in",
        floor.cut,
        lambda: services.start_operation(
            operator=user, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk
        ),
    )


def test_start_without_clocking_in_is_refused(floor: Floor, personas: dict[str, Any]) -> None:
    refused(
        "not_clocked_in",
        floor.cut,
        lambda: services.start_operation(
            operator=personas["operator"], operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk
        ),
    )


def test_start_on_a_machine_of_another_type_is_refused(floor: Floor, operator: Any) -> None:
    refused(
        "invalid",
        floor.cut,
        lambda: services.start_operation(
            operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.brake_1.pk
        ),
    )


def test_start_before_the_predecessor_started_is_refused(floor: Floor, operator: Any) -> None:
    refused(
        "invalid",
        floor.bend,
        lambda: services.start_operation(
            operator=operator, operation_id=floor.bend.pk, work_center_id=floor.shop.brake_1.pk
        ),
    )
    services.start_operation(operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk)
    bend = services.start_operation(operator=operator, operation_id=floor.bend.pk, work_center_id=floor.shop.brake_1.pk)
    assert bend.status == OperationStatus.IN_PROGRESS  # overlapping a running cut is normal


@pytest.fixture
def running(floor: Floor, operator: Any) -> Operation:
    return services.start_operation(
        operator=operator, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk, at=at(5)
    )


def test_more_good_parts_than_ordered_are_refused(floor: Floor, operator: Any, running: Operation) -> None:
    services.report_quantity(operator=operator, operation_id=running.pk, good=8)
    refused("invalid", running, lambda: services.report_quantity(operator=operator, operation_id=running.pk, good=3))
    refused("invalid", running, lambda: services.complete_operation(operator=operator, operation_id=running.pk, good=3))


def test_scrap_needs_a_reason_and_counts_must_be_positive(floor: Floor, operator: Any, running: Operation) -> None:
    refused(
        "invalid",
        running,
        lambda: services.report_quantity(operator=operator, operation_id=running.pk, good=0, scrap=2),
    )
    refused("invalid", running, lambda: services.report_quantity(operator=operator, operation_id=running.pk, good=0))
    refused("invalid", running, lambda: services.report_quantity(operator=operator, operation_id=running.pk, good=-1))


def test_completing_short_needs_confirmation(floor: Floor, operator: Any, running: Operation) -> None:
    refused("short", running, lambda: services.complete_operation(operator=operator, operation_id=running.pk, good=7))
    done = services.complete_operation(operator=operator, operation_id=running.pk, good=7, accept_short=True)
    assert (done.status, done.quantity_good) == (OperationStatus.COMPLETE, 7)


def test_pause_needs_an_active_reason_and_cannot_happen_twice(floor: Floor, operator: Any, running: Operation) -> None:
    floor.waiting_for_material.is_active = False
    floor.waiting_for_material.save()
    refused(
        "invalid",
        running,
        lambda: services.pause_operation(
            operator=operator, operation_id=running.pk, reason_id=floor.waiting_for_material.pk
        ),
    )
    floor.waiting_for_material.is_active = True
    floor.waiting_for_material.save()
    services.pause_operation(operator=operator, operation_id=running.pk, reason_id=floor.waiting_for_material.pk)
    refused(
        "conflict",
        running,
        lambda: services.pause_operation(
            operator=operator, operation_id=running.pk, reason_id=floor.waiting_for_material.pk
        ),
    )
    refused("conflict", running, lambda: services.finish_setup(operator=operator, operation_id=running.pk))


def test_resume_when_not_paused_and_finish_setup_twice_are_conflicts(
    floor: Floor, operator: Any, running: Operation
) -> None:
    refused("conflict", running, lambda: services.resume_operation(operator=operator, operation_id=running.pk))
    services.finish_setup(operator=operator, operation_id=running.pk)
    refused("conflict", running, lambda: services.finish_setup(operator=operator, operation_id=running.pk))


def test_two_operators_on_one_operation_and_one_operator_on_two_machines(
    floor: Floor, operator: Any, running: Operation, make_user: Any
) -> None:
    helper = make_user("helper", "operator")
    services.clock_in(operator=helper, work_center_ids=[floor.shop.laser_1.pk], at=at(0))
    services.join_operation(operator=helper, operation_id=running.pk, at=at(10))
    refused("conflict", running, lambda: services.join_operation(operator=helper, operation_id=running.pk))
    services.finish_setup(operator=operator, operation_id=running.pk, at=at(20))
    # Both move to the run phase at the end of setup.
    assert sorted(
        (e.operator.username, e.phase) for e in LaborEntry.objects.filter(operation=running, ended_at__isnull=True)
    ) == [("helper", OperationPhase.RUN), ("operator", OperationPhase.RUN)]
    services.leave_operation(operator=helper, operation_id=running.pk, at=at(25))
    refused("conflict", running, lambda: services.leave_operation(operator=helper, operation_id=running.pk))
    Operation.objects.filter(pk=floor.bend.pk).update(setup_minutes=0)
    services.start_operation(
        operator=operator, operation_id=floor.bend.pk, work_center_id=floor.shop.brake_1.pk, at=at(26)
    )
    assert LaborEntry.objects.filter(operator=operator, ended_at__isnull=True).count() == 2


def test_clock_out_ends_labor_and_clock_in_twice_is_refused(floor: Floor, operator: Any, running: Operation) -> None:
    with pytest.raises(ValidationError) as caught:
        services.clock_in(operator=operator, work_center_ids=[floor.shop.laser_1.pk])
    assert caught.value.code == "conflict"
    services.clock_out(operator=operator, at=at(60))
    assert LaborEntry.objects.get(operator=operator).ended_at == at(60)
    assert Attendance.objects.get(operator=operator).clocked_out_at == at(60)
    running.refresh_from_db()
    assert running.status == OperationStatus.IN_PROGRESS  # the operation goes on without them
    with pytest.raises(ValidationError) as caught:
        services.clock_out(operator=operator)
    assert caught.value.code == "not_clocked_in"


def test_leaving_a_machine_ends_labor_there(floor: Floor, operator: Any, running: Operation) -> None:
    services.set_attendance_machines(operator=operator, work_center_ids=[floor.shop.brake_1.pk], at=at(30))
    assert LaborEntry.objects.get(operation=running).ended_at == at(30)
    refused("not_clocked_in", running, lambda: services.finish_setup(operator=operator, operation_id=running.pk))


def test_clock_in_to_an_unknown_machine_is_refused(personas: dict[str, Any], floor: Floor) -> None:
    with pytest.raises(ValidationError) as caught:
        services.clock_in(operator=personas["operator"], work_center_ids=[floor.shop.laser_1.pk, 999999])
    assert caught.value.code == "invalid"
    assert not Attendance.objects.exists()


def test_outsider_may_not_clock_in(personas: dict[str, Any], floor: Floor) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.clock_in(operator=personas["outsider"], work_center_ids=[floor.shop.laser_1.pk])
    assert not Attendance.objects.exists()


def test_supervisor_corrects_labor_with_a_reason_kept(
    floor: Floor, operator: Any, running: Operation, personas: dict[str, Any]
) -> None:
    entry = LaborEntry.objects.get(operation=running)
    supervisor = personas["supervisor"]
    with pytest.raises(ValidationError):
        services.correct_labor_entry(
            supervisor=supervisor, entry_id=entry.pk, started_at=at(5), ended_at=at(1), reason="x"
        )
    with pytest.raises(ValidationError):
        services.correct_labor_entry(
            supervisor=supervisor, entry_id=entry.pk, started_at=at(5), ended_at=at(9), reason=" "
        )
    services.correct_labor_entry(
        supervisor=supervisor, entry_id=entry.pk, started_at=at(5), ended_at=at(45), reason="forgot to stop"
    )
    latest = entry.history.latest()  # type: ignore[attr-defined]
    assert (latest.ended_at, latest.history_change_reason, latest.history_user) == (
        at(45),
        "forgot to stop",
        supervisor,
    )
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.correct_labor_entry(
            supervisor=operator, entry_id=entry.pk, started_at=at(5), ended_at=at(6), reason="me"
        )
    assert LaborEntry.objects.get(pk=entry.pk).ended_at == at(45)


def test_supervisor_corrects_a_forgotten_clock_out(floor: Floor, operator: Any, personas: dict[str, Any]) -> None:
    attendance = Attendance.objects.get(operator=operator)
    services.correct_attendance(
        supervisor=personas["supervisor"],
        attendance_id=attendance.pk,
        clocked_in_at=at(0),
        clocked_out_at=at(510),
        reason="left at 14:30",
    )
    attendance.refresh_from_db()
    assert attendance.clocked_out_at == at(510)
    assert attendance.history.latest().history_change_reason == "left at 14:30"  # type: ignore[attr-defined]


def test_replanning_keeps_a_running_operation_on_its_machine_with_the_work_left(
    floor: Floor, operator: Any, running: Operation
) -> None:
    from apps.scheduling.adapter import build_planning_input, end_after_working, horizon_start
    from tests.routings.builders import day_shift_plant_calendar

    day_shift_plant_calendar()
    services.finish_setup(operator=operator, operation_id=running.pk)
    services.report_quantity(operator=operator, operation_id=running.pk, good=6)
    planning = build_planning_input(origin=horizon_start(datetime.now(UTC)), horizon_days=14)
    job = next(j for j in planning.problem.jobs if j.id == floor.job.number)
    cut = next(op for op in job.operations if op.id == "10")
    laser = next(m for m in planning.problem.machines if m.id == floor.shop.laser_1.code)
    # 4 parts left at 0.5 min each: 2 working minutes; setup is done.
    assert cut.fixed == solver.Fixed(machine=laser.id, start=0, end=end_after_working(laser.working, 0, 2))


def test_the_gantt_shows_what_the_floor_reported(floor: Floor, operator: Any, running: Operation) -> None:
    from apps.scheduling.gantt import Tone
    from apps.scheduling.models import Schedule, ScheduleSlot
    from apps.scheduling.selectors import floor_progress, tone_of

    services.finish_setup(operator=operator, operation_id=running.pk)
    services.report_quantity(
        operator=operator, operation_id=running.pk, good=6, scrap=1, scrap_reason_id=floor.bad_cut.pk
    )
    schedule = Schedule.objects.create(name="plan", horizon_start=at(0), horizon_end=at(10_000))
    slot = ScheduleSlot.objects.create(
        schedule=schedule,
        operation=running,
        work_center=floor.shop.laser_1,
        setup_start=at(0),
        start=at(15),
        end=at(20),
    )
    slot = ScheduleSlot.objects.select_related("operation__work_center").get(pk=slot.pk)
    assert tone_of(slot, at(20), floor.job.due_date) == Tone.FROZEN
    assert floor_progress(slot.operation) == " · on the floor: run on laser-1 · 6 of 10 good, 1 scrap"
    services.pause_operation(operator=operator, operation_id=running.pk, reason_id=floor.waiting_for_material.pk)
    assert (
        floor_progress(Operation.objects.get(pk=running.pk))
        == " · on the floor: paused on laser-1 · 6 of 10 good, 1 scrap"
    )


def test_work_reported_for_an_earlier_day_amends_the_machine_history(floor: Floor, personas: dict[str, Any]) -> None:
    """A phone that was offline sends yesterday's reports today: stored OEE of that day must be computed again."""
    user, laser = personas["operator"], floor.shop.laser_1
    yesterday = timezone.now() - timedelta(days=1)
    services.clock_in(operator=user, work_center_ids=[laser.pk], at=yesterday)
    services.start_operation(operator=user, operation_id=floor.cut.pk, work_center_id=laser.pk, at=yesterday)
    services.report_quantity(operator=user, operation_id=floor.cut.pk, good=3, at=yesterday + timedelta(hours=1))
    amended = HistoryAmendment.objects.filter(work_center=laser, cause=AmendmentCause.PRODUCTION_REPORTED)
    assert amended.count() == 2  # the start and the report
    assert amended.filter(start=yesterday + timedelta(hours=1), end=yesterday + timedelta(hours=1)).exists()
    services.report_quantity(operator=user, operation_id=floor.cut.pk, good=2)
    assert amended.count() == 2  # reported now: nothing stored can be behind it yet
