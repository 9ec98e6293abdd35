"""State changes of machines: shifts with their breaks, the plant default calendar, work centers
going out of service, the checks on calendars that the tables cannot express, and the machine
state derived from telemetry (intervals, alarms, downtime reasons, live pushes)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.notifications import MACHINE_CREW, notify_audience
from apps.core.permissions import require_permission

from . import calendar
from .choices import AmendmentCause
from .live import machine_payload, push_machine_deltas
from .machine_state import ActiveAlarm, AlarmLevel, MachineState, Reading, Signals, derive_state, fold
from .models import (
    Alarm,
    Department,
    DisplayToken,
    DowntimeReason,
    HistoryAmendment,
    LiveState,
    MachineStateInterval,
    Shift,
    ShiftBreak,
    ShiftCalendar,
    WorkCenter,
)
from .selectors import NoShiftCalendar, offline_after, working_intervals_for

CHANGE_SHIFT_CALENDAR = "machines.change_shiftcalendar"
# Figures derived from a machine's history (OEE) are stored only for time at least this old; see amend_history.
AMENDMENT_DELAY = timedelta(minutes=10)
CHANGE_WORK_CENTER = "machines.change_workcenter"
ADD_SHIFT = "machines.add_shift"
CHANGE_SHIFT = "machines.change_shift"
ASSIGN_DOWNTIME_REASON = "machines.assign_downtime_reason"
ACKNOWLEDGE_ALARM = "machines.acknowledge_alarm"
ADD_DISPLAY_TOKEN = "machines.add_displaytoken"

# Downtime reasons may be given for these states only: the machine stood still.
DOWN_STATES = frozenset({MachineState.UNPLANNED_DOWN, MachineState.PLANNED_DOWN, MachineState.ALARM})

operator_log = logging.getLogger("operator.machines")
technical_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakTimes:
    start: time
    end: time


def validate_shift(*, weekday: int, start: time, end: time, breaks: Sequence[BreakTimes] = ()) -> calendar.Shift:
    """The shift as the pure module's dataclass, or a ValidationError in words a planner reads.

    The rules are the dataclasses' own (a break has a length and lies inside its shift, a night
    shift may run past midnight); each break is tried on its own first so the message can name it.
    """
    pure_breaks: list[calendar.Break] = []
    for brk in breaks:
        try:
            pure = calendar.Break(brk.start, brk.end)
        except ValueError as exc:
            raise ValidationError(
                _("The break %(break)s starts and ends at the same time.") % {"break": _span(brk.start, brk.end)},
                code="empty_break",
            ) from exc
        try:
            calendar.Shift(weekday, start, end, (pure,))
        except ValueError as exc:
            raise ValidationError(
                _("The break %(break)s lies outside the shift %(shift)s.")
                % {"break": _span(brk.start, brk.end), "shift": _span(start, end)},
                code="break_outside_shift",
            ) from exc
        pure_breaks.append(pure)
    try:
        return calendar.Shift(weekday, start, end, tuple(pure_breaks))
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_shift") from exc


def validate_exception_period(
    *,
    start_date: date | None,
    end_date: date | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> None:
    """A calendar exception covers whole days or an exact time range, never both or neither.

    The table refuses anything else with a check constraint; this says why before it gets there.
    """
    has_days = start_date is not None or end_date is not None
    has_times = starts_at is not None or ends_at is not None
    if has_days == has_times:
        raise ValidationError(
            _("Give either the first and last day, or the start and end time, not both."), code="days_or_times"
        )
    if has_days:
        if start_date is None or end_date is None:
            raise ValidationError(_("Give both the first and the last day."), code="days_incomplete")
        if end_date < start_date:
            raise ValidationError({"end_date": _("The last day is before the first day.")}, code="days_reversed")
    else:
        if starts_at is None or ends_at is None:
            raise ValidationError(_("Give both the start and the end time."), code="times_incomplete")
        if ends_at <= starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")}, code="times_reversed")


@transaction.atomic
def save_shift(
    *,
    actor: Any,
    calendar_id: int,
    name: str,
    weekday: int,
    start: time,
    end: time,
    breaks: Sequence[BreakTimes],
    shift_id: int | None = None,
) -> Shift:
    """Create a shift (no `shift_id`) or change one, replacing its breaks as a whole."""
    require_permission(actor, CHANGE_SHIFT if shift_id else ADD_SHIFT)
    validate_shift(weekday=weekday, start=start, end=end, breaks=breaks)
    clash = Shift.objects.filter(calendar_id=calendar_id, weekday=weekday, start=start)
    if shift_id is not None:
        clash = clash.exclude(pk=shift_id)
    if clash.exists():
        raise ValidationError(
            {
                "start": _("This calendar already has a shift starting at %(start)s that day.")
                % {"start": f"{start:%H:%M}"}
            },
            code="shift_clash",
        )
    if shift_id:
        shift = Shift.objects.select_for_update().get(pk=shift_id)
        shift.calendar_id = calendar_id
    else:
        shift = Shift(calendar_id=calendar_id)
    shift.name, shift.weekday, shift.start, shift.end = name, weekday, start, end
    shift.save()
    shift.breaks.all().delete()
    ShiftBreak.objects.bulk_create(ShiftBreak(shift=shift, start=b.start, end=b.end) for b in breaks)
    return shift


@transaction.atomic
def set_plant_default_calendar(*, actor: Any, calendar_id: int) -> ShiftCalendar:
    """Make one calendar the plant default; the previous default stops being it in the same
    transaction, so there is never a moment with two (the table forbids it) or none."""
    require_permission(actor, CHANGE_SHIFT_CALENDAR)
    # A plant has a handful of calendars: locking them all, in one order, makes two concurrent
    # switches queue up, and the second one sees the first one's result.
    calendars = {c.pk: c for c in ShiftCalendar.objects.select_for_update().order_by("pk")}
    chosen = calendars.get(calendar_id)
    if chosen is None:
        raise ShiftCalendar.DoesNotExist(_("There is no shift calendar %(id)s.") % {"id": calendar_id})
    if chosen.is_plant_default:
        return chosen
    for previous in (c for c in calendars.values() if c.is_plant_default):
        previous.is_plant_default = False
        _audit(previous, actor, _("No longer the plant default"))
        previous.save(update_fields=["is_plant_default", "updated_at"])
    chosen.is_plant_default = True
    _audit(chosen, actor, _("Made the plant default"))
    chosen.save(update_fields=["is_plant_default", "updated_at"])
    return chosen


@transaction.atomic
def deactivate_work_center(*, actor: Any, work_center_id: int) -> WorkCenter:
    """Take a work center out of service: from now on it has no working time, so nothing is
    planned on it. Routings that name it are checked where jobs are released (routings sits
    above machines and is not visible from here)."""
    return _set_work_center_active(actor=actor, work_center_id=work_center_id, active=False)


@transaction.atomic
def activate_work_center(*, actor: Any, work_center_id: int) -> WorkCenter:
    """Put a work center back in service; it runs on its calendar again."""
    return _set_work_center_active(actor=actor, work_center_id=work_center_id, active=True)


def _set_work_center_active(*, actor: Any, work_center_id: int, active: bool) -> WorkCenter:
    require_permission(actor, CHANGE_WORK_CENTER)
    work_center = WorkCenter.objects.select_for_update().get(pk=work_center_id)
    if work_center.is_active == active:
        return work_center
    work_center.is_active = active
    _audit(work_center, actor, _("Put back in service") if active else _("Taken out of service"))
    work_center.save(update_fields=["is_active", "updated_at"])
    return work_center


def _audit(instance: Any, actor: Any, reason: str) -> None:
    # django-simple-history reads these when it writes the history row of the next save().
    instance._change_reason = reason
    if actor is not None:
        instance._history_user = actor


def _span(start: time, end: time) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


# --- Machine state from telemetry -------------------------------------------------------------


@dataclass
class _MachineRun:
    """One machine's walk through a batch: the transitions and alarm changes it produced."""

    live: LiveState
    signals: Signals
    state: MachineState
    since: datetime
    transitions: list[tuple[datetime, MachineState]] = field(default_factory=list)
    raised: list[Alarm] = field(default_factory=list)
    cleared_in_db: list[tuple[datetime, ActiveAlarm]] = field(default_factory=list)
    changed: bool = False

    def move_to(self, state: MachineState, at: datetime) -> None:
        if state == self.state:
            return
        if self.transitions and self.transitions[-1][0] == at:
            self.transitions.pop()  # two changes at one instant: only the last one lasted
        self.transitions.append((at, state))
        self.state, self.since, self.changed = state, at, True


@transaction.atomic
def apply_readings(readings: Sequence[Reading]) -> None:
    """Fold a batch of readings into each machine's state, in one transaction.

    Per machine, in time order: a silence of `offline_after()` between two readings is an offline
    stretch from the last reading + the silence; each change of derived state closes the open
    interval and opens the next; alarms the machine raises or clears become Alarm rows (faults and
    warnings are told to the `operator` log). Readings older than the last one already applied do
    not rewrite history and are left out; readings of unknown work centers are ignored (telemetry
    rejects those before they get here). Each changed machine's delta is pushed after the commit.
    """
    by_code: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_code[reading.machine].append(reading)
    if not by_code:
        return
    centers = {wc.code: wc for wc in WorkCenter.objects.filter(code__in=by_code).select_related("department")}
    if not centers:
        return
    first = min(r.timestamp for r in readings)
    last = max(r.timestamp for r in readings)
    lives = _lock_live_states(list(centers.values()), first)
    working = _working_intervals(list(centers.values()), first, last + timedelta(seconds=1))
    silence = offline_after()

    runs: dict[int, _MachineRun] = {}
    for code, batch in by_code.items():
        work_center = centers.get(code)
        if work_center is None:
            continue
        live = lives[work_center.pk]
        run = _MachineRun(
            live=live, signals=Signals.from_json(live.signals), state=MachineState(live.state), since=live.since
        )
        for reading in sorted(batch, key=lambda r: r.timestamp):
            _step(run, reading, working.get(work_center.pk), silence)
        runs[work_center.pk] = run
    _write_runs(runs, centers)


def _step(run: _MachineRun, reading: Reading, working: list[calendar.Interval] | None, silence: timedelta) -> None:
    previous = run.signals
    if previous.last_seen is not None and reading.timestamp < previous.last_seen:
        return
    if previous.last_seen is not None and reading.timestamp - previous.last_seen >= silence:
        run.move_to(MachineState.OFFLINE, previous.last_seen + silence)
    signals = fold(previous, reading)
    if signals != previous:
        run.changed = True
    run.signals = signals
    for alarm in previous.alarms - signals.alarms:
        _clear_alarm(run, alarm, reading.timestamp)
    for alarm in signals.alarms - previous.alarms:
        run.raised.append(
            Alarm(
                work_center_id=run.live.work_center_id,
                source=alarm.source,
                code=alarm.code,
                level=alarm.level,
                raised_at=reading.timestamp,
            )
        )
    state = derive_state(
        signals, now=reading.timestamp, working_time=_is_working(working, reading.timestamp), silence=silence
    )
    run.move_to(state, reading.timestamp)


def _clear_alarm(run: _MachineRun, alarm: ActiveAlarm, at: datetime) -> None:
    """Clear an alarm raised earlier in this batch in memory, or else the stored one."""
    for pending in run.raised:
        if (pending.source, pending.code, pending.cleared_at) == (alarm.source, alarm.code, None):
            pending.cleared_at = at
            return
    run.cleared_in_db.append((at, alarm))


def _is_working(intervals: list[calendar.Interval] | None, instant: datetime) -> bool:
    # No calendar at all (None) means nothing says the plant is closed: count it as working time.
    if intervals is None:
        return True
    return any(start <= instant < end for start, end in intervals)


def _working_intervals(
    centers: list[WorkCenter], start: datetime, end: datetime
) -> dict[int, list[calendar.Interval] | None]:
    try:
        return dict(working_intervals_for(centers, start, end))
    except NoShiftCalendar:
        technical_log.warning("machine state: no plant default calendar, planned downtime cannot be told apart")
        return {}


def _lock_live_states(centers: list[WorkCenter], first_seen: datetime) -> dict[int, LiveState]:
    """The live rows of `centers`, locked for this transaction; new machines start offline."""
    ids = [wc.pk for wc in centers]
    existing = {live.work_center_id for live in LiveState.objects.filter(work_center_id__in=ids)}
    missing = [LiveState(work_center=wc, state=MachineState.OFFLINE, since=first_seen) for wc in centers]
    # ignore_conflicts: a second worker may create the same row between the read and the insert.
    LiveState.objects.bulk_create(
        [live for live in missing if live.work_center_id not in existing], ignore_conflicts=True
    )
    return {
        live.work_center_id: live
        for live in LiveState.objects.select_for_update().filter(work_center_id__in=ids).order_by("work_center_id")
    }


def _write_runs(runs: dict[int, _MachineRun], centers: dict[str, WorkCenter]) -> None:
    by_id = {wc.pk: wc for wc in centers.values()}
    new_intervals: list[MachineStateInterval] = []
    new_alarms: list[Alarm] = []
    changed: list[LiveState] = []
    for pk, run in runs.items():
        work_center = by_id[pk]
        if run.transitions:
            MachineStateInterval.objects.filter(work_center_id=pk, ended_at__isnull=True).update(
                ended_at=run.transitions[0][0]
            )
            # Closing the open interval changes no stored figure (none is stored across an open stop); new ones
            # do when the edge replays readings it buffered during an outage.
            amend_history(
                work_center_ids=[pk],
                start=run.transitions[0][0],
                end=run.transitions[-1][0],
                cause=AmendmentCause.MACHINE_DATA,
            )
            for (start, state), (end, _next) in zip(run.transitions, run.transitions[1:], strict=False):
                new_intervals.append(
                    MachineStateInterval(work_center_id=pk, state=state, started_at=start, ended_at=end)
                )
            start, state = run.transitions[-1]
            new_intervals.append(MachineStateInterval(work_center_id=pk, state=state, started_at=start))
        for at, alarm in run.cleared_in_db:
            Alarm.objects.filter(
                work_center_id=pk, source=alarm.source, code=alarm.code, cleared_at__isnull=True
            ).update(cleared_at=at)
        for raised in run.raised:
            new_alarms.append(raised)
            _tell_operators(work_center, raised)
        if run.changed:
            live = run.live
            live.state, live.since = run.state, run.since
            live.last_seen = run.signals.last_seen
            live.program = run.signals.program[:200]
            live.part_count = run.signals.part_count
            live.signals = run.signals.to_json()
            live.version += 1
            changed.append(live)
    MachineStateInterval.objects.bulk_create(new_intervals)
    Alarm.objects.bulk_create(new_alarms)
    LiveState.objects.bulk_update(
        changed, ["state", "since", "last_seen", "program", "part_count", "signals", "version"]
    )
    push_machine_deltas(_payload(live, by_id[live.work_center_id]) for live in changed)


def _tell_operators(work_center: WorkCenter, alarm: Alarm) -> None:
    """An alarm reaches the log panel and, as a notification (and Web Push), the operators clocked
    in to the machine: the shop floor registers that audience, which sits above this app."""
    fault = alarm.level == AlarmLevel.FAULT
    level = logging.ERROR if fault else logging.WARNING
    text = _("%(level)s %(code)s on %(machine)s (%(source)s)") % {
        "level": _("Fault") if fault else _("Warning"),
        "code": alarm.code,
        "machine": work_center.code,
        "source": alarm.source,
    }
    url = reverse("machines:workcenter-live", kwargs={"pk": work_center.pk})

    def tell() -> None:
        operator_log.log(level, text)
        notify_audience(MACHINE_CREW, work_center.pk, kind="alarm", title=text, body=alarm.message, url=url)

    transaction.on_commit(tell)


def _payload(live: LiveState, work_center: WorkCenter) -> dict[str, Any]:
    return machine_payload(
        work_center_id=work_center.pk,
        code=work_center.code,
        name=work_center.name,
        department_id=work_center.department_id,
        state=live.state,
        since=live.since,
        last_seen=live.last_seen,
        program=live.program,
        part_count=live.part_count,
        signals=live.signals,
        version=live.version,
    )


@transaction.atomic
def refresh_machine_states(*, now: datetime | None = None) -> int:
    """Run the state rules again at `now` for every machine with a live state: a machine silent
    for `offline_after()` goes offline (from its last reading + the silence), and one whose shift
    ended or began moves between planned downtime and its other states. Called by a periodic task;
    returns how many machines changed."""
    now = now or timezone.now()
    silence = offline_after()
    lives = list(LiveState.objects.select_for_update().select_related("work_center__department").order_by("pk"))
    if not lives:
        return 0
    centers = {live.work_center.code: live.work_center for live in lives}
    working = _working_intervals(list(centers.values()), now, now + timedelta(seconds=1))
    runs: dict[int, _MachineRun] = {}
    for live in lives:
        run = _MachineRun(
            live=live, signals=Signals.from_json(live.signals), state=MachineState(live.state), since=live.since
        )
        state = derive_state(
            run.signals, now=now, working_time=_is_working(working.get(live.work_center_id), now), silence=silence
        )
        if state == run.state:
            continue
        last_seen = run.signals.last_seen
        at = last_seen + silence if state is MachineState.OFFLINE and last_seen else now
        run.move_to(state, max(at, run.since))
        runs[live.work_center_id] = run
    _write_runs(runs, centers)
    return len(runs)


def amend_history(
    *, work_center_ids: Iterable[int], start: datetime | None, end: datetime | None, cause: AmendmentCause
) -> None:
    """Record that these machines' past changed from `start` to `end` (None: without bound), so that figures
    stored for it are computed again. Figures are stored only for time at least `AMENDMENT_DELAY` old, so a
    change younger than that (live data, a report made now) needs no record."""
    now = timezone.now()
    if start is not None and start >= now - AMENDMENT_DELAY:
        return
    HistoryAmendment.objects.bulk_create(
        HistoryAmendment(work_center_id=pk, start=start, end=end, recorded_at=now, cause=cause)
        for pk in set(work_center_ids)
    )


@transaction.atomic
def assign_downtime_reason(
    *, interval: MachineStateInterval, reason: DowntimeReason, user: Any
) -> MachineStateInterval:
    """Say why a machine stood still. Only stretches of downtime or alarm take a reason; giving
    another one replaces it (the last person to know better wins, and is recorded)."""
    require_permission(user, ASSIGN_DOWNTIME_REASON)
    locked = MachineStateInterval.objects.select_for_update().get(pk=interval.pk)
    if locked.state not in DOWN_STATES:
        raise ValidationError(_("Only downtime and alarm stretches take a downtime reason."), code="not_down")
    if not reason.is_active:
        raise ValidationError(_("This downtime reason is no longer in use."), code="inactive_reason")
    locked.reason, locked.reason_set_by, locked.reason_set_at = reason, user, timezone.now()
    locked.save(update_fields=["reason", "reason_set_by", "reason_set_at"])
    amend_history(
        work_center_ids=[locked.work_center_id],
        start=locked.started_at,
        end=locked.ended_at,
        cause=AmendmentCause.REASON_GIVEN,
    )
    return locked


@transaction.atomic
def acknowledge_alarm(*, alarm: Alarm, user: Any) -> Alarm:
    """Someone is on it. The first acknowledgement counts; a second one changes nothing."""
    require_permission(user, ACKNOWLEDGE_ALARM)
    Alarm.objects.filter(pk=alarm.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=timezone.now()
    )
    return Alarm.objects.select_related("acknowledged_by").get(pk=alarm.pk)


# --- TV displays ------------------------------------------------------------------------------


def hash_display_token(token: str) -> str:
    # The token is 32 random bytes: a plain SHA-256 cannot be reversed or guessed.
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_display_token(*, department: Department, name: str, user: Any) -> tuple[DisplayToken, str]:
    """A new display token and its secret, which is never stored and cannot be shown again."""
    require_permission(user, ADD_DISPLAY_TOKEN)
    secret = secrets.token_urlsafe(32)
    token = DisplayToken.objects.create(
        department=department, name=name, token_hash=hash_display_token(secret), created_by=user
    )
    return token, secret


def display_for_token(secret: str) -> DisplayToken | None:
    """The display a secret opens, or None (unknown or revoked)."""
    if not secret or len(secret) > 200:
        return None
    token = (
        DisplayToken.objects.select_related("department")
        .filter(token_hash=hash_display_token(secret), revoked=False)
        .first()
    )
    if token is not None:
        DisplayToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


@transaction.atomic
def revoke_display_tokens(*, token_ids: Sequence[int], user: Any) -> int:
    """Switch displays off for good (a stolen or retired screen); returns how many were live."""
    require_permission(user, "machines.change_displaytoken")
    return DisplayToken.objects.filter(pk__in=token_ids, revoked=False).update(revoked=True)
