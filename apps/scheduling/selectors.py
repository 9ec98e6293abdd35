"""Reads of schedules for the pages and APIs: Gantt rows, load against capacity, late-job
explanations. Each runs a fixed number of queries whatever the size of the schedule."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import chain
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.machines.models import WorkCenter
from apps.machines.selectors import end_of_plant_day, plant_time_zone, working_intervals_for
from apps.routings.choices import OperationStatus
from apps.routings.models import Job, Operation
from apps.routings.precedence import default_predecessors

from . import gantt
from .choices import ScheduleStatus
from .edits import Machine as EditMachine
from .edits import follow_working_time, minutes_on
from .models import Schedule, ScheduleSlot

Interval = tuple[datetime, datetime]
# A job whose last operation ends less than this before its due date ends is "at risk".
AT_RISK_MARGIN = timedelta(hours=24)
FLOOR_STARTED = (OperationStatus.IN_PROGRESS, OperationStatus.COMPLETE)


class GanttView(StrEnum):
    WORK_CENTER = "work_center"
    JOB = "job"


class Zoom(StrEnum):
    DAY = "day"
    WEEK = "week"  # two weeks, the planning horizon one looks at

    @property
    def days(self) -> int:
        return 1 if self is Zoom.DAY else 14


def published_schedule() -> Schedule | None:
    """The schedule the floor follows (at most one is published)."""
    return Schedule.objects.filter(status=ScheduleStatus.PUBLISHED).first()


def default_schedule() -> Schedule | None:
    """The schedule pages show unless told otherwise: the published one, else the newest ready one."""
    published = published_schedule()
    if published is not None:
        return published
    return Schedule.objects.filter(status=ScheduleStatus.READY).order_by("-created_at").first()


def _slots(schedule: Schedule) -> QuerySet[ScheduleSlot]:
    return ScheduleSlot.objects.filter(schedule=schedule).select_related(
        "operation__job", "operation__work_center", "work_center"
    )


def job_finish(schedule: Schedule) -> dict[int, datetime]:
    """When each job's last slot ends in `schedule` (one query)."""
    rows = ScheduleSlot.objects.filter(schedule=schedule).values_list("operation__job_id", "end")
    finish: dict[int, datetime] = {}
    for job_id, end in rows:
        if job_id not in finish or end > finish[job_id]:
            finish[job_id] = end
    return finish


def tone_of(slot: ScheduleSlot, finish: datetime, due: date) -> gantt.Tone:
    # Started or finished on the floor since the plan was made counts as frozen too: actuals win.
    if slot.is_frozen or slot.operation.status in FLOOR_STARTED:
        return gantt.Tone.FROZEN
    limit = end_of_plant_day(due)
    if finish > limit:
        return gantt.Tone.LATE
    if finish > limit - AT_RISK_MARGIN:
        return gantt.Tone.AT_RISK
    return gantt.Tone.ON_TIME


def floor_progress(operation: Operation) -> str:
    """What the shop floor reported, for the hover text: where it runs, how far, paused or done."""
    if operation.status not in FLOOR_STARTED:
        return ""
    if operation.status == OperationStatus.COMPLETE:
        return " · " + _("complete") + " · " + _counts(operation)
    where = operation.work_center.code if operation.work_center is not None else "?"
    state = _("paused") if operation.paused_since is not None else operation.get_phase_display().lower()
    return (
        " · "
        + _("on the floor: %(state)s on %(machine)s") % {"state": state, "machine": where}
        + " · "
        + _counts(operation)
    )


def _counts(operation: Operation) -> str:
    return _("%(good)d of %(qty)d good, %(scrap)d scrap") % {
        "good": operation.quantity_good,
        "qty": operation.quantity,
        "scrap": operation.quantity_scrap,
    }


def operation_label(operation: Operation) -> str:
    return f"{operation.job.number}/{operation.sequence} {operation.operation_code}"


def slot_label(slot: ScheduleSlot) -> str:
    return operation_label(slot.operation)


def plant_when(instant: datetime) -> str:
    """An instant as the plant reads it: "Mon 03.06 09:15"."""
    return instant.astimezone(plant_time_zone()).strftime("%a %d.%m %H:%M")


def _bar(slot: ScheduleSlot, finish: dict[int, datetime], href: str, *, by_job: bool = False) -> gantt.Bar:
    job = slot.operation.job
    title = _(
        "%(op)s on %(machine)s · setup %(setup)d min from %(setup_start)s · run %(start)s–%(end)s · due %(due)s"
    ) % {
        "op": slot_label(slot),
        "machine": slot.work_center.code,
        "setup": slot.setup_minutes,
        "setup_start": plant_when(slot.setup_start),
        "start": plant_when(slot.start),
        "end": plant_when(slot.end),
        "due": job.due_date.isoformat(),
    }
    if slot.is_frozen:
        title += " · " + _("frozen (running or complete)")
    title += floor_progress(slot.operation)
    return gantt.Bar(
        slot_id=slot.pk,
        # A job's own row already names the job: its bars name the operation instead.
        label=f"{slot.operation.sequence} {slot.operation.operation_code}" if by_job else job.number,
        title=title,
        setup_start=slot.setup_start,
        start=slot.start,
        end=slot.end,
        tone=tone_of(slot, finish[job.pk], job.due_date),
        job_status=job.status,
        href=href.replace("SLOT", str(slot.pk)) if href else "",
    )


def _floor_operations(lo: datetime, hi: datetime, now: datetime) -> list[Operation]:
    """Operations the floor started (running, paused or complete) whose actual span, to now while
    not complete, overlaps [lo, hi): one query, whatever schedule they are in, if any."""
    rows = (
        Operation.objects.filter(status__in=FLOOR_STARTED, actual_start__lt=hi)
        .filter(Q(actual_end__gt=lo) | Q(actual_end__isnull=True))
        .select_related("job", "work_center")
        .order_by("actual_start", "pk")
    )
    # One not complete runs to now: it is in view once now has passed the window's start.
    return [operation for operation in rows if operation.status == OperationStatus.COMPLETE or now > lo]


def _actual(operation: Operation, machine: WorkCenter | None, now: datetime) -> gantt.Actual:
    """The floor's strip of a started operation (actual_start is set), on `machine`."""
    start = operation.actual_start
    assert start is not None  # _floor_operations reads started ones only
    values = {
        "op": operation_label(operation),
        "machine": machine.code if machine is not None else "?",
        "start": plant_when(start),
    }
    paused_since = None
    if operation.status == OperationStatus.COMPLETE:
        # Completed without an end recorded (data from before the floor app): a mark at its start.
        end = operation.actual_end or start
        state = gantt.FloorState.COMPLETE
        title = _("%(op)s on %(machine)s · actual start %(start)s · actual end %(end)s · complete") % {
            **values,
            "end": plant_when(end),
        }
    elif operation.paused_since is not None:
        end = max(now, start)
        state = gantt.FloorState.PAUSED
        paused_since = operation.paused_since
        title = _("%(op)s on %(machine)s · actual start %(start)s · paused since %(paused)s") % {
            **values,
            "paused": plant_when(paused_since),
        }
    else:
        end = max(now, start)
        state = gantt.FloorState.RUNNING
        title = _("%(op)s on %(machine)s · actual start %(start)s · running, not complete") % values
    return gantt.Actual(
        operation_id=operation.pk,
        title=f"{title} · {_counts(operation)}",
        start=start,
        end=end,
        state=state,
        paused_since=paused_since,
    )


def gantt_chart(
    schedule: Schedule,
    *,
    view: GanttView,
    zoom: Zoom,
    start_day: date,
    bar_href: str = "",
    now: datetime | None = None,
) -> gantt.Chart:
    """The Gantt of `schedule` over the window: one row per active work center (with its
    non-working time shaded) or one row per job with a slot in the window (with the plant's
    non-working time shaded: when no active work center works). Under the planned bars, what the
    floor did: each started operation's actual span, on the machine it ran on, whether or not it
    is in the schedule; in the job view for the schedule's jobs only.

    `bar_href` is a link for each bar with SLOT standing for the slot id. Queries: the slots in
    the window, each job's finish, the operations the floor started, the work centers and their
    calendars (at most four): eight at most.
    """
    tz = plant_time_zone()
    now = now or timezone.now()
    lo, hi = gantt.window(start_day, zoom.days, tz)
    slots = list(_slots(schedule).filter(end__gt=lo, setup_start__lt=hi).order_by("setup_start"))
    finish = job_finish(schedule)
    centers = list(WorkCenter.objects.filter(is_active=True).select_related("work_center_type"))
    intervals = working_intervals_for(centers, lo, hi)
    # Started from the office without a machine: drawn where it was planned, if that is in view.
    planned_on = {slot.operation_id: slot.work_center for slot in slots}
    actuals = []
    for op in _floor_operations(lo, hi, now):
        machine = op.work_center or planned_on.get(op.pk)
        actuals.append((op.job, machine, _actual(op, machine, now)))
    rows: list[gantt.Row] = []
    if view is GanttView.WORK_CENTER:
        by_center: dict[int, list[gantt.Bar]] = defaultdict(list)
        for slot in slots:
            by_center[slot.work_center_id].append(_bar(slot, finish, bar_href))
        actuals_by_center: dict[int, list[gantt.Actual]] = defaultdict(list)
        shown = {wc.pk for wc in centers}
        extra = {slot.work_center_id: slot.work_center for slot in slots if slot.work_center_id not in shown}
        for _job, machine, actual in actuals:
            if machine is None:
                continue
            actuals_by_center[machine.pk].append(actual)
            if machine.pk not in shown:
                extra[machine.pk] = machine
        for wc in [*centers, *extra.values()]:
            rows.append(
                gantt.Row(
                    label=wc.code,
                    title=f"{wc.code} {wc.name}",
                    bars=tuple(by_center.get(wc.pk, ())),
                    off=tuple(_gaps(intervals.get(wc.pk, []), lo, hi)),
                    actuals=tuple(actuals_by_center.get(wc.pk, ())),
                )
            )
    else:
        jobs: dict[int, Job] = {}
        bars_by_job: dict[int, list[gantt.Bar]] = defaultdict(list)
        for slot in slots:
            jobs[slot.operation.job_id] = slot.operation.job
            bars_by_job[slot.operation.job_id].append(_bar(slot, finish, bar_href, by_job=True))
        actuals_by_job: dict[int, list[gantt.Actual]] = defaultdict(list)
        for job, _machine, actual in actuals:
            if job.pk in finish:  # a job of this schedule
                jobs.setdefault(job.pk, job)
                actuals_by_job[job.pk].append(actual)
        plant_off = tuple(_gaps(sorted(chain.from_iterable(intervals.values())), lo, hi))
        for job in sorted(jobs.values(), key=lambda job: (job.due_date, job.number)):
            rows.append(
                gantt.Row(
                    label=job.number,
                    title=_("%(job)s due %(due)s") % {"job": job.number, "due": job.due_date.isoformat()},
                    bars=tuple(bars_by_job.get(job.pk, ())),
                    off=plant_off,
                    actuals=tuple(actuals_by_job.get(job.pk, ())),
                )
            )
    return gantt.Chart(
        start=lo,
        end=hi,
        rows=tuple(rows),
        tz=tz,
        hourly=zoom is Zoom.DAY,
        labels={
            "title": _("Gantt of %(schedule)s") % {"schedule": schedule.name},
            "now": _("Now: %(time)s") % {"time": plant_when(now)},
        },
        now=now,
    )


def _gaps(intervals: list[Interval], lo: datetime, hi: datetime) -> list[Interval]:
    """The complement of sorted `intervals` within [lo, hi)."""
    gaps = []
    cursor = lo
    for start, end in intervals:
        if start > cursor:
            gaps.append((cursor, min(start, hi)))
        cursor = max(cursor, end)
    if cursor < hi:
        gaps.append((cursor, hi))
    return [gap for gap in gaps if gap[1] > gap[0]]


# --- load versus capacity -------------------------------------------------------------------


@dataclass(frozen=True)
class LoadCell:
    period_start: date
    load_minutes: int
    capacity_minutes: int

    @property
    def percent(self) -> int:
        if not self.capacity_minutes:
            return 100 if self.load_minutes else 0
        return round(self.load_minutes * 100 / self.capacity_minutes)

    @property
    def overloaded(self) -> bool:
        return self.load_minutes > self.capacity_minutes


@dataclass(frozen=True)
class LoadRow:
    code: str
    name: str
    cells: tuple[LoadCell, ...]


def load_by_period(schedule: Schedule, *, start_day: date, periods: int, weekly: bool) -> list[LoadRow]:
    """Load against capacity for each active work center, per day (or week from `start_day`).

    Capacity: the working minutes of the period. Load: the minutes of the schedule's slots
    (setup and run) that fall in working time of the period, so a slot paused over a break
    counts only its work. A slot placed where the calendar has no working time at all (the
    calendar changed after planning) counts its wall-clock minutes, which is what overloads a period.
    Queries: the work centers, their calendars (at most four) and the slots.
    """
    tz = plant_time_zone()
    length = 7 if weekly else 1
    bounds = [gantt.window(start_day + timedelta(days=index * length), length, tz) for index in range(periods)]
    lo, hi = bounds[0][0], bounds[-1][1]
    centers = list(WorkCenter.objects.filter(is_active=True))
    intervals = working_intervals_for(centers, lo, hi)
    busy: dict[int, list[Interval]] = defaultdict(list)
    for wc_id, setup_start, end in ScheduleSlot.objects.filter(
        schedule=schedule, end__gt=lo, setup_start__lt=hi
    ).values_list("work_center_id", "setup_start", "end"):
        busy[wc_id].append((setup_start, end))
    rows = []
    for wc in centers:
        working = intervals.get(wc.pk, [])
        # A slot with no working time at all in the window sits where the calendar no longer
        # works: its wall-clock minutes are load without capacity.
        stranded = [(a, b) for a, b in busy.get(wc.pk, []) if not _overlap_minutes(working, max(a, lo), min(b, hi))]
        cells = []
        for period_lo, period_hi in bounds:
            capacity = _overlap_minutes(working, period_lo, period_hi)
            load = sum(
                _overlap_minutes(working, max(a, period_lo), min(b, period_hi))
                for a, b in busy.get(wc.pk, [])
                if b > period_lo and a < period_hi
            )
            load += sum(_overlap_minutes([(a, b)], period_lo, period_hi) for a, b in stranded)
            cells.append(LoadCell(period_lo.date(), load, capacity))
        rows.append(LoadRow(wc.code, wc.name, tuple(cells)))
    return rows


def _overlap_minutes(intervals: list[Interval], lo: datetime, hi: datetime) -> int:
    seconds = 0.0
    for start, end in intervals:
        if end <= lo or start >= hi:
            continue
        seconds += (min(end, hi) - max(start, lo)).total_seconds()
    return round(seconds / 60)


# --- late jobs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainStep:
    operation_id: int
    label: str
    work_center: str
    setup_start: datetime
    end: datetime
    ready: datetime
    wait_minutes: int
    queue: tuple[str, ...]  # the slots that held the machine while this operation waited


@dataclass(frozen=True)
class Recovery:
    overtime_minutes: int
    overtime_work_center: str
    alternative_work_center: str
    alternative_start: datetime | None
    alternative_gain_minutes: int

    @property
    def overtime_hours(self) -> Decimal:
        return (Decimal(self.overtime_minutes) / 60).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class LateJob:
    job_id: int
    number: str
    due_date: date
    finish: datetime
    minutes_late: int
    chain: tuple[ChainStep, ...]
    bottleneck: str  # the work center whose queue it waited in longest
    recovery: Recovery


def late_jobs(schedule: Schedule) -> list[LateJob]:
    """Each job that ends after its due date in `schedule`, with the chain of operations that
    made it late and what would recover the date, latest first.

    Queries: the slots, the job's operation links, the work centers and their calendars.
    """
    slots = list(_slots(schedule).order_by("setup_start"))
    if not slots:
        return []
    finish = job_finish_from(slots)
    late_ids = {
        slot.operation.job_id
        for slot in slots
        if finish[slot.operation.job_id] > end_of_plant_day(slot.operation.job.due_date)
    }
    if not late_ids:
        return []
    by_operation = {slot.operation_id: slot for slot in slots}
    by_center: dict[int, list[ScheduleSlot]] = defaultdict(list)
    for slot in slots:
        by_center[slot.work_center_id].append(slot)
    before = _predecessors(late_ids)
    centers = list(WorkCenter.objects.filter(is_active=True))
    intervals = working_intervals_for(centers, schedule.horizon_start, schedule.horizon_end + timedelta(days=30))
    result = []
    for job_id in late_ids:
        job_slots = [slot for slot in slots if slot.operation.job_id == job_id]
        job = job_slots[0].operation.job
        chain = _critical_chain(job_slots, before, by_operation, by_center, schedule.horizon_start)
        minutes_late = _minutes(end_of_plant_day(job.due_date), finish[job_id])
        result.append(_explain(job, finish[job_id], minutes_late, chain, by_operation, by_center, centers, intervals))
    result.sort(key=lambda late: (-late.minutes_late, late.number))
    return result


def job_finish_from(slots: list[ScheduleSlot]) -> dict[int, datetime]:
    finish: dict[int, datetime] = {}
    for slot in slots:
        job_id = slot.operation.job_id
        if job_id not in finish or slot.end > finish[job_id]:
            finish[job_id] = slot.end
    return finish


def _predecessors(job_ids: set[int]) -> dict[int, list[int]]:
    """Operation id → predecessor operation ids (explicit, else the previous in sequence)."""
    links = Operation.predecessors.through.objects.filter(from_operation__job_id__in=job_ids).values_list(
        "from_operation_id", "to_operation_id"
    )
    explicit: dict[int, list[int]] = defaultdict(list)
    for after, before_id in links:
        explicit[after].append(before_id)
    operations = Operation.objects.filter(job_id__in=job_ids).values_list("pk", "job_id", "sequence")
    by_job: dict[int, dict[int, int]] = defaultdict(dict)
    for pk, job_id, sequence in operations:
        by_job[job_id][sequence] = pk
    result: dict[int, list[int]] = {}
    for sequences in by_job.values():
        pk_of = dict(sequences)
        seq_of = {pk: seq for seq, pk in pk_of.items()}
        given = {seq: [seq_of[b] for b in explicit.get(pk, []) if b in seq_of] for seq, pk in pk_of.items()}
        defaults = default_predecessors(list(pk_of), given)
        for seq, pk in pk_of.items():
            cross_job = [b for b in explicit.get(pk, []) if b not in seq_of]
            result[pk] = [pk_of[b] for b in defaults[seq]] + cross_job
    return result


def _critical_chain(
    job_slots: list[ScheduleSlot],
    before: dict[int, list[int]],
    by_operation: dict[int, ScheduleSlot],
    by_center: dict[int, list[ScheduleSlot]],
    horizon_start: datetime,
) -> list[ChainStep]:
    """Walk back from the job's last slot through the predecessor that ended last."""
    current: ScheduleSlot | None = max(job_slots, key=lambda slot: slot.end)
    steps: list[ChainStep] = []
    while current is not None:
        preds = [by_operation[pk] for pk in before.get(current.operation_id, []) if pk in by_operation]
        previous = max(preds, key=lambda slot: slot.end) if preds else None
        ready = previous.end if previous is not None else min(current.setup_start, horizon_start)
        queue = tuple(
            slot_label(other)
            for other in by_center[current.work_center_id]
            if other.pk != current.pk and other.end > ready and other.setup_start < current.setup_start
        )
        steps.append(
            ChainStep(
                operation_id=current.operation_id,
                label=slot_label(current),
                work_center=current.work_center.code,
                setup_start=current.setup_start,
                end=current.end,
                ready=ready,
                wait_minutes=max(_minutes(ready, current.setup_start), 0),
                queue=queue,
            )
        )
        current = previous
    steps.reverse()
    return steps


def _explain(
    job: Job,
    finish: datetime,
    minutes_late: int,
    chain: list[ChainStep],
    by_operation: dict[int, ScheduleSlot],
    by_center: dict[int, list[ScheduleSlot]],
    centers: list[WorkCenter],
    intervals: dict[int, list[Interval]],
) -> LateJob:
    longest = max(chain, key=lambda step: step.wait_minutes)
    slot = by_operation[longest.operation_id]
    alternative, alternative_start, gain = "", None, 0
    if longest.wait_minutes:
        for wc in centers:
            if wc.pk == slot.work_center_id or wc.work_center_type_id != slot.operation.work_center_type_id:
                continue
            minutes = slot.setup_minutes + minutes_on(
                EditMachine(wc.code, wc.work_center_type_id, "", True, float(wc.efficiency)),
                float(slot.operation.total_minutes),
            )
            found = _earliest_gap(longest.ready, minutes, intervals.get(wc.pk, []), by_center.get(wc.pk, []))
            if (
                found is not None
                and found < slot.setup_start
                and (alternative_start is None or found < alternative_start)
            ):
                alternative, alternative_start = wc.code, found
                gain = _minutes(found, slot.setup_start)
    return LateJob(
        job_id=job.pk,
        number=job.number,
        due_date=job.due_date,
        finish=finish,
        minutes_late=minutes_late,
        chain=tuple(chain),
        bottleneck=longest.work_center if longest.wait_minutes else "",
        recovery=Recovery(
            overtime_minutes=min(minutes_late, longest.wait_minutes),
            overtime_work_center=longest.work_center if longest.wait_minutes else "",
            alternative_work_center=alternative,
            alternative_start=alternative_start,
            alternative_gain_minutes=gain,
        ),
    )


def _earliest_gap(
    ready: datetime, minutes: int, working: list[Interval], occupied: list[ScheduleSlot]
) -> datetime | None:
    """The first instant from `ready` at which `minutes` of work fit on a machine between its
    slots, following its working time; None when nothing fits in the known working time."""
    busy = sorted((slot.setup_start, slot.end) for slot in occupied)
    candidate = ready
    for _attempt in range(len(busy) + len(working) + 1):
        inside = next(((lo, hi) for lo, hi in working if hi > candidate), None)
        if inside is None:
            return None
        candidate = max(candidate, inside[0])
        end = follow_working_time(candidate, minutes, working)
        if end is None:
            return None
        blocking = [slot_end for slot_start, slot_end in busy if slot_start < end and candidate < slot_end]
        if not blocking:
            return candidate
        candidate = max(blocking)
    return None


def _minutes(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() / 60)


def schedule_queryset() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("run", "created_by", "published_by", "based_on")


def kpi_rows(schedule: Schedule) -> list[dict[str, Any]]:
    """The plan's KPIs, the earlier plan's it started from (rebuilt on the same work), then each dispatch rule's,
    for the comparison table."""
    rows = []
    if schedule.kpis:
        rows.append({"name": _("Optimised plan"), "is_plan": True, "missing": False, **_flat(schedule.kpis)})
    if schedule.based_on_kpis:
        earlier = schedule.based_on.name if schedule.based_on is not None else _("Earlier plan")
        name = _("%(plan)s, rebuilt") % {"plan": earlier}
        rows.append({"name": name, "is_plan": False, "missing": False, **_flat(schedule.based_on_kpis)})
    for rule, values in sorted((schedule.rule_kpis or {}).items()):
        rows.append({"name": rule, "is_plan": False, "missing": values is None, **_flat(values or {})})
    return rows


def progress_stage(schedule: Schedule) -> str:
    """Which objective the run's "best objective so far" is (stages report in turn), for people; "" if none."""
    stage = (schedule.run.progress_detail or {}).get("stage") if schedule.run is not None else None
    labels = {
        "weighted_tardiness": _("weighted tardiness"),
        "makespan": _("makespan, minutes"),
        "total_setup": _("setup minutes"),
        "weighted": _("weighted sum of the objectives"),
    }
    return labels.get(stage, "") if isinstance(stage, str) else ""


def gap_percent(schedule: Schedule) -> Decimal | None:
    return None if schedule.gap is None else schedule.gap * 100


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    utilisation = values.get("utilisation") or {}
    mean = sum(utilisation.values()) / len(utilisation) if utilisation else None
    return {
        "late_jobs": values.get("late_jobs"),
        "weighted_tardiness": values.get("weighted_tardiness"),
        "total_tardiness_minutes": values.get("total_tardiness_minutes"),
        "makespan_minutes": values.get("makespan_minutes"),
        "setup_minutes": values.get("setup_minutes"),
        "mean_utilisation": round(mean * 100, 1) if mean is not None else None,
    }
