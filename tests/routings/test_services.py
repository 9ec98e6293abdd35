"""The job workflow services: release copies the routing, illegal moves change nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.routings import services
from apps.routings.choices import JobStatus, OperationStatus
from apps.routings.models import Job, Operation, RoutingStep

from .builders import Shop, build_shop, diamond_part, make_job, make_part, step, straight_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> Shop:
    return build_shop()


def operations_of(job: Job) -> list[tuple[Any, ...]]:
    rows = Operation.objects.filter(job=job).select_related("work_center_type", "preferred_work_center")
    return [
        (
            op.sequence,
            op.operation_code,
            op.work_center_type.code,
            op.preferred_work_center.code if op.preferred_work_center else None,
            op.quantity,
            op.setup_minutes,
            op.run_minutes_per_unit,
            op.status,
            sorted(p.sequence for p in op.predecessors.all()),
        )
        for op in rows.order_by("sequence")
    ]


def snapshot(job: Job) -> tuple[Any, ...]:
    job = Job.objects.get(pk=job.pk)
    return (
        job.status,
        job.quantity,
        job.hold_reason,
        job.released_at,
        job.status_changed_at,
        job.notes,
        tuple(operations_of(job)),
        Job.objects.count(),
        Operation.objects.count(),
    )


def refused(call: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.messages == [message]


# --- release --------------------------------------------------------------------------------


def test_release_copies_the_straight_routing(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), quantity=40, number="J-100")
    released = services.release_job(actor=personas["planner"], job_id=job.pk)

    assert released.status == JobStatus.RELEASED
    assert released.released_by == personas["planner"]
    assert released.status_changed_by == personas["planner"]
    assert released.released_at is not None
    assert operations_of(job) == [
        (10, "CUT", "laser", "laser-1", 40, Decimal("15.00"), Decimal("0.500"), "pending", []),
        (20, "BEND", "brake", None, 40, Decimal("20.00"), Decimal("1.250"), "pending", [10]),
        (30, "WELD", "weld", None, 40, Decimal("30.00"), Decimal("2.000"), "pending", [20]),
    ]
    assert [op.total_minutes for op in Operation.objects.filter(job=job)] == [
        Decimal("35.00"),
        Decimal("70.00"),
        Decimal("110.00"),
    ]


def test_release_copies_explicit_predecessors_of_a_branching_routing(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, diamond_part(shop), quantity=8)
    services.release_job(actor=personas["production_manager"], job_id=job.pk)
    assert operations_of(job) == [
        (10, "CUT", "laser", None, 8, Decimal("10.00"), Decimal("1.000"), "pending", []),
        (20, "BEND", "brake", None, 8, Decimal("20.00"), Decimal("2.000"), "pending", [10]),
        (30, "PUNCH", "punch", None, 8, Decimal("5.00"), Decimal("0.500"), "pending", [10]),
        (40, "WELD", "weld", None, 8, Decimal("30.00"), Decimal("3.000"), "pending", [20, 30]),
    ]


def test_release_is_audited(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=personas["planner"], job_id=job.pk)
    latest = Job.history.filter(id=job.pk).latest("history_date")
    assert (latest.status, latest.history_user, latest.history_change_reason) == (
        "released",
        personas["planner"],
        "released",
    )
    created = Operation.history.filter(job_id=job.pk)
    assert sorted(created.values_list("sequence", "history_type")) == [(10, "+"), (20, "+"), (30, "+")]


def test_release_of_a_cancelled_job_is_refused_and_changes_nothing(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), number="J-7", status=JobStatus.CANCELLED)
    before = snapshot(job)
    refused(
        lambda: services.release_job(actor=personas["planner"], job_id=job.pk),
        "Job J-7 is cancelled; only a draft job can be released.",
    )
    assert snapshot(job) == before


def test_release_twice_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), number="J-8")
    services.release_job(actor=personas["planner"], job_id=job.pk)
    before = snapshot(job)
    refused(
        lambda: services.release_job(actor=personas["planner"], job_id=job.pk),
        "Job J-8 is released; only a draft job can be released.",
    )
    assert snapshot(job) == before


def test_release_needs_the_permission(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop))
    before = snapshot(job)
    with pytest.raises(PermissionDenied):
        services.release_job(actor=personas["supervisor"], job_id=job.pk)
    assert snapshot(job) == before


def test_precedence_cycle_is_refused_naming_the_steps(shop: Shop, personas: dict[str, Any]) -> None:
    part = make_part("CYC-1")
    first = step(part, 10, "CUT", shop.laser, "5", "1")
    second = step(part, 20, "BEND", shop.brake, "5", "1")
    first.predecessors.set([second])
    job = make_job(shop, part)
    before = snapshot(job)
    refused(
        lambda: services.release_job(actor=personas["planner"], job_id=job.pk),
        "The routing of CYC-1 rev A has a precedence cycle: 10 → 20 → 10.",
    )
    assert snapshot(job) == before


def test_step_without_an_active_work_center_is_refused_naming_the_step(shop: Shop, personas: dict[str, Any]) -> None:
    part = straight_part(shop, "PNL-1")
    shop.brake_1.is_active = False
    shop.brake_1.save()
    job = make_job(shop, part)
    before = snapshot(job)
    refused(
        lambda: services.release_job(actor=personas["planner"], job_id=job.pk),
        "Step 20 of PNL-1 rev A needs a Press brake 135 t, but no active work center is of that type.",
    )
    assert snapshot(job) == before


def test_part_without_routing_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, make_part("BARE-1"))
    refused(
        lambda: services.release_job(actor=personas["planner"], job_id=job.pk),
        "Part BARE-1 rev A has no routing steps.",
    )
    assert Job.objects.get(pk=job.pk).status == JobStatus.DRAFT


def test_predecessor_from_another_part_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    other = straight_part(shop, "OTHER-1")
    part = make_part("MAIN-1")
    step(part, 10, "CUT", shop.laser, "5", "1", after=[other.routing_steps.get(sequence=30)])
    job = make_job(shop, part)
    refused(
        lambda: services.release_job(actor=personas["planner"], job_id=job.pk),
        "Step 10 of MAIN-1 rev A follows OTHER-1 rev A 30 WELD, which is not a step of this routing.",
    )
    assert Operation.objects.count() == 0


# --- hold, resume, cancel ---------------------------------------------------------------------


def test_hold_and_resume(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=personas["planner"], job_id=job.pk)
    held = services.hold_job(actor=personas["supervisor"], job_id=job.pk, reason="  waiting for 304 sheet ")
    assert (held.status, held.hold_reason, held.status_changed_by) == (
        JobStatus.ON_HOLD,
        "waiting for 304 sheet",
        personas["supervisor"],
    )
    resumed = services.resume_job(actor=personas["supervisor"], job_id=job.pk)
    assert (resumed.status, resumed.hold_reason) == (JobStatus.RELEASED, "")


def test_resume_goes_back_to_in_progress_when_work_had_started(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=personas["planner"], job_id=job.pk)
    first = Operation.objects.get(job=job, sequence=10)
    services.start_operation(actor=personas["supervisor"], operation_id=first.pk)
    services.hold_job(actor=personas["supervisor"], job_id=job.pk, reason="brake down")
    assert services.resume_job(actor=personas["supervisor"], job_id=job.pk).status == JobStatus.IN_PROGRESS


def test_hold_of_a_draft_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), number="J-9")
    before = snapshot(job)
    refused(
        lambda: services.hold_job(actor=personas["supervisor"], job_id=job.pk, reason="customer change"),
        "Job J-9 is draft and cannot be put on hold.",
    )
    assert snapshot(job) == before


def test_hold_needs_a_reason(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=personas["planner"], job_id=job.pk)
    before = snapshot(job)
    refused(
        lambda: services.hold_job(actor=personas["supervisor"], job_id=job.pk, reason="  "),
        "Say why the job goes on hold.",
    )
    refused(
        lambda: services.hold_job(actor=personas["supervisor"], job_id=job.pk, reason="x" * 201),
        "Keep the reason to 200 characters.",
    )
    assert snapshot(job) == before


def test_resume_of_a_released_job_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), number="J-10")
    services.release_job(actor=personas["planner"], job_id=job.pk)
    before = snapshot(job)
    refused(
        lambda: services.resume_job(actor=personas["supervisor"], job_id=job.pk),
        "Job J-10 is released and cannot be resumed.",
    )
    assert snapshot(job) == before


def test_cancel_cancels_unfinished_operations_and_keeps_the_notes(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), notes="Ship with the frames.")
    services.release_job(actor=personas["planner"], job_id=job.pk)
    first = Operation.objects.get(job=job, sequence=10)
    services.start_operation(actor=personas["supervisor"], operation_id=first.pk)
    services.complete_operation(actor=personas["supervisor"], operation_id=first.pk)

    cancelled = services.cancel_job(actor=personas["production_manager"], job_id=job.pk, reason="order withdrawn")

    assert cancelled.status == JobStatus.CANCELLED
    assert cancelled.notes == "Ship with the frames.\nCancelled: order withdrawn"
    assert [op[7] for op in operations_of(job)] == ["complete", "cancelled", "cancelled"]
    refused(
        lambda: services.cancel_job(actor=personas["production_manager"], job_id=job.pk),
        f"Job {job.number} is cancelled and cannot be cancelled.",
    )


def test_cancel_of_a_complete_job_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), number="J-11", status=JobStatus.COMPLETE)
    before = snapshot(job)
    refused(
        lambda: services.cancel_job(actor=personas["production_manager"], job_id=job.pk, reason="x"),
        "Job J-11 is complete and cannot be cancelled.",
    )
    assert snapshot(job) == before


# --- operations -------------------------------------------------------------------------------


def test_completing_an_operation_of_a_draft_job_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), number="J-12")
    # A draft has no operations of its own; one entered by hand must still not complete it.
    operation = Operation.objects.create(
        job=job,
        sequence=10,
        operation_code="CUT",
        work_center_type=shop.laser,
        quantity=10,
        setup_minutes=Decimal("5"),
        run_minutes_per_unit=Decimal("1"),
        status=OperationStatus.IN_PROGRESS,
    )
    before = snapshot(job)
    refused(
        lambda: services.complete_operation(actor=personas["supervisor"], operation_id=operation.pk),
        "Job J-12 is draft and cannot be worked on.",
    )
    assert snapshot(job) == before


def test_completing_a_pending_operation_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), number="J-13")
    services.release_job(actor=personas["planner"], job_id=job.pk)
    operation = Operation.objects.get(job=job, sequence=10)
    before = snapshot(job)
    refused(
        lambda: services.complete_operation(actor=personas["supervisor"], operation_id=operation.pk),
        "Operation J-13/10 CUT is pending; only an operation in progress can be completed.",
    )
    assert snapshot(job) == before


def test_job_is_complete_when_its_last_operation_is(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=personas["planner"], job_id=job.pk)
    for operation in Operation.objects.filter(job=job).order_by("sequence"):
        services.start_operation(actor=personas["supervisor"], operation_id=operation.pk)
        assert Job.objects.get(pk=job.pk).status == JobStatus.IN_PROGRESS
        services.complete_operation(actor=personas["supervisor"], operation_id=operation.pk)
    assert Job.objects.get(pk=job.pk).status == JobStatus.COMPLETE


def test_update_operation_checks_the_preferred_work_center(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=personas["planner"], job_id=job.pk)
    bend = Operation.objects.get(job=job, sequence=20)
    with pytest.raises(ValidationError) as caught:
        services.update_operation(
            actor=personas["supervisor"], operation_id=bend.pk, changes={"preferred_work_center": shop.laser_1}
        )
    assert caught.value.message_dict == {
        "preferred_work_center": ["laser-1 Fiber laser 3 kW 1 is not a Press brake 135 t."]
    }
    changed = services.update_operation(
        actor=personas["supervisor"],
        operation_id=bend.pk,
        changes={"preferred_work_center": shop.brake_1, "setup_minutes": Decimal("12.5")},
    )
    assert (changed.preferred_work_center, changed.setup_minutes) == (shop.brake_1, Decimal("12.5"))
    with pytest.raises(ValidationError):
        services.update_operation(actor=personas["supervisor"], operation_id=bend.pk, changes={"quantity": 3})


# --- split ------------------------------------------------------------------------------------


def test_split_copies_the_operations(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, diamond_part(shop), quantity=10, number="J-20", due=date(2030, 5, 3), priority=2)
    services.release_job(actor=personas["planner"], job_id=job.pk)

    new_job = services.split_job(actor=personas["supervisor"], job_id=job.pk, quantity=4)

    job.refresh_from_db()
    assert (new_job.number, new_job.quantity, new_job.status, new_job.split_from, new_job.due_date) == (
        "J-20-2",
        4,
        JobStatus.RELEASED,
        job,
        date(2030, 5, 3),
    )
    assert (new_job.priority, new_job.customer, new_job.part) == (2, job.customer, job.part)
    assert job.quantity == 6
    assert [(op[0], op[1], op[4], op[8]) for op in operations_of(job)] == [
        (10, "CUT", 6, []),
        (20, "BEND", 6, [10]),
        (30, "PUNCH", 6, [10]),
        (40, "WELD", 6, [20, 30]),
    ]
    assert [(op[0], op[1], op[4], op[8]) for op in operations_of(new_job)] == [
        (10, "CUT", 4, []),
        (20, "BEND", 4, [10]),
        (30, "PUNCH", 4, [10]),
        (40, "WELD", 4, [20, 30]),
    ]
    again = services.split_job(actor=personas["supervisor"], job_id=job.pk, quantity=1)
    assert again.number == "J-20-3"


@pytest.mark.parametrize("quantity", [0, -2, 10, 11])
def test_split_quantity_out_of_range_is_refused(shop: Shop, personas: dict[str, Any], quantity: int) -> None:
    job = make_job(shop, straight_part(shop), quantity=10, number="J-21")
    before = snapshot(job)
    refused(
        lambda: services.split_job(actor=personas["supervisor"], job_id=job.pk, quantity=quantity),
        "Split quantity must be between 1 and 9 for job J-21.",
    )
    assert snapshot(job) == before


def test_split_of_a_started_job_is_refused(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), quantity=10, number="J-22")
    services.release_job(actor=personas["planner"], job_id=job.pk)
    services.start_operation(actor=personas["supervisor"], operation_id=Operation.objects.get(job=job, sequence=10).pk)
    before = snapshot(job)
    refused(
        lambda: services.split_job(actor=personas["supervisor"], job_id=job.pk, quantity=3),
        "Job J-22 is in progress and cannot be split.",
    )
    assert snapshot(job) == before


# --- jobs and routing steps -------------------------------------------------------------------


def test_create_job_validates(shop: Shop, personas: dict[str, Any]) -> None:
    part = straight_part(shop)
    job = services.create_job(
        actor=personas["supervisor"],
        number="J-30",
        customer=shop.customer,
        part=part,
        quantity=5,
        due_date=date(2030, 1, 2),
    )
    assert (job.status, job.priority) == (JobStatus.DRAFT, 3)
    with pytest.raises(ValidationError) as caught:
        services.create_job(
            actor=personas["supervisor"],
            number="J-31",
            customer=shop.customer,
            part=part,
            quantity=0,
            due_date=date(2030, 1, 2),
        )
    assert list(caught.value.message_dict) == ["quantity"]
    with pytest.raises(PermissionDenied):
        services.create_job(
            actor=personas["operator"],
            number="J-32",
            customer=shop.customer,
            part=part,
            quantity=1,
            due_date=date(2030, 1, 2),
        )
    assert list(Job.objects.values_list("number", flat=True)) == ["J-30"]


def test_update_job_keeps_released_quantity(shop: Shop, personas: dict[str, Any]) -> None:
    job = make_job(shop, straight_part(shop), quantity=10, number="J-33")
    services.update_job(actor=personas["supervisor"], job_id=job.pk, changes={"quantity": 12, "priority": 1})
    services.release_job(actor=personas["planner"], job_id=job.pk)
    with pytest.raises(ValidationError) as caught:
        services.update_job(actor=personas["supervisor"], job_id=job.pk, changes={"quantity": 14})
    assert caught.value.message_dict == {
        "quantity": ["Job J-33 is released: its quantity can no longer change; split or cancel it instead."]
    }
    changed = services.update_job(
        actor=personas["supervisor"], job_id=job.pk, changes={"quantity": 12, "due_date": date(2030, 7, 1)}
    )
    assert (changed.quantity, changed.priority, changed.due_date) == (12, 1, date(2030, 7, 1))


def test_delete_only_drafts(shop: Shop, personas: dict[str, Any]) -> None:
    draft = make_job(shop, straight_part(shop))
    released = make_job(shop, draft.part, number="J-34", status=JobStatus.RELEASED)
    services.delete_job(actor=personas["admin"], job_id=draft.pk)
    refused(
        lambda: services.delete_job(actor=personas["admin"], job_id=released.pk),
        "Job J-34 is released; only a draft can be deleted, cancel it instead.",
    )
    assert list(Job.objects.values_list("number", flat=True)) == ["J-34"]


def test_save_routing_step_refuses_a_cycle_naming_the_steps(shop: Shop, personas: dict[str, Any]) -> None:
    part = straight_part(shop, "RS-1")
    cut = part.routing_steps.get(sequence=10)
    weld = part.routing_steps.get(sequence=30)
    with pytest.raises(ValidationError) as caught:
        services.save_routing_step(actor=personas["production_manager"], step=cut, predecessors=[weld])
    assert caught.value.messages == ["The routing of RS-1 rev A has a precedence cycle: 10 → 30 → 20 → 10."]
    assert list(cut.predecessors.all()) == []


def test_save_routing_step_adds_after_the_last(shop: Shop, personas: dict[str, Any]) -> None:
    part = straight_part(shop)
    cut = part.routing_steps.get(sequence=10)
    added = services.save_routing_step(
        actor=personas["production_manager"],
        step=RoutingStep(
            part=part,
            operation_code="PACK",
            work_center_type=shop.weld,
            setup_minutes=Decimal("0"),
            run_minutes_per_unit=Decimal("0.2"),
        ),
        predecessors=[cut],
    )
    assert (added.sequence, list(added.predecessors.all())) == (40, [cut])
    with pytest.raises(PermissionDenied):
        services.save_routing_step(
            actor=personas["supervisor"],
            step=RoutingStep(
                part=part,
                operation_code="X",
                work_center_type=shop.weld,
                setup_minutes=Decimal("0"),
                run_minutes_per_unit=Decimal("0"),
            ),
        )
    assert part.routing_steps.count() == 4
