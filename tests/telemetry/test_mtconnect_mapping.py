"""From MTConnect entries to the MES: roles, metric names, typed values, machine mapping and derived state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.telemetry.mtconnect.documents import parse_probe, parse_streams
from apps.telemetry.mtconnect.mapping import (
    ActiveCondition,
    DataItemMap,
    DeviceSummary,
    derive_state,
    summarise_documents,
    to_observations,
)
from apps.telemetry.observations import Observation
from tests.telemetry.mtconnect_agent import FIXTURES, SHARED_MTCONNECT

MAZAK_PROBE = parse_probe((SHARED_MTCONNECT / "01_mazak_demo_5717_probe_v1.7.xml").read_bytes())
MAZAK_CURRENT = parse_streams((FIXTURES / "mazak_5717_current_v1.7.xml").read_bytes())
STREAM = "mtconnect:1622761005"


def test_roles_from_each_shared_probe() -> None:
    roles = {}
    for name in (
        "01_mazak_demo_5717_probe_v1.7.xml",
        "05_nist_smstestbed_mazak_probe_v1.3.xml",
        "07_cppagent_demo_okuma_mazak_Devices_v2.7.xml",
        "09_cppagent_test_fanuc_devices.xml",
    ):
        items = DataItemMap.from_probe(parse_probe((SHARED_MTCONNECT / name).read_bytes()))
        roles.update({device: dict(mapped.roles) for device, mapped in items.devices.items()})
    assert roles == {
        "M12346": {
            "availability": "avail",
            "execution": "execution",
            "controller_mode": "mode",
            "program": "program",
            "part_count": "PartCountAct",
        },
        "MFMS10-MC1": {
            "availability": "avail",
            "execution": "exec",
            "controller_mode": "mode",
            "program": "pgm",
            "part_count": "pc",
        },
        "OKUMA": {
            "availability": "Lavail",
            "execution": "Lpexecution",
            "controller_mode": "Lpmode",
            "program": "Lpprogram",
            "part_count": "Lppartcount",
        },
        "Mazak": {
            "availability": "avail",
            "execution": "execution",
            "controller_mode": "mode",
            "program": "program",
            "part_count": "PartCountAct",
        },
        "Fanuc-4Axis": {"availability": "avail", "execution": "cn6", "controller_mode": "cn3", "program": "cn5"},
    }


def test_metric_names_prefer_unique_names_and_fall_back_to_ids() -> None:
    nist = DataItemMap.from_probe(
        parse_probe((SHARED_MTCONNECT / "05_nist_smstestbed_mazak_probe_v1.3.xml").read_bytes())
    )
    metrics = nist.devices["MFMS10-MC1"].metrics
    assert (metrics["exec"], metrics["spgm"], metrics["xpm"], metrics["servo"]) == (
        "execution",
        "subprogram",
        "Xabs",
        "condition:servo_cond",
    )
    mazak = DataItemMap.from_probe(MAZAK_PROBE).devices["M12346"]
    assert (mazak.metrics["activeprog"], mazak.metrics["Srpm"], mazak.metrics["system_cond"]) == (
        "activeprog",
        "Srpm",
        "condition:system_cond",
    )
    assert len(mazak.conditions) == 20
    assert len(set(mazak.metrics.values())) == len(mazak.metrics) == 107


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_current_becomes_typed_observations_of_the_machine() -> None:
    observations = to_observations(MAZAK_CURRENT, DataItemMap.from_probe(MAZAK_PROBE), {"M12346": "WC-MILL-01"})
    assert observations == [
        Observation("WC-MILL-01", STREAM, 31, at("2021-06-03T22:56:46"), "availability", "AVAILABLE"),
        Observation("WC-MILL-01", STREAM, 33, at("2021-06-03T22:56:46"), "condition:Sload_cond", "NORMAL"),
        Observation("WC-MILL-01", STREAM, 34, at("2021-06-03T22:56:46"), "condition:comms_cond", None),
        Observation("WC-MILL-01", STREAM, 35, at("2021-06-03T22:56:46"), "condition:coolant_cond", "NORMAL"),
        Observation("WC-MILL-01", STREAM, 8800, at("2021-06-25T14:01:02.3"), "program", "O1234"),
        Observation("WC-MILL-01", STREAM, 8801, at("2021-06-25T14:01:02.3"), "controller_mode", "AUTOMATIC"),
        Observation("WC-MILL-01", STREAM, 9050, at("2021-06-25T14:08:10"), "activeprog", "O9001"),
        Observation("WC-MILL-01", STREAM, 9100, at("2021-06-25T14:09:39"), "part_count", 41),
        Observation("WC-MILL-01", STREAM, 9101, at("2021-06-25T14:09:40.1"), "condition:system_cond", "WARNING:2045"),
        Observation("WC-MILL-01", STREAM, 9110, at("2021-06-25T14:09:51.5"), "condition:system_cond", "FAULT:1105"),
        Observation("WC-MILL-01", STREAM, 9111, at("2021-06-25T14:09:51.6"), "execution", "ACTIVE"),
        Observation("WC-MILL-01", STREAM, 9112, at("2021-06-25T14:09:52"), "condition:motion_cond", "WARNING:M01"),
        Observation("WC-MILL-01", STREAM, 9118, at("2021-06-25T14:09:59.812"), "Srpm", 1200.5),
        Observation("WC-MILL-01", STREAM, 9119, at("2021-06-25T14:09:59.9"), "Fact", None),
    ]


def test_machine_mapping_by_uuid_and_unmapped_devices_left_out() -> None:
    by_uuid = to_observations(MAZAK_CURRENT, DataItemMap.from_probe(MAZAK_PROBE), {"M80104K162N": "WC-7"})
    assert {observation.machine for observation in by_uuid} == {"WC-7"}
    assert len(by_uuid) == 14
    assert to_observations(MAZAK_CURRENT, DataItemMap.from_probe(MAZAK_PROBE), {"other": "WC-8"}) == []


def test_shared_sample_without_probe_names_items_from_the_stream() -> None:
    streams = parse_streams((SHARED_MTCONNECT / "03_cppagent_1.7.0.3_sample_v1.7.xml").read_bytes())
    observations = to_observations(streams)
    assert len(observations) == 28
    assert {observation.machine for observation in observations} == {"camera1", "camera2"}
    assert [(o.sequence, o.value) for o in observations if o.machine == "camera2" and o.metric == "availability"] == [
        (13, None),
        (31, "AVAILABLE"),
        (33, None),
        (35, "AVAILABLE"),
        (39, None),
        (41, "AVAILABLE"),
        (43, None),
        (45, "AVAILABLE"),
        (47, None),
        (49, "AVAILABLE"),
        (54, None),
        (55, "AVAILABLE"),
    ]
    assert {o.metric for o in observations} == {
        "availability",
        "d1_asset_chg",
        "d1_asset_rem",
        "d2_asset_chg",
        "d2_asset_rem",
    }


def test_sample_values_are_numbers_unless_they_are_not_one_number() -> None:
    streams = parse_streams(
        '<MTConnectStreams><Header creationTime="2026-03-02T06:00:00Z" instanceId="5" firstSequence="1" '
        'nextSequence="5" lastSequence="4" bufferSize="16"/><Streams><DeviceStream name="L"><ComponentStream>'
        '<Samples><PathPosition dataItemId="pos" sequence="1" timestamp="2026-03-02T06:00:00Z">1.5 2 -3</PathPosition>'
        '<Load dataItemId="load" sequence="2" timestamp="2026-03-02T06:00:00Z">NaN</Load>'
        '<Load dataItemId="load" sequence="3" timestamp="2026-03-02T06:00:00Z">12</Load></Samples>'
        '<Events><Line dataItemId="line" sequence="4" timestamp="2026-03-02T06:00:00Z">120</Line></Events>'
        "</ComponentStream></DeviceStream></Streams></MTConnectStreams>"
    )
    assert [(o.metric, o.value) for o in to_observations(streams)] == [
        ("pos", "1.5 2 -3"),
        ("load", "NaN"),
        ("load", 12.0),
        ("line", "120"),
    ]


@pytest.mark.parametrize(
    ("availability", "execution", "mode", "levels", "state"),
    [
        (None, "ACTIVE", "AUTOMATIC", ("fault",), "offline"),
        ("AVAILABLE", "ACTIVE", "AUTOMATIC", ("warning", "fault"), "alarm"),
        ("AVAILABLE", "ACTIVE", "MANUAL", ("warning",), "running"),
        ("AVAILABLE", "READY", "MANUAL", (), "setup"),
        ("AVAILABLE", "FEED_HOLD", "MANUAL_DATA_INPUT", (), "setup"),
        ("AVAILABLE", "READY", "EDIT", (), "idle"),
        ("AVAILABLE", "INTERRUPTED", "AUTOMATIC", (), "idle"),
        ("AVAILABLE", None, None, (), "idle"),
    ],
)
def test_derived_state(
    availability: str | None, execution: str | None, mode: str | None, levels: tuple[str, ...], state: str
) -> None:
    conditions = [ActiveCondition("SYSTEM", level, None) for level in levels]
    assert derive_state(availability, execution, mode, conditions, reports_availability=True) == state


def test_without_an_availability_item_a_device_is_not_called_offline() -> None:
    assert derive_state(None, "ACTIVE", None, [], reports_availability=False) == "running"


def condition(tag: str, sequence: int, code: str | None = None) -> str:
    native = f' nativeCode="{code}"' if code else ""
    stamp = f"2026-03-02T06:00:0{sequence}Z"
    return f'<{tag} dataItemId="sys" sequence="{sequence}" timestamp="{stamp}" type="SYSTEM"{native}/>'


def summary_of(*conditions: str) -> DeviceSummary:
    streams = parse_streams(
        '<MTConnectStreams><Header creationTime="2026-03-02T06:00:00Z" instanceId="5" firstSequence="1" '
        'nextSequence="9" lastSequence="8" bufferSize="16"/><Streams><DeviceStream name="L"><ComponentStream>'
        '<Events><Availability dataItemId="av" sequence="0" timestamp="2026-03-02T06:00:00Z">AVAILABLE</Availability>'
        f"</Events><Condition>{''.join(conditions)}</Condition></ComponentStream></DeviceStream></Streams>"
        "</MTConnectStreams>"
    )
    [summary] = summarise_documents(None, streams)
    return summary


RAISED = (
    condition("Unavailable", 1),
    condition("Fault", 2, "11"),
    condition("Warning", 3, "12"),
    condition("Fault", 4, "13"),
    condition("Normal", 5, "11"),
)


def test_conditions_raised_and_cleared_over_a_sample() -> None:
    assert summary_of(*RAISED) == DeviceSummary(
        name="L",
        uuid=None,
        availability="AVAILABLE",
        conditions=(ActiveCondition("SYSTEM", "warning", "12"), ActiveCondition("SYSTEM", "fault", "13")),
        state="alarm",
    )
    cleared = summary_of(*RAISED, condition("Normal", 6))
    assert (cleared.conditions, cleared.state) == ((), "idle")
    unavailable_again = summary_of(*RAISED, condition("Unavailable", 7))
    assert (unavailable_again.conditions, unavailable_again.state) == ((), "idle")


def test_probe_only_gives_devices_with_nulls() -> None:
    assert summarise_documents(MAZAK_PROBE, None) == [DeviceSummary(name="M12346", uuid="M80104K162N")]
