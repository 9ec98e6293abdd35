"""The node map format and the DataValue → observation conversion, without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from asyncua import ua

from apps.telemetry.observations import MalformedMessage
from apps.telemetry.opcua.nodemap import (
    DEFAULT_METRICS,
    MachineMap,
    NodeMapError,
    PathSegment,
    Security,
    for_endpoint,
    load_node_map,
    metric_targets,
    parse_path,
)
from apps.telemetry.opcua.values import observed_at, stream_name, typed_value

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "opcua"
RECEIVED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_yaml_map_with_defaults_and_per_machine_overrides() -> None:
    machines = load_node_map(FIXTURES / "shop.yaml")
    assert machines == [
        MachineMap(
            machine="WC-MILL-01",
            endpoint="opc.tcp://127.0.0.1:4840",
            object="SampleMachineTool",
            metrics={"spindle_override": ("nsu=http://yourorganisation.org/MachineTool-Example/;i=6070",)},
        ),
        MachineMap(
            machine="WC-LASER-01",
            endpoint="opc.tcp://10.0.0.7:4840",
            object="LaserSystem-Example",
            metrics={
                "part_count": ("Production/RecipeSettingsAndOverviews/Recipe1/RunsCompleted",),
                "program": (
                    "Production/RecipeSettingsAndOverviews/Recipe1/RecipeName",
                    "Production/ActiveProgram/Name",
                ),
            },
            security=Security(
                policy="Basic256Sha256",
                mode="SignAndEncrypt",
                certificate=Path("/etc/cnc-copilot/opcua/client.der"),
                private_key=Path("/etc/cnc-copilot/opcua/client.pem"),
                server_certificate=Path("/etc/cnc-copilot/opcua/laser-01.der"),
            ),
        ),
    ]
    assert [machine.machine for machine in for_endpoint(machines, "opc.tcp://127.0.0.1:4840/")] == ["WC-MILL-01"]


def test_json_file_and_dict_give_the_same_map(tmp_path: Path) -> None:
    document = {
        "endpoint": "opc.tcp://press:4840",
        "machines": [{"machine": "WC-PRESS-01", "object": "nsu=http://schulergroup.com/UA/example/;i=5003"}],
    }
    path = tmp_path / "press.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    expected = [
        MachineMap(
            machine="WC-PRESS-01",
            endpoint="opc.tcp://press:4840",
            object="nsu=http://schulergroup.com/UA/example/;i=5003",
        )
    ]
    assert load_node_map(path) == expected
    assert load_node_map(document) == expected


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"machines": []}, "node map: 'machines' must be a non-empty list"),
        ({"machines": [{"object": "X", "endpoint": "opc.tcp://a:1"}]}, "needs 'machine' (the work center code)"),
        ({"machines": [{"machine": "WC1", "endpoint": "opc.tcp://a:1"}]}, "(WC1) needs 'object'"),
        ({"machines": [{"machine": "WC1", "object": "X"}]}, "(WC1) needs an 'endpoint' like opc.tcp://host:4840"),
        (
            {
                "endpoint": "opc.tcp://a:1",
                "machines": [{"machine": "WC1", "object": "X"}, {"machine": "WC1", "object": "Y"}],
            },
            "work center 'WC1' is mapped twice",
        ),
        (
            {"endpoint": "opc.tcp://a:1", "machines": [{"machine": "WC1", "object": "X", "metrics": {"p": "Foo:Bar"}}]},
            "unknown namespace alias 'Foo'",
        ),
        (
            {
                "endpoint": "opc.tcp://a:1",
                "security": {"policy": "Basic128Rsa15"},
                "machines": [{"machine": "W", "object": "X"}],
            },
            "policy None (mode None) or policy Basic256Sha256 with mode SignAndEncrypt",
        ),
        (
            {
                "endpoint": "opc.tcp://a:1",
                "security": {"policy": "Basic256Sha256"},
                "machines": [{"machine": "W", "object": "X"}],
            },
            "Basic256Sha256 needs 'certificate' (a file path)",
        ),
    ],
)
def test_bad_maps_name_the_entry(document: dict[str, object], message: str) -> None:
    with pytest.raises(NodeMapError) as error:
        load_node_map(document)
    assert message in str(error.value)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(NodeMapError, match="cannot read node map .*missing.yaml"):
        load_node_map(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.json"
    broken.write_text("{machines: ", encoding="utf-8")
    with pytest.raises(NodeMapError, match="broken.json is not valid JSON"):
        load_node_map(broken)


def test_browse_paths() -> None:
    machinery = "http://opcfoundation.org/UA/Machinery/"
    assert parse_path("Production/ActiveProgram/Name") == (
        PathSegment("Production"),
        PathSegment("ActiveProgram"),
        PathSegment("Name"),
    )
    assert parse_path("Machinery:MachineryBuildingBlocks/{http://example.com/UA/}Counter") == (
        PathSegment("MachineryBuildingBlocks", machinery),
        PathSegment("Counter", "http://example.com/UA/"),
    )
    with pytest.raises(NodeMapError, match="empty segment"):
        parse_path("Production//Name")


def test_machine_entries_replace_default_candidates() -> None:
    targets = metric_targets({"program": ("Production/Recipe/Name",)})
    assert list(targets) == ["machinery_state", "operation_mode", "stacklight", "part_count", "program"]
    assert targets["program"] == ("Production/Recipe/Name",)
    assert targets["machinery_state"] == DEFAULT_METRICS["machinery_state"]


def value(variant: ua.Variant, status: int = ua.StatusCodes.Good) -> ua.DataValue:
    return ua.DataValue(variant, StatusCode=ua.StatusCode(ua.UInt32(status)))


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (ua.Variant(True, ua.VariantType.Boolean), True),
        (ua.Variant(42, ua.VariantType.UInt32), 42),
        (ua.Variant(85.5, ua.VariantType.Double), 85.5),
        (ua.Variant(float("nan"), ua.VariantType.Double), None),
        (ua.Variant("Sample.nc", ua.VariantType.String), "Sample.nc"),
        (ua.Variant(ua.LocalizedText("Executing", "en"), ua.VariantType.LocalizedText), "Executing"),
        (ua.Variant(ua.QualifiedName("Light1", 3), ua.VariantType.QualifiedName), "Light1"),
        (ua.Variant(ua.NodeId(ua.Int32(5006), ua.Int16(3)), ua.VariantType.NodeId), "ns=3;i=5006"),
        (
            ua.Variant(datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=1))), ua.VariantType.DateTime),
            "2026-03-02T08:00:00+00:00",
        ),
        (ua.Variant(None, ua.VariantType.Null), None),
    ],
)
def test_typed_values(variant: ua.Variant, expected: object) -> None:
    assert typed_value(value(variant)) == expected


def test_enumerations_bad_status_and_non_scalars() -> None:
    modes = {0: "Other", 1: "Automatic", 2: "Setup", 3: "Manual"}
    assert typed_value(value(ua.Variant(1, ua.VariantType.Int32)), modes) == "Automatic"
    assert typed_value(value(ua.Variant(9, ua.VariantType.Int32)), modes) == "9"
    assert typed_value(value(ua.Variant(1, ua.VariantType.Int32), ua.StatusCodes.BadCommunicationError)) is None
    assert typed_value(value(ua.Variant(7, ua.VariantType.Int32), ua.StatusCodes.UncertainLastUsableValue)) is None
    with pytest.raises(MalformedMessage) as error:
        typed_value(value(ua.Variant([1, 2], ua.VariantType.Int32)))
    assert (error.value.reason, str(error.value)) == ("wrong_type", "an array of Int32 is not a scalar metric")


def test_timestamps_prefer_the_source() -> None:
    source = ua.DateTime(2026, 3, 2, 7, 59, 58, tzinfo=UTC)
    server = ua.DateTime(2026, 3, 2, 7, 59, 59, tzinfo=UTC)
    variant = ua.Variant(1, ua.VariantType.Int32)
    assert observed_at(ua.DataValue(variant, SourceTimestamp=source, ServerTimestamp=server), RECEIVED) == source
    assert observed_at(ua.DataValue(variant, ServerTimestamp=server), RECEIVED) == server
    assert observed_at(ua.DataValue(variant), RECEIVED) == RECEIVED
    naive = ua.DateTime(2026, 3, 2, 7, 0)
    assert observed_at(ua.DataValue(variant, SourceTimestamp=naive), RECEIVED) == naive.replace(tzinfo=UTC)


def test_stream_names_one_per_session() -> None:
    started = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    expected = "opcua:opc.tcp://10.0.0.5:4840#20260301T063000.000000Z/a1b2"
    assert stream_name("opc.tcp://10.0.0.5:4840/", started, "a1b2") == expected
    assert stream_name("opc.tcp://10.0.0.5:4840", None, "c3") == "opcua:opc.tcp://10.0.0.5:4840#unknown/c3"
