"""Fixtures for the browser tests: a live server, headless Chromium through Playwright, and users.

Self-sufficient on purpose: nothing here depends on the personas of tests/conftest.py.
Run with `CNC_TESTING=1 .venv/bin/python -m pytest tests/e2e -q` (or `-m e2e`).
Screenshots go to test-artifacts/e2e/ (git-ignored), including one per failed test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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
