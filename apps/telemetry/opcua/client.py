"""A read-only OPC UA session: find machines, resolve the node map, read and subscribe.

One `OpcUaSession` is one connection to one endpoint. It never writes (writes live in `writes.py`,
audited and permission-checked). Every failure of the connection surfaces as `OpcUaUnavailable`
naming the endpoint; a connection that drops while subscribed raises `OpcUaConnectionLost` from
`next_batch`, and `OpcUaSubscriber.run` then reconnects with back-off and subscribes again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from asyncua import Client, Node, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

from apps.telemetry.observations import MalformedMessage, Observation
from apps.telemetry.opcua.nodemap import (
    MACHINERY_URI,
    NO_SECURITY,
    MachineMap,
    NodeMapError,
    PathSegment,
    Security,
    is_node_id,
    metric_targets,
    parse_path,
)
from apps.telemetry.opcua.values import observed_at, stream_name, typed_value

logger = logging.getLogger("cnc.telemetry.opcua")

DEFAULT_TIMEOUT = 5.0
CLIENT_APPLICATION_URI = "urn:cnc-copilot:opcua-client"
_SERVER_START_TIME = ua.NodeId(ua.Int32(ua.ObjectIds.Server_ServerStatus_StartTime))
# Errors asyncua raises when the server is gone, refuses us or does not answer in time.
_TRANSPORT_ERRORS = (OSError, asyncio.TimeoutError, ua.UaError, ConnectionError)


class OpcUaUnavailable(ConnectionError):
    """The endpoint could not be reached or stopped answering: retry later."""

    def __init__(self, endpoint: str, detail: str) -> None:
        self.endpoint = endpoint
        self.detail = detail
        super().__init__(self.describe(endpoint, detail))

    @staticmethod
    def describe(endpoint: str, detail: str) -> str:
        return f"OPC UA server at {endpoint} is unavailable: {detail}"


class OpcUaConnectionLost(OpcUaUnavailable):
    """An established session dropped (server stopped, network cut): reconnect and subscribe again."""

    @staticmethod
    def describe(endpoint: str, detail: str) -> str:
        return f"connection to OPC UA server at {endpoint} was lost: {detail}"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MachineObject:
    """A machine instance in the Machinery `Machines` folder."""

    name: str
    node_id: str  # nsu= form: stable across server restarts, usable in a node map
    type_name: str
    node: Node


@dataclass(frozen=True, slots=True)
class MappedVariable:
    """One variable the MES reads: which work center and metric its values become."""

    machine: str
    metric: str
    node_id: ua.NodeId
    enum_names: Mapping[int, str] | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a node map resolved to on this server, and which explicitly mapped metrics did not resolve."""

    variables: tuple[MappedVariable, ...]
    unresolved: Mapping[str, str]  # "<machine>.<metric>" or "<machine>" -> why


class _DataChanges:
    """asyncua's subscription handler: numbers each notification and queues it as an Observation."""

    def __init__(self, session: OpcUaSession) -> None:
        self.session = session

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        self.session._accept(node.nodeid, data.monitored_item.Value)

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        self.session._lose(f"subscription status {status.Status.name}")


class OpcUaSession:
    """One read-only session with one endpoint; use as `async with OpcUaSession(...) as session:`."""

    def __init__(
        self,
        endpoint: str,
        security: Security = NO_SECURITY,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        watchdog_interval: float = 1.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.security = security
        self.timeout = timeout
        self.watchdog_interval = watchdog_interval
        self.clock = clock
        self.stream = ""
        self.namespaces: list[str] = []
        self._client: Client | None = None
        self._sequence = 0
        self._by_node: dict[ua.NodeId, list[MappedVariable]] = {}
        self._queue: asyncio.Queue[Observation] = asyncio.Queue()
        self._lost = asyncio.Event()
        self._lost_detail = ""
        self._enum_cache: dict[ua.NodeId, Mapping[int, str] | None] = {}

    async def __aenter__(self) -> OpcUaSession:
        await self.connect()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.disconnect()

    @property
    def client(self) -> Client:
        if self._client is None:
            raise OpcUaUnavailable(self.endpoint, "not connected")
        return self._client

    async def connect(self) -> None:
        client = Client(self.endpoint, timeout=self.timeout, watchdog_intervall=self.watchdog_interval)
        client.name = client.description = "CNC Copilot"
        client.application_uri = CLIENT_APPLICATION_URI
        client.connection_lost_callback = self._connection_lost
        async with self._guard("connect"):
            if self.security.is_secure:
                await self._secure(client)
            await asyncio.wait_for(client.connect(), timeout=self.timeout)
        self._client = client
        try:
            async with self._guard("read the namespace array and server start time"):
                self.namespaces = await client.get_namespace_array()
                started = await client.get_node(_SERVER_START_TIME).read_value()
        except OpcUaUnavailable:
            await self.disconnect()
            raise
        self.stream = stream_name(self.endpoint, started if isinstance(started, datetime) else None, uuid.uuid4().hex)

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await asyncio.wait_for(client.disconnect(), timeout=self.timeout)
        except _TRANSPORT_ERRORS as exc:
            logger.info("closing the session with %s failed: %s", self.endpoint, exc)

    async def machines(self) -> list[MachineObject]:
        """Every object in the Machinery `Machines` folder, in browse order."""
        async with self._guard("browse the Machines folder"):
            if MACHINERY_URI not in self.namespaces:
                return []
            folder = await self._child(self.client.nodes.objects, PathSegment("Machines", MACHINERY_URI))
            if folder is None:
                return []
            found: list[MachineObject] = []
            for reference in await folder.get_children_descriptions(nodeclassmask=ua.NodeClass.Object):
                type_name = ""
                if not reference.TypeDefinition.is_null():
                    type_name = (await self.client.get_node(reference.TypeDefinition).read_browse_name()).Name
                node_id = ua.NodeId(reference.NodeId.Identifier, reference.NodeId.NamespaceIndex)
                found.append(
                    MachineObject(
                        name=reference.BrowseName.Name,
                        node_id=self.stable_id(node_id),
                        type_name=type_name,
                        node=self.client.get_node(node_id),
                    )
                )
            return found

    async def find_machine(self, target: str) -> MachineObject | None:
        """A machine by browse name (or display name) in the Machines folder, or by NodeId."""
        machines = await self.machines()
        if is_node_id(target):
            node_id = self.node_id(target)
            return next((machine for machine in machines if machine.node.nodeid == node_id), None)
        return next((machine for machine in machines if machine.name == target), None)

    async def identification(self, machine: MachineObject) -> dict[str, Any]:
        """Manufacturer, Model and SerialNumber from the DI Identification add-in, for those present."""
        async with self._guard(f"read the identification of {machine.name}"):
            folder = await self._child(machine.node, PathSegment("Identification"))
            if folder is None:
                return {}
            found: dict[str, Any] = {}
            for name in ("Manufacturer", "Model", "SerialNumber"):
                node = await self._child(folder, PathSegment(name))
                if node is not None:
                    found[name] = typed_value(await node.read_data_value(raise_on_bad_status=False))
            return found

    async def resolve(self, machine: MachineMap, found: MachineObject | None = None) -> Resolution:
        """The variables of one machine's map on this server; default metrics that do not exist are skipped."""
        target = found or await self.find_machine(machine.object)
        if target is None:
            return Resolution((), {machine.machine: f"no machine {machine.object!r} in the Machines folder"})
        variables: list[MappedVariable] = []
        unresolved: dict[str, str] = {}
        async with self._guard(f"resolve the node map of {machine.machine}"):
            for metric, candidates in metric_targets(machine.metrics).items():
                resolved = await self._resolve_metric(machine.machine, metric, target.node, candidates)
                if resolved:
                    variables.extend(resolved)
                elif metric in machine.metrics:
                    unresolved[f"{machine.machine}.{metric}"] = f"none of {', '.join(candidates)} is a variable here"
        return Resolution(tuple(variables), unresolved)

    async def read(self, variables: Sequence[MappedVariable]) -> list[Observation]:
        """The current value of each variable, numbered in this session's stream."""
        async with self._guard("read values"):
            values = await self.client.read_attributes(
                [self.client.get_node(variable.node_id) for variable in variables], ua.AttributeIds.Value
            )
        received = self.clock()
        return [self._observation(variable, value, received) for variable, value in zip(variables, values, strict=True)]

    async def subscribe(self, variables: Sequence[MappedVariable], publishing_interval: float = 500.0) -> None:
        """Data-change subscription on every variable; the first notification of each is its current value."""
        for variable in variables:
            self._by_node.setdefault(variable.node_id, []).append(variable)
        async with self._guard("subscribe"):
            subscription = await self.client.create_subscription(publishing_interval, _DataChanges(self))
            await subscription.subscribe_data_change([self.client.get_node(node_id) for node_id in self._by_node])

    async def next_batch(self, timeout: float, stop: asyncio.Event | None = None) -> list[Observation]:
        """What arrived since the last call, waiting up to `timeout` s for something; [] when stopped.

        Raises OpcUaConnectionLost once everything received before the loss has been handed out.
        """
        batch: list[Observation] = []
        if self._queue.empty() and not self._lost.is_set():
            arrival = asyncio.ensure_future(self._queue.get())
            waits = [arrival, asyncio.ensure_future(self._lost.wait())]
            if stop is not None:
                waits.append(asyncio.ensure_future(stop.wait()))
            done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for future in pending:
                future.cancel()
            if arrival in done:
                batch.append(arrival.result())
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        if not batch and self._lost.is_set():
            raise OpcUaConnectionLost(self.endpoint, self._lost_detail)
        return batch

    def node_id(self, text: str) -> ua.NodeId:
        """Parse a NodeId, resolving `nsu=<uri>` against this server's namespace array."""
        try:
            parsed = ua.NodeId.from_string(text)
        except (ValueError, ua.UaStringParsingError) as exc:
            raise NodeMapError(f"{text!r} is not a NodeId: {exc}") from exc
        uri = getattr(parsed, "NamespaceUri", None)
        if not uri:
            return ua.NodeId(parsed.Identifier, parsed.NamespaceIndex, parsed.NodeIdType)
        if uri not in self.namespaces:
            raise NodeMapError(f"{text!r}: namespace {uri} is not on the server at {self.endpoint}")
        return ua.NodeId(parsed.Identifier, ua.Int16(self.namespaces.index(uri)), parsed.NodeIdType)

    def stable_id(self, node_id: ua.NodeId) -> str:
        """`nsu=<uri>;i=5002`: the NodeId with its namespace named, since indexes may change on restart."""
        plain = node_id.to_string()
        if node_id.NamespaceIndex == 0 or node_id.NamespaceIndex >= len(self.namespaces):
            return plain
        return f"nsu={self.namespaces[node_id.NamespaceIndex]};{plain.split(';', 1)[1]}"

    async def _secure(self, client: Client) -> None:
        paths = (self.security.certificate, self.security.private_key, self.security.server_certificate)
        missing = [str(path) for path in paths if path is None or not path.is_file()]
        if missing:
            raise OpcUaUnavailable(self.endpoint, f"certificate or key file not found: {', '.join(missing)}")
        certificate, private_key, server_certificate = (str(path) for path in paths)
        await client.set_security(
            SecurityPolicyBasic256Sha256,
            certificate,
            private_key,
            server_certificate=server_certificate,
            mode=ua.MessageSecurityMode.SignAndEncrypt,
        )

    async def _resolve_metric(
        self, machine: str, metric: str, root: Node, candidates: Sequence[str]
    ) -> list[MappedVariable]:
        for candidate in candidates:
            node = await self._target(root, candidate)
            if node is None:
                continue
            node_class = await node.read_node_class()
            if node_class == ua.NodeClass.Variable:
                enum_names = await self._enum_names(node)
                return [MappedVariable(machine=machine, metric=metric, node_id=node.nodeid, enum_names=enum_names)]
            if node_class == ua.NodeClass.Object:
                lights = await self._stacklight(machine, metric, node)
                if lights:
                    return lights
        return []

    async def _target(self, root: Node, target: str) -> Node | None:
        if is_node_id(target):
            try:
                direct = self.client.get_node(self.node_id(target))
            except NodeMapError:
                return None
            value = await direct.read_attribute(ua.AttributeIds.NodeClass, raise_on_bad_status=False)
            return direct if value.StatusCode is None or value.StatusCode.is_good() else None
        node: Node | None = root
        for segment in parse_path(target):
            node = await self._child(node, segment) if node is not None else None
        return node

    async def _child(self, parent: Node, segment: PathSegment) -> Node | None:
        """The first hierarchical child with that browse name (in that namespace, when the segment names one)."""
        for reference in await parent.get_children_descriptions():
            name = reference.BrowseName
            if name.Name != segment.name:
                continue
            if segment.namespace_uri is not None and (
                name.NamespaceIndex >= len(self.namespaces)
                or self.namespaces[name.NamespaceIndex] != segment.namespace_uri
            ):
                continue
            return self.client.get_node(ua.NodeId(reference.NodeId.Identifier, reference.NodeId.NamespaceIndex))
        return None

    async def _stacklight(self, machine: str, metric: str, stacklight: Node) -> list[MappedVariable]:
        """An IA stacklight: one boolean metric per lamp, `<metric>.<colour>` (the lamp's name without a colour)."""
        lights: list[MappedVariable] = []
        for reference in await stacklight.get_children_descriptions(nodeclassmask=ua.NodeClass.Object):
            lamp = self.client.get_node(ua.NodeId(reference.NodeId.Identifier, reference.NodeId.NamespaceIndex))
            signal_on = await self._child(lamp, PathSegment("SignalOn"))
            if signal_on is None:
                continue
            label = reference.BrowseName.Name
            color_node = await self._child(lamp, PathSegment("SignalColor"))
            if color_node is not None:
                color = typed_value(
                    await color_node.read_data_value(raise_on_bad_status=False), await self._enum_names(color_node)
                )
                if isinstance(color, str) and color and color not in ("Off", "0"):
                    label = color.lower()
            if any(light.metric == f"{metric}.{label}" for light in lights):
                label = reference.BrowseName.Name
            lights.append(MappedVariable(machine=machine, metric=f"{metric}.{label}", node_id=signal_on.nodeid))
        return lights

    async def _enum_names(self, variable: Node) -> Mapping[int, str] | None:
        """Value → name for enumeration-typed variables (from EnumStrings or EnumValues of the data type)."""
        data_type = await variable.read_data_type()
        if data_type.NamespaceIndex == 0 and isinstance(data_type.Identifier, int) and data_type.Identifier <= 29:
            return None  # a built-in type (Boolean … Enumeration itself): nothing to name
        if data_type not in self._enum_cache:
            names: dict[int, str] | None = None
            type_node = self.client.get_node(data_type)
            strings = await self._child(type_node, PathSegment("EnumStrings"))
            values = await self._child(type_node, PathSegment("EnumValues"))
            if strings is not None:
                names = {index: text.Text for index, text in enumerate(await strings.read_value() or [])}
            elif values is not None:
                names = {int(item.Value): item.DisplayName.Text for item in await values.read_value() or []}
            self._enum_cache[data_type] = names
        return self._enum_cache[data_type]

    def _observation(self, variable: MappedVariable, data: ua.DataValue, received: datetime) -> Observation:
        try:
            value = typed_value(data, variable.enum_names)
        except MalformedMessage as exc:
            logger.warning("%s %s.%s: %s; stored as unavailable", self.endpoint, variable.machine, variable.metric, exc)
            value = None
        self._sequence += 1
        return Observation(
            machine=variable.machine,
            stream=self.stream,
            sequence=self._sequence,
            timestamp=observed_at(data, received),
            metric=variable.metric,
            value=value,
        )

    def _accept(self, node_id: ua.NodeId, data: ua.DataValue) -> None:
        received = self.clock()
        for variable in self._by_node.get(node_id, ()):
            self._queue.put_nowait(self._observation(variable, data, received))

    def _lose(self, detail: str) -> None:
        if not self._lost.is_set():
            self._lost_detail = detail
            self._lost.set()

    async def _connection_lost(self, error: Exception) -> None:
        self._lose(str(error) or type(error).__name__)

    @asynccontextmanager
    async def _guard(self, doing: str) -> AsyncIterator[None]:
        try:
            yield
        except OpcUaUnavailable:
            raise
        except _TRANSPORT_ERRORS as exc:
            detail = str(exc) or type(exc).__name__
            if self._lost.is_set():
                raise OpcUaConnectionLost(self.endpoint, f"{self._lost_detail} (while trying to {doing})") from exc
            raise OpcUaUnavailable(self.endpoint, f"could not {doing}: {detail}") from exc


Deliver = Callable[[list[Observation]], Awaitable[None]]
SessionFactory = Callable[[str, Security], OpcUaSession]


class OpcUaSubscriber:
    """Keeps the machines of one endpoint subscribed: connect, resolve, subscribe, deliver; on loss, back off.

    Each connection is a new stream (see values.stream_name) that starts with the current value of
    every variable, so nothing is lost across a reconnect except changes that happened while down,
    which OPC UA data-change subscriptions cannot replay.
    """

    def __init__(
        self,
        machines: Sequence[MachineMap],
        *,
        publishing_interval: float = 500.0,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        session_factory: SessionFactory | None = None,
    ) -> None:
        if not machines:
            raise NodeMapError("no machines to subscribe to")
        endpoints = {(machine.endpoint.rstrip("/"), machine.security) for machine in machines}
        if len(endpoints) != 1:
            raise NodeMapError("one subscriber serves one endpoint with one security setting")
        self.machines = tuple(machines)
        self.endpoint, self.security = endpoints.pop()
        self.publishing_interval = publishing_interval
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.session_factory: SessionFactory = session_factory or (
            lambda endpoint, security: OpcUaSession(endpoint, security)
        )
        self.connections = 0
        self.failures: list[str] = []

    async def run(self, deliver: Deliver, *, until: asyncio.Event) -> None:
        """Deliver observations in batches until `until` is set, reconnecting after every connection failure.

        A node map that resolves to nothing on the server raises NodeMapError: retrying cannot fix that.
        """
        delay = self.first_delay
        while not until.is_set():
            try:
                await self._session(deliver, until)
                delay = self.first_delay
            except OpcUaUnavailable as exc:
                self.failures.append(str(exc))
                logger.warning("%s; reconnecting in %.1f s", exc, delay)
                try:
                    await asyncio.wait_for(until.wait(), timeout=delay)
                except TimeoutError:
                    delay = min(delay * 2, self.max_delay)

    async def _session(self, deliver: Deliver, until: asyncio.Event) -> None:
        async with self.session_factory(self.endpoint, self.security) as session:
            variables: list[MappedVariable] = []
            for machine in self.machines:
                resolution = await session.resolve(machine)
                for what, why in resolution.unresolved.items():
                    logger.warning("%s: %s not mapped: %s", self.endpoint, what, why)
                variables.extend(resolution.variables)
            if not variables:
                raise NodeMapError(f"nothing of the node map resolves to a variable on {self.endpoint}")
            await session.subscribe(variables, self.publishing_interval)
            self.connections += 1
            while not until.is_set():
                batch = await session.next_batch(timeout=1.0, stop=until)
                if batch:
                    await deliver(batch)
