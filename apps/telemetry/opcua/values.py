"""Turn OPC UA DataValues into Observation values and timestamps, and name the client's streams.

OPC UA has no sequence numbers the MES could key on (a subscription's notification numbers restart
with every subscription), so the client numbers what it receives itself. Those numbers are only
unique within one client session, hence a stream per session: the endpoint, the server's start time
(a restarted server is a new run) and the session id the server assigned (a reconnect is a new
session). The first notification of every monitored item is its current value, so a new stream
starts with a full snapshot and nothing needs to be carried across.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from asyncua import ua

from apps.telemetry.observations import MalformedMessage, Value

_INTEGERS = {
    ua.VariantType.SByte,
    ua.VariantType.Byte,
    ua.VariantType.Int16,
    ua.VariantType.UInt16,
    ua.VariantType.Int32,
    ua.VariantType.UInt32,
    ua.VariantType.Int64,
    ua.VariantType.UInt64,
}
_FLOATS = {ua.VariantType.Float, ua.VariantType.Double}


def stream_name(endpoint: str, server_started: datetime | None, session_id: str) -> str:
    started = server_started.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ") if server_started else "unknown"
    return f"opcua:{endpoint.rstrip('/')}#{started}/{session_id}"


def observed_at(data: ua.DataValue, received: datetime) -> datetime:
    """SourceTimestamp (when the machine measured it), else ServerTimestamp, else when we received it."""
    moment = data.SourceTimestamp or data.ServerTimestamp or received
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def typed_value(data: ua.DataValue, enum_names: Mapping[int, str] | None = None) -> Value:
    """The scalar the MES stores; None when the status is not Good (the value is then not trustworthy).

    Enumerations come as their names when the server publishes them (EnumStrings/EnumValues), so an
    operation mode reads "Automatic" rather than 1. Arrays and structures are not metrics: mapping one
    is a configuration mistake and is rejected as wrong_type.
    """
    if data.StatusCode is not None and not data.StatusCode.is_good():
        return None
    variant = data.Value
    if variant is None or variant.VariantType == ua.VariantType.Null or variant.Value is None:
        return None
    if variant.is_array or isinstance(variant.Value, list):
        raise MalformedMessage("wrong_type", f"an array of {variant.VariantType.name} is not a scalar metric")
    kind, raw = variant.VariantType, variant.Value
    if kind == ua.VariantType.Boolean:
        return bool(raw)
    if kind in _INTEGERS:
        number = int(raw)
        if enum_names is not None:
            return enum_names.get(number, str(number))
        return number
    if kind in _FLOATS:
        real = float(raw)
        # A NaN or infinity is the device saying "no measurement": the value is unavailable.
        return real if math.isfinite(real) else None
    if kind == ua.VariantType.String:
        return str(raw)
    if kind == ua.VariantType.LocalizedText:
        return raw.Text
    if kind == ua.VariantType.QualifiedName:
        return str(raw.Name)
    if kind == ua.VariantType.DateTime:
        moment: datetime = raw
        return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).isoformat()
    if kind in (ua.VariantType.NodeId, ua.VariantType.ExpandedNodeId):
        return str(raw.to_string())
    if kind == ua.VariantType.StatusCode:
        return str(raw.name)
    raise MalformedMessage("wrong_type", f"a {kind.name} value is not a scalar metric")
