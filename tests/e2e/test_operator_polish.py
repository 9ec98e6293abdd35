"""The operator app on a 360 px phone, the finer points: the notifications control tells this device's
real state after a reload (on, blocked, or not offered), a step that cannot start yet says which step it
waits for and offers no Start, and a code reader that did not load is told apart from a camera that
failed.

Push subscribing uses the PushManager stub of test_operator_push_scan (this Chromium has no push service;
see that module's docstring). A denied notifications permission is set through the DevTools protocol, as
a "Block" in the browser's site settings would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.core.push_service import BrowserKeys

from . import test_operator_pwa
from .conftest import CHROMIUM, CHROMIUM_ARGS
from .test_operator_floor import clock_in, layout_problems, operation_card, queue_entry
from .test_operator_push_scan import (
    CAMERA_STATES,
    KEEP_CAMERA_STREAMS,
    app_with_worker,
    phone_context,
    stored_subscriptions,
    stub_push_manager,
    watched_page,
)
from .test_operator_pwa import Floor, open_phone_app, qr_png

pytestmark = pytest.mark.e2e
# The fixture this module shares with test_operator_pwa (pytest finds it as an attribute of the module).
floor = test_operator_pwa.floor

SCREENSHOTS = "polish"
BLOCKED = "Notifications are blocked for this site; allow them in the browser settings."
NO_DECODER = "The code reader could not be loaded: type the traveler code or use a hand scanner."


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """The operator's phone, notifications allowed for the app's origin."""
    context = phone_context(browser, base_url)
    context.grant_permissions(["notifications"], origin=base_url)
    yield watched_page(context)
    context.close()


@pytest.fixture
def bare_phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """The operator's phone, no permission granted or refused yet."""
    context = phone_context(browser, base_url)
    yield watched_page(context)
    context.close()


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"{SCREENSHOTS}-{name}.png"), full_page=True)


def block_notifications(page: Page, base_url: str) -> None:
    """What "Block" in the site's settings does: the page's permission reads "denied"."""
    session = page.context.new_cdp_session(page)
    context_id = session.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    browser_session = page.context.browser.new_browser_cdp_session()  # type: ignore[union-attr]
    browser_session.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": base_url,
            "browserContextId": context_id,
        },
    )


# --- notifications ---------------------------------------------------------------------------------


def test_a_subscribed_phone_is_shown_as_on_after_a_reload_and_can_turn_it_off(
    phone: Page, floor: Floor, artifacts_dir: Path
) -> None:
    from apps.core.notifications import subscribe_push, vapid_keys

    page = phone
    endpoint = "https://push.example.net/wpush/v2/olga-phone"
    keys = BrowserKeys.new()
    # Subscribed on an earlier visit: the browser still holds the subscription, the server its row.
    subscribe_push(floor.operator, endpoint, keys.p256dh, keys.auth)
    existing = {"endpoint": endpoint, "serverKey": vapid_keys().public_key, "p256dh": keys.p256dh, "auth": keys.auth}
    stub_push_manager(page.context, endpoint, keys, existing)
    app_with_worker(page, floor)
    page.reload()

    control = page.locator("#push-control")
    expect(control).to_have_attribute("data-state", "on")
    expect(page.locator("#push")).to_have_text("Notifications are on")
    expect(page.locator("#push")).to_be_disabled()
    expect(page.locator("#push-off")).to_have_text("Turn off notifications")
    shot(page, artifacts_dir, "1-notifications-on-after-reload")
    assert layout_problems(page) == []

    page.locator("#push-off").click()
    expect(control).to_have_attribute("data-state", "off")
    expect(page.locator("#push")).to_have_text("Turn on notifications")
    expect(page.locator("#push")).to_be_enabled()
    expect(page.locator("#push-off")).to_have_count(0)
    assert stored_subscriptions() == []
    assert page.evaluate("window.pushStub.unsubscribed") == [endpoint]
    shot(page, artifacts_dir, "2-notifications-turned-off")

    page.locator("#push").click()
    expect(control).to_have_attribute("data-state", "on")
    expect(page.locator("#push-off")).to_be_visible()
    assert stored_subscriptions() == [("olga", endpoint, keys.p256dh, keys.auth)]
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_a_subscription_made_with_a_rotated_server_key_is_shown_as_off(phone: Page, floor: Floor) -> None:
    page = phone
    endpoint = "https://push.example.net/wpush/v2/olga-old-phone"
    keys = BrowserKeys.new()
    # The push service refuses the server's pushes to this one: for the operator it is off.
    retired_server_key = BrowserKeys.new().p256dh
    existing = {"endpoint": endpoint, "serverKey": retired_server_key, "p256dh": keys.p256dh, "auth": keys.auth}
    stub_push_manager(page.context, endpoint, keys, existing)
    app_with_worker(page, floor)
    page.reload()

    expect(page.locator("#push-control")).to_have_attribute("data-state", "off")
    expect(page.locator("#push")).to_have_text("Turn on notifications")
    expect(page.locator("#push")).to_be_enabled()
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_blocked_notifications_are_said_and_no_button_offered(
    bare_phone: Page, base_url: str, floor: Floor, artifacts_dir: Path
) -> None:
    page = bare_phone
    block_notifications(page, base_url)
    open_phone_app(page, floor)

    assert page.evaluate("Notification.permission") == "denied"
    expect(page.locator("#push-control")).to_have_attribute("data-state", "blocked")
    expect(page.locator("#push-state")).to_have_text(BLOCKED)
    expect(page.locator("#push, #push-off")).to_have_count(0)
    shot(page, artifacts_dir, "3-notifications-blocked")
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_without_web_push_no_notifications_control_is_shown(bare_phone: Page, floor: Floor) -> None:
    page = bare_phone
    # A browser without Web Push (an iPhone's Safari outside an installed app, say).
    page.context.add_init_script("delete window.PushManager;")
    open_phone_app(page, floor)

    control = page.locator("#push-control")
    expect(control).to_have_attribute("data-state", "unsupported")
    expect(control.locator("*")).to_have_count(0)
    assert page.e2e_problems == []  # type: ignore[attr-defined]


# --- steps that cannot start yet -------------------------------------------------------------------


def test_a_step_waiting_for_an_earlier_one_names_it_and_offers_no_start(
    phone: Page, floor: Floor, artifacts_dir: Path
) -> None:
    from apps.machines.models import WorkCenter

    page = phone
    brake = WorkCenter.objects.get(code="brake-1")
    bend = floor.first.job.operations.get(sequence=20)
    clock_in(page, floor.laser, brake)

    entry = queue_entry(page, brake, bend)
    expect(entry).to_have_class("entry status-pending blocked")
    expect(entry.locator(".blocked-why")).to_have_text("Waiting for J-1042/10 CUT")
    expect(queue_entry(page, floor.laser, floor.first).locator(".blocked-why")).to_have_count(0)
    shot(page, artifacts_dir, "4-queue-with-blocked-steps")
    assert layout_problems(page) == []

    entry.click()
    card = operation_card(page, bend)
    expect(card.locator("h1")).to_have_text("J-1042/20 BEND")
    expect(card.locator("#op-waiting")).to_have_text("Waiting for J-1042/10 CUT")
    expect(card.locator(".actions [data-action]")).to_have_count(0)
    shot(page, artifacts_dir, "5-blocked-operation")

    page.go_back()
    queue_entry(page, floor.laser, floor.first).click()
    page.locator("[data-action=start]").click()
    expect(operation_card(page, floor.first)).to_have_attribute("data-status", "in_progress")
    page.go_back()
    expect(queue_entry(page, brake, bend).locator(".blocked-why")).to_have_count(0)
    queue_entry(page, brake, bend).click()
    expect(card.locator("[data-action=start]")).to_be_visible()
    expect(card.locator("#op-waiting")).to_have_count(0)
    assert page.e2e_problems == []  # type: ignore[attr-defined]


# --- the code reader -------------------------------------------------------------------------------


def test_a_photo_without_the_code_reader_says_so(phone: Page, base_url: str, floor: Floor, artifacts_dir: Path) -> None:
    page = phone
    page.context.route("**/vendor/jsqr/jsQR.js", lambda route: route.abort())
    open_phone_app(page, floor)
    page.locator("#tabs [data-tab=scan]").click()
    page.locator("#scan-file").set_input_files(
        {"name": "traveler.png", "mimeType": "image/png", "buffer": qr_png(f"{base_url}/shop/o/{floor.first.pk}/")}
    )
    expect(page.locator("#notices .notice.conflict")).to_contain_text(NO_DECODER)
    shot(page, artifacts_dir, "6-no-code-reader")


# A native detector, as Android's Chrome has: it finds nothing while the code slides in, then the code.
NATIVE_DETECTOR = """
(({ url }) => {
  let frames = 0;
  window.BarcodeDetector = class {
    static async getSupportedFormats() { return ["qr_code"]; }
    async detect() {
      frames += 1;
      return frames < 4 ? [] : [{ format: "qr_code", rawValue: url }];
    }
  };
})
"""


@pytest.fixture
def camera_phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """A phone with Chromium's fake camera (its own browser: the camera is chosen at launch)."""
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
        timeout=30_000,
    )
    context = phone_context(camera_browser, base_url)
    context.grant_permissions(["camera"], origin=base_url)
    context.add_init_script(KEEP_CAMERA_STREAMS)
    yield watched_page(context)
    context.close()
    camera_browser.close()


def test_a_native_detector_scans_on_when_the_vendored_reader_cannot_load(
    camera_phone: Page, base_url: str, floor: Floor
) -> None:
    page = camera_phone
    traveler_url = f"{base_url}/shop/o/{floor.first.pk}/"
    page.context.add_init_script(f"{NATIVE_DETECTOR}({json.dumps({'url': traveler_url})});")
    page.context.route("**/vendor/jsqr/jsQR.js", lambda route: route.abort())
    open_phone_app(page, floor)

    page.locator("#tabs [data-tab=scan]").click()
    page.locator("#scan-camera").click()
    page.wait_for_url(traveler_url)
    expect(operation_card(page, floor.first).locator("h1")).to_have_text("J-1042/10 CUT")
    expect(page.locator("#notices .notice")).to_have_count(0)
    assert page.evaluate(CAMERA_STATES) == [["ended"]]
    assert page.evaluate("typeof window.jsQR") == "undefined"
    assert page.e2e_problems == []  # type: ignore[attr-defined]
