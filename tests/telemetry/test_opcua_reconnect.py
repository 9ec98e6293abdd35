"""A server that goes away: a clear error naming the endpoint, then reconnect with back-off and a new stream."""

from __future__ import annotations

import asyncio

import pytest
from asyncua import ua

from apps.telemetry.observations import Observation
from apps.telemetry.opcua.client import OpcUaConnectionLost, OpcUaSession, OpcUaSubscriber
from apps.telemetry.opcua.nodemap import MachineMap
from tests.telemetry.opcua_server import RunningServer, machinery_server

ENGEL = "nsu=http://opcfoundation.org/UA/Machinery_Example/"
STATE = f"{ENGEL};i=6037"
MODE = f"{ENGEL};i=6044"


@pytest.fixture
def engel_server() -> RunningServer:
    """DI + Machinery + ENGEL's example only: the tests stop and restart this server.

    The example leaves state and mode empty; a running machine reports them (no other test reads them).
    """
    running = machinery_server()
    running.write(STATE, ua.LocalizedText("Executing", "en"), ua.VariantType.LocalizedText)
    running.write(MODE, ua.LocalizedText("Processing", "en"), ua.VariantType.LocalizedText)
    return running


def engel(server: RunningServer) -> MachineMap:
    return MachineMap(machine="WC-IMM-01", endpoint=server.endpoint, object="ExampleMachine01")


def test_dropped_server_raises_a_clear_error(engel_server: RunningServer) -> None:
    async def scenario() -> tuple[list[Observation], str]:
        async with OpcUaSession(engel_server.endpoint, watchdog_interval=0.2) as session:
            resolution = await session.resolve(engel(engel_server))
            await session.subscribe(resolution.variables, publishing_interval=50)
            first: list[Observation] = []
            while len(first) < 2:
                first.extend(await session.next_batch(timeout=2))
            await asyncio.to_thread(engel_server.stop)
            with pytest.raises(OpcUaConnectionLost) as error:
                for _ in range(20):
                    await session.next_batch(timeout=0.5)
            return first, str(error.value)

    try:
        first, message = asyncio.run(scenario())
    finally:
        engel_server.restart()
    assert [(observation.metric, observation.value) for observation in first] == [
        ("machinery_state", "Executing"),
        ("operation_mode", "Processing"),
    ]
    assert message.startswith(f"connection to OPC UA server at {engel_server.endpoint} was lost: ")


def test_subscriber_reconnects_with_back_off_and_starts_a_new_stream(engel_server: RunningServer) -> None:
    delivered: list[Observation] = []

    async def scenario() -> OpcUaSubscriber:
        subscriber = OpcUaSubscriber(
            [engel(engel_server)],
            publishing_interval=50,
            first_delay=0.1,
            max_delay=0.4,
            session_factory=lambda endpoint, security: OpcUaSession(endpoint, security, watchdog_interval=0.2),
        )
        stop = asyncio.Event()

        async def deliver(batch: list[Observation]) -> None:
            delivered.extend(batch)

        async def wait_for(count: int) -> None:
            for _ in range(100):
                if len(delivered) >= count:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"only {len(delivered)} observations arrived, expected {count}")

        running = asyncio.create_task(subscriber.run(deliver, until=stop))
        await wait_for(2)
        await asyncio.to_thread(engel_server.stop)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(engel_server.restart)
        await wait_for(4)
        stop.set()
        await asyncio.wait_for(running, timeout=5)
        return subscriber

    subscriber = asyncio.run(scenario())
    streams = list(dict.fromkeys(observation.stream for observation in delivered))
    assert len(streams) == 2
    for stream in streams:
        assert stream.startswith(f"opcua:{engel_server.endpoint}#")
        assert sorted(
            (observation.sequence, observation.metric, observation.value)
            for observation in delivered
            if observation.stream == stream
        ) == [(1, "machinery_state", "Executing"), (2, "operation_mode", "Processing")]
    assert {observation.machine for observation in delivered} == {"WC-IMM-01"}
    assert subscriber.connections == 2
    assert subscriber.failures[0].startswith(f"connection to OPC UA server at {engel_server.endpoint} was lost: ")
    assert len(subscriber.failures) >= 2
    assert all(
        failure == subscriber.failures[0]
        or failure.startswith(f"OPC UA server at {engel_server.endpoint} is unavailable: ")
        for failure in subscriber.failures
    )
