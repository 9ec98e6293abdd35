"""The machine simulator: seeded behaviour, working time, Sparkplug sessions the MES accepts, the MTConnect agent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx

from apps.routings.demo.catalog import WORK_CENTER_TYPES, WORK_CENTERS
from apps.telemetry.mtconnect import MTConnectClient, parse_probe
from apps.telemetry.observations import Gap
from apps.telemetry.simulator.agent import SimulatedAgent
from apps.telemetry.simulator.model import (
    ALARM,
    EXECUTION,
    LASER_POWER,
    READY,
    FixedCalendar,
    Interval,
    Kind,
    MachineModel,
    MachineSpec,
    kind_of,
)
from apps.telemetry.simulator.runner import Simulator
from apps.telemetry.simulator.sinks import CallableSink, OnCommand, Sink
from apps.telemetry.sparkplug import SparkplugSessions, parse_payload, rebirth_command
from apps.telemetry.sparkplug.codec import from_ms

MONDAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
DEPARTMENT_OF_TYPE = {code: department for code, _name, department, _description in WORK_CENTER_TYPES}
DEMO = [MachineSpec(wc.code, DEPARTMENT_OF_TYPE[wc.type], kind_of(wc.type)) for wc in WORK_CENTERS]


def two_shifts(days: int) -> list[Interval]:
    """The demo plant's two shifts with their breaks (taken as UTC), from MONDAY for `days` days."""
    periods: list[Interval] = []
    for day in range(days):
        base = MONDAY + timedelta(days=day)
        for start, end in ((0, 4), (4.5, 12.5), (13, 17)):
            periods.append((base + timedelta(hours=start), base + timedelta(hours=end)))
    return periods


CALENDAR = FixedCalendar(two_shifts(3))


def laser() -> MachineSpec:
    return next(spec for spec in DEMO if spec.code == "LAS-01")


def test_demo_work_centers_get_the_behaviour_of_their_type() -> None:
    assert Counter(spec.kind for spec in DEMO) == {
        Kind.LASER: 2,
        Kind.PUNCH: 2,
        Kind.BRAKE: 7,
        Kind.WELDING: 6,
        Kind.ROBOT: 1,
        Kind.POLISHING: 6,
        Kind.MANUAL: 6,
    }
    assert laser().metrics == (EXECUTION, "controller_mode", "program", "part_count", ALARM, LASER_POWER)
    assert next(spec for spec in DEMO if spec.code == "ASM-01").metrics == (EXECUTION, "part_count")


def test_laser_first_half_hour_with_seed_1_is_exact() -> None:
    model = MachineModel(laser(), CALENDAR, MONDAY, seed=1)
    events = model.advance(MONDAY + timedelta(minutes=30))

    def offset(at: datetime) -> int:
        return int((at - MONDAY).total_seconds())

    assert [(offset(e.at), e.metric, e.value) for e in events if e.metric != LASER_POWER] == [
        (0, "controller_mode", "MANUAL"),
        (804, "controller_mode", "AUTOMATIC"),
        (804, "program", "NEST-0001-01"),
        (804, "execution", "ACTIVE"),
        (1126, "part_count", 18),
        (1126, "execution", "READY"),
        (1155, "controller_mode", "MANUAL"),
        (1155, "program", ""),
    ]
    assert [(offset(e.at), e.value) for e in events if e.metric == LASER_POWER] == [
        (804, 3869.8),
        (834, 4552.6),
        (864, 5164.4),
        (894, 4629.4),
        (924, 3801.5),
        (954, 4822.7),
        (984, 5604.3),
        (1014, 5634.4),
        (1044, 5026.1),
        (1074, 5489.2),
        (1104, 5136.9),
        (1126, 0.0),
    ]
    assert model.current == {
        "execution": "READY",
        "controller_mode": "MANUAL",
        "program": "",
        "part_count": 18,
        "alarm": "",
        "laser_power": 0.0,
    }
    again = MachineModel(laser(), CALENDAR, MONDAY, seed=1).advance(MONDAY + timedelta(minutes=30))
    other = MachineModel(laser(), CALENDAR, MONDAY, seed=2).advance(MONDAY + timedelta(minutes=30))
    assert again == events
    assert other != events


def test_nothing_runs_outside_working_time() -> None:
    periods = CALENDAR.periods
    end = MONDAY + timedelta(days=3)
    seen: Counter[str] = Counter()
    for spec in DEMO:
        model = MachineModel(spec, CALENDAR, MONDAY, seed=7)
        numeric = spec.profile.numeric
        for event in model.advance(end):
            seen[f"{event.metric}={event.value}" if event.metric in (EXECUTION,) else event.metric] += 1
            working = any(a <= event.at < b for a, b in periods)
            if event.metric == EXECUTION and event.value != READY:
                assert working, (spec.code, event)
            if event.metric == numeric and event.value != 0.0:
                assert working, (spec.code, event)
            if event.metric == ALARM and event.value:
                assert working, (spec.code, event)
        # After the last shift the machine waits: READY, no load, no alarm.
        assert model.current[EXECUTION] == READY
        assert model.current.get(ALARM, "") == ""
        assert model.current.get(numeric or "none", 0.0) == 0.0
    # Over three days the shop shows every kind of behaviour the MES distinguishes.
    assert seen["execution=ACTIVE"] > 1000
    assert seen["execution=INTERRUPTED"] > 10
    assert seen["execution=STOPPED"] > 5
    assert seen["alarm"] > 10


def test_execution_at_every_shift_end_is_ready() -> None:
    model = MachineModel(laser(), CALENDAR, MONDAY, seed=3)
    for _start, end in CALENDAR.periods:
        model.advance(end)
        assert (model.current[EXECUTION], model.current[LASER_POWER]) == (READY, 0.0)


class Recorder:
    """A sink that decodes everything with the MES's Sparkplug tracker and fails on any complaint."""

    def __init__(self, on_command: OnCommand, known: Iterable[str]) -> None:
        self.sessions = SparkplugSessions()
        self.known = set(known)
        self.kinds: Counter[str] = Counter()
        self.observations = 0
        self.last_received = MONDAY
        self.sink = CallableSink(self.deliver, on_command)

    def deliver(self, topic: str, payload: bytes) -> list[tuple[str, bytes]]:
        message = parse_payload(payload)
        if message.HasField("timestamp"):
            self.last_received = from_ms(message.timestamp)
        result = self.sessions.decode(topic, payload, received_at=self.last_received, known_machines=self.known)
        assert result.rebirth is None, topic
        assert (result.gaps, result.unresolved, result.duplicate) == ([], 0, False), topic
        self.kinds[topic.split("/")[2]] += 1
        self.observations += len(result.observations)
        return []


def simulate(
    specs: list[MachineSpec], recorders: list[Recorder], agent: SimulatedAgent | None = None, seed: int = 1
) -> Simulator:
    def make_sink(on_command: OnCommand) -> Sink:
        recorder = Recorder(on_command, (spec.code for spec in specs))
        recorders.append(recorder)
        return recorder.sink

    return Simulator(
        specs, lambda spec: CALENDAR, start=MONDAY, seed=seed, make_sink=make_sink, group_id="test", agent=agent
    )


def test_a_simulated_day_decodes_without_rejection_or_rebirth() -> None:
    recorders: list[Recorder] = []
    simulator = simulate(DEMO, recorders)
    for minute in range(2, 24 * 60 + 1, 2):
        simulator.step(MONDAY + timedelta(minutes=minute))
    simulator.close()
    recorder = recorders[0]
    assert recorder.kinds == {"NBIRTH": 7, "DBIRTH": 30, "DDATA": 21600, "NDEATH": 7}
    assert simulator.events == 69701
    # Every value, plus per machine its availability at the DBIRTH and at the NDEATH, and its DBIRTH values.
    assert recorder.observations == simulator.events + 30 + (24 * 6 + 6 * 2) + 30
    assert {node.node_id: node.seq for node in simulator.emitter.nodes.values()} == {
        # 1 NBIRTH + a DBIRTH per machine + a DDATA per machine every 2 minutes, seq wrapping at 256.
        "sim-laser": (1 + 2 + 2 * 720 - 1) % 256,
        "sim-punch": (1 + 2 + 2 * 720 - 1) % 256,
        "sim-forming": (1 + 7 + 7 * 720 - 1) % 256,
        "sim-weld": (1 + 7 + 7 * 720 - 1) % 256,
        "sim-finish": (1 + 6 + 6 * 720 - 1) % 256,
        "sim-assembly": (1 + 4 + 4 * 720 - 1) % 256,
        "sim-shipping": (1 + 2 + 2 * 720 - 1) % 256,
    }


def test_a_rebirth_request_is_answered_with_births() -> None:
    recorders: list[Recorder] = []
    simulator = simulate(DEMO[:3], recorders)
    simulator.step(MONDAY + timedelta(minutes=5))
    topic, payload = rebirth_command("test", "sim-laser", now=MONDAY)
    simulator.command(topic, payload)
    simulator.command(*rebirth_command("other-group", "sim-laser", now=MONDAY))
    simulator.step(MONDAY + timedelta(minutes=6))
    assert recorders[0].kinds == {"NBIRTH": 3, "DBIRTH": 5, "DDATA": 6}
    assert simulator.rebirths == 1


def test_the_mtconnect_agent_streams_one_laser_without_gaps() -> None:
    recorders: list[Recorder] = []
    agent = SimulatedAgent(laser(), instance_id=77, buffer_size=200)
    simulator = simulate([laser()], recorders, agent=agent)
    agent.start()
    try:
        probe = parse_probe(httpx.get(f"{agent.url}/probe", timeout=5).content)
        assert [item.id for item in probe.devices[0].data_items] == [
            "avail",
            "exec",
            "mode",
            "pgm",
            "parts",
            "system",
            "laser_power",
        ]
        sequences: list[int] = []
        latest: dict[str, object] = {}
        with MTConnectClient(agent.url, machines={"sim-LAS-01": "LAS-01"}, count=50) as client:
            for minute in range(1, 8 * 60 + 1, 10):
                simulator.step(MONDAY + timedelta(minutes=minute))
                for item in client.drain():
                    assert not isinstance(item, Gap), item
                    sequences.append(item.sequence)
                    latest[item.metric] = item.value
    finally:
        agent.stop()
        simulator.close()
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(sequences) == 773
    current = simulator.models["LAS-01"].current
    assert latest == {
        "availability": "AVAILABLE",
        "execution": current["execution"],
        "controller_mode": current["controller_mode"],
        "program": current["program"] or None,
        "part_count": current["part_count"],
        "condition:system": "NORMAL",
        "laser_power": current["laser_power"],
    }
