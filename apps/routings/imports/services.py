"""Importing and exporting master data and open jobs; every entry point (page, command) calls these.

An import reads the whole file, checks every row against the database and the rest of the file,
and writes nothing unless no row has a problem; a good file is written in one transaction. Each
import is a core background job whose log and result list the problems or the counts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from uuid import uuid4

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import services as jobs
from apps.core.models import Job as BackgroundJob
from apps.core.permissions import require_permission

from .export import csv_lines, write_template, write_xlsx
from .kinds import Kind, Problem, Problems, get_kind
from .kinds.base import parse_header, parse_rows
from .reader import FileRefused, check_file, read_table

IMPORT_MASTER_DATA = "routings.import_master_data"
JOB_KIND = "routings.import"
UPLOAD_DIR = "imports"

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]


@dataclass
class ImportOutcome:
    """What an import did: the counts per table, or the problems (then nothing was written)."""

    kind: str
    filename: str
    rows: int = 0
    refused: str = ""
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.problem_count

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.filename,
            "rows": self.rows,
            "refused": self.refused,
            "problems": [problem.as_dict() for problem in self.problems],
            "problem_count": self.problem_count,
            "counts": self.counts,
        }

    def summary(self) -> str:
        if self.refused:
            return self.refused
        if self.problem_count:
            return _("%(count)s problem(s) in the file; nothing was imported.") % {"count": self.problem_count}
        lines = []
        for table, numbers in self.counts.items():
            line = _("%(table)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged") % {
                "table": table.replace("_", " "),
                **numbers,
            }
            if numbers.get("deleted"):
                line += _(", %(deleted)s removed") % numbers
            lines.append(line)
        return "; ".join(lines)


def import_file(
    *,
    actor: Any,
    kind: Kind,
    file: IO[bytes],
    filename: str,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Check the whole file; write it in one transaction only if no row has a problem."""
    require_permission(actor, IMPORT_MASTER_DATA)
    report = progress or (lambda percent, message: None)
    outcome = ImportOutcome(kind=kind.slug, filename=filename)
    try:
        table = read_table(file, filename)
    except FileRefused as refused:
        outcome.refused = refused.message
        return outcome
    outcome.rows = len(table.rows)
    report(20, _("Read %(rows)s rows.") % {"rows": outcome.rows})
    problems = Problems()
    positions = parse_header(kind, table.headers, problems)
    if not problems:
        rows = parse_rows(kind, table, positions, problems)
        present = {header for header in positions if header}
        plan = kind.check(rows, present, problems)
    if problems:
        outcome.problems, outcome.problem_count = problems.listed, problems.total
        return outcome
    report(60, _("Checked %(rows)s rows: no problems.") % {"rows": outcome.rows})
    try:
        with transaction.atomic():
            counts = kind.write(plan, actor)
    except (ValidationError, PermissionDenied, DatabaseError) as error:
        # Someone changed the same rows since the check (or the database refused): nothing is
        # written, and the reason is the job's error.
        outcome.refused = _("Nothing was imported: %(reason)s") % {"reason": _reason(error)}
        return outcome
    outcome.counts = {table_name: numbers.as_dict() for table_name, numbers in counts.items()}
    return outcome


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


@transaction.atomic
def start_import(*, actor: Any, kind: str, upload: File[bytes], filename: str) -> BackgroundJob:
    """Keep the upload under a server-made name and queue its import as a background job.

    The file's type and size are checked here, so a wrong file is refused at once (ValidationError);
    its rows are checked by the job.
    """
    job = _queue_import(actor=actor, kind=kind, upload=upload, filename=filename)
    from .tasks import import_data_task

    transaction.on_commit(lambda: import_data_task.delay(job.pk))
    return job


def import_local_file(*, actor: Any, kind: str, path: str) -> tuple[BackgroundJob, ImportOutcome | None]:
    """The management command's import: the same background job, run here and now."""
    with open(path, "rb") as handle, transaction.atomic():
        job = _queue_import(actor=actor, kind=kind, upload=File(handle), filename=path)
    outcome = run_import(job_id=job.pk)
    job.refresh_from_db()
    return job, outcome


def _queue_import(*, actor: Any, kind: str, upload: File[bytes], filename: str) -> BackgroundJob:
    require_permission(actor, IMPORT_MASTER_DATA)
    spec = get_kind(kind)
    filename = os.path.basename(filename.replace("\\", "/"))[:120] or "upload"
    try:
        extension = check_file(upload, filename)
    except FileRefused as refused:
        raise ValidationError(refused.message) from refused
    upload.seek(0)
    stored = default_storage.save(f"{UPLOAD_DIR}/{uuid4().hex}.{extension}", upload)
    job = jobs.create_job(
        kind=JOB_KIND,
        name=_("Import %(kind)s from %(file)s") % {"kind": spec.label, "file": filename},
        requested_by=actor,
    )
    job.result = {"kind": spec.slug, "file": filename, "upload": stored}
    job.save(update_fields=["result", "updated_at"])
    return job


def run_import(*, job_id: int) -> ImportOutcome | None:
    """Run a queued import job to its end; None when it already ran or was cancelled."""
    job = BackgroundJob.objects.select_related("requested_by").get(pk=job_id)
    meta = dict(job.result)
    if not jobs.start_job(job_id=job_id):
        return None

    def progress(percent: int, message: str) -> None:
        jobs.report_job_progress(
            job_id=job_id, percent=percent, detail={"kind": meta["kind"], "file": meta["file"]}, message=message
        )

    try:
        with default_storage.open(meta["upload"], "rb") as upload:
            outcome = import_file(
                actor=job.requested_by,
                kind=get_kind(meta["kind"]),
                file=upload,
                filename=meta["file"],
                progress=progress,
            )
    except jobs.JobCancelled:
        jobs.mark_job_cancelled(job_id=job_id)
        return None
    except PermissionDenied as denied:
        outcome = ImportOutcome(kind=meta["kind"], filename=meta["file"], refused=str(denied))
    except Exception as error:
        logger.exception("import job %s failed", job_id)
        outcome = ImportOutcome(
            kind=meta["kind"], filename=meta["file"], refused=_("The import failed: %(error)s") % {"error": error}
        )
    finally:
        default_storage.delete(meta["upload"])
    _record(job_id, outcome)
    return outcome


def _record(job_id: int, outcome: ImportOutcome) -> None:
    result = outcome.as_dict()
    if outcome.ok:
        jobs.finish_job(job_id=job_id, result=result, message=outcome.summary())
        return
    if outcome.problems:
        listed = "\n".join(str(problem) for problem in outcome.problems)
        more = outcome.problem_count - len(outcome.problems)
        if more:
            listed += "\n" + _("… and %(more)s more.") % {"more": more}
        jobs.append_job_log(job_id=job_id, message=_("Problems:") + "\n" + listed)
    jobs.fail_job(job_id=job_id, error=outcome.summary(), result=result)


def export_csv(*, actor: Any, kind: Kind) -> Iterator[str]:
    require_permission(actor, IMPORT_MASTER_DATA)
    return csv_lines(kind)


def export_xlsx(*, actor: Any, kind: Kind, target: IO[bytes]) -> int:
    require_permission(actor, IMPORT_MASTER_DATA)
    return write_xlsx(kind, target)


def template_csv(*, kind: Kind) -> str:
    return "".join(csv_lines(kind, rows=[]))


def template_xlsx(*, kind: Kind, target: IO[bytes]) -> None:
    write_template(kind, target)


def export_filename(kind: Kind, extension: str, *, template: bool = False) -> str:
    if template:
        return f"{kind.slug}-template.{extension}"
    return f"{kind.slug}-{timezone.localdate():%Y-%m-%d}.{extension}"
