"""The demo history `make demo` loads: machine states from the simulator through the ingest, HIST- jobs
worked on the machines' running time, a second run that replaces the first, and the live simulator
carrying on after it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from apps.accounts.services import create_role_groups
from apps.machines import calendar
from apps.machines.machine_state import MachineState
from apps.machines.models import Alarm, LiveState, MachineStateInterval, WorkCenter
from apps.routings.choices import JobStatus, OperationStatus
from apps.routings.demo import load_demo_shop
from apps.routings.models import Job, Operation
from apps.shopfloor.choices import EventKind
from apps.shopfloor.demo_history import HistorySummary, load_demo_history
from apps.shopfloor.demo_history.loader import HISTORY_OPERATOR
from apps.shopfloor.demo_history.plan import (
    CLOCK_IN,
    CLOCK_OUT,
    COMPLETE,
    FINISH_SETUP,
    JOIN,
    REPORT,
    START,
    Count,
    PlannedJob,
    PlannedOperation,
    Span,
    Timeline,
    choose_idle_stretch,
    floor_actions,
    history_start,
    shift_occurrences,
)
from apps.shopfloor.models import Attendance, LaborEntry, ProductionEvent
from apps.telemetry.ingest import MessageDecoder, ingest_payloads
from apps.telemetry.models import DeadLetter, Sample
from apps.telemetry.simulator.runner import Simulator
from apps.telemetry.simulator.shop import WorkCenterCalendar, simulated_work_centers, spec_of
from apps.telemetry.simulator.sinks import CallableSink

PLANT = ZoneInfo(settings.PLANT_TIME_ZONE)
NOW = datetime(2026, 11, 18, 23, 0, tzinfo=UTC)  # Wednesday 17:00 at the plant
WINDOW_START = NOW - timedelta(hours=8)  # 09:00, in the first shift (06:00-14:30, break 10:00-10:30)
MACHINES = 6  # LAS-01, LAS-02, PUN-01, PUN-02, BRK-01, BRK-02
CODES = ["LAS-01", "LAS-02", "PUN-01", "PUN-02", "BRK-01", "BRK-02"]
SMALL_STOP = timedelta(minutes=5)


def at(hour: int, minute: int = 0, day: int = 18) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PLANT).astimezone(UTC)


@pytest.fixture(scope="module")
def history(django_db_setup: Any, django_db_blocker: Any) -> Iterator[HistorySummary]:
    """The demo shop and eight hours of history on six machines, loaded once for the module in a
    transaction rolled back at the end; each test runs in a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        create_role_groups()
        load_demo_shop(now=NOW)
        yield load_demo_history(now=NOW, hours=8, machines=MACHINES, whole_day=False)
        transaction.set_rollback(True)


def intervals(code: str) -> list[MachineStateInterval]:
    return list(MachineStateInterval.objects.filter(work_center__code=code).order_by("started_at"))


def state_at(code: str, moment: datetime) -> str:
    """The state of the interval holding `moment` ([start, end))."""
    [row] = [i for i in intervals(code) if i.started_at <= moment and (i.ended_at is None or moment < i.ended_at)]
    return row.state


def history_snapshot() -> dict[str, Any]:
    return {
        "intervals": list(
            MachineStateInterval.objects.order_by("work_center_id", "started_at").values_list(
                "work_center__code", "state", "started_at", "ended_at", "reason__code"
            )
        ),
        "alarms": Alarm.objects.count(),
        "jobs": list(Job.objects.filter(number__startswith="HIST-").order_by("number").values_list("number", "status")),
        "events": list(
            ProductionEvent.objects.order_by("at", "kind", "operation__job__number").values_list(
                "operation__job__number", "operation__sequence", "kind", "at", "quantity_good", "quantity_scrap"
            )
        ),
        "attendance": list(Attendance.objects.order_by("clocked_in_at").values_list("clocked_in_at", "clocked_out_at")),
        "labor": LaborEntry.objects.count(),
    }


# --- the database: machine states -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_summary(history: HistorySummary) -> None:
    assert (history.start, history.end, history.machines) == (WINDOW_START, NOW, MACHINES)
    assert history.intervals == MachineStateInterval.objects.count() == 1902
    assert (history.jobs, history.complete_jobs, history.operations) == (9, 0, 9)
    assert history.production_events == ProductionEvent.objects.count() == 84
    assert history.explained_stops == 4
    assert history.no_work == "PUN-02"


@pytest.mark.django_db
def test_every_machine_has_states_over_the_window_without_gaps_or_overlaps(history: HistorySummary) -> None:
    for code in CODES:
        rows = intervals(code)
        # The births are stamped a few milliseconds after the start, one message after the other.
        assert WINDOW_START <= rows[0].started_at < WINDOW_START + timedelta(seconds=1)
        for before, after in zip(rows, rows[1:], strict=False):
            assert before.ended_at == after.started_at
        assert rows[-1].ended_at is None
        assert rows[-1].started_at <= NOW
        # Every machine says something at least once a minute (a heartbeat when nothing changes).
        last_seen = LiveState.objects.get(work_center__code=code).last_seen
        assert last_seen is not None and NOW - timedelta(minutes=1) <= last_seen <= NOW
    assert {code: Counter(i.state for i in intervals(code))[MachineState.OFFLINE] for code in CODES} == dict.fromkeys(
        CODES, 0
    )
    # The morning break is planned downtime on every machine, from 10:00 to 10:30.
    for code in CODES:
        assert state_at(code, at(10, 15)) == MachineState.PLANNED_DOWN


@pytest.mark.django_db
def test_one_machine_had_no_work_for_two_hours(history: HistorySummary) -> None:
    [stretch] = MachineStateInterval.objects.filter(reason__code="no-work")
    assert (stretch.work_center.code, stretch.state) == ("PUN-02", MachineState.IDLE)
    # In the last long working stretch (10:30-17:00, across the shift change), 45 minutes in, for two hours.
    assert (stretch.started_at, stretch.ended_at) == (at(11, 15), at(13, 15))
    assert stretch.reason_set_by is not None and stretch.reason_set_by.username == HISTORY_OPERATOR
    assert not Operation.objects.filter(
        work_center=stretch.work_center, actual_start__lt=stretch.ended_at, actual_end__gt=stretch.started_at
    )


@pytest.mark.django_db
def test_operators_explained_some_alarm_stops(history: HistorySummary) -> None:
    stops = MachineStateInterval.objects.filter(state=MachineState.ALARM).exclude(ended_at=None).order_by("started_at")
    long_ones = [s for s in stops if s.ended_at and s.ended_at - s.started_at >= SMALL_STOP]
    explained = [s for s in long_ones if s.reason_id is not None]
    assert (len(stops), len(long_ones), len(explained)) == (8, 6, 4)
    assert [(s.work_center.code, s.reason.code) for s in explained if s.reason] == [
        ("LAS-02", "program-issue"),
        ("PUN-02", "breakdown-tooling"),
        ("PUN-01", "program-issue"),
        ("PUN-01", "quality-hold"),
    ]
    assert {s.reason_set_by.username for s in explained if s.reason_set_by} == {HISTORY_OPERATOR}
    # Stops shorter than a small stop are performance losses nobody explains.
    assert all(s.ended_at and s.ended_at - s.started_at >= SMALL_STOP for s in stops if s.reason_id)


# --- the database: production -------------------------------------------------------------------


@pytest.mark.django_db
def test_production_events_lie_in_the_machines_running_time(history: HistorySummary) -> None:
    events = ProductionEvent.objects.select_related("work_center").order_by("at")
    kinds = Counter(event.kind for event in events)
    assert kinds == {
        EventKind.START_SETUP: 9,
        EventKind.START_RUN: 9,
        EventKind.REPORT: 45,
        EventKind.COMPLETE: 4,
        EventKind.JOIN: 6,
        EventKind.LEAVE: 11,
    }
    for event in events:
        state = state_at(event.work_center.code, event.at)
        if event.kind in (EventKind.START_RUN, EventKind.REPORT, EventKind.COMPLETE):
            assert state == MachineState.RUNNING, event
        elif event.kind == EventKind.START_SETUP:
            assert state == MachineState.SETUP, event
        assert WINDOW_START <= event.at <= NOW
        assert event.by.username == HISTORY_OPERATOR


@pytest.mark.django_db
def test_counts_add_up_and_performance_is_realistic(history: HistorySummary) -> None:
    operations = Operation.objects.filter(job__number__startswith="HIST-", work_center__isnull=False)
    assert operations.count() == 9
    for op in operations.select_related("work_center"):
        totals = ProductionEvent.objects.filter(operation=op).aggregate(
            good=Sum("quantity_good"), scrap=Sum("quantity_scrap")
        )
        assert (totals["good"] or 0, totals["scrap"] or 0) == (op.quantity_good, op.quantity_scrap)
        assert op.quantity_good <= op.quantity
        if op.status == OperationStatus.COMPLETE:
            assert op.quantity_good == op.quantity
        run_start = ProductionEvent.objects.get(operation=op, kind=EventKind.START_RUN).at
        run_end = op.actual_end or NOW
        timeline = Timeline(
            op.work_center.code,
            "",
            op.work_center.efficiency,
            [Span(i.started_at, i.ended_at or NOW, i.state) for i in intervals(op.work_center.code)],
        )
        made = op.quantity_good + op.quantity_scrap
        ideal = made * op.run_minutes_per_unit * 60 / op.work_center.efficiency
        run = Decimal(timeline.run_time(run_start, run_end).total_seconds())
        if op.status == OperationStatus.COMPLETE:
            assert Decimal("0.80") <= ideal / run <= Decimal("0.95"), op
        else:  # parts reported up to the last hourly report, not up to now
            assert ideal / run <= Decimal("0.95"), op
    good = operations.aggregate(Sum("quantity_good"))["quantity_good__sum"]
    scrap = operations.aggregate(Sum("quantity_scrap"))["quantity_scrap__sum"]
    assert (good, scrap) == (267, 7)
    startup = ProductionEvent.objects.filter(kind=EventKind.REPORT, scrap_reason__code="SETUP")
    assert startup.count() == 3
    for report in startup:
        assert report.quantity_good == 0
        assert ProductionEvent.objects.filter(operation=report.operation, kind=EventKind.START_RUN, at=report.at)


@pytest.mark.django_db
def test_jobs_plan_and_labor(history: HistorySummary) -> None:
    jobs = Job.objects.filter(number__startswith="HIST-").order_by("number")
    assert [job.number for job in jobs] == [f"HIST-{n:04d}" for n in range(1, 10)]
    assert {job.status for job in jobs} == {JobStatus.IN_PROGRESS}
    for job in jobs:
        assert job.released_at is not None and job.released_at < WINDOW_START
        # Open work is due a few days ahead, so the plan made after the history is not late by birth.
        assert 2 <= (job.due_date - NOW.astimezone(PLANT).date()).days <= 6
        operations = list(job.operations.order_by("sequence"))
        worked = [op for op in operations if op.work_center_id is not None]
        assert worked
        # The steps before the first one worked in the window were done before it.
        for op in operations[: operations.index(worked[0])]:
            assert op.status == OperationStatus.COMPLETE
            assert op.actual_end is not None and op.actual_end < WINDOW_START
        for op in worked:
            assert op.planned_start is not None and op.planned_end is not None
            assert op.actual_start is not None
            assert (
                -90 <= (op.planned_start - op.actual_start.replace(second=0, microsecond=0)).total_seconds() / 60 <= 60
            )
    shifts = list(Attendance.objects.order_by("clocked_in_at"))
    assert [(a.clocked_in_at, a.clocked_out_at) for a in shifts] == [(WINDOW_START, at(14, 30)), (at(14, 30), NOW)]
    assert {wc.code for wc in shifts[0].work_centers.all()} == set(CODES)
    entries = LaborEntry.objects.all()
    # Setup and run of each operation, and the six still running at the shift change picked up again.
    assert entries.count() == 9 + 9 + 6
    assert not entries.filter(ended_at=None)
    assert not entries.filter(started_at__lt=WINDOW_START) and not entries.filter(ended_at__gt=NOW)


# --- running it again, and the live simulator after it -----------------------------------------


@pytest.mark.django_db
def test_running_again_replaces_the_history(history: HistorySummary) -> None:
    before = history_snapshot()
    again = load_demo_history(now=NOW, hours=8, machines=MACHINES, whole_day=False)
    timings = {"simulation_seconds": again.simulation_seconds, "production_seconds": again.production_seconds}
    assert again == replace(history, **timings)
    assert history_snapshot() == before


@pytest.mark.django_db
def test_a_later_run_keeps_the_states_before_its_window(history: HistorySummary) -> None:
    later = load_demo_history(now=NOW + timedelta(hours=1), hours=2, machines=MACHINES, whole_day=False)
    assert later.start == NOW - timedelta(hours=1)
    for code in CODES:
        rows = intervals(code)
        for before, after in zip(rows, rows[1:], strict=False):
            assert before.ended_at is not None and before.ended_at <= after.started_at
        # What the first run made before the new window stays; the interval across its start ends there.
        assert [r.ended_at for r in rows if r.started_at < later.start][-1] == later.start
    assert Job.objects.filter(number__startswith="HIST-").count() == later.jobs
    assert Attendance.objects.count() == 1  # 16:00-18:00: one shift


def live(start: datetime, until: datetime) -> None:
    """The live simulator as `run_shop` starts it: a new process (a fresh decoder), the in-process
    ingest, a new bdSeq, stepped in real time from `start`."""
    centers = simulated_work_centers(MACHINES)
    calendars = {wc.code: WorkCenterCalendar(wc) for wc in centers}
    decoder = MessageDecoder()
    clock = {"now": start}

    def deliver(topic: str, payload: bytes) -> list[tuple[str, bytes]]:
        return ingest_payloads([(topic, payload)], decoder=decoder, received_at=clock["now"]).rebirths

    simulator = Simulator(
        [spec_of(wc) for wc in centers],
        lambda spec: calendars[spec.code],
        start=start,
        seed=1,
        make_sink=lambda on_command: CallableSink(deliver, on_command),
        bd_seq=int(start.timestamp()) % 256,
    )
    moment = start
    while moment < until:
        moment = min(moment + timedelta(seconds=5), until)
        clock["now"] = moment
        simulator.step(moment)


@pytest.mark.django_db
def test_the_live_simulator_carries_on_after_the_history(history: HistorySummary) -> None:
    live(NOW + timedelta(seconds=20), NOW + timedelta(minutes=10))
    assert not DeadLetter.objects.exists()
    assert Sample.objects.filter(timestamp__gte=NOW).count() == Sample.objects.count() > 0
    for code in CODES:
        rows = intervals(code)
        for before, after in zip(rows, rows[1:], strict=False):
            assert before.ended_at == after.started_at
        assert not [r for r in rows if r.state == MachineState.OFFLINE]
        last_seen = LiveState.objects.get(work_center__code=code).last_seen
        assert last_seen is not None and NOW + timedelta(minutes=9) <= last_seen <= NOW + timedelta(minutes=10)
    # The live machines start a new job: a setup right after their births.
    assert state_at("LAS-01", NOW + timedelta(seconds=21)) == MachineState.SETUP


@pytest.mark.django_db
def test_a_live_simulator_started_later_shows_the_silence_as_offline(history: HistorySummary) -> None:
    last_seen = dict(LiveState.objects.values_list("work_center__code", "last_seen"))
    live(NOW + timedelta(minutes=5), NOW + timedelta(minutes=8))
    assert not DeadLetter.objects.exists()
    silence = timedelta(seconds=settings.MACHINE_OFFLINE_AFTER_SECONDS)
    for code in CODES:
        [offline] = [r for r in intervals(code) if r.state == MachineState.OFFLINE]
        assert offline.started_at == last_seen[code] + silence
        assert offline.ended_at is not None and NOW + timedelta(minutes=5) <= offline.ended_at


@pytest.mark.django_db
def test_the_command(history: HistorySummary) -> None:
    out = StringIO()
    call_command(
        "load_demo_history", "--now", NOW.isoformat(), "--hours", "2", "--exact", "--machines", "2", stdout=out
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"Demo history {NOW - timedelta(hours=2):%Y-%m-%d %H:%M} to {NOW:%Y-%m-%d %H:%M} UTC")
    assert " UTC on 2 machines: " in lines[0]
    assert " HIST- jobs (" in lines[1]


# --- the pure planning --------------------------------------------------------------------------


def test_the_window_reaches_back_to_the_last_whole_working_day() -> None:
    # Two machines working 06:00-23:00 on weekdays; Monday 06:30 at the plant.
    weekdays = [at(6, day=d) for d in (13, 16)]  # Friday 13th, Monday 16th
    working = {code: [(day, day + timedelta(hours=17)) for day in weekdays] for code in ("A", "B")}
    monday = at(6, 30, day=16)
    assert history_start(now=monday, hours=30, working=working, tz=PLANT, whole_day=True) == at(6, day=13)
    assert history_start(now=monday, hours=30, working=working, tz=PLANT, whole_day=False) == monday - timedelta(
        hours=30
    )
    # A Saturday that only one machine of two works is not a working day; Friday is.
    working["A"].append((at(6, day=14), at(12, day=14)))
    assert history_start(now=monday, hours=30, working=working, tz=PLANT, whole_day=True) == at(6, day=13)
    # When the hours already reach back further, they win.
    assert history_start(now=monday, hours=100, working=working, tz=PLANT, whole_day=True) == monday - timedelta(
        hours=100
    )


def test_the_idle_stretch_is_on_a_machine_the_shop_has_two_of() -> None:
    day = (at(6), at(14))
    working = {"LAS-01": [day], "PUN-01": [day], "PUN-02": [day]}
    types = {"LAS-01": "fiber-laser", "PUN-01": "turret-punch", "PUN-02": "turret-punch"}
    code, stretch = choose_idle_stretch(working=working, types=types, start=at(6), end=at(14), seed=1) or ("", day)
    assert code in ("PUN-01", "PUN-02")
    assert stretch == (at(6, 45), at(8, 45))
    assert choose_idle_stretch(working={"LAS-01": [day]}, types=types, start=at(6), end=at(14), seed=1) is None


def test_shift_occurrences_merge_the_calendars() -> None:
    first = calendar.Shift(2, time(6), time(14, 30), (calendar.Break(time(10), time(10, 30)),))
    second = calendar.Shift(2, time(14, 30), time(23))
    overtime = [(at(22, 30), at(23, 30))]
    # The same first shift twice (two calendars), the second shift touching it, overtime overlapping it.
    assert shift_occurrences([first, first, second], overtime, PLANT, at(0), at(0, day=19)) == [
        (at(6), at(14, 30)),
        (at(14, 30), at(23, 30)),
    ]


def test_a_timeline_counts_run_time_as_oee_does() -> None:
    spans = [
        Span(at(6), at(6, 20), MachineState.SETUP),
        Span(at(6, 20), at(7), MachineState.RUNNING),
        Span(at(7), at(7, 3), MachineState.IDLE),  # a small stop: run time
        Span(at(7, 3), at(8), MachineState.RUNNING),
        Span(at(8), at(8, 30), MachineState.ALARM),  # a breakdown: not run time
        Span(at(8, 30), at(9), MachineState.RUNNING),
    ]
    timeline = Timeline("M", "t", Decimal(1), spans)
    assert timeline.run_time(at(6), at(9)) == timedelta(minutes=40 + 3 + 57 + 30)
    assert timeline.reach(at(6, 20), timedelta(minutes=100)) == at(8)
    assert timeline.reach(at(6, 20), timedelta(minutes=101)) == at(8, 31)
    assert timeline.reach(at(6, 20), timedelta(hours=3)) is None
    assert timeline.running_at_or_before(at(8, 10)) == at(8) - timedelta(seconds=1)
    assert timeline.first_running_from(at(7, 1)) == at(7, 3)
    assert timeline.setup_starts == [at(6)]


def test_floor_actions_follow_the_shifts() -> None:
    op = PlannedOperation(
        sequence=10,
        machine="M",
        setup_at=at(13),
        run_at=at(13, 20),
        end=at(15),
        startup_scrap=0,
        reports=(Count(at(14, 5), 4, 0),),
        completion=Count(at(15), 6, 1),
        planned_start=at(12, 30),
        planned_end=at(15),
    )
    job = PlannedJob(part_id=1, quantity=10, done_before=(), operations=(op,))
    shifts = [(at(6), at(14, 30)), (at(14, 30), at(23)), (at(6, day=19), at(14, 30, day=19))]
    # The machine does not work on the 19th: nobody clocks in to it then, though its operation is open.
    working = {"M": [(at(6), at(23))]}
    open_job = replace(job, operations=(replace(op, end=None, completion=None),))
    assert [a.kind for a in floor_actions([open_job], shifts, working, end=at(12, day=19))][-1] == CLOCK_OUT
    assert len(floor_actions([open_job], shifts, working, end=at(12, day=19))) == 8
    actions = floor_actions([job], shifts, working, end=at(16))
    assert [(a.at, a.kind) for a in actions] == [
        (at(6), CLOCK_IN),
        (at(13), START),
        (at(13, 20), FINISH_SETUP),
        (at(14, 5), REPORT),
        (at(14, 30), CLOCK_OUT),
        (at(14, 30), CLOCK_IN),
        (at(14, 30), JOIN),
        (at(15), COMPLETE),
        (at(16), CLOCK_OUT),
    ]
    assert actions[0].machines == ("M",)
    assert (actions[7].good, actions[7].scrap) == (6, 1)


@pytest.mark.django_db
def test_machines_outside_the_history_keep_their_states(history: HistorySummary) -> None:
    assert not MachineStateInterval.objects.exclude(work_center__code__in=CODES)
    assert WorkCenter.objects.filter(is_active=True).count() == 30
