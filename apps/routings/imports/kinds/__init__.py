"""The kinds of file that can be imported and exported, in the order a new shop loads them."""

from __future__ import annotations

from .base import Column, Counts, Kind, Problem, Problems, Row
from .catalog import CustomerKind, MaterialKind
from .jobs import JobKind
from .machines import CalendarKind, DepartmentKind, WorkCenterKind, WorkCenterTypeKind
from .parts import PartKind

KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in (
        DepartmentKind(),
        WorkCenterTypeKind(),
        CalendarKind(),
        WorkCenterKind(),
        MaterialKind(),
        CustomerKind(),
        PartKind(),
        JobKind(),
    )
}


def get_kind(slug: str) -> Kind:
    """The kind named `slug`; ValueError listing the kinds when there is none."""
    try:
        return KINDS[slug]
    except KeyError:
        raise ValueError(f"unknown kind {slug!r}; one of: {', '.join(KINDS)}") from None


__all__ = ["KINDS", "Column", "Counts", "Kind", "Problem", "Problems", "Row", "get_kind"]
