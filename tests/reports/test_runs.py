"""Report runs and schedules: the period a run covers, rendering into the archive with a background job,
one run per schedule and period, and the beat task kept in step with its schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from apps.core.choices import JobStatus
from apps.core.models import Job
from apps.machines.models import Department, WorkCenter, WorkCenterType
from apps.reports.choices import DeliveryStatus, Frequency, RunStatus
from apps.reports.definitions import REPORTS, ReportDefinition, ReportParameters
from apps.reports.documents import ReportDocument
from apps.reports.models import ReportDelivery, ReportRun, ReportSchedule
from apps.reports.services import (
    crontab_fields,
    delete_report_schedule,
    deliver_report_run,
    period_for,
    request_report_run,
    run_report,
    run_scheduled_report,
    save_report_schedule,
)
from tests.reports.fakes import MONDAY_NOON, parts_report

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def test_report(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> ReportDefinition:
    settings.PLANT_TIME_ZONE = "America/Chicago"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    definition = parts_report("test-report", "Test report")
    monkeypatch.setitem(REPORTS, "test-report", definition)
    return definition


@pytest.fixture
def manager(make_user: Callable[..., Any]) -> Any:
    return make_user("paula", "production_manager")


def weekly_schedule(actor: Any, **fields: Any) -> ReportSchedule:
    values: dict[str, Any] = {
        "name": "Weekly parts",
        "report": "test-report",
        "frequency": Frequency.WEEKLY,
        "weekday": 0,
        "send_at": time(6, 30),
        "recipient_emails": "plant.manager@example.com",
        **fields,
    }
    return save_report_schedule(actor=None, schedule=ReportSchedule(created_by=actor, **values))


def parameters(start: date, end: date) -> ReportParameters:
    return ReportParameters(period_start=start, period_end=end)


# --- the period a run covers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "now", "expected"),
    [
        # 05:00 UTC on March 1st is still February 28th, 23:00, in Chicago.
        (Frequency.DAILY, datetime(2026, 3, 1, 5, 0, tzinfo=UTC), (date(2026, 2, 27), date(2026, 2, 27))),
        (Frequency.DAILY, datetime(2026, 3, 1, 12, 0, tzinfo=UTC), (date(2026, 2, 28), date(2026, 2, 28))),
        (Frequency.WEEKLY, MONDAY_NOON, (date(2026, 3, 2), date(2026, 3, 8))),
        # Monday 03:00 UTC is Sunday evening in Chicago: the week before is the one that ended then.
        (Frequency.WEEKLY, datetime(2026, 3, 9, 3, 0, tzinfo=UTC), (date(2026, 2, 23), date(2026, 3, 1))),
        (Frequency.WEEKLY, datetime(2026, 3, 11, 17, 0, tzinfo=UTC), (date(2026, 3, 2), date(2026, 3, 8))),
        (Frequency.MONTHLY, datetime(2026, 3, 1, 12, 0, tzinfo=UTC), (date(2026, 2, 1), date(2026, 2, 28))),
        (Frequency.MONTHLY, datetime(2026, 3, 1, 5, 0, tzinfo=UTC), (date(2026, 1, 1), date(2026, 1, 31))),
        (Frequency.MONTHLY, datetime(2026, 1, 5, 12, 0, tzinfo=UTC), (date(2025, 12, 1), date(2025, 12, 31))),
    ],
)
def test_period_is_the_one_just_finished_in_plant_time(
    settings: Any, frequency: str, now: datetime, expected: tuple[date, date]
) -> None:
    assert period_for(frequency=frequency, now=now) == expected


# --- rendering into the archive ---------------------------------------------------------------------


def test_run_report_stores_both_files_and_finishes_its_job(db: Any, manager: Any) -> None:
    run = run_report(
        code="test-report", parameters=parameters(date(2026, 3, 2), date(2026, 3, 8)), requested_by=manager
    )

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.error == ""
    assert run.finished_at is not None
    assert run.file_stem == "test-report-2026-03-02"
    assert run.parameters == {
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "department_id": None,
        "work_center_ids": [],
        "language": "en",
    }
    assert run.pdf.name.startswith("reports/") and run.pdf.name.endswith(".pdf")
    assert run.xlsx.name.endswith(".xlsx")
    assert run.pdf.read(5) == b"%PDF-"
    job = Job.objects.get(pk=run.job_id)
    assert (job.kind, job.status, job.requested_by, job.name) == (
        "report",
        JobStatus.SUCCEEDED,
        manager,
        "Test report 2026-03-02 – 2026-03-08",
    )
    assert job.result == {"pdf": run.pdf.name, "xlsx": run.xlsx.name}


def test_run_report_renders_only_the_formats_asked_for(db: Any) -> None:
    run = run_report(code="test-report", parameters=parameters(date(2026, 3, 8), date(2026, 3, 8)), formats=("xlsx",))

    assert run.status == RunStatus.SUCCEEDED
    assert not run.pdf
    assert run.xlsx.read(2) == b"PK"


def test_a_failing_report_fails_its_run_and_job_with_the_reason(
    db: Any, monkeypatch: pytest.MonkeyPatch, test_report: ReportDefinition
) -> None:
    def broken(parameters: ReportParameters) -> ReportDocument:
        raise ZeroDivisionError("no machines in scope")

    monkeypatch.setitem(REPORTS, "test-report", ReportDefinition("test-report", "Test report", "", broken))

    run = run_report(code="test-report", parameters=parameters(date(2026, 3, 2), date(2026, 3, 8)))

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "ZeroDivisionError: no machines in scope"
    assert not run.pdf and not run.xlsx
    job = Job.objects.get(pk=run.job_id)
    assert (job.status, job.error) == (JobStatus.FAILED, "ZeroDivisionError: no machines in scope")


@pytest.mark.parametrize(
    ("code", "start", "end", "formats", "message"),
    [
        ("nope", date(2026, 3, 2), date(2026, 3, 8), ("pdf",), "Unknown report nope."),
        ("test-report", date(2026, 3, 8), date(2026, 3, 2), ("pdf",), "The first day must not be after the last day."),
        ("test-report", date(2025, 1, 1), date(2026, 1, 2), ("pdf",), "A report covers at most 366 days."),
        ("test-report", date(2026, 3, 2), date(2026, 3, 8), (), "Choose the PDF, the workbook or both."),
    ],
)
def test_run_requests_are_checked(
    db: Any, manager: Any, code: str, start: date, end: date, formats: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        request_report_run(actor=manager, code=code, parameters=parameters(start, end), formats=formats)

    assert refused.value.messages == [message]
    assert ReportRun.objects.count() == 0
    assert Job.objects.count() == 0


def test_run_now_is_queued_and_rendered_after_commit(
    db: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        run = request_report_run(
            actor=manager, code="test-report", parameters=parameters(date(2026, 3, 2), date(2026, 3, 8))
        )
        assert ReportRun.objects.get(pk=run.pk).status == RunStatus.QUEUED
    assert len(callbacks) == 1

    callbacks[0]()

    run.refresh_from_db()
    assert (run.status, run.requested_by, run.schedule) == (RunStatus.SUCCEEDED, manager, None)
    assert run.formats == ["pdf", "xlsx"]


def test_run_now_is_refused_without_permission(db: Any, make_user: Callable[..., Any]) -> None:
    operator = make_user("oscar", "operator")

    with pytest.raises(PermissionDenied):
        request_report_run(
            actor=operator, code="test-report", parameters=parameters(date(2026, 3, 2), date(2026, 3, 8))
        )

    assert ReportRun.objects.count() == 0


# --- scheduled runs ---------------------------------------------------------------------------------


def test_beat_firing_twice_in_a_period_makes_one_run_and_sends_once(db: Any, manager: Any) -> None:
    schedule = weekly_schedule(manager)

    first = run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON)
    again = run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON + timedelta(days=2))

    assert first is not None and again is not None
    assert again.pk == first.pk
    assert ReportRun.objects.count() == 1
    assert (first.period_start, first.period_end) == (date(2026, 3, 2), date(2026, 3, 8))
    assert [message.to for message in mail.outbox] == [["plant.manager@example.com"]]
    schedule.refresh_from_db()
    assert schedule.last_run_at == MONDAY_NOON + timedelta(days=2)


def test_the_next_period_is_a_new_run(db: Any, manager: Any) -> None:
    schedule = weekly_schedule(manager)

    run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON)
    run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON + timedelta(days=7))

    periods = list(ReportRun.objects.order_by("period_start").values_list("period_start", "period_end"))
    assert periods == [(date(2026, 3, 2), date(2026, 3, 8)), (date(2026, 3, 9), date(2026, 3, 15))]
    assert len(mail.outbox) == 2


def test_a_failed_scheduled_run_is_rendered_again_when_beat_fires_again(
    db: Any, manager: Any, monkeypatch: pytest.MonkeyPatch, test_report: ReportDefinition
) -> None:
    schedule = weekly_schedule(manager)
    monkeypatch.setitem(REPORTS, "test-report", ReportDefinition("test-report", "Test report", "", _raise))
    failed = run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON)
    assert failed is not None and failed.status == RunStatus.FAILED
    assert mail.outbox == []
    first_job = failed.job_id

    monkeypatch.setitem(REPORTS, "test-report", test_report)
    run = run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON + timedelta(hours=1))

    assert run is not None and run.pk == failed.pk
    assert run.status == RunStatus.SUCCEEDED
    assert run.job_id != first_job
    assert Job.objects.get(pk=first_job).status == JobStatus.FAILED
    assert len(mail.outbox) == 1


def _raise(parameters: ReportParameters) -> ReportDocument:
    raise RuntimeError("database is locked")


def test_recipients_are_active_users_and_addresses_without_duplicates(
    db: Any, manager: Any, make_user: Callable[..., Any]
) -> None:
    ana = make_user("ana", "supervisor")
    gone = make_user("gone", "supervisor", is_active=False)
    schedule = weekly_schedule(
        manager, recipient_emails="ANA@example.com, plant.manager@example.com\nPlant.Manager@example.com"
    )
    schedule.recipient_users.set([ana, gone])

    run = run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON)

    assert run is not None
    rows = list(run.deliveries.order_by("pk").values_list("recipient", "user__username", "status"))
    assert rows == [("ana@example.com", "ana", "sent"), ("plant.manager@example.com", None, "sent")]
    assert sorted(message.to[0] for message in mail.outbox) == ["ana@example.com", "plant.manager@example.com"]


def test_a_run_claimed_by_another_worker_is_not_sent_by_a_second(db: Any, manager: Any) -> None:
    schedule = weekly_schedule(manager)
    run = run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON)
    assert run is not None
    ReportDelivery.objects.filter(run=run).update(status=DeliveryStatus.PENDING, sent_at=None)
    mail.outbox.clear()
    ReportRun.objects.filter(pk=run.pk).update(delivery_claimed_at=timezone.now() - timedelta(minutes=1))

    assert deliver_report_run(run_id=run.pk) == 0
    assert mail.outbox == []

    # A claim far older than any sending takes is a worker that died: the next one takes over.
    ReportRun.objects.filter(pk=run.pk).update(delivery_claimed_at=timezone.now() - timedelta(hours=1))
    assert deliver_report_run(run_id=run.pk) == 1
    assert len(mail.outbox) == 1
    assert ReportRun.objects.get(pk=run.pk).delivery_claimed_at is None


# --- schedules and their beat task ------------------------------------------------------------------


def test_a_weekly_schedule_gets_a_crontab_in_plant_time(db: Any, manager: Any) -> None:
    schedule = weekly_schedule(manager, weekday=0, send_at=time(6, 30))

    task = PeriodicTask.objects.select_related("crontab").get(pk=schedule.periodic_task_id)
    assert task.task == "reports.run_scheduled_report"
    assert task.kwargs == f'{{"schedule_id": {schedule.pk}}}'
    assert task.enabled is True
    crontab = task.crontab
    assert crontab is not None
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == (
        "30",
        "6",
        "1",  # cron counts from Sunday: Monday is 1
        "*",
        "*",
    )
    assert str(crontab.timezone) == "America/Chicago"
    assert schedule.created_by == manager


def test_changing_a_schedule_changes_its_task_and_pausing_disables_it(db: Any, manager: Any) -> None:
    schedule = weekly_schedule(manager)
    task_id = schedule.periodic_task_id

    schedule.frequency = Frequency.MONTHLY
    schedule.day_of_month = 5
    schedule.send_at = time(7, 15)
    save_report_schedule(actor=None, schedule=schedule)

    task = PeriodicTask.objects.select_related("crontab").get(pk=task_id)
    assert task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week, task.crontab.day_of_month) == (
        "15",
        "7",
        "*",
        "5",
    )
    assert ReportSchedule.objects.get(pk=schedule.pk).weekday is None  # only a weekly schedule keeps a weekday

    schedule.is_active = False
    save_report_schedule(actor=None, schedule=schedule)

    assert PeriodicTask.objects.get(pk=task_id).enabled is False
    assert PeriodicTask.objects.filter(task="reports.run_scheduled_report").count() == 1


def test_a_daily_schedule_runs_every_day(db: Any, manager: Any) -> None:
    schedule = weekly_schedule(manager, frequency=Frequency.DAILY, send_at=time(5, 0))

    assert crontab_fields(schedule) | {"timezone": None} == {
        "minute": "0",
        "hour": "5",
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": None,
    }


def test_deleting_a_schedule_deletes_its_task_and_keeps_its_runs(db: Any, manager: Any) -> None:
    schedule = weekly_schedule(manager)
    run = run_scheduled_report(schedule_id=schedule.pk, now=MONDAY_NOON)
    task_id = schedule.periodic_task_id

    delete_report_schedule(actor=None, schedule_id=schedule.pk)

    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()
    assert run is not None
    assert ReportRun.objects.get(pk=run.pk).schedule is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recipient_emails": ""}, "Add at least one recipient: a user with an e-mail address, or an address."),
        ({"recipient_emails": "plant manager@example"}, "Not e-mail addresses: plant, manager@example."),
        ({"weekday": None}, "A weekly schedule needs a weekday."),
        ({"frequency": Frequency.MONTHLY, "day_of_month": 31}, "Ensure this value is less than or equal to 28."),
        ({"report": "nope"}, "Value 'nope' is not a valid choice."),
        ({"include_pdf": False, "include_xlsx": False}, "Attach the PDF, the workbook or both."),
    ],
)
def test_schedules_are_checked(db: Any, manager: Any, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        weekly_schedule(manager, **fields)

    assert message in refused.value.messages
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.exists()


def test_machines_must_be_in_the_schedules_department(db: Any, manager: Any) -> None:
    cutting = Department.objects.create(code="cutting", name="Cutting")
    bending = Department.objects.create(code="bending", name="Bending")
    kind = WorkCenterType.objects.create(code="brake", name="Press brake", department=bending)
    brake = WorkCenter.objects.create(code="BRAKE-1", name="Brake 1", department=bending, work_center_type=kind)

    with pytest.raises(ValidationError) as refused:
        save_report_schedule(
            actor=None,
            schedule=ReportSchedule(
                name="Cutting", report="test-report", weekday=0, department=cutting, recipient_emails="a@example.com"
            ),
            work_centers=[brake],
        )

    assert refused.value.messages == ["Choose machines of the schedule's department, or no department."]
    assert not ReportSchedule.objects.exists()


def test_schedule_changes_need_permission(db: Any, make_user: Callable[..., Any]) -> None:
    operator = make_user("oscar", "operator")

    with pytest.raises(PermissionDenied):
        save_report_schedule(
            actor=operator,
            schedule=ReportSchedule(name="x", report="test-report", weekday=0, recipient_emails="a@example.com"),
        )

    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.exists()


def test_beat_loads_the_static_entries_and_fires_a_report_schedule_at_its_plant_time(
    db: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django_celery_beat import schedulers

    from cnc_copilot.celery import app

    # Beat closes "old" database connections between reads; inside a test's transaction on PostgreSQL
    # (CONN_MAX_AGE 0) that would close the very connection the test is using.
    monkeypatch.setattr(schedulers, "close_old_connections", lambda: None)

    schedule = weekly_schedule(manager, weekday=0, send_at=time(6, 30))

    scheduler = DatabaseScheduler(app=app)
    try:
        entries = scheduler.schedule
    finally:
        scheduler._finalize.cancel()

    # CELERY_BEAT_SCHEDULE (settings) is copied into django-celery-beat's tables at start-up.
    machine_states = PeriodicTask.objects.select_related("interval").get(name="machine-states")
    assert machine_states.task == "machines.refresh_machine_states"
    assert machine_states.interval is not None
    assert (machine_states.interval.every, machine_states.interval.period) == (30, "seconds")
    assert {"prune-operator-log", "machine-states", "telemetry-rollups", "prune-idempotency-keys"} <= set(entries)

    # The scheduler loads crontab entries near their hour only, so the report's entry is made as it would.
    entry = DatabaseScheduler.Entry(PeriodicTask.objects.get(pk=schedule.periodic_task_id), app=app)
    assert (entry.task, entry.kwargs) == ("reports.run_scheduled_report", {"schedule_id": schedule.pk})
    last_monday = datetime(2026, 3, 2, 6, 30, tzinfo=CHICAGO)

    def due_at(moment: datetime) -> tuple[bool, float]:
        entry.schedule.nowfun = lambda: moment
        state = entry.schedule.is_due(last_monday)
        return state.is_due, state.next

    assert due_at(datetime(2026, 3, 9, 6, 29, tzinfo=CHICAGO)) == (False, 60.0)
    assert due_at(datetime(2026, 3, 9, 6, 30, tzinfo=CHICAGO))[0] is True
    # 06:30 in Chicago is 11:30 UTC in March (daylight time): beat fires in plant time, not UTC.
    assert due_at(datetime(2026, 3, 9, 11, 29, tzinfo=UTC)) == (False, 60.0)
