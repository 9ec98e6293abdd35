"""Planning runs and publishing: every state change of schedules.

A planning run is a Schedule in status "planning" with a core background Job; the Celery task
solves it and writes its slots in one transaction (status "ready"), or marks it failed. The job's
error says why a run failed (the Schedule has no reason field of its own). Status moves are
conditional updates on the old status, so a second delivery of the task or two people publishing
at once change nothing twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import services as jobs
from apps.core.notifications import MACHINE_CREW, notify_audience
from apps.core.permissions import require_permission
from apps.machines.selectors import NoShiftCalendar
from apps.routings.choices import OperationStatus
from apps.routings.models import Operation as ShopOperation

from . import solver
from .adapter import PlanningInput, build_planning_input, earlier_plan, horizon_start
from .choices import Objective, ScheduleStatus
from .kpis import schedule_kpis
from .models import Schedule, ScheduleSlot
from .selectors import plant_when, published_schedule
from .solver.check import check_problem

logger = logging.getLogger(__name__)

PLAN = "scheduling.plan_schedule"
PUBLISH = "scheduling.publish_schedule"
JOB_KIND = "scheduling.plan"
# Six weeks: the due window of a typical order book (and of the demo shop's 300 jobs).
DEFAULT_HORIZON_DAYS = 42
MAX_HORIZON_DAYS = 90
# How often the worker writes the solver's progress to the job (and looks for a cancel request).
POLL_SECONDS = 1.0

# The chosen objective comes first; the others follow as tie-breakers in the default order.
_PRIMARY = {
    Objective.LEXICOGRAPHIC: solver.Objective.WEIGHTED_TARDINESS,
    Objective.TARDINESS: solver.Objective.WEIGHTED_TARDINESS,
    Objective.MAKESPAN: solver.Objective.MAKESPAN,
    Objective.SETUP: solver.Objective.TOTAL_SETUP,
}


def solver_objectives(objective: str) -> tuple[solver.Objective, ...]:
    primary = _PRIMARY[Objective(objective)]
    return (primary, *(other for other in solver.DEFAULT_OBJECTIVES if other is not primary))


def start_planning_run(
    *,
    actor: Any,
    name: str = "",
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    objective: str = "lexicographic",
    time_limit_seconds: int = 60,
    workers: int = 2,
    allow_break_straddle: bool = True,
    start_from_published: bool = True,
    queue: bool = True,
    now: datetime | None = None,
) -> Schedule:
    """A planning run over the next `horizon_days` days, starting now (next whole minute; `now` sets that
    moment, as the demo's commands can), queued for a worker; with `queue=False` it waits for the caller
    to run `plan_schedule` itself (the demo does).

    With `start_from_published` the run starts from the schedule published now, where that still
    beats the dispatch rules on the work as it stands when the run is solved (`based_on`)."""
    require_permission(actor, PLAN)
    if objective not in Objective.values:
        raise ValidationError(_("Unknown objective %(objective)s.") % {"objective": objective})
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ValidationError(_("The horizon must be 1 to %(max)d days.") % {"max": MAX_HORIZON_DAYS})
    if time_limit_seconds < 1 or workers < 1:
        raise ValidationError(_("The time limit and the number of workers must be at least 1."))
    start = horizon_start(now or timezone.now())
    name = name.strip() or _("Plan of %(when)s") % {"when": timezone.localtime(start).strftime("%Y-%m-%d %H:%M")}
    with transaction.atomic():
        run = jobs.create_job(kind=JOB_KIND, name=name, requested_by=actor)
        schedule = Schedule.objects.create(
            name=name,
            objective=objective,
            horizon_start=start,
            horizon_end=start + timedelta(days=horizon_days),
            time_limit_seconds=time_limit_seconds,
            workers=workers,
            allow_break_straddle=allow_break_straddle,
            based_on=published_schedule() if start_from_published else None,
            run=run,
            created_by=actor,
        )
        if queue:
            from .tasks import plan_schedule_task

            transaction.on_commit(lambda: plan_schedule_task.delay(schedule.pk))
    return schedule


@dataclass
class _Progress:
    """What the solver threads last reported, read by the thread that talks to the database."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latest: solver.SolveProgress | None = None
    cancelled: bool = False

    def update(self, report: solver.SolveProgress) -> bool:
        with self.lock:
            self.latest = report
            return not self.cancelled


@dataclass
class _Outcome:
    result: solver.SolveResult | None = None
    error: BaseException | None = None


def plan_schedule(*, schedule_id: int) -> Schedule:
    """Solve a queued planning run and store its slots and KPIs. A schedule no longer planning is left alone."""
    schedule = Schedule.objects.get(pk=schedule_id)
    if schedule.status != ScheduleStatus.PLANNING:
        return schedule
    job_id = schedule.run_id
    if job_id is not None and not jobs.start_job(job_id=job_id):
        _fail(schedule, None, "")  # cancelled while queued: the job already says so
        return _reloaded(schedule)
    days = max(1, round((schedule.horizon_end - schedule.horizon_start) / timedelta(days=1)))
    try:
        planning = build_planning_input(
            origin=schedule.horizon_start, horizon_days=days, allow_break_straddle=schedule.allow_break_straddle
        )
        settings = solver.SolverSettings(
            time_limit_s=float(schedule.time_limit_seconds),
            workers=schedule.workers,
            objectives=solver_objectives(schedule.objective),
        )
        start_from = earlier_plan(schedule.based_on, planning) if schedule.based_on is not None else None
        result = _solve_reporting(planning.problem, settings, job_id, schedule.time_limit_seconds, start_from)
    except jobs.JobCancelled:
        _fail(schedule, None, "")
        if job_id is not None:
            jobs.mark_job_cancelled(job_id=job_id)
        return _reloaded(schedule)
    except (solver.InputError, NoShiftCalendar) as error:
        _fail(schedule, job_id, str(error))
        return _reloaded(schedule)
    except Exception as error:
        logger.exception("planning run of schedule %s failed", schedule_id)
        _fail(schedule, job_id, _("The planning run failed: %(error)s") % {"error": error})
        raise
    if result.schedule is None:
        if not result.rule_values:
            reason = _(
                "The open work does not fit in the %(days)d-day horizon on these calendars: plan a longer horizon."
            ) % {"days": days}
        else:
            reason = "; ".join(result.messages) or _("No schedule was found within the time limit.")
        _fail(schedule, job_id, reason)
        return _reloaded(schedule)
    violations = solver.validate_schedule(planning.problem, result.schedule)
    if violations:
        _fail(schedule, job_id, "; ".join(str(violation) for violation in violations[:10]))
        return _reloaded(schedule)
    kpis = schedule_kpis(planning.problem, result.schedule)
    rules = rule_kpis(planning.problem)
    if not _store(schedule, planning, result, kpis, rules):
        return _reloaded(schedule)
    if job_id is not None:
        jobs.finish_job(
            job_id=job_id,
            result={"schedule": schedule.pk, "status": str(result.status), "kpis": kpis},
            message=_("%(count)d operations planned (%(status)s).")
            % {"count": len(result.schedule.operations), "status": result.status},
        )
    return _reloaded(schedule)


def _solve_reporting(
    problem: solver.Problem,
    settings: solver.SolverSettings,
    job_id: int | None,
    time_limit: int,
    start_from: solver.Schedule | None,
) -> solver.SolveResult:
    """Solve in a thread; this thread writes progress to the job and relays a cancel request.

    Only this thread uses the database: the solver calls back from its own threads, which only
    record the latest report and learn from the flag whether to stop.
    """
    progress = _Progress()
    outcome = _Outcome()

    def run() -> None:
        try:
            outcome.result = solver.solve(problem, settings, progress=progress.update, start_from=start_from)
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            outcome.error = error

    worker = threading.Thread(target=run, name="plan-schedule", daemon=True)
    started = timezone.now()
    worker.start()
    try:
        while True:
            worker.join(POLL_SECONDS)
            if job_id is not None:
                _report(job_id, progress, started, time_limit)
            if not worker.is_alive():
                break
    except jobs.JobCancelled:
        with progress.lock:
            progress.cancelled = True
        worker.join()
        raise
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None  # the thread ended without an error
    if outcome.result.stopped and progress.cancelled:
        raise jobs.JobCancelled(f"job {job_id} was cancelled")
    return outcome.result


def _report(job_id: int, progress: _Progress, started: datetime, time_limit: int) -> None:
    with progress.lock:
        latest = progress.latest
    elapsed = (timezone.now() - started).total_seconds()
    detail: dict[str, Any] = {"objective": None, "best_bound": None, "solutions": 0, "stage": None}
    if latest is not None:
        detail = {
            "objective": latest.objective,
            "best_bound": latest.best_bound,
            "solutions": latest.solutions,
            "stage": latest.stage,
        }
    jobs.report_job_progress(job_id=job_id, percent=min(99, int(100 * elapsed / max(1, time_limit))), detail=detail)


def rule_kpis(problem: solver.Problem) -> dict[str, dict[str, Any] | None]:
    """The plan's KPIs as each dispatch rule would schedule the same input (None: the rule found no schedule)."""
    checked = check_problem(problem)
    figures: dict[str, dict[str, Any] | None] = {}
    for rule in solver.Rule:
        built = solver.build_schedule(checked, rule)
        valid = built is not None and not solver.validate_schedule(problem, built)
        figures[str(rule)] = schedule_kpis(problem, built) if built is not None and valid else None
    return figures


def _store(
    schedule: Schedule,
    planning: PlanningInput,
    result: solver.SolveResult,
    kpis: Mapping[str, Any],
    rules: Mapping[str, Any],
) -> bool:
    """Write the slots and mark the schedule ready in one transaction; False if it stopped planning meanwhile."""
    assert result.schedule is not None
    windows = {machine.id: machine.working for machine in planning.problem.machines}
    slots = []
    for row in result.schedule.operations:
        operation = planning.operations[(row.job, row.operation)]
        slots.append(
            ScheduleSlot(
                schedule=schedule,
                operation=operation,
                work_center=planning.work_centers[row.machine],
                setup_start=planning.at(setup_start(windows[row.machine], row.start, row.setup)),
                start=planning.at(row.start),
                end=planning.at(row.end),
                setup_minutes=row.setup,
                is_frozen=operation.status != OperationStatus.PENDING,
            )
        )
    gap = None if result.gap is None else Decimal(str(round(min(max(result.gap, 0.0), 999.0), 4)))
    with transaction.atomic():
        moved = Schedule.objects.filter(pk=schedule.pk, status=ScheduleStatus.PLANNING).update(
            status=ScheduleStatus.READY,
            solver_status=str(result.status),
            objective_value=result.objective,
            best_bound=result.best_bound,
            gap=gap,
            kpis=dict(kpis),
            rule_kpis=dict(rules),
            start=result.start,
            based_on_kpis=schedule_kpis(planning.problem, result.followed) if result.followed is not None else {},
            updated_at=timezone.now(),
        )
        if not moved:
            return False
        ScheduleSlot.objects.bulk_create(slots)
    return True


def setup_start(windows: tuple[tuple[int, int], ...], start: int, setup: int) -> int:
    """The minute a changeover of `setup` working minutes must begin to end at `start`."""
    left = setup
    for low, high in reversed(windows):
        if left <= 0:
            break
        if low >= start:
            continue
        available = min(high, start) - low
        if available >= left:
            return min(high, start) - left
        left -= available
        start = low
    return start - max(0, left)


def _fail(schedule: Schedule, job_id: int | None, error: str) -> None:
    Schedule.objects.filter(pk=schedule.pk, status=ScheduleStatus.PLANNING).update(
        status=ScheduleStatus.FAILED, updated_at=timezone.now()
    )
    if job_id is not None and error:
        jobs.fail_job(job_id=job_id, error=error)


def _reloaded(schedule: Schedule) -> Schedule:
    schedule.refresh_from_db()
    return schedule


def publish_schedule(*, actor: Any, schedule_id: int) -> Schedule:
    """Publish a ready schedule: the published one (if any) is superseded and operations get its planned times."""
    require_permission(actor, PUBLISH)
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
        if schedule.status != ScheduleStatus.READY:
            raise ValidationError(
                _("Schedule %(name)s is %(status)s; only a schedule ready for review can be published.")
                % {"name": schedule.name, "status": schedule.get_status_display().lower()}
            )
        now = timezone.now()
        before = next_planned_work(Schedule.objects.filter(status=ScheduleStatus.PUBLISHED).exclude(pk=schedule.pk))
        Schedule.objects.filter(status=ScheduleStatus.PUBLISHED).exclude(pk=schedule.pk).update(
            status=ScheduleStatus.SUPERSEDED, updated_at=now
        )
        moved = Schedule.objects.filter(pk=schedule.pk, status=ScheduleStatus.READY).update(
            status=ScheduleStatus.PUBLISHED, published_at=now, published_by=actor, updated_at=now
        )
        if not moved:
            raise ValidationError(_("Schedule %(name)s was changed just now.") % {"name": schedule.name})
        # The machine is taken from the changeover on, so that is when the operation is planned to start.
        times = {
            slot.operation_id: (slot.setup_start, slot.end)
            for slot in ScheduleSlot.objects.filter(schedule=schedule).only("operation_id", "setup_start", "end")
        }
        operations = list(ShopOperation.objects.filter(pk__in=times))
        for operation in operations:
            operation.planned_start, operation.planned_end = times[operation.pk]
            operation.updated_at = now
        ShopOperation.objects.bulk_update(operations, ["planned_start", "planned_end", "updated_at"], batch_size=500)
        _tell_crews_of_new_next_work(before, next_planned_work(Schedule.objects.filter(pk=schedule.pk)))
    return _reloaded(schedule)


def next_planned_work(schedules: QuerySet[Schedule]) -> dict[int, ScheduleSlot]:
    """Each machine's first slot of work not started yet in `schedules` (a queryset of at most one)."""
    first: dict[int, ScheduleSlot] = {}
    slots = (
        ScheduleSlot.objects.filter(schedule__in=schedules, operation__status=OperationStatus.PENDING)
        .select_related("operation__job", "work_center")
        .order_by("setup_start", "pk")
    )
    for slot in slots:
        first.setdefault(slot.work_center_id, slot)
    return first


def _tell_crews_of_new_next_work(before: Mapping[int, ScheduleSlot], after: Mapping[int, ScheduleSlot]) -> None:
    """A new assignment: the operators clocked in to a machine whose next planned operation changed
    are told (in the app and by Web Push) what comes next there and when."""
    for work_center_id, slot in after.items():
        previous = before.get(work_center_id)
        if previous is not None and previous.operation_id == slot.operation_id:
            continue
        operation = slot.operation
        notify_audience(
            MACHINE_CREW,
            work_center_id,
            kind="scheduling.next_work",
            title=_("%(machine)s: next is %(job)s/%(sequence)s %(code)s")
            % {
                "machine": slot.work_center.code,
                "job": operation.job.number,
                "sequence": operation.sequence,
                "code": operation.operation_code,
            },
            body=_("A new plan is published; this operation is planned to start at %(when)s.")
            % {"when": plant_when(slot.setup_start)},
            # The operator app's page of the operation (the shop floor's URL, looked up by name).
            url=reverse("shopfloor:app-operation", kwargs={"operation": operation.pk}),
        )


# The demo shop's open work needs more than two weeks on some machines (the robot cell is loaded
# past two weeks' capacity) and the weakest rule (SPT) ends after four, so its benchmark plans five.
BENCHMARK_HORIZON_DAYS = 35


def plan_for_benchmark(
    *,
    time_limit_seconds: float,
    workers: int = 2,
    horizon_days: int = BENCHMARK_HORIZON_DAYS,
    objective: str = "lexicographic",
    seed: int = 0,
    due_earlier_hours: int = 0,
    start_from_published: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Plan the shop in the database from `now` (default: this moment), as a planning run would, and return the
    figures (nothing is saved). `origin` is where the plan starts, in UTC.

    `tardiness_ratio` is the plan's weighted tardiness over the best rule's (the target is at most 0.5);
    `tardiness_ratio_floor` is the solver's lower bound on weighted tardiness over the best rule's, so no
    plan of this shop at this hour can have a smaller ratio.
    `due_earlier_hours` moves every due date that much earlier: the same shop with tighter promises, for
    measuring the search on a day when the rules already deliver nearly everything on time.
    `start_from_published` replans from the published schedule, as a planning run does by default:
    `earlier_plan` is that plan rebuilt on the work as it stands. Whenever a schedule is published,
    `changes` counts the plan's operations on another machine than in it, and those starting more
    than a shift (8 h) apart: how much of what the floor follows the new plan would change.
    """
    if due_earlier_hours < 0:
        raise ValueError("due dates can only be moved earlier (hours >= 0)")
    origin = horizon_start(now or timezone.now())
    planning = build_planning_input(origin=origin, horizon_days=horizon_days)
    problem = planning.problem
    if not problem.jobs:
        raise ValueError("no released job has an open operation: run load_demo_shop first")
    if due_earlier_hours:
        shift = due_earlier_hours * 60
        problem = replace(
            problem,
            jobs=tuple(job if job.due is None else replace(job, due=job.due - shift) for job in problem.jobs),
        )
    published = published_schedule()
    if start_from_published and published is None:
        raise ValueError("no schedule is published: run plan_demo_schedule first")
    before = earlier_plan(published, planning) if published is not None else None
    start_from = before if start_from_published else None
    settings = solver.SolverSettings(
        time_limit_s=time_limit_seconds, workers=workers, objectives=solver_objectives(objective), seed=seed
    )
    result = solver.solve(problem, settings, start_from=start_from)
    rules = rule_kpis(problem)
    plan = schedule_kpis(problem, result.schedule) if result.schedule is not None else None
    scored = {rule: figures["weighted_tardiness"] for rule, figures in rules.items() if figures is not None}
    best_rule = min(scored, key=lambda rule: scored[rule], default=None)
    ratio = floor = None
    if plan is not None and best_rule is not None:
        if scored[best_rule]:
            ratio = round(plan["weighted_tardiness"] / scored[best_rule], 4)
            tardiness = [stage for stage in result.stages if stage.objective == solver.Objective.WEIGHTED_TARDINESS]
            if tardiness:
                floor = round(tardiness[0].bound / scored[best_rule], 4)
        elif plan["weighted_tardiness"] == 0:
            ratio = 0.0  # nothing late either way
    return {
        "instance": "demo",
        "origin": origin.astimezone(UTC).isoformat(),
        "jobs": len(problem.jobs),
        "machines": len(problem.machines),
        "operations": sum(len(job.operations) for job in problem.jobs),
        "due_earlier_hours": due_earlier_hours,
        "horizon_days": horizon_days,
        "status": str(result.status),
        "source": result.source,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap": result.gap,
        "wall_s": round(result.wall_s, 2),
        "best_rule": best_rule,
        "tardiness_ratio": ratio,
        "tardiness_ratio_floor": floor,
        "start": result.start,
        "plan": plan,
        "earlier_plan": schedule_kpis(problem, result.followed) if result.followed is not None else None,
        "changes": _changes(before, result.schedule) if before and result.schedule is not None else None,
        "rules": rules,
    }


SHIFT_MINUTES = 8 * 60


def _changes(before: solver.Schedule, after: solver.Schedule) -> dict[str, int]:
    """How much of `before` a new plan changes: operations in both, on another machine, starting a shift apart."""
    earlier = {(row.job, row.operation): row for row in before.operations}
    common = [(earlier[row.job, row.operation], row) for row in after.operations if (row.job, row.operation) in earlier]
    return {
        "operations": len(common),
        "other_machine": sum(1 for old, new in common if old.machine != new.machine),
        "start_moved_over_8h": sum(1 for old, new in common if abs(old.start - new.start) > SHIFT_MINUTES),
    }
