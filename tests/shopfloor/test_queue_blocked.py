"""Steps that cannot start yet: the operator app is told which earlier step each one waits for, offers no
Start for it, and learns of it without more queries per row of a machine's queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.routings.choices import OperationStatus
from apps.routings.models import Operation
from apps.routings.services import release_job
from apps.shopfloor import services
from tests.routings.builders import diamond_part, make_job, straight_part

from .floor import Floor, build_floor
from .test_api import API, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(personas: dict[str, Any]) -> Floor:
    return build_floor(personas["production_manager"])


def clock_in(client: Any, *machines: Any) -> None:
    answer = post(client, f"{API}/clock-in/", {"work_centers": [wc.pk for wc in machines]}, "clock-in-blocked")
    assert answer.status_code == 200, answer.json()


def entries(client: Any, machine: Any) -> list[dict[str, Any]]:
    [queue] = [wc for wc in client.get(f"{API}/queue/").json()["work_centers"] if wc["id"] == machine.pk]
    return list(queue["entries"])


def waits(step: Operation) -> dict[str, Any]:
    return {"id": step.pk, "job": step.job.number, "sequence": step.sequence, "operation_code": step.operation_code}


def test_a_step_whose_predecessor_has_not_started_names_it_and_cannot_be_started(
    client_for: Callable[[str], Any], floor: Floor, personas: dict[str, Any]
) -> None:
    phone = client_for("operator")
    clock_in(phone, floor.shop.laser_1, floor.shop.brake_1)

    [bend] = entries(phone, floor.shop.brake_1)
    assert (bend["id"], bend["status"], bend["ready"]) == (floor.bend.pk, "pending", False)
    assert bend["waiting_for"] == [waits(floor.cut)]
    assert bend["actions"] == []
    [cut] = entries(phone, floor.shop.laser_1)
    assert (cut["id"], cut["waiting_for"], cut["actions"]) == (floor.cut.pk, [], ["start"])

    refused = post(phone, f"{API}/operations/{floor.bend.pk}/start/", {"work_center": floor.shop.brake_1.pk}, "bend-1")
    assert refused.status_code == 400
    assert Operation.objects.get(pk=floor.bend.pk).status == OperationStatus.PENDING

    services.start_operation(
        operator=personas["operator"], operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk
    )
    [after] = entries(phone, floor.shop.brake_1)
    assert (after["ready"], after["waiting_for"], after["actions"]) == (True, [], ["start"])


def test_a_step_after_two_names_only_those_not_started(
    client_for: Callable[[str], Any], floor: Floor, personas: dict[str, Any]
) -> None:
    job = make_job(floor.shop, diamond_part(floor.shop), quantity=2, number="J-7001")
    release_job(actor=personas["production_manager"], job_id=job.pk)
    steps = {op.sequence: op for op in Operation.objects.filter(job=job).select_related("job")}
    phone = client_for("operator")
    clock_in(phone, floor.shop.laser_1, floor.shop.punch_1)
    services.start_operation(
        operator=personas["operator"], operation_id=steps[10].pk, work_center_id=floor.shop.laser_1.pk
    )

    read = phone.get(f"{API}/jobs/{job.pk}/").json()["operations"]
    assert [(op["sequence"], op["waiting_for"]) for op in read] == [
        (10, []),
        (20, []),
        (30, []),
        (40, [waits(steps[20]), waits(steps[30])]),
    ]

    services.start_operation(
        operator=personas["operator"], operation_id=steps[30].pk, work_center_id=floor.shop.punch_1.pk
    )
    weld = phone.get(f"{API}/operations/{steps[40].pk}/").json()
    assert (weld["ready"], weld["waiting_for"], weld["actions"]) == (False, [waits(steps[20])], [])
    # Only a step it waits for changed, yet its copy is newer: the app keeps it over the one read before.
    assert weld["version"] > read[3]["version"]


def test_blocked_steps_add_no_queries_to_the_queue(
    client_for: Callable[[str], Any], floor: Floor, personas: dict[str, Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    phone = client_for("operator")
    clock_in(phone, floor.shop.brake_1)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert phone.get(f"{API}/queue/").status_code == 200
        return len(queries)

    few = count()
    for _ in range(5):
        job = make_job(floor.shop, straight_part(floor.shop), quantity=3)
        release_job(actor=personas["production_manager"], job_id=job.pk)
    blocked = entries(phone, floor.shop.brake_1)
    assert len(blocked) == 6
    assert all(len(entry["waiting_for"]) == 1 for entry in blocked)
    assert count() == few
