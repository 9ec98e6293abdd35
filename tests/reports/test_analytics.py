"""Pareto, adherence, cost per part and quality figures on hand numbers (worked out in the comments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.reports.analytics import (
    CostBreakdown,
    CostInput,
    ParetoItem,
    PlannedActual,
    QualityInput,
    ScrapRow,
    adherence,
    cost_per_part,
    downtime_items,
    pareto,
    quality_summary,
)
from apps.reports.oee import Category, Piece

T0 = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)  # 06:00 in Chicago


def minute(offset: float) -> datetime:
    return T0 + timedelta(minutes=offset)


def test_pareto_sorts_by_time_then_label_with_cumulative_share() -> None:
    rows = pareto(
        [
            ParetoItem("material", "Waiting for material", 1200, 3),
            ParetoItem("", "No reason given", 600, 4),
            ParetoItem("spindle", "Spindle fault", 3000, 2),
            ParetoItem("tool", "Tool change", 1200, 1),
        ]
    )
    # total 6000 s: 3000 = 0.5; the two 1200 s tie and go by label; 600 = 0.1.
    assert [(r.key, r.minutes, r.occurrences, r.share, r.cumulative_share) for r in rows] == [
        ("spindle", Decimal("50.00"), 2, Decimal("0.5000"), Decimal("0.5000")),
        ("tool", Decimal("20.00"), 1, Decimal("0.2000"), Decimal("0.7000")),
        ("material", Decimal("20.00"), 3, Decimal("0.2000"), Decimal("0.9000")),
        ("", Decimal("10.00"), 4, Decimal("0.1000"), Decimal("1.0000")),
    ]


def test_pareto_cumulative_share_comes_from_running_sums() -> None:
    rows = pareto([ParetoItem("a", "A", 1), ParetoItem("b", "B", 1), ParetoItem("c", "C", 1)])
    # 1/3 each: shares round to 0.3333, but the running share ends on exactly 1 (not 0.9999).
    assert [(r.share, r.cumulative_share) for r in rows] == [
        (Decimal("0.3333"), Decimal("0.3333")),
        (Decimal("0.3333"), Decimal("0.6667")),
        (Decimal("0.3333"), Decimal("1.0000")),
    ]


def test_pareto_of_nothing_has_no_shares() -> None:
    [row] = pareto([ParetoItem("a", "A", 0)])
    assert (row.share, row.cumulative_share) == (None, None)


def piece(
    machine_id: int, start: float, end: float, category: Category, source_id: int | None, reason: str = ""
) -> Piece:
    names = {"spindle": "Spindle fault", "changeover": "Changeover"}
    return Piece(
        machine_id=machine_id,
        start=minute(start),
        end=minute(end),
        category=category,
        state="running" if category is Category.RUN else "alarm",
        reason_code=reason,
        reason_name=names.get(reason, ""),
        source_id=source_id,
    )


PIECES = [
    # Machine 1: a 20 min spindle breakdown cut in two by a shift edge (one interval, id 10), a 2 min small stop
    # without a reason, a 30 min setup (its own reason is ignored: setups are one bar), running and a break.
    piece(1, 0, 50, Category.RUN, 9),
    piece(1, 50, 60, Category.BREAKDOWN, 10, "spindle"),
    piece(1, 60, 70, Category.BREAKDOWN, 10, "spindle"),
    piece(1, 70, 72, Category.SMALL_STOP, 11),
    piece(1, 72, 102, Category.SETUP, 12, "changeover"),
    piece(1, 102, 132, Category.BREAK, 13),
    # Machine 2: a 10 min spindle breakdown and two 1 min stops without interval ids.
    piece(2, 0, 10, Category.BREAKDOWN, 20, "spindle"),
    piece(2, 10, 11, Category.SMALL_STOP, None),
    piece(2, 20, 21, Category.SMALL_STOP, None),
]


def test_downtime_pareto_by_reason() -> None:
    rows = pareto(downtime_items(PIECES, by="reason"))
    # setup 1800 s, spindle 1200 + 600 = 1800 s (tie: "Setup" before "Spindle fault"), no reason 120 + 120 s.
    # total 3840 s: 1800 / 3840 = 0.46875; 3600 / 3840 = 0.9375; 240 / 3840 = 0.0625.
    assert [(r.key, r.label, r.seconds, r.occurrences, r.share, r.cumulative_share) for r in rows] == [
        ("setup", "Setup", 1800, 1, Decimal("0.4688"), Decimal("0.4688")),
        ("spindle", "Spindle fault", 1800, 2, Decimal("0.4688"), Decimal("0.9375")),
        ("", "No reason given", 240, 3, Decimal("0.0625"), Decimal("1.0000")),
    ]


def test_downtime_pareto_by_machine_and_department() -> None:
    by_machine = pareto(downtime_items(PIECES, by="machine", machine_labels={1: "M1 Lathe", 2: "M2 Mill"}))
    # machine 1: 1200 + 120 + 1800 = 3120 s in 3 intervals; machine 2: 600 + 60 + 60 = 720 s in 3.
    assert [(r.key, r.label, r.seconds, r.occurrences) for r in by_machine] == [
        ("1", "M1 Lathe", 3120, 3),
        ("2", "M2 Mill", 720, 3),
    ]
    by_department = pareto(downtime_items(PIECES, by="department", department_labels={1: "Turning"}))
    assert [(r.key, r.label, r.seconds) for r in by_department] == [
        ("Turning", "Turning", 3120),
        ("", "No department", 720),
    ]


def operation(op: int, planned: tuple[float, float], actual: tuple[float | None, float | None]) -> PlannedActual:
    start, end = actual
    return PlannedActual(
        operation_id=op,
        label=f"J-1/{op}",
        work_center="M1",
        planned_start=minute(planned[0]),
        planned_end=minute(planned[1]),
        actual_start=None if start is None else minute(start),
        actual_end=None if end is None else minute(end),
    )


def test_schedule_adherence() -> None:
    summary = adherence(
        [
            operation(1, (0, 120), (10, 140)),  # started 10 min late (on time), finished 20 late
            operation(2, (120, 240), (110, 225.5)),  # 10 min early, finished 14.5 min early
            operation(3, (240, 360), (270, None)),  # started 30 late, still running
            operation(4, (300, 420), (None, None)),  # not started
            operation(5, (360, 480), (375, 495)),  # exactly the 15 min tolerance: on time
        ],
        tolerance_minutes=15,
    )
    assert summary.count == 5
    assert [
        (r.start_deviation_minutes, r.finish_deviation_minutes, r.started_on_time, r.finished_on_time)
        for r in summary.rows
    ] == [
        (Decimal("10.00"), Decimal("20.00"), True, False),
        (Decimal("-10.00"), Decimal("-14.50"), True, True),
        (Decimal("30.00"), None, False, None),
        (None, None, None, None),
        (Decimal("15.00"), Decimal("15.00"), True, True),
    ]
    assert summary.started_on_time_rate == Decimal("0.7500")  # 3 of the 4 started
    assert summary.finished_on_time_rate == Decimal("0.6667")  # 2 of the 3 finished
    assert summary.mean_finish_deviation_minutes == Decimal("6.83")  # (20 - 14.5 + 15) / 3 = 6.8333


def test_adherence_of_nothing_started() -> None:
    summary = adherence([operation(1, (0, 60), (None, None))])
    assert (summary.started_on_time_rate, summary.finished_on_time_rate, summary.mean_finish_deviation_minutes) == (
        None,
        None,
        None,
    )


def test_cost_per_part() -> None:
    breakdown = cost_per_part(
        CostInput(
            run_seconds=5400,  # 1.5 h x 90.00 = 135.00
            machine_rate_per_hour=Decimal("90.00"),
            labor_seconds=1000,  # 1000 / 3600 x 30.00 = 8.333...
            labor_rate_per_hour=Decimal("30.00"),
            scrap_units=4,  # 4 x 12.35 = 49.40
            material_cost_per_unit=Decimal("12.35"),
            good_units=40,
        )
    )
    # total 135.00 + 8.33 + 49.40 = 192.73; / 40 = 4.81825
    assert breakdown == CostBreakdown(
        machine=Decimal("135.00"),
        labor=Decimal("8.33"),
        scrap=Decimal("49.40"),
        total=Decimal("192.73"),
        per_good_part=Decimal("4.82"),
    )


def test_cost_per_part_without_good_parts() -> None:
    breakdown = cost_per_part(
        CostInput(
            run_seconds=3600,
            machine_rate_per_hour=Decimal("60"),
            labor_seconds=0,
            labor_rate_per_hour=Decimal("30"),
            scrap_units=2,
            material_cost_per_unit=Decimal("5"),
            good_units=0,
        )
    )
    assert (breakdown.total, breakdown.per_good_part) == (Decimal("70.00"), None)


def test_quality_summary() -> None:
    summary = quality_summary(
        [
            QualityInput(operation_id=1, good=95, scrap=5, scrap_by_reason={"dim": 3, "burr": 1}),
            QualityInput(
                operation_id=2, good=190, scrap=10, scrap_by_reason={"dim": 6, "scratch": 4}, opportunities_per_unit=5
            ),
        ],
        reason_labels={"dim": "Out of tolerance", "scratch": "Scratched"},
    )
    assert (summary.good, summary.scrap) == (285, 15)
    assert summary.first_pass_yield == Decimal("0.9500")  # 285 / 300
    # opportunities 100 x 1 + 200 x 5 = 1100; 15 / 1100 x 1e6 = 13636.36...
    assert summary.dpmo == Decimal("13636.4")
    # dim 9, scratch 4, then 1 each for "burr" (no label) and the one scrap op 1 gave no reason for; of 15.
    assert summary.scrap_by_reason == (
        ScrapRow("dim", "Out of tolerance", 9, Decimal("0.6000"), Decimal("0.6000")),
        ScrapRow("scratch", "Scratched", 4, Decimal("0.2667"), Decimal("0.8667")),
        ScrapRow("", "No reason given", 1, Decimal("0.0667"), Decimal("0.9333")),
        ScrapRow("burr", "burr", 1, Decimal("0.0667"), Decimal("1.0000")),
    )


def test_quality_summary_of_nothing() -> None:
    summary = quality_summary([])
    assert (summary.first_pass_yield, summary.dpmo, summary.scrap_by_reason) == (None, None, ())


def test_scrap_by_reason_cannot_exceed_scrap() -> None:
    with pytest.raises(ValueError, match="more than the scrap"):
        QualityInput(operation_id=1, good=10, scrap=1, scrap_by_reason={"dim": 2})
