"""Which machines to simulate, read from the work centers of the database (the demo shop after `make demo`).

Only this module touches Django models; the model, the emitter and the agent are plain Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from apps.machines.models import WorkCenter
from apps.machines.selectors import working_intervals
from apps.telemetry.simulator.model import POWER, Interval, Kind, MachineSpec, kind_of


@dataclass(frozen=True, slots=True)
class WorkCenterCalendar:
    """A work center's working time, asked from the shop calendar (shifts, breaks, holidays)."""

    work_center: WorkCenter

    def intervals(self, start: datetime, end: datetime) -> Sequence[Interval]:
        return working_intervals(self.work_center, start, end)


def clone_code(base: str, round_: int) -> str:
    """The code of the `round_`-th copy of a work center (round 0 is the work center itself)."""
    return base if round_ == 0 else f"{base}-C{round_}"


@transaction.atomic
def simulated_work_centers(count: int | None = None) -> list[WorkCenter]:
    """The active work centers, or `count` of them: fewer, or more by cloning them round-robin.

    Clones are created as work centers (same department, type and calendar) when missing, since the
    MES rejects telemetry of a machine it does not know.
    """
    base = list(
        WorkCenter.objects.filter(is_active=True)
        .exclude(code__regex=r"-C[0-9]+$")
        .select_related("department", "work_center_type")
        .order_by("department__sequence", "code")
    )
    if not base or count is None or count <= len(base):
        return base if count is None else base[:count]
    codes = [clone_code(base[i % len(base)].code, i // len(base)) for i in range(count)]
    existing = {
        wc.code: wc for wc in WorkCenter.objects.filter(code__in=codes).select_related("department", "work_center_type")
    }
    chosen: list[WorkCenter] = []
    for index, code in enumerate(codes):
        if code not in existing:
            original = base[index % len(base)]
            existing[code] = WorkCenter.objects.create(
                code=code,
                name=f"{original.name} (simulated copy {index // len(base)})",
                department=original.department,
                work_center_type=original.work_center_type,
                calendar=original.calendar,
                efficiency=original.efficiency,
                setup_category=original.setup_category,
                hourly_rate=original.hourly_rate,
            )
        chosen.append(existing[code])
    return chosen


def spec_of(work_center: WorkCenter) -> MachineSpec:
    """The machine's behaviour by its type; every machine with a power profile has a power meter."""
    kind: Kind = kind_of(work_center.work_center_type.code)
    return MachineSpec(
        code=work_center.code, department=work_center.department.code, kind=kind, power_meter=kind in POWER
    )
