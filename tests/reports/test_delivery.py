"""E-mail delivery of scheduled reports through a real SMTP server (aiosmtpd on 127.0.0.1).

What the recipients get is read back as they would: the MIME parsed, the PDF rendered to a picture by
pdftoppm, the workbook opened with openpyxl and its totals formula checked against its cells. A mail
server that refuses is retried, then given up on with its answer kept; nobody is ever sent a report twice.
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from openpyxl import load_workbook

from apps.core.models import OperatorLogRecord
from apps.reports import tasks
from apps.reports.choices import DeliveryStatus, Frequency, RunStatus
from apps.reports.definitions import REPORTS
from apps.reports.models import ReportDelivery, ReportRun, ReportSchedule
from apps.reports.services import retry_report_delivery, save_report_schedule
from tests.reports.fakes import MONDAY_NOON, parts_report

PERIOD = "2026-03-02 – 2026-03-08"


class MailServer:
    """An aiosmtpd handler that keeps what it accepted and answers as told: per recipient at RCPT, or for
    every message at DATA."""

    def __init__(self) -> None:
        self.accepted: list[Any] = []
        self.refuse_recipients: dict[str, str] = {}
        self.data_answer = ""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        answer = self.refuse_recipients.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_answer:
            return self.data_answer
        self.accepted.append(envelope)
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(address for envelope in self.accepted for address in envelope.rcpt_tos)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[MailServer]:
    handler = MailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def fake_reports(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> None:
    settings.PLANT_TIME_ZONE = "America/Chicago"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://mes.example.com"
    settings.DEFAULT_FROM_EMAIL = "reports@example.com"
    settings.REPORT_DELIVERY_MAX_RETRIES = 3
    settings.REPORT_DELIVERY_RETRY_SECONDS = 60
    monkeypatch.setitem(REPORTS, "parts", parts_report("parts"))


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(attempt, countdown) of every retry the delivery task schedules (eager mode runs them at once)."""
    scheduled: list[tuple[int, int]] = []
    original = tasks.deliver_report_run_task.apply_async

    def spy(args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        if "countdown" in options:
            scheduled.append((kwargs["attempt"], options["countdown"]))
        return original(args, kwargs, **options)

    monkeypatch.setattr(tasks.deliver_report_run_task, "apply_async", spy)
    return scheduled


@pytest.fixture
def schedule(make_user: Callable[..., Any]) -> ReportSchedule:
    ana = make_user("ana", "supervisor", first_name="Ana", last_name="López")
    ben = make_user("ben", "production_manager")
    weekly = save_report_schedule(
        actor=None,
        schedule=ReportSchedule(
            name="Weekly parts",
            report="parts",
            frequency=Frequency.WEEKLY,
            weekday=0,
            send_at=time(6, 0),
            # Ana's own address again in other case: she must get one mail, not two.
            recipient_emails="ANA@Example.com\nplant.manager@example.com",
        ),
        recipient_users=[ana, ben],
    )
    return weekly


def fire(schedule: ReportSchedule, now: datetime = MONDAY_NOON) -> None:
    tasks.run_scheduled_report_task.delay(schedule_id=schedule.pk, now=now.isoformat())


def parsed(envelope: Any) -> EmailMessage:
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def attachments(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    return {
        str(part.get_filename()): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


def test_each_recipient_gets_one_mail_with_the_pdf_and_the_workbook(
    db: Any, smtp_server: MailServer, schedule: ReportSchedule, tmp_path: Path
) -> None:
    fire(schedule)

    assert smtp_server.recipients() == ["ana@example.com", "ben@example.com", "plant.manager@example.com"]
    assert [len(envelope.rcpt_tos) for envelope in smtp_server.accepted] == [1, 1, 1]
    run = ReportRun.objects.get()
    for envelope in smtp_server.accepted:
        message = parsed(envelope)
        assert envelope.mail_from == "reports@example.com"
        assert message["Subject"] == f"Parts made — {PERIOD}"
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert f"Attached: Parts made for {PERIOD}." in text
        assert f"https://mes.example.com/reports/runs/{run.pk}/" in text
        assert "“Weekly parts”" in text
        files = attachments(message)
        assert sorted(files) == ["parts-2026-03-02.pdf", "parts-2026-03-02.xlsx"]
        assert files["parts-2026-03-02.pdf"][0] == "application/pdf"
        assert files["parts-2026-03-02.xlsx"][0] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    files = attachments(parsed(smtp_server.accepted[0]))
    pdf = tmp_path / "received.pdf"
    pdf.write_bytes(files["parts-2026-03-02.pdf"][1])
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    assert pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Parts per machine" in text
    assert "62" in text

    sheet = load_workbook(BytesIO(files["parts-2026-03-02.xlsx"][1]))["Parts"]
    assert [cell.value for cell in sheet["A"]] == ["Machine", "LASER-1", "BRAKE-1", "WELD-1", "Total"]
    assert sheet["B5"].value == "=SUM(B2:B4)"
    first, last = re.fullmatch(r"=SUM\((B\d+):(B\d+)\)", str(sheet["B5"].value)).groups()  # type: ignore[union-attr]
    assert sum(row[0].value for row in sheet[f"{first}:{last}"]) == 62

    deliveries = list(ReportDelivery.objects.order_by("recipient"))
    assert [(d.recipient, d.status, d.attempts, d.last_error) for d in deliveries] == [
        ("ana@example.com", DeliveryStatus.SENT, 1, ""),
        ("ben@example.com", DeliveryStatus.SENT, 1, ""),
        ("plant.manager@example.com", DeliveryStatus.SENT, 1, ""),
    ]
    assert all(delivery.sent_at is not None for delivery in deliveries)
    assert (run.status, run.delivery_status) == (RunStatus.SUCCEEDED, DeliveryStatus.SENT)


def test_beat_firing_again_for_the_same_period_sends_nothing_more(
    db: Any, smtp_server: MailServer, schedule: ReportSchedule
) -> None:
    fire(schedule)
    sent_at = sorted(ReportDelivery.objects.values_list("sent_at", flat=True))

    fire(schedule)
    fire(schedule, MONDAY_NOON + timedelta(days=3))

    assert len(smtp_server.accepted) == 3
    assert ReportRun.objects.count() == 1
    assert sorted(ReportDelivery.objects.values_list("sent_at", flat=True)) == sent_at


def test_a_refusing_server_is_retried_then_the_deliveries_fail_with_its_answer(
    db: Any, smtp_server: MailServer, schedule: ReportSchedule, retries: list[tuple[int, int]]
) -> None:
    smtp_server.data_answer = "451 try again later"

    fire(schedule)

    assert smtp_server.accepted == []
    assert retries == [(1, 60), (2, 60), (3, 60)]
    rows = list(
        ReportDelivery.objects.order_by("recipient").values_list("recipient", "status", "attempts", "last_error")
    )
    assert rows == [
        ("ana@example.com", DeliveryStatus.FAILED, 4, "451 try again later"),
        ("ben@example.com", DeliveryStatus.FAILED, 4, "451 try again later"),
        ("plant.manager@example.com", DeliveryStatus.FAILED, 4, "451 try again later"),
    ]
    assert ReportDelivery.objects.filter(sent_at__isnull=False).count() == 0
    run = ReportRun.objects.get()
    assert (run.status, run.delivery_status) == (RunStatus.SUCCEEDED, DeliveryStatus.FAILED)
    assert list(OperatorLogRecord.objects.values_list("level", "source", "message")) == [
        (
            "WARNING",
            "operator.reports",
            f"Report parts ({PERIOD}) could not be e-mailed to 3 recipient(s): "
            "ana@example.com: 451 try again later; ben@example.com: 451 try again later; "
            "plant.manager@example.com: 451 try again later",
        )
    ]


def test_after_a_partial_failure_only_the_refused_recipient_is_tried_again(
    db: Any,
    smtp_server: MailServer,
    schedule: ReportSchedule,
    retries: list[tuple[int, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    smtp_server.data_answer = "451 try again later"
    fire(schedule)
    run = ReportRun.objects.get()
    assert run.delivery_status == DeliveryStatus.FAILED

    # The server is fixed, but it refuses Ben's mailbox: Ana and the plant manager get the report once.
    smtp_server.data_answer = ""
    smtp_server.refuse_recipients = {"ben@example.com": "550 5.1.1 mailbox unavailable"}
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_report_delivery(actor=None, run_id=run.pk) == 3

    assert smtp_server.recipients() == ["ana@example.com", "plant.manager@example.com"]
    ben = ReportDelivery.objects.get(recipient="ben@example.com")
    assert (ben.status, ben.attempts, ben.last_error) == (DeliveryStatus.FAILED, 8, "550 5.1.1 mailbox unavailable")
    assert retries[3:] == [(1, 60), (2, 60), (3, 60)]

    # Ben's mailbox is back: only he is sent the report now.
    smtp_server.refuse_recipients = {}
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_report_delivery(actor=None, run_id=run.pk) == 1

    assert smtp_server.recipients() == ["ana@example.com", "ben@example.com", "plant.manager@example.com"]
    rows = list(ReportDelivery.objects.order_by("recipient").values_list("recipient", "status", "attempts"))
    assert rows == [
        ("ana@example.com", DeliveryStatus.SENT, 5),
        ("ben@example.com", DeliveryStatus.SENT, 9),
        ("plant.manager@example.com", DeliveryStatus.SENT, 5),
    ]
    assert ReportRun.objects.get(pk=run.pk).delivery_status == DeliveryStatus.SENT

    fire(schedule)
    assert len(smtp_server.accepted) == 3


def test_an_unreachable_server_counts_an_attempt_for_everyone_and_keeps_the_reason(
    db: Any, settings: Any, schedule: ReportSchedule, retries: list[tuple[int, int]]
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.REPORT_DELIVERY_MAX_RETRIES = 1

    fire(schedule)

    assert retries == [(1, 60)]
    rows = set(ReportDelivery.objects.values_list("status", "attempts", "last_error"))
    assert rows == {(DeliveryStatus.FAILED, 2, "[Errno 111] Connection refused")}
    assert ReportRun.objects.get().delivery_status == DeliveryStatus.FAILED
