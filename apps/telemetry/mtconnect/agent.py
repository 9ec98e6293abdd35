"""A small MTConnect agent over HTTP: /probe, /current, /sample and MTConnectError documents for one device.

It keeps what a client's correctness depends on from cppagent: one sequence counter for all observations,
a ring buffer of `buffer_size` entries (firstSequence moves up as it wraps), /current with each item's
latest value even after the buffer dropped it, /sample?from=&count= answering OUT_OF_RANGE (HTTP 400) for
a `from` outside firstSequence..nextSequence, and `restart()` starting a new instanceId at sequence 1.
It binds 127.0.0.1 only; `stop()` then `start()` serves again on the same port, so a client sees an
outage and then the same agent. The machine simulator and the tests' fake agent both build on it, so the
MES's client is tested against the very documents the simulator serves.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

VERSION = "1.7"
CONTAINERS = {"SAMPLE": "Samples", "EVENT": "Events", "CONDITION": "Condition"}


@dataclass(frozen=True, slots=True)
class AgentItem:
    """One data item of the device as the probe declares it; `element` is its tag in a stream."""

    id: str
    category: str
    type: str
    element: str
    sub_type: str | None = None
    units: str | None = None


@dataclass(frozen=True, slots=True)
class AgentEntry:
    """One buffered observation; for a condition `value` is the level element (Normal, Warning, Fault...)."""

    sequence: int
    item: AgentItem
    value: str
    timestamp: datetime
    native_code: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


class MTConnectAgent:
    """`append()` buffers an observation (thread-safe); `start()` serves the buffer until `stop()`."""

    def __init__(
        self,
        items: Iterable[AgentItem],
        *,
        device: str,
        uuid: str,
        instance_id: int,
        buffer_size: int = 4096,
        port: int = 0,
        version: str = VERSION,
        sender: str = "cnc-copilot",
        content_type: str = "application/xml",
        poll_interval: float = 0.05,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.device = device
        self.uuid = uuid
        self.instance_id = instance_id
        self.buffer_size = buffer_size
        self.version = version
        self.sender = sender
        self.content_type = content_type
        self.poll_interval = poll_interval
        self.clock = clock
        self.items = {item.id: item for item in items}
        self._lock = threading.Lock()
        self._buffer: deque[AgentEntry] = deque(maxlen=buffer_size)
        self._latest: dict[str, AgentEntry] = {}
        self._next = 1
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve on 127.0.0.1; port 0 picks a free port the first time, later starts reuse it."""
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = agent.respond(self.path)
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", agent.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": self.poll_interval}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def restart(self, instance_id: int) -> None:
        """A new agent process: new instanceId, empty buffer, sequences from 1."""
        with self._lock:
            self.instance_id = instance_id
            self._buffer.clear()
            self._latest.clear()
            self._next = 1

    def append(self, item_id: str, value: str, at: datetime | None = None, native_code: str | None = None) -> int:
        """Buffer one observation of a declared item and return its sequence; `at` defaults to `stamp()`."""
        item = self.items[item_id]
        with self._lock:
            sequence = self._next
            entry = AgentEntry(sequence, item, value, self.stamp(sequence) if at is None else at, native_code)
            self._next += 1
            self._buffer.append(entry)
            self._latest[item_id] = entry
            return sequence

    def stamp(self, sequence: int) -> datetime:
        """The timestamp of an observation appended without one: now, by the agent's clock."""
        return self.clock()

    @property
    def first_sequence(self) -> int:
        return self._buffer[0].sequence if self._buffer else self._next

    def respond(self, path: str) -> tuple[int, str]:
        """The status and XML body for one GET: /probe, /current, /sample, optionally under /<device>/."""
        parts = urlsplit(path)
        segments = [segment for segment in parts.path.split("/") if segment]
        if len(segments) == 2 and segments[0] != self.device:
            return 404, self._error("NO_DEVICE", f"Could not find the device '{segments[0]}'.")
        request = segments[-1] if segments and len(segments) <= 2 else ""
        query = parse_qs(parts.query)
        with self._lock:
            if request == "probe":
                return 200, self._probe()
            if request == "current":
                return 200, self._streams(sorted(self._latest.values(), key=_sequence), self._next)
            if request == "sample":
                try:
                    start = int(query.get("from", [str(self.first_sequence)])[0])
                    count = int(query.get("count", ["100"])[0])
                except ValueError:
                    return 400, self._error("INVALID_REQUEST", "'from' and 'count' must be integers.")
                if not self.first_sequence <= start <= self._next:
                    return 400, self._error(
                        "OUT_OF_RANGE", f"'from' must be between {self.first_sequence} and {self._next}."
                    )
                chosen = [entry for entry in self._buffer if entry.sequence >= start][: max(count, 0)]
                return 200, self._streams(chosen, chosen[-1].sequence + 1 if chosen else self._next)
        return 404, self._error("UNSUPPORTED", f"The following path is invalid: {parts.path}.")

    def _namespace(self, kind: str) -> str:
        return f"urn:mtconnect.org:MTConnect{kind}:{self.version}"

    def _header(self, extra: str = "") -> str:
        return (
            f'<Header creationTime="{self.clock().astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" sender={quoteattr(self.sender)} '
            f'instanceId="{self.instance_id}" version="{self.version}.0.0" bufferSize="{self.buffer_size}"'
            f' assetBufferSize="0" assetCount="0"{extra}/>'
        )

    def _probe(self) -> str:
        items = "".join(
            f'<DataItem category="{item.category}" id="{item.id}" name="{item.id}" type="{item.type}"'
            + (f' subType="{item.sub_type}"' if item.sub_type else "")
            + (f' units="{item.units}"' if item.units else "")
            + "/>"
            for item in self.items.values()
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><MTConnectDevices xmlns="{self._namespace("Devices")}">'
            f"{self._header()}<Devices>"
            f'<Device id="dev" name={quoteattr(self.device)} uuid={quoteattr(self.uuid)}>'
            f"<DataItems>{items}</DataItems></Device></Devices></MTConnectDevices>"
        )

    def _streams(self, entries: list[AgentEntry], next_sequence: int) -> str:
        sequences = (
            f' nextSequence="{next_sequence}" firstSequence="{self.first_sequence}" lastSequence="{self._next - 1}"'
        )
        groups: dict[str, list[str]] = {}
        for entry in entries:
            groups.setdefault(entry.item.category, []).append(_observation(entry))
        containers = "".join(
            f"<{CONTAINERS[category]}>{''.join(groups[category])}</{CONTAINERS[category]}>"
            for category in CONTAINERS
            if category in groups
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><MTConnectStreams xmlns="{self._namespace("Streams")}">'
            f"{self._header(sequences)}<Streams>"
            f"<DeviceStream name={quoteattr(self.device)} uuid={quoteattr(self.uuid)}>"
            f'<ComponentStream component="Device" name={quoteattr(self.device)} componentId="dev">{containers}'
            "</ComponentStream></DeviceStream></Streams></MTConnectStreams>"
        )

    def _error(self, code: str, message: str) -> str:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><MTConnectError xmlns="{self._namespace("Error")}">'
            f'{self._header()}<Errors><Error errorCode="{code}">{escape(message)}</Error></Errors></MTConnectError>'
        )


def _sequence(entry: AgentEntry) -> int:
    return entry.sequence


def _observation(entry: AgentEntry) -> str:
    stamp = f"{entry.timestamp.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
    common = f'dataItemId="{entry.item.id}" name="{entry.item.id}" sequence="{entry.sequence}" timestamp="{stamp}"'
    if entry.item.sub_type:
        common += f' subType="{entry.item.sub_type}"'
    if entry.item.category == "CONDITION":
        code = f" nativeCode={quoteattr(entry.native_code)}" if entry.native_code else ""
        return f'<{entry.value} {common} type="{entry.item.type}"{code}/>'
    return f"<{entry.item.element} {common}>{escape(entry.value)}</{entry.item.element}>"
