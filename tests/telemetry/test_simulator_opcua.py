"""The simulator's OPC UA server, read by the MES's own client (`OpcUaSession`, `OpcUaSubscriber`, `opcua_inspect`)
and the edge gateway's OPC UA source, with the node map shipped next to it."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from apps.routings.demo.catalog import DEPARTMENTS, WORK_CENTER_TYPES, WORK_CENTERS
from apps.telemetry import ingest
from apps.telemetry.edge.config import parse_config
from apps.telemetry.edge.opcua import OpcUaSource
from apps.telemetry.management.commands.simulate_machines import DEFAULT_OPCUA_PORT
from apps.telemetry.observations import Observation, Value
from apps.telemetry.opcua.client import OpcUaSession, OpcUaSubscriber, OpcUaUnavailable
from apps.telemetry.opcua.nodemap import MachineMap, load_node_map
from apps.telemetry.opcua.report import inspect_endpoint
from apps.telemetry.simulator.model import FixedCalendar, Kind, MachineModel, MachineSpec, kind_of
from apps.telemetry.simulator.opcua_server import SimulatedOpcUaServer, served_machine, served_values, variable_paths
from apps.telemetry.simulator.runner import Simulator
from apps.telemetry.simulator.sinks import CallableSink, OnCommand, Sink
from tests.machines.shop import department, shift_calendar, work_center, work_center_type

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MAP = REPO / "apps" / "telemetry" / "simulator" / "opcua_nodemap.yaml"
BRAKE = MachineSpec("BRK-01", "forming", Kind.BRAKE, power_meter=True)
MONDAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
CALENDAR = FixedCalendar([(MONDAY, MONDAY + timedelta(hours=8))])
SEED = 2  # its first three hours hold a micro-stop and an alarm, besides setups and bends
METRICS = (
    "machinery_state",
    "operation_mode",
    "stacklight.red",
    "stacklight.yellow",
    "stacklight.green",
    "part_count",
    "program",
    "alarm",
    "spindle_load",
    "power_kw",
)
# What docs/opcua.md says the simulator serves, restated here: the test fails when the server says otherwise.
STATES = {"ACTIVE": "Executing", "READY": "NotExecuting", "INTERRUPTED": "NotExecuting", "STOPPED": "OutOfService"}
MODES = {"AUTOMATIC": "Processing", "MANUAL": "Setup"}
LAMPS = {"OutOfService": "red", "NotExecuting": "yellow", "Executing": "green"}
DIRECT = ("part_count", "program", "alarm", "spindle_load", "power_kw")


def discard(on_command: OnCommand) -> Sink:
    return CallableSink(lambda topic, payload: None)


def simulator(server: SimulatedOpcUaServer) -> Simulator:
    return Simulator([BRAKE], lambda spec: CALENDAR, start=MONDAY, seed=SEED, make_sink=discard, opcua=server)


def client_values(current: Mapping[str, Value]) -> dict[str, Value]:
    """The values the MES's client should read, metric by metric, for the simulator's values."""
    state = "OutOfService" if current["alarm"] else STATES[str(current["execution"])]
    values: dict[str, Value] = {
        "machinery_state": state,
        "operation_mode": MODES[str(current["controller_mode"])],
        **{f"stacklight.{color}": LAMPS[state] == color for color in ("red", "yellow", "green")},
    }
    values.update({metric: current[metric] for metric in DIRECT})
    return values


def expected_history(until: datetime) -> dict[str, list[tuple[datetime, Value]]]:
    """Per metric, every change the client should see from the start to `until`: a twin model's events.

    A value equal to the previous one is no data change in OPC UA, so it is not notified.
    """
    twin = MachineModel(BRAKE, CALENDAR, MONDAY, SEED)
    twin.advance(MONDAY)
    current = dict(twin.current)
    history: dict[str, list[tuple[datetime, Value]]] = {metric: [] for metric in METRICS}

    def note(at: datetime) -> None:
        for metric, value in client_values(current).items():
            if not history[metric] or history[metric][-1][1] != value:
                history[metric].append((at, value))

    note(MONDAY)
    for event in twin.advance(until):
        current[event.metric] = event.value
        note(event.at)
    return history


def expected_snapshot(until: datetime) -> dict[str, tuple[datetime, Value]]:
    """Per metric, what a read returns at `until`: the value, stamped when it changed, or for the simulator's own
    metrics when it was last reported (a measurement repeated is a new sample)."""
    snapshot = {metric: history[-1] for metric, history in expected_history(until).items()}
    twin = MachineModel(BRAKE, CALENDAR, MONDAY, SEED)
    twin.advance(MONDAY)
    for event in twin.advance(until):
        if event.metric in DIRECT:
            snapshot[event.metric] = (event.at, event.value)
    return snapshot


def seen(observations: list[Observation]) -> dict[str, list[tuple[datetime, Value]]]:
    history: dict[str, list[tuple[datetime, Value]]] = {metric: [] for metric in METRICS}
    for observation in observations:
        history[observation.metric].append((observation.timestamp, observation.value))
    return history


def shipped_map(endpoint: str) -> list[MachineMap]:
    """The shipped node map pointed at this test's port instead of the default one, nothing else changed."""
    return load_node_map({**yaml.safe_load(SHIPPED_MAP.read_text(encoding="utf-8")), "endpoint": endpoint})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on the port (as servers do, despite connections in TIME_WAIT)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
    return True


@pytest.fixture
def server() -> Iterator[SimulatedOpcUaServer]:
    with SimulatedOpcUaServer(BRAKE, model="Amada HG-1303 press brake 130 t") as running:
        yield running


def test_served_values_follow_the_simulator_vocabulary() -> None:
    values: dict[str, Value] = {
        "execution": "ACTIVE",
        "controller_mode": "AUTOMATIC",
        "alarm": "BRK-0101",
        "part_count": 7,
    }
    served = {path: variant.Value for path, variant in served_values(BRAKE, values).items()}
    assert served["MachineryBuildingBlocks/MachineryItemState/CurrentState"].Text == "OutOfService"
    assert [served[f"Monitoring/Stacklight/Lamp{n}/SignalOn"] for n in (1, 2, 3)] == [True, False, False]
    assert served["MachineryBuildingBlocks/MachineryOperationMode/CurrentState"].Text == "Processing"
    assert (served["Monitoring/Alarm/Code"], served["Production/Statistics/PartsProducedInLifetime"]) == ("BRK-0101", 7)
    assert "Production/ActiveProgram/Name" not in served  # no value yet: nothing is made up
    station = MachineSpec("ASM-01", "assembly", Kind.MANUAL)
    assert [path for path, _ in variable_paths(station)] == [
        "MachineryBuildingBlocks/MachineryItemState/CurrentState",
        "Monitoring/Stacklight/Lamp1/SignalOn",
        "Monitoring/Stacklight/Lamp2/SignalOn",
        "Monitoring/Stacklight/Lamp3/SignalOn",
        "Production/Statistics/PartsProducedInLifetime",
    ]


def test_the_shipped_node_map_fits_the_demo_shop_and_the_default_port() -> None:
    (entry,) = load_node_map(SHIPPED_MAP)
    assert (entry.machine, entry.object, entry.endpoint) == (
        "BRK-01",
        "BRK-01",
        f"opc.tcp://127.0.0.1:{DEFAULT_OPCUA_PORT}",
    )
    # The demo shop's work centers in the simulator's order (department sequence, then code).
    department_of = {code: department for code, _, department, _ in WORK_CENTER_TYPES}
    position = {code: index for index, (code, _) in enumerate(DEPARTMENTS)}
    specs = [
        MachineSpec(definition.code, department_of[definition.type], kind_of(definition.type))
        for definition in sorted(WORK_CENTERS, key=lambda d: (position[department_of[d.type]], d.code))
    ]
    assert served_machine(specs).code == entry.machine


def test_inspect_with_the_shipped_map_reads_what_the_model_says(server: SimulatedOpcUaServer, tmp_path: Path) -> None:
    node_map = tmp_path / "simulator.yaml"
    node_map.write_text(
        SHIPPED_MAP.read_text(encoding="utf-8").replace(f"127.0.0.1:{DEFAULT_OPCUA_PORT}", f"127.0.0.1:{server.port}")
    )

    def inspect() -> dict[str, Any]:
        out = StringIO()
        call_command("opcua_inspect", server.endpoint, "--map", str(node_map), "--json", stdout=out)
        report: dict[str, Any] = json.loads(out.getvalue())
        return report

    before = inspect()  # served, but the simulator has not reported anything yet
    assert before["machines"][0]["values"] == dict.fromkeys(METRICS)
    run = simulator(server)
    run.step(MONDAY + timedelta(minutes=47))
    report = inspect()
    assert report == {
        "endpoint": server.endpoint,
        "machines": [
            {
                "name": "BRK-01",
                "node_id": "nsu=urn:cnc-copilot:simulator;s=BRK-01",
                "type": "SimulatedMachineType",
                "work_center": "BRK-01",
                "identification": {
                    "Manufacturer": "CNC Copilot machine simulator",
                    "Model": "Amada HG-1303 press brake 130 t",
                    "SerialNumber": "sim-BRK-01",
                },
                "values": client_values(run.models["BRK-01"].current),
            }
        ],
    }
    assert report["machines"][0]["values"]["part_count"] > 0


def test_what_was_recorded_before_the_start_is_served_and_a_repeated_sample_is_restamped() -> None:
    server = SimulatedOpcUaServer(BRAKE)
    run = simulator(server)
    run.step(MONDAY + timedelta(minutes=47))  # before the server listens
    current = run.models["BRK-01"].current
    later = MONDAY + timedelta(minutes=47, seconds=10)

    async def read() -> dict[str, tuple[datetime, Value]]:
        async with OpcUaSession(server.endpoint) as session:
            resolution = await session.resolve(shipped_map(server.endpoint)[0])
            return {o.metric: (o.timestamp, o.value) for o in await session.read(resolution.variables)}

    with server:
        on_start = asyncio.run(read())
        server.record("spindle_load", current["spindle_load"], later)
        server.record("execution", current["execution"], later)
        after_repeats = asyncio.run(read())
    snapshot = expected_snapshot(MONDAY + timedelta(minutes=47))
    assert on_start == snapshot
    assert after_repeats == {**snapshot, "spindle_load": (later, current["spindle_load"])}


def test_a_subscription_sees_every_change_of_the_model_in_order(server: SimulatedOpcUaServer) -> None:
    run = simulator(server)
    until = MONDAY + timedelta(hours=3)
    expected = expected_history(until)

    async def scenario() -> list[Observation]:
        async with OpcUaSession(server.endpoint) as session:
            resolution = await session.resolve(shipped_map(server.endpoint)[0])
            assert resolution.unresolved == {}
            await asyncio.to_thread(run.begin)
            await session.subscribe(resolution.variables, publishing_interval=50)
            for minutes in range(5, 181, 5):
                await asyncio.to_thread(run.step, MONDAY + timedelta(minutes=minutes))
            received: list[Observation] = []
            deadline = time.monotonic() + 15
            while seen(received) != expected and time.monotonic() < deadline:
                received.extend(await session.next_batch(timeout=0.5))
            return received

    received = asyncio.run(scenario())
    assert seen(received) == expected
    assert [observation.sequence for observation in received] == list(range(1, len(received) + 1))
    assert {(observation.machine, observation.stream) for observation in received} == {("BRK-01", received[0].stream)}
    # The run is worth checking: bends, setups, a micro-stop and an alarm, parts counted up.
    states = {value for _, value in expected["machinery_state"]}
    assert states == {"Executing", "NotExecuting", "OutOfService"}
    assert {value for _, value in expected["operation_mode"]} == {"Processing", "Setup"}
    assert [value for _, value in expected["alarm"]] == ["", "BRK-0101", ""]
    # A press brake counts one part per bend, from 0.
    assert [value for _, value in expected["part_count"]] == list(range(107))
    assert run.models["BRK-01"].current["part_count"] == 106


def test_a_lost_connection_starts_a_new_stream_with_a_snapshot_and_nothing_invented(
    server: SimulatedOpcUaServer,
) -> None:
    run = simulator(server)
    run.step(MONDAY + timedelta(minutes=30))
    delivered: list[Observation] = []
    subscriber = OpcUaSubscriber(
        shipped_map(server.endpoint),
        publishing_interval=50,
        first_delay=0.1,
        max_delay=0.4,
        session_factory=lambda endpoint, security: OpcUaSession(endpoint, security, watchdog_interval=0.2),
    )

    async def wait_for(count: int) -> None:
        for _ in range(200):
            if len(delivered) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"only {len(delivered)} observations arrived, expected {count}")

    async def scenario() -> None:
        stop = asyncio.Event()

        async def deliver(batch: list[Observation]) -> None:
            delivered.extend(batch)

        running = asyncio.create_task(subscriber.run(deliver, until=stop))
        await wait_for(len(METRICS))
        await asyncio.to_thread(server.stop)
        # The shop goes on while the client is cut off.
        await asyncio.to_thread(run.step, MONDAY + timedelta(minutes=90))
        for _ in range(100):
            if subscriber.failures:
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(server.start)
        await wait_for(2 * len(METRICS))
        await asyncio.sleep(0.3)  # anything more would arrive now
        stop.set()
        await asyncio.wait_for(running, timeout=5)

    asyncio.run(scenario())
    first, second = list(dict.fromkeys(observation.stream for observation in delivered))
    assert first.rsplit("/", 1)[0] != second.rsplit("/", 1)[0]  # the server's start time: a restart is a new run
    before = [observation for observation in delivered if observation.stream == first]
    after = [observation for observation in delivered if observation.stream == second]
    assert len(delivered) == 2 * len(METRICS)
    assert [observation.sequence for observation in before] == list(range(1, len(METRICS) + 1))
    assert [observation.sequence for observation in after] == list(range(1, len(METRICS) + 1))
    # Each stream starts with a snapshot of the model at that moment, each value stamped when it was reported.
    for observations, minutes in ((before, 30), (after, 90)):
        snapshot = expected_snapshot(MONDAY + timedelta(minutes=minutes))
        assert {o.metric: (o.timestamp, o.value) for o in observations} == snapshot
    # What changed while the connection was down is not replayed, and nothing stands in for it.
    changes_while_down = [
        value
        for at, value in expected_history(MONDAY + timedelta(minutes=90))["part_count"]
        if MONDAY + timedelta(minutes=30) < at < MONDAY + timedelta(minutes=90)
    ]
    assert len(changes_while_down) > 1
    assert len([observation for observation in delivered if observation.metric == "part_count"]) == 2
    assert subscriber.connections == 2
    assert subscriber.failures[0].startswith(f"connection to OPC UA server at {server.endpoint} was lost: ")


def test_the_port_is_never_shared_and_closing_frees_it(server: SimulatedOpcUaServer) -> None:
    second = SimulatedOpcUaServer(BRAKE, port=server.port)
    with pytest.raises(OSError):
        second.start()
    second.close()
    report = asyncio.run(inspect_endpoint(server.endpoint))
    assert [machine["name"] for machine in report["machines"]] == ["BRK-01"]
    server.close()
    assert port_is_free(server.port)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("opcua-server-")]
    with pytest.raises(OpcUaUnavailable):
        asyncio.run(inspect_endpoint(server.endpoint, timeout=1))


def test_the_edge_gateway_snippet_in_the_docs_reads_the_simulator(server: SimulatedOpcUaServer, tmp_path: Path) -> None:
    docs = (REPO / "docs" / "opcua.md").read_text(encoding="utf-8")
    section = docs.split("## Try it against the simulator", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    document = tomllib.loads(block.group(1))
    config = parse_config(document, REPO)
    (source,) = config.sources
    assert (source.kind, source.url, source.node_map) == ("opcua", "opc.tcp://127.0.0.1:4841", SHIPPED_MAP)
    # The same source, on this test's port.
    node_map = tmp_path / "simulator.yaml"
    node_map.write_text(yaml.safe_dump({**yaml.safe_load(SHIPPED_MAP.read_text()), "endpoint": server.endpoint}))
    document["sources"][0].update(url=server.endpoint, node_map=str(node_map))
    run = simulator(server)
    run.step(MONDAY + timedelta(minutes=20))
    gateway_source = OpcUaSource(parse_config(document, tmp_path).sources[0])
    try:
        polled: list[Any] = []
        deadline = time.monotonic() + 10
        while len(polled) < len(METRICS) and time.monotonic() < deadline:
            polled.extend(gateway_source.poll())
            time.sleep(0.05)
    finally:
        gateway_source.close()
    assert {(item.machine, item.metric, item.value) for item in polled} == {
        ("BRK-01", metric, value) for metric, value in client_values(run.models["BRK-01"].current).items()
    }


@pytest.fixture
def shop() -> None:
    shift_calendar("Around the clock", [(day, clock(0), clock(23, 59), []) for day in range(7)], plant_default=True)
    laser = work_center_type("fiber-laser", department("laser", sequence=1))
    brake = work_center_type("press-brake-large", department("forming", sequence=2))
    work_center("LAS-01", laser)
    work_center("BRK-01", brake, name="Amada HG-1303 press brake 130 t")


@pytest.fixture
def fresh_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process ingest keeps one Sparkplug tracker per process; each test starts without one."""
    monkeypatch.setattr(ingest, "_default_decoder", None)


@pytest.mark.django_db
@pytest.mark.usefixtures("shop", "fresh_decoder")
def test_the_command_serves_the_brake_on_the_port_it_prints_and_frees_it() -> None:
    port = free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    reports: list[dict[str, Any]] = []

    def read_while_it_runs() -> None:
        """Until the server answers with the simulator's first values (it listens a moment before they come)."""
        deadline = time.monotonic() + 30
        while not reports and time.monotonic() < deadline:
            try:
                report = asyncio.run(inspect_endpoint(endpoint, shipped_map(endpoint), timeout=1))
            except OpcUaUnavailable:
                time.sleep(0.1)
                continue
            if report["machines"][0]["values"]["machinery_state"] is not None:
                reports.append(report)

    reader = threading.Thread(target=read_while_it_runs)
    reader.start()
    out = StringIO()
    start = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    call_command(
        "simulate_machines",
        "--in-process",
        "--no-mtconnect",
        f"--opcua-port={port}",
        "--speed=600",
        "--duration=2",
        f"--start={start.isoformat()}",
        stdout=out,
    )
    reader.join()
    assert out.getvalue().splitlines()[0] == f"OPC UA server for BRK-01 at {endpoint}"
    (report,) = reports
    (machine,) = report["machines"]
    assert (machine["work_center"], machine["identification"]["Model"]) == ("BRK-01", "Amada HG-1303 press brake 130 t")
    assert set(machine["values"]) == set(METRICS)
    assert machine["values"]["machinery_state"] in {"Executing", "NotExecuting", "OutOfService"}
    assert port_is_free(port)


@pytest.mark.django_db
@pytest.mark.usefixtures("shop")
def test_a_taken_port_is_a_clear_command_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(CommandError, match=rf"cannot listen on 127\.0\.0\.1:{port}: .*--no-opcua"):
            call_command("simulate_machines", "--in-process", "--no-mtconnect", f"--opcua-port={port}", "--duration=1")
