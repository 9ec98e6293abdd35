from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import include, path
from PIL import Image
from rest_framework.routers import DefaultRouter

from apps.core.models import Notification
from apps.core.testing import verified_client
from apps.routings.models import Job, Operation
from apps.routings.services import release_job
from apps.shopfloor import urls as shopfloor_urls
from apps.shopfloor.api.issues import IssueReportViewSet
from apps.shopfloor.issue_views import IssueDetailView, IssueListView
from apps.shopfloor.issues import acknowledge_issue, close_issue, report_issue
from apps.shopfloor.models import IssueReport
from cnc_copilot import urls as project_urls
from tests.routings.builders import Shop, build_shop, make_job, straight_part

# Until the integrator wires them: the project's URLs plus the issue routes, where the report asks for them.
_router = DefaultRouter()
_router.register("shopfloor/issues", IssueReportViewSet, basename="shopfloor-issue")
urlpatterns = [
    path(
        "shop/",
        include(
            (
                [
                    path("issues/", IssueListView.as_view(), name="issue-list"),
                    path("issues/<int:pk>/", IssueDetailView.as_view(), name="issue-detail"),
                    *shopfloor_urls.urlpatterns,
                ],
                "shopfloor",
            )
        ),
    ),
    path("api/v1/", include(_router.urls)),
    *project_urls.urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def shop(db: Any) -> Shop:
    return build_shop()


@pytest.fixture
def job(shop: Shop) -> Job:
    job = make_job(shop, straight_part(shop))
    return release_job(actor=None, job_id=job.pk)


def png_bytes(size: tuple[int, int] = (640, 480), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode == "RGB" else 0).save(out, format="PNG")
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def notified(kind: str = "shopfloor.issue_reported") -> list[tuple[str, str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", "title", "url"))


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("kind", "told", "label"),
    [
        ("quality", ["quality", "supervisor"], "Quality issue"),
        ("machine", ["maintenance", "supervisor"], "Machine problem"),
        ("material", ["planner", "supervisor"], "Material shortage"),
        ("safety", ["production_manager", "supervisor"], "Safety"),
    ],
)
def test_report_routes_by_kind_and_links_to_the_issue(
    personas: dict[str, Any], shop: Shop, kind: str, told: list[str], label: str
) -> None:
    issue = report_issue(
        user=personas["operator"], kind=kind, text="Burr on every edge", work_center_id=shop.laser_1.pk
    )
    title = f"{label} on Fiber laser 3 kW 1: Burr on every edge"
    assert notified() == [(name, title, f"/shop/issues/{issue.pk}/") for name in told]
    assert (issue.status, issue.reported_by, issue.work_center, issue.photo.name) == (
        "open",
        personas["operator"],
        shop.laser_1,
        "",
    )


def test_reporter_is_not_told_of_their_own_issue(personas: dict[str, Any]) -> None:
    report_issue(user=personas["supervisor"], kind="safety", text="Guard missing on the brake")
    assert [name for name, _t, _u in notified()] == ["production_manager"]


def test_operation_implies_its_job_and_machine(personas: dict[str, Any], job: Job, shop: Shop) -> None:
    operation = job.operations.get(sequence=10)
    Operation.objects.filter(pk=operation.pk).update(work_center=shop.laser_1)
    issue = report_issue(user=personas["operator"], kind="quality", text="Holes off by 1 mm", operation_id=operation.pk)
    assert (issue.job, issue.operation, issue.work_center) == (job, operation, shop.laser_1)


def test_operation_of_another_job_is_refused(personas: dict[str, Any], job: Job, shop: Shop) -> None:
    other = make_job(shop, job.part)
    with pytest.raises(ValidationError) as refused:
        report_issue(
            user=personas["operator"],
            kind="quality",
            text="x",
            job_id=other.pk,
            operation_id=job.operations.first().pk,  # type: ignore[union-attr]
        )
    assert list(refused.value.message_dict) == ["operation"]
    assert (IssueReport.objects.count(), Notification.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": "quality", "text": "   "}, "text"),
        ({"kind": "quality", "text": "x" * 4001}, "text"),
        ({"kind": "gossip", "text": "x"}, "kind"),
        ({"kind": "quality", "text": "x", "work_center_id": 999999}, "work_center"),
    ],
)
def test_invalid_reports_are_refused(personas: dict[str, Any], fields: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError) as refused:
        report_issue(user=personas["operator"], **fields)
    assert list(refused.value.message_dict) == [error]
    assert (IssueReport.objects.count(), Notification.objects.count()) == (0, 0)


def test_outsider_cannot_report(personas: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        report_issue(user=personas["outsider"], kind="quality", text="x")
    assert IssueReport.objects.count() == 0


def test_photo_is_turned_upright_downscaled_and_renamed(personas: dict[str, Any], media: Path) -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the phone was held upright, the sensor stored it sideways
    Image.new("RGB", (4000, 3000), "blue").save(out, format="JPEG", exif=exif)
    issue = report_issue(
        user=personas["operator"], kind="quality", text="Scratch", photo=upload(out.getvalue(), "IMG_0001.JPG")
    )
    name = str(issue.photo.name)
    assert name.startswith(f"issues/{issue.reported_at:%Y/%m}/") and name.endswith(".jpg")
    assert "IMG_0001" not in name and len(Path(name).stem) == 32
    with Image.open(media / name) as stored:
        assert (stored.format, stored.size, stored.getexif().get(0x0112)) == ("JPEG", (1536, 2048), None)


def test_png_with_transparency_is_kept_as_a_jpeg(personas: dict[str, Any], media: Path) -> None:
    issue = report_issue(
        user=personas["operator"], kind="quality", text="x", photo=upload(png_bytes((300, 200), "RGBA"), "a.png")
    )
    with Image.open(media / str(issue.photo.name)) as stored:
        assert (stored.format, stored.size, stored.mode) == ("JPEG", (300, 200), "RGB")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"this is not a photo, only a text file\n" * 10, "The photo must be a JPEG, PNG or WebP image."),
        (lambda: _gif(), "The photo must be a JPEG, PNG or WebP image."),
        (lambda: png_bytes()[:200], "The photo must be a JPEG, PNG or WebP image."),
        (lambda: png_bytes((10000, 6000), "1"), "The image has too many pixels to be a photo."),
        (lambda: png_bytes((20000, 20000), "1"), "The image has too many pixels to be a photo."),
    ],
    ids=["text-file-named-jpg", "gif", "truncated-png", "png-bomb-60mp", "png-bomb-400mp"],
)
def test_bad_photos_are_refused_and_nothing_is_kept(
    personas: dict[str, Any], media: Path, make: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        report_issue(user=personas["operator"], kind="quality", text="x", photo=upload(make()))
    assert refused.value.message_dict == {"photo": [message]}
    assert (IssueReport.objects.count(), Notification.objects.count(), stored_files(media)) == (0, 0, [])


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "green").save(out, format="GIF")
    return out.getvalue()


def test_oversize_photo_is_refused(personas: dict[str, Any], media: Path, settings: Any) -> None:
    data = png_bytes()
    settings.ISSUE_PHOTO_MAX_BYTES = len(data) - 1
    with pytest.raises(ValidationError) as refused:
        report_issue(user=personas["operator"], kind="quality", text="x", photo=upload(data, "p.png"))
    assert list(refused.value.message_dict) == ["photo"]
    assert (IssueReport.objects.count(), stored_files(media)) == (0, [])


@pytest.fixture
def issue(personas: dict[str, Any]) -> IssueReport:
    reported = report_issue(user=personas["operator"], kind="machine", text="Chiller alarm")
    Notification.objects.all().delete()
    return reported


def state(issue: IssueReport) -> tuple[Any, ...]:
    issue.refresh_from_db()
    return (
        issue.status,
        issue.acknowledged_by_id,
        issue.acknowledged_at,
        issue.closed_by_id,
        issue.closed_at,
        issue.resolution,
    )


def test_acknowledge_then_close_tells_the_reporter(personas: dict[str, Any], issue: IssueReport) -> None:
    supervisor, maintenance = personas["supervisor"], personas["maintenance"]
    supervisor.first_name, supervisor.last_name = "Ana", "Ruiz"
    supervisor.save()
    acknowledge_issue(user=supervisor, issue_id=issue.pk)
    status, acknowledged_by, acknowledged_at, *_ = state(issue)
    assert (status, acknowledged_by, acknowledged_at is not None) == ("acknowledged", supervisor.pk, True)
    assert notified("shopfloor.issue_acknowledged") == [
        ("operator", "Your issue was acknowledged by Ana Ruiz", f"/shop/issues/{issue.pk}/")
    ]

    close_issue(user=maintenance, issue_id=issue.pk, resolution="Refilled the chiller")
    assert state(issue)[0::3] == ("closed", maintenance.pk)
    assert (issue.resolution, issue.closed_at is not None) == ("Refilled the chiller", True)
    assert notified("shopfloor.issue_closed") == [
        ("operator", "Your issue was closed by maintenance", f"/shop/issues/{issue.pk}/")
    ]
    assert list(Notification.objects.filter(kind="shopfloor.issue_closed").values_list("body", flat=True)) == [
        "Refilled the chiller"
    ]


def test_an_open_issue_may_be_closed_directly(personas: dict[str, Any], issue: IssueReport) -> None:
    close_issue(user=personas["quality"], issue_id=issue.pk, resolution="Duplicate of #3")
    assert state(issue)[0] == "closed" and issue.acknowledged_at is None


def test_refused_transitions_change_nothing(personas: dict[str, Any], issue: IssueReport) -> None:
    before = state(issue)
    with pytest.raises(PermissionDenied):
        acknowledge_issue(user=personas["operator"], issue_id=issue.pk)
    with pytest.raises(PermissionDenied):
        close_issue(user=personas["operator"], issue_id=issue.pk, resolution="fixed it myself")
    with pytest.raises(ValidationError) as refused:
        close_issue(user=personas["supervisor"], issue_id=issue.pk, resolution="   ")
    assert list(refused.value.message_dict) == ["resolution"]
    assert state(issue) == before

    acknowledge_issue(user=personas["supervisor"], issue_id=issue.pk)
    acknowledged = state(issue)
    with pytest.raises(ValidationError, match="cannot be acknowledged: it is acknowledged"):
        acknowledge_issue(user=personas["maintenance"], issue_id=issue.pk)
    assert state(issue) == acknowledged

    close_issue(user=personas["supervisor"], issue_id=issue.pk, resolution="Done")
    closed = state(issue)
    with pytest.raises(ValidationError, match="cannot be closed: it is closed"):
        close_issue(user=personas["maintenance"], issue_id=issue.pk, resolution="Again")
    with pytest.raises(ValidationError, match="cannot be acknowledged: it is closed"):
        acknowledge_issue(user=personas["maintenance"], issue_id=issue.pk)
    assert state(issue) == closed
    assert Notification.objects.count() == 2


def test_api_create_with_a_real_png(personas: dict[str, Any], shop: Shop, media: Path) -> None:
    client = verified_client(personas["operator"])
    answer = client.post(
        "/api/v1/shopfloor/issues/",
        {"kind": "quality", "text": "Dent on panel", "work_center": shop.brake_1.pk, "photo": upload(png_bytes())},
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    issue = IssueReport.objects.get()
    assert (body["id"], body["status"], body["reported_by"], body["work_center_name"]) == (
        issue.pk,
        "open",
        "operator",
        "Press brake 135 t 1",
    )
    assert body["photo"].endswith(str(issue.photo.name)) and str(issue.photo.name).endswith(".jpg")
    with Image.open(media / str(issue.photo.name)) as stored:
        assert (stored.format, stored.size) == ("JPEG", (640, 480))
    assert [name for name, _t, _u in notified()] == ["quality", "supervisor"]


def test_api_create_refuses_a_fake_photo(personas: dict[str, Any], media: Path) -> None:
    client = verified_client(personas["operator"])
    answer = client.post(
        "/api/v1/shopfloor/issues/",
        {"kind": "quality", "text": "x", "photo": upload(b"GIF89a not really", "x.png", "image/png")},
        format="multipart",
    )
    assert (answer.status_code, answer.json()["fields"]) == (
        400,
        {"photo": ["The photo must be a JPEG, PNG or WebP image."]},
    )
    assert (IssueReport.objects.count(), stored_files(media)) == (0, [])


def test_api_replayed_report_creates_one_issue(personas: dict[str, Any]) -> None:
    client = verified_client(personas["operator"])
    first = client.post(
        "/api/v1/shopfloor/issues/", {"kind": "material", "text": "Out of 2 mm"}, HTTP_IDEMPOTENCY_KEY="issue-key-0001"
    )
    again = client.post(
        "/api/v1/shopfloor/issues/", {"kind": "material", "text": "Out of 2 mm"}, HTTP_IDEMPOTENCY_KEY="issue-key-0001"
    )
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 201, first.json()["id"])
    assert again.headers["Idempotent-Replayed"] == "true"
    assert IssueReport.objects.count() == 1


def test_api_lists_own_issues_to_operators_and_all_to_resolvers(
    personas: dict[str, Any], make_user: Any, shop: Shop
) -> None:
    mine = report_issue(user=personas["operator"], kind="machine", text="mine", work_center_id=shop.laser_1.pk)
    other = make_user("op2", "operator")
    theirs = report_issue(user=other, kind="quality", text="theirs")
    acknowledge_issue(user=personas["supervisor"], issue_id=theirs.pk)

    def ids(role: str, query: str = "") -> list[int]:
        answer = verified_client(personas[role]).get(f"/api/v1/shopfloor/issues/{query}")
        assert answer.status_code == 200, answer.content
        return [row["id"] for row in answer.json()["results"]]

    assert ids("operator") == [mine.pk]
    assert verified_client(personas["operator"]).get(f"/api/v1/shopfloor/issues/{theirs.pk}/").status_code == 404
    assert ids("supervisor") == [theirs.pk, mine.pk]
    assert ids("maintenance", "?status=acknowledged") == [theirs.pk]
    assert ids("quality", f"?work_center={shop.laser_1.pk}") == [mine.pk]
    assert ids("quality", "?kind=quality") == [theirs.pk]
    assert verified_client(personas["outsider"]).get("/api/v1/shopfloor/issues/").status_code == 403


def test_api_transitions_and_refusals(personas: dict[str, Any], issue: IssueReport) -> None:
    url = f"/api/v1/shopfloor/issues/{issue.pk}"
    before = state(issue)
    assert verified_client(personas["operator"]).post(f"{url}/acknowledge/").status_code == 403
    assert state(issue) == before

    supervisor = verified_client(personas["supervisor"])
    answer = supervisor.post(f"{url}/acknowledge/")
    assert (answer.status_code, answer.json()["status"], answer.json()["acknowledged_by"]) == (
        200,
        "acknowledged",
        "supervisor",
    )
    refused = supervisor.post(f"{url}/close/", {"resolution": ""}, format="json")
    assert (refused.status_code, list(refused.json()["fields"])) == (400, ["resolution"])
    assert state(issue)[0] == "acknowledged"
    closed = supervisor.post(f"{url}/close/", {"resolution": "New nozzle"}, format="json")
    assert (closed.status_code, closed.json()["status"], closed.json()["resolution"]) == (200, "closed", "New nozzle")
    again = supervisor.post(f"{url}/acknowledge/")
    assert again.status_code == 400 and state(issue)[0] == "closed"


def test_pages_for_resolvers(personas: dict[str, Any], issue: IssueReport) -> None:
    supervisor = verified_client(personas["supervisor"], Client)
    page = supervisor.get("/shop/issues/?status=open")
    assert page.status_code == 200 and f'href="/shop/issues/{issue.pk}/"' in page.content.decode()
    assert "Chiller alarm" not in supervisor.get("/shop/issues/?status=closed").content.decode()
    assert verified_client(personas["operator"], Client).get("/shop/issues/").status_code == 403
    assert (
        verified_client(personas["operator"], Client)
        .post(f"/shop/issues/{issue.pk}/", {"action": "acknowledge"})
        .status_code
        == 403
    )
    assert state(issue)[0] == "open"

    detail = supervisor.get(f"/shop/issues/{issue.pk}/").content.decode()
    assert 'name="action" value="acknowledge"' in detail and "Chiller alarm" in detail
    assert supervisor.post(f"/shop/issues/{issue.pk}/", {"action": "acknowledge"}).status_code == 302
    assert state(issue)[0] == "acknowledged"
    refused = supervisor.post(f"/shop/issues/{issue.pk}/", {"action": "close", "resolution": ""}, follow=True)
    assert "Say how the issue was resolved." in refused.content.decode() and state(issue)[0] == "acknowledged"
    supervisor.post(f"/shop/issues/{issue.pk}/", {"action": "close", "resolution": "Fan replaced"})
    assert state(issue)[0::5] == ("closed", "Fan replaced")
