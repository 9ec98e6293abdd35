"""A real asyncua OPC UA server for tests, built from the OPC Foundation NodeSets in ../shared/protocols/opcua.

The server runs on its own event loop in a background thread, so synchronous code (the management
command, Django tests) and the tests' own `asyncio.run` clients can talk to it alike. It binds
127.0.0.1 on a free port, offers None and Basic256Sha256 SignAndEncrypt (with a throw-away
self-signed certificate) and accepts any client certificate.

Import order matters (each model requires the ones before it). Every file imports with
`auto_load_definitions=False` and the data type definitions are loaded once at the end: the default
fails on Machinery.Jobs (OutputInformationDataType) and then every dependent model is refused.
Loading all of them takes ~8 s on one core, hence `shared_server()`, started once per test process.
A file that fails to import is recorded in `failed` with the error and the others still load.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import tempfile
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from asyncua import Node, Server, ua
from asyncua.crypto import cert_gen
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

T = TypeVar("T")

# asyncua narrates every request at INFO; through the project's handlers that doubles the import time.
logging.getLogger("asyncua").setLevel(logging.WARNING)

SERVER_APPLICATION_URI = "urn:cnc-copilot:test-opcua-server"


def protocols_dir() -> Path:
    """../shared/protocols next to the checkout (CI) — the same place the lead's tree has it."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "protocols"
        if (candidate / "opcua").is_dir():
            return candidate
    raise FileNotFoundError("shared/protocols/opcua not found next to the checkout")


# Order from shared/protocols/opcua/README.md: dependencies first, example instances last.
ALL_NODESETS: tuple[str, ...] = (
    "Opc.Ua.Di.NodeSet2.xml",
    "Opc.Ua.IA.NodeSet2.xml",
    "Opc.Ua.Machinery.NodeSet2.xml",
    "opc.ua.isa95-jobcontrol.nodeset2.xml",
    "Opc.Ua.Machinery.Jobs.Nodeset2.xml",
    "Opc.Ua.MachineTool.NodeSet2.xml",
    "Opc.Ua.LaserSystems.NodeSet2.xml",
    "Opc.Ua.IRDI.NodeSet2.xml",
    "Opc.Ua.PADIM.NodeSet2.xml",
    "Opc.Ua.Machinery.ProcessValues.NodeSet2.xml",
    "Opc.Ua.MetalForming.NodeSet2.xml",
    "LaserSystem-Example.NodeSet2.xml",
    "MetalForming_Example.xml",
    "Opc.Ua.Machinery.Examples.NodeSet2.xml",
    "Machinetool-Example.xml",
)
# Enough for one machine (ENGEL's example): used where a server is stopped and restarted.
MACHINERY_NODESETS: tuple[str, ...] = (
    "Opc.Ua.Di.NodeSet2.xml",
    "Opc.Ua.Machinery.NodeSet2.xml",
    "Opc.Ua.Machinery.Examples.NodeSet2.xml",
)


@dataclass(frozen=True)
class Credentials:
    """A certificate (DER) and private key (PEM) on disk, as a real deployment keeps them."""

    certificate: Path
    private_key: Path


def make_credentials(folder: Path, name: str, application_uri: str, *, server: bool) -> Credentials:
    key = cert_gen.generate_private_key()
    certificate = cert_gen.generate_self_signed_app_certificate(
        key,
        name,
        {"organizationName": "CNC Copilot tests"},
        [
            x509.UniformResourceIdentifier(application_uri),
            x509.DNSName("localhost"),
            x509.DNSName(socket.gethostname()),
        ],
        [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    credentials = Credentials(certificate=folder / f"{name}.der", private_key=folder / f"{name}.pem")
    credentials.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    credentials.private_key.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return credentials


@dataclass
class RunningServer:
    """An asyncua Server on a background loop; `run()` executes a coroutine there and waits for it."""

    server: Server
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    port: int
    credentials: Credentials
    folder: Path
    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}"

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def namespace_index(self, uri: str) -> int:
        return self.run(self.server.get_namespace_index(uri))

    def node(self, node_id: str) -> Node:
        """The server's own handle on a node (`nsu=` NodeIds resolved here)."""
        return self.server.get_node(self._node_id(node_id))

    def write(self, node_id: str, value: Any, variant_type: ua.VariantType) -> None:
        """A server-side change, as the machine's controller would make it (not a client write)."""
        self.run(self.node(node_id).write_value(ua.DataValue(ua.Variant(value, variant_type))))

    def stop(self) -> None:
        self.run(self.server.stop())

    def restart(self) -> None:
        self.run(self.server.start())

    def close(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self.stop()
            self.run(_cancel_other_tasks())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    def _node_id(self, text: str) -> ua.NodeId:
        parsed = ua.NodeId.from_string(text)
        uri = getattr(parsed, "NamespaceUri", None)
        if uri:
            return ua.NodeId(parsed.Identifier, ua.Int16(self.namespace_index(uri)), parsed.NodeIdType)
        return parsed


async def _cancel_other_tasks() -> None:
    """Sessions of clients that vanished keep timers on the loop; end them before the loop stops."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


async def _build(nodesets: Sequence[str], credentials: Credentials) -> tuple[Server, list[str], dict[str, str]]:
    server = Server()
    await server.init()
    await server.set_application_uri(SERVER_APPLICATION_URI)
    server.set_endpoint("opc.tcp://127.0.0.1:0/")
    server.set_server_name("CNC Copilot test server")
    await server.load_certificate(str(credentials.certificate))
    await server.load_private_key(str(credentials.private_key))
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity, ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
    folder = protocols_dir() / "opcua"
    loaded: list[str] = []
    failed: dict[str, str] = {}
    for name in nodesets:
        try:
            await server.import_xml(str(folder / name), auto_load_definitions=False)
        except Exception as exc:  # noqa: BLE001 - any import failure is recorded, the rest still load
            failed[name] = f"{type(exc).__name__}: {exc}"
        else:
            loaded.append(name)
    await server.load_data_type_definitions()
    await server.start()
    return server, loaded, failed


def start_server(nodesets: Sequence[str] = ALL_NODESETS) -> RunningServer:
    """Build, start and return a server in its own thread; call close() when done."""
    folder = Path(tempfile.mkdtemp(prefix="opcua-test-"))
    credentials = make_credentials(folder, "server", SERVER_APPLICATION_URI, server=True)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="opcua-test-server", daemon=True)
    thread.start()
    server, loaded, failed = asyncio.run_coroutine_threadsafe(_build(nodesets, credentials), loop).result(120)
    assert server.bserver is not None
    port = server.bserver.port
    # A restart must come back on the same port, where the clients will look for it.
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/")
    return RunningServer(
        server=server,
        loop=loop,
        thread=thread,
        port=port,
        credentials=credentials,
        folder=folder,
        loaded=loaded,
        failed=failed,
    )


@functools.cache
def shared_server() -> RunningServer:
    """All NodeSets, started once per test process (the import is the slow part).

    Never closed: its thread is a daemon and ends with the process, and closing it from an atexit
    hook would log into pytest's already closed capture streams.
    """
    return start_server(ALL_NODESETS)


@functools.cache
def machinery_server() -> RunningServer:
    """DI + Machinery + ENGEL's example, once per test process: the server tests may stop and restart.

    A test that stops it restarts it before returning, so the next test finds it serving.
    """
    return start_server(MACHINERY_NODESETS)
