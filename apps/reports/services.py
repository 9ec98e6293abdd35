"""Report runs, the archive, schedules and e-mail delivery: every state change of the reports app.

A run is a `ReportRun` with a core background Job: queued -> running -> succeeded | failed, each move a
conditional update on the old status, so a second delivery of a task renders nothing twice. A schedule is
kept in step with a django-celery-beat periodic task; when beat fires it, the run for the period just
finished is found or made (one per schedule and period), rendered if it is not yet, and e-mailed: one
`ReportDelivery` per recipient, marked sent the moment the mail server accepts that recipient's mail.
Retries send only what is still pending, so nobody ever gets the same report twice.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.core import services as jobs
from apps.core.permissions import require_permission
from apps.machines.models import WorkCenter
from apps.machines.selectors import plant_time_zone

from .choices import DeliveryStatus, Frequency, ReportFormat, ReportLanguage, RunStatus
from .definitions import REPORTS, ReportParameters, get_definition
from .documents import RenderedFile, ReportDocument
from .models import ReportDelivery, ReportRun, ReportSchedule

logger = logging.getLogger(__name__)
operator_log = logging.getLogger("operator.reports")

VIEW_RUN = "reports.view_reportrun"
REQUEST_RUN = "reports.add_reportrun"
RETRY_DELIVERY = "reports.change_reportrun"
VIEW_SCHEDULE = "reports.view_reportschedule"
ADD_SCHEDULE = "reports.add_reportschedule"
CHANGE_SCHEDULE = "reports.change_reportschedule"
DELETE_SCHEDULE = "reports.delete_reportschedule"

JOB_KIND = "report"
SCHEDULED_TASK = "reports.run_scheduled_report"
FORMATS: tuple[str, ...] = (ReportFormat.PDF, ReportFormat.XLSX)
# A year and a day: a yearly report, across a leap year.
MAX_RUN_DAYS = 366
# A worker that claimed a run's e-mails this long ago and never let go has died; another may take over.
DELIVERY_CLAIM_SECONDS = 15 * 60


class DeliveryFailed(Exception):
    """Some recipients' mail of run `run_id` was refused or the mail server could not be reached; `reason` says why."""

    def __init__(self, *, run_id: int, reason: str) -> None:
        super().__init__(reason)
        self.run_id = run_id
        self.reason = reason


# --- periods and parameters -------------------------------------------------------------------------


def period_for(*, frequency: str, now: datetime) -> tuple[date, date]:
    """The plant-local days a run fired at `now` covers: the day, week (Monday-Sunday) or month just finished."""
    today = timezone.localtime(now, plant_time_zone()).date()
    if frequency == Frequency.DAILY:
        yesterday = today - timedelta(days=1)
        return yesterday, yesterday
    if frequency == Frequency.WEEKLY:
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    if frequency == Frequency.MONTHLY:
        last_of_previous = today.replace(day=1) - timedelta(days=1)
        return last_of_previous.replace(day=1), last_of_previous
    raise ValueError(f"unknown frequency {frequency!r}")


def parameters_json(parameters: ReportParameters) -> dict[str, Any]:
    return {
        "period_start": parameters.period_start.isoformat(),
        "period_end": parameters.period_end.isoformat(),
        "department_id": parameters.department_id,
        "work_center_ids": list(parameters.work_center_ids),
        "language": parameters.language,
    }


def parameters_from_json(data: dict[str, Any]) -> ReportParameters:
    return ReportParameters(
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        department_id=data.get("department_id"),
        work_center_ids=tuple(data.get("work_center_ids", ())),
        language=data.get("language", ReportLanguage.ENGLISH),
    )


def schedule_parameters(schedule: ReportSchedule, *, now: datetime) -> ReportParameters:
    start, end = period_for(frequency=schedule.frequency, now=now)
    return ReportParameters(
        period_start=start,
        period_end=end,
        department_id=schedule.department_id,
        work_center_ids=tuple(sorted(center.pk for center in schedule.work_centers.all())),
        language=schedule.language,
    )


def _check_request(code: str, parameters: ReportParameters, formats: Sequence[str]) -> None:
    if code not in REPORTS:
        raise ValidationError(_("Unknown report %(code)s.") % {"code": code})
    if not formats or any(name not in FORMATS for name in formats):
        raise ValidationError(_("Choose the PDF, the workbook or both."))
    if parameters.period_end < parameters.period_start:
        raise ValidationError(_("The first day must not be after the last day."))
    if (parameters.period_end - parameters.period_start).days + 1 > MAX_RUN_DAYS:
        raise ValidationError(_("A report covers at most %(days)d days.") % {"days": MAX_RUN_DAYS})
    if parameters.language not in ReportLanguage.values:
        raise ValidationError(_("Unknown language %(code)s.") % {"code": parameters.language})


# --- schedules --------------------------------------------------------------------------------------


def schedule_recipients(schedule: ReportSchedule) -> list[tuple[str, int | None]]:
    """(address, user id) of everyone a schedule mails: active users with an address, then the plain
    addresses; an address met twice, in whatever case, counts once (the first spelling and user win)."""
    seen: set[str] = set()
    recipients: list[tuple[str, int | None]] = []
    users = schedule.recipient_users.filter(is_active=True).exclude(email="").order_by("pk")
    candidates: list[tuple[str, int | None]] = [(user.email.strip(), user.pk) for user in users]
    candidates += [(address, None) for address in schedule.email_addresses]
    for address, user_id in candidates:
        key = address.casefold()
        if key not in seen:
            seen.add(key)
            recipients.append((address, user_id))
    return recipients


def crontab_fields(schedule: ReportSchedule) -> dict[str, Any]:
    """The crontab of a schedule, in plant time (cron counts weekdays from Sunday, Python from Monday)."""
    fields: dict[str, Any] = {
        "minute": str(schedule.send_at.minute),
        "hour": str(schedule.send_at.hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": plant_time_zone(),
    }
    if schedule.frequency == Frequency.WEEKLY and schedule.weekday is not None:
        fields["day_of_week"] = str((schedule.weekday + 1) % 7)
    if schedule.frequency == Frequency.MONTHLY and schedule.day_of_month is not None:
        fields["day_of_month"] = str(schedule.day_of_month)
    return fields


def save_report_schedule(
    *,
    actor: Any,
    schedule: ReportSchedule,
    work_centers: Iterable[WorkCenter] | None = None,
    recipient_users: Iterable[Any] | None = None,
) -> ReportSchedule:
    """Create or change a schedule (and, when given, its machines and recipient users) and its beat task.

    Refused unless it has at least one recipient with an address and its machines lie in its department.
    """
    require_permission(actor, CHANGE_SCHEDULE if schedule.pk else ADD_SCHEDULE)
    if schedule.frequency != Frequency.WEEKLY:
        schedule.weekday = None
    if schedule.frequency != Frequency.MONTHLY:
        schedule.day_of_month = None
    schedule.recipient_emails = "\n".join(schedule.email_addresses)
    schedule.full_clean()
    centers = list(work_centers) if work_centers is not None else None
    users = list(recipient_users) if recipient_users is not None else None
    if centers is None and schedule.pk:
        centers = list(schedule.work_centers.all())
    if schedule.department_id is not None and any(c.department_id != schedule.department_id for c in centers or ()):
        raise ValidationError(_("Choose machines of the schedule's department, or no department."))
    if users is None and schedule.pk:
        users = list(schedule.recipient_users.all())
    addressed = [user for user in users or () if user.is_active and user.email.strip()]
    if not addressed and not schedule.email_addresses:
        raise ValidationError(_("Add at least one recipient: a user with an e-mail address, or an address."))
    with transaction.atomic():
        if schedule.pk is None and schedule.created_by_id is None and actor is not None:
            schedule.created_by = actor
        schedule.save()
        if work_centers is not None:
            schedule.work_centers.set(centers or ())
        if recipient_users is not None:
            schedule.recipient_users.set(users or ())
        _sync_periodic_task(schedule)
    return schedule


def _sync_periodic_task(schedule: ReportSchedule) -> None:
    crontab, _created = CrontabSchedule.objects.get_or_create(**crontab_fields(schedule))
    task = schedule.periodic_task or PeriodicTask()
    task.name = f"report schedule {schedule.pk}: {schedule.name}"[:200]
    task.task = SCHEDULED_TASK
    task.crontab = crontab
    task.interval = None
    task.kwargs = json.dumps({"schedule_id": schedule.pk})
    task.enabled = schedule.is_active
    task.description = _("E-mails the report schedule “%(name)s”.") % {"name": schedule.name}
    # save(), not update(): its signal tells a running beat that the schedule changed.
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        ReportSchedule.objects.filter(pk=schedule.pk).update(periodic_task=task)


def delete_report_schedule(*, actor: Any, schedule_id: int) -> None:
    """Delete a schedule and its beat task; its runs stay in the archive."""
    require_permission(actor, DELETE_SCHEDULE)
    with transaction.atomic():
        schedule = (
            ReportSchedule.objects.select_for_update(of=("self",)).select_related("periodic_task").get(pk=schedule_id)
        )
        task = schedule.periodic_task
        schedule.delete()
        if task is not None:
            task.delete()


def trigger_report_schedule(*, actor: Any, schedule_id: int) -> None:
    """Do now what beat would do at the schedule's time: a period already e-mailed is not sent again."""
    require_permission(actor, REQUEST_RUN)
    from .tasks import run_scheduled_report_task

    transaction.on_commit(lambda: run_scheduled_report_task.delay(schedule_id=schedule_id))


# --- runs -------------------------------------------------------------------------------------------


def _create_run(
    *,
    code: str,
    parameters: ReportParameters,
    requested_by: Any,
    schedule: ReportSchedule | None,
    formats: Sequence[str],
) -> ReportRun:
    _check_request(code, parameters, formats)
    run = ReportRun(
        report=code,
        schedule=schedule,
        parameters=parameters_json(parameters),
        formats=[name for name in FORMATS if name in formats],
        period_start=parameters.period_start,
        period_end=parameters.period_end,
        requested_by=requested_by,
    )
    with transaction.atomic():
        run.job = jobs.create_job(kind=JOB_KIND, name=_job_name(run), requested_by=requested_by)
        run.save()
    return run


def _job_name(run: ReportRun) -> str:
    return f"{get_definition(run.report).name} {run.period_label}"


def run_report(
    *,
    code: str,
    parameters: ReportParameters,
    requested_by: Any = None,
    schedule: ReportSchedule | None = None,
    formats: Sequence[str] = FORMATS,
) -> ReportRun:
    """Render a report here and now and keep it in the archive; a failure is kept on the run, not raised."""
    run = _create_run(code=code, parameters=parameters, requested_by=requested_by, schedule=schedule, formats=formats)
    return render_report_run(run_id=run.pk)


def request_report_run(
    *, actor: Any, code: str, parameters: ReportParameters, formats: Sequence[str] = FORMATS
) -> ReportRun:
    """A person's "Run now": a queued run that a worker renders once this transaction has committed."""
    require_permission(actor, REQUEST_RUN)
    with transaction.atomic():
        run = _create_run(code=code, parameters=parameters, requested_by=actor, schedule=None, formats=formats)
        from .tasks import run_report_task

        transaction.on_commit(lambda: run_report_task.delay(run.pk))
    return run


def render_report_run(*, run_id: int) -> ReportRun:
    """Build and render a queued run and store its files. A run that is not queued is left alone."""
    if not ReportRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, updated_at=timezone.now()
    ):
        return ReportRun.objects.get(pk=run_id)
    run = ReportRun.objects.get(pk=run_id)
    if run.job_id is not None and not jobs.start_job(job_id=run.job_id):
        return _fail_run(run, _("The background job was cancelled before it started."))
    try:
        files = _render(run)
    except Exception as exc:
        logger.exception("report run %s failed", run_id)
        return _fail_run(run, f"{type(exc).__name__}: {exc}")
    with transaction.atomic():
        for name, rendered in files.items():
            getattr(run, name).save(rendered.name, ContentFile(rendered.content), save=False)
        run.status = RunStatus.SUCCEEDED
        run.finished_at = timezone.now()
        run.error = ""
        run.save(update_fields=["pdf", "xlsx", "file_stem", "status", "finished_at", "error", "updated_at"])
        if run.job_id is not None:
            jobs.finish_job(
                job_id=run.job_id,
                result={name: getattr(run, name).name for name in files},
                message=_("Rendered %(files)s.") % {"files": ", ".join(r.name for r in files.values())},
            )
    return run


def _render(run: ReportRun) -> dict[str, RenderedFile]:
    from .excel import render_workbook
    from .pdf import render_pdf

    parameters = parameters_from_json(run.parameters)
    renderers = {ReportFormat.PDF: render_pdf, ReportFormat.XLSX: render_workbook}
    with translation.override(parameters.language):
        document: ReportDocument = get_definition(run.report).build(parameters)
        files = {name: renderers[ReportFormat(name)](document) for name in run.formats}
    run.file_stem = document.file_stem
    return files


def _fail_run(run: ReportRun, error: str) -> ReportRun:
    run.status = RunStatus.FAILED
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "updated_at"])
    if run.job_id is not None:
        jobs.fail_job(job_id=run.job_id, error=error)
    return run


def _requeue_failed(run: ReportRun) -> ReportRun:
    """A scheduled run that failed is tried again, under a new job, when its schedule fires again."""
    with transaction.atomic():
        locked = ReportRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == RunStatus.FAILED:
            locked.job = jobs.create_job(kind=JOB_KIND, name=_job_name(locked))
            locked.status = RunStatus.QUEUED
            locked.error = ""
            locked.finished_at = None
            locked.save(update_fields=["job", "status", "error", "finished_at", "updated_at"])
    return locked


# --- scheduled runs and delivery --------------------------------------------------------------------


def run_scheduled_report(*, schedule_id: int, now: datetime | None = None) -> ReportRun | None:
    """What beat does at a schedule's time: find or make the run of the period just finished, render it if
    it is not done, add a delivery per recipient and send what is pending. Raises `DeliveryFailed`."""
    schedule = ReportSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        return None  # deleted after beat fired
    now = now or timezone.now()
    parameters = schedule_parameters(schedule, now=now)
    run = _scheduled_run(schedule, parameters)
    ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_at=now)
    if run.status == RunStatus.FAILED:
        run = _requeue_failed(run)
    if run.status == RunStatus.QUEUED:
        run = render_report_run(run_id=run.pk)
    if run.status != RunStatus.SUCCEEDED:
        return run  # failed (the job says why) or being rendered by another worker, which delivers it
    _add_deliveries(run, schedule_recipients(schedule))
    deliver_report_run(run_id=run.pk)
    return run


def _scheduled_run(schedule: ReportSchedule, parameters: ReportParameters) -> ReportRun:
    period = {"schedule": schedule, "period_start": parameters.period_start, "period_end": parameters.period_end}
    existing = ReportRun.objects.filter(**period).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _create_run(
                code=schedule.report,
                parameters=parameters,
                requested_by=None,
                schedule=schedule,
                formats=schedule.formats,
            )
    except IntegrityError:
        return ReportRun.objects.get(**period)  # beat fired twice at once: the other one made it


def _add_deliveries(run: ReportRun, recipients: Sequence[tuple[str, int | None]]) -> None:
    known = {address.casefold() for address in run.deliveries.values_list("recipient", flat=True)}
    new = [
        ReportDelivery(run=run, recipient=address, user_id=user_id)
        for address, user_id in recipients
        if address.casefold() not in known
    ]
    ReportDelivery.objects.bulk_create(new, ignore_conflicts=True)
    _refresh_delivery_status(run.pk)


def _refresh_delivery_status(run_id: int) -> None:
    statuses = set(ReportDelivery.objects.filter(run_id=run_id).values_list("status", flat=True))
    if not statuses:
        summary = ""
    elif DeliveryStatus.FAILED in statuses:
        summary = DeliveryStatus.FAILED
    elif DeliveryStatus.PENDING in statuses:
        summary = DeliveryStatus.PENDING
    else:
        summary = DeliveryStatus.SENT
    ReportRun.objects.filter(pk=run_id).update(delivery_status=summary)


def _claim_delivery(run_id: int) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=DELIVERY_CLAIM_SECONDS)
    free = Q(delivery_claimed_at__isnull=True) | Q(delivery_claimed_at__lt=stale)
    return bool(ReportRun.objects.filter(free, pk=run_id).update(delivery_claimed_at=now))


def deliver_report_run(*, run_id: int) -> int:
    """Send each pending delivery of a run as one e-mail; returns how many were sent.

    Only one worker sends a run's mail at a time (a claim on the run). A delivery is marked sent right after
    the server accepted it; a refused one stays pending with its attempt and error counted, and
    `DeliveryFailed` is raised once every other recipient has had their turn.
    """
    if not _claim_delivery(run_id):
        return 0
    try:
        return _send_pending(ReportRun.objects.select_related("schedule").get(pk=run_id))
    finally:
        ReportRun.objects.filter(pk=run_id).update(delivery_claimed_at=None)
        _refresh_delivery_status(run_id)


def _send_pending(run: ReportRun) -> int:
    pending = list(run.deliveries.filter(status=DeliveryStatus.PENDING).order_by("pk"))
    if not pending:
        return 0
    attachments = _attachments(run)
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as exc:
        reason = smtp_reason(exc)
        _count_attempt([delivery.pk for delivery in pending], reason)
        raise DeliveryFailed(run_id=run.pk, reason=reason) from exc
    sent = 0
    refused: list[str] = []
    try:
        for delivery in pending:
            message = _message(run, delivery.recipient, attachments)
            message.connection = connection
            try:
                message.send()
            except (smtplib.SMTPException, OSError) as exc:
                reason = smtp_reason(exc)
                _count_attempt([delivery.pk], reason)
                refused.append(f"{delivery.recipient}: {reason}")
                continue
            sent += ReportDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.SENT, sent_at=timezone.now(), attempts=delivery.attempts + 1, last_error=""
            )
    finally:
        connection.close()
    if refused:
        raise DeliveryFailed(run_id=run.pk, reason="; ".join(refused))
    return sent


def _count_attempt(delivery_ids: list[int], reason: str) -> None:
    for delivery in ReportDelivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.PENDING):
        ReportDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
            attempts=delivery.attempts + 1, last_error=reason
        )


def smtp_reason(exc: BaseException) -> str:
    """The mail server's answer in one line ("451 try again later"), or what stopped us reaching it."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, text = next(iter(exc.recipients.values()))
        return f"{code} {_decoded(text)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_decoded(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def _decoded(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _attachments(run: ReportRun) -> list[tuple[str, bytes, str]]:
    from .excel import CONTENT_TYPE as XLSX_TYPE
    from .pdf import CONTENT_TYPE as PDF_TYPE

    files = []
    for name, content_type in ((ReportFormat.PDF, PDF_TYPE), (ReportFormat.XLSX, XLSX_TYPE)):
        stored = getattr(run, name)
        if stored:
            with stored.open("rb") as handle:
                files.append((download_name(run, name), handle.read(), content_type))
    return files


def download_name(run: ReportRun, file_format: str) -> str:
    """The name a person sees: the document's own (e.g. "oee-2026-03-02.pdf"), not the storage's."""
    stored = getattr(run, file_format)
    stem = run.file_stem or PurePath(stored.name).stem
    return f"{stem}.{file_format}"


def archive_url(run: ReportRun) -> str:
    return f"{settings.SITE_URL}{reverse('reports:run-detail', kwargs={'pk': run.pk})}"


def _message(run: ReportRun, recipient: str, attachments: list[tuple[str, bytes, str]]) -> EmailMessage:
    language = run.parameters.get("language", ReportLanguage.ENGLISH)
    with translation.override(language):
        name = str(REPORTS[run.report].name) if run.report in REPORTS else run.report
        lines = [
            _("Attached: %(report)s for %(period)s.") % {"report": name, "period": run.period_label},
            "",
            _("Every run is kept in the archive: %(url)s") % {"url": archive_url(run)},
        ]
        if run.schedule is not None:
            lines += ["", _("You receive this as a recipient of “%(schedule)s”.") % {"schedule": run.schedule.name}]
        subject = f"{name} — {run.period_label}"
    message = EmailMessage(subject=subject, body="\n".join(lines) + "\n", to=[recipient])
    for filename, content, content_type in attachments:
        message.attach(filename, content, content_type)
    return message


def give_up_report_delivery(*, run_id: int, reason: str) -> int:
    """After the last retry: the deliveries still pending are failed, each with the server's last answer."""
    failed = 0
    for delivery in ReportDelivery.objects.filter(run_id=run_id, status=DeliveryStatus.PENDING):
        failed += ReportDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.FAILED, last_error=delivery.last_error or reason
        )
    _refresh_delivery_status(run_id)
    if failed:
        run = ReportRun.objects.get(pk=run_id)
        operator_log.warning(
            "Report %s (%s) could not be e-mailed to %d recipient(s): %s", run.report, run.period_label, failed, reason
        )
    return failed


def retry_report_delivery(*, actor: Any, run_id: int) -> int:
    """A person asks to try the failed recipients again (the mail server is fixed); sent ones are never resent."""
    require_permission(actor, RETRY_DELIVERY)
    with transaction.atomic():
        again = ReportDelivery.objects.filter(run_id=run_id, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING
        )
        _refresh_delivery_status(run_id)
        if again:
            from .tasks import deliver_report_run_task

            transaction.on_commit(lambda: deliver_report_run_task.delay(run_id=run_id))
    return again
