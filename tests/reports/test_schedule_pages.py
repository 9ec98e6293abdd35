"""The report schedule and archive pages: who may open them, what a production manager can do there, and
downloads that stream as attachments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from apps.reports.choices import DeliveryStatus, Frequency, RunStatus
from apps.reports.definitions import REPORTS, ReportParameters
from apps.reports.models import ReportDelivery, ReportRun, ReportSchedule
from apps.reports.services import run_report, save_report_schedule
from tests.reports.fakes import parts_report

MANAGER = "production_manager"


@pytest.fixture(autouse=True)
def fake_reports(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> None:
    settings.PLANT_TIME_ZONE = "America/Chicago"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setitem(REPORTS, "parts", parts_report("parts"))
    monkeypatch.setitem(REPORTS, "scrap", parts_report("scrap", "Scrap"))


@pytest.fixture
def pages(personas: dict[str, Any], client_for: Callable[[str], Any]) -> Callable[[str], Any]:
    return client_for


def make_schedule(**fields: Any) -> ReportSchedule:
    values: dict[str, Any] = {
        "name": "Weekly parts",
        "report": "parts",
        "frequency": Frequency.WEEKLY,
        "weekday": 0,
        "send_at": time(6, 0),
        "recipient_emails": "plant.manager@example.com",
        **fields,
    }
    return save_report_schedule(actor=None, schedule=ReportSchedule(**values))


def make_run(code: str = "parts", start: date = date(2026, 3, 2)) -> ReportRun:
    return run_report(code=code, parameters=ReportParameters(period_start=start, period_end=date(2026, 3, 8)))


def schedule_form(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Monday OEE",
        "report": "parts",
        "frequency": "weekly",
        "send_at": "06:30",
        "weekday": "0",
        "day_of_month": "",
        "department": "",
        "include_pdf": "on",
        "include_xlsx": "on",
        "recipient_emails": "plant.manager@example.com, QA@example.com",
        "language": "es",
        "is_active": "on",
        **fields,
    }


# --- who may open what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "outsider"])
def test_people_without_report_permissions_are_refused_and_change_nothing(
    db: Any, pages: Callable[[str], Any], role: str
) -> None:
    schedule = make_schedule()
    run = make_run()
    client = pages(role)
    for name, kwargs in [
        ("reports:schedule-list", {}),
        ("reports:schedule-create", {}),
        ("reports:schedule-update", {"pk": schedule.pk}),
        ("reports:schedule-delete", {"pk": schedule.pk}),
        ("reports:run-list", {}),
        ("reports:run-detail", {"pk": run.pk}),
        ("reports:run-pdf", {"pk": run.pk}),
        ("reports:run-xlsx", {"pk": run.pk}),
    ]:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 403, name

    assert client.post(reverse("reports:schedule-create"), schedule_form()).status_code == 403
    assert client.post(reverse("reports:schedule-update", args=[schedule.pk]), schedule_form()).status_code == 403
    assert client.post(reverse("reports:schedule-delete", args=[schedule.pk])).status_code == 403
    assert client.post(reverse("reports:run-create"), {"report": "parts"}).status_code == 403
    assert client.post(reverse("reports:run-retry-delivery", args=[run.pk])).status_code == 403

    assert list(ReportSchedule.objects.values_list("name", "send_at")) == [("Weekly parts", time(6, 0))]
    assert PeriodicTask.objects.filter(task="reports.run_scheduled_report").count() == 1
    assert list(ReportRun.objects.values_list("pk", flat=True)) == [run.pk]


def test_anonymous_visitors_are_sent_to_sign_in(db: Any) -> None:
    from django.test import Client

    response = Client().get(reverse("reports:run-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- schedules --------------------------------------------------------------------------------------


def test_a_manager_creates_a_schedule_and_its_beat_task(
    db: Any, pages: Callable[[str], Any], personas: dict[str, Any]
) -> None:
    supervisor = personas["supervisor"]

    response = pages(MANAGER).post(
        reverse("reports:schedule-create"), schedule_form(recipient_users=[str(supervisor.pk)])
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:schedule-list")
    schedule = ReportSchedule.objects.get()
    assert (schedule.name, schedule.frequency, schedule.weekday, schedule.send_at, schedule.language) == (
        "Monday OEE",
        Frequency.WEEKLY,
        0,
        time(6, 30),
        "es",
    )
    assert schedule.recipient_emails == "plant.manager@example.com\nQA@example.com"
    assert list(schedule.recipient_users.all()) == [supervisor]
    assert schedule.created_by == personas[MANAGER]
    task = PeriodicTask.objects.select_related("crontab").get(pk=schedule.periodic_task_id)
    assert task.crontab is not None
    assert (task.enabled, task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == (True, "6", "30", "1")

    listing = pages(MANAGER).get(reverse("reports:schedule-list"))
    assert listing.status_code == 200
    assert listing.context["schedules"][0].recipient_count == 3
    assert "Monday OEE" in listing.content.decode()


def test_a_schedule_without_recipients_is_shown_again_and_nothing_is_saved(
    db: Any, pages: Callable[[str], Any]
) -> None:
    response = pages(MANAGER).post(reverse("reports:schedule-create"), schedule_form(recipient_emails=""))

    assert response.status_code == 400
    assert "Add at least one recipient: a user with an e-mail address, or an address." in response.content.decode()
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(task="reports.run_scheduled_report").exists()


def test_a_manager_pauses_and_deletes_a_schedule(db: Any, pages: Callable[[str], Any]) -> None:
    schedule = make_schedule()
    task_id = schedule.periodic_task_id
    client = pages(MANAGER)
    assert client.get(reverse("reports:schedule-update", args=[schedule.pk])).status_code == 200

    form = schedule_form(name="Monthly parts", frequency="monthly", day_of_month="3", is_active="")
    response = client.post(reverse("reports:schedule-update", args=[schedule.pk]), form)

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.frequency, schedule.day_of_month, schedule.weekday, schedule.is_active) == (
        "Monthly parts",
        Frequency.MONTHLY,
        3,
        None,
        False,
    )
    task = PeriodicTask.objects.select_related("crontab").get(pk=task_id)
    assert task.crontab is not None
    assert (task.enabled, task.crontab.day_of_month, task.crontab.day_of_week) == (False, "3", "*")

    assert client.get(reverse("reports:schedule-delete", args=[schedule.pk])).status_code == 200
    response = client.post(reverse("reports:schedule-delete", args=[schedule.pk]))

    assert response.status_code == 302
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


# --- the archive ------------------------------------------------------------------------------------


def test_run_now_queues_a_run_that_renders_after_commit(
    db: Any, pages: Callable[[str], Any], personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    data = {
        "report": "parts",
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "department": "",
        "include_pdf": "on",
        "language": "en",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = pages(MANAGER).post(reverse("reports:run-create"), data)

    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:run-detail", args=[run.pk])
    assert (run.status, run.formats, run.requested_by) == (RunStatus.SUCCEEDED, ["pdf"], personas[MANAGER])
    assert run.pdf and not run.xlsx
    page = pages(MANAGER).get(response["Location"])
    assert page.status_code == 200
    assert reverse("reports:run-pdf", args=[run.pk]) in page.content.decode()
    assert reverse("reports:run-xlsx", args=[run.pk]) not in page.content.decode()


def test_run_now_with_an_inverted_period_is_refused(db: Any, pages: Callable[[str], Any]) -> None:
    data = {"report": "parts", "period_start": "2026-03-08", "period_end": "2026-03-02", "include_pdf": "on"}

    response = pages(MANAGER).post(reverse("reports:run-create"), data | {"language": "en"})

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:run-list")
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    ("name", "filename", "content_type", "magic"),
    [
        ("reports:run-pdf", "parts-2026-03-02.pdf", "application/pdf", b"%PDF-"),
        (
            "reports:run-xlsx",
            "parts-2026-03-02.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK\x03\x04",
        ),
    ],
)
def test_downloads_stream_as_attachments(
    db: Any, pages: Callable[[str], Any], name: str, filename: str, content_type: str, magic: bytes
) -> None:
    run = make_run()

    response = pages(MANAGER).get(reverse(name, args=[run.pk]))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content)[: len(magic)] == magic


def test_a_run_without_the_file_has_no_download(db: Any, pages: Callable[[str], Any]) -> None:
    run = run_report(
        code="parts",
        parameters=ReportParameters(period_start=date(2026, 3, 2), period_end=date(2026, 3, 8)),
        formats=("xlsx",),
    )

    assert pages(MANAGER).get(reverse("reports:run-pdf", args=[run.pk])).status_code == 404


def test_the_archive_filters_by_report_and_status(db: Any, pages: Callable[[str], Any]) -> None:
    parts = make_run("parts")
    scrap = make_run("scrap")
    failed = make_run("parts", date(2026, 3, 1))
    ReportRun.objects.filter(pk=failed.pk).update(status=RunStatus.FAILED)
    client = pages(MANAGER)

    def listed(query: str) -> list[int]:
        response = client.get(reverse("reports:run-list") + query)
        assert response.status_code == 200
        return [run.pk for run in response.context["runs"]]

    assert listed("") == [failed.pk, scrap.pk, parts.pk]
    assert listed("?report=parts") == [failed.pk, parts.pk]
    assert listed("?status=failed") == [failed.pk]
    assert listed("?report=scrap&status=succeeded") == [scrap.pk]


def test_the_archive_page_queries_do_not_grow_with_its_rows(db: Any, pages: Callable[[str], Any]) -> None:
    client = pages(MANAGER)
    make_run()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("reports:run-list")).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(4):
        make_run()
    assert queries() == few


def test_a_run_shows_its_failed_deliveries_and_sends_them_again(
    db: Any, pages: Callable[[str], Any], django_capture_on_commit_callbacks: Any
) -> None:
    run = make_run()
    ReportDelivery.objects.create(run=run, recipient="ana@example.com", status=DeliveryStatus.SENT, attempts=1)
    ReportDelivery.objects.create(
        run=run, recipient="ben@example.com", status=DeliveryStatus.FAILED, attempts=4, last_error="451 try again later"
    )
    ReportRun.objects.filter(pk=run.pk).update(delivery_status=DeliveryStatus.FAILED)
    client = pages(MANAGER)

    page = client.get(reverse("reports:run-detail", args=[run.pk]))

    content = page.content.decode()
    assert 'data-delivery-status="failed"' in content
    assert "451 try again later" in content
    assert reverse("reports:run-retry-delivery", args=[run.pk]) in content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:run-retry-delivery", args=[run.pk]))

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["ben@example.com"]]
    assert set(ReportDelivery.objects.values_list("recipient", "status")) == {
        ("ana@example.com", DeliveryStatus.SENT),
        ("ben@example.com", DeliveryStatus.SENT),
    }
    assert ReportRun.objects.get(pk=run.pk).delivery_status == DeliveryStatus.SENT
