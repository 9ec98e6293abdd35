"""What `mtconnect_inspect` shows: an agent's position and each machine's values and derived state.

Kept apart from the command so that the integrator's page, the tests and any future status view
read one shape: a JSON-ready dict with MTConnect's own header names and the MES's state words.
"""

from __future__ import annotations

from typing import Any

from apps.telemetry.mtconnect.documents import ProbeDocument, StreamsDocument
from apps.telemetry.mtconnect.mapping import DeviceSummary, summarise_documents

COLUMNS = ("device", "state", "availability", "execution", "mode", "program", "parts", "conditions")


def inspection(probe: ProbeDocument | None, streams: StreamsDocument | None) -> dict[str, Any]:
    """The agent header (sequences null without a streams document) and one entry per machine device."""
    if streams is not None:
        header: dict[str, int | None] = {
            "instanceId": streams.header.instance_id,
            "firstSequence": streams.header.first_sequence,
            "nextSequence": streams.header.next_sequence,
            "lastSequence": streams.header.last_sequence,
        }
    else:
        header = {
            "instanceId": probe.header.instance_id if probe is not None else None,
            "firstSequence": None,
            "nextSequence": None,
            "lastSequence": None,
        }
    return {"header": header, "devices": [_device(summary) for summary in summarise_documents(probe, streams)]}


def _device(summary: DeviceSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "uuid": summary.uuid,
        "availability": summary.availability,
        "execution": summary.execution,
        "controller_mode": summary.controller_mode,
        "program": summary.program,
        "part_count": summary.part_count,
        "conditions": [
            {"type": condition.type, "level": condition.level, "native_code": condition.native_code}
            for condition in summary.conditions
        ],
        "state": summary.state,
    }


def render_table(report: dict[str, Any]) -> str:
    """A plain-text table for a terminal: one line per device, '-' for what the agent did not report."""
    header = report["header"]
    if header["firstSequence"] is None:
        lines = [f"agent instance {header['instanceId']} (probe only: no observations)"]
    else:
        lines = [
            f"agent instance {header['instanceId']}, buffer holds sequences "
            f"{header['firstSequence']}..{header['lastSequence']}, next {header['nextSequence']}"
        ]
    rows = [list(COLUMNS)]
    for device in report["devices"]:
        conditions = ", ".join(
            " ".join(part for part in (item["level"], item["type"], item["native_code"]) if part)
            for item in device["conditions"]
        )
        values = (
            device["name"],
            device["state"],
            device["availability"],
            device["execution"],
            device["controller_mode"],
            device["program"],
            device["part_count"],
            conditions,
        )
        rows.append(["-" if value is None or value == "" else str(value) for value in values])
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines.extend("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows)
    return "\n".join(lines)
