"""Checks on part files (drawings, DXF flat patterns, NC programs) before they are stored, and
their download.

A file is accepted only when its name ends in an extension of its kind, it is not larger than
the kind's limit, and its first bytes look like that kind: a PDF starts with ``%PDF-``, a DXF is
text with a SECTION group (HEADER, ENTITIES…) near its start, an NC program is text without NUL
bytes. The size is counted on the bytes actually read, never taken from the client's word.

Limits can be changed with the setting ``PART_FILE_SIZE_LIMITS`` (bytes per kind).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .choices import PartFileKind

if TYPE_CHECKING:
    from .models import PartFile

MB = 1024 * 1024

DEFAULT_SIZE_LIMITS: dict[str, int] = {
    PartFileKind.DRAWING: 25 * MB,
    PartFileKind.DXF: 25 * MB,
    PartFileKind.NC_PROGRAM: 5 * MB,
}

EXTENSIONS: dict[str, tuple[str, ...]] = {
    PartFileKind.DRAWING: (".pdf",),
    PartFileKind.DXF: (".dxf",),
    PartFileKind.NC_PROGRAM: (".nc", ".tap", ".mpf", ".txt", ".gcode", ".cnc"),
}

CONTENT_TYPES: dict[str, str] = {
    PartFileKind.DRAWING: "application/pdf",
    PartFileKind.DXF: "image/vnd.dxf",
    PartFileKind.NC_PROGRAM: "text/plain",
}

# How much of the start of a file the sniffers look at.
HEAD_BYTES = 16 * 1024

# An ASCII DXF is pairs of lines (group code, value): "0 / SECTION / 2 / HEADER".
_DXF_SECTION = re.compile(
    rb"(?:^|\n)[ \t]*0[ \t]*\r?\n[ \t]*SECTION[ \t]*\r?\n[ \t]*2[ \t]*\r?\n[ \t]*"
    rb"(HEADER|CLASSES|TABLES|BLOCKS|ENTITIES|OBJECTS)[ \t]*\r?(?:\n|$)"
)
_UNSAFE_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class CheckedFile:
    """What is recorded about an accepted file."""

    original_name: str
    stored_name: str
    size: int
    sha256: str
    content_type: str


def size_limit(kind: str) -> int:
    configured: dict[str, int] = getattr(settings, "PART_FILE_SIZE_LIMITS", {})
    return int(configured.get(kind, DEFAULT_SIZE_LIMITS[kind]))


def clean_original_name(name: str) -> str:
    """The file's own name without any folder a browser sent, control characters or excess length."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = _UNSAFE_NAME_CHARACTERS.sub("", unicodedata.normalize("NFC", base)).strip()
    if len(base) > 255:
        suffix = PurePosixPath(base).suffix[:20]
        base = base[: 255 - len(suffix)] + suffix
    return base or "file"


def extension_of(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def check_part_file(*, kind: str, name: str, declared_size: int | None, chunks: Iterable[bytes]) -> CheckedFile:
    """Accept a file of `kind` or raise ValidationError saying what is wrong with it."""
    if kind not in EXTENSIONS:
        raise ValidationError({"kind": _("Choose what the file is: a drawing (PDF), a DXF or an NC program.")})
    label = PartFileKind(kind).label
    original = clean_original_name(name)
    extension = extension_of(original)
    allowed = EXTENSIONS[kind]
    if extension not in allowed:
        raise ValidationError(
            {
                "file": _("“%(name)s” is not accepted as “%(kind)s”: the name must end in %(ext)s.")
                % {"name": original, "kind": label, "ext": ", ".join(allowed)}
            }
        )
    limit = size_limit(kind)
    too_big = ValidationError(
        {
            "file": _("“%(name)s” is larger than %(limit)s, the limit for “%(kind)s” files.")
            % {"name": original, "limit": filesizeformat(limit), "kind": label}
        }
    )
    if declared_size is not None and declared_size > limit:
        raise too_big
    digest = hashlib.sha256()
    head = b""
    size = 0
    has_nul = False
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_big
        digest.update(chunk)
        has_nul = has_nul or b"\x00" in chunk
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
    if size == 0:
        raise ValidationError({"file": _("“%(name)s” is empty.") % {"name": original}})
    problem = _sniff(kind, head, has_nul)
    if problem:
        raise ValidationError({"file": problem % {"name": original}})
    return CheckedFile(
        original_name=original,
        stored_name=f"{uuid.uuid4().hex}{extension}",
        size=size,
        sha256=digest.hexdigest(),
        content_type=CONTENT_TYPES[kind],
    )


def _sniff(kind: str, head: bytes, has_nul: bool) -> str:
    """A message (with a %(name)s placeholder) when the content is not of `kind`, else ''."""
    if kind == PartFileKind.DRAWING:
        if not head.startswith(b"%PDF-"):
            return _("“%(name)s” is not a PDF: a PDF file starts with %%PDF-.")
        return ""
    if kind == PartFileKind.DXF:
        if b"\x00" in head:
            return _("“%(name)s” is not a text DXF: it contains binary data. Save it as an ASCII DXF.")
        if not _DXF_SECTION.search(head):
            return _("“%(name)s” is not a DXF: no SECTION (HEADER, ENTITIES…) near its start.")
        return ""
    if has_nul:
        return _("“%(name)s” is not a text NC program: it contains binary data (NUL bytes).")
    return ""


def attachment_response(part_file: PartFile) -> FileResponse:
    """A stored file streamed as an attachment under its original name, never shown inline."""
    try:
        handle = part_file.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The stored file is missing.")) from exc
    return FileResponse(
        handle, as_attachment=True, filename=part_file.original_name, content_type=part_file.content_type
    )
