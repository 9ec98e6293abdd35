"""What the operator app needs to keep the newest copy and to tell paused work apart: every
operation payload carries a version that goes up with each change an operator can see, paused
operations say since when and why, and the reasons list names the machine states that prompt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import verified_client
from apps.shopfloor import services
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import ProductionEvent

from .floor import Floor, build_floor

API = "/api/v1/shopfloor"


@pytest.fixture
def floor(personas: dict[str, Any]) -> Floor:
    return build_floor(personas["production_manager"])


def post(client: Any, url: str, body: dict[str, Any] | None = None, key: str = "") -> Any:
    return client.post(url, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def clocked_in(client: Any, floor: Floor, key: str) -> Any:
    assert post(client, f"{API}/clock-in/", {"work_centers": [floor.shop.laser_1.pk]}, key).status_code == 200
    return client


@pytest.fixture
def phone(client_for: Callable[[str], Any], floor: Floor) -> Any:
    return clocked_in(client_for("operator"), floor, "clock-in-olga")


def test_every_action_raises_the_version_and_a_replay_keeps_the_old_one(
    phone: Any, floor: Floor, make_user: Callable[..., Any]
) -> None:
    url = f"{API}/operations/{floor.cut.pk}"
    helper = clocked_in(verified_client(make_user("ben", "operator")), floor, "clock-in-ben")
    versions = [phone.get(f"{url}/").json()["version"]]
    steps: list[tuple[Any, str, dict[str, Any]]] = [
        (phone, "start", {"work_center": floor.shop.laser_1.pk}),
        (phone, "finish-setup", {}),
        (helper, "join", {}),
        (phone, "report", {"good": 2}),
        (helper, "leave", {}),
        (phone, "pause", {"reason": floor.waiting_for_material.pk}),
        (phone, "resume", {}),
        (phone, "complete", {"good": 8}),
    ]
    for client, action, body in steps:
        answer = post(client, f"{url}/{action}/", body, f"{action}-cut-1")
        assert answer.status_code == 200, (action, answer.json())
        assert answer.json()["version"] > versions[-1], action
        versions.append(answer.json()["version"])
        # A read right after the action is the same copy: same version.
        assert phone.get(f"{url}/").json()["version"] == versions[-1], action
    assert all(isinstance(version, int) for version in versions)

    # The phone that lost the answer to its start sends it again: the stored, older answer comes back.
    replayed = post(phone, f"{url}/start/", {"work_center": floor.shop.laser_1.pk}, "start-cut-1")
    assert (replayed["Idempotent-Replayed"], replayed.json()["version"]) == ("true", versions[1])
    assert replayed.json()["version"] < phone.get(f"{url}/").json()["version"]


def test_queue_and_job_carry_the_same_version_as_the_operation(phone: Any, floor: Floor) -> None:
    post(phone, f"{API}/operations/{floor.cut.pk}/start/", {"work_center": floor.shop.laser_1.pk}, "start-cut-2")
    version = phone.get(f"{API}/operations/{floor.cut.pk}/").json()["version"]
    entries = phone.get(f"{API}/queue/").json()["work_centers"][0]["entries"]
    assert [entry["version"] for entry in entries if entry["id"] == floor.cut.pk] == [version]
    job = phone.get(f"{API}/jobs/{floor.job.pk}/").json()
    assert [op["version"] for op in job["operations"] if op["id"] == floor.cut.pk] == [version]


def test_a_paused_operation_says_since_when_and_why(phone: Any, floor: Floor) -> None:
    url = f"{API}/operations/{floor.cut.pk}"
    running = post(phone, f"{url}/start/", {"work_center": floor.shop.laser_1.pk}, "start-cut-3").json()
    assert (running["paused"], running["paused_since"], running["pause_reason"]) == (False, None, None)

    paused = post(phone, f"{url}/pause/", {"reason": floor.waiting_for_material.pk}, "pause-cut-3").json()
    event = ProductionEvent.objects.get(operation=floor.cut, kind=EventKind.PAUSE)
    assert (paused["paused"], paused["paused_since"], paused["pause_reason"]) == (
        True,
        event.at.isoformat(),
        {"id": floor.waiting_for_material.pk, "name": floor.waiting_for_material.name},
    )
    entry = phone.get(f"{API}/queue/").json()["work_centers"][0]["entries"][0]
    assert (entry["id"], entry["paused_since"], entry["pause_reason"]) == (
        floor.cut.pk,
        paused["paused_since"],
        paused["pause_reason"],
    )

    resumed = post(phone, f"{url}/resume/", {}, "resume-cut-3").json()
    assert (resumed["paused"], resumed["paused_since"], resumed["pause_reason"]) == (False, None, None)


def test_a_second_pause_gives_its_own_reason(phone: Any, floor: Floor, personas: dict[str, Any]) -> None:
    from apps.machines.models import DowntimeReason

    crane, _ = DowntimeReason.objects.get_or_create(code="waiting-crane", defaults={"name": "Waiting for crane"})
    operator, op = personas["operator"], floor.cut.pk
    services.start_operation(operator=operator, operation_id=op, work_center_id=floor.shop.laser_1.pk)
    services.pause_operation(operator=operator, operation_id=op, reason_id=floor.waiting_for_material.pk)
    services.resume_operation(operator=operator, operation_id=op)
    services.pause_operation(operator=operator, operation_id=op, reason_id=crane.pk)
    paused = phone.get(f"{API}/operations/{op}/").json()
    assert paused["pause_reason"] == {"id": crane.pk, "name": crane.name}


def test_paused_operations_do_not_add_queries_to_the_queue(phone: Any, floor: Floor, personas: dict[str, Any]) -> None:
    from apps.routings.services import release_job
    from tests.routings.builders import make_job, straight_part

    operator, laser = personas["operator"], floor.shop.laser_1.pk

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert phone.get(f"{API}/queue/").status_code == 200
        return len(queries)

    services.start_operation(operator=operator, operation_id=floor.cut.pk, work_center_id=laser)
    services.pause_operation(operator=operator, operation_id=floor.cut.pk, reason_id=floor.waiting_for_material.pk)
    one = count()
    for _ in range(3):
        job = make_job(floor.shop, straight_part(floor.shop), quantity=3)
        release_job(actor=personas["production_manager"], job_id=job.pk)
        cut = job.operations.get(sequence=10).pk
        services.start_operation(operator=operator, operation_id=cut, work_center_id=laser)
        services.pause_operation(operator=operator, operation_id=cut, reason_id=floor.waiting_for_material.pk)
    entries = phone.get(f"{API}/queue/").json()["work_centers"][0]["entries"]
    assert [entry["paused"] for entry in entries] == [True] * 4
    assert count() == one


def test_reasons_name_the_machine_states_that_prompt(phone: Any) -> None:
    assert phone.get(f"{API}/reasons/").json()["prompted_states"] == ["unplanned_down", "alarm"]
