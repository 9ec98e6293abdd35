"""OPC UA as a gateway source: `apps.telemetry.opcua.OpcUaSubscriber` on its own event loop and thread.

The subscriber is asyncio and pushes data changes; the gateway's loop is synchronous and polls. So the
subscriber runs in a daemon thread and delivers into a queue that `poll()` drains. OPC UA data-change
subscriptions cannot replay, so there is no checkpoint: after a gateway restart the subscription
starts again with each variable's current value, on a new stream per connection (see
apps.telemetry.opcua.values), and changes made while the gateway was down are not recoverable.
"""

from __future__ import annotations

import asyncio
import queue
import threading

from apps.telemetry.edge.config import ConfigError, SourceConfig
from apps.telemetry.observations import Gap, Observation
from apps.telemetry.opcua import NodeMapError, OpcUaSubscriber, for_endpoint, load_node_map

STOP_TIMEOUT = 5.0


class OpcUaSource:
    def __init__(self, config: SourceConfig, subscriber: OpcUaSubscriber | None = None) -> None:
        self.name = config.name
        self.department = config.department
        if subscriber is None:
            if config.node_map is None:
                raise ConfigError(f"source {config.name}: an opcua source needs `node_map` (a YAML or JSON file)")
            try:
                subscriber = OpcUaSubscriber(for_endpoint(load_node_map(config.node_map), config.url))
            except NodeMapError as exc:
                raise ConfigError(f"source {config.name}: {exc}") from exc
        self.subscriber = subscriber
        self._arrived: queue.SimpleQueue[list[Observation]] = queue.SimpleQueue()
        self._loop = asyncio.new_event_loop()
        self._until = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name=f"opcua-{config.name}", daemon=True)
        self._thread.start()

    def poll(self) -> list[Observation | Gap]:
        items: list[Observation | Gap] = []
        while True:
            try:
                items.extend(self._arrived.get_nowait())
            except queue.Empty:
                return items

    def checkpoint(self) -> str | None:
        return None

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._until.set)
            self._thread.join(timeout=STOP_TIMEOUT)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.subscriber.run(self._deliver, until=self._until))
        finally:
            self._loop.close()

    async def _deliver(self, batch: list[Observation]) -> None:
        self._arrived.put(list(batch))
