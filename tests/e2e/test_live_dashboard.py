"""The live pages in a real browser: a machine changes state through apply_readings and the plant
grid and the department TV show it without a reload.

Django's live_server speaks WSGI only, so this module runs the project's ASGI application in
daphne on a thread of the test process (127.0.0.1, port 0): it shares the test database with the
test. The in-memory channel layer cannot carry a push from the test thread to the server's event
loop, so these tests use the Redis channel layer (settings.REDIS_URL, else 127.0.0.1:6379) with
a prefix of their own. Screenshots go to /work/screens/ when that folder exists (a developer
machine), else to test-artifacts/e2e/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from .conftest import off_the_test_thread

pytestmark = pytest.mark.e2e

SCREENS = Path("/work/screens")


@pytest.fixture
def shop(e2e_role_groups: None) -> dict[str, Any]:
    from apps.machines.models import Department, Shift, ShiftCalendar, WorkCenter, WorkCenterType

    calendar = ShiftCalendar.objects.create(name="24/7", is_plant_default=True)
    Shift.objects.bulk_create(
        Shift(calendar=calendar, name="all day", weekday=day, start=time(0), end=time(0)) for day in range(7)
    )
    laser = Department.objects.create(code="laser", name="Laser", sequence=1)
    brake = Department.objects.create(code="brake", name="Press brakes", sequence=2)
    fiber = WorkCenterType.objects.create(code="fiber", name="Fiber laser", department=laser)
    bend = WorkCenterType.objects.create(code="bend", name="Press brake", department=brake)
    machines = {
        code: WorkCenter.objects.create(code=code, name=name, department=kind.department, work_center_type=kind)
        for code, name, kind in [
            ("LAS-1", "Fiber laser 1", fiber),
            ("LAS-2", "Fiber laser 2", fiber),
            ("LAS-3", "Fiber laser 3", fiber),
            ("PB-1", "Press brake 1", bend),
            ("PB-2", "Press brake 2", bend),
        ]
    }
    return {"laser": laser, "brake": brake, "machines": machines}


def feed(code: str, *pairs: tuple[str, Any]) -> None:
    """apply_readings as the telemetry worker calls it."""
    from apps.machines.machine_state import Reading
    from apps.machines.services import apply_readings

    now = timezone.now()
    off_the_test_thread(
        lambda: apply_readings([Reading(code, now, metric, value) for metric, value in pairs]),
        what="apply_readings",
        timeout=10,
    )


def open_page(browser: Browser, base: str, width: int, height: int, session: str | None = None) -> Page:
    # Reduced motion turns the tiles' colour transition off, so a screenshot shows the final colour.
    context = browser.new_context(
        base_url=base, viewport={"width": width, "height": height}, locale="en-US", reduced_motion="reduce"
    )
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    if session:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.e2e_problems = problems  # type: ignore[attr-defined]
    return page


def screenshot(page: Page, name: str, artifacts_dir: Path) -> None:
    folder = SCREENS if SCREENS.is_dir() else artifacts_dir
    page.screenshot(path=str(folder / name), full_page=True)


def tile(page: Page, code: str) -> Any:
    return page.locator(".machine-tile", has=page.locator(".machine-code", has_text=code))


def test_plant_grid_follows_the_machines_live(
    browser: Browser,
    asgi_url: str,
    redis_layer: None,
    shop: dict[str, Any],
    e2e_user: Callable[..., Any],
    artifacts_dir: Path,
) -> None:
    feed("LAS-1", ("availability", "AVAILABLE"), ("execution", "ACTIVE"), ("program", "O1001"), ("part_count", 12))
    feed("LAS-2", ("availability", "AVAILABLE"), ("execution", "READY"))
    feed("PB-1", ("state", "setup"))
    feed("PB-2", ("state", "down"))
    client = Client()
    client.force_login(e2e_user("olga", "operator"))
    page = open_page(browser, asgi_url, 1280, 800, client.cookies[settings.SESSION_COOKIE_NAME].value)

    page.goto("/machines/status/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    expect(tile(page, "LAS-1")).to_have_attribute("data-state", "running")
    expect(tile(page, "LAS-1").locator('[data-field="program"]')).to_have_text("O1001")
    page.evaluate("window.__sameDocument = true")

    feed("LAS-1", ("condition:system", "FAULT:1105"))
    expect(tile(page, "LAS-1")).to_have_attribute("data-state", "alarm")
    expect(tile(page, "LAS-1").locator('[data-field="state"]')).to_have_text("alarm")
    expect(tile(page, "LAS-1").locator(".alarm-chip")).to_have_text("1105")
    feed("LAS-2", ("execution", "ACTIVE"), ("part_count", 3))
    expect(tile(page, "LAS-2")).to_have_attribute("data-state", "running")
    expect(tile(page, "LAS-2").locator('[data-field="part_count"]')).to_have_text("3")
    expect(page.locator('[data-count="running"]')).to_have_text("1")
    expect(page.locator('[data-count="alarm"]')).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "plant-status.png", artifacts_dir)

    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "plant-status-360.png", artifacts_dir)

    page.set_viewport_size({"width": 1280, "height": 800})
    tile(page, "LAS-1").locator(".machine-code").click()
    expect(page.locator("main h1")).to_have_text("LAS-1 Fiber laser 1")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    expect(page.locator("svg.state-timeline rect.seg-state")).to_have_count(2)
    feed("LAS-1", ("condition:system", "NORMAL"), ("spindle_speed", 8000.0))
    expect(page.locator('[data-signal="spindle_speed"]')).to_have_text("8000")
    expect(tile(page, "LAS-1")).to_have_attribute("data-state", "running")
    screenshot(page, "machine-live.png", artifacts_dir)
    assert page.e2e_problems == []  # type: ignore[attr-defined]
    page.context.close()


def test_department_tv_shows_changes_without_a_login(
    browser: Browser, asgi_url: str, redis_layer: None, shop: dict[str, Any], artifacts_dir: Path
) -> None:
    from apps.machines.services import create_display_token

    feed("LAS-1", ("execution", "ACTIVE"), ("program", "NEST-0042"), ("part_count", 118))
    feed("LAS-2", ("alarm", "E-204"))
    feed("LAS-3", ("execution", "READY"))
    _, secret = create_display_token(department=shop["laser"], name="Laser bay TV", user=None)
    page = open_page(browser, asgi_url, 1920, 1080)

    page.goto(f"/machines/display/{secret}/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    expect(page.locator("nav")).to_have_count(0)
    expect(page.locator(".machine-tile")).to_have_count(3)
    feed("LAS-3", ("execution", "ACTIVE"), ("program", "NEST-0043"))
    expect(tile(page, "LAS-3")).to_have_attribute("data-state", "running")
    expect(tile(page, "LAS-3").locator('[data-field="program"]')).to_have_text("NEST-0043")
    screenshot(page, "tv-display.png", artifacts_dir)
    assert page.e2e_problems == []  # type: ignore[attr-defined]
    page.context.close()
