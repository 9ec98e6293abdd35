"""The one place the MES writes to an OPC UA server: permission-checked and written to the operator log.

Everything else in apps/ is read-only towards machines (a test scans the source tree for asyncua
write calls outside this module). Writing to a machine controller can move a machine, so a write
needs a user holding `telemetry.write_opcua` (granted per role in apps/accounts/roles.py), and both
refused and performed writes are recorded on the `operator` logger, which supervisors read.

Call it from synchronous code (a service, a view, a task): it runs its own short event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asyncua import Client, ua
from django.core.exceptions import PermissionDenied

from apps.telemetry.observations import Value
from apps.telemetry.opcua.client import DEFAULT_TIMEOUT, OpcUaSession
from apps.telemetry.opcua.nodemap import NO_SECURITY, Security

WRITE_PERMISSION = "telemetry.write_opcua"
_FAILURES = (ua.UaError, OSError, TimeoutError, ConnectionError)
audit_log = logging.getLogger("operator.telemetry.opcua")


class OpcUaWriteFailed(RuntimeError):
    """The server could not be reached or refused the write (not writable, wrong type, access denied)."""


def write_value(
    *,
    user: Any,
    endpoint: str,
    node_id: str,
    value: Value,
    reason: str,
    security: Security = NO_SECURITY,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Write `value` to one variable, typed as the server declares it; raises PermissionDenied or OpcUaWriteFailed.

    `node_id` should be the stable `nsu=` form; `reason` is what the operator log shows beside who did it.
    """
    who = getattr(user, "get_username", lambda: "anonymous")()
    if not getattr(user, "is_active", False) or not user.has_perm(WRITE_PERMISSION):
        audit_log.warning("Refused OPC UA write by %s: %s = %r on %s (%s)", who, node_id, value, endpoint, reason)
        raise PermissionDenied(f"writing to OPC UA servers needs the {WRITE_PERMISSION} permission")
    try:
        asyncio.run(_write(endpoint, security, node_id, value, timeout))
    except (*_FAILURES, OpcUaWriteFailed) as exc:
        audit_log.warning(
            "OPC UA write by %s failed: %s = %r on %s (%s): %s", who, node_id, value, endpoint, reason, exc
        )
        raise
    audit_log.warning("OPC UA write by %s: %s = %r on %s (%s)", who, node_id, value, endpoint, reason)


async def _write(endpoint: str, security: Security, node_id: str, value: Value, timeout: float) -> None:
    try:
        await _write_once(endpoint, security, node_id, value, timeout)
    except _FAILURES as exc:
        raise OpcUaWriteFailed(f"writing {node_id} on {endpoint} failed: {exc}") from exc


async def _write_once(endpoint: str, security: Security, node_id: str, value: Value, timeout: float) -> None:
    async with OpcUaSession(endpoint, security, timeout=timeout) as session:
        client: Client = session.client
        node = client.get_node(session.node_id(node_id))
        variant_type = await node.read_data_type_as_variant_type()
        await node.write_value(ua.DataValue(ua.Variant(value, variant_type)))
