"""Scheduling pages per role, the planning run, publishing and moves from the pages, and the exact
figures the load and late-job pages show for the tiny shop."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from apps.core.testing import verified_client
from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.models import Schedule, ScheduleSlot
from apps.scheduling.selectors import ChainStep, LoadCell, late_jobs, load_by_period
from tests.scheduling.schedule_rows import MONDAY, Tiny, build_tiny, local, operation, slot

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny() -> Tiny:
    return build_tiny()


def page(personas: dict[str, Any], role: str) -> Client:
    return verified_client(personas[role], Client)


def pages_of(schedule: Schedule) -> list[str]:
    return [
        "/scheduling/schedules/",
        f"/scheduling/schedules/{schedule.pk}/",
        "/scheduling/gantt/",
        f"/scheduling/schedules/{schedule.pk}/gantt/?view=job&zoom=day&start=2030-06-03",
        "/scheduling/load/?period=week",
        f"/scheduling/schedules/{schedule.pk}/load/",
        "/scheduling/late-jobs/",
        f"/scheduling/schedules/{schedule.pk}/late-jobs/",
    ]


def test_every_role_reads_the_pages_and_an_outsider_is_refused(tiny: Tiny, personas: dict[str, Any]) -> None:
    for role in ("operator", "planner", "production_manager"):
        client = page(personas, role)
        for url in pages_of(tiny.schedule):
            assert client.get(url).status_code == 200, (role, url)
    outsider = page(personas, "outsider")
    for url in pages_of(tiny.schedule):
        assert outsider.get(url).status_code == 403, url
    assert Client().get("/scheduling/gantt/").status_code == 302


def test_pages_without_any_schedule_say_so(db: Any, personas: dict[str, Any]) -> None:
    body = page(personas, "operator").get("/scheduling/gantt/").content.decode()
    assert "No schedule to show: nothing is published and no planning run is ready yet." in body


def test_default_schedule_is_the_published_one_else_the_newest_ready(tiny: Tiny, personas: dict[str, Any]) -> None:
    client = page(personas, "operator")
    newer = Schedule.objects.create(
        name="Newer plan",
        status="ready",
        horizon_start=tiny.schedule.horizon_start,
        horizon_end=tiny.schedule.horizon_end,
    )
    assert "Newer plan" in client.get("/scheduling/load/").content.decode()
    tiny.schedule.status = ScheduleStatus.PUBLISHED
    tiny.schedule.save()
    body = client.get("/scheduling/load/").content.decode()
    assert "Tiny plan" in body and "Newer plan" not in body
    assert "Newer plan" in client.get(f"/scheduling/schedules/{newer.pk}/load/").content.decode()


def test_detail_compares_the_plan_with_each_rule(tiny: Tiny, personas: dict[str, Any]) -> None:
    body = page(personas, "production_manager").get(f"/scheduling/schedules/{tiny.schedule.pk}/").content.decode()
    assert "Optimised plan" in body and ">EDD</th>" in body and ">SPT</th>" in body
    assert "The rule found no schedule." in body
    assert '<td class="num">1260</td>' in body and '<td class="num">2000</td>' in body
    assert "37.5 %" in body  # mean utilisation of (0.5 + 0.25) / 2
    assert f'action="/scheduling/schedules/{tiny.schedule.pk}/publish/"' in body
    assert (
        "publish/" not in page(personas, "planner").get(f"/scheduling/schedules/{tiny.schedule.pk}/").content.decode()
    )


def test_planner_starts_a_run_and_its_progress_is_polled(db: Any, personas: dict[str, Any]) -> None:
    denied = page(personas, "supervisor").post("/scheduling/schedules/plan/", {"horizon_days": 7})
    assert denied.status_code == 403
    assert Schedule.objects.count() == 0
    client = page(personas, "planner")
    response = client.post(
        "/scheduling/schedules/plan/",
        {"name": "Week 23", "horizon_days": 7, "objective": "tardiness", "time_limit_seconds": 2, "workers": 1},
    )
    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/scheduling/schedules/{schedule.pk}/"
    assert (schedule.name, schedule.status, schedule.objective, schedule.time_limit_seconds, schedule.workers) == (
        "Week 23",
        "planning",
        "tardiness",
        2,
        1,
    )
    assert schedule.allow_break_straddle is False  # an unticked box
    body = client.get(response["Location"]).content.decode()
    assert f'hx-get="/scheduling/schedules/{schedule.pk}/" hx-trigger="every 2s"' in body
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('\n<div id="schedule-run"') and "<html" not in partial
    bad = client.post("/scheduling/schedules/plan/", {"horizon_days": 0})
    assert bad.status_code == 302 and Schedule.objects.count() == 1
    assert "Horizon (days)" in str(list(get_messages(bad.wsgi_request))[0])


def test_production_manager_publishes(tiny: Tiny, personas: dict[str, Any]) -> None:
    url = f"/scheduling/schedules/{tiny.schedule.pk}/publish/"
    assert page(personas, "planner").post(url).status_code == 403
    assert Schedule.objects.get(pk=tiny.schedule.pk).status == "ready"
    assert page(personas, "production_manager").post(url).status_code == 302
    assert Schedule.objects.get(pk=tiny.schedule.pk).status == "published"


def test_move_from_the_gantt_shows_conflicts_and_saves_a_valid_move(tiny: Tiny, personas: dict[str, Any]) -> None:
    moving = tiny.slots["J-2/10"]
    gantt_url = f"/scheduling/schedules/{tiny.schedule.pk}/gantt/?view=work_center&zoom=day&start=2030-06-03"
    operator_body = page(personas, "operator").get(gantt_url).content.decode()
    assert "Move a slot" not in operator_body
    client = page(personas, "supervisor")
    body = client.get(f"{gantt_url}&slot={moving.pk}").content.decode()
    assert "Slot of J-2/10 CUT" in body and 'value="2030-06-03T07:00"' in body
    assert f'href="/scheduling/schedules/{tiny.schedule.pk}/gantt/?view=work_center&amp;zoom=day' in body
    refused = client.post(
        "/scheduling/gantt/move/",
        {"slot": moving.pk, "work_center": tiny.shop.laser_1.pk, "start": "2030-06-03T06:10", "next": gantt_url},
        follow=True,
    )
    text = refused.content.decode()
    assert "Overlaps J-1/10 CUT on laser-1 (2030-06-03 06:00–2030-06-03 06:20)." in text
    assert "Nothing was moved." in text
    assert ScheduleSlot.objects.get(pk=moving.pk).start == local("2030-06-03 07:05")
    done = client.post(
        "/scheduling/gantt/move/",
        {"slot": moving.pk, "work_center": tiny.laser_2.pk, "start": "2030-06-03T12:00", "next": gantt_url},
    )
    assert done.status_code == 302 and done["Location"] == gantt_url
    fresh = ScheduleSlot.objects.get(pk=moving.pk)
    assert (fresh.work_center_id, fresh.start, fresh.end) == (
        tiny.laser_2.pk,
        local("2030-06-03 12:05"),
        local("2030-06-03 12:17"),
    )
    assert page(personas, "operator").post("/scheduling/gantt/move/", {"slot": moving.pk}).status_code == 403


def test_load_against_capacity_per_day_and_week(tiny: Tiny) -> None:
    extra = operation(tiny.jobs["J-2"], 20, "CUT2", tiny.shop.laser, "0", "7.5")
    # Saturday has no working time: a slot there (the calendar changed after planning) overloads.
    slot(tiny.schedule, extra, tiny.laser_2, "2030-06-08 08:00", "2030-06-08 08:00", "2030-06-08 09:00")
    daily = {row.code: row.cells for row in load_by_period(tiny.schedule, start_day=MONDAY, periods=6, weekly=False)}
    assert list(daily) == ["laser-1", "laser-2", "brake-1", "punch-1", "weld-1"]
    assert daily["laser-1"][:3] == (
        LoadCell(date(2030, 6, 3), 39, 480),
        LoadCell(date(2030, 6, 4), 19, 480),
        LoadCell(date(2030, 6, 5), 0, 480),
    )
    assert daily["laser-2"][5] == LoadCell(date(2030, 6, 8), 60, 0)
    assert daily["laser-2"][5].overloaded and not daily["laser-1"][0].overloaded
    assert (daily["brake-1"][0].load_minutes, daily["weld-1"][0].load_minutes) == (30, 46)
    weekly = {row.code: row.cells for row in load_by_period(tiny.schedule, start_day=MONDAY, periods=2, weekly=True)}
    assert weekly["laser-1"] == (LoadCell(date(2030, 6, 3), 58, 2400), LoadCell(date(2030, 6, 10), 0, 2400))
    assert weekly["laser-2"][0] == LoadCell(date(2030, 6, 3), 60, 2400)


def test_load_counts_only_working_time_of_slots_paused_over_a_break_or_a_night(tiny: Tiny) -> None:
    extra = operation(tiny.jobs["J-2"], 20, "CUT2", tiny.shop.laser, "0", "2.5")
    slot(tiny.schedule, extra, tiny.laser_2, "2030-06-05 09:50", "2030-06-05 09:50", "2030-06-05 10:40")
    over_night = operation(tiny.jobs["J-2"], 30, "CUT3", tiny.shop.laser, "0", "7.5")
    slot(tiny.schedule, over_night, tiny.laser_2, "2030-06-05 14:00", "2030-06-05 14:00", "2030-06-06 06:30")
    daily = {row.code: row.cells for row in load_by_period(tiny.schedule, start_day=MONDAY, periods=4, weekly=False)}
    assert daily["laser-2"][2:] == (LoadCell(date(2030, 6, 5), 50, 480), LoadCell(date(2030, 6, 6), 30, 480))


def test_late_job_explained_with_its_chain_and_recovery(tiny: Tiny, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(9):
        explained = late_jobs(tiny.schedule)
    assert [late.number for late in explained] == ["J-3"]
    late = explained[0]
    assert (late.due_date, late.finish, late.minutes_late, late.bottleneck) == (
        MONDAY,
        local("2030-06-04 07:00"),
        420,
        "laser-1",
    )
    assert late.chain == (
        ChainStep(
            operation_id=tiny.ops["J-3/10"].pk,
            label="J-3/10 CUT",
            work_center="laser-1",
            setup_start=local("2030-06-04 06:00"),
            end=local("2030-06-04 06:19"),
            ready=local("2030-06-03 06:00"),
            wait_minutes=1440,
            queue=("J-1/10 CUT", "J-2/10 CUT"),
        ),
        ChainStep(
            operation_id=tiny.ops["J-3/20"].pk,
            label="J-3/20 BEND",
            work_center="brake-1",
            setup_start=local("2030-06-04 06:30"),
            end=local("2030-06-04 07:00"),
            ready=local("2030-06-04 06:19"),
            wait_minutes=11,
            queue=(),
        ),
    )
    recovery = late.recovery
    assert (recovery.overtime_minutes, recovery.overtime_hours, recovery.overtime_work_center) == (
        420,
        Decimal("7.0"),
        "laser-1",
    )
    assert (recovery.alternative_work_center, recovery.alternative_start, recovery.alternative_gain_minutes) == (
        "laser-2",
        local("2030-06-03 06:00"),
        1440,
    )


def test_alternative_machine_must_have_a_free_gap(tiny: Tiny, personas: dict[str, Any]) -> None:
    # Fill laser-2 on Monday 06:00–14:30: its first gap of 16 working minutes is Tuesday 06:00,
    # no earlier than where the cut already starts, so only overtime is offered.
    extra = operation(tiny.jobs["J-2"], 20, "CUT2", tiny.shop.laser, "0", "1")
    slot(tiny.schedule, extra, tiny.laser_2, "2030-06-03 06:00", "2030-06-03 06:00", "2030-06-03 14:30")
    extra_2 = operation(tiny.jobs["J-1"], 40, "CUT3", tiny.shop.laser, "0", "1")
    slot(tiny.schedule, extra_2, tiny.laser_2, "2030-06-04 06:00", "2030-06-04 06:00", "2030-06-04 06:10")
    late = late_jobs(tiny.schedule)[0]
    assert (late.recovery.alternative_work_center, late.recovery.alternative_start) == ("", None)
    body = page(personas, "operator").get(f"/scheduling/schedules/{tiny.schedule.pk}/late-jobs/").content.decode()
    assert "7.0 h of overtime on laser-1, where it waited longest" in body
    assert "Or move it to" not in body


def test_late_jobs_page_shows_the_explanation(tiny: Tiny, personas: dict[str, Any]) -> None:
    body = page(personas, "operator").get(f"/scheduling/schedules/{tiny.schedule.pk}/late-jobs/").content.decode()
    assert "due Mon 2030-06-03, ends Tue 2030-06-04 07:00: 420 min late" in body
    assert "<td>J-1/10 CUT, J-2/10 CUT</td>" in body
    assert "Or move it to laser-2, free from Mon 03.06 06:00 (1440 min earlier)." in body
