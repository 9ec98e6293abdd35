"""The pure energy module on hand-computed hours: roll-ups for whole one-sided hours, sample and hold for the
others, roll-ups alone when the samples are gone, and no data told apart from 0 kWh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.reports.energy import (
    Energy,
    EnergyInput,
    HourMean,
    PartsReport,
    PowerReading,
    combine,
    energy_by_window,
    hours_needing_samples,
    machine_energy,
    sample_ranges,
)

LATER = datetime(2026, 11, 17, tzinfo=UTC)  # every hour below is settled


def t(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 16, hour, minute, second, tzinfo=UTC)


def every(start: datetime, minutes: int, values: list[float | None]) -> list[PowerReading]:
    return [PowerReading(start + timedelta(minutes=minutes * index), kw) for index, kw in enumerate(values)]


def test_whole_one_sided_hours_come_from_the_rollups() -> None:
    # Stopped all night: 20 kW then 4 kW on average; raw samples of those hours say otherwise and are not read.
    machine = EnergyInput(
        1,
        "LAS-01",
        power_metric="power_kw",
        hours=[HourMean(t(2), 20.0), HourMean(t(3), 4.0)],
        readings=every(t(2), 10, [999.0] * 12),
    )
    energy = machine_energy(machine, t(2), t(4), settled_before=LATER)
    assert (energy.kwh, energy.running, energy.not_running) == (Decimal("24.000"), Decimal("0.000"), Decimal("24.000"))
    assert (energy.rollup_hours, energy.sample_hours, energy.coverage) == (2, 0, Decimal("1.0000"))
    # Running throughout: the hour goes to the running side.
    running = EnergyInput(1, "LAS-01", power_metric="power_kw", hours=[HourMean(t(2), 31.5)], running=[(t(1), t(5))])
    assert machine_energy(running, t(2), t(3), settled_before=LATER).running == Decimal("31.500")


def test_an_hour_with_starts_and_stops_is_split_by_sample_and_hold() -> None:
    # Running 12:20-12:40; readings every 10 minutes: 5, 5, 30, 30, 6, 6 kW. The roll-up (99 kW) is not used.
    machine = EnergyInput(
        1,
        "LAS-01",
        power_metric="power_kw",
        hours=[HourMean(t(12), 99.0)],
        readings=every(t(12), 10, [5, 5, 30, 30, 6, 6]),
        running=[(t(12, 20), t(12, 40))],
    )
    energy = machine_energy(machine, t(12), t(13), settled_before=LATER, max_hold=timedelta(minutes=15))
    assert energy.running == Decimal("10.000")  # 30 kW x 20 min
    assert energy.not_running == Decimal("3.667")  # 5 kW x 20 min + 6 kW x 20 min = 1.667 + 2
    assert energy.kwh == Decimal("13.667")
    assert energy.not_running_share == Decimal("0.2683")  # 3.667 / 13.667
    assert (energy.rollup_hours, energy.sample_hours, energy.covered_seconds) == (0, 1, 3600)


def test_a_reading_holds_at_most_max_hold_and_unavailable_holds_nothing() -> None:
    gap = EnergyInput(1, "X", power_metric="power_kw", readings=[PowerReading(t(12), 10), PowerReading(t(12, 30), 10)])
    energy = machine_energy(gap, t(12), t(13), settled_before=LATER, max_hold=timedelta(minutes=5))
    assert energy.kwh == Decimal("1.667")  # 10 kW x (5 + 5) min
    assert (energy.covered_seconds, energy.coverage) == (600, Decimal("0.1667"))

    dropped = EnergyInput(1, "X", power_metric="power_kw", readings=every(t(12), 2, [10, None, 10]))
    energy = machine_energy(dropped, t(12), t(12, 10), settled_before=LATER, max_hold=timedelta(minutes=5))
    assert energy.kwh == Decimal("1.167")  # 12:00-12:02 and 12:04-12:09 at 10 kW: 7 min
    assert energy.covered_seconds == 420


def test_the_reading_in_force_at_the_start_comes_from_before_the_window() -> None:
    machine = EnergyInput(
        1, "X", power_metric="power_kw", readings=[PowerReading(t(11, 58), 12), PowerReading(t(12, 1), 6)]
    )
    # 12:00-12:01 at 12 kW (0.2 kWh), 12:01-12:02 at 6 kW (0.1 kWh).
    assert machine_energy(machine, t(12), t(12, 2), settled_before=LATER).kwh == Decimal("0.300")


def test_rollups_alone_when_the_samples_are_gone() -> None:
    # Past retention: whole hour, but running half of it, so rule 1 does not apply and there are no samples.
    mixed = EnergyInput(1, "X", power_metric="power_kw", hours=[HourMean(t(12), 12.0)], running=[(t(12), t(12, 30))])
    energy = machine_energy(mixed, t(12), t(13), settled_before=LATER)
    assert (energy.kwh, energy.unsplit_kwh, energy.running, energy.not_running) == (
        Decimal("12.000"),
        Decimal("12.000"),
        Decimal("0.000"),
        Decimal("0.000"),
    )
    assert energy.not_running_share is None  # nothing was split
    # Partial hours at the edges of the window: mean x the part inside it.
    edges = EnergyInput(
        1,
        "X",
        power_metric="power_kw",
        hours=[HourMean(t(12), 10.0), HourMean(t(13), 20.0), HourMean(t(14), 40.0)],
    )
    energy = machine_energy(edges, t(12, 30), t(14, 15), settled_before=LATER)
    assert energy.not_running == Decimal("35.000")  # 10 x 0.5 + 20 + 40 x 0.25
    assert (energy.rollup_hours, energy.covered_seconds, energy.window_seconds) == (3, 6300, 6300)


def test_an_hour_not_yet_settled_is_not_taken_from_its_rollup() -> None:
    machine = EnergyInput(
        1, "X", power_metric="power_kw", hours=[HourMean(t(12), 50.0)], readings=every(t(12), 5, [8.0] * 12)
    )
    energy = machine_energy(machine, t(12), t(13), settled_before=t(12, 45))
    assert (energy.kwh, energy.sample_hours) == (Decimal("8.000"), 1)  # the samples: 8 kW x 1 h
    assert hours_needing_samples(machine, [(t(12), t(13))], settled_before=t(12, 45)) == [t(12)]
    assert hours_needing_samples(machine, [(t(12), t(13))], settled_before=LATER) == []


def test_no_power_data_is_none_and_zero_power_is_zero() -> None:
    silent = machine_energy(EnergyInput(1, "X", power_metric="power_kw"), t(12), t(13), settled_before=LATER)
    assert (silent.has_data, silent.kwh, silent.running, silent.kwh_per_good_part, silent.coverage) == (
        False,
        None,
        None,
        None,
        None,
    )
    off = EnergyInput(1, "X", power_metric="power_kw", readings=every(t(12), 5, [0.0] * 12))
    assert machine_energy(off, t(12), t(13), settled_before=LATER).kwh == Decimal("0.000")


def test_kwh_per_good_part_counts_the_parts_reported_in_the_window() -> None:
    machine = EnergyInput(
        1,
        "X",
        power_metric="power_kw",
        hours=[HourMean(t(12), 20.0), HourMean(t(13), 4.0)],
        good_parts=[PartsReport(t(11, 59), 1000), PartsReport(t(12, 30), 100), PartsReport(t(13, 59), 60)],
    )
    energy = machine_energy(machine, t(12), t(14), settled_before=LATER)
    assert (energy.good, energy.kwh_per_good_part) == (160, Decimal("0.150"))  # 24 kWh / 160
    first, second = energy_by_window(machine, [(t(12), t(13)), (t(13), t(14))], settled_before=LATER)
    assert (first.kwh, first.good, first.kwh_per_good_part) == (Decimal("20.000"), 100, Decimal("0.200"))
    assert (second.kwh, second.good, second.kwh_per_good_part) == (Decimal("4.000"), 60, Decimal("0.067"))
    no_parts = machine_energy(machine, t(12, 40), t(13, 40), settled_before=LATER)
    assert no_parts.good == 0 and no_parts.kwh_per_good_part is None


def test_combine_adds_up_the_machines_with_power_data_only() -> None:
    laser = Energy(
        running_kwh=Decimal("46"),
        not_running_kwh=Decimal("16"),
        covered_seconds=7200,
        window_seconds=86400,
        good=250,
        has_data=True,
        machine_ids=frozenset({1}),
    )
    brake = Energy(
        running_kwh=Decimal("8"),
        not_running_kwh=Decimal("2"),
        covered_seconds=86400,
        window_seconds=86400,
        good=50,
        has_data=True,
        machine_ids=frozenset({2}),
    )
    weld = Energy(window_seconds=86400, good=40)  # no power data: its parts do not dilute kWh per part
    plant = combine([laser, brake, weld])
    assert (plant.kwh, plant.running, plant.not_running, plant.good, plant.machines) == (
        Decimal("72"),
        Decimal("54"),
        Decimal("18"),
        300,
        2,
    )
    assert plant.kwh_per_good_part == Decimal("0.240")  # 72 / 300
    assert plant.coverage == Decimal("0.5417")  # (2 + 24 h) / 48 h
    assert combine([weld]).kwh is None


def test_sample_ranges_join_touching_hours_and_merge_the_closest_beyond_the_limit() -> None:
    hours = [t(10), t(11), t(14), t(20), t(21), t(11)]
    assert sample_ranges(hours) == [(t(9, 55), t(12)), (t(13, 55), t(15)), (t(19, 55), t(22))]
    # Two ranges at most: the widest gap (15:00-19:55) stays, the other one is read through.
    assert sample_ranges(hours, limit=2) == [(t(9, 55), t(15)), (t(19, 55), t(22))]
    assert sample_ranges([], limit=2) == []


def test_only_the_hours_rollups_cannot_answer_need_samples() -> None:
    machine = EnergyInput(
        1,
        "X",
        power_metric="power_kw",
        hours=[HourMean(t(h), 5.0) for h in (10, 11, 12)],
        running=[(t(11, 30), t(11, 45))],
    )
    # 10: roll-up; 11: mixed; 12: partial in the window; 13: no roll-up.
    assert hours_needing_samples(machine, [(t(10), t(12, 30)), (t(13), t(14))], settled_before=LATER) == [
        t(11),
        t(12),
        t(13),
    ]


def test_unsorted_readings_and_overlapping_running_intervals() -> None:
    machine = EnergyInput(
        1,
        "X",
        power_metric="power_kw",
        readings=list(reversed(every(t(12), 5, [12.0] * 12))),
        running=[(t(12, 30), t(12, 50)), (t(12, 10), t(12, 40))],
    )
    energy = machine_energy(machine, t(12), t(13), settled_before=LATER)
    assert (energy.running, energy.not_running) == (Decimal("8.000"), Decimal("4.000"))  # 40 and 20 min of 12 kW


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PowerReading(datetime(2026, 11, 16, 12), 3.0)
    with pytest.raises(ValueError, match="start of a UTC hour"):
        HourMean(t(12, 30), 3.0)
    machine = EnergyInput(1, "X", power_metric="power_kw")
    with pytest.raises(ValueError, match="before its start"):
        machine_energy(machine, t(13), t(12), settled_before=LATER)
    with pytest.raises(ValueError, match="max_hold must be positive"):
        machine_energy(machine, t(12), t(13), settled_before=LATER, max_hold=timedelta(0))
    with pytest.raises(ValueError, match="limit must be at least 1"):
        sample_ranges([t(12)], limit=0)
