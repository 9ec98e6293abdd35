"""Parsing real agents' documents (1.1 to 2.7) and refusing broken ones with a clear reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.telemetry.mtconnect.documents import (
    AgentErrorEntry,
    ErrorDocument,
    ProbeDocument,
    StreamsDocument,
    parse_document,
    parse_probe,
    parse_streams,
)
from apps.telemetry.observations import MalformedMessage
from tests.telemetry.mtconnect_agent import FIXTURES, SHARED_MTCONNECT

SHARED_FILES = {
    "01_mazak_demo_5717_probe_v1.7.xml": ProbeDocument,
    "03_cppagent_1.7.0.3_sample_v1.7.xml": StreamsDocument,
    "05_nist_smstestbed_mazak_probe_v1.3.xml": ProbeDocument,
    "07_cppagent_demo_okuma_mazak_Devices_v2.7.xml": ProbeDocument,
    "09_cppagent_test_fanuc_devices.xml": ProbeDocument,
}


def shared(name: str) -> bytes:
    return (SHARED_MTCONNECT / name).read_bytes()


def test_every_shared_document_is_known_and_parses() -> None:
    assert sorted(path.name for path in SHARED_MTCONNECT.glob("*.xml")) == sorted(SHARED_FILES)
    for name, kind in SHARED_FILES.items():
        assert type(parse_document(shared(name))) is kind, name


def test_mazak_probe_v17() -> None:
    probe = parse_probe(shared("01_mazak_demo_5717_probe_v1.7.xml"))
    assert probe.header.instance_id == 1622761005
    assert probe.header.buffer_size == 4096
    assert probe.header.version == "1.7.0.3"
    assert probe.header.creation_time == datetime(2021, 6, 25, 14, 8, 24, tzinfo=UTC)
    assert [(device.name, device.uuid, device.is_agent, len(device.data_items)) for device in probe.devices] == [
        ("Agent", "0b49a3a0-18ca-0139-8748-2cde48001122", True, 11),
        ("M12346", "M80104K162N", False, 107),
    ]
    items = {item.id: item for item in probe.devices[1].data_items}
    spindle = items["Srpm"]
    assert (spindle.category, spindle.type, spindle.sub_type, spindle.units, spindle.name) == (
        "SAMPLE",
        "ROTARY_VELOCITY",
        "ACTUAL",
        "REVOLUTION/MINUTE",
        None,
    )
    assert (items["program"].type, items["program"].sub_type) == ("PROGRAM", "MAIN")
    assert sum(item.category == "CONDITION" for item in items.values()) == 20


def test_nist_probe_v13() -> None:
    probe = parse_probe(shared("05_nist_smstestbed_mazak_probe_v1.3.xml"))
    assert probe.header.instance_id == 1553449070
    assert [(device.name, device.uuid, len(device.data_items)) for device in probe.devices] == [
        ("MFMS10-MC1", "MAZAK-M77KP290337", 94)
    ]
    items = {item.id: item for item in probe.devices[0].data_items}
    assert (items["exec"].name, items["exec"].type, items["exec"].category) == ("execution", "EXECUTION", "EVENT")
    assert (items["spgm"].name, items["spgm"].sub_type) == ("subprogram", "x:SUB")


def test_reference_agent_devices_v27() -> None:
    probe = parse_probe(shared("07_cppagent_demo_okuma_mazak_Devices_v2.7.xml"))
    assert probe.header.instance_id == 1
    assert probe.header.version == "2.0"
    assert [(device.id, device.name, device.uuid, len(device.data_items)) for device in probe.devices] == [
        ("OKUMA.123456", "OKUMA", "OKUMA.123456", 100),
        ("d1", "Mazak", "Mazak", 116),
    ]
    okuma = {item.id: item for item in probe.devices[0].data_items}
    assert (okuma["Lpexecution"].name, okuma["Lpexecution"].type) == ("pexecution", "EXECUTION")


def test_fanuc_devices_v11() -> None:
    probe = parse_probe(shared("09_cppagent_test_fanuc_devices.xml"))
    assert probe.header.creation_time == datetime(2010, 3, 4, 18, 44, 40, tzinfo=UTC)
    assert [(device.name, device.uuid, len(device.data_items)) for device in probe.devices] == [
        ("Fanuc-4Axis", "000", 48)
    ]
    items = {item.id: item for item in probe.devices[0].data_items}
    assert (items["c2"].name, items["c2"].type, items["c2"].units) == ("S1speed", "SPINDLE_SPEED", "REVOLUTION/MINUTE")


def test_cppagent_sample_v17() -> None:
    streams = parse_streams(shared("03_cppagent_1.7.0.3_sample_v1.7.xml"))
    header = streams.header
    assert (
        header.instance_id,
        header.first_sequence,
        header.next_sequence,
        header.last_sequence,
        header.buffer_size,
    ) == (
        1627231388,
        1,
        57,
        56,
        131072,
    )
    assert header.creation_time == datetime(2021, 7, 25, 16, 43, 33, tzinfo=UTC)
    assert [(device.name, device.uuid, device.is_agent, len(device.entries)) for device in streams.devices] == [
        ("Agent", "0b49a3a0-18ca-0139-8748-2cde48001122", True, 28),
        ("camera1", "a123", False, 14),
        ("camera2", "a234", False, 14),
    ]
    sequences = sorted(entry.sequence for device in streams.devices for entry in device.entries)
    assert sequences == list(range(1, 57))
    agent = streams.devices[0]
    first = agent.entries[0]
    assert (first.data_item_id, first.type, first.category, first.sequence, first.value) == (
        "agent_2cde48001122_asset_rem",
        "ASSET_REMOVED",
        "EVENT",
        1,
        None,
    )
    rate = next(entry for entry in agent.entries if entry.sequence == 37)
    assert (rate.data_item_id, rate.type, rate.category, rate.value) == (
        "_7546f731da_observation_update_rate",
        "OBSERVATION_UPDATE_RATE",
        "SAMPLE",
        "0.3",
    )
    assert rate.timestamp == datetime(2021, 7, 25, 16, 43, 18, 450480, tzinfo=UTC)
    camera = streams.devices[1]
    assert [entry.value for entry in camera.entries if entry.type == "AVAILABILITY"][-3:] == [
        "AVAILABLE",
        None,
        "AVAILABLE",
    ]


def test_simultaneous_conditions_keep_native_codes() -> None:
    streams = parse_streams((FIXTURES / "mazak_5717_current_v1.7.xml").read_bytes())
    machine = streams.devices[1]
    conditions = [entry for entry in machine.entries if entry.data_item_id == "system_cond"]
    assert [
        (entry.level, entry.type, entry.native_code, entry.native_severity, entry.qualifier, entry.value)
        for entry in conditions
    ] == [
        ("warning", "SYSTEM", "2045", "2", None, "DOOR INTERLOCK BYPASSED"),
        ("fault", "SYSTEM", "1105", "1", "HIGH", "SPINDLE OVERLOAD"),
    ]
    unavailable = next(entry for entry in machine.entries if entry.data_item_id == "comms_cond")
    assert (unavailable.level, unavailable.value) == ("unavailable", None)


def test_out_of_range_error_document() -> None:
    document = parse_document((FIXTURES / "out_of_range_error_v1.7.xml").read_bytes())
    assert document == ErrorDocument(
        instance_id=1622761005,
        errors=(AgentErrorEntry("OUT_OF_RANGE", "'from' must be greater than or equal to 5024."),),
    )


def test_error_document_v26_layout() -> None:
    document = parse_document(
        '<MTConnectError xmlns="urn:mtconnect.org:MTConnectError:2.6"><Header instanceId="7" bufferSize="8"/>'
        '<Errors><OutOfRange errorCode="OUT_OF_RANGE"><ErrorMessage>from is too low</ErrorMessage>'
        "<QueryParameter name='from'><Value>1</Value></QueryParameter></OutOfRange></Errors></MTConnectError>"
    )
    assert document == ErrorDocument(instance_id=7, errors=(AgentErrorEntry("OUT_OF_RANGE", "from is too low"),))


def test_streams_without_namespace_and_with_a_2x_namespace_read_alike() -> None:
    body = (
        '<Header creationTime="2026-03-02T06:00:00" instanceId="5" firstSequence="1" nextSequence="3" '
        'lastSequence="2" bufferSize="16"/><Streams><DeviceStream name="Lathe" uuid="l-1">'
        '<ComponentStream component="Path" componentId="p"><Events>'
        '<PartCount dataItemId="pc" sequence="2" subType="ALL" timestamp="2026-03-02T06:00:01Z">7</PartCount>'
        '<VariableDataSet dataItemId="vars" sequence="1" timestamp="2026-03-02T06:00:00Z" count="2">'
        '<Entry key="a">1</Entry><Entry key="b">2</Entry></VariableDataSet>'
        "</Events></ComponentStream></DeviceStream></Streams>"
    )
    plain = parse_streams(f"<MTConnectStreams>{body}</MTConnectStreams>")
    namespaced = parse_streams(
        f'<MTConnectStreams xmlns="urn:mtconnect.org:MTConnectStreams:2.3">{body}</MTConnectStreams>'
    )
    assert plain == namespaced
    assert plain.header.creation_time == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    assert [(entry.type, entry.sub_type, entry.value) for entry in plain.devices[0].entries] == [
        ("VARIABLE", None, "a=1 b=2"),
        ("PART_COUNT", "ALL", "7"),
    ]


STREAMS_HEADER = (
    '<Header creationTime="2026-03-02T06:00:00Z" instanceId="5" firstSequence="1" nextSequence="3" '
    'lastSequence="2" bufferSize="16"/>'
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty document: the agent sent no XML"),
        (b"<html><body>It works!</body></html>", "not an MTConnect document: the root element is <html>"),
        (b"<MTConnectStreams><Header", "not well-formed XML: unclosed token: line 1, column 18"),
        (
            b'<MTConnectStreams><Header creationTime="2026-03-02T06:00:00Z" instanceId="5" firstSequence="1" '
            b'lastSequence="2" bufferSize="16"/></MTConnectStreams>',
            "<Header> has no nextSequence attribute, which MTConnect requires",
        ),
        (
            b'<MTConnectStreams><Header creationTime="2026-03-02T06:00:00Z" instanceId="five" firstSequence="1" '
            b'nextSequence="3" lastSequence="2" bufferSize="16"/></MTConnectStreams>',
            "<Header> instanceId='five' is not an integer",
        ),
        (b"<MTConnectStreams><Streams/></MTConnectStreams>", "<MTConnectStreams> has no <Header>"),
        (
            f'<MTConnectStreams>{STREAMS_HEADER}<Streams><DeviceStream name="L"><ComponentStream><Events>'
            '<Execution dataItemId="e" sequence="1" timestamp="yesterday">ACTIVE</Execution>'
            "</Events></ComponentStream></DeviceStream></Streams></MTConnectStreams>".encode(),
            "timestamp 'yesterday' is not ISO 8601",
        ),
        (
            f'<MTConnectStreams>{STREAMS_HEADER}<Streams><DeviceStream name="L"><ComponentStream><Condition>'
            '<Alarm dataItemId="c" sequence="1" timestamp="2026-03-02T06:00:00Z" type="SYSTEM"/>'
            "</Condition></ComponentStream></DeviceStream></Streams></MTConnectStreams>".encode(),
            "<Alarm> is not a condition level (Normal, Warning, Fault, Unavailable)",
        ),
        (
            b"<MTConnectError><Header instanceId='1'/><Errors/></MTConnectError>",
            "<MTConnectError> lists no error with an errorCode",
        ),
    ],
)
def test_broken_documents_are_refused_with_a_reason(content: bytes, message: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_document(content)
    assert caught.value.reason == "bad_document"
    assert str(caught.value) == message


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<MTConnectStreams>&lol2;</MTConnectStreams>"
    )
    with pytest.raises(MalformedMessage) as caught:
        parse_document(bomb)
    assert caught.value.reason == "bad_document"
    assert str(caught.value).startswith("refused XML with a DTD or entities: EntitiesForbidden(name='lol'")


def test_a_probe_is_not_taken_for_streams() -> None:
    with pytest.raises(
        MalformedMessage, match=r"^expected an MTConnectStreams document, got an MTConnectDevices document$"
    ):
        parse_streams(shared("09_cppagent_test_fanuc_devices.xml"))
    with pytest.raises(
        MalformedMessage,
        match=r"^expected an MTConnectDevices \(probe\) document, got an MTConnectError: OUT_OF_RANGE$",
    ):
        parse_probe((FIXTURES / "out_of_range_error_v1.7.xml").read_bytes())
