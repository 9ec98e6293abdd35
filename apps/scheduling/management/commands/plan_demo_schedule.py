"""Plan the demo shop from now and publish the plan, so operators' queues and the Gantt have one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.roles import PLANNER, PRODUCTION_MANAGER
from apps.core.models import Job as BackgroundJob
from apps.machines.management.arguments import NOW_HELP, plant_datetime
from apps.scheduling.choices import ScheduleStatus
from apps.scheduling.services import (
    BENCHMARK_HORIZON_DAYS,
    plan_schedule,
    publish_schedule,
    start_planning_run,
)


class Command(BaseCommand):
    help = (
        "Plan the demo shop's open work from now, as the demo planner, in this process (no worker needed), and "
        "publish the plan as the demo production manager. The plan published before is superseded. "
        "Run after create_demo_users."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--time-limit", type=int, default=10, help="Seconds the solver may search (default 10; planners use 60)."
        )
        parser.add_argument(
            "--horizon-days",
            type=int,
            default=BENCHMARK_HORIZON_DAYS,
            help=f"Days planned from now (default {BENCHMARK_HORIZON_DAYS}: the demo's open work needs them).",
        )
        parser.add_argument("--now", type=plant_datetime, help=f"Plan from this moment. {NOW_HELP}")

    def handle(self, *args: Any, **options: Any) -> None:
        planner, manager = (self._demo_user(role) for role in (PLANNER, PRODUCTION_MANAGER))
        try:
            schedule = start_planning_run(
                actor=planner,
                name="Demo plan",
                horizon_days=options["horizon_days"],
                time_limit_seconds=options["time_limit"],
                queue=False,
                now=options["now"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        schedule = plan_schedule(schedule_id=schedule.pk)
        if schedule.status != ScheduleStatus.READY:
            run = BackgroundJob.objects.filter(pk=schedule.run_id).first() if schedule.run_id else None
            raise CommandError(f"The demo plan was not made: {run.error if run and run.error else schedule.status}.")
        schedule = publish_schedule(actor=manager, schedule_id=schedule.pk)
        kpis = schedule.kpis
        self.stdout.write(
            f"Published {schedule.name!r}: {schedule.slots.count()} operations on "
            f"{schedule.horizon_start:%Y-%m-%d %H:%M} to {schedule.horizon_end:%Y-%m-%d %H:%M} UTC, "
            f"{kpis.get('late_jobs', 0)} late jobs, weighted tardiness {kpis.get('weighted_tardiness', 0)}."
        )

    def _demo_user(self, role: str) -> Any:
        user = get_user_model().objects.filter(username=role, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active demo user {role!r}: run create_demo_users first.")
        return user
