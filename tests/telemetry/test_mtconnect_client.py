"""Polling an agent: in order without duplicates, through restarts, buffer wraps and outages."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from apps.telemetry.mtconnect.client import AgentError, AgentUnavailable, MTConnectClient
from apps.telemetry.observations import Gap, MalformedMessage, Observation
from tests.telemetry.mtconnect_agent import FakeAgent

DETECTED = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def agent() -> Iterator[FakeAgent]:
    with FakeAgent(buffer_size=16, instance_id=1000) as running:
        yield running


def client_for(agent: FakeAgent, device: str | None = None, **options: Any) -> MTConnectClient:
    return MTConnectClient(agent.url, device, timeout=2.0, clock=lambda: DETECTED, **options)


def observed(observations: tuple[Observation, ...] | list[Observation]) -> list[tuple[int, str, object]]:
    return [(observation.sequence, observation.metric, observation.value) for observation in observations]


def test_streams_in_order_without_duplicates_across_polls(agent: FakeAgent) -> None:
    agent.add("avail", "AVAILABLE")
    agent.add("mode", "AUTOMATIC")
    agent.add("exec", "READY")
    agent.add("exec", "ACTIVE")
    with client_for(agent, count=3) as client:
        first = client.poll_once()
        assert observed(first.observations) == [
            (1, "availability", "AVAILABLE"),
            (2, "controller_mode", "AUTOMATIC"),
            (4, "execution", "ACTIVE"),
        ]
        assert (first.gaps, first.caught_up, client.instance_id, client.next_sequence) == ((), True, 1000, 5)
        for value in ("1", "2", "3", "4"):
            agent.add("parts", value)
        agent.add("Srpm", "850.5")
        agent.add("system", "Fault", native_code="1105")
        agent.add("pgm", "O1234")
        polled = [item for item in client.drain() if isinstance(item, Observation)]
        assert observed(polled) == [
            (5, "part_count", 1),
            (6, "part_count", 2),
            (7, "part_count", 3),
            (8, "part_count", 4),
            (9, "Srpm", 850.5),
            (10, "condition:system", "FAULT:1105"),
            (11, "program", "O1234"),
        ]
        assert {(o.machine, o.stream) for o in polled} == {("VF2-1", "mtconnect:1000")}
        assert client.poll_once().observations == ()
    assert agent.requests == ["probe", "current", "sample", "sample", "sample", "sample"]


@pytest.mark.parametrize("entries_after_restart", [3, 12])
def test_agent_restart_reprobes_and_reads_the_new_run_from_its_first_sequence(
    agent: FakeAgent, entries_after_restart: int
) -> None:
    for count in range(8):
        agent.add("parts", str(count))
    with client_for(agent) as client:
        client.poll_once()
        assert client.next_sequence == 9
        agent.restart(instance_id=2000)
        for count in range(entries_after_restart):
            agent.add("parts", str(100 + count))
        restarted = client.poll_once()
        assert (restarted.observations, restarted.gaps, restarted.caught_up) == ((), (), False)
        assert (client.instance_id, client.next_sequence) == (2000, 1)
        batch = client.poll_once()
    assert [(o.stream, o.sequence, o.value) for o in batch.observations] == [
        ("mtconnect:2000", sequence, 99 + sequence) for sequence in range(1, entries_after_restart + 1)
    ]
    assert agent.requests.count("probe") == 2


def test_a_restart_before_the_old_run_was_read_records_what_went_with_it(agent: FakeAgent) -> None:
    agent.add("avail", "AVAILABLE")
    with client_for(agent, count=2) as client:
        client.poll_once()
        for count in range(5):
            agent.add("parts", str(count))
        assert observed(client.poll_once().observations) == [(2, "part_count", 0), (3, "part_count", 1)]
        agent.restart(instance_id=1001)
        agent.add("avail", "AVAILABLE")
        restarted = client.poll_once()
        assert [(gap.stream, gap.first_missing, gap.last_missing, gap.reason) for gap in restarted.gaps] == [
            ("mtconnect:1000", 4, 6, "agent_restarted")
        ]
        assert observed(client.poll_once().observations) == [(1, "availability", "AVAILABLE")]


def test_buffer_wrap_records_one_exact_gap_and_invents_nothing(agent: FakeAgent) -> None:
    agent.add("avail", "AVAILABLE")
    with client_for(agent, machines={"VF2-1": "WC-10"}) as client:
        client.poll_once()
        assert client.next_sequence == 2
        for count in range(40):
            agent.add("parts", str(count))
        assert agent.first_sequence == 26
        wrapped = client.poll_once()
        assert wrapped.observations == ()
        assert wrapped.gaps == (
            Gap(
                machine="WC-10",
                stream="mtconnect:1000",
                first_missing=2,
                last_missing=25,
                detected_at=DETECTED,
                reason="buffer_wrapped",
            ),
        )
        rest = client.poll_once()
    assert [(o.machine, o.sequence, o.value) for o in rest.observations] == [
        ("WC-10", sequence, sequence - 2) for sequence in range(26, 42)
    ]
    assert rest.caught_up is True


def test_agent_down_raises_a_clear_error_then_resumes_where_it_was(agent: FakeAgent) -> None:
    agent.add("exec", "ACTIVE")
    with client_for(agent) as client:
        client.poll_once()
        agent.stop()
        with pytest.raises(AgentUnavailable) as caught:
            client.poll_once()
        assert str(caught.value).startswith(f"MTConnect agent at {agent.url}/sample is unavailable: ")
        assert caught.value.url == f"{agent.url}/sample"
        assert (client.instance_id, client.next_sequence) == (1000, 2)
        agent.add("exec", "FEED_HOLD")
        agent.add("exec", "ACTIVE")
        agent.start()
        resumed = client.poll_once()
    assert observed(resumed.observations) == [(2, "execution", "FEED_HOLD"), (3, "execution", "ACTIVE")]
    assert resumed.gaps == ()


def test_an_agent_that_does_not_answer_times_out_with_its_url() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with MTConnectClient(url, timeout=0.2) as client, pytest.raises(AgentUnavailable) as caught:
            client.probe()
    assert str(caught.value) == f"MTConnect agent at {url}/probe is unavailable: no answer within 0.2 s"


def test_device_path_and_other_agent_errors(agent: FakeAgent) -> None:
    with client_for(agent, device="VF2-1") as client:
        assert client.url("probe") == f"{agent.url}/VF2-1/probe"
        assert [device.name for device in client.probe().devices] == ["VF2-1"]
    with client_for(agent, device="HMC-2") as client, pytest.raises(AgentError) as caught:
        client.probe()
    assert caught.value.document.codes == ("NO_DEVICE",)
    assert str(caught.value) == (
        f"MTConnect agent at {agent.url}/HMC-2/probe answered with an error: "
        "NO_DEVICE: Could not find the device 'HMC-2'."
    )


def mock_client(handler: httpx.MockTransport) -> MTConnectClient:
    return MTConnectClient("http://agent.test:5000", http=httpx.Client(transport=handler), clock=lambda: DETECTED)


def test_an_agent_answering_a_wrapped_request_with_what_it_still_holds() -> None:
    agent = FakeAgent(buffer_size=4, instance_id=7)
    agent.add("exec", "ACTIVE")

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/sample":
            # Like a lenient agent: a `from` below the buffer gets the buffer, not OUT_OF_RANGE.
            _, body = agent.respond(f"/sample?from={agent.first_sequence}&count=100")
            return httpx.Response(200, text=body)
        status, body = agent.respond(request.url.raw_path.decode())
        return httpx.Response(status, text=body)

    with mock_client(httpx.MockTransport(respond)) as client:
        client.poll_once()
        for count in range(6):
            agent.add("parts", str(count))
        batch = client.poll_once()
    assert [(gap.first_missing, gap.last_missing, gap.reason) for gap in batch.gaps] == [(2, 3, "buffer_wrapped")]
    assert observed(batch.observations) == [
        (4, "part_count", 2),
        (5, "part_count", 3),
        (6, "part_count", 4),
        (7, "part_count", 5),
    ]


def test_what_is_not_mtconnect_is_reported_as_such() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/probe":
            return httpx.Response(200, text="<html>login</html>")
        return httpx.Response(502, text="Bad Gateway")

    with mock_client(httpx.MockTransport(respond)) as client:
        with pytest.raises(MalformedMessage) as malformed:
            client.probe()
        assert str(malformed.value) == (
            "http://agent.test:5000/probe: not an MTConnect document: the root element is <html>"
        )
        with pytest.raises(AgentUnavailable) as unavailable:
            client.current()
        assert str(unavailable.value) == "MTConnect agent at http://agent.test:5000/current is unavailable: HTTP 502"
