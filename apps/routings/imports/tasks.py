"""Celery task of imports: run a queued import job."""

from __future__ import annotations

from celery import shared_task

from .services import run_import


@shared_task(name="routings.import_data")
def import_data_task(job_id: int) -> None:
    """Run import job `job_id`; a second delivery of the same job does nothing (start_job refuses)."""
    run_import(job_id=job_id)
