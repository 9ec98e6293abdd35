"""The Gantt SVG: exact bar positions for known times, escaped text, and the rows the selector
builds from a schedule (tones, non-working time), in a constant number of queries."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apps.machines.models import Department, WorkCenter, WorkCenterType
from apps.routings.models import Customer, Job, Operation, Part
from apps.scheduling import gantt
from apps.scheduling.models import Schedule, ScheduleSlot
from apps.scheduling.selectors import GanttView, Zoom, gantt_chart
from tests.routings.builders import day_shift_plant_calendar
from tests.scheduling.schedule_rows import MONDAY, TZ, build_tiny, local


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
    # Day zoom: 70 px an hour after the 160 px label column; row 0's bar top at 40 + 3.
    assert (
        '<g class="gantt-bar tone-late job-released" data-slot="7"><title>J-1/10 CUT</title>'
        '<rect class="gantt-setup" x="580.0" y="43.0" width="17.5" height="16"/>'
        '<rect class="gantt-run" x="597.5" y="43.0" width="52.5" height="16"/>'
        '<text class="gantt-bar-label" x="583.0" y="55.0">J-1</text></g>'
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
    assert '<rect class="gantt-run" x="280.0" y="43.0" width="60.0" height="16" fill="url(#gantt-hatch)"/>' in svg
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


@pytest.mark.django_db
def test_gantt_page_queries_do_not_grow_with_30_work_centers_and_300_slots(
    client_for: Any, django_assert_max_num_queries: Any
) -> None:
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
        for i in range(300)
    )
    operations = Operation.objects.bulk_create(
        Operation(
            job=job,
            sequence=10,
            operation_code="OP",
            work_center_type=kind,
            quantity=1,
            setup_minutes=Decimal(5),
            run_minutes_per_unit=Decimal(60),
        )
        for job in jobs
    )
    schedule = Schedule.objects.create(
        name="Big", status="ready", horizon_start=local("2030-06-03 06:00"), horizon_end=local("2030-06-17 06:00")
    )
    ScheduleSlot.objects.bulk_create(
        ScheduleSlot(
            schedule=schedule,
            operation=op,
            work_center=centers[i % 30],
            setup_start=local("2030-06-03 06:00") + timedelta(days=(i // 30) // 5 * 7 + (i // 30) % 5),
            start=local("2030-06-03 06:05") + timedelta(days=(i // 30) // 5 * 7 + (i // 30) % 5),
            end=local("2030-06-03 07:05") + timedelta(days=(i // 30) // 5 * 7 + (i // 30) % 5),
            setup_minutes=5,
        )
        for i, op in enumerate(operations)
    )
    client = client_for("supervisor")
    url = f"/scheduling/schedules/{schedule.pk}/gantt/?view=work_center&zoom=week&start=2030-06-03"
    client.get(url)  # warm the session and permission caches
    # Session and user (3), permissions (3), schedule, slots, job finishes, work centers,
    # calendars (4), the move form's machines, and the session save (3).
    with django_assert_max_num_queries(18):
        response = client.get(url)
    assert response.status_code == 200
    assert len(re.findall(r'<g class="gantt-bar ', response.content.decode())) == 300
    with django_assert_max_num_queries(18):
        assert client.get(url.replace("work_center", "job")).status_code == 200
