from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from rest_framework.routers import DefaultRouter

from apps.core import notifications
from apps.core import urls as core_urls
from apps.core.api import notifications as notifications_api
from apps.core.models import Notification, PushSubscription
from apps.core.notifications_views import NotificationListView, NotificationMarkAllReadView
from apps.core.testing import verified_client
from cnc_copilot import urls as project_urls

# Until the integrator wires them: the project's URLs with the notification routes added, in the
# places the final report asks for (core namespace pages, /api/v1/ resources).
_router = DefaultRouter()
notifications_api.register(_router)
urlpatterns = [
    path(
        "",
        include(
            (
                [
                    path("notifications/", NotificationListView.as_view(), name="notifications"),
                    path("notifications/read/", NotificationMarkAllReadView.as_view(), name="notifications-read"),
                    *core_urls.urlpatterns,
                ],
                "core",
            )
        ),
    ),
    path("api/v1/", include([*notifications_api.urlpatterns, *_router.urls])),
    *project_urls.urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)

ENDPOINT = "https://push.example.net/send/abc"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def browser_keys() -> tuple[str, str]:
    public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(public), b64url(b"0123456789abcdef")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The notification ids each enqueued push task was given (delivery itself is in test_web_push)."""
    calls: list[list[int]] = []
    monkeypatch.setattr("apps.core.tasks.send_web_push_task.delay", lambda ids: calls.append(list(ids)))
    return calls


@pytest.mark.django_db(transaction=True)
def test_notify_users_one_row_per_active_user_and_push_after_commit(
    make_user: Callable[..., Any], sent: list[list[int]]
) -> None:
    ana, ben = make_user("ana"), make_user("ben")
    gone = make_user("gone", is_active=False)
    created = notifications.notify_users(
        [ana, ben, ana, gone], kind="issue.reported", title="New issue on Laser 2", body="Burr", url="/shop/issues/1/"
    )
    rows = list(Notification.objects.order_by("user__username").values_list("user__username", "kind", "title", "url"))
    assert rows == [
        ("ana", "issue.reported", "New issue on Laser 2", "/shop/issues/1/"),
        ("ben", "issue.reported", "New issue on Laser 2", "/shop/issues/1/"),
    ]
    assert sent == [[n.pk for n in created]]


@pytest.mark.django_db
def test_push_is_not_enqueued_when_the_transaction_rolls_back(
    make_user: Callable[..., Any], sent: list[list[int]], django_capture_on_commit_callbacks: Any
) -> None:
    ana = make_user("ana")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications.notify_users([ana], kind="k", title="t")
    assert (len(callbacks), sent) == (1, [])


@pytest.mark.django_db
def test_notify_nobody_creates_nothing(sent: list[list[int]]) -> None:
    assert notifications.notify_users([], kind="k", title="t") == []
    assert Notification.objects.count() == 0


def test_users_in_roles_are_the_active_members(personas: dict[str, Any], make_user: Callable[..., Any]) -> None:
    make_user("retired_qa", "quality", is_active=False)
    both = make_user("both", "quality", "maintenance")
    found = list(notifications.users_in_roles(["quality", "maintenance"]))
    assert found == [personas["quality"], personas["maintenance"], both]


def test_audience_resolves_by_name(make_user: Callable[..., Any], sent: list[list[int]]) -> None:
    ana, ben = make_user("ana"), make_user("ben")
    notifications.register_audience("test.machine_crew", lambda key: [ana] if key == 7 else [ben])
    notifications.notify_audience("test.machine_crew", 7, kind="k", title="Laser 2 down")
    assert list(Notification.objects.values_list("user__username", "title")) == [("ana", "Laser 2 down")]
    with pytest.raises(LookupError):
        notifications.notify_audience("test.nobody_registered", 7, kind="k", title="t")


def test_mark_read_touches_only_own_unread(make_user: Callable[..., Any], sent: list[list[int]]) -> None:
    ana, ben = make_user("ana"), make_user("ben")
    mine = notifications.notify_users([ana], kind="k", title="a1") + notifications.notify_users(
        [ana], kind="k", title="a2"
    )
    theirs = notifications.notify_users([ben], kind="k", title="b1")
    assert notifications.mark_read(ana, [mine[0].pk, theirs[0].pk]) == 1
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("title", flat=True))
    assert unread == {"a2", "b1"}
    assert notifications.mark_read(ana) == 1
    assert set(Notification.objects.filter(read_at__isnull=True).values_list("title", flat=True)) == {"b1"}


def test_subscribe_validates_and_last_subscriber_owns_the_endpoint(make_user: Callable[..., Any]) -> None:
    ana, ben = make_user("ana"), make_user("ben")
    p256dh, auth = browser_keys()
    notifications.subscribe_push(ana, ENDPOINT, p256dh, auth, "Firefox")
    notifications.subscribe_push(ben, ENDPOINT, p256dh, auth, "Firefox")
    assert list(PushSubscription.objects.values_list("user__username", "endpoint")) == [("ben", ENDPOINT)]
    with pytest.raises(ValidationError) as refused:
        notifications.subscribe_push(ana, "http://10.0.0.5/admin", "AAAA", "short")
    assert set(refused.value.message_dict) == {"endpoint", "p256dh", "auth"}
    assert PushSubscription.objects.count() == 1
    assert notifications.unsubscribe_push(ana, ENDPOINT) is False
    assert notifications.unsubscribe_push(ben, ENDPOINT) is True
    assert PushSubscription.objects.count() == 0


def test_api_lists_only_own_notifications_and_filters_unread(
    make_user: Callable[..., Any], sent: list[list[int]]
) -> None:
    ana, ben = make_user("ana"), make_user("ben")
    first = notifications.notify_users([ana], kind="k", title="older")[0]
    notifications.notify_users([ana], kind="k", title="newer")
    other = notifications.notify_users([ben], kind="k", title="not yours")[0]
    notifications.mark_read(ana, [first.pk])
    client = verified_client(ana)

    listed = client.get("/api/v1/notifications/").json()
    assert (listed["count"], [row["title"] for row in listed["results"]]) == (2, ["newer", "older"])
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [row["title"] for row in unread["results"]] == ["newer"]
    assert client.get(f"/api/v1/notifications/{other.pk}/").status_code == 404

    answer = client.post("/api/v1/notifications/read/", {"ids": [other.pk]}, format="json")
    assert (answer.status_code, answer.json()) == (200, {"marked": 0})
    assert Notification.objects.get(pk=other.pk).read_at is None
    answer = client.post("/api/v1/notifications/read/", {"ids": [first.pk + 1]}, format="json")
    assert answer.json() == {"marked": 1}
    assert Notification.objects.filter(user=ana, read_at__isnull=True).count() == 0


def test_api_refuses_anonymous(db: Any) -> None:
    anonymous = Client()
    assert anonymous.get("/api/v1/notifications/").status_code in (401, 403)
    assert anonymous.get("/api/v1/push/key/").status_code in (401, 403)


def test_api_push_key_and_subscriptions(make_user: Callable[..., Any], settings: Any) -> None:
    private, public = _configured_keys(settings)
    ana = make_user("ana")
    client = verified_client(ana)
    assert client.get("/api/v1/push/key/").json() == {"public_key": public}

    p256dh, auth = browser_keys()
    body = {"endpoint": ENDPOINT, "keys": {"p256dh": p256dh, "auth": auth}}
    answer = client.post("/api/v1/push/subscriptions/", body, format="json", HTTP_USER_AGENT="Chrome on Android")
    assert answer.status_code == 201
    assert list(PushSubscription.objects.values_list("user", "endpoint", "p256dh", "auth", "user_agent")) == [
        (ana.pk, ENDPOINT, p256dh, auth, "Chrome on Android")
    ]
    bad = client.post(
        "/api/v1/push/subscriptions/",
        {**body, "endpoint": "ftp://x", "keys": {"p256dh": "x", "auth": auth}},
        format="json",
    )
    assert (bad.status_code, sorted(bad.json()["fields"])) == (400, ["endpoint", "p256dh"])
    assert client.delete("/api/v1/push/subscriptions/", {"endpoint": ENDPOINT}, format="json").status_code == 204
    assert PushSubscription.objects.count() == 0


def _configured_keys(settings: Any) -> tuple[str, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    settings.WEBPUSH_VAPID_PRIVATE_KEY = notifications.encode_private_key(private)
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    notifications.vapid_keys.cache_clear()
    return settings.WEBPUSH_VAPID_PRIVATE_KEY, b64url(raw_public)


@pytest.fixture(autouse=True)
def _fresh_vapid_keys() -> Any:
    notifications.vapid_keys.cache_clear()
    yield
    notifications.vapid_keys.cache_clear()


def test_laptop_key_pair_is_made_once_in_var_dir(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    first = notifications.vapid_keys().public_key
    notifications.vapid_keys.cache_clear()
    assert notifications.vapid_keys().public_key == first
    assert (tmp_path / "vapid" / "private_key.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert len(base64.urlsafe_b64decode(first + "=")) == 65


def test_pem_key_from_settings_is_accepted(settings: Any) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    raw = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert notifications.vapid_keys().public_key == b64url(raw)


def test_generate_vapid_keys_prints_a_matching_pair(capsys: pytest.CaptureFixture[str], settings: Any) -> None:
    call_command("generate_vapid_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = lines["WEBPUSH_VAPID_PRIVATE_KEY"]
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    assert notifications.vapid_keys().public_key == lines["WEBPUSH_VAPID_PUBLIC_KEY"]


def test_page_shows_own_notifications_unread_bold_and_marks_all_read(
    make_user: Callable[..., Any], sent: list[list[int]]
) -> None:
    ana, ben = make_user("ana"), make_user("ben")
    read = notifications.notify_users([ana], kind="k", title="Seen already", url="/shop/issues/1/")[0]
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    notifications.notify_users([ana], kind="k", title="Fresh one", url="/shop/issues/2/")
    notifications.notify_users([ben], kind="k", title="Ben's secret")
    client = verified_client(ana, Client)

    page = client.get("/notifications/").content.decode()
    assert '<strong><a href="/shop/issues/2/">Fresh one</a></strong>' in page
    assert '<a href="/shop/issues/1/">Seen already</a>' in page
    assert '<strong><a href="/shop/issues/1/">' not in page
    assert "Ben&#x27;s secret" not in page and "Ben's secret" not in page
    assert page.index("Fresh one") < page.index("Seen already")

    assert client.post("/notifications/read/").status_code == 302
    assert Notification.objects.filter(user=ana, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(user=ben, read_at__isnull=True).count() == 1
