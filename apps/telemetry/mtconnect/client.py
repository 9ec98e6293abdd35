"""Poll an MTConnect agent over HTTP and hand out each observation once, with explicit gaps for what was lost.

The agent keeps a ring buffer of the last `bufferSize` observations, numbered by `sequence` within one
agent run (`instanceId`). The client remembers (instanceId, nextSequence) and asks /sample for what
follows, so a poll never repeats nor skips an observation. Three things break that chain and each is
handled explicitly:

- the agent restarted (new instanceId): probe again (its device model may have changed) and read the
  new run from its firstSequence;
- we fell behind and the buffer wrapped (`from` below firstSequence, answered with OUT_OF_RANGE or with
  a later first entry): record a Gap for exactly the overwritten sequences and continue from
  firstSequence, never filling the hole;
- the agent is unreachable: raise AgentUnavailable naming the URL and keep the position, so the
  caller's retry resumes where the last successful poll ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import httpx

from apps.telemetry.mtconnect.documents import (
    DeviceStream,
    Document,
    ErrorDocument,
    ProbeDocument,
    StreamsDocument,
    StreamsHeader,
    parse_document,
)
from apps.telemetry.mtconnect.mapping import DataItemMap, machine_for, stream_name, to_observations
from apps.telemetry.observations import Gap, MalformedMessage, Observation

DEFAULT_COUNT = 1000
DEFAULT_TIMEOUT = 10.0


class AgentUnavailable(ConnectionError):
    """The agent did not answer (refused, timed out, HTTP error without an MTConnect body): retry later."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        super().__init__(f"MTConnect agent at {url} is unavailable: {detail}")


class AgentError(RuntimeError):
    """The agent answered with an MTConnectError document (OUT_OF_RANGE, NO_DEVICE, INVALID_REQUEST, ...)."""

    def __init__(self, url: str, document: ErrorDocument) -> None:
        self.url = url
        self.document = document
        details = "; ".join(
            f"{error.code}: {error.message}" if error.message else error.code for error in document.errors
        )
        super().__init__(f"MTConnect agent at {url} answered with an error: {details}")


@dataclass(frozen=True, slots=True)
class Batch:
    """What one poll brought: new observations in sequence order, gaps, and whether the agent has more."""

    observations: tuple[Observation, ...]
    gaps: tuple[Gap, ...]
    caught_up: bool


def _now() -> datetime:
    return datetime.now(UTC)


class MTConnectClient:
    """One agent (optionally one of its devices); not thread-safe: one poller owns one client.

    `machines` maps device names or uuids to work center codes; without it the device name is the
    machine. `http` lets the caller share a configured httpx.Client (proxies, TLS, auth); by default
    the client makes and owns one.
    """

    def __init__(
        self,
        base_url: str,
        device: str | None = None,
        http: httpx.Client | None = None,
        *,
        machines: Mapping[str, str] | None = None,
        count: int = DEFAULT_COUNT,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.device = device
        self.machines = machines
        self.count = count
        self.timeout = timeout
        self.clock = clock
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client(timeout=timeout)
        self.items = DataItemMap()
        self.probe_document: ProbeDocument | None = None
        self.instance_id: int | None = None
        self.next_sequence: int | None = None
        self.last_sequence: int | None = None

    def __enter__(self) -> MTConnectClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def url(self, request: str) -> str:
        return f"{self.base_url}/{self.device}/{request}" if self.device else f"{self.base_url}/{request}"

    def probe(self) -> ProbeDocument:
        """Read the device model and rebuild the data-item map from it."""
        document = self._get("probe")
        if not isinstance(document, ProbeDocument):
            raise MalformedMessage(
                "bad_document", f"{self.url('probe')} did not answer with an MTConnectDevices document"
            )
        self.probe_document = document
        self.items = DataItemMap.from_probe(document)
        return document

    def current(self) -> StreamsDocument:
        return self._streams("current")

    def sample(self, from_: int, count: int | None = None) -> StreamsDocument:
        return self._streams("sample", {"from": str(from_), "count": str(count or self.count)})

    def observations(self, document: StreamsDocument) -> list[Observation]:
        return to_observations(document, self.items, self.machines)

    def poll_once(self) -> Batch:
        """The next chunk of observations after the last one returned (the /current snapshot the first time)."""
        if self.next_sequence is None or self.instance_id is None:
            return self._start()
        wanted = self.next_sequence
        try:
            document = self.sample(wanted)
        except AgentError as error:
            if "OUT_OF_RANGE" not in error.document.codes:
                raise
            return self._out_of_range(error, wanted)
        if document.header.instance_id != self.instance_id:
            return self._restart(document.header)
        gaps: tuple[Gap, ...] = ()
        if document.header.first_sequence > wanted:
            # Some agents answer a `from` below the buffer with what they still hold instead of an error.
            gaps = self._gaps(wanted, document.header.first_sequence - 1, "buffer_wrapped")
        return self._accept(document, gaps)

    def drain(self) -> Iterator[Observation | Gap]:
        """Poll until caught up with the agent, yielding gaps and observations in order."""
        while True:
            batch = self.poll_once()
            yield from batch.gaps
            yield from batch.observations
            if batch.caught_up:
                return

    def _start(self) -> Batch:
        self.probe()
        document = self.current()
        # /current holds the latest value of every item even when its sequence has left the buffer: not a gap.
        self.instance_id = document.header.instance_id
        return self._accept(document, ())

    def _restart(self, header: StreamsHeader) -> Batch:
        gaps: tuple[Gap, ...] = ()
        if (
            self.next_sequence is not None
            and self.last_sequence is not None
            and self.next_sequence <= self.last_sequence
        ):
            # The old run held sequences we had not read yet when it stopped: they are gone with it.
            gaps = self._gaps(self.next_sequence, self.last_sequence, "agent_restarted")
        self.probe()
        self.instance_id = header.instance_id
        self.next_sequence = header.first_sequence
        self.last_sequence = header.last_sequence
        return Batch(observations=(), gaps=gaps, caught_up=False)

    def _out_of_range(self, error: AgentError, wanted: int) -> Batch:
        # An error document's header carries no sequences: /current says where the buffer stands now.
        header = self.current().header
        if header.instance_id != self.instance_id:
            return self._restart(header)
        if wanted < header.first_sequence:
            gaps = self._gaps(wanted, header.first_sequence - 1, "buffer_wrapped")
            self.next_sequence = header.first_sequence
            self.last_sequence = header.last_sequence
            return Batch(observations=(), gaps=gaps, caught_up=False)
        if wanted > header.next_sequence:
            # Ahead of an agent that kept its instanceId: nothing was issued there, so resume at its end.
            self.next_sequence = header.next_sequence
            self.last_sequence = header.last_sequence
            return Batch(observations=(), gaps=(), caught_up=True)
        raise error

    def _accept(self, document: StreamsDocument, gaps: tuple[Gap, ...]) -> Batch:
        start = self.next_sequence
        observations = self.observations(document)
        if start is not None:
            observations = [observation for observation in observations if observation.sequence >= start]
        self.next_sequence = document.header.next_sequence
        self.last_sequence = document.header.last_sequence
        return Batch(
            observations=tuple(observations),
            gaps=gaps,
            caught_up=document.header.next_sequence > document.header.last_sequence,
        )

    def _gaps(self, first: int, last: int, reason: str) -> tuple[Gap, ...]:
        """One Gap per machine the agent serves us: an agent's sequence is shared by all its devices."""
        instance = self.instance_id or 0
        devices = self.probe_document.devices if self.probe_document is not None else ()
        machines = [
            machine_for(
                DeviceStream(name=device.name, uuid=device.uuid, is_agent=device.is_agent, entries=()), self.machines
            )
            for device in devices
        ]
        detected = self.clock()
        return tuple(
            Gap(
                machine=machine,
                stream=stream_name(instance),
                first_missing=first,
                last_missing=last,
                detected_at=detected,
                reason=reason,
            )
            for machine in dict.fromkeys(machines)
            if machine is not None
        )

    def _streams(self, request: str, params: Mapping[str, str] | None = None) -> StreamsDocument:
        document = self._get(request, params)
        if not isinstance(document, StreamsDocument):
            raise MalformedMessage(
                "bad_document", f"{self.url(request)} did not answer with an MTConnectStreams document"
            )
        return document

    def _get(self, request: str, params: Mapping[str, str] | None = None) -> Document:
        url = self.url(request)
        try:
            response = self.http.get(url, params=params, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise AgentUnavailable(url, f"no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise AgentUnavailable(url, str(exc) or type(exc).__name__) from exc
        try:
            document = parse_document(response.content)
        except MalformedMessage as exc:
            if response.status_code >= 400:
                raise AgentUnavailable(url, f"HTTP {response.status_code}") from exc
            raise MalformedMessage("bad_document", f"{url}: {exc}") from exc
        if isinstance(document, ErrorDocument):
            raise AgentError(url, document)
        return document
