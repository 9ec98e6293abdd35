"""Writes to machines happen only in apps/telemetry/opcua/writes.py, only with permission, always logged."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied

from apps.core.models import OperatorLogRecord
from apps.telemetry.opcua.writes import OpcUaWriteFailed, write_value
from tests.telemetry.opcua_server import RunningServer, machinery_server

APPS = Path(__file__).resolve().parents[2] / "apps"
WRITES_MODULE = APPS / "telemetry" / "opcua" / "writes.py"
# The simulator's OPC UA server builds and updates its own address space: a server, never a client.
SIMULATOR_SERVER = APPS / "telemetry" / "simulator" / "opcua_server.py"
# asyncua's client-side calls that change a server. These names mean a write wherever they appear in apps/ ...
DISTINCT_WRITE_CALLS = {
    "write_value",
    "write_values",
    "write_attribute",
    "write_attributes",
    "write_params",
    "write_array",
    "set_value",
    "set_data_value",
    "set_attr_bit",
    "unset_attr_bit",
    "set_writable",
    "set_read_only",
    "call_method",
    "add_nodes",
    "add_references",
    "delete_nodes",
    "delete_references",
    "history_update",
}
# ... and these too where asyncua is in use (elsewhere they are ordinary names: a queryset's delete()).
GENERIC_WRITE_CALLS = {"call", "delete", "set_attribute", "add_variable", "add_object", "add_method", "add_folder"}
ENGEL_URI = "http://opcfoundation.org/UA/Machinery_Example/"
LOCATION = f"nsu={ENGEL_URI};i=6021"  # Identification/Location, a String
SERIAL_NUMBER = f"nsu={ENGEL_URI};i=6040"  # read-only on the server


def asyncua_modules_using(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "asyncua" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "asyncua":
            return True
    return False


def write_calls(path: Path, names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(APPS.parent)}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names
    ]


def test_no_opcua_writes_outside_the_audited_module() -> None:
    found: list[str] = []
    checked_opcua = False
    for path in sorted(APPS.rglob("*.py")):
        if path in (WRITES_MODULE, SIMULATOR_SERVER):
            continue
        names = DISTINCT_WRITE_CALLS
        if "opcua" in path.parts or asyncua_modules_using(path):
            names = DISTINCT_WRITE_CALLS | GENERIC_WRITE_CALLS
            checked_opcua = checked_opcua or path.name == "client.py"
        found.extend(write_calls(path, names))
    assert checked_opcua
    assert found == []
    assert [call.split()[-1] for call in write_calls(WRITES_MODULE, DISTINCT_WRITE_CALLS)] == [".write_value()"]
    imported = {
        alias.name
        for node in ast.walk(ast.parse(SIMULATOR_SERVER.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert "Client" not in imported


@pytest.fixture(scope="session")
def opcua_server() -> RunningServer:
    """ENGEL's example alone: loads in a fraction of the time of every NodeSet."""
    return machinery_server()


@pytest.fixture
def writable_location(opcua_server: RunningServer) -> Any:
    node = opcua_server.node(LOCATION)
    opcua_server.run(node.set_writable())
    yield node
    opcua_server.write(LOCATION, None, ua.VariantType.String)
    opcua_server.run(node.set_writable(False))


def grant_write(user: Any) -> None:
    user.user_permissions.add(Permission.objects.get(codename="write_opcua", content_type__app_label="telemetry"))


def audit() -> list[tuple[str, str, str]]:
    return [
        (record.level, record.source, record.message)
        for record in OperatorLogRecord.objects.filter(source__startswith="operator.telemetry").order_by("pk")
    ]


@pytest.mark.django_db
def test_write_without_permission_is_refused_and_logged(
    opcua_server: RunningServer, writable_location: Any, make_user: Callable[..., Any]
) -> None:
    operator = make_user("olga", "operator")
    with pytest.raises(PermissionDenied, match="needs the telemetry.write_opcua permission"):
        write_value(user=operator, endpoint=opcua_server.endpoint, node_id=LOCATION, value="Hall 2", reason="moved")
    assert opcua_server.run(writable_location.read_value()) is None
    assert audit() == [
        (
            "WARNING",
            "operator.telemetry.opcua",
            f"Refused OPC UA write by olga: {LOCATION} = 'Hall 2' on {opcua_server.endpoint} (moved)",
        )
    ]


@pytest.mark.django_db
def test_write_with_permission_changes_the_value_and_is_logged(
    opcua_server: RunningServer, writable_location: Any, make_user: Callable[..., Any]
) -> None:
    supervisor = make_user("sam", "supervisor")
    grant_write(supervisor)
    write_value(
        user=supervisor, endpoint=opcua_server.endpoint, node_id=LOCATION, value="Hall 3, bay 4", reason="relocated"
    )
    assert opcua_server.run(writable_location.read_value()) == "Hall 3, bay 4"
    assert audit() == [
        (
            "WARNING",
            "operator.telemetry.opcua",
            f"OPC UA write by sam: {LOCATION} = 'Hall 3, bay 4' on {opcua_server.endpoint} (relocated)",
        )
    ]


@pytest.mark.django_db
def test_write_refused_by_the_server_is_an_error_and_logged(
    opcua_server: RunningServer, make_user: Callable[..., Any]
) -> None:
    supervisor = make_user("sam", "supervisor")
    grant_write(supervisor)
    with pytest.raises(OpcUaWriteFailed) as error:
        write_value(user=supervisor, endpoint=opcua_server.endpoint, node_id=SERIAL_NUMBER, value="X", reason="fix")
    assert str(error.value).startswith(f"writing {SERIAL_NUMBER} on {opcua_server.endpoint} failed: ")
    assert "BadNotWritable" in str(error.value) or "BadUserAccessDenied" in str(error.value)
    [(level, source, message)] = audit()
    assert (level, source) == ("WARNING", "operator.telemetry.opcua")
    assert message.startswith(f"OPC UA write by sam failed: {SERIAL_NUMBER} = 'X' on {opcua_server.endpoint} (fix): ")
