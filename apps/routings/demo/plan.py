"""The demo shop as plain dataclasses: parts with their routings and the open jobs, some already
on the floor. Pure and seeded: the same moment and seed give the same plan."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from apps.machines import calendar
from apps.routings.choices import JobStatus, Priority
from apps.routings.precedence import default_predecessors

from .catalog import CUSTOMERS, FAMILIES, HOLD_REASONS, PLANT_SHIFTS, SEGMENT_MARKETS, SEGMENT_WEIGHTS, WEEKDAYS, Family

JOB_COUNT = 300
HORIZON_DAYS = 42
IN_PROGRESS_COUNT = 25
ON_HOLD_COUNT = 6
DRAFT_COUNT = 30
SUPERSEDED_REVISIONS = 14

DEMO_SEED = 1903


@dataclass(frozen=True)
class StepPlan:
    sequence: int
    operation_code: str
    description: str
    work_center_type: str
    preferred_work_center: str
    setup_minutes: Decimal
    run_minutes_per_unit: Decimal
    after: tuple[int, ...]


@dataclass(frozen=True)
class PartPlan:
    number: str
    revision: str
    description: str
    family: Family
    material: str
    customer: str  # empty: a catalogue part anyone may order
    is_active: bool
    steps: tuple[StepPlan, ...]


@dataclass(frozen=True)
class OperationTimes:
    """When the floor started (and maybe finished) one operation of a job in progress."""

    sequence: int
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class JobPlan:
    number: str
    customer: str
    part: tuple[str, str]
    quantity: int
    due_date: date
    priority: int
    sales_order: str
    status: str
    hold_reason: str = ""
    released_at: datetime | None = None
    status_changed_at: datetime | None = None
    progress: tuple[OperationTimes, ...] = ()


@dataclass(frozen=True)
class Holiday:
    name: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class DemoPlan:
    holidays: tuple[Holiday, ...]
    maintenance_window: tuple[datetime, datetime]
    parts: tuple[PartPlan, ...]
    jobs: tuple[JobPlan, ...]


def plan_demo_shop(*, now: datetime, tz: ZoneInfo, seed: int = DEMO_SEED, job_prefix: str = "") -> DemoPlan:
    """The whole demo shop as it looks at `now` in the plant's time zone `tz`: parts, routings and
    open jobs due over the next six weeks, some of them already on the floor."""
    today = now.astimezone(tz).date()
    rng = random.Random(seed)
    holidays = tuple(us_plant_holidays(today, today + timedelta(days=366)))
    parts = _plan_parts(rng)
    jobs = _plan_jobs(rng, parts, now, tz, holidays, job_prefix or f"J{today:%y}")
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
    if (wednesday - today).days < 3:
        wednesday += timedelta(days=7)
    window = (datetime.combine(wednesday, time(6), tz), datetime.combine(wednesday, time(14, 30), tz))
    return DemoPlan(holidays, window, tuple(parts), tuple(jobs))


def us_plant_holidays(first: date, last: date) -> list[Holiday]:
    """The US public holidays the plant closes for, between `first` and `last`.

    A holiday on a weekend is observed on the Friday before or the Monday after; the closure
    covers both days so that the lasers' Saturday shift is closed too.
    """

    def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
        day = date(year, month, 1)
        day += timedelta(days=(weekday - day.weekday()) % 7)
        return day + timedelta(weeks=n - 1)

    def last_weekday(year: int, month: int, weekday: int) -> date:
        day = date(year, month + 1, 1) - timedelta(days=1)
        return day - timedelta(days=(day.weekday() - weekday) % 7)

    def observed(day: date) -> date:
        return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=1) if day.weekday() == 6 else day

    found = []
    for year in range(first.year, last.year + 1):
        thanksgiving = nth_weekday(year, 11, 3, 4)
        fixed = (
            ("New Year's Day", date(year, 1, 1), date(year, 1, 1)),
            ("Memorial Day", last_weekday(year, 5, 0), last_weekday(year, 5, 0)),
            ("Independence Day", date(year, 7, 4), date(year, 7, 4)),
            ("Labor Day", nth_weekday(year, 9, 0, 1), nth_weekday(year, 9, 0, 1)),
            ("Thanksgiving", thanksgiving, thanksgiving + timedelta(days=1)),
            ("Christmas", date(year, 12, 24), date(year, 12, 25)),
        )
        for name, start, end in fixed:
            holiday = Holiday(name, min(start, observed(start)), max(end, observed(end)))
            if holiday.last_day >= first and holiday.first_day <= last:
                found.append(holiday)
    return sorted(found, key=lambda h: h.first_day)


def _minutes(value: float, places: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


def _plan_parts(rng: random.Random) -> list[PartPlan]:
    buyers = {
        market: [code for code, _name, segment, _area in CUSTOMERS if market in SEGMENT_MARKETS[segment]]
        for market in ("kitchen", "doors")
    }
    parts: list[PartPlan] = []
    for family in FAMILIES:
        for variant in family.variants:
            kept = [step for step in family.steps if step.sequence not in variant.skip]
            sequences = {step.sequence for step in kept}
            steps = tuple(
                StepPlan(
                    sequence=step.sequence,
                    operation_code=step.code,
                    description=step.description,
                    work_center_type=step.type,
                    preferred_work_center=step.long_work_center if variant.long else "",
                    setup_minutes=_minutes(min(60, max(10, 5 * round(step.setup * rng.uniform(0.8, 1.25) / 5))), "1"),
                    run_minutes_per_unit=_minutes(
                        min(25.0, max(0.5, round(step.run * variant.size * rng.uniform(0.85, 1.15) * 20) / 20)),
                        "0.01",
                    ),
                    after=tuple(before for before in step.after if before in sequences),
                )
                for step in kept
            )
            customer = ""
            if family.market in buyers and rng.random() < family.custom_share:
                customer = rng.choice(buyers[family.market])
            number = f"{family.prefix}-{variant.suffix}"
            parts.append(PartPlan(number, "A", variant.description, family, variant.material, customer, True, steps))
    # Some parts changed since they were first made: the old revision stays, inactive, for history.
    for index in sorted(rng.sample(range(len(parts)), SUPERSEDED_REVISIONS)):
        old = parts[index]
        steps = tuple(
            replace(step, setup_minutes=step.setup_minutes + 5) if step.sequence == 10 else step for step in old.steps
        )
        parts[index] = replace(old, is_active=False, steps=steps)
        parts.append(replace(old, revision="B"))
    return parts


def _plan_jobs(
    rng: random.Random,
    parts: Sequence[PartPlan],
    now: datetime,
    tz: ZoneInfo,
    holidays: Sequence[Holiday],
    prefix: str,
) -> list[JobPlan]:
    today = now.astimezone(tz).date()
    closed = {h.first_day + timedelta(days=n) for h in holidays for n in range((h.last_day - h.first_day).days + 1)}

    def working_day(day: date) -> date:
        """The working day on or before `day` (or else after it) within the horizon."""
        first, last = today + timedelta(days=1), today + timedelta(days=HORIZON_DAYS)
        day = min(max(day, first), last)
        for step in (-1, 1):
            candidate = day
            while first <= candidate <= last:
                if candidate.weekday() < 5 and candidate not in closed:
                    return candidate
                candidate += timedelta(days=step)
        return day

    by_segment: dict[str, list[str]] = {}
    for code, _name, segment, _area in CUSTOMERS:
        by_segment.setdefault(segment, []).append(code)
    segments = list(SEGMENT_WEIGHTS)
    lines: list[tuple[float, JobPlan]] = []
    order = 0
    while len(lines) < JOB_COUNT:
        order += 1
        segment = rng.choices(segments, weights=[SEGMENT_WEIGHTS[s] for s in segments])[0]
        customer = rng.choice(by_segment[segment])
        families = [f for f in FAMILIES if f.market in SEGMENT_MARKETS[segment]]
        priority = rng.choices(list(Priority), weights=(7, 15, 70, 8))[0]
        if segment == "internal":
            priority = rng.choice((Priority.NORMAL, Priority.LOW))
        due = today + timedelta(days=rng.randint(1, 10) if priority == Priority.RUSH else rng.randint(3, HORIZON_DAYS))
        sales_order = "" if segment == "internal" else f"SO-{48210 + order * 3 + rng.randint(0, 2)}"
        chosen: set[tuple[str, str]] = set()
        for _line in range(rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]):
            family = rng.choices(families, weights=[f.weight for f in families])[0]
            candidates = [p for p in parts if p.family is family and p.is_active and p.customer in ("", customer)]
            part = rng.choice(candidates) if candidates else None
            if part is None or (part.number, part.revision) in chosen:
                continue
            chosen.add((part.number, part.revision))
            low, high, multiple = family.quantity
            quantity = max(low, multiple * round(rng.triangular(low, high, low + (high - low) * 0.3) / multiple))
            job = JobPlan(
                number="",
                customer=customer,
                part=(part.number, part.revision),
                quantity=quantity,
                due_date=working_day(due + timedelta(days=rng.choice((0, 0, 0, -1, -2)))),
                priority=priority,
                sales_order=sales_order,
                status=JobStatus.RELEASED,
            )
            lines.append((rng.random(), job))
    lines = sorted(lines[:JOB_COUNT], key=lambda pair: (pair[1].due_date, pair[0]))
    jobs = [replace(job, number=f"{prefix}-{n:04d}") for n, (_key, job) in enumerate(lines, 1)]
    return _plan_statuses(rng, jobs, parts, now, tz)


def _plan_statuses(
    rng: random.Random,
    jobs: list[JobPlan],
    parts: Sequence[PartPlan],
    now: datetime,
    tz: ZoneInfo,
) -> list[JobPlan]:
    """Jobs due soonest are on the floor, the latest are still drafts, a few are held."""
    count = len(jobs)
    started = set(rng.sample(range(count * 35 // 100), IN_PROGRESS_COUNT))
    held = set(rng.sample([n for n in range(count * 70 // 100) if n not in started], ON_HOLD_COUNT))
    drafts = set(rng.sample(range(count - count * 30 // 100, count), DRAFT_COUNT))
    steps_of = {(p.number, p.revision): p.steps for p in parts}
    past = _past_working_time(now, tz, days=14)
    # The floor's last few days, when the jobs in progress were worked.
    recent = _between(past, now - timedelta(days=6), now)
    hours, days = timedelta(hours=1), timedelta(days=1)
    planned = []
    for n, job in enumerate(jobs):
        if n in drafts:
            planned.append(replace(job, status=JobStatus.DRAFT))
        elif n in started:
            # Its own generator, so the time of day (how much past shift there is) changes only this job.
            progress = _progress(random.Random(rng.random()), steps_of[job.part], job.quantity, recent, now)
            first = progress[0].start
            planned.append(
                replace(
                    job,
                    status=JobStatus.IN_PROGRESS,
                    progress=progress,
                    released_at=_working_moment(rng, past, now - 14 * days, first - 4 * hours),
                    status_changed_at=first,
                )
            )
        elif n in held:
            released = _working_moment(rng, past, now - 14 * days, now - 3 * days)
            planned.append(
                replace(
                    job,
                    status=JobStatus.ON_HOLD,
                    hold_reason=rng.choice(HOLD_REASONS),
                    released_at=released,
                    status_changed_at=_working_moment(rng, past, now - 3 * days, now),
                )
            )
        else:
            released = _working_moment(rng, past, now - 10 * days, now)
            planned.append(replace(job, released_at=released, status_changed_at=released))
    return planned


def _past_working_time(now: datetime, tz: ZoneInfo, *, days: int) -> list[calendar.Interval]:
    """The plant's working time over the last `days` days."""
    shifts = [
        calendar.Shift(day, start, end, tuple(calendar.Break(*brk) for brk in breaks))
        for day in WEEKDAYS
        for _name, start, end, breaks in PLANT_SHIFTS
    ]
    today = now.astimezone(tz).date()
    closures = [
        calendar.CalendarException(calendar.ExceptionKind.HOLIDAY, *calendar.day_span(h.first_day, h.last_day, tz))
        for h in us_plant_holidays(today - timedelta(days=days + 1), today)
    ]
    return calendar.working_intervals(shifts, closures, tz, now - timedelta(days=days), now)


def _between(intervals: Sequence[calendar.Interval], low: datetime, high: datetime) -> list[calendar.Interval]:
    return [(max(start, low), min(end, high)) for start, end in intervals if end > low and start < high]


def _working_moment(
    rng: random.Random, intervals: Sequence[calendar.Interval], low: datetime, high: datetime
) -> datetime:
    """A random moment of working time between `low` and `high` (a planner releases work in a
    shift, not at 3 a.m.); `high` when there is none."""
    share = rng.random()
    spans = _between(intervals, low, high)
    total = sum((end - start for start, end in spans), timedelta()) / timedelta(minutes=1)
    return (_advance(spans, spans[0][0], share * total) if spans else None) or high


def _advance(intervals: Sequence[calendar.Interval], start: datetime, minutes: float) -> datetime | None:
    """The instant `minutes` of working time after `start`; None when that is not yet past."""
    left = timedelta(minutes=minutes)
    for low, high in intervals:
        if high <= start:
            continue
        begin = max(low, start)
        if begin + left <= high:
            return begin + left
        left -= high - begin
    return None


def _progress(
    rng: random.Random, steps: Sequence[StepPlan], quantity: int, past: Sequence[calendar.Interval], now: datetime
) -> tuple[OperationTimes, ...]:
    """The first operations of a job in progress, worked one after another in past shifts.

    The last operation is never finished, so the job stays open.
    """
    available = sum((high - low for low, high in past), timedelta()) / timedelta(minutes=1)
    first = _advance(past, past[0][0], rng.uniform(0, available * 0.8)) if available > 60 else None
    cursor = first or now - timedelta(hours=1)
    to_finish = min(rng.choice((0, 1, 1, 2, 2, 3)), len(steps) - 2)
    explicit = {step.sequence: list(step.after) for step in steps}
    befores = default_predecessors([step.sequence for step in steps], explicit)
    done: set[int] = set()
    times: list[OperationTimes] = []
    for step in steps:
        if not set(befores[step.sequence]) <= done:
            break
        start = _advance(past, cursor, 0) or cursor
        minutes = float(step.setup_minutes + step.run_minutes_per_unit * quantity)
        end = _advance(past, start, minutes) if len(done) < to_finish else None
        times.append(OperationTimes(step.sequence, start, end))
        if end is None:
            break
        done.add(step.sequence)
        following = _advance(past, end, rng.uniform(15, 240))
        if following is None:
            break
        cursor = following
    return tuple(times)
