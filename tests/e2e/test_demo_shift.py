"""Issue 6's "done when", on the demo shop that `make run` loads: the demo plan is published, an operator
works the top of a laser's queue from a phone, part of it offline, and the supervisor's floor view and
the Gantt show it without anyone reloading the supervisor's page.

The shop is the real demo (`load_demo_shop`, then `plan_demo_schedule` as `make demo` runs it, with a
short solver limit); the operator and the supervisor use only the pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from .conftest import authenticator_for, off_the_test_thread, sign_in_with_code
from .test_operator_pwa import SYNC_TIMEOUT_MS, all_sent, sign_in, waiting

pytestmark = pytest.mark.e2e

MACHINE = "LAS-01"


@dataclass
class Demo:
    operator: Any
    supervisor: Any
    totp: pyotp.TOTP
    machine: Any
    operation: Any  # the first operation the operator can start at the top of the machine's list
    queue: list[str]  # the list as the dispatch selector ranks it: "job seq code"


@pytest.fixture
def demo(e2e_user: Callable[..., Any], settings: Any, tmp_path: Path) -> Demo:
    from apps.machines.models import WorkCenter
    from apps.routings.choices import OperationStatus
    from apps.routings.demo import load_demo_shop
    from apps.scheduling.choices import ScheduleStatus
    from apps.scheduling.models import Schedule
    from apps.shopfloor.selectors import is_ready, machine_queue

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SHOPFLOOR_SUPERVISOR_REFRESH_SECONDS = 1
    load_demo_shop()
    e2e_user("planner", "planner")
    e2e_user("production_manager", "production_manager")
    # The planning run pushes its progress to Channels.
    off_the_test_thread(
        lambda: call_command("plan_demo_schedule", "--time-limit", "1"), what="plan_demo_schedule", timeout=300
    )
    assert Schedule.objects.filter(status=ScheduleStatus.PUBLISHED).exists()
    operator = e2e_user("olga", "operator", first_name="Olga", last_name="Ruiz")
    supervisor = e2e_user("sam", "supervisor", first_name="Sam", last_name="Boss")
    machine = WorkCenter.objects.get(code=MACHINE)
    entries = machine_queue(machine).entries
    operation = next(op for op in entries if op.status == OperationStatus.PENDING and is_ready(op))
    return Demo(
        operator=operator,
        supervisor=supervisor,
        totp=authenticator_for(supervisor),
        machine=machine,
        operation=operation,
        queue=[f"{op.job.number} {op.sequence} {op.operation_code}" for op in entries],
    )


def machine_row(page: Page) -> Any:
    return page.locator("table[data-floor-machines] tbody tr", has_text=MACHINE)


def test_an_operator_works_the_demo_plan_and_the_supervisor_and_the_gantt_see_it(
    phone: Page, page: Page, demo: Demo, artifacts_dir: Path
) -> None:
    from apps.shopfloor.choices import EventKind
    from apps.shopfloor.models import IssueReport, ProductionEvent

    op = demo.operation
    name = f"{op.job.number}/{op.sequence} {op.operation_code}"

    # The phone: clock in to the laser; its list is the published plan's, in the selector's order.
    sign_in(phone, "olga")
    phone.goto("/shop/")
    expect(phone.locator("html")).to_have_attribute("data-ready", "yes")
    phone.locator("label.check", has_text=MACHINE).locator("input").check()
    phone.locator("main").get_by_role("button", name="Clock in").click()
    all_sent(phone)
    queue = phone.locator(f'.machine-queue[data-work-center="{demo.machine.pk}"]')
    expect(queue.locator(".entry-title").first).to_be_visible()
    shown = [" ".join(text.split()) for text in queue.locator(".entry-title").all_inner_texts()]
    assert shown == demo.queue
    assert queue.locator("text=plan ").count() > 0  # planned times come from the published plan
    phone.screenshot(path=str(artifacts_dir / "demo-1-queue.png"), full_page=True)

    # Start the first operation that can start, from the list.
    queue.locator(f'a.entry[data-operation="{op.pk}"]').click()
    article = phone.locator(f"article.operation[data-operation='{op.pk}']")
    expect(article.locator("h1")).to_have_text(name)
    phone.locator("[data-action=start]").click()
    all_sent(phone)
    expect(article).to_have_attribute("data-status", "in_progress")
    if article.get_attribute("data-phase") == "setup":
        phone.locator("[data-action=finish_setup]").click()
        all_sent(phone)
    expect(article).to_have_attribute("data-phase", "run")

    # The supervisor's floor view shows Olga on the laser, running it.
    sign_in_with_code(page, demo.supervisor.username, demo.totp)
    page.goto("/shop/supervisor/")
    expect(page.locator("main")).to_contain_text("Waiting work is counted from the published schedule")
    expect(machine_row(page)).to_contain_text("Olga Ruiz")
    expect(machine_row(page)).to_contain_text(name)
    expect(page.locator("table[data-floor-attendance]")).to_contain_text(MACHINE)
    page.screenshot(path=str(artifacts_dir / "demo-2-supervisor-running.png"), full_page=True)

    # A spell offline: the phone completes the operation and reports an issue; nothing reaches the server.
    phone.wait_for_function(
        "navigator.serviceWorker.controller !== null && navigator.serviceWorker.controller.state === 'activated'"
    )
    phone.context.set_offline(True)
    expect(phone.locator("#net")).to_have_text("Offline")
    phone.locator("[data-action=complete]").click()
    phone.locator("dialog.sheet").get_by_role("button", name="Complete").click()
    expect(article).to_have_attribute("data-status", "complete")
    phone.locator("#tabs [data-tab=issue]").click()
    phone.locator("label.check", has_text="Material shortage").locator("input").check()
    phone.locator("textarea[name=text]").fill("Last 3 mm sheet of the rack used, need more for the next job")
    phone.get_by_role("button", name="Send report").click()
    expect(waiting(phone)).to_have_text("2 waiting to send")
    phone.screenshot(path=str(artifacts_dir / "demo-3-offline.png"), full_page=True)
    assert not ProductionEvent.objects.filter(operation=op, kind=EventKind.COMPLETE).exists()
    assert not IssueReport.objects.exists()

    # Back online: each action reaches the server once, and the supervisor's page follows by itself.
    phone.context.set_offline(False)
    all_sent(phone, timeout=SYNC_TIMEOUT_MS)
    assert ProductionEvent.objects.filter(operation=op, kind=EventKind.COMPLETE).count() == 1
    op.refresh_from_db()
    assert (op.status, op.quantity_good) == ("complete", op.quantity)
    assert list(IssueReport.objects.values_list("kind", "work_center__code")) == [("material", MACHINE)]
    expect(machine_row(page)).not_to_contain_text(name, timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("table[data-floor-issues]")).to_contain_text("Last 3 mm sheet of the rack used")
    page.screenshot(path=str(artifacts_dir / "demo-4-supervisor-after.png"), full_page=True)

    # The Gantt of the published plan draws what the floor did under the plan, on the laser's row.
    page.goto("/scheduling/gantt/?zoom=day")
    done = page.locator(f'svg.gantt g.gantt-actual[data-operation="{op.pk}"]')
    expect(done).to_have_class(re.compile(r"\bactual-complete\b"))
    expect(done.locator("title")).to_contain_text(f"{name} on {MACHINE}")
    page.screenshot(path=str(artifacts_dir / "demo-5-gantt.png"), full_page=True)
    assert phone.e2e_problems == []  # type: ignore[attr-defined]
