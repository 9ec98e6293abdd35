"""OEE figures as JSON-ready dicts, one shape for the REST API and GraphQL.

Ratios and minutes are decimal strings (exact); None where there is nothing to divide by ("no data").
"""

from __future__ import annotations

from typing import Any

from . import analytics, oee
from .figures import Period, PlantFigures


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def figures_payload(f: oee.OeeFigures) -> dict[str, Any]:
    return {
        "status": f.status.value,
        "oee": _text(f.oee),
        "availability": _text(f.availability),
        "performance": _text(f.performance),
        "quality": _text(f.quality),
        "performance_over_100": f.performance_over_100,
        "machines_with_data": f.machines,
        "good": f.good,
        "scrap": f.scrap,
        "minutes": {
            "planned_production": _text(f.planned_production_minutes),
            "run_time": _text(f.run_time_minutes),
            "running": _text(f.run_minutes),
            "ideal": _text(oee.to_minutes(f.ideal_seconds)),
            "breaks": _text(f.break_minutes),
            "planned_maintenance": _text(f.planned_maintenance_minutes),
            "planned_stops": _text(f.planned_stop_minutes),
            "no_work": _text(f.no_work_minutes),
            "no_data": _text(f.no_data_minutes),
        },
        "losses_minutes": {
            "breakdowns": _text(f.breakdown_minutes),
            "setups": _text(f.setup_minutes),
            "small_stops": _text(f.small_stop_minutes),
            "reduced_speed": _text(f.reduced_speed_minutes),
            "startup_rejects": _text(f.startup_reject_minutes),
            "production_rejects": _text(f.production_reject_minutes),
        },
        "mtbf_minutes": _text(f.mtbf_minutes),
        "mttr_minutes": _text(f.mttr_minutes),
    }


def pareto_payload(rows: tuple[analytics.ParetoRow, ...]) -> list[dict[str, Any]]:
    return [
        {
            "key": row.key,
            "label": row.label,
            "minutes": str(oee.to_minutes(row.seconds)),
            "occurrences": row.occurrences,
            "share": _text(row.share),
            "cumulative_share": _text(row.cumulative_share),
        }
        for row in rows
    ]


def window_payload(window: oee.Window) -> dict[str, Any]:
    return {"label": window.label, "start": window.start.isoformat(), "end": window.end.isoformat()}


def period_payload(period: Period) -> dict[str, Any]:
    return {
        "first_day": period.first_day.isoformat(),
        "last_day": period.last_day.isoformat(),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def plant_payload(figures: PlantFigures) -> dict[str, Any]:
    return {
        "period": period_payload(figures.period),
        "granularity": figures.granularity.value,
        "shift": figures.shift_name,
        "plant": figures_payload(figures.plant),
        "departments": [
            {"name": group.label, "figures": figures_payload(group.figures)} for group in figures.departments
        ],
        "machines": [
            {
                "id": m.machine.machine_id,
                "code": m.machine.code,
                "name": m.machine.name,
                "department": m.machine.department,
                "figures": figures_payload(m.figures),
            }
            for m in figures.machines
        ],
        "trend": [{**window_payload(w), "figures": figures_payload(f)} for w, f in figures.trend],
        "shifts": [{"name": name, "figures": figures_payload(f)} for name, f in figures.shifts],
        "pareto": {
            "by_reason": pareto_payload(figures.pareto_by_reason),
            "by_machine": pareto_payload(figures.pareto_by_machine),
            "by_department": pareto_payload(figures.pareto_by_department),
        },
    }


def machine_payload(
    period: Period,
    machine: oee.MachineInput,
    figures: oee.OeeFigures,
    per_shift: list[tuple[oee.Window, oee.OeeFigures]],
) -> dict[str, Any]:
    return {
        "period": period_payload(period),
        "machine": {"id": machine.machine_id, "code": machine.code, "name": machine.name},
        "figures": figures_payload(figures),
        "shifts": [{**window_payload(w), "figures": figures_payload(f)} for w, f in per_shift],
        "intervals": [
            {
                "start": piece.start.isoformat(),
                "end": piece.end.isoformat(),
                "seconds": piece.seconds,
                "state": piece.state,
                "counted_as": piece.category.value,
                "reason_code": piece.reason_code,
                "reason": piece.reason_name,
                "interval_id": piece.source_id,
            }
            for piece in figures.pieces
        ],
        "counts": [
            {
                "at": count.at.isoformat(),
                "good": count.good,
                "scrap": count.scrap,
                "ideal_cycle_seconds": str(count.ideal_cycle_seconds),
                "startup": count.startup,
                "production_event_id": count.source_id,
            }
            for count in figures.counts
        ],
    }
