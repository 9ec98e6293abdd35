"""The reports a plant can run: each turns parameters into a `ReportDocument`.

Schedules, runs and the API name a report by its code; the registry below is the one list of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.functional import Promise

from .documents import ReportDocument


@dataclass(frozen=True)
class ReportParameters:
    """What a run covers: plant-local days from `period_start` to `period_end`, both included."""

    period_start: date
    period_end: date
    department_id: int | None = None
    work_center_ids: tuple[int, ...] = ()
    language: str = "en"


@dataclass(frozen=True)
class ReportDefinition:
    code: str
    name: str | Promise
    description: str | Promise
    build: Callable[[ReportParameters], ReportDocument]


class UnknownReport(ValueError):
    pass


REPORTS: dict[str, ReportDefinition] = {}


def register(definition: ReportDefinition) -> ReportDefinition:
    REPORTS[definition.code] = definition
    return definition


def get_definition(code: str) -> ReportDefinition:
    try:
        return REPORTS[code]
    except KeyError:
        raise UnknownReport(f"unknown report {code!r}") from None


def report_choices() -> list[tuple[str, str | Promise]]:
    return [(definition.code, definition.name) for definition in REPORTS.values()]
