"""Notifications for people, and their delivery to phones and browsers by Web Push.

Every app tells people things through these services. Who to tell is either a list of users,
the members of roles, or a named audience that an app higher up registers (core cannot import
shopfloor to find "the operators clocked in to Laser 2", so shopfloor hands core a resolver).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from .models import Notification, PushSubscription

AudienceResolver = Callable[[Any], Iterable[Any]]
# The operators clocked in to a machine (key: work center id); registered by the shop floor.
MACHINE_CREW = "shopfloor.machine_crew"
_audiences: dict[str, AudienceResolver] = {}

# Seconds a push service may keep a message for a phone that is off; a shop-floor alert older
# than a shift is noise.
PUSH_TTL_SECONDS = 8 * 3600
PUSH_TIMEOUT_SECONDS = 10
# Failed deliveries in a row after which a subscription is dropped: the browser is long gone.
PUSH_MAX_FAILURES = 20
# Push services accept 4096 bytes of encrypted body (RFC 8030 §7.2); aes128gcm in one record adds an 86-byte
# header, a padding delimiter and a 16-byte tag, which leaves this much JSON. A longer message is refused (413).
PUSH_MAX_PAYLOAD_BYTES = 4096 - 86 - 1 - 16


def register_audience(name: str, resolver: AudienceResolver) -> None:
    """Let `notify_audience(name, key, ...)` reach the users `resolver(key)` returns.

    Called from an AppConfig.ready(); registering the same name twice replaces the resolver so that
    a reloaded app does not fail.
    """
    _audiences[name] = resolver


def users_in_roles(role_names: Iterable[str]) -> QuerySet[Any]:
    """Active members of the Django groups named like the roles in apps.accounts.roles."""
    return get_user_model().objects.filter(is_active=True, groups__name__in=list(role_names)).distinct().order_by("pk")


def notify_users(users: Iterable[Any], *, kind: str, title: str, body: str = "", url: str = "") -> list[Notification]:
    """One notification per distinct active user, and a Web Push to their devices once committed."""
    seen: set[int] = set()
    rows: list[Notification] = []
    for user in users:
        if user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, kind=kind, title=title[:200], body=body, url=url))
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    # Imported here: tasks imports this module for the delivery itself.
    from .tasks import send_web_push_task

    transaction.on_commit(lambda: send_web_push_task.delay(ids))
    return created


def notify_audience(name: str, key: Any, *, kind: str, title: str, body: str = "", url: str = "") -> list[Notification]:
    """Notify whoever the registered audience `name` resolves `key` to."""
    try:
        resolver = _audiences[name]
    except KeyError:
        raise LookupError(f"No notification audience named {name!r} is registered") from None
    return notify_users(resolver(key), kind=kind, title=title, body=body, url=url)


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all of them when `ids` is None); returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _is_p256_point(raw: bytes) -> bool:
    # Off the curve, no message can ever be encrypted to it: refused here rather than failing every push.
    if len(raw) != 65 or raw[0] != 4:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True


def _check_subscription(endpoint: str, p256dh: str, auth: str) -> None:
    errors: dict[str, str] = {}
    # The server posts to this address: without https anyone signed in could aim it at the LAN.
    schemes = ["https", "http"] if getattr(settings, "WEBPUSH_ALLOW_HTTP_ENDPOINTS", False) else ["https"]
    try:
        URLValidator(schemes=schemes)(endpoint)
    except ValidationError:
        errors["endpoint"] = _("The push endpoint must be an https address.")
    try:
        key = _b64url_decode(p256dh)
    except (binascii.Error, ValueError):
        key = b""
    if not _is_p256_point(key):
        errors["p256dh"] = _("The browser's public key is not an uncompressed P-256 point.")
    try:
        secret = _b64url_decode(auth)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != 16:
        errors["auth"] = _("The browser's auth secret must be 16 bytes.")
    if errors:
        raise ValidationError(errors)


def subscribe_push(user: Any, endpoint: str, p256dh: str, auth: str, user_agent: str = "") -> PushSubscription:
    """Remember a browser's push subscription for `user`.

    A browser has one endpoint whoever signs in on it; the last person to subscribe owns it, so a
    shared tablet does not keep buzzing with the previous shift's messages.
    """
    _check_subscription(endpoint, p256dh, auth)
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300], "failures": 0},
    )
    return subscription


def unsubscribe_push(user: Any, endpoint: str) -> bool:
    """Forget the user's subscription at `endpoint`; another person's is left alone."""
    deleted, _detail = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted > 0


@dataclass(frozen=True)
class VapidKeys:
    """The server's VAPID identity: the key that signs, and its public half as browsers want it."""

    private: Any
    public_key: str


def _load_private_key(text: str) -> Any:
    text = text.strip()
    if "BEGIN" in text:
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


def encode_private_key(private: ec.EllipticCurvePrivateKey) -> str:
    """The raw 32-byte private scalar, base64url: the form WEBPUSH_VAPID_PRIVATE_KEY takes."""
    return _b64url_encode(private.private_numbers().private_value.to_bytes(32, "big"))


def public_key_b64url(raw: bytes) -> str:
    """An uncompressed P-256 point, base64url without padding: what PushManager.subscribe() wants."""
    return _b64url_encode(raw)


def _vapid_public_raw(vapid: Any) -> bytes:
    return bytes(
        vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def _local_key_file() -> Path:
    """A key pair made once on this machine, so a laptop runs push with no set-up."""
    folder = Path(settings.VAR_DIR) / "vapid"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "private_key.pem"
    if not path.exists():
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            # O_EXCL: two processes starting at once must not each write a different key.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    return path


@cache
def vapid_keys() -> VapidKeys:
    configured = settings.WEBPUSH_VAPID_PRIVATE_KEY
    private = _load_private_key(configured or _local_key_file().read_text())
    public = settings.WEBPUSH_VAPID_PUBLIC_KEY if configured else ""
    return VapidKeys(private=private, public_key=public or public_key_b64url(_vapid_public_raw(private)))


def vapid_contact() -> str:
    return settings.WEBPUSH_CONTACT or f"mailto:{settings.DEFAULT_FROM_EMAIL}"


def _payload_json(title: str, body: str, url: str) -> str:
    return json.dumps({"title": title, "body": body, "url": url}, ensure_ascii=False, separators=(",", ":"))


def push_payload(notification: Notification) -> str:
    """The JSON {title, body, url} that sw-push.js shows; a body too long for a push message is cut short
    with an ellipsis (the whole text stays on the notifications page)."""
    title, body, url = notification.title, notification.body, notification.url
    payload = _payload_json(title, body, url)
    keep = len(body)
    while len(payload.encode()) > PUSH_MAX_PAYLOAD_BYTES and keep > 0:
        # Every character is at least a byte: cutting the excess (and room for the ellipsis) in characters
        # comes close at once; escapes and multi-byte characters may need another round.
        keep = max(0, keep - (len(payload.encode()) - PUSH_MAX_PAYLOAD_BYTES) - len("…".encode()))
        payload = _payload_json(title, body[:keep].rstrip() + "…", url)
    return payload


class Delivery(Enum):
    SENT = "sent"
    GONE = "gone"
    FAILED = "failed"


# Statuses by which a push service says the subscription no longer exists.
_GONE_STATUSES = frozenset({404, 410})


def deliver_push(notification: Notification, subscription: PushSubscription) -> Delivery:
    """Send one notification to one subscription and record the outcome on the subscription."""
    keys = vapid_keys()
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=push_payload(notification),
            vapid_private_key=keys.private,
            vapid_claims={"sub": vapid_contact()},
            ttl=PUSH_TTL_SECONDS,
            timeout=PUSH_TIMEOUT_SECONDS,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in _GONE_STATUSES:
            PushSubscription.objects.filter(pk=subscription.pk).delete()
            return Delivery.GONE
        return _count_failure(subscription)
    except OSError:
        # Connection refused, DNS, timeouts (requests' errors are OSErrors): the push service may be back later.
        return _count_failure(subscription)
    except ValueError:
        # The browser's key is no P-256 point (a row from before subscribe_push checked that): nothing can
        # ever be encrypted to it, and it must not stop the deliveries after it.
        PushSubscription.objects.filter(pk=subscription.pk).delete()
        return Delivery.GONE
    PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now(), failures=0)
    return Delivery.SENT


def push_notifications(
    notification_ids: list[int], deliveries: list[list[int]] | None = None
) -> tuple[int, list[list[int]]]:
    """Push notifications to their users' devices (or only the given [notification id, subscription
    id] deliveries, on a retry); answers how many were sent and the deliveries that failed."""
    notifications = {n.pk: n for n in Notification.objects.filter(pk__in=notification_ids)}
    if deliveries is None:
        subscriptions = PushSubscription.objects.filter(user_id__in={n.user_id for n in notifications.values()})
        pairs = [(n, s) for n in notifications.values() for s in subscriptions if s.user_id == n.user_id]
    else:
        by_pk = PushSubscription.objects.in_bulk([subscription_id for _n, subscription_id in deliveries])
        pairs = [
            (notifications[n_id], by_pk[s_id]) for n_id, s_id in deliveries if n_id in notifications and s_id in by_pk
        ]
    sent = 0
    failed: list[list[int]] = []
    for notification, subscription in pairs:
        outcome = deliver_push(notification, subscription)
        if outcome is Delivery.SENT:
            sent += 1
        elif outcome is Delivery.FAILED:
            failed.append([notification.pk, subscription.pk])
    return sent, failed


def _count_failure(subscription: PushSubscription) -> Delivery:
    PushSubscription.objects.filter(pk=subscription.pk).update(failures=F("failures") + 1)
    PushSubscription.objects.filter(pk=subscription.pk, failures__gte=PUSH_MAX_FAILURES).delete()
    return Delivery.FAILED
