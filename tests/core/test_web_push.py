"""Web Push delivery against a push service played by a local HTTP server, decrypted as a browser would."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from apps.core import notifications
from apps.core.models import PushSubscription
from apps.core.tasks import PUSH_MAX_RETRIES


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class PushService:
    """What the fake push service answers, and every request it received."""

    status: int = 201
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            service.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(service.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield service
    server.shutdown()
    server.server_close()
    thread.join()


@dataclass
class Browser:
    """A browser's side of a subscription: its P-256 key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def decrypt(self, body: bytes) -> Any:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret))


@pytest.fixture
def server_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ec.EllipticCurvePrivateKey]:
    # requests would send 127.0.0.1 through a proxy configured in the environment.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    private = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = notifications.encode_private_key(private)
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    settings.WEBPUSH_CONTACT = "mailto:ops@example.com"
    settings.WEBPUSH_ALLOW_HTTP_ENDPOINTS = True
    notifications.vapid_keys.cache_clear()
    yield private
    notifications.vapid_keys.cache_clear()


@pytest.fixture
def subscribed(
    make_user: Callable[..., Any], push_service: PushService, server_key: Any
) -> tuple[Any, Browser, PushSubscription]:
    ana = make_user("ana")
    browser = Browser(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
    subscription = notifications.subscribe_push(
        ana, f"{push_service.url}/push/ana-phone", browser.p256dh, b64url(browser.auth_secret), "Firefox"
    )
    return ana, browser, subscription


@pytest.mark.django_db(transaction=True)
def test_notification_is_pushed_encrypted_with_vapid(
    subscribed: tuple[Any, Browser, PushSubscription], push_service: PushService, server_key: Any
) -> None:
    ana, browser, subscription = subscribed
    notifications.notify_users(
        [ana], kind="issue.acknowledged", title="Your issue was acknowledged", body="By Ben", url="/shop/issues/4/"
    )

    assert len(push_service.received) == 1
    path, headers, body = push_service.received[0]
    assert path == "/push/ana-phone"
    assert browser.decrypt(body) == {
        "title": "Your issue was acknowledged",
        "body": "By Ben",
        "url": "/shop/issues/4/",
    }
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(notifications.PUSH_TTL_SECONDS)
    scheme, _, credentials = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    params = dict(part.strip().split("=", 1) for part in credentials.split(","))
    public = server_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert params["k"] == b64url(public)
    assert Vapid.verify(headers["authorization"]) is True
    token_claims = json.loads(base64.urlsafe_b64decode(params["t"].split(".")[1] + "=="))
    assert (token_claims["aud"], token_claims["sub"]) == (push_service.url, "mailto:ops@example.com")

    subscription.refresh_from_db()
    assert subscription.failures == 0 and subscription.last_success_at is not None


@pytest.mark.django_db(transaction=True)
def test_gone_subscription_is_deleted(
    subscribed: tuple[Any, Browser, PushSubscription], push_service: PushService
) -> None:
    ana, _browser, _subscription = subscribed
    push_service.status = 410
    notifications.notify_users([ana], kind="k", title="t")
    assert len(push_service.received) == 1
    assert PushSubscription.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_server_error_counts_failures_and_retries_a_bounded_number_of_times(
    subscribed: tuple[Any, Browser, PushSubscription], push_service: PushService
) -> None:
    ana, _browser, subscription = subscribed
    push_service.status = 500
    notifications.notify_users([ana], kind="k", title="t")
    attempts = 1 + PUSH_MAX_RETRIES
    assert len(push_service.received) == attempts
    subscription.refresh_from_db()
    assert (subscription.failures, subscription.last_success_at) == (attempts, None)


@pytest.mark.django_db(transaction=True)
def test_only_the_failed_delivery_is_retried(
    subscribed: tuple[Any, Browser, PushSubscription], push_service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, _browser, subscription = subscribed
    tablet = Browser(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
    notifications.subscribe_push(ana, f"{push_service.url}/push/ana-tablet", tablet.p256dh, b64url(tablet.auth_secret))
    original = notifications.webpush

    def phone_fails_once(subscription_info: dict[str, Any], **kwargs: Any) -> Any:
        phone_tries = [r for r in push_service.received if r[0] == "/push/ana-phone"]
        push_service.status = 500 if subscription_info["endpoint"].endswith("phone") and not phone_tries else 201
        return original(subscription_info, **kwargs)

    monkeypatch.setattr(notifications, "webpush", phone_fails_once)
    notifications.notify_users([ana], kind="k", title="t")
    assert sorted(path for path, _h, _b in push_service.received) == [
        "/push/ana-phone",
        "/push/ana-phone",
        "/push/ana-tablet",
    ]
    subscription.refresh_from_db()
    assert subscription.failures == 0


@pytest.mark.django_db(transaction=True)
def test_unreachable_push_service_counts_a_failure(make_user: Callable[..., Any], server_key: Any) -> None:
    ana = make_user("ana")
    browser = Browser(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
    # Port 9 on loopback (discard) is closed on test machines: the connection is refused at once.
    subscription = notifications.subscribe_push(
        ana, "http://127.0.0.1:9/push/x", browser.p256dh, b64url(os.urandom(16))
    )
    notifications.notify_users([ana], kind="k", title="t")
    subscription.refresh_from_db()
    assert subscription.failures == 1 + PUSH_MAX_RETRIES
