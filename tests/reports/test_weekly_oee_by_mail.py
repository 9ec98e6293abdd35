"""The issue's "done when": a production manager schedules the weekly OEE report to a mailbox and receives it.

The real report (oee-summary) on the hand-computed laser week, through the page's "Send now", with Django's
file mail backend as `make run` has it: the mail lands in a folder as a MIME file with both attachments.
"""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.reports import services
from apps.reports.choices import Frequency
from apps.reports.models import ReportDelivery, ReportSchedule
from tests.routings.builders import Shop

pytestmark = pytest.mark.django_db


def test_manager_schedules_the_weekly_oee_report_and_receives_it(
    shop: Shop,
    client_for: Callable[[str], Any],
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    manager = client_for("production_manager")
    form = {
        "name": "Weekly OEE",
        "report": "oee-summary",
        "frequency": Frequency.WEEKLY,
        "weekday": "0",
        "send_at": "06:00",
        "day_of_month": "",
        "include_pdf": "on",
        "include_xlsx": "on",
        "recipient_emails": "plant.manager@example.com",
        "language": "en",
        "is_active": "on",
    }
    response = manager.post(reverse("reports:schedule-create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = ReportSchedule.objects.get(name="Weekly OEE")
    assert schedule.periodic_task is not None and schedule.periodic_task.enabled

    # Monday after the hand-computed week: the run covers Monday 16 to Sunday 22 November 2026.
    monday_after = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    # The reports' clock only: sessions and sign-in keep the real one.
    monkeypatch.setattr(services, "timezone", SimpleNamespace(**{**vars(timezone), "now": lambda: monday_after}))
    with django_capture_on_commit_callbacks(execute=True):
        assert manager.post(reverse("reports:schedule-send", args=[schedule.pk])).status_code == 302
    delivery = ReportDelivery.objects.get(run__schedule=schedule)
    assert (delivery.recipient, delivery.status) == ("plant.manager@example.com", "sent")

    [mail_file] = list((tmp_path / "mail").iterdir())
    message = email.message_from_bytes(mail_file.read_bytes())
    assert message["To"] == "plant.manager@example.com"
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in message.walk() if part.get_filename()}
    assert sorted(attachments) == ["oee-summary-2026-11-16-2026-11-22.pdf", "oee-summary-2026-11-16-2026-11-22.xlsx"]
    assert attachments["oee-summary-2026-11-16-2026-11-22.pdf"].startswith(b"%PDF")
    workbook = load_workbook(BytesIO(attachments["oee-summary-2026-11-16-2026-11-22.xlsx"]))
    machines = workbook["Machines"]
    header = [cell.value for cell in machines[1]]
    laser = next(row for row in machines.iter_rows(values_only=True) if row[0] == "laser-1")
    assert laser[header.index("OEE")] == pytest.approx(0.7813)

    # A second press for the same week sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(reverse("reports:schedule-send", args=[schedule.pk]))
    assert len(list((tmp_path / "mail").iterdir())) == 1


def test_operators_cannot_send_a_schedule(shop: Shop, client_for: Callable[[str], Any]) -> None:
    assert client_for("operator").post(reverse("reports:schedule-send", args=[1])).status_code == 403
