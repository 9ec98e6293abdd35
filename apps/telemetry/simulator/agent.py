"""The MTConnect 1.7 agent serving one simulated machine: /probe, /current and /sample over HTTP.

The agent itself (sequences, ring buffer, documents, HTTP) is `apps.telemetry.mtconnect.agent`; this
module maps the simulator's metrics to data items and its values to element texts. The device name is
the work center code, so the MES's MTConnect client maps it without configuration. The power meter's
`power_kw` is not served (MTConnect's WATTAGE is in watts; the MES reads the meter over Sparkplug).
"""

from __future__ import annotations

from datetime import datetime

from apps.telemetry.mtconnect.agent import AgentItem, MTConnectAgent
from apps.telemetry.observations import Value
from apps.telemetry.simulator.model import (
    ALARM,
    CONTROLLER_MODE,
    EXECUTION,
    LASER_POWER,
    PART_COUNT,
    PROGRAM,
    SPINDLE_LOAD,
    MachineSpec,
)

ITEMS: dict[str, AgentItem] = {
    "availability": AgentItem("avail", "EVENT", "AVAILABILITY", "Availability"),
    EXECUTION: AgentItem("exec", "EVENT", "EXECUTION", "Execution"),
    CONTROLLER_MODE: AgentItem("mode", "EVENT", "CONTROLLER_MODE", "ControllerMode"),
    PROGRAM: AgentItem("pgm", "EVENT", "PROGRAM", "Program"),
    PART_COUNT: AgentItem("parts", "EVENT", "PART_COUNT", "PartCount", sub_type="ALL"),
    ALARM: AgentItem("system", "CONDITION", "SYSTEM", "System"),
    LASER_POWER: AgentItem("laser_power", "SAMPLE", "POWER", "Power", units="WATT"),
    SPINDLE_LOAD: AgentItem("spindle_load", "SAMPLE", "LOAD", "Load", units="PERCENT"),
}


def _text(item: AgentItem, value: Value) -> tuple[str, str | None]:
    """The element text (for a condition: its level) and native code of one simulator value."""
    if item.category == "CONDITION":
        return ("Fault", str(value)) if value else ("Normal", None)
    if value is None or value == "":
        return "UNAVAILABLE", None
    return str(value), None


class SimulatedAgent(MTConnectAgent):
    """`record()` adds a simulator observation (thread-safe); `start()` serves them until `stop()`."""

    def __init__(self, spec: MachineSpec, *, instance_id: int, buffer_size: int = 4096, port: int = 0) -> None:
        super().__init__(
            [ITEMS["availability"], *(ITEMS[metric] for metric in spec.metrics if metric in ITEMS)],
            device=spec.code,
            uuid=f"sim-{spec.code}",
            instance_id=instance_id,
            buffer_size=buffer_size,
            port=port,
            sender="cnc-copilot-simulator",
        )
        self.spec = spec

    def record(self, metric: str, value: Value, at: datetime) -> int | None:
        """Append one observation; None when the machine has no such data item."""
        item = ITEMS.get(metric)
        if item is None or item.id not in self.items:
            return None
        text, code = _text(item, value)
        return self.append(item.id, text, at, code)
