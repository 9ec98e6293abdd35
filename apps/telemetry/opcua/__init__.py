"""OPC UA for the MES: read machines described by the Machinery companion specifications.

`nodemap` says which nodes of which machine become which metrics, `values` turns DataValues into
observation values, `client` reads and subscribes (read-only) and keeps a subscription alive across
reconnects, `report` is what `manage.py opcua_inspect` prints. `writes` is the only module that
writes to a server, behind a permission and the operator log.
"""

from apps.telemetry.opcua.client import (
    MachineObject,
    MappedVariable,
    OpcUaConnectionLost,
    OpcUaSession,
    OpcUaSubscriber,
    OpcUaUnavailable,
    Resolution,
)
from apps.telemetry.opcua.nodemap import (
    DEFAULT_METRICS,
    MachineMap,
    NodeMapError,
    Security,
    for_endpoint,
    load_node_map,
)

__all__ = [
    "DEFAULT_METRICS",
    "MachineMap",
    "MachineObject",
    "MappedVariable",
    "NodeMapError",
    "OpcUaConnectionLost",
    "OpcUaSession",
    "OpcUaSubscriber",
    "OpcUaUnavailable",
    "Resolution",
    "Security",
    "for_endpoint",
    "load_node_map",
]
