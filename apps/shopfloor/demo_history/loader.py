"""The demo history in the database: clear the last one, run the simulator through the ingest, then
let the history operator work the planned jobs through the shop-floor services."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import OPERATOR
from apps.accounts.services import assign_roles
from apps.machines import calendar
from apps.machines.choices import AmendmentCause
from apps.machines.machine_state import MachineState
from apps.machines.models import Alarm, DowntimeReason, LiveState, MachineStateInterval, WorkCenter
from apps.machines.selectors import calendar_inputs_for, plant_time_zone, working_intervals_for
from apps.machines.services import amend_history, assign_downtime_reason
from apps.routings import services as routings
from apps.routings.choices import JobStatus
from apps.routings.models import Customer, Job, Operation, Part, RoutingStep
from apps.routings.precedence import default_predecessors
from apps.telemetry.ingest import Decoded, Inbound, MessageDecoder, update_machine_states
from apps.telemetry.simulator.model import Calendar, Kind, kind_of
from apps.telemetry.simulator.runner import Simulator
from apps.telemetry.simulator.shop import WorkCenterCalendar, simulated_work_centers, spec_of
from apps.telemetry.simulator.sinks import CallableSink, OnCommand

from .. import services as floor
from ..models import Attendance, ProductionEvent, ScrapReason
from .plan import (
    CLOCK_IN,
    CLOCK_OUT,
    COMPLETE,
    FINISH_SETUP,
    JOIN,
    SMALL_STOP,
    START,
    STARTUP_REPORT,
    Action,
    Interval,
    PlannedJob,
    Route,
    RouteStep,
    Span,
    Timeline,
    WithoutWork,
    choose_idle_stretch,
    floor_actions,
    history_start,
    plan_production,
    shift_occurrences,
)

JOB_PREFIX = "HIST-"
HISTORY_OPERATOR = "history-operator"
GROUP_ID = "cnc-sim"  # simulate_machines' default group: the history's edge nodes are the live ones
STEP = timedelta(seconds=30)  # simulated time per step: heartbeats every minute, well inside the offline silence
BATCH = 10000  # messages per ingest batch: big batches spread the per-batch work (locks, calendars, pushes)
MAX_JOBS = 80
CALENDAR_LOOKBACK = timedelta(days=14)  # how far back the last whole working day is looked for
NO_WORK_CODE = "no-work"
REASON_SHARE = 0.6  # share of the alarm stops longer than a small stop that an operator explains
LONG_ALARM = timedelta(minutes=30)
BREAKDOWN_CODES = ("breakdown-mechanical", "breakdown-electrical", "breakdown-tooling")
STOP_CODES = ("program-issue", "waiting-material", "waiting-crane", "quality-hold", "breakdown-tooling")
SCRAP_CODES: Mapping[Kind, str] = {
    Kind.LASER: "CUT",
    Kind.PUNCH: "CUT",
    Kind.BRAKE: "BEND",
    Kind.WELDING: "WELD",
    Kind.ROBOT: "WELD",
    Kind.POLISHING: "SURFACE",
    Kind.MANUAL: "HANDLING",
}
STARTUP_SCRAP_CODE = "SETUP"

operator_alarm_log = logging.getLogger("operator.machines")


class HistoryError(Exception):
    """The history cannot be made (no demo shop, or the ingest refused the simulated stream)."""


@dataclass(frozen=True)
class HistorySummary:
    """What one run made, for the command to print."""

    start: datetime
    end: datetime
    machines: int
    messages: int
    intervals: int
    explained_stops: int
    no_work: str  # the machine that had no work for two hours, "" if none
    jobs: int
    complete_jobs: int
    operations: int
    production_events: int
    simulation_seconds: float
    production_seconds: float


@contextmanager
def _alarms_not_announced() -> Iterator[None]:
    """Alarms of the simulated past are history, not news: they stay out of the operators' log panel."""
    previous = operator_alarm_log.disabled
    operator_alarm_log.disabled = True
    try:
        yield
    finally:
        operator_alarm_log.disabled = previous


def load_demo_history(
    *,
    now: datetime | None = None,
    hours: int = 30,
    seed: int = 1,
    machines: int | None = None,
    whole_day: bool = True,
    max_jobs: int = MAX_JOBS,
) -> HistorySummary:
    """Replace the demo history with the one of `hours` (or back to the last whole working day)
    before `now`, on the first `machines` simulated machines (default: all), in one transaction."""
    end = (now or timezone.now()).astimezone(UTC)
    with _alarms_not_announced(), transaction.atomic():
        centers = simulated_work_centers(machines)
        if not centers:
            raise HistoryError("No active work centers to simulate: load the demo shop first (make demo).")
        tz = plant_time_zone()
        by_pk = working_intervals_for(centers, end - CALENDAR_LOOKBACK, end)
        working = {wc.code: by_pk[wc.pk] for wc in centers}
        start = history_start(now=end, hours=hours, working=working, tz=tz, whole_day=whole_day)
        operator = _history_operator()
        _clear(centers, operator, start)
        types = {wc.code: wc.work_center_type.code for wc in centers}
        idle = choose_idle_stretch(working=working, types=types, start=start, end=end, seed=seed)
        began = time.monotonic()
        messages = _simulate(centers, start=start, end=end, seed=seed, idle=idle)
        simulated = time.monotonic()
        explained = _explain_stops(centers, start, end, operator, seed)
        no_work = _mark_no_work(idle, operator)
        timelines = _timelines(centers, start, end, idle)
        jobs = plan_production(timelines, _routes(), start=start, end=end, seed=seed, max_jobs=max_jobs)
        actions = floor_actions(jobs, _shifts(centers, tz, start, end), working, end=end)
        _work(jobs, actions, centers, operator, seed, tz, end)
        history = Job.objects.filter(number__startswith=JOB_PREFIX)
        return HistorySummary(
            start=start,
            end=end,
            machines=len(centers),
            messages=messages,
            intervals=MachineStateInterval.objects.filter(work_center__in=centers, started_at__gte=start).count(),
            explained_stops=explained,
            no_work=no_work,
            jobs=len(jobs),
            complete_jobs=history.filter(status=JobStatus.COMPLETE).count(),
            operations=sum(len(job.operations) for job in jobs),
            production_events=ProductionEvent.objects.filter(operation__job__in=history).count(),
            simulation_seconds=round(simulated - began, 1),
            production_seconds=round(time.monotonic() - simulated, 1),
        )


def _history_operator() -> User:
    """The operator who worked the history: an account nobody signs in with (no usable password)."""
    user, created = User.objects.get_or_create(
        username=HISTORY_OPERATOR,
        defaults={"first_name": "History", "last_name": "Operator", "email": "history-operator@demo.cnc-copilot.local"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    assign_roles(actor=None, user=user, roles=[OPERATOR])
    return User.objects.get(pk=user.pk)  # fresh: no permission cache from before the roles


def _clear(centers: Sequence[WorkCenter], operator: User, start: datetime) -> None:
    """Remove what an earlier run made from `start` on. Rows are deleted directly: the services
    cancel released jobs and keep their trail, but a history that replaces itself leaves none."""
    Job.objects.filter(number__startswith=JOB_PREFIX).delete()
    Attendance.objects.filter(operator=operator).delete()
    ids = [wc.pk for wc in centers]
    amend_history(work_center_ids=ids, start=start, end=None, cause=AmendmentCause.HISTORY_REPLACED)
    MachineStateInterval.objects.filter(work_center_id__in=ids, started_at__gte=start).delete()
    MachineStateInterval.objects.filter(work_center_id__in=ids).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start)
    ).update(ended_at=start)
    Alarm.objects.filter(work_center_id__in=ids, raised_at__gte=start).delete()
    Alarm.objects.filter(work_center_id__in=ids).filter(Q(cleared_at__isnull=True) | Q(cleared_at__gt=start)).update(
        cleared_at=start
    )
    # The machines start the window unseen: the simulator's births are their first readings.
    LiveState.objects.filter(work_center_id__in=ids).update(
        state=MachineState.OFFLINE,
        since=start,
        last_seen=None,
        program="",
        part_count=None,
        signals={},
        version=F("version") + 1,
    )


class _Ingest:
    """The backfill's ingest: the in-process path of `simulate_machines` (the ingest's decoder, then its
    machine-state stage), in batches of BATCH messages and without storing the raw samples."""

    def __init__(self) -> None:
        self.decoder = MessageDecoder()
        self.pending: list[tuple[str, bytes]] = []
        self.messages = 0

    def publish(self, topic: str, payload: bytes) -> None:
        self.pending.append((topic, payload))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        received = datetime.now(UTC)
        decoded = Decoded()
        for topic, payload in self.pending:
            self.decoder.decode_into(Inbound(topic, payload, received), decoded)
        if decoded.dead or decoded.unresolved or decoded.rebirths:
            reasons = sorted({letter.reason for letter in decoded.dead})
            raise HistoryError(
                f"The ingest refused the simulated stream: {len(decoded.dead)} rejected {reasons}, "
                f"{decoded.unresolved} unresolved, {len(decoded.rebirths)} rebirths asked."
            )
        update_machine_states(decoded.observations)
        self.messages += len(self.pending)
        self.pending = []


def _simulate(
    centers: Sequence[WorkCenter], *, start: datetime, end: datetime, seed: int, idle: tuple[str, Interval] | None
) -> int:
    """Every machine from `start` to `end` through the ingest; returns the number of Sparkplug messages.
    The sessions are not closed: at `end` the machines are still on, as under a running simulator."""
    calendars: dict[str, Calendar] = {wc.code: WorkCenterCalendar(wc) for wc in centers}
    if idle is not None:
        calendars[idle[0]] = WithoutWork(calendars[idle[0]], idle[1])
    ingest = _Ingest()

    def sink(on_command: OnCommand) -> CallableSink:
        return CallableSink(ingest.publish, on_command)

    simulator = Simulator(
        [spec_of(wc) for wc in centers],
        lambda spec: calendars[spec.code],
        start=start,
        seed=seed,
        make_sink=sink,
        group_id=GROUP_ID,
        bd_seq=int(start.timestamp()) % 256,
    )
    moment = start
    while moment < end:
        moment = min(moment + STEP, end)
        simulator.step(moment)
    ingest.flush()
    return ingest.messages


def _explain_stops(centers: Sequence[WorkCenter], start: datetime, end: datetime, operator: User, seed: int) -> int:
    """Operators give most alarm stops longer than a small stop a reason; the others stay unexplained."""
    reasons = {r.code: r for r in DowntimeReason.objects.filter(is_active=True)}
    long_ones = [reasons[c] for c in BREAKDOWN_CODES if c in reasons]
    short_ones = [reasons[c] for c in STOP_CODES if c in reasons]
    if not long_ones or not short_ones:
        return 0
    rng = random.Random(f"{seed}:reasons")
    stops = MachineStateInterval.objects.filter(
        work_center__in=centers, state=MachineState.ALARM, started_at__gte=start, ended_at__lte=end
    ).order_by("started_at", "work_center_id")
    explained = 0
    for stop in stops:
        assert stop.ended_at is not None
        length = stop.ended_at - stop.started_at
        if length < SMALL_STOP or rng.random() >= REASON_SHARE:
            continue
        reason = rng.choice(long_ones if length >= LONG_ALARM else short_ones)
        assign_downtime_reason(interval=stop, reason=reason, user=operator)
        explained += 1
    return explained


def _mark_no_work(idle: tuple[str, Interval] | None, operator: User) -> str:
    """The idle stretch of the machine without work gets "no work scheduled". Written directly:
    `assign_downtime_reason` takes downtime and alarm stretches only, and this one is idle."""
    reason = DowntimeReason.objects.filter(code=NO_WORK_CODE, is_active=True).first()
    if idle is None or reason is None:
        return ""
    code, (begin, finish) = idle
    stretch = MachineStateInterval.objects.filter(
        work_center__code=code, state=MachineState.IDLE, started_at__lte=begin, ended_at__gte=finish
    ).first()
    if stretch is None:
        return ""
    MachineStateInterval.objects.filter(pk=stretch.pk, reason__isnull=True).update(
        reason=reason, reason_set_by=operator, reason_set_at=timezone.now()
    )
    return code


def _timelines(
    centers: Sequence[WorkCenter], start: datetime, end: datetime, idle: tuple[str, Interval] | None
) -> list[Timeline]:
    """The machines' states in the window, for the planner; the stretch without work is taken, so
    that no operation runs through it."""
    spans: dict[int, list[Span]] = {wc.pk: [] for wc in centers}
    rows = (
        MachineStateInterval.objects.filter(work_center__in=centers, started_at__gte=start)
        .order_by("work_center_id", "started_at")
        .values_list("work_center_id", "started_at", "ended_at", "state")
    )
    for pk, begin, finish, state in rows:
        spans[pk].append(Span(begin, finish or end, state))
    timelines = [Timeline(wc.code, wc.work_center_type.code, wc.efficiency, spans[wc.pk]) for wc in centers]
    for timeline in timelines:
        if idle is not None and timeline.code == idle[0]:
            timeline.claimed.append(idle[1])
    return timelines


def _routes() -> list[Route]:
    """The active demo parts with their routings, in part number order."""
    steps = RoutingStep.objects.select_related("work_center_type").prefetch_related("predecessors")
    parts = Part.objects.filter(is_active=True).prefetch_related(Prefetch("routing_steps", queryset=steps))
    routes = []
    for part in parts.order_by("number", "revision"):
        rows = sorted(part.routing_steps.all(), key=lambda row: row.sequence)
        if not rows or any(row.run_minutes_per_unit <= 0 for row in rows):
            continue
        sequence_of = {row.pk: row.sequence for row in rows}
        explicit = {row.sequence: [sequence_of[p.pk] for p in row.predecessors.all()] for row in rows}
        links = default_predecessors([row.sequence for row in rows], explicit)
        steps_of = tuple(
            RouteStep(
                sequence=row.sequence,
                type_code=row.work_center_type.code,
                setup_minutes=row.setup_minutes,
                run_minutes_per_unit=row.run_minutes_per_unit,
                predecessors=tuple(links[row.sequence]),
            )
            for row in rows
        )
        routes.append(Route(part_id=part.pk, steps=steps_of))
    return routes


def _shifts(centers: Sequence[WorkCenter], tz: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    inputs = [data for data in calendar_inputs_for(centers, start, end).values() if data is not None]
    overtime = [
        (exc.start, exc.end)
        for data in inputs
        for exc in data.exceptions
        if exc.kind == calendar.ExceptionKind.OVERTIME
    ]
    return shift_occurrences([shift for data in inputs for shift in data.shifts], overtime, tz, start, end)


def _work(
    jobs: Sequence[PlannedJob],
    actions: Sequence[Action],
    centers: Sequence[WorkCenter],
    operator: User,
    seed: int,
    tz: ZoneInfo,
    end: datetime,
) -> None:
    """Create and release the jobs, record the steps they did before the window, then do every
    action through the shop-floor services at its moment; the plan and the release dates are
    written last (the scheduler and the release stamp their own "now"). A job finished in the
    window was due about when it finished; one still open is due a few days from now."""
    rng = random.Random(f"{seed}:jobs")
    parts = Part.objects.in_bulk([job.part_id for job in jobs])
    customers = list(Customer.objects.order_by("code"))
    made: list[Job] = []
    for index, planned in enumerate(jobs):
        part = parts[planned.part_id]
        ends = [op.end for op in planned.operations if op.end is not None]
        last = max(ends, default=planned.operations[0].start)
        job = routings.create_job(
            actor=None,
            number=f"{JOB_PREFIX}{index + 1:04d}",
            customer=part.customer or rng.choice(customers),
            part=part,
            quantity=planned.quantity,
            due_date=last.astimezone(tz).date() + timedelta(days=rng.randint(-1, 3)),
        )
        routings.release_job(actor=None, job_id=job.pk)
        made.append(job)
    operation_ids = {
        (index, sequence): pk
        for index, job in enumerate(made)
        for pk, sequence in Operation.objects.filter(job=job).values_list("pk", "sequence")
    }
    for index, planned in enumerate(jobs):
        for step in planned.done_before:
            routings.start_operation(actor=None, operation_id=operation_ids[(index, step.sequence)], at=step.start)
            routings.complete_operation(actor=None, operation_id=operation_ids[(index, step.sequence)], at=step.end)
    center_ids = {wc.code: wc.pk for wc in centers}
    kinds = {wc.code: kind_of(wc.work_center_type.code) for wc in centers}
    reasons = {r.code: r.pk for r in ScrapReason.objects.filter(is_active=True)}
    for action in actions:
        _do(action, operator, operation_ids, center_ids, kinds, reasons)
    _write_plan(jobs, made, operation_ids, rng)
    due = random.Random(f"{seed}:due")
    still_open = list(Job.objects.filter(pk__in=[job.pk for job in made]).exclude(status=JobStatus.COMPLETE))
    for job in still_open:
        job.due_date = end.astimezone(tz).date() + timedelta(days=due.randint(2, 6))
    Job.objects.bulk_update(still_open, ["due_date"])


def _do(
    action: Action,
    operator: User,
    operation_ids: Mapping[tuple[int, int], int],
    center_ids: Mapping[str, int],
    kinds: Mapping[str, Kind],
    reasons: Mapping[str, int],
) -> None:
    at = action.at
    if action.kind == CLOCK_OUT:
        floor.clock_out(operator=operator, at=at)
        return
    if action.kind == CLOCK_IN:
        floor.clock_in(operator=operator, work_center_ids=[center_ids[code] for code in action.machines], at=at)
        return
    operation_id = operation_ids[(action.job, action.sequence)]
    if action.kind == JOIN:
        floor.join_operation(operator=operator, operation_id=operation_id, at=at)
    elif action.kind == START:
        machine = center_ids[action.machine]
        floor.start_operation(operator=operator, operation_id=operation_id, work_center_id=machine, at=at)
    elif action.kind == FINISH_SETUP:
        floor.finish_setup(operator=operator, operation_id=operation_id, at=at)
    else:
        code = STARTUP_SCRAP_CODE if action.kind == STARTUP_REPORT else SCRAP_CODES[kinds[action.machine]]
        reason = (reasons.get(code) or next(iter(reasons.values()), None)) if action.scrap else None
        scrap = action.scrap if reason is not None else 0
        if action.kind == COMPLETE:
            floor.complete_operation(
                operator=operator,
                operation_id=operation_id,
                good=action.good,
                scrap=scrap,
                scrap_reason_id=reason,
                at=at,
            )
        elif action.good or scrap:
            floor.report_quantity(
                operator=operator,
                operation_id=operation_id,
                good=action.good,
                scrap=scrap,
                scrap_reason_id=reason,
                at=at,
            )


def _write_plan(
    jobs: Sequence[PlannedJob], made: Sequence[Job], operation_ids: Mapping[tuple[int, int], int], rng: random.Random
) -> None:
    """The plan the floor was measured against, and when the jobs were released and last changed."""
    operations = Operation.objects.in_bulk(operation_ids.values())
    changed = []
    for index, planned in enumerate(jobs):
        times = [(op.sequence, op.planned_start, op.planned_end) for op in planned.operations]
        times += [(step.sequence, step.start, step.end) for step in planned.done_before]
        for sequence, planned_start, planned_end in times:
            row = operations[operation_ids[(index, sequence)]]
            row.planned_start, row.planned_end = planned_start, planned_end
            changed.append(row)
    Operation.objects.bulk_update(changed, ["planned_start", "planned_end"])
    stored = Job.objects.in_bulk([job.pk for job in made])
    for planned, job in zip(jobs, made, strict=True):
        row_job = stored[job.pk]
        first = min([op.start for op in planned.operations] + [step.start for step in planned.done_before])
        row_job.released_at = first - timedelta(hours=rng.randint(20, 72))
        ends = [op.end for op in planned.operations if op.end is not None]
        row_job.status_changed_at = max(ends) if row_job.status == JobStatus.COMPLETE and ends else first
    Job.objects.bulk_update(list(stored.values()), ["released_at", "status_changed_at"])
