"""OEE figures for a plant, a department or a machine over a period: what the dashboards, the reports and
the API show, computed once here from the selectors' inputs and the pure `oee` and `analytics` modules.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.machines import calendar
from apps.machines.selectors import plant_time_zone

from . import analytics, charts, closed_days, days, oee
from .selectors import Scope, machine_inputs

WORLD_CLASS = Decimal("0.85")

# The six big losses in the order OEE literature gives them: the figure's minutes attribute and its name.
SIX_BIG_LOSSES = (
    ("breakdown_minutes", gettext_lazy("Breakdowns")),
    ("setup_minutes", gettext_lazy("Setups and adjustments")),
    ("small_stop_minutes", gettext_lazy("Small stops")),
    ("reduced_speed_minutes", gettext_lazy("Reduced speed")),
    ("startup_reject_minutes", gettext_lazy("Start-up rejects")),
    ("production_reject_minutes", gettext_lazy("Production rejects")),
)


def loss_minutes(figures: oee.OeeFigures) -> dict[str, Decimal | None]:
    """Minutes of each of the six big losses, keyed as in SIX_BIG_LOSSES; None without data (never 0)."""
    return {key: getattr(figures, key) if figures.has_data else None for key, _label in SIX_BIG_LOSSES}


def loss_series(figures: Sequence[oee.OeeFigures]) -> list[tuple[str, list[Decimal | None]]]:
    """The six big losses as chart series (one per loss, one value per figure), for pages and PDF alike."""
    rows = [loss_minutes(f) for f in figures]
    return [(str(label), [row[key] for row in rows]) for key, label in SIX_BIG_LOSSES]


def percent(value: Decimal | None) -> str:
    """A ratio as pages and reports print it, like the charts: "85.3 %", or a dash for no data (never 0 %)."""
    return "—" if value is None else charts.percent_text(value)


def chart_words() -> charts.Wording:
    """The words the charts print, in the active language (the chart module itself has no translations)."""
    return charts.Wording(
        no_data=_("No data"),
        no_value=_("no data"),
        target=_("Target"),
        world_class=_("World class"),
        minutes=_("Minutes"),
        minutes_unit=_("min"),
        cumulative=_("Cumulative %"),
    )


@dataclass(frozen=True)
class Period:
    """Plant-local days `first_day`..`last_day`; a period that reaches today ends now."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @classmethod
    def of_days(cls, first_day: date, last_day: date, *, now: datetime | None = None) -> Period:
        now = now or timezone.now()
        start, end = calendar.day_span(first_day, last_day, plant_time_zone())
        return cls(first_day, last_day, start, min(end, max(now, start)))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


@dataclass(frozen=True)
class MachineFigures:
    machine: oee.MachineInput
    figures: oee.OeeFigures
    trend: tuple[tuple[oee.Window, oee.OeeFigures], ...] = ()


@dataclass(frozen=True)
class GroupFigures:
    """A department: its machines' figures combined from their sums."""

    label: str
    figures: oee.OeeFigures
    machines: tuple[MachineFigures, ...]


@dataclass(frozen=True)
class PlantFigures:
    period: Period
    scope: Scope
    granularity: oee.Granularity
    shift_name: str
    plant: oee.OeeFigures
    departments: tuple[GroupFigures, ...]
    machines: tuple[MachineFigures, ...]
    trend: tuple[tuple[oee.Window, oee.OeeFigures], ...]
    shifts: tuple[tuple[str, oee.OeeFigures], ...]
    pareto_by_reason: tuple[analytics.ParetoRow, ...]
    pareto_by_machine: tuple[analytics.ParetoRow, ...]
    pareto_by_department: tuple[analytics.ParetoRow, ...]
    shift_names: tuple[str, ...]


def default_granularity(period: Period) -> oee.Granularity:
    if period.days <= 2:
        return oee.Granularity.SHIFT
    if period.days <= 45:
        return oee.Granularity.DAY
    if period.days <= 200:
        return oee.Granularity.WEEK
    return oee.Granularity.MONTH


def plant_figures(
    period: Period,
    scope: Scope | None = None,
    *,
    granularity: oee.Granularity | None = None,
    shift_name: str = "",
    settings: oee.OeeSettings | None = None,
    now: datetime | None = None,
) -> PlantFigures:
    """Everything the plant and department dashboards and the OEE report show, in a constant number of queries.

    Built from each machine's day parts (`days.py`): closed days come back from storage, today is computed. With
    `shift_name`, every figure covers only that shift's occurrences in the period (e.g. the night shift).
    """
    scope = scope or Scope()
    settings = settings or oee.OeeSettings()
    granularity = granularity or default_granularity(period)
    tz = plant_time_zone()
    centers = list(scope.work_centers())
    parts = closed_days.machine_parts(centers, period.start, period.end, tz, settings, now or timezone.now())
    trend_windows = (
        [] if granularity is oee.Granularity.SHIFT else oee.period_windows(period.start, period.end, granularity, tz)
    )
    trend_starts = [window.start for window in trend_windows]

    machines: list[MachineFigures] = []
    by_window: dict[oee.Window, list[oee.OeeFigures]] = defaultdict(list)
    by_shift: dict[str, list[oee.OeeFigures]] = defaultdict(list)
    shift_names: set[str] = set()
    lost: dict[int, analytics.LostTime] = {}
    for wc in centers:
        machine_parts = parts[wc.pk]
        per_shift = _per_occurrence(machine_parts, tz)
        for _window, figures, name in per_shift:
            by_shift[name].append(figures)
            shift_names.add(name)
        if shift_name:
            total = oee.combine([f for _w, f, name in per_shift if name == shift_name])
            counted = [part for part in machine_parts if part.shift == shift_name]
        else:
            total = oee.add_up([part.figures for part in machine_parts])
            counted = machine_parts
        lost[wc.pk] = analytics.merge_lost_time(part.lost for part in counted)
        if granularity is oee.Granularity.SHIFT:
            trend = [(w, f) for w, f, name in per_shift if not shift_name or name == shift_name]
        else:
            grouped: dict[int, list[oee.OeeFigures]] = defaultdict(list)
            for part in machine_parts:
                grouped[bisect_right(trend_starts, part.start) - 1].append(part.figures)
            trend = [(trend_windows[index], oee.add_up(figures)) for index, figures in sorted(grouped.items())]
        for window, figures in trend:
            by_window[window].append(figures)
        machine = oee.MachineInput(wc.pk, wc.code, wc.name, wc.department.name, (), (), (), (), ())
        machines.append(MachineFigures(machine, total, tuple(trend)))

    lost_by_machine = {m.machine.machine_id: lost[m.machine.machine_id] for m in machines}
    by_department: dict[str, tuple[str, list[analytics.LostTime]]] = {}
    for m in machines:
        by_department.setdefault(m.machine.department, (m.machine.department, []))[1].append(
            lost_by_machine[m.machine.machine_id]
        )
    # The drill-down stays on the machine pages: dropping it here keeps the answer small enough to cache.
    lean_machines = [
        MachineFigures(m.machine, _lean(m.figures), tuple((w, _lean(f)) for w, f in m.trend)) for m in machines
    ]
    return PlantFigures(
        period=period,
        scope=scope,
        granularity=granularity,
        shift_name=shift_name,
        plant=_lean(oee.combine([m.figures for m in machines])),
        departments=tuple(_by_department(lean_machines)),
        machines=tuple(lean_machines),
        trend=tuple(sorted(((w, _lean(oee.combine(f))) for w, f in by_window.items()), key=lambda row: row[0].start)),
        shifts=tuple(
            (name, _lean(oee.combine(by_shift[name])))
            for name in sorted(by_shift)
            if name == shift_name or not shift_name
        ),
        pareto_by_reason=tuple(analytics.pareto(analytics.reason_items(analytics.merge_lost_time(lost.values())))),
        pareto_by_machine=tuple(
            analytics.pareto(
                analytics.group_items(
                    {
                        str(m.machine.machine_id): (m.machine.code, [lost_by_machine[m.machine.machine_id]])
                        for m in machines
                    }
                )
            )
        ),
        pareto_by_department=tuple(analytics.pareto(analytics.group_items(by_department))),
        shift_names=tuple(sorted(shift_names)),
    )


def _per_occurrence(parts: Sequence[days.DayPart], tz: ZoneInfo) -> list[tuple[oee.Window, oee.OeeFigures, str]]:
    """One machine's figures per shift occurrence (its parts on either side of midnight added up), in time order."""
    grouped: dict[datetime, list[days.DayPart]] = defaultdict(list)
    for part in parts:
        if part.occurrence is not None:
            grouped[part.occurrence].append(part)
    result = []
    for occurrence, members in sorted(grouped.items()):
        name = members[0].shift
        window = oee.Window(f"{occurrence.astimezone(tz).date().isoformat()} {name}", members[0].start, members[-1].end)
        result.append((window, oee.add_up([part.figures for part in members]), name))
    return result


def _lean(figures: oee.OeeFigures) -> oee.OeeFigures:
    return replace(figures, pieces=(), counts=())


def recent_plant_figures(
    first_day: date,
    last_day: date,
    scope: Scope,
    *,
    granularity: oee.Granularity | None = None,
    shift_name: str = "",
) -> PlantFigures:
    """`plant_figures` as the dashboards and the API show it: computed at most once per
    `OEE_CACHE_SECONDS` for the same question, so a wall of screens and many managers cost one computation.

    A finished period does not change (but for a reason given late); today's figures lag by at most that long.
    """
    key = "reports:plant:" + ":".join(
        str(part)
        for part in (
            first_day,
            last_day,
            scope.department_id,
            ",".join(map(str, scope.work_center_ids)),
            granularity or "",
            shift_name,
            translation.get_language(),
        )
    )
    found = cache.get(key)
    if isinstance(found, PlantFigures):
        return found
    figures = plant_figures(Period.of_days(first_day, last_day), scope, granularity=granularity, shift_name=shift_name)
    cache.set(key, figures, timeout=settings.OEE_CACHE_SECONDS)
    return figures


def _by_department(machines: Sequence[MachineFigures]) -> list[GroupFigures]:
    groups: dict[str, list[MachineFigures]] = defaultdict(list)
    for m in machines:
        groups[m.machine.department].append(m)
    return [
        GroupFigures(label=name, figures=oee.combine([m.figures for m in members]), machines=tuple(members))
        for name, members in groups.items()
    ]


def machine_period(
    machine_id: int, period: Period, settings: oee.OeeSettings | None = None
) -> tuple[oee.MachineInput, oee.OeeFigures, list[tuple[oee.Window, oee.OeeFigures]]]:
    """One machine's figures with their drill-down, and its figures per shift."""
    settings = settings or oee.OeeSettings()
    inputs = machine_inputs(Scope(work_center_ids=(machine_id,)), period.start, period.end, now=period.end)
    if not inputs:
        raise LookupError(machine_id)
    machine = inputs[0]
    shifts = oee.period_windows(period.start, period.end, oee.Granularity.SHIFT, plant_time_zone(), machine.shifts)
    # One pass over the intervals for the whole period and each shift.
    (_whole, figures), *per_shift = oee.oee_by_period(
        machine, [oee.Window(period.label, period.start, period.end), *shifts], settings
    )
    return machine, figures, per_shift
