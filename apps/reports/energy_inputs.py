"""What the energy figures read from the database, and the figures themselves for a scope and a period.

Queries, whatever the number of machines: the machines (with whether each ever reported a power metric), the
hourly roll-ups of their power, their `running` intervals, the raw power samples of the hours the roll-ups cannot
answer (see `energy.hours_needing_samples`), and their good parts. The pure `energy` module does the arithmetic.

Which metrics are power: `POWER_METRICS`, metric name -> kW per reported unit, in order of preference (a machine
reporting two is read from the first it has ever reported). A deployment can replace it with the setting
`ENERGY_POWER_METRICS` (same shape), e.g. `{"power_kw": 1, "wattage": 0.001}` for a meter that reports watts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.machines.machine_state import MachineState
from apps.machines.models import MachineStateInterval, WorkCenter
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import ProductionEvent
from apps.telemetry.models import HourlyRollup, Sample, SampleBlock

from .energy import (
    MAX_HOLD,
    EnergyInput,
    HourMean,
    Interval,
    MachineEnergy,
    PartsReport,
    PowerReading,
    energy_by_window,
    hours_needing_samples,
    sample_ranges,
)
from .selectors import Scope

POWER_METRICS: Mapping[str, float] = {"power_kw": 1.0}
# The roll-up task rewrites the last two hours every ten minutes: an hour's roll-up is trusted this long after it.
ROLLUP_SETTLING = timedelta(minutes=30)
# Raw samples are read in at most this many time ranges (one OR each): a short query even over many days.
MAX_SAMPLE_RANGES = 48


def power_metrics() -> dict[str, float]:
    """The metrics that count as power, name -> kW per unit; a wrong setting is refused with what is wrong."""
    configured = getattr(settings, "ENERGY_POWER_METRICS", None)
    metrics = dict(POWER_METRICS if configured is None else configured)
    if not metrics:
        raise ImproperlyConfigured("ENERGY_POWER_METRICS must name at least one power metric.")
    for name, factor in metrics.items():
        if not isinstance(name, str) or not name:
            raise ImproperlyConfigured(f"ENERGY_POWER_METRICS: {name!r} is not a metric name.")
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor < math.inf:
            raise ImproperlyConfigured(
                f"ENERGY_POWER_METRICS[{name!r}] must be a positive number of kW per unit, not {factor!r}."
            )
    return metrics


def settled_before(now: datetime) -> datetime:
    return now - ROLLUP_SETTLING


def machine_energies(
    scope: Scope,
    start: datetime,
    end: datetime,
    *,
    windows: Sequence[Interval] = (),
    now: datetime | None = None,
) -> list[MachineEnergy]:
    """Every machine in `scope`: its energy over [start, end), and over each of `windows` (e.g. the days)."""
    now = now or timezone.now()
    everything = [(start, end), *windows]
    settled = settled_before(now)
    result = []
    for machine in energy_inputs(scope, everything, now=now, settled=settled):
        whole, *per_window = energy_by_window(machine, everything, settled_before=settled)
        result.append(
            MachineEnergy(
                machine_id=machine.machine_id,
                code=machine.code,
                name=machine.name,
                department=machine.department,
                power_metric=machine.power_metric,
                energy=whole,
                per_window=tuple(per_window),
            )
        )
    return result


def energy_inputs(
    scope: Scope,
    windows: Sequence[Interval],
    *,
    now: datetime,
    settled: datetime,
    metrics: Mapping[str, float] | None = None,
    max_hold: timedelta = MAX_HOLD,
) -> list[EnergyInput]:
    """One `EnergyInput` per machine in `scope`, with what `energy_by_window` needs for `windows` and no more."""
    metrics = dict(metrics or power_metrics())
    if not windows:
        return []
    lo = min(start for start, _end in windows)
    hi = max(end for _start, end in windows)
    centers = _with_power_metric(scope, list(metrics))
    if not centers:
        return []
    chosen = {wc.pk: metric for wc, metric in centers if metric is not None}
    hours = _hour_means(chosen, metrics, lo, hi)
    running = _running(list(chosen), lo, hi, now)
    parts = _good_parts([wc.pk for wc, _metric in centers], lo, hi)
    inputs = [
        EnergyInput(
            machine_id=wc.pk,
            code=wc.code,
            name=wc.name,
            department=wc.department.name,
            power_metric=metric,
            hours=hours.get(wc.pk, ()),
            running=running.get(wc.pk, ()),
            good_parts=parts.get(wc.pk, ()),
        )
        for wc, metric in centers
    ]
    groups = _sample_groups(
        {
            machine.machine_id: hours_needing_samples(machine, windows, settled_before=settled)
            for machine in inputs
            if machine.power_metric is not None
        },
        max_hold,
    )
    readings = _readings(chosen, metrics, groups)
    return [replace(machine, readings=readings.get(machine.machine_id, ())) for machine in inputs]


def _with_power_metric(scope: Scope, names: list[str]) -> list[tuple[WorkCenter, str | None]]:
    """The machines in scope, each with the first power metric it ever reported (raw or rolled up), or None.

    One query: an EXISTS per metric and table, each answered from the (work center, metric, ...) indexes.
    """
    checks = {}
    for index, name in enumerate(names):
        checks[f"energy_sample_{index}"] = Exists(Sample.objects.filter(work_center=OuterRef("pk"), metric=name))
        checks[f"energy_block_{index}"] = Exists(SampleBlock.objects.filter(work_center=OuterRef("pk"), metric=name))
        checks[f"energy_rollup_{index}"] = Exists(HourlyRollup.objects.filter(work_center=OuterRef("pk"), metric=name))
    centers = list(scope.work_centers().annotate(**checks))
    chosen: list[tuple[WorkCenter, str | None]] = []
    for wc in centers:
        metric = next(
            (
                name
                for index, name in enumerate(names)
                if getattr(wc, f"energy_sample_{index}")
                or getattr(wc, f"energy_block_{index}")
                or getattr(wc, f"energy_rollup_{index}")
            ),
            None,
        )
        chosen.append((wc, metric))
    return chosen


def _hour_means(
    chosen: Mapping[int, str], metrics: Mapping[str, float], lo: datetime, hi: datetime
) -> dict[int, list[HourMean]]:
    if not chosen:
        return {}
    first_hour = lo.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rows = HourlyRollup.objects.filter(
        work_center_id__in=list(chosen), metric__in=set(chosen.values()), hour__gte=first_hour, hour__lt=hi
    ).values_list("work_center_id", "metric", "hour", "mean")
    means: dict[int, list[HourMean]] = defaultdict(list)
    for work_center_id, metric, hour, mean in rows:
        if chosen.get(work_center_id) == metric:
            means[work_center_id].append(HourMean(hour=hour, mean_kw=mean * metrics[metric]))
    return means


def _running(machine_ids: list[int], lo: datetime, hi: datetime, now: datetime) -> dict[int, list[Interval]]:
    """The `running` intervals overlapping [lo, hi); the current one ends now."""
    if not machine_ids:
        return {}
    rows = (
        MachineStateInterval.objects.filter(
            work_center_id__in=machine_ids, state=MachineState.RUNNING, started_at__lt=hi
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=lo))
        .values_list("work_center_id", "started_at", "ended_at")
    )
    running: dict[int, list[Interval]] = defaultdict(list)
    for work_center_id, started_at, ended_at in rows:
        finish = ended_at or now
        if finish > started_at:
            running[work_center_id].append((started_at, finish))
    return running


def _good_parts(machine_ids: list[int], lo: datetime, hi: datetime) -> dict[int, list[PartsReport]]:
    """Good parts reported on the floor, as OEE counts them (reports and completions)."""
    rows = ProductionEvent.objects.filter(
        work_center_id__in=machine_ids,
        at__gte=lo,
        at__lt=hi,
        kind__in=(EventKind.REPORT, EventKind.COMPLETE),
        quantity_good__gt=0,
    ).values_list("work_center_id", "at", "quantity_good")
    parts: dict[int, list[PartsReport]] = defaultdict(list)
    for work_center_id, at, good in rows:
        parts[work_center_id].append(PartsReport(at=at, good=good))
    return parts


SampleGroups = dict[tuple[Interval, ...], list[int]]


def _sample_groups(needed: Mapping[int, Sequence[datetime]], max_hold: timedelta) -> SampleGroups:
    """Which samples to read: each machine's own time ranges (machines needing the same ranges share them), or,
    when the machines differ in too many ways, the ranges any of them needs, for all of them."""
    groups: SampleGroups = defaultdict(list)
    for machine_id, hours in needed.items():
        if hours:
            groups[tuple(sample_ranges(hours, max_hold=max_hold, limit=MAX_SAMPLE_RANGES))].append(machine_id)
    if sum(len(ranges) for ranges in groups) > MAX_SAMPLE_RANGES:
        every_hour = {hour for hours in needed.values() for hour in hours}
        ranges = tuple(sample_ranges(every_hour, max_hold=max_hold, limit=MAX_SAMPLE_RANGES))
        return {ranges: [machine_id for machine_id, hours in needed.items() if hours]}
    return dict(groups)


def _where(groups: SampleGroups, overlaps: Callable[[datetime, datetime], Q]) -> Q:
    return reduce(
        or_,
        (
            Q(work_center_id__in=machine_ids) & reduce(or_, (overlaps(begin, finish) for begin, finish in ranges))
            for ranges, machine_ids in groups.items()
        ),
    )


def _readings(
    chosen: Mapping[int, str], metrics: Mapping[str, float], groups: SampleGroups
) -> dict[int, list[PowerReading]]:
    """Raw power samples in the machines' ranges, stored as rows or in sample blocks; a sample without a number
    (unavailable, or text) holds nothing."""
    if not chosen or not groups:
        return {}
    readings: dict[int, list[PowerReading]] = defaultdict(list)

    def add(work_center_id: int, metric: str, timestamp: datetime, value: float | None) -> None:
        if chosen.get(work_center_id) == metric:
            kw = None if value is None or not math.isfinite(value) else value * metrics[metric]
            readings[work_center_id].append(PowerReading(at=timestamp, kw=kw))

    of_chosen = {"work_center_id__in": list(chosen), "metric__in": set(chosen.values())}
    rows = (
        Sample.objects.filter(**of_chosen)
        .filter(_where(groups, lambda begin, finish: Q(timestamp__gte=begin, timestamp__lt=finish)))
        .values_list("work_center_id", "metric", "timestamp", "value_number")
    )
    for row in rows:
        add(*row)
    ranges_of = {machine_id: ranges for ranges, machine_ids in groups.items() for machine_id in machine_ids}
    blocks = SampleBlock.objects.filter(**of_chosen).filter(
        _where(groups, lambda begin, finish: Q(start__lt=finish, end__gte=begin))
    )
    for block in blocks:
        ranges = ranges_of[block.work_center_id]
        for _sequence, timestamp, value in block.samples():
            if any(begin <= timestamp < finish for begin, finish in ranges):
                add(block.work_center_id, block.metric, timestamp, value)
    return readings
