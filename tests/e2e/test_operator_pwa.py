"""The operator app on a phone: clock in, scan a traveler QR image, start, set up and complete an
operation; then, offline, complete another one and report two issues, and see each of those
actions happen exactly once on the server when the phone is back online.

The phone is a 360×740 Chromium context with the app's service worker; offline is Playwright's
`context.set_offline`, which the page and the worker both see.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import segno
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import ACTION_TIMEOUT_MS, E2E_PASSWORD

pytestmark = pytest.mark.e2e

# The outbox replays on the `online` event; a generous bound for the whole queue to reach the server.
SYNC_TIMEOUT_MS = 20_000
# 1×1 red PNG: the smallest photo an issue report can carry.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)


@dataclass
class Floor:
    operator: Any
    laser: Any
    first: Any
    second: Any


def released_floor(e2e_user: Callable[..., Any]) -> Floor:
    """Released jobs J-1042 and J-1043 (laser CUT 10 → brake BEND 20 → weld 30), nothing started; Olga."""
    from apps.accounts.models import User
    from apps.routings.services import release_job
    from tests.routings.builders import build_shop, make_job, straight_part

    manager = User.objects.create_superuser(username="boss", password=E2E_PASSWORD, email="boss@example.com")
    shop = build_shop()
    part = straight_part(shop, "BRKT-100")
    jobs = [make_job(shop, part, quantity=4, number=number) for number in ("J-1042", "J-1043")]
    for job in jobs:
        release_job(actor=manager, job_id=job.pk)
    first, second = (job.operations.get(sequence=10) for job in jobs)
    operator = e2e_user("olga", "operator", first_name="Olga", last_name="Ruiz")
    return Floor(operator=operator, laser=shop.laser_1, first=first, second=second)


@pytest.fixture
def floor(e2e_user: Callable[..., Any]) -> Floor:
    return released_floor(e2e_user)


def sign_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("main form").first
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(E2E_PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def waiting(page: Page) -> Any:
    return page.locator("#waiting")


def all_sent(page: Page, timeout: int = ACTION_TIMEOUT_MS) -> None:
    expect(waiting(page)).to_have_attribute("data-count", "0", timeout=timeout)


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"pwa-{name}.png"), full_page=True)


def while_server_is_quiet(work: Callable[[], Any]) -> Any:
    """Run an ORM write from the test thread. The live server shares the in-memory SQLite database,
    whose shared-cache table locks fail at once instead of waiting, so a write that meets one of
    the app's background reads is retried (bounded)."""
    from django.db import OperationalError

    for _attempt in range(50):
        try:
            return work()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.1)
    return work()


def open_phone_app(page: Page, floor: Floor) -> None:
    sign_in(page, "olga")
    page.goto("/shop/")
    expect(page.locator("html")).to_have_attribute("data-ready", "yes")
    page.locator("label.check", has_text=floor.laser.code).locator("input").check()
    page.locator("main").get_by_role("button", name="Clock in").click()
    all_sent(page)
    expect(page.locator("#clock-state")).to_contain_text(floor.laser.code)
    expect(page.locator(f'.machine-queue[data-work-center="{floor.laser.pk}"]')).to_be_visible()


def test_operator_runs_a_job_online_and_offline_and_each_action_happens_once(
    phone: Page, base_url: str, floor: Floor, artifacts_dir: Path
) -> None:
    from apps.shopfloor.choices import EventKind
    from apps.shopfloor.models import IdempotentAction, IssueReport, ProductionEvent
    from apps.shopfloor.services import start_operation

    page = phone
    context: BrowserContext = page.context
    open_phone_app(page, floor)
    expect(page.locator("#user-name")).to_have_text("Olga Ruiz")
    shot(page, artifacts_dir, "1-queue")

    page.locator("#tabs [data-tab=scan]").click()
    expect(page.locator("main h1")).to_have_text("Scan a traveler")
    shot(page, artifacts_dir, "2-scan")
    traveler_url = f"{base_url}/shop/o/{floor.first.pk}/"
    page.locator("#scan-file").set_input_files(
        {"name": "traveler.png", "mimeType": "image/png", "buffer": qr_png(traveler_url)}
    )
    page.wait_for_url(traveler_url)
    operation = page.locator(f"article.operation[data-operation='{floor.first.pk}']")
    expect(operation.locator("h1")).to_have_text("J-1042/10 CUT")
    expect(operation).to_have_attribute("data-status", "pending")
    shot(page, artifacts_dir, "3-operation")

    page.locator("[data-action=start]").click()
    all_sent(page)
    expect(operation).to_have_attribute("data-phase", "setup")
    page.locator("[data-action=finish_setup]").click()
    all_sent(page)
    expect(operation).to_have_attribute("data-phase", "run")
    shot(page, artifacts_dir, "4-running")
    page.locator("[data-action=complete]").click()
    dialog = page.locator("dialog.sheet")
    expect(dialog.locator("input[name=good]")).to_have_value("4")
    shot(page, artifacts_dir, "5-complete-sheet")
    dialog.get_by_role("button", name="Complete").click()
    all_sent(page)
    expect(operation).to_have_attribute("data-status", "complete")
    expect(operation.locator("#op-quantity")).to_have_text("4 good · 0 scrap · of 4")

    while_server_is_quiet(
        lambda: start_operation(operator=floor.operator, operation_id=floor.second.pk, work_center_id=floor.laser.pk)
    )
    page.goto(f"/shop/o/{floor.second.pk}/")
    second = page.locator(f"article.operation[data-operation='{floor.second.pk}']")
    expect(second).to_have_attribute("data-status", "in_progress")
    page.wait_for_function(
        "navigator.serviceWorker.controller !== null && navigator.serviceWorker.controller.state === 'activated'"
    )
    expect(page.locator("html")).to_have_attribute("data-sw", "ready")

    context.set_offline(True)
    page.reload()
    expect(second).to_have_attribute("data-status", "in_progress")
    expect(page.locator("#net")).to_have_text("Offline")
    page.locator("[data-action=complete]").click()
    page.locator("dialog.sheet").get_by_role("button", name="Complete").click()
    expect(waiting(page)).to_have_text("1 waiting to send")
    expect(second).to_have_attribute("data-status", "complete")
    expect(second.locator(".tag.wait")).to_have_text("waiting to send")
    shot(page, artifacts_dir, "6-offline-complete")

    page.locator("#tabs [data-tab=issue]").click()
    page.locator("label.check", has_text="Machine problem").locator("input").check()
    page.locator("textarea[name=text]").fill("Coolant leak under the laser bed")
    page.get_by_role("button", name="Send report").click()
    expect(waiting(page)).to_have_text("2 waiting to send")
    page.locator("#tabs [data-tab=issue]").click()
    page.locator("label.check", has_text="Quality issue").locator("input").check()
    page.locator("textarea[name=text]").fill("Burr on the flange edge, see photo")
    page.locator("input[name=photo]").set_input_files({"name": "burr.png", "mimeType": "image/png", "buffer": TINY_PNG})
    shot(page, artifacts_dir, "7-issue")
    page.get_by_role("button", name="Send report").click()
    expect(waiting(page)).to_have_text("3 waiting to send")
    shot(page, artifacts_dir, "8-offline-queue")
    assert ProductionEvent.objects.filter(operation=floor.second, kind=EventKind.COMPLETE).count() == 0
    assert IssueReport.objects.count() == 0

    context.set_offline(False)
    all_sent(page, timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#net")).to_have_text("Online")
    shot(page, artifacts_dir, "9-synced")

    for op in (floor.first, floor.second):
        assert ProductionEvent.objects.filter(operation=op, kind=EventKind.COMPLETE).count() == 1
        op.refresh_from_db()
        assert (op.status, op.quantity_good) == ("complete", 4)
    issues = list(IssueReport.objects.order_by("reported_at").values_list("kind", "text", "reported_by", "photo"))
    assert [row[:3] for row in issues] == [
        ("machine", "Coolant leak under the laser bed", floor.operator.pk),
        ("quality", "Burr on the flange edge, see photo", floor.operator.pk),
    ]
    assert issues[0][3] == "" and issues[1][3].endswith(".jpg")
    actions = sorted(IdempotentAction.objects.filter(user=floor.operator).values_list("action", flat=True))
    assert len(actions) == 7, actions
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_the_same_key_twice_has_one_effect(phone: Page, floor: Floor) -> None:
    from apps.shopfloor.models import IdempotentAction, IssueReport

    page = phone
    open_phone_app(page, floor)
    answers = page.evaluate(
        """async () => {
          const key = window.shopfloor.newKey();
          const post = async () => {
            const form = new FormData();
            form.append("kind", "safety");
            form.append("text", "Guard door latch is loose");
            const response = await fetch("/api/v1/shopfloor/issues/", {
              method: "POST",
              credentials: "same-origin",
              headers: {"Idempotency-Key": key, "X-CSRFToken": window.shopfloor.csrfToken()},
              body: form,
            });
            const replayed = response.headers.get("Idempotent-Replayed");
            return {status: response.status, replayed, body: await response.json()};
          };
          const first = await post();
          const second = await post();
          return {key, first, second};
        }"""
    )
    assert answers["first"]["status"] == 201
    assert answers["first"]["replayed"] is None
    assert answers["second"]["status"] == 201
    assert answers["second"]["replayed"] == "true"
    assert answers["second"]["body"] == answers["first"]["body"]
    assert IssueReport.objects.filter(text="Guard door latch is loose").count() == 1
    assert IdempotentAction.objects.filter(key=answers["key"]).count() == 1
