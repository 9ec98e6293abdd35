"""The plant's own OEE targets: the most specific one wins (machine, then department, then plant)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from .models import OeeTarget

DEFAULT_OEE = Decimal("0.80")


@dataclass(frozen=True)
class Target:
    oee: Decimal | None
    availability: Decimal | None = None
    performance: Decimal | None = None
    quality: Decimal | None = None


def targets_for(*, department_id: int | None = None, work_center_id: int | None = None) -> Target:
    """One query. With no target stored anywhere the plant aims at 80 % OEE (world class, 85 %, is drawn apart)."""
    scopes = Q(department__isnull=True, work_center__isnull=True)
    if department_id is not None:
        scopes |= Q(department_id=department_id, work_center__isnull=True)
    if work_center_id is not None:
        scopes |= Q(work_center_id=work_center_id)
    rows = list(OeeTarget.objects.filter(scopes))
    if not rows:
        return Target(oee=DEFAULT_OEE)
    best = max(rows, key=lambda row: (row.work_center_id is not None, row.department_id is not None))
    return Target(oee=best.oee, availability=best.availability, performance=best.performance, quality=best.quality)
