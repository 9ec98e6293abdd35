"""What the server sends a push service, checked the way a push service and a browser check it.

A local HTTP server on 127.0.0.1 plays the push service; the test holds the private half of the
subscription's keys, as the browser would. The request must carry a VAPID token signed with the key
the server hands browsers (GET /api/v1/push/key/), for the endpoint's origin, with a TTL, and a body
(aes128gcm, RFC 8291) that decrypts to exactly what push_payload() built and is no larger than push
services accept. Then the push service's answers: gone (404/410) removes the subscription; an error or
a refused connection is a failure counted on the subscription, which is kept with the notification, and
is handed back for a retry.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.core import notifications
from apps.core.models import Notification, PushSubscription
from apps.core.testing import verified_client

from .push_service import (
    BrowserKeys,
    PushService,
    b64url,
    b64url_decode,
    running_push_service,
    uncompressed_point,
    use_server_key,
)

# RFC 8030 §7.2: a push service must accept at least this much body, and may refuse more (413).
PUSH_SERVICE_MAX_BODY = 4096
# A VAPID token must not be valid for more than a day (RFC 8292 §2).
VAPID_MAX_LIFETIME_SECONDS = 24 * 3600

pytestmark = pytest.mark.django_db


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def server_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ec.EllipticCurvePrivateKey]:
    yield use_server_key(settings, monkeypatch)
    notifications.vapid_keys.cache_clear()


@pytest.fixture
def ana(make_user: Callable[..., Any]) -> Any:
    return make_user("ana")


def subscribe(user: Any, endpoint: str) -> tuple[BrowserKeys, PushSubscription]:
    browser = BrowserKeys.new()
    return browser, notifications.subscribe_push(user, endpoint, browser.p256dh, browser.auth, "Chrome on Android")


def notification(user: Any, **fields: Any) -> Notification:
    # Made directly, not by notify_users: these tests call push_notifications themselves.
    values = {"kind": "shopfloor.issue_acknowledged", "title": "Your issue was acknowledged by Ben Ortiz"}
    return Notification.objects.create(user=user, **{**values, **fields})


def served_public_key(user: Any) -> str:
    """The key a browser subscribes with: what the push-key endpoint answers a signed-in person."""
    response = verified_client(user).get(reverse("core-push-key"))
    assert response.status_code == 200
    return str(response.json()["public_key"])


def verify_es256(token: str, public_key: str) -> dict[str, Any]:
    """The claims of a JWT, after checking its ES256 signature against `public_key` (base64url point)."""
    signing_input, signature = token.rsplit(".", 1)
    header = json.loads(b64url_decode(signing_input.split(".")[0]))
    assert header["alg"] == "ES256"
    raw = b64url_decode(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(public_key))
    key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    return dict(json.loads(b64url_decode(signing_input.split(".")[1])))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_push_is_signed_for_the_endpoint_and_decrypts_to_the_payload(
    ana: Any, push_service: PushService, server_key: ec.EllipticCurvePrivateKey
) -> None:
    browser, subscription = subscribe(ana, f"{push_service.url}/wpush/v2/ana-phone")
    sent_to_ana = notification(ana, body="Coolant leak under the laser bed", url="/shopfloor/issues/7/")

    before = int(time.time())
    assert notifications.push_notifications([sent_to_ana.pk]) == (1, [])

    [request] = push_service.received
    assert request.path == "/wpush/v2/ana-phone"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["ttl"] == str(notifications.PUSH_TTL_SECONDS)
    scheme, _, credentials = request.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    params = dict(part.strip().split("=", 1) for part in credentials.split(","))
    served = served_public_key(ana)
    assert params["k"] == served == b64url(uncompressed_point(server_key.public_key()))
    claims = verify_es256(params["t"], served)
    assert (claims["aud"], claims["sub"]) == (push_service.url, "mailto:ops@example.com")
    assert before < claims["exp"] <= int(time.time()) + VAPID_MAX_LIFETIME_SECONDS
    other_key = b64url(uncompressed_point(ec.generate_private_key(ec.SECP256R1()).public_key()))
    with pytest.raises(InvalidSignature):
        verify_es256(params["t"], other_key)

    assert browser.decrypt(request.body) == notifications.push_payload(sent_to_ana).encode()
    assert json.loads(browser.decrypt(request.body)) == {
        "title": "Your issue was acknowledged by Ben Ortiz",
        "body": "Coolant leak under the laser bed",
        "url": "/shopfloor/issues/7/",
    }
    subscription.refresh_from_db()
    assert subscription.failures == 0 and subscription.last_success_at is not None


def test_a_long_body_is_cut_to_what_a_push_service_accepts(
    ana: Any, push_service: PushService, server_key: Any
) -> None:
    browser, _subscription = subscribe(ana, f"{push_service.url}/push/ana")
    # An issue report may be 4000 characters; accents, quotes and line breaks make JSON longer than the text.
    text = ('Señal "E-STOP" en la plegadora\n' * 200)[:4000]
    long_one = notification(ana, kind="shopfloor.issue_reported", title="Machine problem on BRAKE-1", body=text)

    assert notifications.push_notifications([long_one.pk]) == (1, [])

    [request] = push_service.received
    assert len(request.body) <= PUSH_SERVICE_MAX_BODY
    message = json.loads(browser.decrypt(request.body))
    assert message["title"] == "Machine problem on BRAKE-1"
    assert message["body"].endswith("…")
    assert text.startswith(message["body"][:-1])
    # Cut to fit, not to nothing: the message uses most of what it may.
    assert len(notifications.push_payload(long_one).encode()) > notifications.PUSH_MAX_PAYLOAD_BYTES - 100
    long_one.refresh_from_db()
    assert long_one.body == text


def test_a_short_body_is_sent_whole(ana: Any) -> None:
    short = notification(ana, body="Señal «E-STOP» en la plegadora", url="/shopfloor/issues/9/")
    assert json.loads(notifications.push_payload(short))["body"] == "Señal «E-STOP» en la plegadora"


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed_and_the_notification_kept(
    ana: Any, push_service: PushService, server_key: Any, status: int
) -> None:
    _browser, subscription = subscribe(ana, f"{push_service.url}/push/ana")
    note = notification(ana)
    push_service.status = status

    assert notifications.deliver_push(note, subscription) is notifications.Delivery.GONE
    assert not PushSubscription.objects.filter(pk=subscription.pk).exists()
    assert Notification.objects.filter(pk=note.pk, read_at=None).exists()


def test_a_push_service_error_is_a_failure_that_loses_nothing(
    ana: Any, push_service: PushService, server_key: Any
) -> None:
    browser, subscription = subscribe(ana, f"{push_service.url}/push/ana")
    note = notification(ana, body="Guard door latch is loose")
    push_service.status = 500

    assert notifications.push_notifications([note.pk]) == (0, [[note.pk, subscription.pk]])
    subscription.refresh_from_db()
    assert (subscription.failures, subscription.last_success_at) == (1, None)
    assert Notification.objects.filter(pk=note.pk).exists()

    push_service.status = 201
    assert notifications.push_notifications([note.pk], [[note.pk, subscription.pk]]) == (1, [])
    assert json.loads(browser.decrypt(push_service.received[-1].body))["body"] == "Guard door latch is loose"
    subscription.refresh_from_db()
    assert subscription.failures == 0 and subscription.last_success_at is not None


def test_a_refused_connection_is_a_failure_that_loses_nothing(ana: Any, server_key: Any) -> None:
    _browser, subscription = subscribe(ana, f"http://127.0.0.1:{closed_port()}/push/ana")
    note = notification(ana)

    assert notifications.push_notifications([note.pk]) == (0, [[note.pk, subscription.pk]])
    subscription.refresh_from_db()
    assert subscription.failures == 1
    assert Notification.objects.filter(pk=note.pk).exists()


def test_a_subscription_failing_for_too_long_is_dropped(ana: Any, push_service: PushService, server_key: Any) -> None:
    _browser, subscription = subscribe(ana, f"{push_service.url}/push/ana")
    PushSubscription.objects.filter(pk=subscription.pk).update(failures=notifications.PUSH_MAX_FAILURES - 2)
    push_service.status = 503

    assert notifications.deliver_push(notification(ana), subscription) is notifications.Delivery.FAILED
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()
    assert notifications.deliver_push(notification(ana), subscription) is notifications.Delivery.FAILED
    assert not PushSubscription.objects.filter(pk=subscription.pk).exists()


def off_curve_point() -> str:
    """65 bytes that look like an uncompressed point (0x04, x, y) but are not on P-256."""
    return b64url(b"\x04" + bytes(range(1, 65)))


def test_a_key_off_the_curve_is_refused(ana: Any, server_key: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        notifications.subscribe_push(ana, "https://push.example.net/send/x", off_curve_point(), b64url(bytes(16)))
    assert list(refused.value.message_dict) == ["p256dh"]
    assert PushSubscription.objects.count() == 0


def test_an_unusable_stored_subscription_does_not_stop_the_others(
    make_user: Callable[..., Any], push_service: PushService, server_key: Any
) -> None:
    ana, ben = make_user("ana"), make_user("ben")
    # Stored before subscribe_push checked the point: no message can be encrypted to it.
    broken = PushSubscription.objects.create(
        user=ana, endpoint=f"{push_service.url}/push/ana", p256dh=off_curve_point(), auth=b64url(bytes(16))
    )
    browser, _subscription = subscribe(ben, f"{push_service.url}/push/ben")
    for_ana, for_ben = notification(ana), notification(ben, body="For Ben")

    assert notifications.push_notifications([for_ana.pk, for_ben.pk]) == (1, [])
    assert [request.path for request in push_service.received] == ["/push/ben"]
    assert json.loads(browser.decrypt(push_service.received[0].body))["body"] == "For Ben"
    assert not PushSubscription.objects.filter(pk=broken.pk).exists()
