"""The job and part pages: filters, late-risk badges, workflow buttons by permission, query counts."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.testing import verified_client
from apps.routings import services
from apps.routings.choices import JobStatus
from apps.routings.models import Customer, Job, Operation, PartFile

from .builders import Shop, build_shop, diamond_part, make_job, straight_part

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def shop() -> Shop:
    return build_shop()


@pytest.fixture
def page_client(personas: dict[str, Any]) -> Any:
    made: dict[str, Client] = {}

    def get(role: str) -> Client:
        if role not in made:
            made[role] = verified_client(personas[role], Client)
        return made[role]

    return get


def today() -> date:
    return timezone.localdate()


def numbers_in(html: str) -> list[str]:
    return re.findall(r'href="/routings/jobs/\d+/">([^<]+)</a>', html)


def post(client: Client, url: str, data: dict[str, Any] | None = None) -> tuple[Any, list[str]]:
    """POST, follow the redirect, and answer the first response and the messages shown."""
    response = client.post(url, data or {})
    shown = client.get(response["Location"]) if response.status_code == 302 else None
    return response, [str(m) for m in shown.context["messages"]] if shown is not None else []


# --- job list ---------------------------------------------------------------------------------


def test_job_list_shows_jobs_with_their_late_risk(shop: Shop, page_client: Any) -> None:
    part = straight_part(shop, "DR-100")
    make_job(shop, part, quantity=5, number="J-LATE", due=today() - timedelta(days=3))
    make_job(shop, part, quantity=5, number="J-FINE", due=today() + timedelta(days=400))
    make_job(shop, part, number="J-DONE", due=today() - timedelta(days=3), status=JobStatus.COMPLETE)

    response = page_client("operator").get(reverse("routings:job-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert numbers_in(html) == ["J-DONE", "J-LATE", "J-FINE"]
    assert html.count('class="badge risk-late"') == 1
    assert html.count('class="badge risk-on_track"') == 1
    assert "the due date has passed and the job is not complete" in html
    assert "Release selected" not in html  # operators may not release


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "released"}, ["J-REL"]),
        ({"late_risk": "late"}, ["J-LATE"]),
        ({"late_risk": "on_track"}, ["J-REL", "J-FAR"]),
        ({"due_from": "2031-01-01", "due_to": "2031-12-31"}, ["J-FAR"]),
        ({"q": "SO-7"}, ["J-FAR"]),
    ],
)
def test_job_list_filters(shop: Shop, page_client: Any, query: dict[str, str], expected: list[str]) -> None:
    part = straight_part(shop)
    make_job(shop, part, quantity=1, number="J-LATE", due=date(2020, 1, 6))
    released = make_job(shop, part, quantity=1, number="J-REL", due=date(2030, 6, 3))
    services.release_job(actor=None, job_id=released.pk)
    make_job(shop, part, quantity=1, number="J-FAR", due=date(2031, 6, 3), sales_order="SO-77")
    response = page_client("operator").get(reverse("routings:job-list"), query)
    assert numbers_in(response.content.decode()) == expected


def test_job_list_filters_by_customer_and_department(shop: Shop, page_client: Any) -> None:
    other = Customer.objects.create(code="VUL", name="Vulcan")
    make_job(shop, straight_part(shop), number="J-HOB")
    diamond = make_job(shop, diamond_part(shop), number="J-VUL", customer=other)
    client = page_client("operator")
    assert numbers_in(client.get(reverse("routings:job-list"), {"customer": other.pk}).content.decode()) == ["J-VUL"]
    punch = {"department": shop.punch.department_id}
    assert numbers_in(client.get(reverse("routings:job-list"), punch).content.decode()) == ["J-VUL"]
    # Released, the job's own operations decide: moving its punch step elsewhere takes it out.
    services.release_job(actor=None, job_id=diamond.pk)
    Operation.objects.filter(job=diamond, sequence=30).update(work_center_type=shop.weld)
    assert numbers_in(client.get(reverse("routings:job-list"), punch).content.decode()) == []


def test_htmx_filter_change_returns_only_the_table(shop: Shop, page_client: Any) -> None:
    make_job(shop, straight_part(shop), number="J-1")
    response = page_client("operator").get(reverse("routings:job-list"), {"status": "draft"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and "<table" in html
    assert numbers_in(html) == ["J-1"]


def make_many_jobs(shop: Shop, count: int) -> None:
    """`count` jobs, a third of them released with three operations each, made in bulk."""
    parts = [straight_part(shop) for _ in range(3)]
    steps = {part.pk: list(part.routing_steps.order_by("sequence")) for part in parts}
    now = timezone.now()
    jobs = Job.objects.bulk_create(
        Job(
            number=f"J-{next(_numbers):06d}",
            customer=shop.customer,
            part=parts[index % 3],
            quantity=5 + index % 20,
            due_date=today() + timedelta(days=index % 45 - 5),
            priority=1 + index % 4,
            status=JobStatus.RELEASED if index % 3 == 0 else JobStatus.DRAFT,
            released_at=now if index % 3 == 0 else None,
        )
        for index in range(count)
    )
    operations = Operation.objects.bulk_create(
        Operation(
            job=job,
            sequence=routing_step.sequence,
            operation_code=routing_step.operation_code,
            work_center_type_id=routing_step.work_center_type_id,
            quantity=job.quantity,
            setup_minutes=routing_step.setup_minutes,
            run_minutes_per_unit=routing_step.run_minutes_per_unit,
        )
        for job in jobs
        if job.status == JobStatus.RELEASED
        for routing_step in steps[job.part_id]
    )
    by_job: dict[int, list[Operation]] = {}
    for operation in operations:
        by_job.setdefault(operation.job_id, []).append(operation)
    through = Operation.predecessors.through
    through.objects.bulk_create(
        through(from_operation_id=later.pk, to_operation_id=earlier.pk)
        for ops in by_job.values()
        for earlier, later in itertools.pairwise(ops)
    )


def count_queries(client: Client, url: str, query: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query or {}).status_code == 200
    return len(captured)


def test_job_list_queries_do_not_grow_with_jobs(
    shop: Shop, page_client: Any, django_assert_max_num_queries: Any
) -> None:
    client = page_client("planner")
    url = reverse("routings:job-list")
    make_many_jobs(shop, 30)
    client.get(url)  # sessions, permissions and content types warm up
    small = count_queries(client, url)
    small_risk = count_queries(client, url, {"late_risk": "on_track"})

    make_many_jobs(shop, 270)
    assert Job.objects.count() == 300
    assert count_queries(client, url) == small
    assert count_queries(client, url, {"late_risk": "on_track"}) == small_risk
    # session, user, device, roles and permissions (6); the late risk of the filtered jobs
    # (jobs, operations, their links, routing steps, their links, shifts: 6); count and page of
    # jobs, the customer and department choices, the session save.
    with django_assert_max_num_queries(18):
        response = client.get(url, {"late_risk": "at_risk", "status": "draft"})
    assert response.status_code == 200


# --- bulk release -----------------------------------------------------------------------------


def test_release_selected_releases_each_and_reports_each_refusal(shop: Shop, page_client: Any) -> None:
    part = straight_part(shop)
    first = make_job(shop, part, number="J-A")
    second = make_job(shop, part, number="J-B")
    cancelled = make_job(shop, part, number="J-C", status=JobStatus.CANCELLED)
    response, shown = post(
        page_client("planner"),
        reverse("routings:job-release-selected"),
        {"job": [first.pk, second.pk, cancelled.pk], "next": "/routings/jobs/?status=draft"},
    )
    assert response.status_code == 302 and response["Location"] == "/routings/jobs/?status=draft"
    assert shown == [
        "J-C: Job J-C is cancelled; only a draft job can be released.",
        "2 jobs released.",
    ]
    assert list(Job.objects.order_by("number").values_list("status", flat=True)) == [
        "released",
        "released",
        "cancelled",
    ]


def test_release_selected_needs_the_permission_and_keeps_redirects_local(shop: Shop, page_client: Any) -> None:
    job = make_job(shop, straight_part(shop))
    url = reverse("routings:job-release-selected")
    assert page_client("supervisor").post(url, {"job": [job.pk]}).status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.DRAFT
    response, shown = post(page_client("planner"), url, {"next": "https://evil.example/"})
    assert response["Location"] == "/routings/jobs/"
    assert shown == ["Tick the jobs to release first."]


def test_planner_sees_release_checkboxes_for_drafts_only(shop: Shop, page_client: Any) -> None:
    part = straight_part(shop)
    make_job(shop, part, number="J-D")
    services.release_job(actor=None, job_id=make_job(shop, part, number="J-R").pk)
    html = page_client("planner").get(reverse("routings:job-list")).content.decode()
    assert "Release selected" in html
    assert html.count('type="checkbox" name="job"') == 1


# --- job detail -------------------------------------------------------------------------------


def test_job_detail_shows_the_routing_in_plant_time(shop: Shop, page_client: Any) -> None:
    job = make_job(shop, diamond_part(shop), quantity=10, number="J-DET")
    services.release_job(actor=None, job_id=job.pk)
    Operation.objects.filter(job=job, sequence=10).update(
        planned_start=datetime(2030, 3, 4, 14, 0, tzinfo=UTC), planned_end=datetime(2030, 3, 4, 14, 20, tzinfo=UTC)
    )
    html = page_client("operator").get(reverse("routings:job-detail", args=[job.pk])).content.decode()
    # 14:00 UTC is 08:00 in Chicago.
    assert "Mon 03-04 08:00 – 08:20" in html
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td><strong>(\w+)</strong>', html)
    assert rows == [("10", "CUT"), ("20", "BEND"), ("30", "PUNCH"), ("40", "WELD")]
    assert "20, 30" in html  # the weld waits for both branches
    assert "Fiber laser 3 kW" in html and "Total" in html
    for button in (">Release<", ">Put on hold<", ">Cancel job<", ">Split<"):
        assert button not in html  # operators only look


def test_draft_job_shows_the_routing_it_will_get_and_buttons_by_permission(shop: Shop, page_client: Any) -> None:
    job = make_job(shop, straight_part(shop), quantity=4, number="J-DRAFT")
    planner = page_client("planner").get(reverse("routings:job-detail", args=[job.pk])).content.decode()
    assert "Not released yet" in planner
    assert ">Release</button>" in planner and ">Split</button>" in planner
    assert "Cancel job" not in planner  # planners do not cancel
    manager = page_client("production_manager").get(reverse("routings:job-detail", args=[job.pk])).content.decode()
    assert "Cancel job" in manager


def test_job_detail_queries_do_not_grow_with_operations(
    shop: Shop, page_client: Any, django_assert_max_num_queries: Any
) -> None:
    client = page_client("production_manager")
    short = make_job(shop, straight_part(shop))
    services.release_job(actor=None, job_id=short.pk)
    client.get(reverse("routings:job-detail", args=[short.pk]))
    small = count_queries(client, reverse("routings:job-detail", args=[short.pk]))

    part = straight_part(shop)
    for sequence in range(40, 200, 10):
        part.routing_steps.create(
            sequence=sequence,
            operation_code=f"OP{sequence}",
            work_center_type=shop.weld,
            setup_minutes=Decimal(1),
            run_minutes_per_unit=Decimal(1),
        )
    long = make_job(shop, part)
    services.release_job(actor=None, job_id=long.pk)
    assert count_queries(client, reverse("routings:job-detail", args=[long.pk])) == small
    with django_assert_max_num_queries(20):
        client.get(reverse("routings:job-detail", args=[long.pk]))


def test_job_actions_from_the_page(shop: Shop, page_client: Any) -> None:
    job = make_job(shop, straight_part(shop), quantity=10, number="J-P")
    detail = reverse("routings:job-detail", args=[job.pk])

    planner, supervisor = page_client("planner"), page_client("supervisor")
    response, shown = post(planner, reverse("routings:job-release", args=[job.pk]))
    assert (response.status_code, response["Location"]) == (302, detail)
    assert shown == ["Job J-P released: its routing is now its operations."]
    assert post(planner, reverse("routings:job-release", args=[job.pk]))[1] == [
        "Job J-P is released; only a draft job can be released."
    ]
    assert post(supervisor, reverse("routings:job-hold", args=[job.pk]), {"reason": ""})[1] == [
        "Reason: This field is required."
    ]
    assert Job.objects.get(pk=job.pk).status == JobStatus.RELEASED
    assert post(supervisor, reverse("routings:job-hold", args=[job.pk]), {"reason": "brake down"})[1] == [
        "Job J-P is on hold."
    ]
    assert post(supervisor, reverse("routings:job-resume", args=[job.pk]))[1] == ["Job J-P resumed."]
    assert post(supervisor, reverse("routings:job-split", args=[job.pk]), {"quantity": "3"})[1] == [
        "Job J-P split: J-P-2 is the new job."
    ]
    assert supervisor.post(reverse("routings:job-cancel", args=[job.pk])).status_code == 403
    assert post(page_client("production_manager"), reverse("routings:job-cancel", args=[job.pk]))[1] == [
        "Job J-P cancelled."
    ]
    assert list(Job.objects.order_by("number").values_list("number", "quantity", "status")) == [
        ("J-P", 7, "cancelled"),
        ("J-P-2", 3, "released"),
    ]


def test_job_actions_on_a_missing_job_are_404(page_client: Any) -> None:
    assert page_client("planner").post(reverse("routings:job-release", args=[999999])).status_code == 404


# --- parts ------------------------------------------------------------------------------------


def test_part_list_and_detail(shop: Shop, page_client: Any) -> None:
    part = diamond_part(shop, "DR-200")
    straight_part(shop, "FR-300")
    client = page_client("operator")
    listing = client.get(reverse("routings:part-list"), {"q": "DR-"}).content.decode()
    assert re.findall(r'href="/routings/parts/\d+/">([^<]+)</a>', listing) == ["DR-200"]
    detail = client.get(reverse("routings:part-detail", args=[part.pk])).content.decode()
    assert "Standard routing" in detail and "PUNCH" in detail
    assert "No drawings, DXF or NC programs yet." in detail
    assert "Add a file" not in detail  # operators may not upload


def test_upload_from_the_part_page(shop: Shop, page_client: Any, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    part = straight_part(shop, "UP-2")
    detail = reverse("routings:part-detail", args=[part.pk])
    assert "Add a file" in page_client("production_manager").get(detail).content.decode()

    url = reverse("routings:part-file-upload", args=[part.pk])
    good = {"kind": "drawing", "file": SimpleUploadedFile("door.pdf", b"%PDF-1.4\n%%EOF")}
    response, shown = post(page_client("production_manager"), url, good)
    assert (response.status_code, response["Location"]) == (302, detail)
    assert shown == ["“door.pdf” is stored with part UP-2 rev A."]
    stored = PartFile.objects.get()
    html = page_client("operator").get(detail).content.decode()
    assert f'href="/routings/part-files/{stored.pk}/download/"' in html

    bad = {"kind": "nc", "file": SimpleUploadedFile("door.pdf", b"%PDF-1.4")}
    refused, shown = post(page_client("production_manager"), url, bad)
    assert shown == [
        "“door.pdf” is not accepted as “NC program”: the name must end in .nc, .tap, .mpf, .txt, .gcode, .cnc."
    ]
    assert page_client("supervisor").post(url, good).status_code == 403
    assert PartFile.objects.count() == 1
