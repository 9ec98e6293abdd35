"""Part files: size, extension and content checks; stored under a made name; downloaded only by
roles that may see part files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.core.testing import verified_client
from apps.routings.models import Part, PartFile
from apps.routings.services import upload_part_file
from apps.routings.uploads import MB, check_part_file, clean_original_name

from .builders import make_part

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
DXF = (
    b"  0\nSECTION\n  2\nHEADER\n  9\n$ACADVER\n  1\nAC1015\n  0\nENDSEC\n"
    b"  0\nSECTION\n  2\nENTITIES\n  0\nENDSEC\n  0\nEOF\n"
)
NC = b"%\nO1001 (BRACKET)\nG21 G90\nM30\n%\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def part() -> Part:
    return make_part("DR-100")


def upload(actor: Any, part: Part, kind: str, name: str, content: bytes) -> PartFile:
    return upload_part_file(actor=actor, part_id=part.pk, kind=kind, uploaded_file=SimpleUploadedFile(name, content))


def refused(actor: Any, part: Part, kind: str, name: str, content: bytes) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        upload(actor, part, kind, name, content)
    assert PartFile.objects.count() == 0
    return caught.value.message_dict


def test_good_pdf_is_stored_under_a_made_name(part: Part, personas: dict[str, Any], media: Path) -> None:
    stored = upload(personas["production_manager"], part, "drawing", "Door panel rev B.pdf", PDF)

    assert stored.original_name == "Door panel rev B.pdf"
    assert stored.size_bytes == len(PDF)
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.content_type == "application/pdf"
    assert stored.uploaded_by == personas["production_manager"]
    name = Path(stored.file.name)
    assert name.parent.parts[0] == "parts"
    assert len(name.stem) == 32 and all(c in "0123456789abcdef" for c in name.stem)
    assert name.suffix == ".pdf"
    assert (media / stored.file.name).read_bytes() == PDF


def test_oversize_file_is_refused(part: Part, personas: dict[str, Any]) -> None:
    big = b"G1 X1\n" * (5 * MB // 6 + 1)
    assert refused(personas["production_manager"], part, "nc", "big.nc", big) == {
        "file": ["“big.nc” is larger than 5.0\xa0MB, the limit for “NC program” files."]
    }


def test_size_is_counted_not_taken_from_the_client(settings: Any) -> None:
    settings.PART_FILE_SIZE_LIMITS = {"drawing": 10}
    with pytest.raises(ValidationError) as caught:
        check_part_file(kind="drawing", name="a.pdf", declared_size=3, chunks=[PDF[:8], PDF[8:]])
    assert caught.value.message_dict == {
        "file": ["“a.pdf” is larger than 10\xa0bytes, the limit for “Drawing (PDF)” files."]
    }


def test_wrong_extension_is_refused(part: Part, personas: dict[str, Any]) -> None:
    assert refused(personas["production_manager"], part, "drawing", "door.exe", PDF) == {
        "file": ["“door.exe” is not accepted as “Drawing (PDF)”: the name must end in .pdf."]
    }
    assert refused(personas["production_manager"], part, "nc", "prog.pdf", NC) == {
        "file": [
            "“prog.pdf” is not accepted as “NC program”: the name must end in .nc, .tap, .mpf, .txt, .gcode, .cnc."
        ]
    }


def test_a_pdf_that_is_not_a_pdf_is_refused(part: Part, personas: dict[str, Any]) -> None:
    assert refused(personas["production_manager"], part, "drawing", "drawing.pdf", b"MZ\x90\x00 not a pdf") == {
        "file": ["“drawing.pdf” is not a PDF: a PDF file starts with %PDF-."]
    }


def test_dxf_must_be_a_text_dxf(part: Part, personas: dict[str, Any]) -> None:
    assert upload(personas["production_manager"], part, "dxf", "flat.DXF", DXF).content_type == "image/vnd.dxf"
    PartFile.objects.all().delete()
    assert refused(personas["production_manager"], part, "dxf", "flat.dxf", b"hello world\n") == {
        "file": ["“flat.dxf” is not a DXF: no SECTION (HEADER, ENTITIES…) near its start."]
    }
    assert refused(personas["production_manager"], part, "dxf", "flat.dxf", b"AutoCAD Binary DXF\r\n\x1a\x00") == {
        "file": ["“flat.dxf” is not a text DXF: it contains binary data. Save it as an ASCII DXF."]
    }


def test_nc_program_must_be_text(part: Part, personas: dict[str, Any]) -> None:
    assert upload(personas["production_manager"], part, "nc", "O1001.tap", NC).content_type == "text/plain"
    PartFile.objects.all().delete()
    assert refused(personas["production_manager"], part, "nc", "O1001.nc", NC + b"\x00\x01") == {
        "file": ["“O1001.nc” is not a text NC program: it contains binary data (NUL bytes)."]
    }


def test_empty_file_and_unknown_kind_are_refused(part: Part, personas: dict[str, Any]) -> None:
    assert refused(personas["production_manager"], part, "nc", "empty.nc", b"") == {"file": ["“empty.nc” is empty."]}
    assert refused(personas["production_manager"], part, "photo", "a.jpg", b"x") == {
        "kind": ["Choose what the file is: a drawing (PDF), a DXF or an NC program."]
    }


def test_upload_needs_the_permission(part: Part, personas: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        upload(personas["supervisor"], part, "drawing", "a.pdf", PDF)
    assert PartFile.objects.count() == 0


def test_folders_and_control_characters_leave_the_original_name() -> None:
    assert clean_original_name("C:\\Users\\ann\\..\\door\x07.pdf") == "door.pdf"
    assert clean_original_name("../../etc/passwd") == "passwd"
    assert clean_original_name("") == "file"
    assert len(clean_original_name("a" * 400 + ".pdf")) == 255


def test_download_by_a_role_with_view_partfile(part: Part, personas: dict[str, Any]) -> None:
    stored = upload(personas["production_manager"], part, "drawing", "Tür Ø40.pdf", PDF)
    url = reverse("routings:part-file-download", args=[stored.pk])

    response = verified_client(personas["operator"], Client).get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''T%C3%BCr%20%C3%9840.pdf"


def test_download_is_refused_to_an_outsider_and_anonymous(part: Part, personas: dict[str, Any]) -> None:
    stored = upload(personas["production_manager"], part, "drawing", "door.pdf", PDF)
    url = reverse("routings:part-file-download", args=[stored.pk])
    assert verified_client(personas["outsider"], Client).get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_media_is_not_served(part: Part, personas: dict[str, Any]) -> None:
    stored = upload(personas["production_manager"], part, "drawing", "door.pdf", PDF)
    response = verified_client(personas["admin"], Client).get(f"/media/{stored.file.name}")
    assert response.status_code == 404


def test_missing_stored_file_is_a_404(part: Part, personas: dict[str, Any], media: Path) -> None:
    stored = upload(personas["production_manager"], part, "drawing", "door.pdf", PDF)
    (media / stored.file.name).unlink()
    url = reverse("routings:part-file-download", args=[stored.pk])
    assert verified_client(personas["operator"], Client).get(url).status_code == 404
