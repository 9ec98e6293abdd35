"""Issue reports from the floor: raise one (with a photo), acknowledge it, close it; the right people are told."""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.accounts.roles import MAINTENANCE, PLANNER, PRODUCTION_MANAGER, QUALITY, SUPERVISOR
from apps.core.notifications import notify_users, users_in_roles
from apps.core.permissions import require_permission
from apps.machines.models import WorkCenter
from apps.routings.models import Job, Operation

from .choices import IssueKind, IssueStatus
from .models import IssueReport

ADD_ISSUE = "shopfloor.add_issuereport"
VIEW_ISSUE = "shopfloor.view_issuereport"
RESOLVE_ISSUE = "shopfloor.resolve_issuereport"

TEXT_MAX_CHARS = 4000
PHOTO_MAX_SIDE = 2048
# A 12 MP phone photo is far below this; a few-kilobyte PNG that claims 20000 × 20000 is a bomb.
PHOTO_MAX_PIXELS = 50_000_000
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})

# Who hears of an issue, by kind; supervisors hear of every one.
ROUTING: dict[str, tuple[str, ...]] = {
    IssueKind.QUALITY: (QUALITY,),
    IssueKind.MACHINE: (MAINTENANCE,),
    IssueKind.MATERIAL: (PLANNER,),
    IssueKind.SAFETY: (SUPERVISOR, PRODUCTION_MANAGER),
}


def issue_url(issue_id: int) -> str:
    return reverse("shopfloor:issue-detail", args=[issue_id])


def prepare_photo(photo: UploadedFile) -> ContentFile[bytes]:
    """The photo as a JPEG of at most PHOTO_MAX_SIDE px, turned upright; refused unless it truly is a photo.

    The name and content type the phone sent are ignored: Pillow must recognise the bytes as
    JPEG, PNG or WebP, within the size and pixel limits, and decode them cleanly.
    """
    limit = settings.ISSUE_PHOTO_MAX_BYTES
    refuse_size = ValidationError(
        {"photo": _("The photo is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}}, code="too_large"
    )
    if photo.size is not None and photo.size > limit:
        raise refuse_size
    photo.seek(0)
    data = photo.read(limit + 1)
    if len(data) > limit:
        raise refuse_size
    not_a_photo = ValidationError({"photo": _("The photo must be a JPEG, PNG or WebP image.")}, code="invalid_image")
    too_many_pixels = ValidationError(
        {"photo": _("The image has too many pixels to be a photo.")}, code="too_many_pixels"
    )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise not_a_photo
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise too_many_pixels
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise too_many_pixels from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise not_a_photo from exc
    upright.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    if upright.mode in ("RGBA", "LA", "P", "PA"):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    elif upright.mode != "RGB":
        upright = upright.convert("RGB")
    out = io.BytesIO()
    # Saved without the EXIF block: the rotation is applied, and a phone's GPS position stays private.
    upright.save(out, format="JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


def _where(
    work_center_id: int | None, job_id: int | None, operation_id: int | None
) -> tuple[WorkCenter | None, Job | None, Operation | None]:
    errors: dict[str, str] = {}
    operation = Operation.objects.select_related("job").filter(pk=operation_id).first() if operation_id else None
    if operation_id and operation is None:
        errors["operation"] = _("No such operation.")
    job = Job.objects.filter(pk=job_id).first() if job_id else None
    if job_id and job is None:
        errors["job"] = _("No such job.")
    work_center = WorkCenter.objects.filter(pk=work_center_id).first() if work_center_id else None
    if work_center_id and work_center is None:
        errors["work_center"] = _("No such machine.")
    if operation is not None and job is not None and operation.job_id != job.pk:
        errors["operation"] = _("Operation %(operation)s belongs to job %(job)s, not to %(given)s.") % {
            "operation": operation,
            "job": operation.job.number,
            "given": job.number,
        }
    if errors:
        raise ValidationError(errors)
    if operation is not None:
        job = operation.job
        if work_center is None and operation.work_center_id:
            # The machine the operation runs on is where the problem is, unless the operator said otherwise.
            work_center = operation.work_center
    return work_center, job, operation


def _title(issue: IssueReport) -> str:
    place = str(issue.work_center.name) if issue.work_center else (issue.job.number if issue.job else "")
    if place:
        return _("%(kind)s on %(place)s: %(text)s") % {
            "kind": issue.get_kind_display(),
            "place": place,
            "text": issue.text[:80],
        }
    return _("%(kind)s: %(text)s") % {"kind": issue.get_kind_display(), "text": issue.text[:80]}


def issue_audience(issue: IssueReport) -> list[Any]:
    """Who hears of a new issue: the roles of its kind and every supervisor, never the reporter."""
    roles = {SUPERVISOR, *ROUTING[issue.kind]}
    return [user for user in users_in_roles(roles) if user.pk != issue.reported_by_id]


def report_issue(
    *,
    user: Any,
    kind: str,
    text: str,
    photo: UploadedFile | None = None,
    work_center_id: int | None = None,
    job_id: int | None = None,
    operation_id: int | None = None,
) -> IssueReport:
    """Raise an issue from the floor and tell the people who deal with its kind."""
    require_permission(user, ADD_ISSUE)
    text = (text or "").strip()
    errors: dict[str, str] = {}
    if kind not in IssueKind.values:
        errors["kind"] = _("Choose what kind of issue this is.")
    if not text:
        errors["text"] = _("Say what happened.")
    elif len(text) > TEXT_MAX_CHARS:
        errors["text"] = _("Keep it under %(n)d characters.") % {"n": TEXT_MAX_CHARS}
    if errors:
        raise ValidationError(errors)
    work_center, job, operation = _where(work_center_id, job_id, operation_id)
    prepared = prepare_photo(photo) if photo is not None else None

    with transaction.atomic():
        issue = IssueReport(
            kind=kind,
            text=text,
            work_center=work_center,
            job=job,
            operation=operation,
            reported_by=user,
            reported_at=timezone.now(),
        )
        if prepared is not None:
            issue.photo.save(prepared.name or "", prepared, save=False)
        try:
            issue.save()
            notify_users(
                issue_audience(issue),
                kind="shopfloor.issue_reported",
                title=_title(issue),
                body=text,
                url=issue_url(issue.pk),
            )
        except Exception:
            if issue.photo:
                # The row did not make it: do not leave an orphan file in storage.
                issue.photo.delete(save=False)
            raise
    return issue


def _refuse(issue_id: int, verb: str) -> ValidationError:
    current = IssueReport.objects.filter(pk=issue_id).values_list("status", flat=True).first()
    if current is None:
        raise IssueReport.DoesNotExist(f"IssueReport {issue_id} does not exist")
    return ValidationError(
        _("This issue cannot be %(verb)s: it is %(status)s.")
        % {"verb": verb, "status": IssueStatus(current).label.lower()},
        code="invalid_transition",
    )


def _tell_reporter(issue: IssueReport, user: Any, *, kind: str, title: str, body: str) -> None:
    if issue.reported_by_id == getattr(user, "pk", None):
        return
    notify_users([issue.reported_by], kind=kind, title=title, body=body, url=issue_url(issue.pk))


@transaction.atomic
def acknowledge_issue(*, user: Any, issue_id: int) -> IssueReport:
    """Someone has seen the issue and is on it: open → acknowledged; the reporter is told."""
    require_permission(user, RESOLVE_ISSUE)
    now = timezone.now()
    changed = IssueReport.objects.filter(pk=issue_id, status=IssueStatus.OPEN).update(
        status=IssueStatus.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=now, updated_at=now
    )
    if changed != 1:
        raise _refuse(issue_id, _("acknowledged"))
    issue = IssueReport.objects.select_related("reported_by").get(pk=issue_id)
    _tell_reporter(
        issue,
        user,
        kind="shopfloor.issue_acknowledged",
        title=_("Your issue was acknowledged by %(name)s") % {"name": user.display_name},
        body=issue.text[:200],
    )
    return issue


@transaction.atomic
def close_issue(*, user: Any, issue_id: int, resolution: str) -> IssueReport:
    """The issue is dealt with (open or acknowledged → closed), saying how; the reporter is told."""
    require_permission(user, RESOLVE_ISSUE)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Say how the issue was resolved.")})
    if len(resolution) > TEXT_MAX_CHARS:
        raise ValidationError({"resolution": _("Keep it under %(n)d characters.") % {"n": TEXT_MAX_CHARS}})
    now = timezone.now()
    changed = IssueReport.objects.filter(pk=issue_id, status__in=(IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED)).update(
        status=IssueStatus.CLOSED, closed_by=user, closed_at=now, resolution=resolution, updated_at=now
    )
    if changed != 1:
        raise _refuse(issue_id, _("closed"))
    issue = IssueReport.objects.select_related("reported_by").get(pk=issue_id)
    _tell_reporter(
        issue,
        user,
        kind="shopfloor.issue_closed",
        title=_("Your issue was closed by %(name)s") % {"name": user.display_name},
        body=resolution,
    )
    return issue
