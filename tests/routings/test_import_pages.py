"""The import and export pages, the template downloads and the management commands."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import load_workbook

from apps.core.models import Job as BackgroundJob
from apps.core.testing import verified_client
from apps.routings.imports.tasks import import_data_task
from apps.routings.models import Job

from .fixtures.import_shop import build_shop, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

JOB_HEADER = ["job_number", "customer", "part_number", "revision", "quantity", "due_date", "priority", "sales_order"]
GOOD = [
    JOB_HEADER,
    ["J-1", "HOBART", "DR-100", "A", 25, "2025-04-01", 1, "SO-1"],
    ["J-2", "VULCAN", "DR-100", None, 5, "2025-04-02", None, None],
]
BAD = [
    JOB_HEADER,
    ["J-1", "HOBART", "DR-100", "A", -3, "2025-04-01", 1, None],
    ["J-2", "VULCAN", "NOPE", None, 5, "2025-04-02", None, None],
]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def shop(db: Any) -> dict[str, Any]:
    return build_shop()


@pytest.fixture
def page_client(personas: dict[str, Any]) -> Callable[[str], Client]:
    return lambda role: verified_client(personas[role], Client)


def upload(client: Client, content: bytes, name: str, kind: str = "jobs", capture: Any = None) -> Any:
    with capture(execute=True):
        return client.post("/data/import/", {"kind": kind, "file": SimpleUploadedFile(name, content)})


def test_a_planner_imports_a_week_of_jobs(
    shop: dict[str, Any],
    page_client: Callable[[str], Client],
    personas: dict[str, Any],
    media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = page_client("planner")
    response = upload(client, xlsx_bytes(GOOD), "week 14.xlsx", capture=django_capture_on_commit_callbacks)
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/data/import/?job={job.pk}"
    assert (job.kind, job.name, job.status, job.requested_by, job.progress) == (
        "routings.import",
        "Import open jobs from week 14.xlsx",
        "succeeded",
        personas["planner"],
        100,
    )
    assert job.result == {
        "kind": "jobs",
        "file": "week 14.xlsx",
        "rows": 2,
        "refused": "",
        "problems": [],
        "problem_count": 0,
        "counts": {"jobs": {"created": 2, "updated": 0, "unchanged": 0}},
    }
    assert job.progress_detail == {"kind": "jobs", "file": "week 14.xlsx"}
    assert [line.split(" ", 2)[2] for line in job.log.splitlines()] == [
        "Read 2 rows.",
        "Checked 2 rows: no problems.",
        "jobs: 2 created, 0 updated, 0 unchanged",
    ]
    assert list(Job.objects.order_by("number").values_list("number", "status", "quantity")) == [
        ("J-1", "draft", 25),
        ("J-2", "draft", 5),
    ]
    assert list((media / "imports").iterdir()) == []  # the upload is not kept once imported
    page = client.get(response["Location"]).content.decode()
    assert "Import open jobs from week 14.xlsx" in page and "<td>jobs</td><td>2</td><td>0</td><td>0</td>" in page
    assert f'href="/background-jobs/{job.pk}/"' in page and 'href="/routings/jobs/?status=draft"' in page


def test_a_bad_file_writes_nothing_and_the_page_lists_every_problem(
    shop: dict[str, Any], page_client: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    client = page_client("production_manager")
    response = upload(client, csv_bytes(BAD, delimiter=";"), "jobs.csv", capture=django_capture_on_commit_callbacks)
    job = BackgroundJob.objects.get()
    assert (job.status, job.error) == ("failed", "2 problem(s) in the file; nothing was imported.")
    assert job.result["problems"] == [
        {"row": 2, "column": "quantity", "letter": "E", "message": "Must be at least 1."},
        {
            "row": 3,
            "column": "part_number",
            "letter": "C",
            "message": "Unknown part NOPE: import parts first or fix the number.",
        },
    ]
    assert "row 2, quantity: Must be at least 1.\nrow 3, part_number: Unknown part NOPE" in job.log
    assert Job.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert "2 problems in the file; nothing was imported." in page
    assert "<tr><td>2</td><td>quantity (E)</td><td>Must be at least 1.</td></tr>" in page
    assert (
        "<tr><td>3</td><td>part_number (C)</td><td>Unknown part NOPE: import parts first or fix the number.</td></tr>"
        in page
    )
    # htmx asks for the result only.
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="import-result"') and "<h1>" not in partial


def test_a_wrong_file_is_refused_on_the_form(
    shop: dict[str, Any], page_client: Callable[[str], Client], media: Path
) -> None:
    response = page_client("planner").post(
        "/data/import/", {"kind": "jobs", "file": SimpleUploadedFile("jobs.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(100))}
    )
    assert response.status_code == 400
    assert "This is a PNG file, not a spreadsheet." in response.content.decode()
    assert BackgroundJob.objects.count() == 0 and not (media / "imports").exists()


@pytest.mark.parametrize("role", ["operator", "supervisor", "quality", "maintenance", "outsider"])
def test_roles_without_the_permission_get_403_and_nothing_is_imported(
    shop: dict[str, Any], page_client: Callable[[str], Client], role: str, django_capture_on_commit_callbacks: Any
) -> None:
    client = page_client(role)
    assert client.get("/data/import/").status_code == 403
    assert client.get("/data/export/?kind=jobs&format=csv").status_code == 403
    assert client.get("/data/template/jobs/").status_code == 403
    assert upload(client, xlsx_bytes(GOOD), "jobs.xlsx", capture=django_capture_on_commit_callbacks).status_code == 403
    assert (Job.objects.count(), BackgroundJob.objects.count()) == (0, 0)


def test_anonymous_is_sent_to_sign_in(db: Any) -> None:
    response = Client().get("/data/import/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_export_downloads(shop: dict[str, Any], page_client: Callable[[str], Client]) -> None:
    client = page_client("planner")
    assert b"Download" in client.get("/data/export/").content
    response = client.get("/data/export/?kind=customers&format=csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-') and response[
        "Content-Disposition"
    ].endswith('.csv"')
    assert b"".join(response.streaming_content).decode() == (
        "\ufeffcode,name,email,phone,active\r\nHOBART,Hobart Service,,,yes\r\nVULCAN,Vulcan,,,yes\r\n"
    )
    response = client.get("/data/export/?kind=work_centers&format=xlsx")
    assert response["Content-Disposition"].startswith('attachment; filename="work_centers-')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert [[cell.value for cell in row][:4] for row in sheet.iter_rows()] == [
        ["code", "name", "department", "work_center_type"],
        ["brake-1", "Brake 1", "forming", "brake-135t"],
        ["laser-1", "Laser 1", "laser", "fiber-3kw"],
    ]
    assert client.get("/data/export/?kind=nothing&format=csv").status_code == 400


def test_templates_name_every_column(shop: dict[str, Any], page_client: Callable[[str], Client]) -> None:
    client = page_client("planner")
    response = client.get("/data/template/parts/")
    assert response["Content-Disposition"] == 'attachment; filename="parts-template.xlsx"'
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    data, guide = workbook.worksheets
    assert [cell.value for cell in data[1]][:3] == ["part_number", "revision", "description"] and data.max_row == 1
    assert [cell.value for cell in guide[2]] == ["part_number", "yes", "Part number.", "DR-3070-L"]
    response = client.get("/data/template/jobs/?format=csv")
    assert response.content.decode() == "\ufeff" + ",".join(JOB_HEADER) + "\r\n"
    assert client.get("/data/template/zzz/").status_code == 404


def test_import_page_lists_recent_imports(shop: dict[str, Any], page_client: Callable[[str], Client]) -> None:
    BackgroundJob.objects.create(kind="routings.import", name="Import parts from parts.xlsx", status="failed")
    BackgroundJob.objects.create(kind="scheduling.run", name="Schedule run")
    page = page_client("planner").get("/data/import/").content.decode()
    assert "Import parts from parts.xlsx" in page and "Schedule run" not in page
    assert page.count('href="/data/template/') == 16
    assert page_client("planner").get("/data/import/?job=999999").status_code == 404


def test_import_command(shop: dict[str, Any], personas: dict[str, Any], tmp_path: Path) -> None:
    good = tmp_path / "jobs.csv"
    good.write_bytes(csv_bytes(GOOD, bom=True))
    out = io.StringIO()
    call_command("import_data", "jobs", str(good), "--user", "planner", stdout=out)
    job = BackgroundJob.objects.get()
    assert out.getvalue() == f"jobs: 2 created, 0 updated, 0 unchanged (background job {job.pk})\n"
    assert (job.requested_by, Job.objects.count()) == (personas["planner"], 2)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes(BAD))
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"2 problem\(s\) in the file; nothing was imported"):
        call_command("import_data", "jobs", str(bad), stderr=err)
    assert err.getvalue().splitlines() == [
        "row 2, quantity: Must be at least 1.",
        "row 3, part_number: Unknown part NOPE: import parts first or fix the number.",
    ]
    with pytest.raises(CommandError, match="You do not have permission"):
        call_command("import_data", "jobs", str(good), "--user", "operator")
    with pytest.raises(CommandError, match="This is a PNG file"):
        png = tmp_path / "x.csv"
        png.write_bytes(b"\x89PNG\r\n\x1a\n")
        call_command("import_data", "jobs", str(png))
    assert Job.objects.count() == 2


def test_export_command(shop: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "departments.csv"
    out = io.StringIO()
    call_command("export_data", "departments", "--format", "csv", "--output", str(target), stdout=out)
    assert out.getvalue() == f"wrote 2 rows of departments to {target}\n"
    assert target.read_bytes().decode("utf-8-sig") == "code,name,sequence\r\nforming,Forming,20\r\nlaser,Laser,10\r\n"
    call_command("export_data", "parts", "--output", str(tmp_path / "parts.xlsx"), stdout=io.StringIO())
    assert load_workbook(tmp_path / "parts.xlsx").worksheets[0].max_row == 3


def test_a_job_runs_once(
    shop: dict[str, Any], page_client: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    upload(page_client("planner"), xlsx_bytes(GOOD), "jobs.xlsx", capture=django_capture_on_commit_callbacks)
    job = BackgroundJob.objects.get()
    import_data_task(job.pk)  # a second delivery of the same task
    assert Job.objects.count() == 2
    assert import_data_task.name == "routings.import_data"


def test_docs_list_every_column() -> None:
    from django.conf import settings

    from apps.routings.imports.kinds import KINDS

    text = (Path(settings.BASE_DIR) / "docs" / "imports.md").read_text()
    missing = [
        f"{kind.slug}.{column.header}"
        for kind in KINDS.values()
        for column in kind.columns
        if f"| `{column.header}` | {'yes' if column.required else ''} | {column.help} |" not in text
    ]
    assert missing == [], "docs/imports.md is out of date"
