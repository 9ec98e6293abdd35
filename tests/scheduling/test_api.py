"""Schedules and slots pass the API contract; plan, publish and move call the services; GraphQL
reads schedules and slots and runs the three mutations."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from apps.core.testing import ActionCase, ResourceContract, graphql
from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.models import Schedule, ScheduleSlot
from tests.scheduling.schedule_rows import Tiny, build_tiny, local, operation, slot

SERIAL = itertools.count(1)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def make_schedule(index: int) -> Schedule:
    return Schedule.objects.create(
        name=f"Plan {next(SERIAL)}",
        status=ScheduleStatus.PUBLISHED if index == 1 else ScheduleStatus.READY,
        horizon_start=local("2030-06-03 06:00"),
        horizon_end=local("2030-06-17 06:00"),
        kpis={"late_jobs": index, "utilisation": {"laser-1": 0.5}},
        rule_kpis={"EDD": {"late_jobs": 3}, "SPT": None},
    )


class TestScheduleAPI(ResourceContract):
    basename = "scheduling-schedule"
    allowed_role = "operator"
    graphql_list = "schedules"
    graphql_fields = "id name status kpis ruleKpis"
    filter_case = ("status", "published")
    actions = (
        ActionCase("publish", allowed_role="production_manager", denied_role="planner", state=lambda obj: obj.status),
    )

    def make_object(self, index: int) -> Schedule:
        return make_schedule(index)

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "name": obj.name,
            "status": obj.status,
            "objective": "lexicographic",
            "horizon_start": "2030-06-03T11:00:00Z",
            "horizon_end": "2030-06-17T11:00:00Z",
            "time_limit_seconds": 60,
            "workers": 2,
            "allow_break_straddle": True,
            "based_on": None,
            "start": "",
            "based_on_kpis": {},
            "run": None,
            "created_by": None,
            "created_at": iso(obj.created_at),
            "solver_status": "",
            "objective_value": None,
            "best_bound": None,
            "gap": None,
            "kpis": obj.kpis,
            "rule_kpis": {"EDD": {"late_jobs": 3}, "SPT": None},
            "published_at": None,
            "published_by": None,
        }


class TestScheduleSlotAPI(ResourceContract):
    basename = "scheduling-slot"
    allowed_role = "operator"
    filter_case = ("work_center_code", "laser-2")
    _tiny: Tiny | None = None

    @property
    def tiny(self) -> Tiny:
        if self._tiny is None:
            self._tiny = build_tiny()
        return self._tiny

    def make_object(self, index: int) -> ScheduleSlot:
        tiny = self.tiny
        op = operation(tiny.jobs["J-1"], 100 + index, f"EXTRA{index}", tiny.shop.laser, "0", "1")
        wc = tiny.laser_2 if index == 1 else tiny.shop.laser_1
        day = f"2030-06-{5 + index:02d}"
        return slot(tiny.schedule, op, wc, f"{day} 06:00", f"{day} 06:05", f"{day} 07:00", setup=5)

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "schedule": obj.schedule_id,
            "operation": obj.operation_id,
            "job": obj.operation.job_id,
            "job_number": "J-1",
            "work_center": obj.work_center_id,
            "work_center_code": obj.work_center.code,
            "setup_start": iso(obj.setup_start),
            "start": iso(obj.start),
            "end": iso(obj.end),
            "setup_minutes": 5,
            "is_frozen": False,
        }


@pytest.fixture
def tiny(db: Any) -> Tiny:
    return build_tiny()


def test_slots_filter_by_schedule_and_job(tiny: Tiny, client_for: Any) -> None:
    other = make_schedule(0)
    client = client_for("operator")
    rows = client.get("/api/v1/scheduling/slots/", {"schedule": tiny.schedule.pk, "job": tiny.jobs["J-1"].pk}).json()
    assert sorted(row["job_number"] + "/" + row["work_center_code"] for row in rows["results"]) == [
        "J-1/brake-1",
        "J-1/laser-1",
        "J-1/weld-1",
    ]
    assert client.get("/api/v1/scheduling/slots/", {"schedule": other.pk}).json()["count"] == 0


def test_move_answers_409_with_the_conflicts_and_saves_nothing(tiny: Tiny, client_for: Any) -> None:
    moving = tiny.slots["J-2/10"]
    url = f"/api/v1/scheduling/slots/{moving.pk}/move/"
    body = {"work_center": tiny.shop.brake_1.pk, "start": "2030-06-03T11:30:00Z"}  # 06:30 plant time
    assert client_for("planner").post(url, body, format="json").status_code == 409  # planners may edit too
    assert client_for("operator").post(url, body, format="json").status_code == 403
    refused = client_for("supervisor").post(url, body, format="json")
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "The move was refused; nothing changed.",
        "code": "conflict",
        "conflicts": [
            {"kind": "ineligible", "message": "brake-1 is a Press brake 135 t; J-2/10 CUT needs a Fiber laser 3 kW."},
            {"kind": "overlap", "message": "Overlaps J-1/20 BEND on brake-1 (2030-06-03 06:30–2030-06-03 07:00)."},
        ],
    }
    assert ScheduleSlot.objects.get(pk=moving.pk).work_center_id == tiny.shop.laser_1.pk
    done = client_for("supervisor").post(
        url, {"work_center": tiny.laser_2.pk, "start": "2030-06-03T17:00:00Z"}, format="json"
    )
    assert done.status_code == 200, done.content
    assert (done.json()["work_center_code"], done.json()["start"], done.json()["end"]) == (
        "laser-2",
        "2030-06-03T17:05:00Z",
        "2030-06-03T17:17:00Z",
    )


def test_plan_action_starts_a_run(db: Any, client_for: Any) -> None:
    url = "/api/v1/scheduling/schedules/plan/"
    assert client_for("supervisor").post(url, {"horizon_days": 7}, format="json").status_code == 403
    assert Schedule.objects.count() == 0
    assert client_for("planner").post(url, {"horizon_days": 0}, format="json").status_code == 400
    response = client_for("planner").post(url, {"horizon_days": 7, "time_limit_seconds": 2}, format="json")
    assert response.status_code == 202, response.content
    schedule = Schedule.objects.get()
    assert (response.json()["id"], response.json()["status"], schedule.time_limit_seconds) == (
        schedule.pk,
        "planning",
        2,
    )
    assert schedule.run is not None and response.json()["run"] == schedule.run.pk
    assert schedule.based_on is None  # nothing is published to start from


def test_a_run_starts_from_the_published_schedule_unless_told_not_to(tiny: Tiny, client_for: Any) -> None:
    Schedule.objects.filter(pk=tiny.schedule.pk).update(status="published")
    url = "/api/v1/scheduling/schedules/plan/"
    replan = client_for("planner").post(url, {"horizon_days": 7}, format="json")
    fresh = client_for("planner").post(url, {"horizon_days": 7, "start_from_published": False}, format="json")
    assert (replan.status_code, fresh.status_code) == (202, 202)
    assert (replan.json()["based_on"], fresh.json()["based_on"]) == (tiny.schedule.pk, None)


def test_graphql_reads_slots_of_a_schedule_and_work_center(tiny: Tiny, client_for: Any) -> None:
    result = graphql(
        client_for("operator"),
        "query($s: ID!, $w: ID) { scheduleSlots(scheduleId: $s, workCenter: $w) "
        "{ id start operation { operationCode } workCenter { code } } schedule(id: $s) { name kpis } }",
        {"s": tiny.schedule.pk, "w": tiny.shop.laser_1.pk},
    )
    assert "errors" not in result, result
    assert [
        (row["operation"]["operationCode"], row["workCenter"]["code"]) for row in result["data"]["scheduleSlots"]
    ] == [
        ("CUT", "laser-1"),
        ("CUT", "laser-1"),
        ("CUT", "laser-1"),
    ]
    assert result["data"]["schedule"]["name"] == "Tiny plan"
    assert result["data"]["schedule"]["kpis"]["late_jobs"] == 1


def test_graphql_move_answers_conflicts_then_moves(tiny: Tiny, client_for: Any) -> None:
    mutation = (
        "mutation($id: ID!, $w: ID!, $t: DateTime!) { moveScheduleSlot(id: $id, workCenter: $w, start: $t) "
        "{ slot { id start } conflicts { kind message } } }"
    )
    moving = tiny.slots["J-2/10"]
    client = client_for("supervisor")
    refused = graphql(client, mutation, {"id": moving.pk, "w": tiny.shop.laser_1.pk, "t": "2030-06-03T10:00:00+00:00"})
    assert refused["data"]["moveScheduleSlot"] == {
        "slot": None,
        "conflicts": [{"kind": "outside_working_time", "message": "laser-1 does not work at 2030-06-03 05:00."}],
    }
    done = graphql(client, mutation, {"id": moving.pk, "w": tiny.laser_2.pk, "t": "2030-06-03T17:00:00+00:00"})
    assert done["data"]["moveScheduleSlot"]["conflicts"] == []
    assert ScheduleSlot.objects.get(pk=moving.pk).work_center_id == tiny.laser_2.pk


def test_graphql_publish_and_plan(tiny: Tiny, client_for: Any) -> None:
    published = graphql(
        client_for("production_manager"),
        "mutation($id: ID!) { publishSchedule(id: $id) { schedule { status } } }",
        {"id": tiny.schedule.pk},
    )
    assert published["data"]["publishSchedule"]["schedule"]["status"] == "published"
    started = graphql(
        client_for("planner"),
        'mutation { startPlanningRun(horizonDays: 3, objective: "makespan", timeLimitSeconds: 1) '
        "{ schedule { status objective basedOn { id } } } }",
    )
    assert started["data"]["startPlanningRun"]["schedule"] == {
        "status": "planning",
        "objective": "makespan",
        "basedOn": {"id": str(tiny.schedule.pk)},
    }
    assert Schedule.objects.filter(status="planning").count() == 1
