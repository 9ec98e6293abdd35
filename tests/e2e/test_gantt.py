"""The Gantt in a real browser, as a planner reads it: the published plan's bars, the switch between
work-center and job rows, the zoom and the day navigation; then the floor starts and completes
operations through the shop-floor services and, after a reload, the strips of what it did sit under
the plan where the planned bars put them.

The plant's time zone is chosen so that the plant's wall clock reads between 12:00 and 13:00 when the
test runs: the plan (09:00–15:00 today) and the floor's work (09:00–10:00 done, 10:45 to now running)
then fall on the day shown at day zoom whatever the hour of the run, and the now line is on it too.
The plant works 06:00–22:00 every day, so the shading of non-working time is the same on any weekday.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from .conftest import authenticator_for, off_the_test_thread, sign_in_with_code

pytestmark = pytest.mark.e2e

SCREENS = Path("/tmp/gantt")
PX_PER_MINUTE = 70 / 60  # day zoom
STRIP_TOP = 17  # gantt.ACTUAL_TOP: the floor's strip, under the planned bar of its row
LABEL_BASELINE = 15  # a row label's baseline below the row's top (ROW_HEIGHT - 7)


@dataclass
class Plan:
    planner: Any
    totp: pyotp.TOTP
    operator: Any
    today: date
    tz: ZoneInfo
    job: Any
    cut: Any
    bend: Any
    weld: Any
    slots: dict[str, Any]
    laser_1: Any
    brake_2: Any


def noon_zone() -> str:
    """A fixed-offset zone in which it is now between 12:00 and 13:00 (Etc/GMT-2 is UTC+2)."""
    offset = 12 - timezone.now().hour  # -11 .. +12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
def plan(e2e_user: Callable[..., Any], settings: Any) -> Plan:
    """A released job (laser CUT 10 → brake BEND 20 → WELD 30) planned today in a published
    schedule: CUT on laser-1 09:00–10:00 (15 min setup), BEND on brake-1 10:30–13:30, WELD on
    weld-1 14:00–15:00. A second press brake, brake-2, has nothing planned."""
    from apps.machines.models import Shift, ShiftCalendar, WorkCenter
    from apps.scheduling.models import Schedule, ScheduleSlot
    from tests.shopfloor.floor import build_floor

    settings.PLANT_TIME_ZONE = settings.TIME_ZONE = noon_zone()
    tz = ZoneInfo(settings.PLANT_TIME_ZONE)
    calendar = ShiftCalendar.objects.create(name="Two shifts", is_plant_default=True)
    Shift.objects.bulk_create(
        Shift(calendar=calendar, name="day", weekday=day, start=time(6), end=time(22)) for day in range(7)
    )
    manager = e2e_user("pam", "production_manager")
    floor = build_floor(manager, quantity=4)
    brake_2 = WorkCenter.objects.create(
        code="brake-2",
        name="Press brake 2",
        department=floor.shop.brake_1.department,
        work_center_type=floor.shop.brake,
    )
    today = timezone.now().astimezone(tz).date()

    def at(hhmm: str) -> datetime:
        return datetime.combine(today, time.fromisoformat(hhmm), tz)

    schedule = Schedule.objects.create(
        name="Today's plan", status="published", horizon_start=at("06:00"), horizon_end=at("06:00") + timedelta(days=14)
    )
    slots = {
        "cut": ScheduleSlot.objects.create(
            schedule=schedule,
            operation=floor.cut,
            work_center=floor.shop.laser_1,
            setup_start=at("09:00"),
            start=at("09:15"),
            end=at("10:00"),
            setup_minutes=15,
        ),
        "bend": ScheduleSlot.objects.create(
            schedule=schedule,
            operation=floor.bend,
            work_center=floor.shop.brake_1,
            setup_start=at("10:30"),
            start=at("11:00"),
            end=at("13:30"),
            setup_minutes=30,
        ),
        "weld": ScheduleSlot.objects.create(
            schedule=schedule,
            operation=floor.weld,
            work_center=floor.shop.weld_1,
            setup_start=at("14:00"),
            start=at("14:00"),
            end=at("15:00"),
        ),
    }
    planner = e2e_user("pat", "planner", first_name="Pat", last_name="Planner")
    return Plan(
        planner=planner,
        totp=authenticator_for(planner),
        operator=e2e_user("olga", "operator"),
        today=today,
        tz=tz,
        job=floor.job,
        cut=floor.cut,
        bend=floor.bend,
        weld=floor.weld,
        slots=slots,
        laser_1=floor.shop.laser_1,
        brake_2=brake_2,
    )


def sign_in(page: Page, plan: Plan) -> None:
    sign_in_with_code(page, plan.planner.username, plan.totp)


def on_the_floor(work: Callable[[], None]) -> None:
    """Shop-floor services as the operator's requests call them."""
    off_the_test_thread(work, what="the shop-floor services")


def number(locator: Locator, name: str) -> float:
    value = locator.get_attribute(name)
    assert value is not None, f"no {name} on {locator}"
    return float(value)


def bar(page: Page, slot: Any) -> Locator:
    return page.locator(f'svg.gantt g.gantt-bar[data-slot="{slot.pk}"]')


def strip(page: Page, operation: Any) -> Locator:
    return page.locator(f'svg.gantt g.gantt-actual[data-operation="{operation.pk}"]')


def row_top(page: Page, label: str) -> float:
    # A label's text is its hover title (code or number first) followed by the label itself.
    name = re.escape(label)
    text = page.locator("svg.gantt text.gantt-label", has_text=re.compile(rf"^{name} .*{name}$"))
    expect(text).to_have_count(1)
    return number(text, "y") - LABEL_BASELINE


def show(page: Page, *, view: str | None = None, zoom: str | None = None) -> None:
    """Change the rows or the zoom in the filter form and press Show."""
    if view is not None:
        page.locator("#gantt-view").select_option(view)
    if zoom is not None:
        page.locator("#gantt-zoom").select_option(zoom)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / name), full_page=True)


def test_the_planner_reads_the_plan_and_then_what_the_floor_did(page: Page, plan: Plan) -> None:
    from apps.scheduling import gantt
    from apps.shopfloor import services

    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, plan)
    today = plan.today.isoformat()
    page.goto(f"/scheduling/gantt/?view=work_center&zoom=day&start={today}")
    svg = page.locator("svg.gantt")
    expect(svg).to_have_attribute("aria-label", "Gantt of Today's plan")
    bars = svg.locator("g.gantt-bar")
    expect(bars).to_have_count(3)
    number_ = plan.job.number
    expect(bar(page, plan.slots["cut"]).locator("title")).to_have_text(
        re.compile(rf"^{number_}/10 CUT on laser-1 · setup 15 min from \w{{3}} [\d.]+ 09:00 · run .*09:15–.*10:00")
    )
    expect(bar(page, plan.slots["bend"]).locator("title")).to_contain_text(f"{number_}/20 BEND on brake-1")
    expect(bar(page, plan.slots["weld"]).locator("title")).to_contain_text(f"{number_}/30 WELD on weld-1")
    expect(svg.locator("g.gantt-actual")).to_have_count(0)
    expect(svg.locator("g.gantt-now")).to_have_count(1)
    # Exact geometry at day zoom: 09:00 is 160 + 9 × 70 px; the 15 min setup 17.5 px, the run 52.5 px.
    chart_start, chart_end = gantt.window(plan.today, 1, plan.tz)
    day_chart = gantt.Chart(start=chart_start, end=chart_end, rows=(), tz=plan.tz, hourly=True)
    cut_setup = bar(page, plan.slots["cut"]).locator("rect.gantt-setup")
    assert number(cut_setup, "x") == gantt.x_of(day_chart, plan.slots["cut"].setup_start) == 790.0
    assert number(cut_setup, "width") == 17.5
    assert number(bar(page, plan.slots["cut"]).locator("rect.gantt-run"), "width") == 52.5
    laser_top = row_top(page, "laser-1")
    assert number(cut_setup, "y") == laser_top + 2
    screenshot(page, "1-work-centers-day.png")

    show(page, view="job")
    expect(page).to_have_url(re.compile(r"view=job"))
    expect(svg.locator("text.gantt-label")).to_have_text([re.compile(rf"{number_} due .*{number_}$")])
    expect(bars.locator("text.gantt-bar-label")).to_have_text(["10 CUT", "20 BEND", "30 WELD"])
    # The plant works 06:00–22:00: shaded before and after.
    expect(svg.locator("rect.gantt-off")).to_have_count(2)
    screenshot(page, "2-jobs-day.png")

    show(page, view="work_center", zoom="week")
    expect(page).to_have_url(re.compile(r"view=work_center&zoom=week"))
    expect(svg.locator("line.gantt-day")).to_have_count(13)
    # Two weeks: 120 px a day, so the hour of CUT's run and setup is 5 px.
    week_chart = gantt.Chart(start=chart_start, end=chart_start + timedelta(days=14), rows=(), tz=plan.tz, hourly=False)
    assert number(bar(page, plan.slots["cut"]).locator("rect.gantt-setup"), "x") == gantt.x_of(
        week_chart, plan.slots["cut"].setup_start
    )
    assert number(bar(page, plan.slots["cut"]).locator("rect.gantt-run"), "width") == 3.8
    screenshot(page, "3-work-centers-two-weeks.png")

    show(page, zoom="day")
    page.get_by_role("link", name="Later →").click()
    expect(page).to_have_url(re.compile(rf"start={(plan.today + timedelta(days=1)).isoformat()}"))
    expect(bars).to_have_count(0)
    expect(svg.locator("g.gantt-now")).to_have_count(0)
    page.get_by_role("link", name="← Earlier").click()
    expect(page).to_have_url(re.compile(rf"start={today}"))
    expect(bars).to_have_count(3)

    def work() -> None:
        def at(hhmm: str) -> datetime:
            return datetime.combine(plan.today, time.fromisoformat(hhmm), plan.tz)

        operator, brake_2 = plan.operator, plan.brake_2
        services.clock_in(operator=operator, work_center_ids=[plan.laser_1.pk, brake_2.pk], at=at("08:30"))
        services.start_operation(
            operator=operator, operation_id=plan.cut.pk, work_center_id=plan.laser_1.pk, at=at("09:00")
        )
        services.complete_operation(operator=operator, operation_id=plan.cut.pk, good=4, at=at("10:00"))
        # BEND goes to the other press brake, a quarter of an hour after its planned setup start, and runs.
        services.start_operation(
            operator=operator, operation_id=plan.bend.pk, work_center_id=brake_2.pk, at=at("10:45")
        )

    on_the_floor(work)
    page.reload()
    expect(svg.locator("g.gantt-actual")).to_have_count(2)

    done = strip(page, plan.cut)
    expect(done).to_have_class(re.compile(r"\bactual-complete\b"))
    expect(done.locator("title")).to_have_text(
        re.compile(
            rf"^{number_}/10 CUT on laser-1 · actual start \w{{3}} [\d.]+ 09:00 · actual end \w{{3}} [\d.]+ 10:00"
            r" · complete · 4 of 4 good, 0 scrap$"
        )
    )
    # On plan: it covers the planned bar, setup and run, exactly, on the same row.
    planned_x = number(bar(page, plan.slots["cut"]).locator("rect.gantt-setup"), "x")
    planned_end = number(bar(page, plan.slots["cut"]).locator("rect.gantt-run"), "x") + number(
        bar(page, plan.slots["cut"]).locator("rect.gantt-run"), "width"
    )
    done_rect = done.locator("rect.gantt-actual-worked")
    assert number(done_rect, "x") == planned_x
    assert number(done_rect, "x") + number(done_rect, "width") == pytest.approx(planned_end, abs=0.11)
    assert number(done_rect, "y") == row_top(page, "laser-1") + STRIP_TOP

    running = strip(page, plan.bend)
    expect(running).to_have_class(re.compile(r"\bactual-running\b"))
    expect(running.locator("title")).to_contain_text(f"{number_}/20 BEND on brake-2 · actual start")
    expect(running.locator("title")).to_contain_text("running, not complete · 0 of 4 good")
    running_rect = running.locator("rect.gantt-actual-worked")
    # 15 minutes after the planned setup start, on brake-2's row, not brake-1's where it was planned.
    planned_bend_x = number(bar(page, plan.slots["bend"]).locator("rect.gantt-setup"), "x")
    assert number(running_rect, "x") == pytest.approx(planned_bend_x + 15 * PX_PER_MINUTE, abs=0.11)
    assert number(running_rect, "y") == row_top(page, "brake-2") + STRIP_TOP
    assert number(bar(page, plan.slots["bend"]).locator("rect.gantt-run"), "y") == row_top(page, "brake-1") + 2
    # It grows to now: its end is the now line, with the arrowhead there.
    now_x = number(svg.locator("g.gantt-now line"), "x1")
    assert number(running_rect, "x") + number(running_rect, "width") == pytest.approx(now_x, abs=0.11)
    expect(running.locator("path.gantt-actual-tip")).to_have_count(1)
    assert now_x > planned_bend_x + 90 * PX_PER_MINUTE  # past noon
    # What the floor started is frozen in the plan: hatched.
    expect(bar(page, plan.slots["cut"])).to_have_class(re.compile(r"\btone-frozen\b"))
    expect(bar(page, plan.slots["bend"])).to_have_class(re.compile(r"\btone-frozen\b"))
    expect(page.locator(".legend").nth(1)).to_contain_text("running (grows to now)")
    screenshot(page, "4-work-centers-after-the-floor.png")

    show(page, view="job")
    expect(svg.locator(f'g.gantt-actual[data-operation="{plan.cut.pk}"]')).to_have_count(1)
    expect(svg.locator(f'g.gantt-actual[data-operation="{plan.bend.pk}"]')).to_have_count(1)
    job_top = row_top(page, number_)
    assert number(strip(page, plan.cut).locator("rect"), "y") == job_top + STRIP_TOP
    assert number(strip(page, plan.cut).locator("rect"), "x") == planned_x
    screenshot(page, "5-jobs-after-the-floor.png")
    assert page.e2e_problems == []  # type: ignore[attr-defined]
