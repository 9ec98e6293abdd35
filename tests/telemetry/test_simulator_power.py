"""The simulated power meters: `power_kw` every minute, day and night, by what the machine does; metering changes
nothing else a machine reports; the MES stores the readings and the energy figures read them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from apps.reports.energy_inputs import machine_energies
from apps.reports.selectors import Scope
from apps.telemetry import ingest
from apps.telemetry.ingest import MessageDecoder, ingest_payloads
from apps.telemetry.models import DeadLetter, Sample
from apps.telemetry.simulator.agent import SimulatedAgent
from apps.telemetry.simulator.model import (
    ACTIVE,
    EXECUTION,
    POWER_KW,
    FixedCalendar,
    Kind,
    MachineModel,
    MachineSpec,
)
from apps.telemetry.simulator.runner import Simulator
from apps.telemetry.simulator.shop import WorkCenterCalendar, spec_of
from apps.telemetry.simulator.sinks import CallableSink
from tests.machines.shop import department, shift_calendar, work_center, work_center_type

MONDAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SHIFTS = FixedCalendar(
    [(MONDAY, MONDAY + timedelta(hours=4)), (MONDAY + timedelta(hours=4.5), MONDAY + timedelta(hours=8))]
)
METERED_LASER = MachineSpec("LAS-01", "laser", Kind.LASER, power_meter=True)


def test_only_metered_machines_of_a_kind_with_a_power_profile_report_power() -> None:
    assert METERED_LASER.metrics[-1] == POWER_KW
    assert POWER_KW not in dataclasses.replace(METERED_LASER, power_meter=False).metrics
    assert MachineSpec("ASM-01", "assembly", Kind.MANUAL, power_meter=True).metrics == (EXECUTION, "part_count")


def test_metering_changes_nothing_else_the_machine_reports() -> None:
    start = MONDAY - timedelta(hours=1)
    metered = MachineModel(METERED_LASER, SHIFTS, start, seed=1).advance(MONDAY + timedelta(hours=9))
    plain = MachineModel(dataclasses.replace(METERED_LASER, power_meter=False), SHIFTS, start, seed=1).advance(
        MONDAY + timedelta(hours=9)
    )
    assert [e for e in metered if e.metric != POWER_KW] == plain
    assert [e.at for e in metered] == sorted(e.at for e in metered)


def test_a_reading_every_minute_by_what_the_machine_does() -> None:
    start = MONDAY - timedelta(hours=1)
    model = MachineModel(METERED_LASER, SHIFTS, start, seed=1)
    execution = "READY"
    readings: list[tuple[datetime, float, str]] = []
    for event in model.advance(MONDAY + timedelta(hours=9)):
        if event.metric == EXECUTION:
            execution = str(event.value)
        if event.metric == POWER_KW:
            assert isinstance(event.value, float)
            readings.append((event.at, event.value, execution))
    # From the start to the end of the last shift (14:00), one a minute, then nothing (no working time ahead).
    assert [at for at, _kw, _e in readings] == [start + timedelta(minutes=m) for m in range(9 * 60 + 1)]
    in_shift = [(at, kw, e) for at, kw, e in readings if any(a <= at < b for a, b in SHIFTS.periods)]
    outside = [kw for at, kw, _e in readings if not any(a <= at < b for a, b in SHIFTS.periods)]
    # Standby 2 kW ±3 % before the shift, over the break and after it.
    assert len(outside) == 60 + 30 + 1 and all(1.94 <= kw <= 2.06 for kw in outside)
    # Cutting: 12 kW + 4.5 kW per kW of laser power (3.8-6 kW), ±3 %.
    cutting = [kw for _at, kw, e in in_shift if e == ACTIVE]
    assert cutting and all(28.2 <= kw <= 40.2 for kw in cutting)
    # Not cutting in the shift: idle, setup or stopped, 6-9 kW ±3 %.
    waiting = [kw for _at, kw, e in in_shift if e != ACTIVE]
    assert waiting and all(5.82 <= kw <= 9.27 for kw in waiting)


def test_the_agent_serves_a_metered_machine_without_its_power() -> None:
    agent = SimulatedAgent(METERED_LASER, instance_id=1)
    assert POWER_KW not in agent.items and "laser_power" in agent.items
    assert agent.record(POWER_KW, 30.0, MONDAY) is None


@pytest.fixture(autouse=True)
def fresh_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "_default_decoder", None)


@pytest.mark.django_db
def test_simulated_readings_are_stored_and_give_the_energy() -> None:
    shift_calendar("Around the clock", [(day, time(0), time(23, 59), []) for day in range(7)], plant_default=True)
    laser = work_center("LAS-01", work_center_type("fiber-laser", department("laser", sequence=1)))
    bench = work_center("ASM-01", work_center_type("assembly-bench", department("assembly", sequence=2)))
    specs = [spec_of(laser), spec_of(bench)]
    assert [spec.power_meter for spec in specs] == [True, False]
    decoder = MessageDecoder()
    start = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # a Tuesday, inside the shift
    clock = {"now": start}

    def deliver(topic: str, payload: bytes) -> list[tuple[str, bytes]]:
        return ingest_payloads([(topic, payload)], decoder=decoder, received_at=clock["now"]).rebirths

    simulator = Simulator(
        specs,
        lambda spec: WorkCenterCalendar(laser if spec.code == "LAS-01" else bench),
        start=start,
        seed=1,
        make_sink=lambda on_command: CallableSink(deliver, on_command),
    )
    for second in range(10, 30 * 60 + 1, 10):
        clock["now"] = start + timedelta(seconds=second)
        simulator.step(clock["now"])
    assert not DeadLetter.objects.exists()
    rows = list(Sample.objects.filter(metric=POWER_KW).order_by("timestamp").values_list("timestamp", "value_number"))
    # The birth's reading (stamped a millisecond or two after the start), then one a minute.
    assert start <= rows[0][0] < start + timedelta(seconds=1)
    assert [at for at, _kw in rows[1:]] == [start + timedelta(minutes=m) for m in range(1, 31)]
    assert not Sample.objects.filter(work_center=bench, metric=POWER_KW).exists()
    # Each reading holds until the next one: kW x seconds held, over the half hour.
    kw_seconds = sum(
        (Decimal(kw or 0) * Decimal((rows[i + 1][0] - at).total_seconds()) for i, (at, kw) in enumerate(rows[:30])),
        Decimal(0),
    )
    expected = (kw_seconds / 3600).quantize(Decimal("0.001"))
    figures = {
        m.code: m
        for m in machine_energies(Scope(), start, start + timedelta(minutes=30), now=start + timedelta(hours=1))
    }
    assert figures["LAS-01"].energy.kwh == expected
    assert figures["LAS-01"].energy.covered_seconds == 1800
    assert figures["ASM-01"].power_metric is None and figures["ASM-01"].energy.kwh is None
