"""Where the gateway reads from: the `Source` protocol and its MTConnect implementation.

A source hands out each observation once. Because the gateway may be killed at any moment, a source
also describes its position as text (`checkpoint()`), which the gateway commits in the same
transaction as the observations of that poll; the next run starts the source from that text. So an
agent's entries are neither read twice (no duplicates after a restart) nor skipped.

OPC UA (edge/opcua.py) implements the same protocol; it is imported only for an `opcua` source, so a
gateway that reads MTConnect agents only does not load the OPC UA stack.
"""

from __future__ import annotations

import json
from typing import Protocol

from apps.telemetry.edge.config import SourceConfig
from apps.telemetry.mtconnect.client import AgentError, AgentUnavailable, MTConnectClient
from apps.telemetry.observations import Gap, MalformedMessage, Observation

MAX_CHUNKS_PER_POLL = 10


class SourceUnavailable(ConnectionError):
    """The source cannot be read right now; the gateway logs it and tries again at the next poll."""


class Source(Protocol):
    """A machine-data source the gateway polls.

    `poll()` returns what is new since the last poll, in the source's order: observations, and gaps for
    what the source itself lost (the gateway publishes those as explicit gap records). It raises
    SourceUnavailable when the source cannot be reached. `checkpoint()` is the position after the last
    poll, as opaque text the source's constructor accepts back.
    """

    name: str
    department: str

    def poll(self) -> list[Observation | Gap]: ...

    def checkpoint(self) -> str | None: ...

    def close(self) -> None: ...


class MTConnectSource:
    """An MTConnect agent read with MTConnectClient (/probe, /current once, then /sample in order)."""

    def __init__(
        self, config: SourceConfig, checkpoint: str | None = None, client: MTConnectClient | None = None
    ) -> None:
        self.name = config.name
        self.department = config.department
        self.client = client or MTConnectClient(
            config.url, config.device, machines=config.machines, count=config.count, timeout=config.timeout
        )
        self._saved = json.loads(checkpoint) if checkpoint else None

    def poll(self) -> list[Observation | Gap]:
        """Up to MAX_CHUNKS_PER_POLL /sample chunks; an error after the first chunk keeps what was read."""
        items: list[Observation | Gap] = []
        try:
            self._resume()
            for _ in range(MAX_CHUNKS_PER_POLL):
                batch = self.client.poll_once()
                items.extend(batch.gaps)
                items.extend(batch.observations)
                if batch.caught_up:
                    break
        except (AgentUnavailable, AgentError, MalformedMessage) as exc:
            if not items:
                raise SourceUnavailable(str(exc)) from exc
        return items

    def checkpoint(self) -> str | None:
        client = self.client
        if client.instance_id is None or client.next_sequence is None:
            return None
        return json.dumps(
            {
                "instance_id": client.instance_id,
                "next_sequence": client.next_sequence,
                "last_sequence": client.last_sequence,
            }
        )

    def close(self) -> None:
        self.client.close()

    def _resume(self) -> None:
        """Continue after the last committed entry: probe for the item map, then restore the position."""
        if self._saved is None:
            return
        self.client.probe()
        self.client.instance_id = int(self._saved["instance_id"])
        self.client.next_sequence = int(self._saved["next_sequence"])
        last = self._saved.get("last_sequence")
        self.client.last_sequence = None if last is None else int(last)
        self._saved = None


def build_source(config: SourceConfig, checkpoint: str | None) -> Source:
    if config.kind == "opcua":
        from apps.telemetry.edge.opcua import OpcUaSource

        return OpcUaSource(config)
    return MTConnectSource(config, checkpoint)
