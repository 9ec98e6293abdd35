"""`manage.py mtconnect_inspect` on real documents, on a live (fake) agent, and on what is not MTConnect."""

from __future__ import annotations

import json
import socket
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.telemetry.mtconnect_agent import FIXTURES, SHARED_MTCONNECT, FakeAgent


def inspect(*args: str) -> str:
    out = StringIO()
    call_command("mtconnect_inspect", *args, stdout=out)
    return out.getvalue()


def inspect_json(source: Path | str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(inspect(str(source), "--json"))
    return result


def test_shared_sample_document() -> None:
    report = inspect_json(SHARED_MTCONNECT / "03_cppagent_1.7.0.3_sample_v1.7.xml")
    assert report["header"] == {"instanceId": 1627231388, "firstSequence": 1, "nextSequence": 57, "lastSequence": 56}
    assert [device["name"] for device in report["devices"]] == ["camera1", "camera2"]
    assert report["devices"][0] == {
        "name": "camera1",
        "uuid": "a123",
        "availability": "AVAILABLE",
        "execution": None,
        "controller_mode": None,
        "program": None,
        "part_count": None,
        "conditions": [],
        "state": "idle",
    }


def test_current_document_with_alarms() -> None:
    assert inspect_json(FIXTURES / "mazak_5717_current_v1.7.xml") == {
        "header": {"instanceId": 1622761005, "firstSequence": 5024, "nextSequence": 9120, "lastSequence": 9119},
        "devices": [
            {
                "name": "M12346",
                "uuid": "M80104K162N",
                "availability": "AVAILABLE",
                "execution": "ACTIVE",
                "controller_mode": "AUTOMATIC",
                "program": "O1234",
                "part_count": 41,
                "conditions": [
                    {"type": "SYSTEM", "level": "warning", "native_code": "2045"},
                    {"type": "SYSTEM", "level": "fault", "native_code": "1105"},
                    {"type": "MOTION_PROGRAM", "level": "warning", "native_code": "M01"},
                ],
                "state": "alarm",
            }
        ],
    }


def test_table_output() -> None:
    assert inspect(str(FIXTURES / "mazak_5717_current_v1.7.xml")).splitlines() == [
        "agent instance 1622761005, buffer holds sequences 5024..9119, next 9120",
        "device  state  availability  execution  mode       program  parts  conditions",
        "M12346  alarm  AVAILABLE     ACTIVE     AUTOMATIC  O1234    41     "
        "warning SYSTEM 2045, fault SYSTEM 1105, warning MOTION_PROGRAM M01",
    ]


def test_probe_only_document_gives_devices_with_nulls() -> None:
    report = inspect_json(SHARED_MTCONNECT / "07_cppagent_demo_okuma_mazak_Devices_v2.7.xml")
    nulls: dict[str, Any] = {
        "availability": None,
        "execution": None,
        "controller_mode": None,
        "program": None,
        "part_count": None,
        "conditions": [],
        "state": None,
    }
    assert report == {
        "header": {"instanceId": 1, "firstSequence": None, "nextSequence": None, "lastSequence": None},
        "devices": [{"name": "OKUMA", "uuid": "OKUMA.123456", **nulls}, {"name": "Mazak", "uuid": "Mazak", **nulls}],
    }
    assert inspect(str(SHARED_MTCONNECT / "09_cppagent_test_fanuc_devices.xml")).splitlines() == [
        "agent instance 1267728234 (probe only: no observations)",
        "device       state  availability  execution  mode  program  parts  conditions",
        "Fanuc-4Axis  -      -             -          -     -        -      -",
    ]


def test_live_agent_probe_and_current() -> None:
    with FakeAgent(device="VF2-1", uuid="haas-vf2-0001", instance_id=42) as agent:
        agent.add("avail", "AVAILABLE")
        agent.add("mode", "MANUAL")
        agent.add("exec", "READY")
        agent.add("parts", "17")
        agent.add("system", "Warning", native_code="LOW_COOLANT")
        report = inspect_json(agent.url)
    assert report == {
        "header": {"instanceId": 42, "firstSequence": 1, "nextSequence": 6, "lastSequence": 5},
        "devices": [
            {
                "name": "VF2-1",
                "uuid": "haas-vf2-0001",
                "availability": "AVAILABLE",
                "execution": "READY",
                "controller_mode": "MANUAL",
                "program": None,
                "part_count": 17,
                "conditions": [{"type": "SYSTEM", "level": "warning", "native_code": "LOW_COOLANT"}],
                "state": "setup",
            }
        ],
    }
    assert agent.requests == ["probe", "current"]


def test_missing_file() -> None:
    with pytest.raises(CommandError, match=r"^no such file: /nonexistent/agent\.xml \(give an agent URL"):
        inspect("/nonexistent/agent.xml")


def test_not_mtconnect(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<html><body>router login</body></html>")
    with pytest.raises(CommandError) as caught:
        inspect(str(page))
    assert (
        str(caught.value)
        == f"{page} is not an MTConnect document: not an MTConnect document: the root element is <html>"
    )


def test_error_document() -> None:
    with pytest.raises(CommandError) as caught:
        inspect(str(FIXTURES / "out_of_range_error_v1.7.xml"))
    assert str(caught.value).endswith("is an MTConnectError document (OUT_OF_RANGE): it describes no device")


def test_unreachable_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CommandError) as caught:
        inspect(f"http://127.0.0.1:{port}", "--timeout", "2")
    assert str(caught.value).startswith(f"MTConnect agent at http://127.0.0.1:{port}/probe is unavailable: ")
