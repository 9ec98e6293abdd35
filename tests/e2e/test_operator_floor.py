"""The operator app on the floor, the paths test_operator_pwa.py does not walk: pausing an operation
for a reason and resuming it; the "why did the machine stop?" banner after the machine goes down;
reporting scrap with a reason and completing short; the whole app on a 1024×768 shop-floor tablet
(no sideways scrolling, every button on screen and not hidden behind the tab bar); and a read of an
operation answered late, after a report, not undoing that report on the screen.

The browser runs in the plant's time zone (a tablet on the floor does), so the banner's "stopped
at" time is the plant's wall clock. The banner comes with the app's 20-second refresh; Playwright's
clock jumps that wait instead of sleeping through it.

The live server shares an in-memory SQLite database whose shared-cache locks fail at once instead of
waiting (a file or PostgreSQL waits): when two of the app's requests meet there, one may get a 500
"database table is locked", which the app rides out (a read keeps its last answer, an action is sent
again); any other server error fails the test. Sessions are not re-saved on every request here
(SESSION_SAVE_EVERY_REQUEST, the idle timeout), so that such a clash cannot also end a request
with the 400 of an interrupted session.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Dialog, Locator, Page, Route, ViewportSize, expect

from .conftest import ACTION_TIMEOUT_MS, E2E_PASSWORD, NAVIGATION_TIMEOUT_MS, PHONE, off_the_test_thread
from .test_operator_pwa import all_sent, sign_in, while_server_is_quiet

pytestmark = pytest.mark.e2e

TABLET: ViewportSize = {"width": 1024, "height": 768}
# The app asks the server for new downtime prompts on this beat (REPLAY_EVERY_MS in static/shopfloor/app.js).
REFRESH_MS = 20_000
# The operator app's own promise for gloved fingers is 48 px; 44 px is the least any tap target may be.
MIN_TAP_PX = 44


@dataclass
class FloorShop:
    operator: Any
    laser: Any
    brake: Any
    cuts: list[Any]  # the CUT (laser, sequence 10) operations of J-2001, J-2002, J-2003
    waiting_for_material: Any
    bad_cut: Any
    scratched: Any


@pytest.fixture
def shop_floor(e2e_user: Callable[..., Any]) -> FloorShop:
    """Three released jobs of a laser → brake → weld part (setup 15 min on the laser), due in that
    order; the downtime and scrap reasons the default data seeds (created when a flush removed them)."""
    from apps.accounts.models import User
    from apps.machines.models import DowntimeReason
    from apps.routings.services import release_job
    from apps.shopfloor.models import ScrapReason
    from tests.routings.builders import build_shop, make_job, straight_part

    manager = User.objects.create_superuser(username="boss", password=E2E_PASSWORD, email="boss@example.com")
    shop = build_shop()
    part = straight_part(shop, "PANEL-220")
    jobs = [
        make_job(shop, part, quantity=quantity, number=number, due=due)
        for number, quantity, due in [
            ("J-2001", 10, date(2030, 6, 10)),
            ("J-2002", 6, date(2030, 6, 20)),
            ("J-2003", 8, date(2030, 6, 28)),
        ]
    ]
    for job in jobs:
        release_job(actor=manager, job_id=job.pk)
    waiting, _ = DowntimeReason.objects.get_or_create(code="waiting", defaults={"name": "Waiting", "sequence": 10})
    material, _ = DowntimeReason.objects.get_or_create(
        code="waiting-material", defaults={"name": "Waiting for material", "parent": waiting}
    )
    bad_cut, _ = ScrapReason.objects.get_or_create(code="CUT", defaults={"name": "Bad cut (dross, burn, dimension)"})
    scratched, _ = ScrapReason.objects.get_or_create(code="SURFACE", defaults={"name": "Scratched or dented surface"})
    return FloorShop(
        operator=e2e_user("olga", "operator", first_name="Olga", last_name="Ruiz"),
        laser=shop.laser_1,
        brake=shop.brake_1,
        cuts=[job.operations.get(sequence=10) for job in jobs],
        waiting_for_material=material,
        bad_cut=bad_cut,
        scratched=scratched,
    )


def open_device(
    browser: Browser, base_url: str, viewport: ViewportSize, *, mobile: bool, service_worker: bool = True
) -> tuple[Page, Callable[[], None]]:
    context = browser.new_context(
        service_workers="allow" if service_worker else "block",
        base_url=base_url,
        viewport=viewport,
        locale="en-US",
        timezone_id=settings.PLANT_TIME_ZONE,
        is_mobile=mobile,
        has_touch=True,
        reduced_motion="reduce",
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    server_errors: list[tuple[str, str]] = []
    page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    # 4xx answers are the app's refusals (a short completion is one, on purpose); 5xx never are.
    page.on(
        "response",
        lambda r: (
            server_errors.append((f"{r.status} {r.request.method}", urlsplit(r.url).path)) if r.status >= 500 else None
        ),
    )
    page.e2e_problems = problems  # type: ignore[attr-defined]
    page.e2e_server_errors = server_errors  # type: ignore[attr-defined]
    return page, context.close


def assert_no_problems(page: Page, caplog: pytest.LogCaptureFixture) -> None:
    """No script error, and no server error but the test database's lock clashes (module docstring)."""
    from django.db import OperationalError

    locked = {
        record.getMessage().rsplit(": ", 1)[-1]
        for record in caplog.records
        if record.name == "django.request"
        and record.exc_info
        and isinstance(record.exc_info[1], OperationalError)
        and "database table is locked" in str(record.exc_info[1])
    }
    unexplained = [f"{what} {path}" for what, path in page.e2e_server_errors if path not in locked]  # type: ignore[attr-defined]
    assert page.e2e_problems + unexplained == []  # type: ignore[attr-defined]


def device_fixture(
    browser: Browser,
    base_url: str,
    request: pytest.FixtureRequest,
    artifacts_dir: Path,
    caplog: pytest.LogCaptureFixture,
    viewport: ViewportSize,
    service_worker: bool = True,
) -> Iterator[Page]:
    caplog.set_level(logging.ERROR, logger="django.request")
    page, close = open_device(
        browser, base_url, viewport, mobile=viewport["width"] < 800, service_worker=service_worker
    )
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(artifacts_dir / f"FAILED-{name}.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the real failure
            print(f"could not save failure screenshot: {exc}")
    close()


@pytest.fixture
def phone(
    browser: Browser,
    base_url: str,
    request: pytest.FixtureRequest,
    artifacts_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Page]:
    yield from device_fixture(browser, base_url, request, artifacts_dir, caplog, PHONE)


@pytest.fixture
def phone_without_worker(
    browser: Browser,
    base_url: str,
    request: pytest.FixtureRequest,
    artifacts_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Page]:
    """A phone whose reads the test can hold and answer (Playwright's routes do not see what a
    service worker fetches)."""
    yield from device_fixture(browser, base_url, request, artifacts_dir, caplog, PHONE, service_worker=False)


@pytest.fixture
def tablet(
    browser: Browser,
    base_url: str,
    request: pytest.FixtureRequest,
    artifacts_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Page]:
    yield from device_fixture(browser, base_url, request, artifacts_dir, caplog, TABLET)


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"floor-{name}.png"), full_page=True)


def clock_in(page: Page, *machines: Any) -> None:
    sign_in(page, "olga")
    page.goto("/shop/")
    expect(page.locator("html")).to_have_attribute("data-ready", "yes")
    for machine in machines:
        page.locator("label.check", has_text=machine.code).locator("input").check()
    page.locator("main").get_by_role("button", name="Clock in").click()
    all_sent(page)
    for machine in machines:
        expect(page.locator(f'.machine-queue[data-work-center="{machine.pk}"]')).to_be_visible()


def wait_until(page: Page, check: Callable[[], bool], what: str, timeout_ms: int = ACTION_TIMEOUT_MS) -> float:
    """Wait (bounded) for `check`, letting the page's events (routes, sockets) through; returns the
    seconds it took."""
    start = time.monotonic()
    while not check():
        assert (time.monotonic() - start) * 1000 < timeout_ms, f"not within {timeout_ms} ms: {what}"
        page.wait_for_timeout(50)
    return time.monotonic() - start


def queue_entry(page: Page, machine: Any, operation: Any) -> Locator:
    return page.locator(f'.machine-queue[data-work-center="{machine.pk}"] a.entry[data-operation="{operation.pk}"]')


def operation_card(page: Page, operation: Any) -> Locator:
    return page.locator(f"article.operation[data-operation='{operation.pk}']")


ACTION_LABELS = {
    "start": "Start",
    "finish_setup": "Setup done",
    "pause": "Pause",
    "resume": "Resume",
    "report": "Report parts",
    "complete": "Complete",
    "leave": "Leave",
}


def expect_actions(page: Page, *actions: str) -> None:
    """The operation's buttons, in order, once the server's answer is drawn (while an action waits
    to be sent the app draws its own guess, which need not list the same buttons)."""
    expect(page.locator(".actions [data-action]")).to_have_text([ACTION_LABELS[a] for a in actions])
    assert page.locator(".actions [data-action]").evaluate_all("(nodes) => nodes.map((n) => n.dataset.action)") == [
        *actions
    ]


def start_and_finish_setup(page: Page, operation: Any) -> Locator:
    card = operation_card(page, operation)
    page.locator("[data-action=start]").click()
    all_sent(page)
    expect(card).to_have_attribute("data-phase", "setup")
    page.locator("[data-action=finish_setup]").click()
    all_sent(page)
    expect(card).to_have_attribute("data-phase", "run")
    return card


def machine_goes_down(machine: Any, running_since: datetime, down_at: datetime) -> None:
    """The machine's controller says `running`, then `down`: the readings go through apply_readings
    as the telemetry worker sends them."""
    from apps.machines.machine_state import Reading
    from apps.machines.services import apply_readings

    off_the_test_thread(
        lambda: while_server_is_quiet(
            lambda: apply_readings(
                [
                    Reading(machine.code, running_since, "state", "running"),
                    Reading(machine.code, down_at, "state", "down"),
                ]
            )
        ),
        what="apply_readings",
        timeout=15,
    )


def next_refresh(page: Page) -> None:
    """Jump the page's clock to the app's next refresh and wait for its downtime-prompt request."""
    with page.expect_response(lambda r: "/downtime-prompts/" in r.url and r.request.method == "GET"):
        page.clock.fast_forward(REFRESH_MS)


def layout_problems(page: Page) -> list[str]:
    """Sideways scrolling, and anything tappable that sticks out of the viewport's width."""
    return list(
        page.evaluate(
            """() => {
              const width = document.documentElement.clientWidth;
              const problems = [];
              if (document.documentElement.scrollWidth > width) {
                problems.push(`page is ${document.documentElement.scrollWidth}px wide in ${width}px`);
              }
              const tappable = "button, a, input, select, textarea, summary, .entry";
              for (const node of document.querySelectorAll(tappable)) {
                const box = node.getBoundingClientRect();
                if (!box.width || !box.height) continue;
                if (box.left < -0.5 || box.right > width + 0.5) {
                  const name = (node.textContent || node.name || node.tagName).trim().slice(0, 40);
                  problems.push(`${node.tagName} "${name}" spans ${Math.round(box.left)}..${Math.round(box.right)}px`);
                }
              }
              return problems;
            }"""
        )
    )


def assert_tappable(target: Locator) -> None:
    """On screen in full without scrolling, big enough for a gloved finger, and what a tap at its
    middle reaches (not the tab bar or anything else over it)."""
    expect(target).to_be_visible()
    seen = None
    for _attempt in range(40):
        # null when the app redrew the view between finding the node and measuring it: measure again.
        seen = target.evaluate(
            """(node) => {
              if (!node.isConnected) return null;
              const box = node.getBoundingClientRect();
              const x = box.left + box.width / 2;
              const y = box.top + box.height / 2;
              const hit = document.elementFromPoint(x, y);
              const screen = document.documentElement;
              return {
                height: box.height,
                onScreen: box.top >= 0 && box.left >= 0 && box.bottom <= screen.clientHeight + 0.5
                  && box.right <= screen.clientWidth + 0.5,
                reached: hit !== null && (hit === node || node.contains(hit)),
              };
            }"""
        )
        if seen is not None:
            break
        target.page.wait_for_timeout(50)
    assert seen is not None, f"{target} kept being redrawn"
    assert seen["height"] >= MIN_TAP_PX, f"{target} is {seen['height']}px high"
    assert seen["onScreen"], f"{target} is not on screen in full"
    assert seen["reached"], f"a tap on {target} lands on something else"


def test_operator_pauses_for_a_reason_and_resumes(
    phone: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from apps.shopfloor.models import LaborEntry, ProductionEvent

    page, op = phone, shop_floor.cuts[0]
    clock_in(page, shop_floor.laser)
    queue_entry(page, shop_floor.laser, op).click()
    card = start_and_finish_setup(page, op)
    expect_actions(page, "pause", "report", "complete", "leave")

    page.locator("[data-action=pause]").click()
    sheet = page.locator("dialog.sheet")
    expect(sheet.locator("h2")).to_have_text("Why pause J-2001/10?")
    sheet.locator("summary", has_text=re.compile(r"^Waiting$")).click()
    shot(page, artifacts_dir, "1-pause-reasons")
    sheet.get_by_role("button", name="Waiting for material", exact=True).click()
    expect(sheet).to_have_count(0)
    all_sent(page)
    expect(card).to_have_attribute("data-paused", "yes")
    expect(card.locator("#op-status")).to_have_text("Paused")
    expect_actions(page, "resume", "report", "complete")
    shot(page, artifacts_dir, "2-paused")

    op.refresh_from_db()
    assert op.paused_since is not None
    pause = ProductionEvent.objects.get(operation=op, kind="pause")
    assert (pause.pause_reason_id, pause.by_id, pause.work_center_id) == (
        shop_floor.waiting_for_material.pk,
        shop_floor.operator.pk,
        shop_floor.laser.pk,
    )
    # Paused work books no labor.
    assert not LaborEntry.objects.filter(operator=shop_floor.operator, ended_at__isnull=True).exists()

    page.locator("#tabs [data-tab=home]").click()
    entry = queue_entry(page, shop_floor.laser, op)
    expect(entry.locator(".tag.paused")).to_have_text("Paused")
    shot(page, artifacts_dir, "3-queue-paused")

    entry.click()
    page.locator("[data-action=resume]").click()
    all_sent(page)
    expect(card).to_have_attribute("data-paused", "no")
    expect(card.locator("#op-status")).to_have_text("Running")
    expect_actions(page, "pause", "report", "complete", "leave")
    shot(page, artifacts_dir, "4-resumed")

    op.refresh_from_db()
    assert (op.status, op.phase, op.paused_since) == ("in_progress", "run", None)
    kinds = list(ProductionEvent.objects.filter(operation=op).order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["start_setup", "start_run", "pause", "resume"]
    open_labor = LaborEntry.objects.filter(operator=shop_floor.operator, ended_at__isnull=True)
    assert list(open_labor.values_list("operation_id", "phase")) == [(op.pk, "run")]
    assert_no_problems(page, caplog)


def test_machine_down_prompts_the_operator_until_a_reason_is_given(
    phone: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from apps.machines.models import MachineStateInterval

    page = phone
    page.clock.install()
    clock_in(page, shop_floor.laser)
    expect(page.locator("#prompts .prompt")).to_have_count(0)

    down_at = datetime.now(ZoneInfo("UTC")).replace(microsecond=0)
    machine_goes_down(shop_floor.laser, running_since=down_at - timedelta(minutes=7), down_at=down_at)
    stop = MachineStateInterval.objects.get(work_center=shop_floor.laser, ended_at__isnull=True)
    assert (stop.state, stop.started_at, stop.reason_id) == ("unplanned_down", down_at, None)

    next_refresh(page)
    prompt = page.locator(f'#prompts .prompt[data-prompt="{stop.pk}"]')
    wall_clock = down_at.astimezone(ZoneInfo(settings.PLANT_TIME_ZONE)).strftime("%I:%M %p")
    expect(prompt.locator("h2")).to_have_text(f"laser-1 Fiber laser 3 kW 1 stopped at {wall_clock} — why?")
    expect(page.locator("#prompts .prompt")).to_have_count(1)
    shot(page, artifacts_dir, "5-downtime-prompt")

    prompt.locator("summary", has_text=re.compile(r"^Waiting$")).click()
    shot(page, artifacts_dir, "6-downtime-reasons")
    prompt.get_by_role("button", name="Waiting for material", exact=True).click()
    expect(page.locator("#prompts .prompt")).to_have_count(0)
    all_sent(page)
    shot(page, artifacts_dir, "7-downtime-answered")

    stop.refresh_from_db()
    assert (stop.reason_id, stop.reason_set_by_id) == (shop_floor.waiting_for_material.pk, shop_floor.operator.pk)
    assert stop.reason_set_at is not None
    # The next refresh asks the server again: the answered stop does not come back.
    next_refresh(page)
    page.wait_for_function("() => document.querySelectorAll('#prompts .prompt').length === 0")
    expect(page.locator("#prompts .prompt")).to_have_count(0)
    assert_no_problems(page, caplog)


def test_operator_reports_scrap_with_a_reason_and_completes_short(
    phone: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from apps.shopfloor.models import IdempotentAction, ProductionEvent

    page, op = phone, shop_floor.cuts[0]
    clock_in(page, shop_floor.laser)
    queue_entry(page, shop_floor.laser, op).click()
    card = start_and_finish_setup(page, op)

    page.locator("[data-action=report]").click()
    sheet = page.locator("dialog.sheet")
    expect(sheet.locator("h2")).to_have_text("Report parts for J-2001/10")
    expect(sheet.locator("input[name=good]")).to_have_value("0")
    reason = sheet.locator("select[name=scrap_reason]")
    expect(reason).to_be_hidden()
    sheet.locator("input[name=good]").fill("3")
    sheet.locator("input[name=scrap]").fill("1")
    expect(reason).to_be_visible()
    # Scrap without a reason is not sent: the sheet stays open on the reason and says why.
    missing = sheet.locator("#scrap-reason-missing")
    expect(missing).to_be_hidden()
    sheet.get_by_role("button", name="Report", exact=True).click()
    expect(sheet).to_be_visible()
    expect(missing).to_have_text("Scrapped parts need a scrap reason.")
    expect(missing).to_be_visible()
    expect(reason).to_be_focused()
    expect(page.locator("#waiting")).to_have_attribute("data-count", "0")
    shot(page, artifacts_dir, "8-scrap-needs-reason")
    assert not ProductionEvent.objects.filter(operation=op, kind="report").exists()

    reason.select_option(label="Bad cut (dross, burn, dimension)")
    expect(missing).to_be_hidden()
    shot(page, artifacts_dir, "9-scrap-report")
    sheet.get_by_role("button", name="Report", exact=True).click()
    expect(sheet).to_have_count(0)
    all_sent(page)
    expect(card.locator("#op-quantity")).to_have_text("3 good · 1 scrap · of 10")
    expect_actions(page, "pause", "report", "complete", "leave")

    page.locator("[data-action=complete]").click()
    expect(sheet.locator("h2")).to_have_text("Complete J-2001/10")
    expect(sheet.locator("p.muted")).to_have_text("3 of 10 good so far.")
    expect(sheet.locator("input[name=good]")).to_have_value("7")
    sheet.locator("input[name=good]").fill("6")
    sheet.locator("input[name=scrap]").fill("1")
    reason.select_option(label="Scratched or dented surface")
    shot(page, artifacts_dir, "10-complete-with-scrap")
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    sheet.get_by_role("button", name="Complete", exact=True).click()
    # Sent, refused as short, confirmed, sent again: the server's answer has no "waiting to send".
    done = page.locator(f"article.operation[data-operation='{op.pk}'][data-status=complete]:not(:has(.tag.wait))")
    expect(done).to_have_count(1, timeout=2 * ACTION_TIMEOUT_MS)
    all_sent(page)
    expect(card.locator("#op-quantity")).to_have_text("9 good · 2 scrap · of 10")
    assert questions == ["Only 9 of 10 parts are good. Complete short?"]
    expect(page.locator(".actions [data-action]")).to_have_count(0)
    shot(page, artifacts_dir, "11-completed-short")

    op.refresh_from_db()
    assert (op.status, op.quantity_good, op.quantity_scrap) == ("complete", 9, 2)
    reports = ProductionEvent.objects.filter(operation=op, kind="report").order_by("at", "pk")
    assert list(reports.values_list("quantity_good", "quantity_scrap", "scrap_reason")) == [
        (3, 1, shop_floor.bad_cut.pk),
        (6, 1, shop_floor.scratched.pk),
    ]
    assert ProductionEvent.objects.filter(operation=op, kind="complete").count() == 1
    # The first "complete" was refused as short (and stays refused); the confirmed one went through.
    answers = IdempotentAction.objects.filter(user=shop_floor.operator, action=f"operation:complete:{op.pk}")
    assert sorted(answers.values_list("status_code", flat=True)) == [200, 409]

    card.locator(".crumbs a").click()
    expect(page.locator("main h1")).to_have_text("Job J-2001")
    cut_row = page.locator(f'main a.entry[data-operation="{op.pk}"]')
    expect(cut_row.locator(".entry-meta")).to_have_text(re.compile(r"^Complete\s*9/10 good$"))
    shot(page, artifacts_dir, "12-job-after-scrap")
    assert_no_problems(page, caplog)


def test_tablet_queue_and_actions_fit_the_screen(
    tablet: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page, op = tablet, shop_floor.cuts[0]
    clock_in(page, shop_floor.laser, shop_floor.brake)
    laser_queue = page.locator(f'.machine-queue[data-work-center="{shop_floor.laser.pk}"] a.entry')
    expect(laser_queue).to_have_count(3)
    expect(page.locator(f'.machine-queue[data-work-center="{shop_floor.brake.pk}"] a.entry')).to_have_count(3)
    # Earliest due first: no plan is published, so the queue is ranked by EDD.
    assert laser_queue.evaluate_all("(nodes) => nodes.map((n) => Number(n.dataset.operation))") == [
        cut.pk for cut in shop_floor.cuts
    ]
    shot(page, artifacts_dir, "13-tablet-queue")
    assert layout_problems(page) == []
    for target in (
        page.get_by_role("button", name="Change machines"),
        page.get_by_role("button", name="Clock out"),
        laser_queue.first,
        *(page.locator(f"#tabs [data-tab={tab}]") for tab in ("home", "scan", "issue")),
    ):
        assert_tappable(target)

    queue_entry(page, shop_floor.laser, op).click()
    expect(operation_card(page, op)).to_have_attribute("data-status", "pending")
    assert layout_problems(page) == []
    assert_tappable(page.locator("[data-action=start]"))
    shot(page, artifacts_dir, "14-tablet-operation")
    start_and_finish_setup(page, op)
    assert layout_problems(page) == []
    for action in ("pause", "report", "complete", "leave"):
        assert_tappable(page.locator(f"[data-action={action}]"))
    assert_tappable(page.get_by_role("button", name="Report a problem"))
    shot(page, artifacts_dir, "15-tablet-running")

    page.locator("[data-action=complete]").click()
    sheet = page.locator("dialog.sheet")
    sheet.locator("input[name=scrap]").fill("2")
    for target in (
        sheet.locator("input[name=good]"),
        sheet.locator("select[name=scrap_reason]"),
        sheet.get_by_role("button", name="Cancel"),
        sheet.get_by_role("button", name="Complete", exact=True),
    ):
        assert_tappable(target)
    assert layout_problems(page) == []
    shot(page, artifacts_dir, "16-tablet-complete-sheet")
    sheet.get_by_role("button", name="Cancel").click()
    expect(sheet).to_have_count(0)

    # The machine stops: the banner sits above the page and the page still fits.
    now = datetime.now(ZoneInfo("UTC")).replace(microsecond=0)
    machine_goes_down(shop_floor.laser, running_since=now - timedelta(minutes=3), down_at=now)
    page.locator("#tabs [data-tab=home]").click()
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-ready", "yes")
    prompt = page.locator("#prompts .prompt")
    expect(prompt).to_have_count(1)
    prompt.locator("summary", has_text=re.compile(r"^Waiting$")).click()
    assert layout_problems(page) == []
    assert_tappable(prompt.get_by_role("button", name="Waiting for material", exact=True))
    # The banner pushes the queue down: the running operation is a scroll away, then tappable.
    laser_queue.first.evaluate("(node) => node.scrollIntoView({block: 'center'})")
    assert_tappable(laser_queue.first)
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, artifacts_dir, "17-tablet-downtime-prompt")
    assert_no_problems(page, caplog)


def settle(page: Page) -> None:
    """Let the page finish what a network answer set off (IndexedDB, a render): two frames and a tick."""
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50))))"
    )


def test_an_older_read_answered_late_does_not_undo_a_report(
    phone_without_worker: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Shop Wi-Fi: the app reads the operation while it sends a report; that read is answered only
    after the report (with the counts from before it), and the read after the report fails. The
    screen, and the copy the app keeps for offline, must still have the reported parts."""
    page, op = phone_without_worker, shop_floor.cuts[0]
    clock_in(page, shop_floor.laser)
    queue_entry(page, shop_floor.laser, op).click()
    card = start_and_finish_setup(page, op)
    expect_actions(page, "pause", "report", "complete", "leave")
    before = page.evaluate(f"async () => (await fetch('/api/v1/shopfloor/operations/{op.pk}/')).json()")
    assert (before["quantity_good"], before["quantity_scrap"]) == (0, 0)

    held: list[Route] = []

    def hold_two(route: Route) -> None:
        # A refresh or a live delta may read the operation once more meanwhile: that read fails too.
        if len(held) < 2:
            held.append(route)
        else:
            route.abort("internetdisconnected")

    page.route(re.compile(rf"/api/v1/shopfloor/operations/{op.pk}/$"), hold_two)
    page.locator("[data-action=report]").click()
    sheet = page.locator("dialog.sheet")
    sheet.locator("input[name=good]").fill("3")
    sheet.get_by_role("button", name="Report", exact=True).click()
    all_sent(page)
    # Two reads of the operation wait: the one sent with the report, and the one after its answer.
    wait_until(page, lambda: len(held) >= 2, "the two reads of the operation")
    assert len(held) == 2, held
    with page.expect_event("requestfinished"):
        held[0].fulfill(json=before)
    settle(page)
    with page.expect_event("requestfailed"):
        held[1].abort("internetdisconnected")
    settle(page)
    page.unroute(re.compile(rf"/api/v1/shopfloor/operations/{op.pk}/$"))

    expect(card.locator("#op-quantity")).to_have_text("3 good · 0 scrap · of 10")
    kept = page.evaluate(
        f"""() => new Promise((done, fail) => {{
          const open = indexedDB.open("cnc-shopfloor");
          open.onsuccess = () => {{
            const get = open.result.transaction("operations").objectStore("operations").get({op.pk});
            get.onsuccess = () => done(get.result.quantity_good);
            get.onerror = () => fail(get.error);
          }};
        }})"""
    )
    assert kept == 3
    shot(page, artifacts_dir, "18-late-read-after-report")
    op.refresh_from_db()
    assert (op.quantity_good, op.quantity_scrap) == (3, 0)
    assert_no_problems(page, caplog)


def test_the_card_stops_saying_waiting_to_send_as_soon_as_the_answer_is_in(
    phone_without_worker: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """After its actions are answered the app reads who is clocked in, the reasons, the queue and the
    prompts again (four requests on shop Wi-Fi). Meanwhile the header says all is sent: the operation's
    card must say so too, not wait for those reads to draw the answer it already has (nor for the
    machine's live socket, silent here, to set off a redraw)."""
    page, op = phone_without_worker, shop_floor.cuts[0]
    page.route_web_socket(re.compile(r"/ws/machines/"), lambda socket: None)
    clock_in(page, shop_floor.laser)
    queue_entry(page, shop_floor.laser, op).click()
    card = start_and_finish_setup(page, op)
    me, pause = re.compile(r"/api/v1/shopfloor/me/$"), re.compile(rf"/api/v1/shopfloor/operations/{op.pk}/pause/$")
    held: dict[str, list[Route]] = {"me": [], "pause": []}

    def hold(kind: str) -> Callable[[Route], None]:
        return lambda route: held[kind].append(route)

    page.route(me, hold("me"))
    page.route(pause, hold("pause"))
    page.locator("[data-action=pause]").click()
    sheet = page.locator("dialog.sheet")
    sheet.locator("summary", has_text=re.compile(r"^Waiting$")).click()
    sheet.get_by_role("button", name="Waiting for material", exact=True).click()
    # The pause is drawn as waiting to send while its request waits, then it goes.
    expect(card.locator(".tag.wait")).to_have_text("waiting to send")
    wait_until(page, lambda: len(held["pause"]) == 1, "the pause on its way")
    page.unroute(pause)
    held["pause"][0].continue_()
    all_sent(page)
    expect(card.locator("#op-status")).to_have_text("Paused")
    expect(card.locator(".tag.wait")).to_have_count(0)
    assert held["me"], "the reads after the answer should still be waiting"
    shot(page, artifacts_dir, "19-answered-before-the-reads")
    page.unroute(me)
    expect_actions(page, "resume", "report", "complete")
    assert_no_problems(page, caplog)


def answered_then_offline(page: Page, action: re.Pattern[str]) -> None:
    """The next request to `action` reaches the server and is answered, but the network drops before
    the answer arrives: the reads the app makes after it get the service worker's older copies."""

    def answer_then_drop(route: Route) -> None:
        response = route.fetch()
        page.context.set_offline(True)
        route.fulfill(response=response)

    page.route(action, answer_then_drop, times=1)


def worker_keeps_reads(page: Page) -> None:
    """The service worker controls the page and has kept an online copy of each of the app's reads."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    next_refresh(page)


def test_the_worker_s_older_copy_does_not_undo_a_change_of_machines(
    phone: Page, shop_floor: FloorShop, artifacts_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline the service worker answers me/ with its last copy, read before the change: the app
    keeps the change's own answer (the header, the queue and the live sockets follow it)."""
    page, laser, brake = phone, shop_floor.laser, shop_floor.brake
    page.clock.install()
    clock_in(page, laser)
    worker_keeps_reads(page)
    answered_then_offline(page, re.compile(r"/api/v1/shopfloor/machines/$"))
    page.get_by_role("button", name="Change machines").click()
    page.locator("label.check", has_text=laser.code).locator("input").uncheck()
    page.locator("label.check", has_text=brake.code).locator("input").check()
    page.get_by_role("button", name="Save machines").click()
    all_sent(page)
    expect(page.locator("#clock-state")).to_contain_text(brake.code)
    # Two refreshes offline: each reads me/ from the worker before it asks for the prompts.
    next_refresh(page)
    next_refresh(page)
    page.get_by_role("link", name="Queue").click()
    expect(page.locator(f'.machine-queue[data-work-center="{brake.pk}"]')).to_be_visible()
    expect(page.locator("#clock-state")).to_contain_text(brake.code)
    expect(page.locator("#clock-state")).not_to_contain_text(laser.code)
    expect(page.locator(f'.machine-queue[data-work-center="{laser.pk}"]')).to_have_count(0)
    shot(page, artifacts_dir, "20-machines-changed-then-offline")
    page.context.set_offline(False)
    assert_no_problems(page, caplog)


def test_the_worker_s_older_copy_does_not_ask_again_for_an_answered_stop(
    phone: Page, shop_floor: FloorShop, caplog: pytest.LogCaptureFixture
) -> None:
    from apps.machines.models import MachineStateInterval

    page = phone
    page.clock.install()
    clock_in(page, shop_floor.laser)
    down_at = datetime.now(ZoneInfo("UTC")).replace(microsecond=0)
    machine_goes_down(shop_floor.laser, running_since=down_at - timedelta(minutes=7), down_at=down_at)
    stop = MachineStateInterval.objects.get(work_center=shop_floor.laser, ended_at__isnull=True)
    worker_keeps_reads(page)
    prompt = page.locator(f'#prompts .prompt[data-prompt="{stop.pk}"]')
    expect(prompt).to_have_count(1)

    answered_then_offline(page, re.compile(rf"/api/v1/shopfloor/downtime-prompts/{stop.pk}/reason/$"))
    prompt.locator("summary", has_text=re.compile(r"^Waiting$")).click()
    prompt.get_by_role("button", name="Waiting for material", exact=True).click()
    all_sent(page)
    next_refresh(page)
    next_refresh(page)
    expect(page.locator("#prompts .prompt")).to_have_count(0)
    stop.refresh_from_db()
    assert stop.reason_id == shop_floor.waiting_for_material.pk
    page.context.set_offline(False)
    assert_no_problems(page, caplog)
