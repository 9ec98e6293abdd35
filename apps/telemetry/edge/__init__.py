"""The edge gateway: store-and-forward from MTConnect agents to the MES's MQTT broker.

Runs on a shop-floor PC without the MES database: sources are polled, every observation is committed
to a local SQLite buffer first, and published as JSON batches (QoS 1) on
`shopfloor/<department>/<machine>/<metric>`; a row leaves the buffer only after its PUBACK.
See docs/edge-gateway.md.
"""

from apps.telemetry.edge.buffer import Backlog, Buffer
from apps.telemetry.edge.config import ConfigError, GatewayConfig, load_config
from apps.telemetry.edge.gateway import Gateway
from apps.telemetry.edge.sources import MTConnectSource, Source, SourceUnavailable

__all__ = [
    "Backlog",
    "Buffer",
    "ConfigError",
    "Gateway",
    "GatewayConfig",
    "MTConnectSource",
    "Source",
    "SourceUnavailable",
    "load_config",
]
