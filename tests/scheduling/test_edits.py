"""Manual slot moves: every kind of conflict with its exact words, nothing saved when refused,
and a valid move recomputed for the new machine and its working time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.edits import ConflictKind, follow_working_time
from apps.scheduling.models import ScheduleSlot
from apps.scheduling.slot_edits import SlotConflicts, move_slot
from tests.scheduling.schedule_rows import Tiny, build_tiny, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny() -> Tiny:
    return build_tiny()


def refused(tiny: Tiny, key: str, wc: Any, start: str, actor: Any = None) -> list[tuple[str, str]]:
    slot = tiny.slots[key]
    before = ScheduleSlot.objects.values().get(pk=slot.pk)
    with pytest.raises(SlotConflicts) as caught:
        move_slot(actor=actor, slot_id=slot.pk, work_center_id=wc.pk, start=local(start))
    assert ScheduleSlot.objects.values().get(pk=slot.pk) == before
    return [(str(conflict.kind), conflict.message) for conflict in caught.value.conflicts]


def test_follow_working_time_pauses_over_gaps() -> None:
    day = [
        (datetime(2030, 1, 1, 6, tzinfo=UTC), datetime(2030, 1, 1, 10, tzinfo=UTC)),
        (datetime(2030, 1, 1, 11, tzinfo=UTC), datetime(2030, 1, 1, 14, tzinfo=UTC)),
    ]
    assert follow_working_time(datetime(2030, 1, 1, 9, 30, tzinfo=UTC), 60, day) == datetime(
        2030, 1, 1, 11, 30, tzinfo=UTC
    )
    assert follow_working_time(datetime(2030, 1, 1, 10, 30, tzinfo=UTC), 10, day) is None
    assert follow_working_time(datetime(2030, 1, 1, 13, tzinfo=UTC), 61, day) is None
    assert follow_working_time(datetime(2030, 1, 1, 13, tzinfo=UTC), 60, day) == datetime(2030, 1, 1, 14, tzinfo=UTC)


def test_overlap_is_refused(tiny: Tiny) -> None:
    assert refused(tiny, "J-2/10", tiny.shop.laser_1, "2030-06-03 06:10") == [
        (ConflictKind.OVERLAP, "Overlaps J-1/10 CUT on laser-1 (2030-06-03 06:00–2030-06-03 06:20).")
    ]


def test_outside_working_time_is_refused(tiny: Tiny) -> None:
    assert refused(tiny, "J-2/10", tiny.shop.laser_1, "2030-06-03 05:00") == [
        (ConflictKind.OUTSIDE_WORKING_TIME, "laser-1 does not work at 2030-06-03 05:00.")
    ]
    assert refused(tiny, "J-2/10", tiny.shop.laser_1, "2030-06-03 10:10") == [
        (ConflictKind.OUTSIDE_WORKING_TIME, "laser-1 does not work at 2030-06-03 10:10.")
    ]


def test_precedence_is_refused_both_ways(tiny: Tiny) -> None:
    assert refused(tiny, "J-1/20", tiny.shop.brake_1, "2030-06-03 06:10") == [
        (ConflictKind.PRECEDENCE, "Starts before its predecessor J-1/10 CUT ends (2030-06-03 06:20).")
    ]
    assert refused(tiny, "J-1/20", tiny.shop.brake_1, "2030-06-03 08:00") == [
        (
            ConflictKind.PRECEDENCE,
            "Ends (2030-06-03 08:30) after its successor J-1/30 WELD starts (2030-06-03 07:10).",
        )
    ]


def test_ineligible_machines_are_refused(tiny: Tiny) -> None:
    assert refused(tiny, "J-2/10", tiny.shop.brake_1, "2030-06-03 12:00") == [
        (ConflictKind.INELIGIBLE, "brake-1 is a Press brake 135 t; J-2/10 CUT needs a Fiber laser 3 kW.")
    ]
    assert refused(tiny, "J-2/10", tiny.laser_3, "2030-06-03 12:00") == [
        (ConflictKind.INELIGIBLE, "laser-3 is not active."),
        (ConflictKind.OUTSIDE_WORKING_TIME, "laser-3 does not work at 2030-06-03 12:00."),
    ]


def test_every_conflict_is_listed_at_once(tiny: Tiny) -> None:
    # J-1's cut onto the brake at 06:20: wrong machine type, over J-1's bend, and ending after the bend starts.
    assert refused(tiny, "J-1/10", tiny.shop.brake_1, "2030-06-03 06:20") == [
        (ConflictKind.INELIGIBLE, "brake-1 is a Press brake 135 t; J-1/10 CUT needs a Fiber laser 3 kW."),
        (ConflictKind.OVERLAP, "Overlaps J-1/20 BEND on brake-1 (2030-06-03 06:30–2030-06-03 07:00)."),
        (
            ConflictKind.PRECEDENCE,
            "Ends (2030-06-03 06:39) after its successor J-1/20 BEND starts (2030-06-03 06:30).",
        ),
    ]


def test_valid_move_recomputes_duration_for_machine_and_pauses_over_the_break(tiny: Tiny) -> None:
    slot = tiny.slots["J-2/10"]
    moved = move_slot(actor=None, slot_id=slot.pk, work_center_id=tiny.laser_2.pk, start=local("2030-06-03 09:50"))
    fresh = ScheduleSlot.objects.get(pk=slot.pk)
    # 14 standard minutes / 1.25 = 11.2 → 12 min on laser-2, after the slot's 5 min setup:
    # setup 09:50–09:55, run 09:55–10:00, break, 10:30–10:37.
    assert (fresh.work_center_id, fresh.setup_start, fresh.start, fresh.end) == (
        tiny.laser_2.pk,
        local("2030-06-03 09:50"),
        local("2030-06-03 09:55"),
        local("2030-06-03 10:37"),
    )
    assert moved.end == fresh.end


def test_only_ready_or_published_schedules_and_unfrozen_slots_move(tiny: Tiny) -> None:
    slot = tiny.slots["J-2/10"]
    tiny.schedule.status = ScheduleStatus.SUPERSEDED
    tiny.schedule.save()
    with pytest.raises(ValidationError, match="Only slots of a ready or published schedule can be moved"):
        move_slot(actor=None, slot_id=slot.pk, work_center_id=tiny.laser_2.pk, start=local("2030-06-03 12:00"))
    tiny.schedule.status = ScheduleStatus.PUBLISHED
    tiny.schedule.save()
    ScheduleSlot.objects.filter(pk=slot.pk).update(is_frozen=True)
    with pytest.raises(ValidationError, match="running or complete"):
        move_slot(actor=None, slot_id=slot.pk, work_center_id=tiny.laser_2.pk, start=local("2030-06-03 12:00"))
    assert ScheduleSlot.objects.get(pk=slot.pk).work_center_id == tiny.shop.laser_1.pk


def test_move_needs_the_permission(tiny: Tiny, personas: dict[str, Any]) -> None:
    slot = tiny.slots["J-2/10"]
    with pytest.raises(PermissionDenied):
        move_slot(
            actor=personas["operator"], slot_id=slot.pk, work_center_id=tiny.laser_2.pk, start=local("2030-06-03 12:00")
        )
    assert ScheduleSlot.objects.get(pk=slot.pk).start == local("2030-06-03 07:05")
    move_slot(
        actor=personas["supervisor"], slot_id=slot.pk, work_center_id=tiny.laser_2.pk, start=local("2030-06-03 12:00")
    )
    assert ScheduleSlot.objects.get(pk=slot.pk).start == local("2030-06-03 12:05")
    assert timedelta(0) < ScheduleSlot.objects.get(pk=slot.pk).end - local("2030-06-03 12:05")
