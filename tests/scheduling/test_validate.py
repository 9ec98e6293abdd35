"""The independent validator catches each kind of infeasibility, and passes a correct schedule."""

from __future__ import annotations

from dataclasses import replace

from apps.scheduling.solver import (
    Fixed,
    Problem,
    Schedule,
    ScheduledOperation,
    SetupMatrix,
    Straddle,
    ViolationKind,
    validate_schedule,
)

from .shop import chain, machine, op, problem

# Working 0-100 and 200-300 on both machines: a break of 100 minutes.
BREAK = ((0, 100), (200, 300))


def _problem(**fields: object) -> Problem:
    return problem(
        [machine("A", *BREAK, group="laser"), machine("B", *BREAK)],
        [
            chain("J1", op("10", ("A", 30), setup_category="steel"), op("20", ("B", 40))),
            chain("J2", op("10", ("A", 50), ("B", 60), setup_category="alu")),
        ],
        horizon=300,
        setup_matrices={"laser": SetupMatrix({("steel", "alu"): 15})},
        **fields,
    )


def _schedule(*changes: tuple[str, str, dict[str, object]]) -> Schedule:
    rows = {
        ("J1", "10"): ScheduledOperation("J1", "10", "A", 0, 30),
        ("J1", "20"): ScheduledOperation("J1", "20", "B", 30, 70),
        ("J2", "10"): ScheduledOperation("J2", "10", "A", 45, 95, setup=15),
    }
    for job, operation, fields in changes:
        rows[(job, operation)] = replace(rows[(job, operation)], **fields)  # type: ignore[arg-type]
    return Schedule(tuple(rows.values()))


def _kinds(schedule: Schedule, given: Problem | None = None) -> set[ViolationKind]:
    return {violation.kind for violation in validate_schedule(given or _problem(), schedule)}


def test_a_correct_schedule_passes() -> None:
    assert validate_schedule(_problem(), _schedule()) == []


def test_overlap_on_a_machine() -> None:
    assert _kinds(_schedule(("J2", "10", {"machine": "B", "start": 50, "end": 110 + 100}))) >= {ViolationKind.OVERLAP}
    violations = validate_schedule(_problem(), _schedule(("J2", "10", {"machine": "B", "start": 40, "end": 100})))
    assert [(v.kind, v.job, v.operation) for v in violations] == [(ViolationKind.OVERLAP, "J2", "10")]


def test_changeover_needs_working_time() -> None:
    # steel -> alu needs 15 minutes on the laser; starting right after J1 10 leaves none.
    violations = validate_schedule(_problem(), _schedule(("J2", "10", {"start": 30, "end": 80})))
    assert [(v.kind, v.job, v.operation) for v in violations] == [(ViolationKind.SETUP, "J2", "10")]


def test_start_in_non_working_time() -> None:
    violations = validate_schedule(_problem(), _schedule(("J2", "10", {"start": 120, "end": 170})))
    assert [v.kind for v in violations] == [ViolationKind.CALENDAR]


def test_pausing_over_a_break_is_allowed_but_not_when_the_setting_forbids_it() -> None:
    # 50 minutes from minute 80: 20 before the break, 30 after it, so it ends at 230.
    paused = _schedule(("J2", "10", {"start": 80, "end": 230}))
    assert validate_schedule(_problem(), paused) == []
    within = _problem(straddle=Straddle.WITHIN_WINDOW)
    assert [v.kind for v in validate_schedule(within, paused)] == [ViolationKind.CALENDAR]


def test_precedence_broken() -> None:
    violations = validate_schedule(_problem(), _schedule(("J1", "20", {"start": 20, "end": 60})))
    assert [(v.kind, v.job, v.operation) for v in violations] == [(ViolationKind.PRECEDENCE, "J1", "20")]


def test_wrong_machine() -> None:
    violations = validate_schedule(_problem(), _schedule(("J1", "20", {"machine": "A", "start": 30, "end": 70})))
    assert ViolationKind.WRONG_MACHINE in {v.kind for v in violations}


def test_wrong_duration_for_the_machine() -> None:
    # On B, J2 10 takes 60 minutes, not the 50 it takes on A.
    violations = validate_schedule(_problem(), _schedule(("J2", "10", {"machine": "B", "start": 70, "end": 220})))
    assert [v.kind for v in violations] == [ViolationKind.WRONG_DURATION]
    assert "needs 60" in violations[0].message


def test_an_end_that_idles_in_non_working_time_is_a_wrong_duration() -> None:
    # 30 minutes from 70 end at 100; claiming 150 stretches the span into the break.
    violations = validate_schedule(
        _problem(), _schedule(("J1", "10", {"start": 0, "end": 30}), ("J1", "20", {"start": 60, "end": 150}))
    )
    assert [v.kind for v in violations] == [ViolationKind.WRONG_DURATION]


def test_frozen_operation_moved() -> None:
    frozen = _problem()
    job = frozen.jobs[1]
    frozen = replace(
        frozen,
        jobs=(frozen.jobs[0], replace(job, operations=(replace(job.operations[0], fixed=Fixed("A", 45, 95)),))),
    )
    assert validate_schedule(frozen, _schedule()) == []
    moved = _schedule(("J2", "10", {"start": 50, "end": 100}))
    assert ViolationKind.FROZEN_MOVED in {v.kind for v in validate_schedule(frozen, moved)}


def test_missing_and_unknown_operations() -> None:
    rows = _schedule().operations
    violations = validate_schedule(_problem(), Schedule((*rows[:2], ScheduledOperation("J9", "10", "A", 0, 10))))
    assert {(v.kind, v.job, v.operation) for v in violations} == {
        (ViolationKind.MISSING, "J9", "10"),
        (ViolationKind.MISSING, "J2", "10"),
    }


def test_release_time() -> None:
    released = _problem()
    released = replace(released, jobs=(replace(released.jobs[0], release=10), released.jobs[1]))
    violations = validate_schedule(released, _schedule())
    assert [(v.kind, v.job, v.operation) for v in violations] == [(ViolationKind.RELEASE, "J1", "10")]
