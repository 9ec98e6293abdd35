"""State changes of core: the lifecycle of a background job.

A job goes queued -> running -> succeeded | failed | cancelled. Every transition is a conditional
UPDATE on the old status, so two workers (or a worker and a person cancelling) never both win.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from .choices import FINISHED_JOB_STATUSES, JobStatus
from .live import push_job_update
from .models import Job
from .permissions import CANCEL_JOB, require_permission


class JobCancelled(Exception):
    """Raised inside a running job when someone asked to cancel it."""


def create_job(*, kind: str, name: str, requested_by: Any = None) -> Job:
    return Job.objects.create(kind=kind, name=name, requested_by=requested_by)


def start_job(*, job_id: int) -> bool:
    """Mark a queued job running; False if it was already taken, finished or cancelled."""
    started = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if started:
        push_job_update(job_id)
    return bool(started)


def append_job_log(*, job_id: int, message: str) -> None:
    line = f"{timezone.now():%Y-%m-%d %H:%M:%S} {message}\n"
    Job.objects.filter(pk=job_id).update(log=Concat(F("log"), Value(line)), updated_at=timezone.now())


def report_job_progress(*, job_id: int, percent: int, detail: dict[str, Any] | None = None, message: str = "") -> None:
    """Record progress of a running job; raises JobCancelled when a cancel was requested."""
    percent = max(0, min(100, percent))
    updates: dict[str, Any] = {"progress": percent, "updated_at": timezone.now()}
    if detail is not None:
        updates["progress_detail"] = detail
    if message:
        line = f"{timezone.now():%Y-%m-%d %H:%M:%S} {message}\n"
        updates["log"] = Concat(F("log"), Value(line))
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**updates)
    push_job_update(job_id)
    if Job.objects.filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelled(f"job {job_id} was cancelled")


def finish_job(*, job_id: int, result: dict[str, Any] | None = None, message: str = "") -> bool:
    return _end_job(job_id, JobStatus.SUCCEEDED, result=result or {}, message=message, progress=100)


def fail_job(*, job_id: int, error: str, result: dict[str, Any] | None = None) -> bool:
    """End a job as failed; `result` keeps what a person needs to fix it (e.g. the bad rows)."""
    return _end_job(job_id, JobStatus.FAILED, result=result, error=error, message=f"failed: {error}")


def mark_job_cancelled(*, job_id: int) -> bool:
    """Called by the worker once it has stopped after a cancel request."""
    return _end_job(job_id, JobStatus.CANCELLED, message="cancelled")


def request_job_cancel(*, actor: Any, job_id: int) -> Job:
    """Ask a job to stop. A queued job is cancelled at once; a running one stops at its next
    progress report. Cancelling a finished job changes nothing."""
    require_permission(actor, CANCEL_JOB)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in FINISHED_JOB_STATUSES:
            return job
        who = getattr(actor, "username", "system")
        job.cancel_requested = True
        job.log += f"{timezone.now():%Y-%m-%d %H:%M:%S} cancel requested by {who}\n"
        if job.status == JobStatus.QUEUED:
            job.status = JobStatus.CANCELLED
            job.finished_at = timezone.now()
        job.save()
    push_job_update(job_id)
    return job


def _end_job(
    job_id: int,
    status: JobStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str = "",
    message: str = "",
    progress: int | None = None,
) -> bool:
    now = timezone.now()
    updates: dict[str, Any] = {"status": status, "finished_at": now, "updated_at": now}
    if result is not None:
        updates["result"] = result
    if error:
        updates["error"] = error
    if progress is not None:
        updates["progress"] = progress
    if message:
        updates["log"] = Concat(F("log"), Value(f"{now:%Y-%m-%d %H:%M:%S} {message}\n"))
    ended = Job.objects.filter(pk=job_id).exclude(status__in=FINISHED_JOB_STATUSES).update(**updates)
    if ended:
        push_job_update(job_id)
    return bool(ended)
