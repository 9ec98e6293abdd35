"""Web Push and the camera scan of the operator app, in headless Chromium on a 360 px phone.

Push, shown: the server's own payload (push_payload of a real "your issue was acknowledged"
notification) is delivered to the app's service worker through the DevTools protocol
(ServiceWorker.deliverPushMessage), as the push service would; the test reads the notification the
worker showed with registration.getNotifications(). No browser API taps a notification, so the tap is
a NotificationEvent made by script and dispatched to the worker's own handler, with clients.openWindow
recorded instead of opening a window (only a real tap may open one). The handler's waitUntil then
refuses the script-made event; that happens after it has chosen the page, and is expected.

Push, subscribing: this Chromium has no push service to subscribe with. In a Playwright context
pushManager.subscribe() rejects at once ("AbortError: Registration failed - permission denied",
as in any incognito profile); in a persistent profile it never answers (no route to the vendor's
push service). So the browser's PushManager.subscribe/getSubscription are replaced by an init script
that returns what a browser returns: an endpoint and a real P-256 key pair and auth secret made by the
test. Everything else is the app's: its button, push.js, the server's key and subscription API.

Camera: Chromium's fake camera plays a Y4M file made here from the traveler's own QR image of an
operation (the PNG in the traveler HTML). This Chromium (Debian, Linux) has no BarcodeDetector, so
the app decodes with the vendored jsQR; forced on by a Blink flag, BarcodeDetector exists but reads
no QR codes on Linux, which the app must also ride out. The native detector itself is not exercised
here: no Linux Chromium has one.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect

from tests.core.push_service import BrowserKeys

from .conftest import ACTION_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, NAVIGATION_TIMEOUT_MS, PHONE
from .test_operator_pwa import Floor, open_phone_app, released_floor, while_server_is_quiet

pytestmark = pytest.mark.e2e

SCREENSHOTS = "push-scan"
# What the app's service worker shows for a payload that is not its JSON (sw-push.js).
DEFAULT_TITLE = "CNC Copilot"


@pytest.fixture
def floor(e2e_user: Callable[..., Any]) -> Floor:
    """A released job J-1042 with its CUT on the laser, the operator Olga, and a supervisor, Ben."""
    floor = released_floor(e2e_user)
    e2e_user("ben", "supervisor", first_name="Ben", last_name="Ortiz")
    return floor


def phone_context(browser: Browser, base_url: str) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


def watched_page(context: BrowserContext) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.e2e_problems = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """The operator's phone, notifications allowed for the app's origin."""
    context = phone_context(browser, base_url)
    context.grant_permissions(["notifications"], origin=base_url)
    yield watched_page(context)
    context.close()


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"{SCREENSHOTS}-{name}.png"), full_page=True)


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = ACTION_TIMEOUT_MS / 1000) -> Any:
    """Poll `check` from the test thread (CDP events and page state arrive while Playwright waits)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# --- push: shown -----------------------------------------------------------------------------------

SHOWN = """async () => {
  const registration = await navigator.serviceWorker.getRegistration("/shop/");
  const shown = await registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, icon: n.icon, data: n.data }));
}"""

CLOSE_ALL = """async () => {
  const registration = await navigator.serviceWorker.getRegistration("/shop/");
  (await registration.getNotifications()).forEach((n) => n.close());
}"""

# Run in the service worker: tap the one notification shown, recording the window the handler opens.
TAP = """async () => {
  const [notification] = await self.registration.getNotifications();
  const opened = [];
  self.clients.openWindow = async (url) => { opened.push(url); return null; };
  self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
  for (let i = 0; i < 50 && !opened.length; i += 1) await new Promise((done) => setTimeout(done, 100));
  return { opened, stillShown: (await self.registration.getNotifications()).length };
}"""


class PushChannel:
    """The DevTools side of the app's service worker: which registration is /shop/, and pushing to it."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.base_url = base_url
        self.registrations: dict[str, str] = {}
        self.session: CDPSession = page.context.new_cdp_session(page)
        self.session.on("ServiceWorker.workerRegistrationUpdated", self._updated)
        self.session.send("ServiceWorker.enable")

    def _updated(self, event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["isDeleted"]:
                self.registrations.pop(registration["scopeURL"], None)
            else:
                self.registrations[registration["scopeURL"]] = registration["registrationId"]

    def push(self, data: str) -> None:
        scope = f"{self.base_url}/shop/"
        registration_id = wait_until(lambda: self.registrations.get(scope), f"the service worker of {scope}")
        self.session.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": self.base_url, "registrationId": registration_id, "data": data},
        )


# Headless Chromium here drops some DevTools-delivered pushes to a running worker (measured: a miss in about
# one run in three, on any of the test's pushes, with the worker up and registered); a push service would
# resend, so the test does too. Every push that arrives is shown, and exactly one notification is expected.
PUSH_ATTEMPTS = 4
PUSH_SHOWN_WITHIN_S = 3.0


def shown_after_push(page: Page, channel: PushChannel, data: str) -> list[dict[str, Any]]:
    page.evaluate(CLOSE_ALL)
    for _attempt in range(PUSH_ATTEMPTS - 1):
        channel.push(data)
        try:
            return list(wait_until(lambda: page.evaluate(SHOWN), "the notification", timeout_s=PUSH_SHOWN_WITHIN_S))
        except AssertionError:
            continue
    channel.push(data)
    return list(wait_until(lambda: page.evaluate(SHOWN), "the notification to show"))


def tap(page: Page) -> dict[str, Any]:
    worker = next(w for w in page.context.service_workers if w.url.endswith("/shop/sw.js"))
    return dict(worker.evaluate(TAP))


def app_with_worker(page: Page, floor: Floor) -> None:
    open_phone_app(page, floor)
    page.wait_for_function(
        "navigator.serviceWorker.controller !== null && navigator.serviceWorker.controller.state === 'activated'"
    )
    expect(page.locator("html")).to_have_attribute("data-sw", "ready")


def test_a_push_from_the_server_is_shown_and_a_tap_opens_its_page(
    phone: Page, base_url: str, floor: Floor, artifacts_dir: Path
) -> None:
    from apps.accounts.models import User
    from apps.core.models import Notification
    from apps.core.notifications import push_payload
    from apps.shopfloor.issues import acknowledge_issue, report_issue

    page = phone
    channel = PushChannel(page, base_url)
    app_with_worker(page, floor)
    shot(page, artifacts_dir, "1-app-before-push")
    assert page.evaluate("Notification.permission") == "granted"

    issue = while_server_is_quiet(
        lambda: report_issue(user=floor.operator, kind="machine", text="Coolant leak under the laser bed")
    )
    ben = User.objects.get(username="ben")
    while_server_is_quiet(lambda: acknowledge_issue(user=ben, issue_id=issue.pk))
    acknowledged = Notification.objects.get(user=floor.operator, kind="shopfloor.issue_acknowledged")
    assert acknowledged.url.startswith("/")

    shown = shown_after_push(page, channel, push_payload(acknowledged))
    assert shown == [
        {
            "title": "Your issue was acknowledged by Ben Ortiz",
            "body": "Coolant leak under the laser bed",
            "icon": f"{base_url}/static/shopfloor/icons/icon-192.png",
            "data": {"url": f"{base_url}{acknowledged.url}"},
        }
    ]
    assert tap(page) == {"opened": [f"{base_url}{acknowledged.url}"], "stillShown": 0}

    for foreign in ("https://phish.example.com/login", "javascript:alert(1)", "//phish.example.com/"):
        payload = json.dumps({"title": "Your issue was closed", "body": "See here", "url": foreign})
        [elsewhere] = shown_after_push(page, channel, payload)
        assert (elsewhere["title"], elsewhere["data"]) == (
            "Your issue was closed",
            {"url": f"{base_url}/notifications/"},
        )
        assert tap(page)["opened"] == [f"{base_url}/notifications/"]

    [plain] = shown_after_push(page, channel, "Coolant low on LASER-1")
    assert (plain["title"], plain["body"], plain["data"]) == (
        DEFAULT_TITLE,
        "Coolant low on LASER-1",
        {"url": f"{base_url}/notifications/"},
    )
    assert page.e2e_problems == []  # type: ignore[attr-defined]


# --- push: subscribing -----------------------------------------------------------------------------

# What a browser's PushManager gives, with the test's endpoint and keys (see the module docstring).
PUSH_MANAGER_STUB = """
(({ endpoint, p256dh, auth, existing }) => {
  const decode = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const encode = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const log = (window.pushStub = { subscribed: [], unsubscribed: [] });
  let current = null;
  function subscription(url, applicationServerKey, keys) {
    return {
      endpoint: url,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey },
      getKey: (name) => decode(keys[name]).buffer,
      toJSON: () => ({ endpoint: url, expirationTime: null, keys: { p256dh: keys.p256dh, auth: keys.auth } }),
      unsubscribe: async () => {
        log.unsubscribed.push(url);
        if (current && current.endpoint === url) current = null;
        return true;
      },
    };
  }
  if (existing) current = subscription(existing.endpoint, decode(existing.serverKey).buffer, existing);
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey).slice().buffer;
    log.subscribed.push({ userVisibleOnly: options.userVisibleOnly, applicationServerKey: encode(key) });
    current = subscription(endpoint, key, { p256dh, auth });
    return current;
  };
  PushManager.prototype.getSubscription = async function () {
    return current;
  };
})
"""


def stub_push_manager(context: BrowserContext, endpoint: str, keys: BrowserKeys, existing: Any = None) -> None:
    arguments = {"endpoint": endpoint, "p256dh": keys.p256dh, "auth": keys.auth, "existing": existing}
    context.add_init_script(f"{PUSH_MANAGER_STUB}({json.dumps(arguments)});")


def stored_subscriptions() -> list[tuple[Any, ...]]:
    from apps.core.models import PushSubscription

    return list(PushSubscription.objects.order_by("pk").values_list("user__username", "endpoint", "p256dh", "auth"))


def test_turning_notifications_on_stores_this_phones_subscription_and_off_removes_it(
    phone: Page, floor: Floor, artifacts_dir: Path
) -> None:
    from apps.core.models import PushSubscription
    from apps.core.notifications import vapid_keys

    page = phone
    endpoint = "https://push.example.net/wpush/v2/olga-phone"
    keys = BrowserKeys.new()
    stub_push_manager(page.context, endpoint, keys)
    app_with_worker(page, floor)

    button = page.locator("#push")
    expect(button).to_be_visible()
    expect(button).to_have_text("Turn on notifications")
    shot(page, artifacts_dir, "2-notifications-off")
    button.click()
    expect(button).to_have_text("Notifications are on")
    expect(button).to_be_disabled()
    shot(page, artifacts_dir, "3-notifications-on")

    assert page.evaluate("window.pushStub.subscribed") == [
        {"userVisibleOnly": True, "applicationServerKey": vapid_keys().public_key}
    ]
    assert stored_subscriptions() == [("olga", endpoint, keys.p256dh, keys.auth)]
    assert "Chrome" in PushSubscription.objects.get().user_agent

    page.evaluate("import('/static/shopfloor/push.js').then((push) => push.disablePush())")
    assert stored_subscriptions() == []
    assert page.evaluate("window.pushStub.unsubscribed") == [endpoint]
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_a_subscription_made_with_an_old_server_key_is_replaced(phone: Page, floor: Floor) -> None:
    from apps.core.notifications import subscribe_push, vapid_keys

    page = phone
    old_keys, new_keys = BrowserKeys.new(), BrowserKeys.new()
    old_endpoint, new_endpoint = "https://push.example.net/wpush/v2/old", "https://push.example.net/wpush/v2/new"
    # Subscribed before the server's key was rotated: the push service would refuse the server's pushes.
    retired_server_key = BrowserKeys.new().p256dh
    existing = {
        "endpoint": old_endpoint,
        "serverKey": retired_server_key,
        "p256dh": old_keys.p256dh,
        "auth": old_keys.auth,
    }
    subscribe_push(floor.operator, old_endpoint, old_keys.p256dh, old_keys.auth)
    stub_push_manager(page.context, new_endpoint, new_keys, existing)
    app_with_worker(page, floor)

    page.locator("#push").click()
    expect(page.locator("#push")).to_have_text("Notifications are on")

    assert page.evaluate("window.pushStub.unsubscribed") == [old_endpoint]
    assert page.evaluate("window.pushStub.subscribed") == [
        {"userVisibleOnly": True, "applicationServerKey": vapid_keys().public_key}
    ]
    assert stored_subscriptions() == [("olga", new_endpoint, new_keys.p256dh, new_keys.auth)]
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_without_a_push_service_the_operator_is_told_and_nothing_is_stored(
    phone: Page, floor: Floor, artifacts_dir: Path
) -> None:
    """The real PushManager of this Chromium, which cannot subscribe (see the module docstring)."""
    page = phone
    app_with_worker(page, floor)
    page.locator("#push").click()
    expect(page.locator("#notices .notice.conflict")).to_contain_text(
        "This browser could not subscribe to push messages ("
    )
    expect(page.locator("#push")).to_be_enabled()
    shot(page, artifacts_dir, "3-no-push-service")
    assert stored_subscriptions() == []
    assert page.e2e_problems == []  # type: ignore[attr-defined]


# --- camera scan -----------------------------------------------------------------------------------

FRAME = (640, 480)
FRAMES_PER_SECOND = 10


def traveler_qr_png(operation: Any, base_url: str) -> tuple[str, bytes]:
    """The QR code the printed traveler carries for `operation`, as the traveler's HTML embeds it."""
    from apps.shopfloor.travelers import operation_scan_url, traveler_html

    url = operation_scan_url(base_url, operation.pk)
    html = traveler_html(operation.job, base_url=base_url)
    match = re.search(r'<img class="qr" src="data:image/png;base64,([^"]+)" alt="' + re.escape(url) + '"', html)
    assert match, f"no QR code for {url} in the traveler"
    return url, base64.b64decode(match.group(1))


def camera_frames(qr_png: bytes) -> list[Image.Image]:
    """What a phone held over the traveler sees: the code slides in from the side, then stays still."""
    import io

    code = Image.open(io.BytesIO(qr_png)).convert("L")
    side = 300
    code = code.resize((side, side), Image.Resampling.NEAREST)
    width, height = FRAME
    frames = []
    rest_x, rest_y = (width - side) // 2, (height - side) // 2
    for step in range(30):
        # Paper-grey around the code, as the traveler sheet would be.
        frame = Image.new("L", FRAME, 225)
        x = rest_x + max(0, 20 - step) * 20
        frame.paste(code, (x, rest_y))
        frames.append(frame)
    return frames


def write_y4m(frames: list[Image.Image], path: Path) -> None:
    """YUV4MPEG2, 4:2:0 (C420jpeg): a grey picture is its luma plane with neutral chroma."""
    width, height = FRAME
    neutral = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{FRAMES_PER_SECOND}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(frame.tobytes())
            out.write(neutral)
            out.write(neutral)


# Keeps the streams the page opens, to check that the camera was let go (its tracks ended).
KEEP_CAMERA_STREAMS = """
(() => {
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.cameraStreams = [];
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await open(constraints);
    window.cameraStreams.push(stream);
    return stream;
  };
})();
"""
CAMERA_STATES = "window.cameraStreams.map((stream) => stream.getTracks().map((track) => track.readyState))"

# How this Chromium is launched, and what BarcodeDetector is then: absent, or present without QR codes.
DETECTORS: dict[str, tuple[list[str], list[str] | None]] = {
    "no-barcode-detector": ([], None),
    "barcode-detector-without-qr": (["--enable-blink-features=BarcodeDetector"], []),
}


@pytest.fixture(params=sorted(DETECTORS))
def camera_phone(
    request: pytest.FixtureRequest, browser: Browser, base_url: str, floor: Floor, tmp_path: Path
) -> Iterator[tuple[Page, str, Any]]:
    """A phone whose camera films the traveler's QR code of J-1042/10 (a Chromium of its own: the fake
    camera is chosen at launch)."""
    flags, formats = DETECTORS[request.param]
    url, png = traveler_qr_png(floor.first, base_url)
    video = tmp_path / "traveler.y4m"
    write_y4m(camera_frames(png), video)
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
            *flags,
        ],
        timeout=30_000,
    )
    context = phone_context(camera_browser, base_url)
    context.grant_permissions(["camera"], origin=base_url)
    context.add_init_script(KEEP_CAMERA_STREAMS)
    yield watched_page(context), url, formats
    context.close()
    camera_browser.close()


def test_scanning_a_traveler_with_the_camera_opens_the_operation_ready_to_start(
    camera_phone: tuple[Page, str, Any], floor: Floor, artifacts_dir: Path, request: pytest.FixtureRequest
) -> None:
    page, traveler_url, formats = camera_phone
    open_phone_app(page, floor)
    if formats is None:
        assert page.evaluate("'BarcodeDetector' in window") is False
    else:
        assert page.evaluate("BarcodeDetector.getSupportedFormats()") == formats
    assert page.evaluate("typeof window.jsQR") == "undefined"

    page.locator("#tabs [data-tab=scan]").click()
    expect(page.locator("main h1")).to_have_text("Scan a traveler")
    page.locator("#scan-camera").click()
    camera = page.locator("video.camera")
    expect(camera).to_be_visible()
    page.wait_for_function("document.querySelector('video.camera')?.videoWidth > 0")
    shot(page, artifacts_dir, f"4-camera-{request.node.callspec.id}")
    assert page.evaluate(CAMERA_STATES) == [["live"]]

    page.wait_for_url(traveler_url)
    operation = page.locator(f"article.operation[data-operation='{floor.first.pk}']")
    expect(operation.locator("h1")).to_have_text("J-1042/10 CUT")
    expect(operation).to_have_attribute("data-status", "pending")
    expect(page.locator("[data-action=start]")).to_be_enabled()
    expect(page.locator("video.camera")).to_have_count(0)
    assert page.evaluate(CAMERA_STATES) == [["ended"]]
    shot(page, artifacts_dir, f"5-scanned-{request.node.callspec.id}")
    # The vendored decoder read it: loaded only when no native detector can.
    assert page.evaluate("typeof window.jsQR") == "function"
    assert page.e2e_problems == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("camera_phone", ["no-barcode-detector"], indirect=True)
def test_when_the_decoder_cannot_load_the_camera_is_released_and_the_operator_told(
    camera_phone: tuple[Page, str, Any], floor: Floor, artifacts_dir: Path
) -> None:
    page, _traveler_url, _formats = camera_phone
    # On the context, so that the service worker (which would serve its cached copy) cannot fetch it either.
    page.context.route("**/vendor/jsqr/jsQR.js", lambda route: route.abort())
    open_phone_app(page, floor)
    page.locator("#tabs [data-tab=scan]").click()
    page.locator("#scan-camera").click()

    expect(page.locator("#notices .notice.conflict")).to_have_text(
        re.compile("The code reader could not be loaded: type the traveler code or use a hand scanner.")
    )
    expect(page.locator("video.camera")).to_be_hidden()
    assert page.evaluate(CAMERA_STATES) == [["ended"]]
    shot(page, artifacts_dir, "6-no-decoder")
