"""A released job on the small test shop, for the shop-floor tests: laser 10 → brake 20 → weld 30."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.machines.models import DowntimeReason
from apps.routings.models import Job, Operation
from apps.routings.services import release_job
from apps.shopfloor.models import ScrapReason
from tests.routings.builders import Shop, build_shop, make_job, straight_part


@dataclass
class Floor:
    shop: Shop
    job: Job
    cut: Operation
    bend: Operation
    weld: Operation
    waiting_for_material: DowntimeReason
    bad_cut: ScrapReason


def build_floor(manager: Any, quantity: int = 10) -> Floor:
    shop = build_shop()
    job = make_job(shop, straight_part(shop), quantity=quantity)
    release_job(actor=manager, job_id=job.pk)
    ops = {op.sequence: op for op in Operation.objects.filter(job=job)}
    reason = DowntimeReason.objects.filter(code="waiting-material").first() or DowntimeReason.objects.create(
        code="waiting-material", name="Waiting for material"
    )
    return Floor(
        shop=shop,
        job=job,
        cut=ops[10],
        bend=ops[20],
        weld=ops[30],
        waiting_for_material=reason,
        bad_cut=ScrapReason.objects.get_or_create(code="BADCUT", defaults={"name": "Bad cut"})[0],
    )
