"""The simulated shop floor over time: models stepped tick by tick, their events out as Sparkplug, MTConnect, OPC UA.

`Simulator.step(until)` is the whole simulation for a bounded test: every machine's events up to
`until`, one DDATA per machine that has news (or a heartbeat, so that the MES does not take a silent
machine for offline), and the rebirths asked for since the last step. `run()` drives `step` from a
real clock at `speed` simulated seconds per second; the simulated clock never runs ahead of the wall
clock (the MES rejects timestamps more than 5 minutes in the future), so a fast run starts in the past
and falls back to real time once it has caught up.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apps.telemetry.observations import Value
from apps.telemetry.simulator.agent import SimulatedAgent
from apps.telemetry.simulator.model import EXECUTION, Calendar, Event, MachineModel, MachineSpec
from apps.telemetry.simulator.opcua_server import SimulatedOpcUaServer
from apps.telemetry.simulator.sinks import Sink
from apps.telemetry.simulator.sparkplug import SparkplugEmitter

HEARTBEAT = timedelta(seconds=60)
TICK = 0.2  # real seconds between steps of `run`


@dataclass(frozen=True, slots=True)
class RunStats:
    started: datetime
    ended: datetime
    messages: int
    events: int
    rebirths: int


class Simulator:
    """Machines, their calendars, one Sparkplug emitter and optionally one MTConnect agent and one OPC UA server.

    The agent and the OPC UA server get every event of their machine at the step that produces it.
    """

    def __init__(
        self,
        machines: Sequence[MachineSpec],
        calendars: Callable[[MachineSpec], Calendar],
        *,
        start: datetime,
        seed: int,
        make_sink: Callable[[Callable[[str, bytes], None]], Sink],
        group_id: str = "cnc-sim",
        bd_seq: int = 0,
        heartbeat: timedelta = HEARTBEAT,
        agent: SimulatedAgent | None = None,
        opcua: SimulatedOpcUaServer | None = None,
    ) -> None:
        self.start = start
        self.now = start
        self.heartbeat = heartbeat
        self.models = {spec.code: MachineModel(spec, calendars(spec), start, seed) for spec in machines}
        self._commands: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.emitter = SparkplugEmitter(machines, make_sink(self.command), group_id=group_id, bd_seq=bd_seq)
        self.agent = agent
        self.opcua = opcua
        self._last_sent = dict.fromkeys(self.models, start)
        self.events = 0
        self.rebirths = 0
        self._started = False

    def command(self, topic: str, payload: bytes) -> None:
        """A command from the sink's thread; answered at the next step."""
        self._commands.put((topic, payload))

    def wait_for_command(self, timeout: float) -> bool:
        """Whether a command is waiting, blocking up to `timeout` seconds for one to arrive."""
        try:
            item = self._commands.get(timeout=timeout)
        except queue.Empty:
            return False
        self._commands.put(item)
        return True

    def values(self) -> dict[str, dict[str, Value]]:
        return {code: dict(model.current) for code, model in self.models.items()}

    def begin(self) -> None:
        """Births with the values at the start, and the agent's and OPC UA server's first observations."""
        for model in self.models.values():
            model.advance(self.start)
        self.emitter.birth_all(self.start, self.values())
        if self.agent is not None:
            self.agent.record("availability", "AVAILABLE", self.start)
            for metric, value in self.models[self.agent.device].current.items():
                self.agent.record(metric, value, self.start)
        if self.opcua is not None:
            for metric, value in self.models[self.opcua.device].current.items():
                self.opcua.record(metric, value, self.start)
        self._started = True

    def step(self, until: datetime) -> None:
        """Advance every machine to `until` and publish what happened; answer pending rebirths first."""
        if not self._started:
            self.begin()
        self._answer_commands()
        until = max(until, self.now)
        for code, model in self.models.items():
            events = model.advance(until)
            if self.agent is not None and code == self.agent.device:
                for event in events:
                    self.agent.record(event.metric, event.value, event.at)
            if self.opcua is not None and code == self.opcua.device:
                for event in events:
                    self.opcua.record(event.metric, event.value, event.at)
            if not events and until - self._last_sent[code] >= self.heartbeat:
                # Nothing changed: repeat the execution state so that the machine does not look silent.
                events = [_heartbeat(model, until)]
            if events:
                self.events += len(events)
                self.emitter.data(code, until, events)
                self._last_sent[code] = until
        self.now = until

    def _answer_commands(self) -> None:
        while True:
            try:
                topic, payload = self._commands.get_nowait()
            except queue.Empty:
                return
            node = self.emitter.rebirth_target(topic, payload)
            if node is not None:
                self.rebirths += 1
                values = {spec.code: self.models[spec.code].current for spec in node.machines}
                self.emitter.birth(node, self.now, values)

    def close(self) -> None:
        self._answer_commands()
        self.emitter.close()

    def run(
        self,
        *,
        speed: float,
        duration: float | None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> RunStats:
        """Step in real time until `duration` real seconds passed (None: until interrupted)."""
        began = clock()
        self.begin()
        try:
            while duration is None or clock() - began < duration:
                sleep(TICK)
                target = self.start + timedelta(seconds=(clock() - began) * speed)
                self.step(min(target, wall()))
        finally:
            self.close()
        return RunStats(self.start, self.now, self.emitter.messages, self.events, self.rebirths)


def _heartbeat(model: MachineModel, at: datetime) -> Event:
    return Event(at, EXECUTION, model.current[EXECUTION])
