"""The energy report: electrical energy per machine and department over the period, how much of it was used while
the machines were not running, and kWh per good part; PDF and workbook from one `ReportDocument`.

`ENERGY_REPORT` has the shape of an entry of `builders.REPORT_LIST`. How the kWh are computed: `energy`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.machines.selectors import plant_time_zone

from . import charts, oee
from .definitions import ReportParameters
from .documents import Cell, ChartHint, Column, ColumnKind, Figure, ReportDocument, Section, Table, Total
from .energy import Energy, MachineEnergy, combine
from .energy_inputs import machine_energies
from .figures import Period, chart_words, percent
from .selectors import Scope

KWH = ColumnKind.DECIMAL
PCT = ColumnKind.PERCENT
INT = ColumnKind.INTEGER
_TENTH = Decimal("0.1")


def kwh_text(value: Decimal | None) -> str:
    """kWh as pages and reports print them: "1,234.5 kWh", or a dash without data (never 0 kWh)."""
    if value is None:
        return "—"
    return f"{value.quantize(_TENTH, rounding=ROUND_HALF_UP):,} kWh"


def per_part_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value} kWh"


def energy_words() -> charts.Wording:
    """The chart words, with kWh where the stacked bars would say minutes."""
    return replace(chart_words(), minutes=_("kWh"), minutes_unit=_("kWh"))


def energy_series(energies: Sequence[Energy]) -> list[tuple[str, list[Decimal | None]]]:
    """Running, not running and (when there is any) not split by state, one value per figure, for stacked bars."""
    series: list[tuple[str, list[Decimal | None]]] = [
        (_("Running"), [e.running for e in energies]),
        (_("Not running"), [e.not_running for e in energies]),
    ]
    if any(e.unsplit_kwh for e in energies):
        series.append((_("Not split by state"), [e.unsplit_kwh if e.has_data else None for e in energies]))
    return series


def energy_colours() -> dict[str, str]:
    return {
        _("Running"): charts.STATE_COLOURS["running"],
        _("Not running"): charts.PALETTE["orange"],
        _("Not split by state"): "#999999",
    }


def energy_by_day(scope: Scope, period: Period) -> tuple[list[oee.Window], list[MachineEnergy]]:
    """The plant-local days of the period, and each machine's energy over the period and per day."""
    days = oee.period_windows(period.start, period.end, oee.Granularity.DAY, plant_time_zone())
    return days, machine_energies(scope, period.start, period.end, windows=[(day.start, day.end) for day in days])


def daily_chart(days: Sequence[oee.Window], energies: Sequence[Energy]) -> str:
    """kWh per day, running and not running stacked (`energies` holds one figure per day)."""
    return charts.stacked_bars(
        [day.label for day in days],
        energy_series(energies),
        title=_("Energy per day (kWh)"),
        colours=energy_colours(),
        words=energy_words(),
    )


def _metric_text(machine: MachineEnergy) -> str:
    if machine.power_metric is None:
        return _("no power metric")
    if not machine.energy.has_data:
        return _("%(metric)s (no data in this period)") % {"metric": machine.power_metric}
    return machine.power_metric


def _cells(energy: Energy, *, unsplit: bool, parts_without_data: bool = True) -> dict[str, Cell]:
    """A row's figures; `parts_without_data`: show the good parts even when there is no power data (a machine's
    parts are a fact; a department's count only machines with power data, so without any it has none)."""
    cells: dict[str, Cell] = {
        "kwh": energy.kwh,
        "running": energy.running,
        "not_running": energy.not_running,
        "not_running_share": energy.not_running_share,
        "good": energy.good if energy.has_data or parts_without_data else None,
        "per_part": energy.kwh_per_good_part,
        "coverage": energy.coverage,
    }
    if unsplit:
        cells["unsplit"] = energy.unsplit_kwh if energy.has_data else None
    return cells


def _columns(first: Sequence[Column], *, unsplit: bool, good_label: str) -> list[Column]:
    return [
        *first,
        Column("kwh", _("kWh"), KWH, Total.SUM, width=11),
        Column("running", _("Running (kWh)"), KWH, Total.SUM, width=12),
        Column("not_running", _("Not running (kWh)"), KWH, Total.SUM, width=14),
        Column("not_running_share", _("Not running (share)"), PCT, width=12),
        *([Column("unsplit", _("Not split by state (kWh)"), KWH, Total.SUM, width=14)] if unsplit else []),
        Column("good", good_label, INT, Total.SUM, width=10),
        Column("per_part", _("kWh per good part"), KWH, width=12),
        Column("coverage", _("Power data coverage"), PCT, width=12),
    ]


def energy_report(parameters: ReportParameters) -> ReportDocument:
    """The report in the language the run asks for."""
    # builders imports this module for its REPORT_LIST, so its helpers are imported when a report is built.
    from .builders import _document, _period, _scope

    with translation.override(parameters.language):
        return _document(_("Energy"), "energy", parameters, energy_sections(_scope(parameters), _period(parameters)))


def energy_sections(scope: Scope, period: Period) -> list[Section]:
    """The summary, the machines and departments, and the machines per day."""
    days, machines = energy_by_day(scope, period)
    plant = combine(m.energy for m in machines)
    metered = [m for m in machines if m.energy.has_data]
    unsplit = any(m.energy.unsplit_kwh for m in metered)
    without_metric = [m.code for m in machines if not m.has_power_metric]
    words = energy_words()
    per_day = [combine(m.per_window[index] for m in machines) for index in range(len(days))]

    summary = Section(
        title=_("Summary"),
        text=_(
            "Electrical energy from each machine's power readings: hourly roll-ups (mean kW × 1 h) for whole hours "
            "in which the machine was running throughout or stopped throughout, raw samples (each held until the "
            "next, at most 5 minutes) for the other hours; an hour whose samples are past retention is taken from its "
            "roll-up, and is not split by state when the machine both ran and stood in it. Running is the machine "
            "state running; any other time counts as not running. kWh per good part = all the machine's energy in "
            "the period / its good parts. Machines without a power metric are listed as such, never as 0 kWh."
        ),
        figures=[
            Figure(_("Energy"), kwh_text(plant.kwh),
                   _("%(machines)s of %(total)s machines with power data") % {"machines": plant.machines,
                                                                              "total": len(machines)}),
            Figure(_("While not running"), kwh_text(plant.not_running),
                   _("%(share)s of the energy split by state") % {"share": percent(plant.not_running_share)}),
            Figure(_("kWh per good part"), per_part_text(plant.kwh_per_good_part),
                   _("%(good)s good parts on machines with power data") % {"good": plant.good}),
            Figure(_("Power data coverage"), percent(plant.coverage)),
        ],
        charts=[
            charts.stacked_bars([m.code for m in metered], energy_series([m.energy for m in metered]),
                                title=_("Energy per machine (kWh)"), horizontal=True, colours=energy_colours(),
                                height=max(240, 60 + 22 * len(metered)), words=words),
            daily_chart(days, per_day),
        ],
    )  # fmt: skip
    machine_rows = [
        {
            "machine": m.code,
            "name": m.name,
            "department": m.department,
            "metric": _metric_text(m),
            **_cells(m.energy, unsplit=unsplit),
        }
        for m in machines
    ]
    note = _("— : no power data. %(machines)s report no power metric: their energy is unknown, not 0 kWh.") % {
        "machines": ", ".join(without_metric)
    }
    machine_table = Table(
        _("Energy per machine"),
        _("Machines"),
        _columns(
            [
                Column("machine", _("Machine"), total=Total.LABEL, width=12),
                Column("name", _("Name"), width=22),
                Column("department", _("Department"), width=16),
                Column("metric", _("Power metric"), width=16),
            ],
            unsplit=unsplit,
            good_label=_("Good parts"),
        ),
        machine_rows,
        chart=ChartHint("bar", "machine", ("running", "not_running"), _("Energy per machine (kWh)")),
        note=note if without_metric else _("— : no power data in this period."),
    )
    by_department: dict[str, list[Energy]] = defaultdict(list)
    for m in machines:
        by_department[m.department].append(m.energy)
    department_table = Table(
        _("Energy per department"),
        _("Departments"),
        _columns(
            [Column("department", _("Department"), total=Total.LABEL, width=18)],
            unsplit=unsplit,
            good_label=_("Good parts (machines with power data)"),
        ),
        [
            {"department": name, **_cells(combine(group), unsplit=unsplit, parts_without_data=False)}
            for name, group in by_department.items()
        ],
    )
    day_table = Table(
        _("Energy per machine and day"),
        _("Per day"),
        _columns(
            [Column("machine", _("Machine"), width=12), Column("day", _("Day"), width=12)],
            unsplit=unsplit,
            good_label=_("Good parts"),
        ),
        [
            {"machine": m.code, "day": day.label, **_cells(energy, unsplit=unsplit)}
            for m in metered
            for day, energy in zip(days, m.per_window, strict=True)
        ],
    )
    sections = [
        summary,
        Section(title=_("Machines and departments"), page_break_before=True, tables=[machine_table, department_table]),
        Section(title=_("Per day"), page_break_before=True, tables=[day_table]),
    ]
    return sections


ENERGY_REPORT = (
    "energy",
    gettext_lazy("Energy"),
    gettext_lazy("Electrical energy per machine and department: while running, while not, and per good part."),
    energy_report,
)
