"""The cost per part report: machine, labor and scrap cost of the jobs completed in the period (issue 7).

Shaped like the builders in `builders.py` (which lists it in REPORT_LIST): parameters in, a `ReportDocument` out,
the PDF and the workbook rendered from it. The figures come from `costing.job_costs`.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import oee
from .costing import CostSheet, OperationCost, RateKind, RateUsed, job_costs
from .definitions import ReportParameters
from .documents import Cell, ChartHint, Column, ColumnKind, Figure, ReportDocument, Section, Table, Total

CODE = "cost-per-part"
MONEY = ColumnKind.MONEY
MIN = ColumnKind.MINUTES
INT = ColumnKind.INTEGER


def build_cost_per_part(parameters: ReportParameters) -> ReportDocument:
    # builders imports this module for its REPORT_LIST, so its helpers are imported when a report is built.
    from .builders import _document, _period

    with translation.override(parameters.language):
        period = _period(parameters)
        sheet = job_costs(
            start=period.start,
            end=period.end,
            department_id=parameters.department_id,
            work_center_ids=parameters.work_center_ids,
        )
        scoped = parameters.department_id is not None or bool(parameters.work_center_ids)
        section = Section(
            title=_("Cost per part"),
            text=_explanation(sheet, scoped=scoped),
            figures=_figures(sheet),
            tables=[_jobs_table(sheet), _operations_table(sheet), _rates_table(sheet)],
        )
        return _document(_("Cost per part"), CODE, parameters, [section])


COST_REPORT = (
    CODE,
    gettext_lazy("Cost per part"),
    gettext_lazy("Machine, labor and scrap cost of the jobs completed in the period, per good part."),
    build_cost_per_part,
)


def _money(value: Decimal) -> str:
    return f"{value:,}"


def _explanation(sheet: CostSheet, *, scoped: bool) -> str:
    parts = [
        _(
            "Jobs count in the period they were completed, with all their operations. Machine = machine run time × "
            "the machine's hourly rate: the time the machine was running while the operation was on it, or the run "
            "time booked on the floor where the machine reports no state. Labor = operator time booked on the "
            "operation (setup and run, each operator) × the labor rate of the machine's department, or the "
            "plant-wide rate. Scrap = scrapped parts × the part's material cost. Cost per good part = total ÷ the "
            "good parts of the job's last operation."
        )
    ]
    if scoped:
        parts.append(_("Only the operations on the chosen department or machines are costed."))
    if sheet.missing:
        parts.append(
            _("Not set, counted as 0: %(rates)s.") % {"rates": "; ".join(_rate_subject(rate) for rate in sheet.missing)}
        )
    return " ".join(parts)


def _rate_subject(rate: RateUsed) -> str:
    words = {
        RateKind.MACHINE: _("machine rate of %(subject)s"),
        RateKind.LABOR: _("labor rate of %(subject)s"),
        RateKind.MATERIAL: _("material cost of %(subject)s"),
    }
    return words[rate.kind] % {"subject": rate.subject}


def _figures(sheet: CostSheet) -> list[Figure]:
    machine = sum((job.cost.machine for job in sheet.jobs), Decimal("0.00"))
    labor = sum((job.cost.labor for job in sheet.jobs), Decimal("0.00"))
    scrap = sum((job.cost.scrap for job in sheet.jobs), Decimal("0.00"))
    return [
        Figure(_("Jobs completed"), str(len(sheet.jobs))),
        Figure(_("Good parts"), str(sum(job.good for job in sheet.jobs))),
        Figure(_("Total cost"), _money(machine + labor + scrap)),
        Figure(_("Machine"), _money(machine)),
        Figure(_("Labor"), _money(labor)),
        Figure(_("Scrap material"), _money(scrap)),
    ]


def _cost_columns() -> list[Column]:
    return [
        Column("machine", _("Machine"), MONEY, Total.SUM, width=11),
        Column("labor", _("Labor"), MONEY, Total.SUM, width=11),
        Column("scrap_cost", _("Scrap material"), MONEY, Total.SUM, width=11),
        Column("total", _("Total"), MONEY, Total.SUM, width=12),
        Column("per_part", _("Per good part"), MONEY, width=11),
    ]


def _jobs_table(sheet: CostSheet) -> Table:
    rows: list[dict[str, Cell]] = [
        {
            "job": job.number,
            "part": job.part,
            "finished": job.finished_at,
            "good": job.good,
            "scrap": job.scrap,
            "machine": job.cost.machine,
            "labor": job.cost.labor,
            "scrap_cost": job.cost.scrap,
            "total": job.cost.total,
            "per_part": job.cost.per_good_part,
            "unrecorded": job.unrecorded or None,
        }
        for job in sheet.jobs
    ]
    return Table(
        _("Jobs"),
        _("Jobs"),
        [
            Column("job", _("Job"), total=Total.LABEL, width=14),
            Column("part", _("Part"), width=18),
            Column("finished", _("Completed"), ColumnKind.DATETIME, width=16),
            Column("good", _("Good"), INT, Total.SUM, width=8),
            Column("scrap", _("Scrap"), INT, Total.SUM, width=8),
            *_cost_columns(),
            Column("unrecorded", _("Not recorded"), INT, width=10),
        ],
        rows,
        chart=ChartHint("bar", "job", ("machine", "labor", "scrap_cost"), _("Cost per job")),
        note=_(
            "Good: the parts the job's last operation made good. Per good part: total ÷ good. Not recorded: "
            "operations the floor recorded nothing for (no events, no labor), which cost nothing here."
        ),
    )


def _operations_table(sheet: CostSheet) -> Table:
    rows: list[dict[str, Cell]] = [
        {"operation": op.label, "machine_code": op.machine, **_operation_figures(op)} for op in sheet.operations
    ]
    return Table(
        _("Operations"),
        _("Operations"),
        [
            Column("operation", _("Operation"), total=Total.LABEL, width=24),
            Column("machine_code", _("Runs on"), width=12),
            Column("good", _("Good"), INT, Total.SUM, width=8),
            Column("scrap", _("Scrap"), INT, Total.SUM, width=8),
            Column("machine_minutes", _("Machine (min)"), MIN, Total.SUM, width=11),
            Column("labor_minutes", _("Labor (min)"), MIN, Total.SUM, width=11),
            *_cost_columns(),
        ],
        rows,
        note=_("Empty figures: the floor recorded nothing for the operation (no events, no labor)."),
    )


def _operation_figures(op: OperationCost) -> dict[str, Cell]:
    """The operation's numbers; none at all, rather than zeros, when the floor recorded nothing."""
    figures: dict[str, Cell] = {
        "good": op.good,
        "scrap": op.scrap,
        "machine_minutes": oee.to_minutes(op.run_seconds),
        "labor_minutes": oee.to_minutes(op.labor_seconds),
        "machine": op.cost.machine,
        "labor": op.cost.labor,
        "scrap_cost": op.cost.scrap,
        "total": op.cost.total,
        "per_part": op.cost.per_good_part,
    }
    return figures if op.recorded else dict.fromkeys(figures)


def _rates_table(sheet: CostSheet) -> Table:
    kinds = {
        RateKind.MACHINE: _("Machine, per hour"),
        RateKind.LABOR: _("Labor, per hour"),
        RateKind.MATERIAL: _("Material, per part"),
    }
    rows: list[dict[str, Cell]] = [
        {
            "kind": kinds[rate.kind],
            "subject": rate.subject,
            # As text: material costs carry four places, which a money column would round away.
            "rate": None if rate.rate is None else f"{rate.rate:,}",
            "note": _rate_note(rate),
        }
        for rate in sheet.rates
    ]
    return Table(
        _("Rates used"),
        _("Rates"),
        [
            Column("kind", _("Rate"), width=18),
            Column("subject", _("For"), width=24),
            Column("rate", _("Amount"), width=11),
            Column("note", _("Note"), width=24),
        ],
        rows,
        note=_(
            "Machine rates are set on the work centers, labor rates per department (or plant-wide) under Labor "
            "rates, material costs on the parts."
        ),
    )


def _rate_note(rate: RateUsed) -> str:
    if rate.rate is None:
        return _("not set: counted as 0")
    return _("plant-wide rate") if rate.plant_wide else ""
