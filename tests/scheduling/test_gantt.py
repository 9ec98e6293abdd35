"""The Gantt SVG: exact bar positions for known times, escaped text, and the rows the selector
builds from a schedule (tones, non-working time), in a constant number of queries."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.machines.models import Department, Shift, ShiftCalendar, WorkCenter, WorkCenterType
from apps.routings.choices import OperationStatus
from apps.routings.models import Customer, Job, Operation, Part
from apps.scheduling import gantt
from apps.scheduling.models import Schedule, ScheduleSlot
from apps.scheduling.selectors import GanttView, Zoom, gantt_chart
from tests.routings.builders import day_shift_plant_calendar, make_job, make_part
from tests.scheduling.schedule_rows import MONDAY, TZ, build_tiny, local, operation

MONDAY_0 = local("2030-06-03 00:00")
MONDAY_6 = local("2030-06-03 06:00")


def chart(*rows: gantt.Row, hourly: bool = True) -> gantt.Chart:
    start, end = gantt.window(MONDAY, 1 if hourly else 14, TZ)
    return gantt.Chart(start=start, end=end, rows=rows, tz=TZ, hourly=hourly)


def test_bars_sit_at_the_times_they_stand_for() -> None:
    bar = gantt.Bar(
        slot_id=7,
        label="J-1",
        title="J-1/10 CUT",
        setup_start=local("2030-06-03 06:00"),
        start=local("2030-06-03 06:15"),
        end=local("2030-06-03 07:00"),
        tone=gantt.Tone.LATE,
        job_status="released",
    )
    svg = gantt.render_svg(chart(gantt.Row(label="laser-1", bars=(bar,))))
    # Day zoom: 70 px an hour after the 160 px label column; row 0's bar top at 40 + 2, 14 px high.
    assert (
        '<g class="gantt-bar tone-late job-released" data-slot="7"><title>J-1/10 CUT</title>'
        '<rect class="gantt-setup" x="580.0" y="42" width="17.5" height="14"/>'
        '<rect class="gantt-run" x="597.5" y="42" width="52.5" height="14"/>'
        '<text class="gantt-bar-label" x="583.0" y="53">J-1</text></g>'
    ) in svg
    assert 'viewBox="0 0 1840 66"' in svg


def test_two_week_zoom_is_120_px_a_day_and_frozen_bars_are_hatched() -> None:
    bar = gantt.Bar(
        slot_id=1,
        label="J-9",
        title="t",
        setup_start=local("2030-06-04 00:00"),
        start=local("2030-06-04 00:00"),
        end=local("2030-06-04 12:00"),
        tone=gantt.Tone.FROZEN,
    )
    svg = gantt.render_svg(chart(gantt.Row(label="x", bars=(bar,)), hourly=False))
    assert '<rect class="gantt-run" x="280.0" y="42" width="60.0" height="14" fill="url(#gantt-hatch)"/>' in svg
    assert svg.count('class="gantt-day"') == 13  # midnights inside the two weeks
    assert ">Tue 04.06</text>" in svg


def test_text_is_escaped() -> None:
    bar = gantt.Bar(
        slot_id=1,
        label="<b>&",
        title='"><script>alert(1)</script>',
        setup_start=local("2030-06-03 06:00"),
        start=local("2030-06-03 06:00"),
        end=local("2030-06-03 09:00"),
        tone=gantt.Tone.ON_TIME,
        href="/x?a=1&b=2",
    )
    svg = gantt.render_svg(chart(gantt.Row(label="<laser>", title="a&b", bars=(bar,))))
    assert "<script>" not in svg and "<b>" not in svg and "<laser>" not in svg
    assert "&lt;b&gt;&amp;" in svg
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&lt;laser&gt;" in svg
    assert '<a href="/x?a=1&amp;b=2">' in svg


def actual(operation_id: int, start: str, end: str, state: gantt.FloorState, paused: str = "") -> gantt.Actual:
    return gantt.Actual(
        operation_id=operation_id,
        title=f"op {operation_id}",
        start=local(start),
        end=local(end),
        state=state,
        paused_since=local(paused) if paused else None,
    )


def test_what_the_floor_did_is_a_strip_under_the_plan_up_to_a_now_line() -> None:
    done = actual(1, "2030-06-03 06:00", "2030-06-03 07:00", gantt.FloorState.COMPLETE)
    running = actual(2, "2030-06-03 08:00", "2030-06-03 09:30", gantt.FloorState.RUNNING)
    paused = actual(3, "2030-06-03 07:00", "2030-06-03 09:30", gantt.FloorState.PAUSED, paused="2030-06-03 08:00")
    just_started = actual(4, "2030-06-03 09:30", "2030-06-03 09:30", gantt.FloorState.RUNNING)
    yesterday = actual(5, "2030-06-02 06:00", "2030-06-02 07:00", gantt.FloorState.COMPLETE)
    laser = gantt.Row(label="laser-1", bars=(), actuals=(done, running, yesterday), off=((MONDAY_0, MONDAY_6),))
    brake = gantt.Row(label="brake-1", bars=(), actuals=(paused, just_started))
    drawn = chart(laser, brake)
    svg = gantt.render_svg(
        gantt.Chart(
            start=drawn.start,
            end=drawn.end,
            rows=drawn.rows,
            tz=TZ,
            hourly=True,
            labels={"now": "Now: <09:30>"},
            now=local("2030-06-03 09:30"),
        )
    )
    # Row 0's strip from 40 + 17, 4 px high, under the 14 px planned bar at 40 + 2; row 1's 22 px lower.
    assert (
        '<g class="gantt-actual actual-complete" data-operation="1"><title>op 1</title>'
        '<rect class="gantt-actual-worked" x="580.0" y="57" width="70.0" height="4"/></g>'
    ) in svg
    # Running: it reaches now (09:30 is 160 + 9.5 × 70 = 825) and ends in an arrowhead there.
    assert (
        '<g class="gantt-actual actual-running" data-operation="2"><title>op 2</title>'
        '<rect class="gantt-actual-worked" x="720.0" y="57" width="105.0" height="4"/>'
        '<path class="gantt-actual-tip" d="M825.0 56l4 3l-4 3z"/></g>'
    ) in svg
    # Paused: worked 07:00–08:00, hatched from the pause to now.
    assert (
        '<g class="gantt-actual actual-paused" data-operation="3"><title>op 3</title>'
        '<rect class="gantt-actual-worked" x="650.0" y="79" width="70.0" height="4"/>'
        '<rect class="gantt-actual-stopped" x="720.0" y="79" width="105.0" height="4" fill="url(#gantt-stopped)"/></g>'
    ) in svg
    # Started this minute: still 2 px wide.
    assert '<rect class="gantt-actual-worked" x="825.0" y="79" width="2.0" height="4"/>' in svg
    assert 'data-operation="5"' not in svg  # the day before the chart
    assert (
        '<g class="gantt-now"><title>Now: &lt;09:30&gt;</title><line x1="825.0" y1="34" x2="825.0" y2="88"/>'
        '<path d="M821.0 32h8l-4 6z"/></g>'
    ) in svg
    # Drawn over the faded non-working time, and the now line over everything.
    assert svg.rindex('class="gantt-paused"') < svg.index('class="gantt-actual ') < svg.index('class="gantt-now"')


def test_no_now_line_outside_the_chart_and_a_running_strip_cut_at_the_edge_has_no_tip() -> None:
    running = actual(2, "2030-06-03 22:00", "2030-06-04 01:00", gantt.FloorState.RUNNING)
    drawn = chart(gantt.Row(label="laser-1", bars=(), actuals=(running,)))
    svg = gantt.render_svg(
        gantt.Chart(
            start=drawn.start, end=drawn.end, rows=drawn.rows, tz=TZ, hourly=True, now=local("2030-06-04 01:00")
        )
    )
    assert 'class="gantt-now"' not in svg
    assert '<rect class="gantt-actual-worked" x="1700.0" y="57" width="140.0" height="4"/></g>' in svg
    assert "gantt-actual-tip" not in svg


@pytest.mark.django_db
def test_rows_by_work_center_carry_tones_and_non_working_time() -> None:
    tiny = build_tiny()
    built = gantt_chart(tiny.schedule, view=GanttView.WORK_CENTER, zoom=Zoom.DAY, start_day=MONDAY)
    rows = {row.label: row for row in built.rows}
    assert list(rows) == ["laser-1", "laser-2", "brake-1", "punch-1", "weld-1"]  # laser-3 is out of service
    assert [(bar.label, bar.tone) for bar in rows["laser-1"].bars] == [
        ("J-1", gantt.Tone.ON_TIME),  # due Friday
        ("J-2", gantt.Tone.AT_RISK),  # ends Monday 07:19, due by the end of Monday
    ]
    assert rows["laser-1"].off == (
        (local("2030-06-03 00:00"), local("2030-06-03 06:00")),
        (local("2030-06-03 10:00"), local("2030-06-03 10:30")),
        (local("2030-06-03 14:30"), local("2030-06-04 00:00")),
    )
    tuesday = gantt_chart(tiny.schedule, view=GanttView.JOB, zoom=Zoom.DAY, start_day=date(2030, 6, 4))
    assert [(row.label, [(bar.title.split(" on ")[0], bar.tone) for bar in row.bars]) for row in tuesday.rows] == [
        ("J-3", [("J-3/10 CUT", gantt.Tone.LATE), ("J-3/20 BEND", gantt.Tone.LATE)])
    ]


def floor_did(op: Operation, **fields: Any) -> None:
    Operation.objects.filter(pk=op.pk).update(**fields)


@pytest.mark.django_db
def test_each_started_operation_shows_on_the_machine_it_ran_on_and_on_its_job() -> None:
    tiny = build_tiny()
    shop = tiny.shop
    # brake-1 works a second shift only: the plant works 06:00–23:00 but for the 10:00 break.
    second = ShiftCalendar.objects.create(name="Second shift")
    Shift.objects.bulk_create(
        Shift(calendar=second, name="2nd", weekday=day, start=time(14, 30), end=time(23)) for day in range(5)
    )
    WorkCenter.objects.filter(pk=shop.brake_1.pk).update(calendar=second)
    complete, running = OperationStatus.COMPLETE, OperationStatus.IN_PROGRESS
    # J-1/10 was planned on laser-1 and ran on laser-2.
    floor_did(
        tiny.ops["J-1/10"],
        status=complete,
        work_center=tiny.laser_2,
        actual_start=local("2030-06-03 06:05"),
        actual_end=local("2030-06-03 06:30"),
        quantity_good=8,
    )
    floor_did(
        tiny.ops["J-1/20"],
        status=running,
        work_center=shop.brake_1,
        actual_start=local("2030-06-03 06:40"),
        quantity_good=3,
    )
    # Started from the office, on no machine: drawn where it was planned.
    floor_did(tiny.ops["J-1/30"], status=running, actual_start=local("2030-06-03 07:15"))
    floor_did(
        tiny.ops["J-2/10"],
        status=running,
        work_center=shop.laser_1,
        actual_start=local("2030-06-03 07:02"),
        paused_since=local("2030-06-03 07:10"),
    )
    # J-3/10 is planned on Tuesday and ran on Monday afternoon.
    floor_did(
        tiny.ops["J-3/10"],
        status=complete,
        work_center=shop.laser_1,
        actual_start=local("2030-06-03 13:00"),
        actual_end=local("2030-06-03 13:20"),
    )
    # Released after the plan: in no slot, on laser-1, and on laser-3, since taken out of service.
    part = make_part("BRKT-2")
    late_comer = make_job(shop, part, quantity=2, due=MONDAY, number="J-4", status="in_progress")
    floor_did(
        operation(late_comer, 10, "CUT", shop.laser, "0", "1"),
        status=complete,
        work_center=shop.laser_1,
        actual_start=local("2030-06-03 11:00"),
        actual_end=local("2030-06-03 11:30"),
    )
    floor_did(
        operation(late_comer, 20, "CUT", shop.laser, "0", "1"),
        status=complete,
        work_center=tiny.laser_3,
        actual_start=local("2030-06-03 12:00"),
        actual_end=local("2030-06-03 12:30"),
    )
    now = local("2030-06-03 09:00")

    by_center = gantt_chart(tiny.schedule, view=GanttView.WORK_CENTER, zoom=Zoom.DAY, start_day=MONDAY, now=now)
    rows = {row.label: row for row in by_center.rows}
    assert list(rows) == ["laser-1", "laser-2", "brake-1", "punch-1", "weld-1", "laser-3"]
    strips = {
        label: [(a.title.split(" on ")[0], a.state, a.start, a.end) for a in row.actuals] for label, row in rows.items()
    }
    assert strips == {
        "laser-1": [
            ("J-2/10 CUT", gantt.FloorState.PAUSED, local("2030-06-03 07:02"), now),
            ("J-4/10 CUT", gantt.FloorState.COMPLETE, local("2030-06-03 11:00"), local("2030-06-03 11:30")),
            ("J-3/10 CUT", gantt.FloorState.COMPLETE, local("2030-06-03 13:00"), local("2030-06-03 13:20")),
        ],
        "laser-2": [("J-1/10 CUT", gantt.FloorState.COMPLETE, local("2030-06-03 06:05"), local("2030-06-03 06:30"))],
        "brake-1": [("J-1/20 BEND", gantt.FloorState.RUNNING, local("2030-06-03 06:40"), now)],
        "punch-1": [],
        "weld-1": [("J-1/30 WELD", gantt.FloorState.RUNNING, local("2030-06-03 07:15"), now)],
        "laser-3": [("J-4/20 CUT", gantt.FloorState.COMPLETE, local("2030-06-03 12:00"), local("2030-06-03 12:30"))],
    }
    assert [a.title for a in rows["laser-2"].actuals] == [
        "J-1/10 CUT on laser-2 · actual start Mon 03.06 06:05 · actual end Mon 03.06 06:30 · complete"
        " · 8 of 8 good, 0 scrap"
    ]
    assert [(a.title, a.paused_since) for a in rows["laser-1"].actuals[:1]] == [
        (
            "J-2/10 CUT on laser-1 · actual start Mon 03.06 07:02 · paused since Mon 03.06 07:10"
            " · 0 of 8 good, 0 scrap",
            local("2030-06-03 07:10"),
        )
    ]
    assert [a.title for a in rows["brake-1"].actuals] == [
        "J-1/20 BEND on brake-1 · actual start Mon 03.06 06:40 · running, not complete · 3 of 8 good, 0 scrap"
    ]
    assert rows["laser-3"].off == ((local("2030-06-03 00:00"), local("2030-06-04 00:00")),)  # out of service
    assert by_center.now == now and by_center.labels["now"] == "Now: Mon 03.06 09:00"

    by_job = gantt_chart(tiny.schedule, view=GanttView.JOB, zoom=Zoom.DAY, start_day=MONDAY, now=now)
    # J-3 has no slot on Monday but ran then; J-4 is not in this schedule.
    assert [
        (row.label, [bar.label for bar in row.bars], [a.title.split(" on ")[0] for a in row.actuals])
        for row in by_job.rows
    ] == [
        ("J-2", ["10 CUT"], ["J-2/10 CUT"]),
        ("J-3", [], ["J-3/10 CUT"]),
        ("J-1", ["10 CUT", "20 BEND", "30 WELD"], ["J-1/10 CUT", "J-1/20 BEND", "J-1/30 WELD"]),
    ]
    # The plant's non-working time: when no active machine works (brake-1's second shift counts).
    plant_off = (
        (local("2030-06-03 00:00"), local("2030-06-03 06:00")),
        (local("2030-06-03 10:00"), local("2030-06-03 10:30")),
        (local("2030-06-03 23:00"), local("2030-06-04 00:00")),
    )
    assert [row.off for row in by_job.rows] == [plant_off] * 3

    # Before the floor started, a window a week later shows nothing of it; one after, only what is complete.
    assert not any(
        row.actuals
        for row in gantt_chart(
            tiny.schedule, view=GanttView.WORK_CENTER, zoom=Zoom.DAY, start_day=date(2030, 6, 10), now=now
        ).rows
    )
    tuesday = gantt_chart(tiny.schedule, view=GanttView.JOB, zoom=Zoom.DAY, start_day=date(2030, 6, 4), now=now)
    assert [(row.label, row.actuals) for row in tuesday.rows] == [("J-3", ())]


@dataclass
class Big:
    schedule: Schedule
    centers: list[WorkCenter]
    operations: list[Operation]


def big_plan(floor_started: int = 0, running: int = 0, unscheduled: int = 0) -> Big:
    """30 work centers and 300 one-hour slots over two weeks; of their operations the first
    `floor_started` ran on the next machine over, 10 minutes late, and the last `running` of them
    are still running (every other one paused); `unscheduled` more operations, in no slot, ran
    on Monday."""
    day_shift_plant_calendar()
    department = Department.objects.create(code="d", name="D")
    kind = WorkCenterType.objects.create(code="t", name="T", department=department)
    centers = WorkCenter.objects.bulk_create(
        WorkCenter(code=f"wc-{i:02d}", name=f"WC {i}", department=department, work_center_type=kind) for i in range(30)
    )
    customer = Customer.objects.create(code="C", name="C")
    part = Part.objects.create(number="P", description="P")
    jobs = Job.objects.bulk_create(
        Job(number=f"J-{i:03d}", customer=customer, part=part, quantity=1, due_date=MONDAY + timedelta(days=i % 9))
        for i in range(300 + unscheduled)
    )

    def day(i: int) -> timedelta:
        return timedelta(days=(i // 30) // 5 * 7 + (i // 30) % 5)

    def floor(i: int) -> dict[str, Any]:
        if i >= 300:
            at = local("2030-06-03 12:00")
            return {"status": "complete", "work_center": centers[i % 30], "actual_start": at, "actual_end": at + HOUR}
        if i >= floor_started:
            return {}
        at = local("2030-06-03 06:15") + day(i)
        if i < floor_started - running:
            return {
                "status": "complete",
                "work_center": centers[(i + 1) % 30],
                "actual_start": at,
                "actual_end": at + HOUR,
            }
        return {
            "status": "in_progress",
            "work_center": centers[(i + 1) % 30],
            "actual_start": at,
            "paused_since": at + HOUR if i % 2 else None,
        }

    operations = Operation.objects.bulk_create(
        Operation(
            job=job,
            sequence=10,
            operation_code="OP",
            work_center_type=kind,
            quantity=1,
            setup_minutes=Decimal(5),
            run_minutes_per_unit=Decimal(60),
            **floor(i),
        )
        for i, job in enumerate(jobs)
    )
    schedule = Schedule.objects.create(
        name="Big", status="ready", horizon_start=local("2030-06-03 06:00"), horizon_end=local("2030-06-17 06:00")
    )
    ScheduleSlot.objects.bulk_create(
        ScheduleSlot(
            schedule=schedule,
            operation=op,
            work_center=centers[i % 30],
            setup_start=local("2030-06-03 06:00") + day(i),
            start=local("2030-06-03 06:05") + day(i),
            end=local("2030-06-03 07:05") + day(i),
            setup_minutes=5,
        )
        for i, op in enumerate(operations[:300])
    )
    return Big(schedule, centers, operations)


HOUR = timedelta(hours=1)


@pytest.mark.django_db
def test_the_floor_strips_cost_one_query_whatever_their_number() -> None:
    big = big_plan(floor_started=120, running=40, unscheduled=30)
    now = local("2030-06-17 00:00")
    for view, queries, strips in [(GanttView.WORK_CENTER, 8, 150), (GanttView.JOB, 8, 120)]:
        with CaptureQueriesContext(connection) as captured:
            built = gantt_chart(big.schedule, view=view, zoom=Zoom.WEEK, start_day=MONDAY, now=now)
        # Slots, job finishes, the floor's operations, work centers, and their calendars (plant default, shifts,
        # breaks, exceptions).
        assert len(captured.captured_queries) == queries
        drawn = [actual for row in built.rows for actual in row.actuals]
        assert len(drawn) == strips
        states = Counter(actual.state for actual in drawn)
        assert states == {
            gantt.FloorState.COMPLETE: strips - 40,
            gantt.FloorState.RUNNING: 20,
            gantt.FloorState.PAUSED: 20,
        }


@pytest.mark.django_db
def test_gantt_page_queries_do_not_grow_with_30_work_centers_and_300_slots(
    client_for: Any, django_assert_max_num_queries: Any
) -> None:
    # The plan's days are ahead of the real now: what the floor completed shows, what runs cannot have yet.
    big = big_plan(floor_started=60, running=20, unscheduled=10)
    client = client_for("supervisor")
    url = f"/scheduling/schedules/{big.schedule.pk}/gantt/?view=work_center&zoom=week&start=2030-06-03"
    client.get(url)  # warm the session and permission caches
    # Session and user (3), permissions (3), schedule, slots, job finishes, the operations the floor started,
    # work centers, calendars (4), the move form's machines, and the session save (3).
    with django_assert_max_num_queries(19):
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert len(re.findall(r'<g class="gantt-bar ', page)) == 300
    assert len(re.findall(r'<g class="gantt-actual actual-complete"', page)) == 50
    with django_assert_max_num_queries(19):
        response = client.get(url.replace("work_center", "job"))
    assert response.status_code == 200
    assert len(re.findall(r'<g class="gantt-actual actual-complete"', response.content.decode())) == 40
