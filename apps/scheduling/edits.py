"""Manual edits of a schedule, pure: where a moved slot would land and what it would break.

No models or queries here (only Django's gettext for the messages): the service in
`slot_edits` gathers the rows, this module decides. A move is never saved with a conflict;
every conflict found is listed so the planner sees all of them at once instead of fixing one
to meet the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

Interval = tuple[datetime, datetime]


class ConflictKind(StrEnum):
    INELIGIBLE = "ineligible"
    OUTSIDE_WORKING_TIME = "outside_working_time"
    OVERLAP = "overlap"
    PRECEDENCE = "precedence"


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    message: str


@dataclass(frozen=True)
class PlacedSlot:
    """Another slot the move must respect: on the target machine, or a predecessor/successor."""

    label: str
    setup_start: datetime
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Machine:
    code: str
    type_id: int
    type_name: str
    is_active: bool
    efficiency: float


@dataclass(frozen=True)
class MoveRequest:
    label: str
    required_type_id: int
    required_type_name: str
    work_minutes: float  # standard minutes (efficiency 1.0)
    setup_minutes: int  # the slot's changeover lead-in
    setup_start: datetime  # where the moved bar begins


@dataclass(frozen=True)
class MoveResult:
    setup_start: datetime
    start: datetime
    end: datetime
    run_minutes: int
    conflicts: tuple[Conflict, ...]


def minutes_on(machine: Machine, work_minutes: float) -> int:
    """Whole minutes the work takes on `machine` (standard minutes ÷ efficiency, rounded up)."""
    exact = work_minutes / machine.efficiency
    whole = int(exact)
    return whole if whole == exact else whole + 1


def follow_working_time(start: datetime, minutes: int, intervals: Sequence[Interval]) -> datetime | None:
    """When `minutes` of work that begins at `start` ends, pausing over non-working time.

    None when `start` is not inside working time or the intervals run out first.
    """
    remaining = timedelta(minutes=minutes)
    started = False
    for lo, hi in intervals:
        if hi <= start:
            continue
        if not started:
            if lo > start:
                return None
            started = True
            lo = start
        if remaining <= hi - lo:
            return lo + remaining
        remaining -= hi - lo
    return None


def check_move(
    request: MoveRequest,
    machine: Machine,
    intervals: Sequence[Interval],
    *,
    on_machine: Sequence[PlacedSlot],
    predecessors: Sequence[PlacedSlot],
    successors: Sequence[PlacedSlot],
    tz: ZoneInfo,
) -> MoveResult:
    """Where the moved slot lands on `machine` from `request.setup_start`, and every conflict.

    `intervals` are the machine's working intervals from the new start onwards; when the work
    cannot be placed in them the slot is shown with its plain (unpaused) length so the other
    checks still say something useful.
    """

    def clock(value: datetime) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    conflicts: list[Conflict] = []
    run_minutes = minutes_on(machine, request.work_minutes)
    if machine.type_id != request.required_type_id:
        conflicts.append(
            Conflict(
                ConflictKind.INELIGIBLE,
                _("%(machine)s is a %(type)s; %(op)s needs a %(needed)s.")
                % {
                    "machine": machine.code,
                    "type": machine.type_name,
                    "op": request.label,
                    "needed": request.required_type_name,
                },
            )
        )
    if not machine.is_active:
        conflicts.append(Conflict(ConflictKind.INELIGIBLE, _("%(machine)s is not active.") % {"machine": machine.code}))

    setup_start = request.setup_start
    run_start = follow_working_time(setup_start, request.setup_minutes, intervals)
    end = follow_working_time(run_start, run_minutes, intervals) if run_start is not None else None
    if run_start is None or end is None:
        facts = {"machine": machine.code, "start": clock(setup_start), "minutes": request.setup_minutes + run_minutes}
        if follow_working_time(setup_start, 0, intervals) is None:
            message = _("%(machine)s does not work at %(start)s.") % facts
        else:
            message = _("%(machine)s has not enough working time after %(start)s for %(minutes)d min of work.") % facts
        conflicts.append(Conflict(ConflictKind.OUTSIDE_WORKING_TIME, message))
        run_start = setup_start + timedelta(minutes=request.setup_minutes)
        end = run_start + timedelta(minutes=run_minutes)

    for other in sorted(on_machine, key=lambda slot: slot.setup_start):
        if other.setup_start < end and setup_start < other.end:
            conflicts.append(
                Conflict(
                    ConflictKind.OVERLAP,
                    _("Overlaps %(other)s on %(machine)s (%(start)s–%(end)s).")
                    % {
                        "other": other.label,
                        "machine": machine.code,
                        "start": clock(other.setup_start),
                        "end": clock(other.end),
                    },
                )
            )
    for before in sorted(predecessors, key=lambda slot: slot.end):
        if before.end > setup_start:
            conflicts.append(
                Conflict(
                    ConflictKind.PRECEDENCE,
                    _("Starts before its predecessor %(other)s ends (%(end)s).")
                    % {"other": before.label, "end": clock(before.end)},
                )
            )
    for after in sorted(successors, key=lambda slot: slot.setup_start):
        if after.setup_start < end:
            conflicts.append(
                Conflict(
                    ConflictKind.PRECEDENCE,
                    _("Ends (%(end)s) after its successor %(other)s starts (%(start)s).")
                    % {"other": after.label, "end": clock(end), "start": clock(after.setup_start)},
                )
            )
    return MoveResult(setup_start, run_start, end, run_minutes, tuple(conflicts))
