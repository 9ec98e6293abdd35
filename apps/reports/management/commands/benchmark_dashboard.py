"""Measure the plant OEE dashboard: time to compute and render it, and its number of queries.

    python manage.py benchmark_dashboard --machines 40 --repeat 7 --json

Inside a transaction that is rolled back at the end (the database is left as it was), it adds `--machines`
machines with a plant calendar of two shifts, `--hours` (default: the whole period the dashboard shows) of state
intervals (a new state every 2–15 minutes, as a busy shop floor produces) and hourly production counts, then
renders `/reports/` with its default filters (the last `DEFAULT_DAYS` days) as a production manager would get it
(the view and its template, without the network). It prints one JSON object with milliseconds for:
- "first": nothing stored yet, every closed day computed from its intervals and stored (what the first request
  after the days closed pays; `--first-repeat` times, stored days deleted before each);
- "cold" (the target): the page cache emptied before each request, closed days read from storage and today
  computed from its intervals;
- "warm": served from the page cache, what a second screen within OEE_CACHE_SECONDS gets;
and the query count with all machines and with a quarter of them, against the target of 150 ms and a count that
does not change with the number of machines. How much of today there is depends on the hour the benchmark runs,
so it prints the plant-local time too.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.machines.models import (
    Department,
    MachineStateInterval,
    Shift,
    ShiftBreak,
    ShiftCalendar,
    WorkCenter,
    WorkCenterType,
)
from apps.machines.selectors import plant_time_zone
from apps.reports.models import ClosedDayFigures
from apps.reports.periods import DEFAULT_DAYS
from apps.reports.views import PlantDashboardView
from apps.routings.models import Customer, Job, Operation, Part
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import ProductionEvent

TARGET_MS = 150.0
STATES = ("running", "running", "running", "idle", "setup", "alarm", "unplanned_down")


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the plant OEE dashboard on synthetic machines (rolled back afterwards)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--machines", type=int, default=40)
        parser.add_argument("--hours", type=int, default=DEFAULT_DAYS * 24)
        parser.add_argument("--first-repeat", type=int, default=3)
        parser.add_argument(
            "--at",
            type=clock.fromisoformat,
            help="Plant-local time of day to run as (HH:MM, today), e.g. 13:55 for the most of today to compute "
            "live with the benchmark's 06:00-14:00-22:00 shifts; default: now.",
        )
        parser.add_argument("--repeat", type=int, default=7)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        result: dict[str, Any] = {}
        pinned: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if options["at"]:
            local = datetime.combine(timezone.localdate(timezone=plant_time_zone()), options["at"], plant_time_zone())
            pinned = mock.patch("django.utils.timezone.now", return_value=local.astimezone(UTC))
        try:
            with pinned, transaction.atomic():
                result = self._measure(options)
                raise Rollback
        except Rollback:
            pass
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key:>22}: {value}")

    def _measure(self, options: dict[str, Any]) -> dict[str, Any]:
        rng = random.Random(options["seed"])
        now = timezone.now()
        department = Department.objects.create(code="bench-dept", name="Benchmark bay", sequence=999)
        kind = WorkCenterType.objects.create(code="bench-type", name="Benchmark laser", department=department)
        calendar = ShiftCalendar.objects.create(name="Benchmark two shifts")
        for weekday in range(7):
            for name, begins, ends, pause in (("1st", 6, 14, 10), ("2nd", 14, 22, 18)):
                shift = Shift.objects.create(
                    calendar=calendar, name=name, weekday=weekday, start=clock(begins), end=clock(ends)
                )
                ShiftBreak.objects.create(shift=shift, start=clock(pause), end=clock(pause, 30))
        centers = [
            WorkCenter.objects.create(
                code=f"bench-{n:03d}",
                name=f"Benchmark {n}",
                department=department,
                work_center_type=kind,
                calendar=calendar,
            )
            for n in range(options["machines"])
        ]
        part = Part.objects.create(number="BENCH-PART", description="Benchmark part")
        customer = Customer.objects.create(code="BENCH", name="Benchmark customer")
        job = Job.objects.create(number="BENCH-1", customer=customer, part=part, quantity=1, due_date=now.date())
        operation = Operation.objects.create(
            job=job,
            sequence=10,
            operation_code="CUT",
            work_center_type=kind,
            quantity=1,
            setup_minutes=Decimal(0),
            run_minutes_per_unit=Decimal("1.2"),
        )
        user = get_user_model().objects.create_superuser("bench-manager", "bench@example.com", "x")
        intervals: list[MachineStateInterval] = []
        events: list[ProductionEvent] = []
        start = now - timedelta(hours=options["hours"])
        for wc in centers:
            at = start
            while at < now:
                length = timedelta(minutes=rng.randint(2, 15))
                intervals.append(
                    MachineStateInterval(
                        work_center=wc, state=rng.choice(STATES), started_at=at, ended_at=min(at + length, now)
                    )
                )
                at += length
            for hour in range(options["hours"]):
                events.append(
                    ProductionEvent(
                        operation=operation,
                        work_center=wc,
                        kind=EventKind.REPORT,
                        at=start + timedelta(hours=hour, minutes=30),
                        by=user,
                        quantity_good=rng.randint(20, 40),
                        quantity_scrap=rng.randint(0, 2),
                    )
                )
        MachineStateInterval.objects.bulk_create(intervals, batch_size=2000)
        ProductionEvent.objects.bulk_create(events, batch_size=2000)

        scope = {"department": str(department.pk)}
        first: list[float] = []
        for _ in range(options["first_repeat"]):
            ClosedDayFigures.objects.all().delete()
            first.extend(self._render(user, scope, 1, cold=True)[0])
        cold, queries = self._render(user, scope, options["repeat"], cold=True)
        warm, _ = self._render(user, scope, options["repeat"], cold=False)
        WorkCenter.objects.filter(pk__in=[wc.pk for wc in centers[len(centers) // 4 :]]).update(is_active=False)
        _, fewer_queries = self._render(user, scope, 1, cold=True)
        return {
            "benchmark": "plant_dashboard",
            "machines": options["machines"],
            "intervals": len(intervals),
            "production_events": len(events),
            "days_shown": DEFAULT_DAYS,
            "plant_local_time": timezone.localtime(now, plant_time_zone()).strftime("%H:%M"),
            "first_median_ms": round(statistics.median(first), 1) if first else None,
            "cold_median_ms": round(statistics.median(cold), 1),
            "cold_worst_ms": round(max(cold), 1),
            "warm_median_ms": round(statistics.median(warm), 1),
            "queries": queries,
            "queries_with_a_quarter_of_the_machines": fewer_queries,
            "target_ms": TARGET_MS,
            "ok": statistics.median(cold) < TARGET_MS and queries == fewer_queries,
        }

    def _render(self, user: Any, scope: dict[str, str], repeat: int, *, cold: bool) -> tuple[list[float], int]:
        """Render `repeat` times; `cold` empties the cache first, so the figures are computed every time."""
        factory = RequestFactory()
        view = PlantDashboardView.as_view()
        timings: list[float] = []
        queries = 0
        for _ in range(repeat):
            request = factory.get("/reports/", scope)
            request.user = user
            if cold:
                cache.clear()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = view(request)
                response.render()  # type: ignore[attr-defined]
                timings.append((time.perf_counter() - began) * 1000)
            queries = len(captured)
        return timings, queries
