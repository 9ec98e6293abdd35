"""MTConnect (1.1 to 2.x) for the MES: parse agent documents, map them to observations, poll agents.

`documents` is pure parsing, `mapping` turns entries into Observations and a per-machine state,
`client` polls an agent over HTTP keeping its place in the agent's sequence.
"""

from apps.telemetry.mtconnect.client import AgentError, AgentUnavailable, Batch, MTConnectClient
from apps.telemetry.mtconnect.documents import (
    DataItem,
    Device,
    DeviceStream,
    ErrorDocument,
    ProbeDocument,
    StreamEntry,
    StreamsDocument,
    StreamsHeader,
    parse_document,
    parse_probe,
    parse_streams,
)
from apps.telemetry.mtconnect.mapping import (
    ActiveCondition,
    DataItemMap,
    DeviceSummary,
    derive_state,
    summarise_documents,
    to_observations,
)

__all__ = [
    "ActiveCondition",
    "AgentError",
    "AgentUnavailable",
    "Batch",
    "DataItem",
    "DataItemMap",
    "Device",
    "DeviceStream",
    "DeviceSummary",
    "ErrorDocument",
    "MTConnectClient",
    "ProbeDocument",
    "StreamEntry",
    "StreamsDocument",
    "StreamsHeader",
    "derive_state",
    "parse_document",
    "parse_probe",
    "parse_streams",
    "summarise_documents",
    "to_observations",
]
