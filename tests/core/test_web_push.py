"""From a notification to the push service through the Celery task: sent once the notification is
committed, retried a bounded number of times, only the deliveries that failed. What goes over the wire
(VAPID, encryption, sizes, the push service's answers) is in test_web_push_delivery.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from apps.core import notifications
from apps.core.models import PushSubscription
from apps.core.tasks import PUSH_MAX_RETRIES

from .push_service import BrowserKeys, PushService, running_push_service, use_server_key


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def server_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_server_key(settings, monkeypatch)
    yield
    notifications.vapid_keys.cache_clear()


@pytest.fixture
def subscribed(
    make_user: Callable[..., Any], push_service: PushService, server_key: None
) -> tuple[Any, BrowserKeys, PushSubscription]:
    ana = make_user("ana")
    browser = BrowserKeys.new()
    subscription = notifications.subscribe_push(
        ana, f"{push_service.url}/push/ana-phone", browser.p256dh, browser.auth, "Firefox"
    )
    return ana, browser, subscription


@pytest.mark.django_db(transaction=True)
def test_notification_is_pushed_once_committed(
    subscribed: tuple[Any, BrowserKeys, PushSubscription], push_service: PushService
) -> None:
    ana, browser, subscription = subscribed
    with transaction.atomic():
        notifications.notify_users(
            [ana], kind="issue.acknowledged", title="Your issue was acknowledged", body="By Ben", url="/shop/issues/4/"
        )
        assert push_service.received == []

    assert [request.path for request in push_service.received] == ["/push/ana-phone"]
    assert json.loads(browser.decrypt(push_service.received[0].body)) == {
        "title": "Your issue was acknowledged",
        "body": "By Ben",
        "url": "/shop/issues/4/",
    }
    subscription.refresh_from_db()
    assert subscription.failures == 0 and subscription.last_success_at is not None


@pytest.mark.django_db(transaction=True)
def test_gone_subscription_is_deleted(
    subscribed: tuple[Any, BrowserKeys, PushSubscription], push_service: PushService
) -> None:
    ana, _browser, _subscription = subscribed
    push_service.status = 410
    notifications.notify_users([ana], kind="k", title="t")
    assert len(push_service.received) == 1
    assert PushSubscription.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_server_error_counts_failures_and_retries_a_bounded_number_of_times(
    subscribed: tuple[Any, BrowserKeys, PushSubscription], push_service: PushService
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
    subscribed: tuple[Any, BrowserKeys, PushSubscription], push_service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, _browser, subscription = subscribed
    tablet = BrowserKeys.new()
    notifications.subscribe_push(ana, f"{push_service.url}/push/ana-tablet", tablet.p256dh, tablet.auth)
    original = notifications.webpush

    def phone_fails_once(subscription_info: dict[str, Any], **kwargs: Any) -> Any:
        phone_tries = [r for r in push_service.received if r.path == "/push/ana-phone"]
        push_service.status = 500 if subscription_info["endpoint"].endswith("phone") and not phone_tries else 201
        return original(subscription_info, **kwargs)

    monkeypatch.setattr(notifications, "webpush", phone_fails_once)
    notifications.notify_users([ana], kind="k", title="t")
    assert sorted(request.path for request in push_service.received) == [
        "/push/ana-phone",
        "/push/ana-phone",
        "/push/ana-tablet",
    ]
    subscription.refresh_from_db()
    assert subscription.failures == 0


@pytest.mark.django_db(transaction=True)
def test_unreachable_push_service_counts_a_failure(make_user: Callable[..., Any], server_key: None) -> None:
    ana = make_user("ana")
    browser = BrowserKeys.new()
    # Port 9 on loopback (discard) is closed on test machines: the connection is refused at once.
    subscription = notifications.subscribe_push(ana, "http://127.0.0.1:9/push/x", browser.p256dh, browser.auth)
    notifications.notify_users([ana], kind="k", title="t")
    subscription.refresh_from_db()
    assert subscription.failures == 1 + PUSH_MAX_RETRIES
