"""The OPC UA client and `opcua_inspect` against a real asyncua server loaded with the OPC Foundation NodeSets."""

from __future__ import annotations

import asyncio
import json
import socket
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from asyncua import ua
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.telemetry.observations import Observation
from apps.telemetry.opcua.client import CLIENT_APPLICATION_URI, OpcUaSession, OpcUaUnavailable
from apps.telemetry.opcua.nodemap import MachineMap, Security
from tests.telemetry.opcua_server import ALL_NODESETS, RunningServer, make_credentials, shared_server

MACHINE_TOOL = "nsu=http://yourorganisation.org/MachineTool-Example/"
PROGRAM = f"{MACHINE_TOOL};i=6005"
RED_LIGHT_ON = f"{MACHINE_TOOL};i=6059"


@pytest.fixture(scope="session")
def opcua_server() -> RunningServer:
    return shared_server()


def inspect(*args: str) -> str:
    out = StringIO()
    call_command("opcua_inspect", *args, stdout=out)
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_every_shared_nodeset_loads(opcua_server: RunningServer) -> None:
    assert opcua_server.failed == {}
    assert opcua_server.loaded == list(ALL_NODESETS)


def test_inspect_lists_the_example_machines(opcua_server: RunningServer) -> None:
    report: dict[str, Any] = json.loads(inspect(opcua_server.endpoint, "--json"))
    assert report["endpoint"] == opcua_server.endpoint
    assert [(machine["name"], machine["type"]) for machine in report["machines"]] == [
        ("LaserSystem-Example", "LaserSystemType"),
        ("MetalFormingMachine", "MachineToolType"),
        ("ExampleMachine01", "ExampleMachineType"),
        ("SampleMachineTool", "MachineToolType"),
        ("SampleMachineTool_v101", "MachineToolType"),
    ]
    laser, press, engel, machine_tool, _ = report["machines"]
    assert laser == {
        "name": "LaserSystem-Example",
        "node_id": "nsu=http://vdma.org/UA/LaserSystem-Example/;i=5003",
        "type": "LaserSystemType",
        "work_center": None,
        "identification": {"Manufacturer": "VDMA e.V.", "Model": "Sample Laser System", "SerialNumber": "0815-4711"},
        "values": {"machinery_state": "Executing", "operation_mode": "Processing", "stacklight.green": True},
    }
    assert engel["identification"] == {
        "Manufacturer": "ENGEL AUSTRIA GMBH",
        "Model": "Viper 6",
        "SerialNumber": "235223",
    }
    assert engel["values"] == {"machinery_state": None, "operation_mode": None}
    assert press["identification"] == {"Manufacturer": None, "SerialNumber": None}
    assert press["values"] == {"operation_mode": None, "program": None}
    assert machine_tool["node_id"] == f"{MACHINE_TOOL};i=5002"
    assert machine_tool["identification"] == {
        "Manufacturer": "VDW e.V.",
        "Model": "Sample Machine Tool",
        "SerialNumber": "123456",
    }
    assert machine_tool["values"] == {
        "operation_mode": "Automatic",
        "stacklight.white": False,
        "stacklight.green": True,
        "stacklight.yellow": False,
        "stacklight.red": False,
        "program": "Sample.nc",
    }
    assert "unresolved" not in report


def test_inspect_table(opcua_server: RunningServer) -> None:
    text = inspect(opcua_server.endpoint)
    assert text.startswith(f"OPC UA server {opcua_server.endpoint}: 5 machine(s)\n")
    assert (
        "\nSampleMachineTool (MachineToolType)\n"
        f"  node id: {MACHINE_TOOL};i=5002\n"
        "  Manufacturer: VDW e.V.\n"
        "  Model: Sample Machine Tool\n"
        "  SerialNumber: 123456\n"
        "  operation_mode = Automatic\n"
    ) in text
    assert "\nMetalFormingMachine (MachineToolType)\n" in text
    assert "  Manufacturer: (empty)\n" in text


def test_inspect_with_a_node_map(opcua_server: RunningServer, tmp_path: Path) -> None:
    node_map = {
        "endpoint": opcua_server.endpoint,
        "machines": [
            {
                "machine": "WC-MILL-01",
                "object": f"{MACHINE_TOOL};i=5002",
                "metrics": {
                    "spindle_override": f"{MACHINE_TOOL};i=6070",
                    "feed_override": "Monitoring/Channel1/FeedOverride",
                },
            },
            {
                "machine": "WC-LASER-01",
                "object": "LaserSystem-Example",
                "metrics": {
                    "part_count": "Production/RecipeSettingsAndOverviews/Recipe1/RunsCompleted",
                    "program": "LaserSystems:Production/RecipeSettingsAndOverviews/Recipe1/LaserSystems:RecipeName",
                    "coolant": "Monitoring/NoSuchObject/Value",
                },
            },
            {"machine": "WC-GHOST", "object": "NoSuchMachine"},
        ],
    }
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(node_map), encoding="utf-8")
    report: dict[str, Any] = json.loads(inspect(opcua_server.endpoint, "--map", str(path), "--json"))
    by_name = {machine["name"]: machine for machine in report["machines"]}
    assert [machine["work_center"] for machine in report["machines"]] == [
        "WC-LASER-01",
        None,
        None,
        "WC-MILL-01",
        None,
    ]
    assert by_name["LaserSystem-Example"]["values"] == {
        "machinery_state": "Executing",
        "operation_mode": "Processing",
        "stacklight.green": True,
        "part_count": 1,
        "program": "Welding Programm 0815",
    }
    assert by_name["SampleMachineTool"]["values"]["spindle_override"] == 95.0
    assert by_name["SampleMachineTool"]["values"]["feed_override"] == 85.0
    assert report["unresolved"] == {
        "WC-LASER-01.coolant": "none of Monitoring/NoSuchObject/Value is a variable here",
        "WC-GHOST": "no machine 'NoSuchMachine' in the Machines folder",
    }


def test_unreachable_endpoint_is_a_clear_command_error() -> None:
    port = free_port()
    with pytest.raises(CommandError) as error:
        inspect(f"opc.tcp://127.0.0.1:{port}", "--timeout", "2")
    assert str(error.value) == (
        f"OPC UA server at opc.tcp://127.0.0.1:{port} is unavailable: could not connect: "
        f"[Errno 111] Connect call failed ('127.0.0.1', {port})"
    )
    with pytest.raises(CommandError, match=r"'http://127.0.0.1:5000' is not an OPC UA endpoint"):
        inspect("http://127.0.0.1:5000")


async def collect(session: OpcUaSession, count: int, timeout: float = 5.0) -> list[Observation]:
    received: list[Observation] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(received) < count and asyncio.get_running_loop().time() < deadline:
        received.extend(await session.next_batch(timeout=0.5))
    return received


def test_subscription_sees_a_change_made_on_the_server(opcua_server: RunningServer) -> None:
    async def scenario() -> tuple[str, list[Observation], list[Observation]]:
        async with OpcUaSession(opcua_server.endpoint) as session:
            resolution = await session.resolve(
                MachineMap(machine="WC-MILL-01", endpoint=opcua_server.endpoint, object="SampleMachineTool")
            )
            await session.subscribe(resolution.variables, publishing_interval=50)
            initial = await collect(session, 6)
            await asyncio.to_thread(opcua_server.write, PROGRAM, "Bracket-42.nc", ua.VariantType.String)
            await asyncio.to_thread(opcua_server.write, RED_LIGHT_ON, True, ua.VariantType.Boolean)
            changes = await collect(session, 2)
            return session.stream, initial, changes

    try:
        stream, initial, changes = asyncio.run(scenario())
    finally:
        opcua_server.write(PROGRAM, "Sample.nc", ua.VariantType.String)
        opcua_server.write(RED_LIGHT_ON, False, ua.VariantType.Boolean)
    assert stream.startswith(f"opcua:{opcua_server.endpoint}#")
    assert {observation.stream for observation in initial + changes} == {stream}
    assert [observation.sequence for observation in initial + changes] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert {observation.machine for observation in initial + changes} == {"WC-MILL-01"}
    assert {observation.metric: observation.value for observation in initial} == {
        "operation_mode": "Automatic",
        "stacklight.white": False,
        "stacklight.green": True,
        "stacklight.yellow": False,
        "stacklight.red": False,
        "program": "Sample.nc",
    }
    assert [(observation.metric, observation.value) for observation in changes] == [
        ("program", "Bracket-42.nc"),
        ("stacklight.red", True),
    ]
    assert all(observation.timestamp.utcoffset() is not None for observation in initial + changes)


def test_secure_session_with_certificates(opcua_server: RunningServer, tmp_path: Path) -> None:
    client = make_credentials(tmp_path, "client", CLIENT_APPLICATION_URI, server=False)
    security = Security(
        policy="Basic256Sha256",
        mode="SignAndEncrypt",
        certificate=client.certificate,
        private_key=client.private_key,
        server_certificate=opcua_server.credentials.certificate,
    )

    async def machines() -> list[str]:
        async with OpcUaSession(opcua_server.endpoint, security) as session:
            assert session.client.security_policy.Mode == ua.MessageSecurityMode.SignAndEncrypt
            return [machine.name for machine in await session.machines()]

    assert asyncio.run(machines()) == [
        "LaserSystem-Example",
        "MetalFormingMachine",
        "ExampleMachine01",
        "SampleMachineTool",
        "SampleMachineTool_v101",
    ]


def test_secure_session_refuses_another_server_certificate(opcua_server: RunningServer, tmp_path: Path) -> None:
    client = make_credentials(tmp_path, "client", CLIENT_APPLICATION_URI, server=False)
    impostor = make_credentials(tmp_path, "impostor", "urn:impostor", server=True)
    security = Security(
        policy="Basic256Sha256",
        mode="SignAndEncrypt",
        certificate=client.certificate,
        private_key=client.private_key,
        server_certificate=impostor.certificate,
    )
    missing = Security(
        policy="Basic256Sha256",
        mode="SignAndEncrypt",
        certificate=tmp_path / "nope.der",
        private_key=client.private_key,
        server_certificate=impostor.certificate,
    )

    async def connect(with_security: Security) -> None:
        async with OpcUaSession(opcua_server.endpoint, with_security, timeout=1):
            pass

    with pytest.raises(OpcUaUnavailable) as error:
        asyncio.run(connect(security))
    assert str(error.value).startswith(f"OPC UA server at {opcua_server.endpoint} is unavailable: could not connect: ")
    with pytest.raises(OpcUaUnavailable) as error:
        asyncio.run(connect(missing))
    assert str(error.value) == (
        f"OPC UA server at {opcua_server.endpoint} is unavailable: "
        f"certificate or key file not found: {tmp_path / 'nope.der'}"
    )
