"""A small fake MTConnect agent for tests, and where the real MTConnect documents live.

It behaves like cppagent where the client's correctness depends on it: one sequence counter for all
observations, a ring buffer of `buffer_size` entries (firstSequence moves up as it wraps), /current
keeps each item's latest value even after the buffer dropped it, /sample?from=&count= answers
OUT_OF_RANGE (HTTP 400, an MTConnectError document) for a `from` outside firstSequence..nextSequence,
and a restart starts a new instanceId at sequence 1. It serves on 127.0.0.1, port 0 the first time and
the same port after `stop()`/`start()`, so a client sees an outage and then the same agent again.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mtconnect"
SHARED_MTCONNECT = REPO.parent / "shared" / "protocols" / "mtconnect"

EPOCH = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
CONTAINERS = {"SAMPLE": "Samples", "EVENT": "Events", "CONDITION": "Condition"}


@dataclass(frozen=True)
class FakeItem:
    id: str
    category: str
    type: str
    element: str
    sub_type: str | None = None
    units: str | None = None


DEFAULT_ITEMS = (
    FakeItem("avail", "EVENT", "AVAILABILITY", "Availability"),
    FakeItem("exec", "EVENT", "EXECUTION", "Execution"),
    FakeItem("mode", "EVENT", "CONTROLLER_MODE", "ControllerMode"),
    FakeItem("pgm", "EVENT", "PROGRAM", "Program"),
    FakeItem("parts", "EVENT", "PART_COUNT", "PartCount"),
    FakeItem("Srpm", "SAMPLE", "ROTARY_VELOCITY", "RotaryVelocity", "ACTUAL", "REVOLUTION/MINUTE"),
    FakeItem("system", "CONDITION", "SYSTEM", "System"),
)


@dataclass(frozen=True)
class FakeEntry:
    sequence: int
    item: FakeItem
    value: str
    timestamp: datetime
    native_code: str | None


class FakeAgent:
    """An in-memory agent; `add()` records an observation, the HTTP side serves what is recorded."""

    def __init__(
        self,
        device: str = "VF2-1",
        uuid: str = "haas-vf2-0001",
        buffer_size: int = 16,
        instance_id: int = 1000,
        version: str = "1.7",
        items: tuple[FakeItem, ...] = DEFAULT_ITEMS,
    ) -> None:
        self.device = device
        self.uuid = uuid
        self.buffer_size = buffer_size
        self.instance_id = instance_id
        self.version = version
        self.items = {item.id: item for item in items}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._buffer: deque[FakeEntry] = deque(maxlen=buffer_size)
        self._latest: dict[str, list[FakeEntry]] = {}
        self._next = 1
        self._port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> FakeAgent:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = agent.respond(self.path)
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
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

    def add(self, item_id: str, value: str, native_code: str | None = None) -> int:
        """Record one observation (for a condition, `value` is the level: Normal, Warning, Fault, Unavailable)."""
        with self._lock:
            entry = FakeEntry(
                sequence=self._next,
                item=self.items[item_id],
                value=value,
                timestamp=EPOCH + timedelta(seconds=self._next),
                native_code=native_code,
            )
            self._next += 1
            self._buffer.append(entry)
            self._latest[item_id] = [entry]
            return entry.sequence

    @property
    def first_sequence(self) -> int:
        return self._buffer[0].sequence if self._buffer else self._next

    def respond(self, path: str) -> tuple[int, str]:
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        request = segments[-1]
        self.requests.append(request)
        if len(segments) == 2 and segments[0] != self.device:
            return 404, self._error("NO_DEVICE", f"Could not find the device '{segments[0]}'.")
        with self._lock:
            if request == "probe":
                return 200, self._probe()
            if request == "current":
                entries = sorted((entry for group in self._latest.values() for entry in group), key=_sequence)
                return 200, self._streams(entries, self._next)
            if request == "sample":
                query = parse_qs(parts.query)
                start = int(query.get("from", [str(self.first_sequence)])[0])
                count = int(query.get("count", ["100"])[0])
                if not self.first_sequence <= start <= self._next:
                    return 400, self._error(
                        "OUT_OF_RANGE", f"'from' must be between {self.first_sequence} and {self._next}."
                    )
                chosen = [entry for entry in self._buffer if entry.sequence >= start][:count]
                return 200, self._streams(chosen, chosen[-1].sequence + 1 if chosen else self._next)
            return 404, self._error("UNSUPPORTED", f"The following path is invalid: {parts.path}.")

    def _namespace(self, kind: str) -> str:
        return f"urn:mtconnect.org:MTConnect{kind}:{self.version}"

    def _header(self, extra: str = "") -> str:
        return (
            f'<Header creationTime="{EPOCH:%Y-%m-%dT%H:%M:%SZ}" sender="fake" instanceId="{self.instance_id}" '
            f'version="{self.version}.0.0" bufferSize="{self.buffer_size}"{extra}/>'
        )

    def _probe(self) -> str:
        items = "".join(
            f'<DataItem category="{item.category}" id="{item.id}" type="{item.type}"'
            + (f' subType="{item.sub_type}"' if item.sub_type else "")
            + (f' units="{item.units}"' if item.units else "")
            + "/>"
            for item in self.items.values()
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><MTConnectDevices xmlns="{self._namespace("Devices")}">'
            f"{self._header()}<Devices>"
            f'<Device id="d1" name={quoteattr(self.device)} uuid={quoteattr(self.uuid)}><DataItems>{items}</DataItems>'
            "</Device></Devices></MTConnectDevices>"
        )

    def _streams(self, entries: list[FakeEntry], next_sequence: int) -> str:
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
        body = (
            f'<ComponentStream component="Device" name="{self.device}" componentId="d1">{containers}</ComponentStream>'
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><MTConnectStreams xmlns="{self._namespace("Streams")}">'
            f"{self._header(sequences)}<Streams>"
            f"<DeviceStream name={quoteattr(self.device)} uuid={quoteattr(self.uuid)}>{body}</DeviceStream>"
            "</Streams></MTConnectStreams>"
        )

    def _error(self, code: str, message: str) -> str:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><MTConnectError xmlns="{self._namespace("Error")}">'
            f'{self._header()}<Errors><Error errorCode="{code}">{escape(message)}</Error></Errors></MTConnectError>'
        )


def _sequence(entry: FakeEntry) -> int:
    return entry.sequence


def _observation(entry: FakeEntry) -> str:
    stamp = f"{entry.timestamp:%Y-%m-%dT%H:%M:%S.%fZ}"
    common = f'dataItemId="{entry.item.id}" sequence="{entry.sequence}" timestamp="{stamp}"'
    if entry.item.sub_type:
        common += f' subType="{entry.item.sub_type}"'
    if entry.item.category == "CONDITION":
        code = f' nativeCode="{entry.native_code}"' if entry.native_code else ""
        return f'<{entry.value} {common} type="{entry.item.type}"{code}/>'
    return f"<{entry.item.element} {common}>{escape(entry.value)}</{entry.item.element}>"
