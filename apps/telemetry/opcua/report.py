"""What `opcua_inspect` shows: every machine in a server's Machines folder, who it is and what the MES would read.

Used before writing a node map: the node ids printed are in the stable `nsu=` form a map can use,
and the values show which default metrics resolve on this server (a metric that is not there is
simply absent). With a map, mapped machines show their work center and their own metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.telemetry.opcua.client import DEFAULT_TIMEOUT, MachineObject, OpcUaSession
from apps.telemetry.opcua.nodemap import NO_SECURITY, MachineMap, Security, for_endpoint, is_node_id


async def inspect_endpoint(
    endpoint: str, node_map: Sequence[MachineMap] = (), *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """{"endpoint", "machines": [{"name", "node_id", "type", "work_center", "identification", "values"}]}."""
    mapped = for_endpoint(node_map, endpoint)
    security: Security = mapped[0].security if mapped else NO_SECURITY
    async with OpcUaSession(endpoint, security, timeout=timeout) as session:
        machines: list[dict[str, Any]] = []
        unresolved: dict[str, str] = {}
        for found in await session.machines():
            entry = _entry_for(found, mapped, session)
            resolution = await session.resolve(entry, found)
            unresolved.update(resolution.unresolved)
            observations = await session.read(resolution.variables)
            machines.append(
                {
                    "name": found.name,
                    "node_id": found.node_id,
                    "type": found.type_name,
                    "work_center": entry.machine if entry in mapped else None,
                    "identification": await session.identification(found),
                    "values": {observation.metric: observation.value for observation in observations},
                }
            )
        listed = {machine["work_center"] for machine in machines}
        for entry in mapped:
            if entry.machine not in listed:
                unresolved.setdefault(entry.machine, f"no machine {entry.object!r} in the Machines folder")
    report: dict[str, Any] = {"endpoint": session.endpoint, "machines": machines}
    if unresolved:
        report["unresolved"] = unresolved
    return report


def _entry_for(found: MachineObject, mapped: Sequence[MachineMap], session: OpcUaSession) -> MachineMap:
    for entry in mapped:
        if entry.object == found.name:
            return entry
        if is_node_id(entry.object) and session.node_id(entry.object) == found.node.nodeid:
            return entry
    return MachineMap(machine=found.name, endpoint=session.endpoint, object=found.name)


def render_table(report: dict[str, Any]) -> str:
    """Plain text for a terminal: one block per machine."""
    lines = [f"OPC UA server {report['endpoint']}: {len(report['machines'])} machine(s)"]
    for machine in report["machines"]:
        lines.append("")
        title = f"{machine['name']} ({machine['type'] or 'unknown type'})"
        if machine["work_center"]:
            title += f" -> work center {machine['work_center']}"
        lines.append(title)
        lines.append(f"  node id: {machine['node_id']}")
        for key, value in machine["identification"].items():
            lines.append(f"  {key}: {_text(value)}")
        if not machine["values"]:
            lines.append("  no mapped values resolve on this machine")
        for metric, value in machine["values"].items():
            lines.append(f"  {metric} = {_text(value)}")
    for what, why in report.get("unresolved", {}).items():
        lines.append(f"not mapped: {what}: {why}")
    return "\n".join(lines) + "\n"


def _text(value: object) -> str:
    return "(empty)" if value is None else str(value)
