"""State changes of machines: shifts with their breaks, the plant default calendar, work centers
going out of service, and the checks on calendars that the tables cannot express."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.permissions import require_permission

from . import calendar
from .models import Shift, ShiftBreak, ShiftCalendar, WorkCenter

CHANGE_SHIFT_CALENDAR = "machines.change_shiftcalendar"
CHANGE_WORK_CENTER = "machines.change_workcenter"
ADD_SHIFT = "machines.add_shift"
CHANGE_SHIFT = "machines.change_shift"


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
