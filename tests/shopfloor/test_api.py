"""The operator app's REST API: actions with idempotency keys, refusals, replays, two devices at once,
and the contract every listed resource keeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from apps.core.testing import ResourceContract, verified_client
from apps.routings.choices import OperationStatus
from apps.routings.models import Operation
from apps.shopfloor import services
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import Attendance, IdempotentAction, LaborEntry, ProductionEvent, ScrapReason
from tests.routings.test_api import iso
from tests.routings.test_concurrency import database_for_threads, read_in_thread, run_together

from .floor import Floor, build_floor

API = "/api/v1/shopfloor"


@pytest.fixture
def floor(personas: dict[str, Any]) -> Floor:
    return build_floor(personas["production_manager"])


def post(client: Any, url: str, body: dict[str, Any] | None = None, key: str = "") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body or {}, format="json", **headers)


@pytest.fixture
def phone(client_for: Callable[[str], Any], floor: Floor) -> Any:
    client = client_for("operator")
    assert (
        post(client, f"{API}/clock-in/", {"work_centers": [floor.shop.laser_1.pk]}, "clock-in-0001").status_code == 200
    )
    return client


def test_operator_works_an_operation_over_http(phone: Any, floor: Floor) -> None:
    url = f"{API}/operations/{floor.cut.pk}"
    before = phone.get(f"{url}/").json()
    assert (before["status"], before["actions"], before["ready"]) == ("pending", ["start"], True)
    started = post(phone, f"{url}/start/", {"work_center": floor.shop.laser_1.pk}, "start-cut-1")
    assert started.status_code == 200, started.json()
    assert (started.json()["phase"], started.json()["actions"]) == (
        "setup",
        ["finish_setup", "pause", "report", "complete", "leave"],
    )
    assert post(phone, f"{url}/finish-setup/", key="setup-cut-1").json()["phase"] == "run"
    reported = post(phone, f"{url}/report/", {"good": 4, "scrap": 1, "scrap_reason": floor.bad_cut.pk}, "report-cut-1")
    assert (reported.json()["quantity_good"], reported.json()["quantity_scrap"]) == (4, 1)
    short = post(phone, f"{url}/complete/", {"good": 5}, "complete-cut-1")
    assert (short.status_code, short.json()["code"]) == (409, "short")
    done = post(phone, f"{url}/complete/", {"good": 5, "accept_short": True}, "complete-cut-2")
    assert (done.status_code, done.json()["status"], done.json()["quantity_good"]) == (200, "complete", 9)
    me = phone.get(f"{API}/me/").json()
    assert [wc["code"] for wc in me["attendance"]["work_centers"]] == [floor.shop.laser_1.code]
    assert me["labor"] == []


def test_the_same_key_twice_has_one_effect_and_replays_the_answer(phone: Any, floor: Floor) -> None:
    url = f"{API}/operations/{floor.cut.pk}/start/"
    first = post(phone, url, {"work_center": floor.shop.laser_1.pk}, "same-key-123")
    again = post(phone, url, {"work_center": floor.shop.laser_1.pk}, "same-key-123")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ProductionEvent.objects.filter(operation=floor.cut, kind=EventKind.START_SETUP).count() == 1
    # A new key for the same action is a new attempt, refused as a conflict.
    other = post(phone, url, {"work_center": floor.shop.laser_1.pk}, "other-key-456")
    assert (other.status_code, other.json()["code"]) == (409, "conflict")
    assert other.json()["detail"] == f"Cannot start {floor.cut}: it is in setup."


def test_refusals_are_replayed_too(phone: Any, floor: Floor) -> None:
    url = f"{API}/operations/{floor.cut.pk}/complete/"
    first = post(phone, url, {"good": 10}, "refused-key-1")
    assert (first.status_code, first.json()["code"]) == (409, "conflict")
    again = post(phone, url, {"good": 10}, "refused-key-1")
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (409, first.json(), "true")


def test_key_rules(phone: Any, floor: Floor, client_for: Callable[[str], Any]) -> None:
    url = f"{API}/operations/{floor.cut.pk}/start/"
    body = {"work_center": floor.shop.laser_1.pk}
    missing = post(phone, url, body)
    assert (missing.status_code, missing.json()["code"]) == (400, "idempotency_key_missing")
    bad = post(phone, url, body, "no spaces allowed")
    assert (bad.status_code, bad.json()["code"]) == (400, "idempotency_key_invalid")
    assert not ProductionEvent.objects.exists()
    post(phone, url, body, "used-for-start")
    reused = post(phone, f"{API}/operations/{floor.cut.pk}/finish-setup/", {}, "used-for-start")
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    Operation.objects.filter(pk=floor.cut.pk).update(status=OperationStatus.PENDING)
    stolen = post(client_for("supervisor"), url, body, "used-for-start")
    assert (stolen.status_code, stolen.json()["code"]) == (422, "idempotency_key_reused")


def test_malformed_bodies_are_refused_without_spending_the_key(phone: Any, floor: Floor) -> None:
    url = f"{API}/operations/{floor.cut.pk}/start/"
    bad = post(phone, url, {"work_center": "laser"}, "start-key-99")
    assert (bad.status_code, bad.json()["code"], list(bad.json()["fields"])) == (400, "invalid", ["work_center"])
    assert not IdempotentAction.objects.filter(key="start-key-99").exists()
    assert post(phone, url, {"work_center": floor.shop.laser_1.pk}, "start-key-99").status_code == 200
    assert post(phone, f"{API}/clock-in/", {"work_centers": []}, "clock-in-x1").status_code == 400
    unknown = post(phone, f"{API}/operations/999999/start/", {"work_center": floor.shop.laser_1.pk}, "start-key-x")
    assert unknown.status_code == 404


def test_outsider_and_anonymous_cannot_act(client_for: Callable[[str], Any], floor: Floor) -> None:
    from rest_framework.test import APIClient

    body = {"work_centers": [floor.shop.laser_1.pk]}
    assert post(client_for("outsider"), f"{API}/clock-in/", body, "outsider-key").status_code == 403
    assert post(APIClient(), f"{API}/clock-in/", body, "anon-key-1").status_code == 401
    assert not Attendance.objects.exists()


def test_queue_follows_the_plan_until_reality_diverges(phone: Any, floor: Floor, personas: dict[str, Any]) -> None:
    from apps.routings.services import release_job
    from tests.routings.builders import make_job, straight_part

    other = make_job(floor.shop, straight_part(floor.shop), quantity=5)
    release_job(actor=personas["production_manager"], job_id=other.pk)
    queue = phone.get(f"{API}/queue/").json()["work_centers"][0]
    # No published plan: released work is not in it, so the list is ranked by the default rule (EDD).
    assert (queue["code"], queue["diverged"], queue["rule"]) == (floor.shop.laser_1.code, True, "EDD")
    assert [entry["job"]["number"] for entry in queue["entries"]] == sorted([floor.job.number, other.number])
    spt = phone.get(f"{API}/queue/?rule=SPT").json()["work_centers"][0]
    assert [entry["job"]["number"] for entry in spt["entries"]] == [other.number, floor.job.number]


def test_downtime_prompt_asks_the_operator_at_the_machine(phone: Any, floor: Floor) -> None:
    from apps.machines.models import MachineStateInterval

    stop = MachineStateInterval.objects.create(
        work_center=floor.shop.laser_1, state="unplanned_down", started_at=datetime.now(UTC)
    )
    MachineStateInterval.objects.create(
        work_center=floor.shop.brake_1, state="unplanned_down", started_at=datetime.now(UTC)
    )
    prompts = phone.get(f"{API}/downtime-prompts/").json()
    assert [p["id"] for p in prompts] == [stop.pk]
    answered = post(
        phone, f"{API}/downtime-prompts/{stop.pk}/reason/", {"reason": floor.waiting_for_material.pk}, "reason-key-1"
    )
    assert answered.status_code == 200, answered.json()
    stop.refresh_from_db()
    assert stop.reason_id == floor.waiting_for_material.pk
    assert phone.get(f"{API}/downtime-prompts/").json() == []


def test_reasons_list(phone: Any, floor: Floor) -> None:
    reasons = phone.get(f"{API}/reasons/").json()
    assert {"id": floor.bad_cut.pk, "code": "BADCUT", "name": "Bad cut"} in reasons["scrap"]
    assert floor.waiting_for_material.pk in [r["id"] for r in reasons["downtime"]]


@pytest.mark.django_db(transaction=True)
def test_two_devices_complete_the_same_operation_at_once(role_groups: None, make_user: Any, tmp_path: Path) -> None:
    floor = build_floor(make_user("boss", "production_manager"))
    ana, ben = make_user("ana", "operator"), make_user("ben", "operator")
    for person in (ana, ben):
        services.clock_in(operator=person, work_center_ids=[floor.shop.laser_1.pk])
    services.start_operation(operator=ana, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk)
    phones = [verified_client(ana), verified_client(ben)]
    url = f"{API}/operations/{floor.cut.pk}/complete/"
    with database_for_threads(tmp_path):
        answers = run_together(
            *(
                lambda c=c, k=k: post(c, url, {"good": 10}, k).status_code
                for c, k in zip(phones, ("device-ana-1", "device-ben-1"), strict=True)
            )
        )
        state = read_in_thread(
            lambda: (
                Operation.objects.get(pk=floor.cut.pk).status,
                Operation.objects.get(pk=floor.cut.pk).quantity_good,
                ProductionEvent.objects.filter(operation_id=floor.cut.pk, kind=EventKind.COMPLETE).count(),
            )
        )
    assert sorted(answers) == [200, 409]
    assert state == (OperationStatus.COMPLETE, 10, 1)


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_runs_once(role_groups: None, make_user: Any, tmp_path: Path) -> None:
    floor = build_floor(make_user("boss", "production_manager"))
    ana = make_user("ana", "operator")
    services.clock_in(operator=ana, work_center_ids=[floor.shop.laser_1.pk])
    services.start_operation(operator=ana, operation_id=floor.cut.pk, work_center_id=floor.shop.laser_1.pk)
    phones = [verified_client(ana), verified_client(ana)]
    url = f"{API}/operations/{floor.cut.pk}/report/"

    def send(client: Any) -> tuple[int, int]:
        response = post(client, url, {"good": 3}, "one-key-twice")
        return response.status_code, response.json()["quantity_good"]

    with database_for_threads(tmp_path):
        bodies = run_together(*(lambda c=c: send(c) for c in phones))
        state = read_in_thread(
            lambda: (
                Operation.objects.get(pk=floor.cut.pk).quantity_good,
                ProductionEvent.objects.filter(kind=EventKind.REPORT).count(),
            )
        )
    assert bodies == [(200, 3), (200, 3)]
    assert state == (3, 1)


class FloorContract(ResourceContract):
    _floor: Floor | None = None

    def floor(self) -> Floor:
        if self._floor is None:
            from apps.accounts.models import User

            boss, _ = User.objects.get_or_create(username="floor-boss", defaults={"is_superuser": True})
            self._floor = build_floor(boss)
        return self._floor


class TestScrapReasonAPI(FloorContract):
    basename = "shopfloor-scrapreason"
    allowed_role = "operator"
    filter_case = ("is_active", "false")
    create_data = {"code": "DENT", "name": "Dented"}
    create_role = "production_manager"

    def make_object(self, index: int) -> ScrapReason:
        if index == 0:
            ScrapReason.objects.all().delete()  # the seeded defaults would fill the first page
        return ScrapReason.objects.create(code=f"R{index}", name=f"Reason {index}", is_active=index != 1)

    def expected(self, obj: Any) -> dict[str, Any]:
        return {"id": obj.pk, "code": obj.code, "name": obj.name, "is_active": obj.is_active}


class TestAttendanceAPI(FloorContract):
    basename = "shopfloor-attendance"
    allowed_role = "supervisor"
    filter_case = ("open", "true")

    def make_object(self, index: int) -> Attendance:
        from apps.accounts.models import User

        floor = self.floor()
        person = User.objects.create_user(username=f"op{index}")
        attendance = Attendance.objects.create(
            operator=person,
            clocked_in_at=datetime(2030, 6, 3, 6, tzinfo=UTC),
            clocked_out_at=None if index == 1 else datetime(2030, 6, 3, 14, tzinfo=UTC),
        )
        attendance.work_centers.set([floor.shop.laser_1])
        return attendance

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "operator": obj.operator_id,
            "operator_name": obj.operator.username,
            "clocked_in_at": iso(obj.clocked_in_at),
            "clocked_out_at": iso(obj.clocked_out_at),
            "work_centers": [self.floor().shop.laser_1.pk],
        }


class TestLaborEntryAPI(FloorContract):
    basename = "shopfloor-laborentry"
    allowed_role = "supervisor"
    filter_case = ("phase", "run")

    def make_object(self, index: int) -> LaborEntry:
        from apps.accounts.models import User

        floor = self.floor()
        return LaborEntry.objects.create(
            operator=User.objects.get_or_create(username="operator")[0],
            operation=floor.cut,
            work_center=floor.shop.laser_1,
            phase="run" if index == 1 else "setup",
            started_at=datetime(2030, 6, 3, 6, index, tzinfo=UTC),
            ended_at=datetime(2030, 6, 3, 7, index, tzinfo=UTC),
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "operator": obj.operator_id,
            "operator_name": "operator",
            "operation": obj.operation_id,
            "job": obj.operation.job.number,
            "work_center": obj.work_center_id,
            "phase": obj.phase,
            "started_at": iso(obj.started_at),
            "ended_at": iso(obj.ended_at),
        }


class TestProductionEventAPI(FloorContract):
    basename = "shopfloor-productionevent"
    allowed_role = "operator"
    filter_case = ("kind", "report")

    def make_object(self, index: int) -> ProductionEvent:
        from apps.accounts.models import User

        floor = self.floor()
        return ProductionEvent.objects.create(
            operation=floor.cut,
            work_center=floor.shop.laser_1,
            kind=EventKind.REPORT if index == 1 else EventKind.START_RUN,
            at=datetime(2030, 6, 3, 6, index, tzinfo=UTC),
            by=User.objects.get_or_create(username="operator")[0],
            quantity_good=index,
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "operation": obj.operation_id,
            "work_center": obj.work_center_id,
            "kind": obj.kind,
            "at": iso(obj.at),
            "by": obj.by_id,
            "quantity_good": obj.quantity_good,
            "quantity_scrap": 0,
            "scrap_reason": None,
            "pause_reason": None,
            "note": "",
        }


def test_operators_see_only_their_own_labor(
    client_for: Callable[[str], Any], floor: Floor, personas: dict[str, Any]
) -> None:
    mine = LaborEntry.objects.create(
        operator=personas["operator"],
        operation=floor.cut,
        work_center=floor.shop.laser_1,
        phase="run",
        started_at=datetime(2030, 6, 3, 6, tzinfo=UTC),
    )
    LaborEntry.objects.create(
        operator=personas["supervisor"],
        operation=floor.cut,
        work_center=floor.shop.laser_1,
        phase="run",
        started_at=datetime(2030, 6, 3, 6, tzinfo=UTC),
    )
    rows = client_for("operator").get(reverse("shopfloor-laborentry-list")).json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert len(client_for("supervisor").get(reverse("shopfloor-laborentry-list")).json()["results"]) == 2


def test_queue_queries_do_not_grow_with_the_queue(phone: Any, floor: Floor, personas: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.routings.services import release_job
    from tests.routings.builders import make_job, straight_part

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert phone.get(f"{API}/queue/").status_code == 200
        return len(queries)

    few = count()
    for _ in range(5):
        job = make_job(floor.shop, straight_part(floor.shop), quantity=3)
        release_job(actor=personas["production_manager"], job_id=job.pk)
    assert len(phone.get(f"{API}/queue/").json()["work_centers"][0]["entries"]) == 6
    assert count() == few
