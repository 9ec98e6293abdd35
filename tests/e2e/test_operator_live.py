"""The operator app, live: a paused operation looks paused (words, sign and colour) and says since
when and why; a machine that stops brings its "why?" prompt within seconds over the machine's live
socket, not with the 20-second refresh; and an older copy of an operation that arrives late (the
stored answer of a replayed action) never replaces the newer one on the screen.

The live tests run the project's ASGI application in daphne with the Redis channel layer (see
test_live_dashboard.py): Django's live_server speaks no WebSocket. They make the app's refresh an
hour long, so only the push can bring the prompt in time. Screenshots (a 360 px phone) go to
test-artifacts/e2e/live-*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, Route, WebSocketRoute, expect

from . import test_operator_floor
from .test_operator_floor import (
    PHONE,
    FloorShop,
    assert_no_problems,
    clock_in,
    device_fixture,
    machine_goes_down,
    queue_entry,
    settle,
    start_and_finish_setup,
    wait_until,
)
from .test_operator_pwa import all_sent, while_server_is_quiet

pytestmark = pytest.mark.e2e

# The fixtures this module shares with its neighbours (pytest finds them as attributes of the module).
shop_floor = test_operator_floor.shop_floor
phone = test_operator_floor.phone
phone_without_worker = test_operator_floor.phone_without_worker

# The promise: a stop's prompt is on the screen this soon after the machine says so.
PUSH_WITHIN_MS = 5_000
HOUR_MS = 3_600_000
MACHINE_SOCKET = re.compile(r"/ws/machines/work-centers/(\d+)/$")


def screenshot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"live-{name}.png"), full_page=True)


def plant_time(moment: datetime) -> str:
    """A moment as the app writes it for today (en-US, the plant's clock): 03:07 PM."""
    return moment.astimezone(ZoneInfo(settings.PLANT_TIME_ZONE)).strftime("%I:%M %p")


# --- paused is told apart ---------------------------------------------------------------------------


def test_a_paused_operation_is_told_apart_from_a_running_one(
    phone_without_worker: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the service worker, whose offline answers are 503s: the page's own reads fail offline."""
    from apps.shopfloor.services import start_operation

    page, paused, running = phone_without_worker, shop_floor.cuts[0], shop_floor.cuts[1]
    clock_in(page, shop_floor.laser)
    queue_entry(page, shop_floor.laser, paused).click()
    card = start_and_finish_setup(page, paused)

    # Paused offline: the screen already says since when and why, from what the phone queued.
    page.context.set_offline(True)
    page.locator("[data-action=pause]").click()
    sheet = page.locator("dialog.sheet")
    sheet.locator("summary", has_text=re.compile(r"^Waiting$")).click()
    sheet.get_by_role("button", name="Waiting for material", exact=True).click()
    expect(card.locator("#op-status")).to_have_text("Paused")
    expect(card.locator("#op-status")).to_have_class("tag paused")
    expect(card.locator("#op-paused")).to_have_text(re.compile(r"^Since \d\d:\d\d [AP]M · Waiting for material$"))
    expect(card.locator(".tag.wait")).to_have_text("waiting to send")

    page.context.set_offline(False)
    all_sent(page)
    paused.refresh_from_db()
    assert paused.paused_since is not None
    why = f"Since {plant_time(paused.paused_since)} · Waiting for material"
    expect(card.locator(".tag.wait")).to_have_count(0)
    expect(card.locator("#op-paused")).to_have_text(why)
    screenshot(page, artifacts_dir, "1-operation-paused")

    while_server_is_quiet(
        lambda: start_operation(
            operator=shop_floor.operator, operation_id=running.pk, work_center_id=shop_floor.laser.pk
        )
    )
    page.locator("#tabs [data-tab=home]").click()
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-ready", "yes")
    paused_entry, running_entry = (
        queue_entry(page, shop_floor.laser, paused),
        queue_entry(page, shop_floor.laser, running),
    )
    expect(paused_entry.locator(".tag.paused")).to_have_text("Paused")
    expect(paused_entry.locator(".paused-why")).to_have_text(why)
    expect(paused_entry.locator(".tag.run")).to_have_count(0)
    expect(running_entry.locator(".tag.run")).to_have_text("Running")
    expect(running_entry.locator(".tag.paused, .paused-why")).to_have_count(0)
    # Not by the words alone: the tags look different, and the paused one carries a pause sign.
    look = """(node) => {
      const style = getComputedStyle(node);
      const sign = getComputedStyle(node, "::before");
      return [style.backgroundColor, style.color, sign.borderLeftStyle];
    }"""
    paused_look = paused_entry.locator(".tag.paused").evaluate(look)
    running_look = running_entry.locator(".tag.run").evaluate(look)
    assert paused_look[0] != running_look[0] and paused_look[1] != running_look[1]
    assert (paused_look[2], running_look[2]) == ("solid", "none")
    paused_entry.scroll_into_view_if_needed()
    screenshot(page, artifacts_dir, "2-queue-paused-and-running")
    assert_no_problems(page, caplog)


# --- the downtime prompt is pushed --------------------------------------------------------------------


@dataclass
class Socket:
    """One of the page's live sockets, passed through to the server by Playwright."""

    machine: int
    page_side: WebSocketRoute
    server_side: WebSocketRoute
    closed: bool = False


@dataclass
class Sockets:
    opened: list[Socket] = field(default_factory=list)

    def to(self, machine: Any) -> list[Socket]:
        return [socket for socket in self.opened if socket.machine == machine.pk]

    def open_to(self, machine: Any) -> list[Socket]:
        return [socket for socket in self.to(machine) if not socket.closed]


def watch_sockets(page: Page) -> Sockets:
    sockets = Sockets()

    def route(page_side: WebSocketRoute) -> None:
        match = MACHINE_SOCKET.search(page_side.url)
        assert match, page_side.url
        socket = Socket(int(match.group(1)), page_side, page_side.connect_to_server())

        def page_closed(code: int | None, reason: str | None) -> None:
            socket.closed = True
            socket.server_side.close(code=code, reason=reason)

        page_side.on_close(page_closed)
        sockets.opened.append(socket)

    page.route_web_socket(MACHINE_SOCKET, route)
    return sockets


@pytest.fixture
def live_phone(
    browser: Browser,
    asgi_url: str,
    redis_layer: None,
    request: pytest.FixtureRequest,
    artifacts_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Page]:
    yield from device_fixture(browser, asgi_url, request, artifacts_dir, caplog, PHONE)


def stop_is_prompted(page: Page, machine: Any, running_minutes: int) -> Any:
    """The machine stops; its prompt must be on the screen within PUSH_WITHIN_MS, while no refresh is due."""
    from apps.machines.models import MachineStateInterval

    down_at = datetime.now(ZoneInfo("UTC")).replace(microsecond=0)
    asked_before = len(page.e2e_prompt_reads)  # type: ignore[attr-defined]
    started = time.monotonic()
    machine_goes_down(machine, running_since=down_at - timedelta(minutes=running_minutes), down_at=down_at)
    stop = MachineStateInterval.objects.get(work_center=machine, ended_at__isnull=True)
    prompt = page.locator(f'#prompts .prompt[data-prompt="{stop.pk}"]')
    expect(prompt.locator("h2")).to_have_text(
        f"{machine.code} {machine.name} stopped at {plant_time(down_at)} — why?", timeout=PUSH_WITHIN_MS
    )
    assert time.monotonic() - started < PUSH_WITHIN_MS / 1000
    # The prompt came with a read the push set off, after the stop.
    assert len(page.e2e_prompt_reads) > asked_before  # type: ignore[attr-defined]
    return prompt


def test_a_stop_prompts_the_operator_at_once_over_the_live_socket(
    live_phone: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = live_phone
    prompt_reads: list[str] = []
    page.on("request", lambda r: prompt_reads.append(r.url) if r.url.endswith("/downtime-prompts/") else None)
    page.e2e_prompt_reads = prompt_reads  # type: ignore[attr-defined]
    sockets = watch_sockets(page)
    clock_in(page, shop_floor.laser)
    page.evaluate(f"() => window.shopfloor.refreshEvery({HOUR_MS})")
    wait_until(page, lambda: len(sockets.open_to(shop_floor.laser)) == 1, "the laser's live socket", PUSH_WITHIN_MS)
    expect(page.locator("#prompts .prompt")).to_have_count(0)

    prompt = stop_is_prompted(page, shop_floor.laser, running_minutes=7)
    expect(page.locator("#prompts .prompt")).to_have_count(1)
    screenshot(page, artifacts_dir, "3-pushed-prompt")

    prompt.locator("summary", has_text=re.compile(r"^Waiting$")).click()
    prompt.get_by_role("button", name="Waiting for material", exact=True).click()
    expect(page.locator("#prompts .prompt")).to_have_count(0)
    all_sent(page)
    assert sockets.to(shop_floor.brake) == []
    assert_no_problems(page, caplog)


def test_the_app_follows_the_machines_it_is_clocked_in_to(
    live_phone: Page, shop_floor: FloorShop, caplog: pytest.LogCaptureFixture
) -> None:
    """A dropped socket comes back; changing machines moves the sockets; offline there are none."""
    page = live_phone
    prompt_reads: list[str] = []
    page.on("request", lambda r: prompt_reads.append(r.url) if r.url.endswith("/downtime-prompts/") else None)
    page.e2e_prompt_reads = prompt_reads  # type: ignore[attr-defined]
    sockets = watch_sockets(page)
    laser, brake = shop_floor.laser, shop_floor.brake
    clock_in(page, laser)
    page.evaluate(f"() => window.shopfloor.refreshEvery({HOUR_MS})")
    wait_until(page, lambda: len(sockets.open_to(laser)) == 1, "the laser's live socket", PUSH_WITHIN_MS)

    # The server goes away (a restart): the app connects again on its own, within its first back-off.
    dropped = sockets.open_to(laser)[0]
    dropped.closed = True
    dropped.server_side.close(code=1012, reason="restart")
    dropped.page_side.close(code=1012, reason="restart")
    wait_until(page, lambda: len(sockets.to(laser)) == 2, "the laser's socket again", PUSH_WITHIN_MS)

    page.get_by_role("button", name="Change machines").click()
    page.locator("label.check", has_text=laser.code).locator("input").uncheck()
    page.locator("label.check", has_text=brake.code).locator("input").check()
    with page.expect_response(lambda r: r.url.endswith("/shopfloor/machines/") and r.request.method == "POST"):
        page.get_by_role("button", name="Save machines").click()
    all_sent(page)
    expect(page.locator("#clock-state")).to_contain_text(brake.code)
    wait_until(page, lambda: len(sockets.open_to(brake)) == 1, "the brake's live socket", PUSH_WITHIN_MS)
    wait_until(page, lambda: sockets.open_to(laser) == [], "the laser's socket closed", PUSH_WITHIN_MS)

    page.context.set_offline(True)
    wait_until(page, lambda: sockets.open_to(brake) == [], "no socket offline", PUSH_WITHIN_MS)
    page.wait_for_timeout(1_500)
    assert [socket.closed for socket in sockets.to(brake)] == [True]

    page.context.set_offline(False)
    wait_until(page, lambda: len(sockets.open_to(brake)) == 1, "the brake's socket back online", PUSH_WITHIN_MS)
    stop_is_prompted(page, brake, running_minutes=4)
    assert len(sockets.to(laser)) == 2
    assert_no_problems(page, caplog)


# --- an older copy never wins ---------------------------------------------------------------------------


def stored_copy(page: Page, operation: Any) -> Any:
    return page.evaluate(
        f"""() => new Promise((done, fail) => {{
          const open = indexedDB.open("cnc-shopfloor");
          open.onsuccess = () => {{
            const get = open.result.transaction("operations").objectStore("operations").get({operation.pk});
            get.onsuccess = () => done(get.result);
            get.onerror = () => fail(get.error);
          }};
        }})"""
    )


def test_a_replayed_answer_does_not_bring_back_an_older_copy(
    phone_without_worker: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Shop Wi-Fi: the phone reports 2 parts and the server does it, but the answer is lost. Before
    the phone sends the report again (same key), a colleague's tablet reports 3 more. The phone reads
    the newer copy, then replays the report and gets the stored answer, 2 good, older than what it has;
    after that the network fails again. The screen and the copy kept for offline say 5 good."""
    from apps.shopfloor.services import report_quantity

    page, op = phone_without_worker, shop_floor.cuts[0]
    clock_in(page, shop_floor.laser)
    queue_entry(page, shop_floor.laser, op).click()
    card = start_and_finish_setup(page, op)
    report_url = f"/api/v1/shopfloor/operations/{op.pk}/report/"
    seen = {"lost": 0, "replayed": 0}

    def network(route: Route) -> None:
        request = route.request
        if request.method == "POST" and request.url.endswith(report_url):
            if not seen["lost"]:
                seen["lost"] += 1
                assert route.fetch().status == 200
                while_server_is_quiet(lambda: report_quantity(operator=shop_floor.operator, operation_id=op.pk, good=3))
                route.abort("internetdisconnected")
                return
            seen["replayed"] += 1
        elif seen["replayed"] and request.method == "GET":
            route.abort("internetdisconnected")
            return
        route.continue_()

    page.route(re.compile(r"/api/v1/shopfloor/"), network)
    page.locator("[data-action=report]").click()
    sheet = page.locator("dialog.sheet")
    sheet.locator("input[name=good]").fill("2")
    sheet.get_by_role("button", name="Report", exact=True).click()
    # The phone's guess while the report waits: its copy plus the 2 it sent.
    expect(card.locator(".tag.wait")).to_have_text("waiting to send")
    wait_until(page, lambda: stored_copy(page, op)["quantity_good"] == 5, "the newer copy read")
    all_sent(page, timeout=15_000)
    assert seen == {"lost": 1, "replayed": 1}
    settle(page)

    op.refresh_from_db()
    assert op.quantity_good == 5
    expect(card.locator("#op-quantity")).to_have_text("5 good · 0 scrap · of 10")
    page.locator("#tabs [data-tab=home]").click()
    expect(queue_entry(page, shop_floor.laser, op).locator(".entry-meta")).to_contain_text("5/10 good")
    kept = stored_copy(page, op)
    assert kept["quantity_good"] == 5
    page.unroute(re.compile(r"/api/v1/shopfloor/"))
    assert_no_problems(page, caplog)


def test_the_outbox_keeps_the_copy_with_the_higher_version(phone: Page, shop_floor: FloorShop) -> None:
    page = phone
    clock_in(page, shop_floor.laser)
    kept = page.evaluate(
        """async () => {
          const outbox = await import("/static/shopfloor/outbox.js");
          const copy = (version, good) => ({ id: 987654, job: {}, version, quantity_good: good });
          const seen = [];
          for (const [version, good] of [[5, 1], [3, 0], [7, 2], [7, 3], [6, 9]]) {
            const kept = await outbox.rememberOperation(copy(version, good));
            const stored = await outbox.storedOperation(987654);
            seen.push([kept.version, kept.quantity_good, stored.version, stored.quantity_good]);
          }
          return seen;
        }"""
    )
    # Older copies lose to the stored one; a newer one or the same version read again replaces it.
    assert kept == [[5, 1, 5, 1], [5, 1, 5, 1], [7, 2, 7, 2], [7, 3, 7, 3], [7, 3, 7, 3]]
