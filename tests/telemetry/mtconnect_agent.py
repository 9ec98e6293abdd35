"""A fake MTConnect agent for tests, and where the real MTConnect documents live.

The agent is `apps.telemetry.mtconnect.agent.MTConnectAgent` (the one the simulator serves), with what
makes tests exact: a fixed clock (observation N is stamped EPOCH + N seconds), a Haas-like default
device, and the list of requests it was asked, so a test can assert how a client polled it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from apps.telemetry.mtconnect.agent import AgentItem, MTConnectAgent

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mtconnect"
SHARED_MTCONNECT = REPO.parent / "shared" / "protocols" / "mtconnect"

EPOCH = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

DEFAULT_ITEMS = (
    AgentItem("avail", "EVENT", "AVAILABILITY", "Availability"),
    AgentItem("exec", "EVENT", "EXECUTION", "Execution"),
    AgentItem("mode", "EVENT", "CONTROLLER_MODE", "ControllerMode"),
    AgentItem("pgm", "EVENT", "PROGRAM", "Program"),
    AgentItem("parts", "EVENT", "PART_COUNT", "PartCount"),
    AgentItem("Srpm", "SAMPLE", "ROTARY_VELOCITY", "RotaryVelocity", "ACTUAL", "REVOLUTION/MINUTE"),
    AgentItem("system", "CONDITION", "SYSTEM", "System"),
)


class FakeAgent(MTConnectAgent):
    """An in-memory agent; `add()` records an observation, the HTTP side serves what is recorded."""

    def __init__(
        self,
        device: str = "VF2-1",
        uuid: str = "haas-vf2-0001",
        buffer_size: int = 16,
        instance_id: int = 1000,
        version: str = "1.7",
        items: tuple[AgentItem, ...] = DEFAULT_ITEMS,
    ) -> None:
        super().__init__(
            items,
            device=device,
            uuid=uuid,
            instance_id=instance_id,
            buffer_size=buffer_size,
            version=version,
            sender="fake",
            content_type="text/xml",
            poll_interval=0.02,
            clock=lambda: EPOCH,
        )
        self.requests: list[str] = []

    def add(self, item_id: str, value: str, native_code: str | None = None) -> int:
        """Record one observation (for a condition, `value` is the level: Normal, Warning, Fault, Unavailable)."""
        return self.append(item_id, value, native_code=native_code)

    def stamp(self, sequence: int) -> datetime:
        return EPOCH + timedelta(seconds=sequence)

    def respond(self, path: str) -> tuple[int, str]:
        self.requests.append(urlsplit(path).path.strip("/").split("/")[-1])
        return super().respond(path)
