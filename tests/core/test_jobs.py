from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from apps.core import services
from apps.core.models import Job


@pytest.fixture
def job(db: Any) -> Job:
    return services.create_job(kind="routings.import", name="Import jobs.xlsx")


def test_lifecycle_queued_running_succeeded(job: Job) -> None:
    assert services.start_job(job_id=job.pk) is True
    services.report_job_progress(job_id=job.pk, percent=40, detail={"rows": 120}, message="validated 120 rows")
    assert services.finish_job(job_id=job.pk, result={"created": 120}, message="imported") is True
    job.refresh_from_db()
    assert (job.status, job.progress, job.progress_detail, job.result) == (
        "succeeded",
        100,
        {"rows": 120},
        {"created": 120},
    )
    assert job.started_at is not None and job.finished_at is not None and job.finished_at >= job.started_at
    assert job.log.splitlines()[0].endswith("validated 120 rows")
    assert job.log.splitlines()[1].endswith("imported")


def test_a_job_starts_once(job: Job) -> None:
    assert services.start_job(job_id=job.pk) is True
    assert services.start_job(job_id=job.pk) is False


def test_finished_job_cannot_fail_afterwards(job: Job) -> None:
    services.start_job(job_id=job.pk)
    services.finish_job(job_id=job.pk)
    assert services.fail_job(job_id=job.pk, error="late error") is False
    job.refresh_from_db()
    assert (job.status, job.error) == ("succeeded", "")


def test_failure_keeps_the_reason(job: Job) -> None:
    services.start_job(job_id=job.pk)
    services.fail_job(job_id=job.pk, error="row 7, column C: quantity must be positive")
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "row 7, column C: quantity must be positive"
    assert "failed: row 7, column C" in job.log


def test_cancel_queued_job_is_immediate(job: Job, personas: dict[str, Any]) -> None:
    services.request_job_cancel(actor=personas["production_manager"], job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("cancelled", True)
    assert "cancel requested by production_manager" in job.log


def test_running_job_stops_at_next_progress_report(job: Job, personas: dict[str, Any]) -> None:
    services.start_job(job_id=job.pk)
    services.request_job_cancel(actor=personas["production_manager"], job_id=job.pk)
    with pytest.raises(services.JobCancelled):
        services.report_job_progress(job_id=job.pk, percent=50)
    services.mark_job_cancelled(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_cancel_refused_without_permission_changes_nothing(job: Job, personas: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.request_job_cancel(actor=personas["supervisor"], job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.cancel_requested, job.log) == ("queued", False, "")


def test_progress_is_clamped(job: Job) -> None:
    services.start_job(job_id=job.pk)
    services.report_job_progress(job_id=job.pk, percent=250)
    job.refresh_from_db()
    assert job.progress == 100


def test_job_pages(job: Job, client_for: Any) -> None:
    supervisor = client_for("supervisor")
    listing = supervisor.get("/background-jobs/")
    assert listing.status_code == 200
    assert "Import jobs.xlsx" in listing.content.decode()
    detail = supervisor.get(f"/background-jobs/{job.pk}/")
    assert detail.status_code == 200
    partial = supervisor.get(f"/background-jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "Import jobs.xlsx" not in partial.content.decode()
    assert supervisor.post(f"/background-jobs/{job.pk}/cancel/").status_code == 403
    manager = client_for("production_manager")
    assert manager.post(f"/background-jobs/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_job_list_query_count_does_not_grow(db: Any, client_for: Any, django_assert_max_num_queries: Any) -> None:
    client = client_for("supervisor")
    client.get("/background-jobs/")
    for index in range(40):
        services.create_job(kind="k", name=f"job {index}")
    with django_assert_max_num_queries(12):
        assert client.get("/background-jobs/").status_code == 200
