"""The OPC UA server serving one simulated machine: what the MES's OPC UA client and the edge gateway read.

To a client it looks like a machine of the Machinery companion specifications (OPC 40001-1): an object named
by the work center code in `Objects/Machines` (the Machinery namespace's Machines folder, i=1001), with its
values where the client's default metrics look for them (docs/opcua.md), and a few more for the node map:

    Identification/Manufacturer, Model, SerialNumber
    MachineryBuildingBlocks/MachineryItemState/CurrentState        Executing, NotExecuting, OutOfService
    MachineryBuildingBlocks/MachineryOperationMode/CurrentState    Processing, Setup
    Monitoring/Stacklight/Lamp1..3/SignalOn, SignalColor           red, yellow, green (IA stacklight)
    Monitoring/Alarm/Code                                          the active alarm code, "" when none
    Monitoring/Drive/Load or Monitoring/Laser/Power                the load number (%), or laser power (W)
    Monitoring/PowerMeter/ActivePower                              the power meter's reading (kW)
    Production/ActiveProgram/Name, Production/Statistics/PartsProducedInLifetime

The companion specifications' types are not loaded (their NodeSets are large and not shipped): the nodes are
plain objects and variables in the simulator's own namespace, named as the specifications name them, with
string NodeIds `nsu=urn:cnc-copilot:simulator;s=<code>/<browse path>`. Security mode None and anonymous
sessions only: it is a demo and test server, and it listens on 127.0.0.1.

The server runs on an event loop in a thread of its own. `record()`, called by the simulator as it steps,
writes the value and waits until it is in the address space, so data-change notifications go out in the
model's order, each with the simulated moment as its SourceTimestamp. Until the first value arrives a
variable's status is BadWaitingForInitialData (the MES reads that as "unavailable"). `stop()` then `start()`
serves the same values again on the same port (a new server start time, so a client starts a new stream).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar, cast

from asyncua import Node, Server, ua
from asyncua.common.structures104 import new_enum

from apps.telemetry.observations import Value
from apps.telemetry.opcua.nodemap import MACHINERY_URI
from apps.telemetry.simulator.model import (
    ACTIVE,
    ALARM,
    AUTOMATIC,
    CONTROLLER_MODE,
    EXECUTION,
    LASER_POWER,
    MANUAL,
    PART_COUNT,
    POWER_KW,
    PROGRAM,
    SPINDLE_LOAD,
    STOPPED,
    Kind,
    MachineSpec,
)

T = TypeVar("T")

HOST = "127.0.0.1"
NAMESPACE_URI = "urn:cnc-copilot:simulator"
APPLICATION_URI = "urn:cnc-copilot:simulator:opcua-server"
MANUFACTURER = "CNC Copilot machine simulator"
MACHINES_FOLDER = 1001  # Objects/Machines in the Machinery namespace
BUILD_TIMEOUT = 60.0  # the standard address space takes a few seconds to load on a busy CPU
CALL_TIMEOUT = 10.0

STATE_PATH = "MachineryBuildingBlocks/MachineryItemState/CurrentState"
MODE_PATH = "MachineryBuildingBlocks/MachineryOperationMode/CurrentState"
STACKLIGHT_PATH = "Monitoring/Stacklight"
# IA's SignalColor enumeration (OPC 10000-200), in its own order: a lamp's colour is its index here.
SIGNAL_COLORS = ("Off", "Red", "Green", "Blue", "Yellow", "Purple", "Cyan", "White")
LAMPS = (("Lamp1", "Red"), ("Lamp2", "Yellow"), ("Lamp3", "Green"))  # top to bottom
OPERATION_MODES: Mapping[Value, str] = {AUTOMATIC: "Processing", MANUAL: "Setup"}


@dataclass(frozen=True, slots=True)
class ServedVariable:
    """Where one simulator metric is served, below the machine object, and as which OPC UA type."""

    path: str
    variant_type: ua.VariantType


VARIABLES: Mapping[str, ServedVariable] = {
    PROGRAM: ServedVariable("Production/ActiveProgram/Name", ua.VariantType.String),
    PART_COUNT: ServedVariable("Production/Statistics/PartsProducedInLifetime", ua.VariantType.UInt64),
    ALARM: ServedVariable("Monitoring/Alarm/Code", ua.VariantType.String),
    SPINDLE_LOAD: ServedVariable("Monitoring/Drive/Load", ua.VariantType.Double),
    LASER_POWER: ServedVariable("Monitoring/Laser/Power", ua.VariantType.Double),
    POWER_KW: ServedVariable("Monitoring/PowerMeter/ActivePower", ua.VariantType.Double),
}


def served_machine(specs: Sequence[MachineSpec]) -> MachineSpec:
    """The machine the simulator serves over OPC UA: the first press brake, else the first machine."""
    return next((spec for spec in specs if spec.kind is Kind.BRAKE), specs[0])


def machinery_state(values: Mapping[str, Value]) -> str:
    """Machinery's MachineryItemState from the simulator's execution and alarm."""
    execution = values.get(EXECUTION)
    if execution is None:
        return "NotAvailable"
    if values.get(ALARM) or execution == STOPPED:
        return "OutOfService"
    return "Executing" if execution == ACTIVE else "NotExecuting"


def stacklight(state: str) -> dict[str, bool]:
    """Which lamp is on: red out of service, yellow not executing (idle, interrupted, setup), green executing."""
    lit = {"OutOfService": "Red", "NotExecuting": "Yellow", "Executing": "Green"}.get(state)
    return {lamp: color == lit for lamp, color in LAMPS}


def served_values(spec: MachineSpec, values: Mapping[str, Value]) -> dict[str, ua.Variant]:
    """Browse path (below the machine object) -> value, for the simulator values known so far."""
    served: dict[str, ua.Variant] = {}
    if EXECUTION in values:
        state = machinery_state(values)
        served[STATE_PATH] = ua.Variant(ua.LocalizedText(state, "en"), ua.VariantType.LocalizedText)
        for lamp, on in stacklight(state).items():
            served[f"{STACKLIGHT_PATH}/{lamp}/SignalOn"] = ua.Variant(on, ua.VariantType.Boolean)
    mode = OPERATION_MODES.get(values.get(CONTROLLER_MODE))
    if mode is not None:
        served[MODE_PATH] = ua.Variant(ua.LocalizedText(mode, "en"), ua.VariantType.LocalizedText)
    for metric, variable in VARIABLES.items():
        if metric in values:
            served[variable.path] = ua.Variant(values[metric], variable.variant_type)
    return served


def variable_paths(spec: MachineSpec) -> list[tuple[str, ua.VariantType]]:
    """Every variable the machine's address space has for its metrics, in browse order."""
    paths: list[tuple[str, ua.VariantType]] = []
    if EXECUTION in spec.metrics:
        paths.append((STATE_PATH, ua.VariantType.LocalizedText))
    if CONTROLLER_MODE in spec.metrics:
        paths.append((MODE_PATH, ua.VariantType.LocalizedText))
    if EXECUTION in spec.metrics:
        paths.extend((f"{STACKLIGHT_PATH}/{lamp}/SignalOn", ua.VariantType.Boolean) for lamp, _ in LAMPS)
    paths.extend((VARIABLES[m].path, VARIABLES[m].variant_type) for m in spec.metrics if m in VARIABLES)
    return paths


class SimulatedOpcUaServer:
    """`record()` serves a simulator observation (thread-safe); `start()` listens until `stop()`; `close()` ends."""

    def __init__(self, spec: MachineSpec, *, port: int = 0, model: str = "") -> None:
        self.spec = spec
        self.device = spec.code
        self.port = port
        self.model = model or f"simulated {spec.kind.value}"
        self._values: dict[str, Value] = {}
        self._served: dict[str, tuple[ua.Variant, datetime]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._namespace = 0
        self._serving = False

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://{HOST}:{self.port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Listen on 127.0.0.1; port 0 picks a free port the first time, later starts reuse it.

        Raises OSError when the port is taken (another simulator, most likely): two servers never share it.
        """
        with self._lock:
            if self._serving:
                return
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name=f"opcua-server-{self.device}", daemon=True
                )
                self._thread.start()
            if self._server is None:
                self._server = self._call(self._build(), BUILD_TIMEOUT)
            self._call(self._listen())
            self._serving = True

    def stop(self) -> None:
        """Stop listening (clients lose their sessions); values recorded meanwhile are served after `start()`."""
        with self._lock:
            if self._serving and self._server is not None:
                self._serving = False
                self._call(self._server.stop())

    def close(self) -> None:
        """Stop listening and end the server's thread."""
        self.stop()
        with self._lock:
            loop, thread, self._loop, self._thread, self._server = self._loop, self._thread, None, None, None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(_cancel_other_tasks(), loop).result(CALL_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=CALL_TIMEOUT)
        loop.close()

    def record(self, metric: str, value: Value, at: datetime) -> None:
        """Serve one observation of the simulator; what it changes is in the address space on return."""
        if metric not in self.spec.metrics:
            return
        with self._lock:
            self._values[metric] = value
            own = VARIABLES[metric].path if metric in VARIABLES else None
            changes = {
                path: variant
                for path, variant in served_values(self.spec, self._values).items()
                if path == own or path not in self._served or self._served[path][0] != variant
            }
            for path, variant in changes.items():
                self._served[path] = (variant, at)
            if self._server is not None:
                self._call(self._write(self._server, {path: (variant, at) for path, variant in changes.items()}))

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _node_id(self, path: str = "") -> ua.NodeId:
        return _string_id(f"{self.device}/{path}" if path else self.device, self._namespace)

    async def _listen(self) -> None:
        assert self._server is not None
        await self._server.start()
        assert self._server.bserver is not None
        self.port = self._server.bserver.port
        # A restart must come back on the same port, where the clients look for it.
        self._server.set_endpoint(f"opc.tcp://{HOST}:{self.port}/")

    async def _write(self, server: Server, changes: Mapping[str, tuple[ua.Variant, datetime]]) -> None:
        now = datetime.now(UTC)
        for path, (variant, at) in changes.items():
            await server.write_attribute_value(
                self._node_id(path),
                ua.DataValue(variant, SourceTimestamp=cast(ua.DateTime, at), ServerTimestamp=cast(ua.DateTime, now)),
            )

    async def _build(self) -> Server:
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://{HOST}:{self.port}/")
        server.set_server_name(f"CNC Copilot machine simulator ({self.device})")
        await server.set_application_uri(APPLICATION_URI)
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        machinery = await server.register_namespace(MACHINERY_URI)
        self._namespace = namespace = await server.register_namespace(NAMESPACE_URI)
        machines = await server.nodes.objects.add_folder(
            ua.NodeId(ua.Int32(MACHINES_FOLDER), ua.Int16(machinery)), ua.QualifiedName("Machines", machinery)
        )
        machine_type = await server.nodes.base_object_type.add_object_type(
            _string_id("SimulatedMachineType", namespace), ua.QualifiedName("SimulatedMachineType", namespace)
        )
        machine = await machines.add_object(
            self._node_id(), ua.QualifiedName(self.device, namespace), machine_type.nodeid
        )
        objects: dict[str, Node] = {"": machine}
        identification = await self._object(objects, "Identification")
        for name, text in (("Manufacturer", MANUFACTURER), ("Model", self.model)):
            await identification.add_variable(
                self._node_id(f"Identification/{name}"),
                ua.QualifiedName(name, namespace),
                ua.Variant(ua.LocalizedText(text, "en"), ua.VariantType.LocalizedText),
            )
        await identification.add_variable(
            self._node_id("Identification/SerialNumber"),
            ua.QualifiedName("SerialNumber", namespace),
            ua.Variant(f"sim-{self.device}", ua.VariantType.String),
        )
        paths = variable_paths(self.spec)
        for path, variant_type in paths:
            parent_path, _, name = path.rpartition("/")
            parent = await self._object(objects, parent_path)
            await parent.add_variable(
                self._node_id(path),
                ua.QualifiedName(name, namespace),
                None,
                datatype=ua.NodeId(ua.Int32(variant_type.value)),
            )
            await server.write_attribute_value(
                self._node_id(path),
                ua.DataValue(StatusCode=ua.StatusCode(ua.UInt32(ua.StatusCodes.BadWaitingForInitialData))),
            )
        if EXECUTION in self.spec.metrics:
            await self._signal_colors(server, objects)
        await self._write(server, dict(self._served))
        return server

    async def _object(self, objects: dict[str, Node], path: str) -> Node:
        """The object at `path` below the machine, created (with its parents) the first time it is asked for."""
        if path not in objects:
            parent_path, _, name = path.rpartition("/")
            parent = await self._object(objects, parent_path)
            objects[path] = await parent.add_object(self._node_id(path), ua.QualifiedName(name, self._namespace))
        return objects[path]

    async def _signal_colors(self, server: Server, objects: dict[str, Node]) -> None:
        """Each lamp's SignalColor, typed by a SignalColor enumeration whose EnumStrings name the colours."""
        signal_color = await new_enum(server, self._namespace, "SignalColor", list(SIGNAL_COLORS))
        await signal_color.add_property(
            _string_id("SignalColor/EnumStrings", self._namespace),
            ua.QualifiedName("EnumStrings", 0),
            ua.Variant([ua.LocalizedText(name, "en") for name in SIGNAL_COLORS], ua.VariantType.LocalizedText),
        )
        for lamp, color in LAMPS:
            path = f"{STACKLIGHT_PATH}/{lamp}"
            await objects[path].add_variable(
                self._node_id(f"{path}/SignalColor"),
                ua.QualifiedName("SignalColor", self._namespace),
                ua.Variant(SIGNAL_COLORS.index(color), ua.VariantType.Int32),
                datatype=signal_color.nodeid,
            )


def _string_id(text: str, namespace: int) -> ua.NodeId:
    return ua.NodeId(ua.String(text), ua.Int16(namespace))


async def _cancel_other_tasks() -> None:
    """Sessions of clients that went away keep timers on the loop; end them before the loop stops."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
