"""Fixtures for the browser tests: a live server, headless Chromium through Playwright, and users.

Self-sufficient on purpose: nothing here depends on the personas of tests/conftest.py.
Run with `CNC_TESTING=1 .venv/bin/python -m pytest tests/e2e -q` (or `-m e2e`).
Screenshots go to test-artifacts/e2e/ (git-ignored), including one per failed test.
"""

from __future__ import annotations

import base64
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.core.signals import request_finished, request_started
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
E2E_PASSWORD = "e2e correct horse battery staple"

# Every wait in the browser is bounded: no test can hang on a page that never comes.
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 15_000
# How long the database flush after a test waits for the servers to finish the test's requests.
DRAIN_TIMEOUT = 10.0
# And how long they must have been quiet first: a request the browser sent just before its context
# closed may be accepted by a server thread that has not started to serve it yet.
SETTLE = 0.3


class InFlight:
    """The requests and WebSockets the test servers are still serving. A closed browser context does not
    stop a view already running on the server: the database flush after the test must wait for it, or
    SQLite reports a locked table (the view's open statement) and the flush fails. HTTP requests, on the
    live server and on daphne, are counted by Django's request_started/request_finished; WebSockets by
    `wrap`, around daphne's application."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = time.monotonic()
        self.idle = threading.Condition()

    def enter(self, **kwargs: Any) -> None:
        with self.idle:
            self.count += 1
            self.changed = time.monotonic()

    def leave(self, **kwargs: Any) -> None:
        with self.idle:
            self.count -= 1
            self.changed = time.monotonic()
            self.idle.notify_all()

    def wrap(self, app: Any) -> Callable[..., Any]:
        async def counted(scope: dict[str, Any], receive: Any, send: Any) -> Any:
            if scope["type"] != "websocket":
                return await app(scope, receive, send)
            self.enter()
            try:
                return await app(scope, receive, send)
            finally:
                self.leave()

        return counted

    def wait_idle(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Until nothing is served and nothing has started or ended for SETTLE seconds (counted from now
        at the earliest), or `timeout`."""
        began = time.monotonic()
        deadline = began + timeout
        with self.idle:
            while self.count > 0 or time.monotonic() - max(self.changed, began) < SETTLE:
                left = deadline - time.monotonic()
                if left <= 0:
                    print(f"the test servers still serve {self.count} request(s) after {timeout:.0f} s")
                    return
                self.idle.wait(min(left, SETTLE))


IN_FLIGHT = InFlight()


@pytest.fixture(scope="session", autouse=True)
def requests_counted() -> Iterator[None]:
    request_started.connect(IN_FLIGHT.enter, dispatch_uid="e2e-in-flight")
    request_finished.connect(IN_FLIGHT.leave, dispatch_uid="e2e-in-flight")
    yield
    request_started.disconnect(dispatch_uid="e2e-in-flight")
    request_finished.disconnect(dispatch_uid="e2e-in-flight")


@pytest.fixture(autouse=True)
def requests_done_before_the_flush(requests_counted: None, transactional_db: None) -> Iterator[None]:
    """Set up after the database and before any page, so torn down after every page has closed and
    before the flush: waits for the servers to finish what those pages asked."""
    yield
    IN_FLIGHT.wait_idle()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an asyncio event loop running in the test thread for as long
    as it is started, and Django refuses ORM calls from a thread with a running loop unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set. That is safe here (the loop is Playwright's; our ORM calls
    are ordinary blocking ones), but only here: the variable is set for the e2e modules alone and
    removed afterwards, because it leaks into subprocesses and makes `check --deploy` fail
    (async.E001) in tests that run later in the same session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright: None) -> Iterator[Browser]:
    """Headless Chromium, one per test module. Playwright is stopped with it, so no event loop
    is left running in the main thread for the tests that come after."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (set E2E_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        yield browser
        browser.close()


@pytest.fixture
def base_url(live_server: Any) -> str:
    return str(live_server.url).rstrip("/")


@pytest.fixture
def page(browser: Browser, base_url: str, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test; failed static/script loads are collected
    in `page.e2e_problems` and a screenshot is saved when the test fails."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    page.e2e_problems = problems  # type: ignore[attr-defined]
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(artifacts_dir / f"FAILED-{name}.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the real failure
            print(f"could not save failure screenshot: {exc}")
    context.close()


@pytest.fixture
def e2e_role_groups(allow_orm_beside_playwright: None, transactional_db: None) -> None:
    from apps.accounts.services import create_role_groups

    create_role_groups()


@pytest.fixture
def e2e_user(e2e_role_groups: None) -> Callable[..., Any]:
    """`e2e_user("sam", "supervisor")`: a user with password E2E_PASSWORD and these roles."""
    from apps.accounts.models import User
    from apps.accounts.services import assign_roles

    def make(username: str, *roles: str, **fields: Any) -> User:
        user = User.objects.create_user(
            username=username, password=E2E_PASSWORD, email=f"{username}@example.com", **fields
        )
        if roles:
            assign_roles(actor=None, user=user, roles=roles)
        return user

    return make


SERVER_START_TIMEOUT = 15.0


@pytest.fixture(scope="module")
def asgi_url(allow_orm_beside_playwright: None) -> Iterator[str]:
    """daphne serving cnc_copilot.asgi (HTTP and WebSockets) on a free port, in a daemon thread, for
    one module. Twisted's reactor cannot run twice in a process: when an earlier module ran and
    stopped it, daphne is imported afresh and installs a new one."""
    module = sys.modules.get("twisted.internet.reactor")
    if module is not None and getattr(module, "_startedBefore", False):
        del sys.modules["twisted.internet.reactor"]
        sys.modules.pop("daphne.server", None)
    from daphne.server import Server
    from twisted.internet import reactor

    from cnc_copilot.asgi import application

    server = Server(
        IN_FLIGHT.wrap(application), endpoints=["tcp:port=0:interface=127.0.0.1"], signal_handlers=False, verbosity=0
    )
    thread = threading.Thread(target=server.run, name="daphne-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not server.listening_addresses:
        if time.monotonic() > deadline:
            pytest.fail("daphne did not start listening")
        time.sleep(0.05)
    host, port = server.listening_addresses[0]
    yield f"http://{host}:{port}"
    reactor.callFromThread(reactor.stop)  # type: ignore[misc]
    thread.join(timeout=10)


@pytest.fixture
def redis_layer(settings: Any) -> None:
    """Channels over Redis, so the test thread's group sends reach daphne's consumers."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [getattr(settings, "REDIS_URL", "") or "redis://127.0.0.1:6379/0"],
                "prefix": f"e2e-{uuid.uuid4().hex[:8]}",
            },
        }
    }


def authenticator_for(user: Any) -> pyotp.TOTP:
    """A confirmed TOTP device for `user`, and the codes its phone app would show."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode())


def sign_in_with_code(page: Page, username: str, totp: pyotp.TOTP) -> None:
    """Password, then the authenticator's current code, through the pages."""
    page.goto("/accounts/login/")
    form = page.locator("main form").first
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(E2E_PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))
    remaining = 30 - time.time() % 30
    if remaining < 3:  # a code about to expire could reach the server in the next step
        time.sleep(remaining + 0.25)
    page.locator("input[name=token]").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("header")).to_contain_text("Sign out")


PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture(autouse=True)
def sessions_not_resaved(settings: Any) -> None:
    """The live server shares an in-memory SQLite database whose shared-cache locks fail at once
    instead of waiting. Re-saving the session on every request (the idle timeout, tested without a
    browser in tests/accounts) would turn such a clash into a 400 of an interrupted session, or a
    service worker that never registers; no browser test needs the re-save."""
    settings.SESSION_SAVE_EVERY_REQUEST = False


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """A 360×740 touch phone; its page errors are collected in `page.e2e_problems`."""
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.e2e_problems = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def off_the_test_thread(work: Callable[[], Any], *, what: str, timeout: float = 20) -> None:
    """Run `work` as a worker or a request would: on a thread without an event loop. Writes that push
    to Channels after their commit cannot run in the test thread, where Playwright's loop runs. The
    thread's exception is raised here; a thread still running after `timeout` seconds fails the test."""
    from django.db import connection

    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread and raised there
            failures.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=run, name="e2e-worker")
    worker.start()
    worker.join(timeout=timeout)
    assert not worker.is_alive(), f"{what} did not finish in {timeout:g} s"
    if failures:
        raise failures[0]
