"""The plant's reports: OEE summary, downtime Pareto, late jobs, schedule adherence and quality summary.

Each builder reads through the selectors and `figures`, computes with the pure modules and returns a
`ReportDocument`; the PDF and the workbook are both rendered from it, so they always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.machines.models import Department, WorkCenter
from apps.machines.selectors import end_of_plant_day, plant_time_zone
from apps.routings.choices import JobStatus, OperationStatus
from apps.routings.models import Job, Operation
from apps.shopfloor.choices import EventKind
from apps.shopfloor.models import ProductionEvent, ScrapReason

from . import analytics, charts, oee
from .definitions import ReportDefinition, ReportParameters, register
from .documents import Cell, ChartHint, Column, ColumnKind, Figure, ReportDocument, Section, Table, Total
from .figures import (
    SIX_BIG_LOSSES,
    WORLD_CLASS,
    Period,
    chart_words,
    loss_minutes,
    loss_series,
    percent,
    plant_figures,
)
from .report_cost import COST_REPORT
from .report_energy import ENERGY_REPORT
from .selectors import Scope
from .targets import targets_for

Builder = Callable[[ReportParameters], ReportDocument]

PCT = ColumnKind.PERCENT
MIN = ColumnKind.MINUTES
INT = ColumnKind.INTEGER


def in_language(build: Builder) -> Builder:
    """Build in the language the run asks for (schedules e-mail Spanish-speaking recipients in Spanish)."""

    @wraps(build)
    def wrapper(parameters: ReportParameters) -> ReportDocument:
        with translation.override(parameters.language):
            return build(parameters)

    return wrapper


@cache
def plant_logo() -> str:
    path = Path(settings.PLANT_LOGO_SVG)
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _period(parameters: ReportParameters) -> Period:
    return Period.of_days(parameters.period_start, parameters.period_end)


def _scope(parameters: ReportParameters) -> Scope:
    return Scope(department_id=parameters.department_id, work_center_ids=tuple(parameters.work_center_ids))


def _document(title: str, code: str, parameters: ReportParameters, sections: list[Section]) -> ReportDocument:
    period = _period(parameters)
    described: list[tuple[str, str]] = [(_("Period"), period.label)]
    if parameters.department_id is not None:
        department = Department.objects.filter(pk=parameters.department_id).values_list("name", flat=True).first()
        described.append((_("Department"), department or "—"))
    if parameters.work_center_ids:
        codes = (
            WorkCenter.objects.filter(pk__in=parameters.work_center_ids).order_by("code").values_list("code", flat=True)
        )
        described.append((_("Machines"), ", ".join(codes)))
    return ReportDocument(
        title=title,
        plant=settings.PLANT_NAME,
        period_label=period.label,
        generated_at=timezone.now(),
        time_zone=settings.PLANT_TIME_ZONE,
        parameters=described,
        sections=sections,
        logo_svg=plant_logo(),
        language=parameters.language,
        file_stem=f"{code}-{parameters.period_start.isoformat()}-{parameters.period_end.isoformat()}",
    )


def _figure_cells(f: oee.OeeFigures) -> dict[str, Cell]:
    return {
        "oee": f.oee,
        "availability": f.availability,
        "performance": f.performance,
        "quality": f.quality,
        "planned": f.planned_production_minutes if f.has_data else None,
        "run": f.run_time_minutes if f.has_data else None,
        "good": f.good if f.has_data else None,
        "scrap": f.scrap if f.has_data else None,
    }


def _figure_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("oee", _("OEE"), PCT, width=9),
        Column("availability", _("Availability"), PCT, width=12),
        Column("performance", _("Performance"), PCT, width=12),
        Column("quality", _("Quality"), PCT, width=9),
        Column("planned", _("Planned (min)"), MIN, Total.SUM),
        Column("run", _("Run time (min)"), MIN, Total.SUM),
        Column("good", _("Good"), INT, Total.SUM, width=9),
        Column("scrap", _("Scrap"), INT, Total.SUM, width=9),
    ]


@in_language
def oee_summary(parameters: ReportParameters) -> ReportDocument:
    period = _period(parameters)
    figures = plant_figures(period, _scope(parameters))
    target = targets_for(department_id=parameters.department_id)
    plant = figures.plant
    w = chart_words()
    summary = Section(
        title=_("Summary"),
        text=_(
            "OEE = availability × performance × quality. Planned production time is shift time minus breaks, "
            "planned maintenance and planned stops; time with no work scheduled and time without data are shown "
            "apart and not counted. Machines without data are listed as such, never as 0 %."
        ),
        figures=[
            Figure(_("OEE"), percent(plant.oee), _("target %(target)s, world class %(world)s")
                   % {"target": percent(target.oee), "world": percent(WORLD_CLASS)}),
            Figure(_("Availability"), percent(plant.availability)),
            Figure(_("Performance"), percent(plant.performance)),
            Figure(_("Quality"), percent(plant.quality)),
            Figure(_("Good parts"), str(plant.good), _("%(scrap)s scrap") % {"scrap": plant.scrap}),
            Figure(_("Machines with data"), f"{plant.machines} / {len(figures.machines)}"),
        ],
        charts=[
            charts.trend([(window.label, f.oee) for window, f in figures.trend], title=_("OEE trend"),
                         target=target.oee, words=w),
            charts.bars([(m.machine.code, m.figures.oee) for m in figures.machines], title=_("OEE per machine"),
                        target=target.oee, words=w),
            charts.pareto([(row.label, row.minutes, row.cumulative_share) for row in figures.pareto_by_reason[:12]],
                          title=_("Downtime by reason"), words=w),
        ],
    )  # fmt: skip
    machine_rows = [
        {
            "machine": m.machine.code,
            "name": m.machine.name,
            "department": m.machine.department,
            **_figure_cells(m.figures),
            "mtbf": m.figures.mtbf_minutes,
            "mttr": m.figures.mttr_minutes,
        }
        for m in figures.machines
    ]
    first, *ratios = _figure_columns(Column("machine", _("Machine"), total=Total.LABEL, width=12))
    machine_columns = [
        first,
        Column("name", _("Name"), width=22),
        Column("department", _("Department"), width=16),
        *ratios,
        Column("mtbf", _("MTBF (min)"), MIN, width=11),
        Column("mttr", _("MTTR (min)"), MIN, width=11),
    ]
    losses_rows: list[dict[str, Cell]] = [
        {"machine": m.machine.code, **loss_minutes(m.figures)} for m in figures.machines
    ]
    losses_columns = [Column("machine", _("Machine"), total=Total.LABEL, width=12)] + [
        Column(key, str(label), MIN, Total.SUM, width=14) for key, label in SIX_BIG_LOSSES
    ]
    day_rows = [
        {"machine": m.machine.code, "window": window.label, **_figure_cells(f)}
        for m in figures.machines
        for window, f in m.trend
    ]
    sections = [
        summary,
        Section(
            title=_("Departments and shifts"),
            charts=[
                charts.stacked_bars(
                    [name for name, _f in figures.shifts],
                    loss_series([f for _name, f in figures.shifts]),
                    title=_("Six big losses per shift (minutes)"),
                    words=w,
                )
            ],  # fmt: skip
            tables=[
                Table(
                    _("Departments"),
                    _("Departments"),
                    _figure_columns(Column("department", _("Department"), total=Total.LABEL, width=18)),
                    [{"department": g.label, **_figure_cells(g.figures)} for g in figures.departments],
                ),
                Table(
                    _("Shifts"),
                    _("Shifts"),
                    _figure_columns(Column("shift", _("Shift"), width=18)),
                    [{"shift": name, **_figure_cells(f)} for name, f in figures.shifts],
                ),
            ],
        ),
        Section(
            title=_("Machines"),
            page_break_before=True,
            tables=[
                Table(_("OEE per machine"), _("Machines"), machine_columns, machine_rows),
                Table(
                    _("Six big losses per machine (minutes)"),
                    _("Losses"),
                    losses_columns,
                    losses_rows,
                    chart=ChartHint("bar", "machine", tuple(key for key, _l in SIX_BIG_LOSSES), _("Six big losses")),
                ),
            ],
        ),
        Section(
            title=_("Downtime Pareto"),
            tables=[_pareto_table(_("Downtime by reason"), _("Pareto by reason"), figures.pareto_by_reason)],
        ),
        Section(
            title=_("Machines per %(period)s") % {"period": _granularity_word(figures.granularity)},
            page_break_before=True,
            tables=[
                Table(
                    _("OEE per machine and %(period)s") % {"period": _granularity_word(figures.granularity)},
                    _("Per period"),
                    [
                        Column("machine", _("Machine"), width=12),
                        *_figure_columns(Column("window", _("Period"), width=20)),
                    ],
                    day_rows,
                )
            ],
        ),
    ]
    return _document(_("OEE summary"), "oee-summary", parameters, sections)


def _minutes_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value} min"


def _granularity_word(granularity: oee.Granularity) -> str:
    return {
        oee.Granularity.SHIFT: _("shift"),
        oee.Granularity.DAY: _("day"),
        oee.Granularity.WEEK: _("week"),
        oee.Granularity.MONTH: _("month"),
    }[granularity]


def _pareto_table(title: str, sheet: str, rows: tuple[analytics.ParetoRow, ...] | list[analytics.ParetoRow]) -> Table:
    return Table(
        title,
        sheet,
        [
            Column("cause", _("Cause"), total=Total.LABEL, width=28),
            Column("minutes", _("Minutes"), MIN, Total.SUM, width=11),
            Column("stops", _("Stops"), INT, Total.SUM, width=8),
            Column("share", _("Share"), PCT, width=9),
            Column("cumulative", _("Cumulative"), PCT, width=11),
        ],
        [
            {
                "cause": row.label,
                "minutes": oee.to_minutes(row.seconds),
                "stops": row.occurrences,
                "share": row.share,
                "cumulative": row.cumulative_share,
            }
            for row in rows
        ],
        chart=ChartHint("bar", "cause", ("minutes",), title),
    )


@in_language
def downtime_pareto(parameters: ReportParameters) -> ReportDocument:
    figures = plant_figures(_period(parameters), _scope(parameters))
    w = chart_words()
    sections = [
        Section(
            title=_("Downtime Pareto"),
            text=_(
                "Lost time: stops (breakdowns and small stops) and setups, by the reason operators gave. "
                "Planned stops, breaks and time with no work scheduled are not losses and are left out."
            ),
            charts=[
                charts.pareto(
                    [(row.label, row.minutes, row.cumulative_share) for row in rows[:15]], title=title, words=w
                )
                for title, rows in (
                    (_("By reason"), figures.pareto_by_reason),
                    (_("By machine"), figures.pareto_by_machine),
                )
            ],
            tables=[
                _pareto_table(_("By reason"), _("By reason"), figures.pareto_by_reason),
                _pareto_table(_("By machine"), _("By machine"), figures.pareto_by_machine),
                _pareto_table(_("By department"), _("By department"), figures.pareto_by_department),
            ],
        )
    ]
    return _document(_("Downtime Pareto"), "downtime-pareto", parameters, sections)


def _operations_in(parameters: ReportParameters) -> Q:
    scope = Q()
    if parameters.department_id is not None:
        scope &= Q(work_center__department_id=parameters.department_id)
    if parameters.work_center_ids:
        scope &= Q(work_center_id__in=parameters.work_center_ids)
    return scope


@in_language
def late_jobs(parameters: ReportParameters) -> ReportDocument:
    """Jobs due in the period that finished after their due date or are still open past it."""
    period = _period(parameters)
    now = timezone.now()
    jobs = (
        Job.objects.filter(due_date__gte=parameters.period_start, due_date__lte=parameters.period_end)
        .exclude(status__in=(JobStatus.CANCELLED, JobStatus.DRAFT))
        .select_related("customer", "part")
        .annotate(finished=Max("operations__actual_end"))
        .order_by("due_date", "number")
    )
    if parameters.department_id is not None or parameters.work_center_ids:
        jobs = jobs.filter(operations__in=Operation.objects.filter(_operations_in(parameters))).distinct()
    rows = []
    tz = plant_time_zone()
    for job in jobs:
        deadline = end_of_plant_day(job.due_date)
        done = job.status == JobStatus.COMPLETE
        finished = job.finished if done else None
        measured = finished if finished is not None else min(now, period.end) if not done else None
        if measured is None or measured <= deadline:
            continue
        rows.append(
            {
                "job": job.number,
                "customer": job.customer.name,
                "part": job.part.number,
                "quantity": job.quantity,
                "due": job.due_date,
                "finished": finished,
                "status": job.get_status_display(),
                "days_late": (measured.astimezone(tz).date() - job.due_date).days,
            }
        )
    table = Table(
        _("Late jobs"),
        _("Late jobs"),
        [
            Column("job", _("Job"), total=Total.LABEL, width=14),
            Column("customer", _("Customer"), width=22),
            Column("part", _("Part"), width=16),
            Column("quantity", _("Quantity"), INT, Total.SUM, width=9),
            Column("due", _("Due"), ColumnKind.DATE, width=11),
            Column("finished", _("Finished"), ColumnKind.DATETIME, width=16),
            Column("status", _("Status"), width=12),
            Column("days_late", _("Days late"), INT, Total.AVERAGE, width=10),
        ],
        rows,
        note=_("A job is late when it finished after the end of its due date, or is still open after it."),
    )
    due = jobs.count()
    section = Section(
        title=_("Late jobs"),
        figures=[
            Figure(_("Jobs due"), str(due)),
            Figure(_("Late"), str(len(rows))),
            Figure(_("On time"), percent(oee.ratio(due - len(rows), due))),
        ],
        tables=[table],
    )
    return _document(_("Late jobs"), "late-jobs", parameters, [section])


@in_language
def schedule_adherence(parameters: ReportParameters) -> ReportDocument:
    period = _period(parameters)
    operations = (
        Operation.objects.filter(_operations_in(parameters))
        .filter(
            Q(actual_start__gte=period.start, actual_start__lt=period.end)
            | Q(planned_start__gte=period.start, planned_start__lt=period.end)
        )
        .exclude(status=OperationStatus.CANCELLED)
        .select_related("job", "work_center")
        .order_by("planned_start", "pk")
    )
    summary = analytics.adherence(
        [
            analytics.PlannedActual(
                operation_id=op.pk,
                label=f"{op.job.number}/{op.sequence} {op.operation_code}",
                work_center=op.work_center.code if op.work_center else "",
                planned_start=op.planned_start,
                planned_end=op.planned_end,
                actual_start=op.actual_start,
                actual_end=op.actual_end,
            )
            for op in operations
        ],
        tolerance_minutes=settings.REPORT_ADHERENCE_TOLERANCE_MINUTES,
    )
    table = Table(
        _("Planned against actual"),
        _("Adherence"),
        [
            Column("operation", _("Operation"), total=Total.LABEL, width=26),
            Column("machine", _("Machine"), width=12),
            Column("planned_start", _("Planned start"), ColumnKind.DATETIME, width=16),
            Column("actual_start", _("Actual start"), ColumnKind.DATETIME, width=16),
            Column("start_deviation", _("Start deviation (min)"), MIN, Total.AVERAGE, width=12),
            Column("planned_end", _("Planned finish"), ColumnKind.DATETIME, width=16),
            Column("actual_end", _("Actual finish"), ColumnKind.DATETIME, width=16),
            Column("finish_deviation", _("Finish deviation (min)"), MIN, Total.AVERAGE, width=12),
            Column("on_time", _("On time"), width=8),
        ],
        [
            {
                "operation": row.operation.label,
                "machine": row.operation.work_center,
                "planned_start": row.operation.planned_start,
                "actual_start": row.operation.actual_start,
                "start_deviation": row.start_deviation_minutes,
                "planned_end": row.operation.planned_end,
                "actual_end": row.operation.actual_end,
                "finish_deviation": row.finish_deviation_minutes,
                "on_time": "" if row.finished_on_time is None else _("yes") if row.finished_on_time else _("no"),
            }
            for row in summary.rows
        ],
    )
    section = Section(
        title=_("Schedule adherence"),
        text=_("Deviation = actual − planned, in minutes; on time = finished no later than planned + %(minutes)s min.")
        % {"minutes": summary.tolerance_minutes},
        figures=[
            Figure(_("Operations"), str(len(summary.rows))),
            Figure(_("Started on time"), percent(summary.started_on_time_rate)),
            Figure(_("Finished on time"), percent(summary.finished_on_time_rate)),
            Figure(
                _("Mean finish deviation"),
                "—"
                if summary.mean_finish_deviation_minutes is None
                else f"{summary.mean_finish_deviation_minutes} min",
            ),
        ],
        tables=[table],
    )
    return _document(_("Schedule adherence"), "schedule-adherence", parameters, [section])


@dataclass
class _Tally:
    good: int = 0
    scrap: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, good: int, scrap: int, reason: str) -> None:
        self.good += good
        self.scrap += scrap
        if scrap:
            self.reasons[reason] += scrap


@in_language
def quality_summary(parameters: ReportParameters) -> ReportDocument:
    period = _period(parameters)
    events = (
        ProductionEvent.objects.filter(
            at__gte=period.start, at__lt=period.end, kind__in=(EventKind.REPORT, EventKind.COMPLETE)
        )
        .filter(Q(quantity_good__gt=0) | Q(quantity_scrap__gt=0))
        .select_related("work_center", "scrap_reason")
    )
    if parameters.department_id is not None:
        events = events.filter(work_center__department_id=parameters.department_id)
    if parameters.work_center_ids:
        events = events.filter(work_center_id__in=parameters.work_center_ids)
    per_operation: dict[int, _Tally] = defaultdict(_Tally)
    per_machine: dict[str, _Tally] = defaultdict(_Tally)
    for event in events:
        reason = event.scrap_reason.code if event.scrap_reason else ""
        per_operation[event.operation_id].add(event.quantity_good, event.quantity_scrap, reason)
        per_machine[event.work_center.code].add(event.quantity_good, event.quantity_scrap, reason)
    summary = analytics.quality_summary(
        [
            analytics.QualityInput(
                operation_id=op_id, good=tally.good, scrap=tally.scrap, scrap_by_reason=dict(tally.reasons)
            )
            for op_id, tally in per_operation.items()
        ],
        reason_labels=dict(ScrapReason.objects.values_list("code", "name")),
    )
    w = chart_words()
    section = Section(
        title=_("Quality summary"),
        text=_(
            "First-pass yield = good / (good + scrap). DPMO = scrapped units per million (one opportunity per unit)."
        ),
        figures=[
            Figure(_("Good"), str(summary.good)),
            Figure(_("Scrap"), str(summary.scrap)),
            Figure(_("First-pass yield"), percent(summary.first_pass_yield)),
            Figure(_("DPMO"), "—" if summary.dpmo is None else f"{summary.dpmo:,}"),
        ],
        charts=[
            charts.bars(
                [(row.label, row.share) for row in summary.scrap_by_reason], title=_("Scrap by reason (share)"), words=w
            )
        ],
        tables=[
            Table(
                _("Scrap by reason"),
                _("Scrap by reason"),
                [
                    Column("reason", _("Reason"), total=Total.LABEL, width=28),
                    Column("units", _("Units"), INT, Total.SUM, width=9),
                    Column("share", _("Share"), PCT, width=9),
                    Column("cumulative", _("Cumulative"), PCT, width=11),
                ],
                [
                    {"reason": row.label, "units": row.units, "share": row.share, "cumulative": row.cumulative_share}
                    for row in summary.scrap_by_reason
                ],
                chart=ChartHint("bar", "reason", ("units",), _("Scrap by reason")),
            ),
            Table(
                _("Per machine"),
                _("Per machine"),
                [
                    Column("machine", _("Machine"), total=Total.LABEL, width=12),
                    Column("good", _("Good"), INT, Total.SUM, width=9),
                    Column("scrap", _("Scrap"), INT, Total.SUM, width=9),
                    Column("yield", _("Yield"), PCT, width=9),
                ],
                [
                    {"machine": code, "good": t.good, "scrap": t.scrap, "yield": oee.ratio(t.good, t.good + t.scrap)}
                    for code, t in sorted(per_machine.items())
                ],
            ),
        ],
    )
    return _document(_("Quality summary"), "quality-summary", parameters, [section])


REPORT_LIST = (
    ("oee-summary", gettext_lazy("OEE summary"),
     gettext_lazy("OEE, losses and Pareto per machine, department and shift."), oee_summary),
    ("downtime-pareto", gettext_lazy("Downtime Pareto"),
     gettext_lazy("Lost time by reason, machine and department."), downtime_pareto),
    ("late-jobs", gettext_lazy("Late jobs"),
     gettext_lazy("Jobs due in the period that finished late or are still open."), late_jobs),
    ("schedule-adherence", gettext_lazy("Schedule adherence"),
     gettext_lazy("Planned against actual start and finish per operation."), schedule_adherence),
    ("quality-summary", gettext_lazy("Quality summary"),
     gettext_lazy("Scrap by reason, first-pass yield and DPMO."), quality_summary),
    COST_REPORT,
    ENERGY_REPORT,
)  # fmt: skip


def register_reports() -> None:
    for code, name, description, build in REPORT_LIST:
        register(ReportDefinition(code=code, name=name, description=description, build=build))
