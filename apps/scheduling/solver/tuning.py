"""Due-date tuning: list scheduling again and again, with the late jobs' due dates pulled forward.

A due-date rule puts a job where its due date says, whatever that costs the jobs around it; a
job that misses a shift end by an hour can miss a long weekend with it. This loop builds the
rule's schedule with *virtual* due dates: after each build, every late job's virtual due date
moves earlier by a share of its weighted lateness (so it overtakes work that could wait), and
every job that finished early enough drifts back toward its real date (so jobs pulled too far
give way again), or toward the date it started from when the tuning is given other dates to
start from (`anchors`: the capacity relaxation's, `bounds.guided_due_dates`). Each late job's
pull is drawn around the build's own, so that builds from the same virtual dates differ. When
several builds in a row bring nothing better, the tuning starts again from the virtual dates of
the best schedule so far, so that one unlucky pull does not decide where it ends
(docs/benchmarks.md, "Demo shop"). The real due dates score each schedule; the best one is kept.
It is a warm start for CP-SAT, which works from whatever it gets, so any improvement counts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .check import CheckedProblem
from .dispatch import Placements, place_operations
from .model import Rule

# How far a late job's virtual due date moves per build, as a share of its lateness scaled by weight.
PULL = (0.3, 0.6, 1.0)
# Each late job's pull is the build's times a factor drawn from 1 - JITTER to 1 + JITTER.
JITTER = 0.5
# How far an early job's virtual due date returns toward its real one per build.
RELAX = 0.25
# Builds in a row without a better schedule after which the tuning starts again from the best one's dates.
STALL = 8
# Builds in a row without a better schedule after which the tuning gives up.
PATIENCE = 40


@dataclass(frozen=True, slots=True)
class Tuned:
    placements: Placements
    weighted_tardiness: int
    builds: int


def weighted_tardiness(checked: CheckedProblem, placements: Placements) -> tuple[int, list[int]]:
    """The total and each job's tardiness (unweighted minutes) of a placement."""
    lateness = []
    total = 0
    for job in checked.jobs:
        if job.due is None:
            lateness.append(0)
            continue
        completion = max(placements[index][2] for index in job.operations)
        late = max(0, completion - job.due)
        lateness.append(late)
        total += job.weight * late
    return total, lateness


def tune_due_dates(
    checked: CheckedProblem,
    rule: Rule,
    start: Placements,
    deadline: float,
    seed: int = 0,
    anchors: Sequence[int | None] | None = None,
) -> Tuned:
    """The best schedule the rule builds with tuned due dates before `deadline` (at worst `start`).

    The virtual due dates start from `anchors` (the real ones by default) and early jobs' drift back
    toward them; the real ones score every schedule.
    """
    generator = random.Random(seed)
    anchor: Sequence[int | None] = [job.due for job in checked.jobs] if anchors is None else anchors
    best_value, best_lateness = weighted_tardiness(checked, start)
    best = Tuned(start, best_value, 0)
    best_virtual: list[int | None] = list(anchor)
    virtual, lateness = list(best_virtual), best_lateness
    mean_weight = sum(job.weight for job in checked.jobs) / max(1, len(checked.jobs))
    builds = restarted = 0
    # A build costs about as much as the last one; stop when the next would overrun.
    cost = 0.0
    while best.weighted_tardiness and builds - best.builds < PATIENCE and time.monotonic() + cost < deadline:
        if builds - max(best.builds, restarted) >= STALL:
            virtual, lateness, restarted = list(best_virtual), best_lateness, builds
        pull = generator.choice(PULL)
        for number, job in enumerate(checked.jobs):
            due, virtual_due = anchor[number], virtual[number]
            if due is None or virtual_due is None:
                continue
            if lateness[number]:
                share = pull * generator.uniform(1 - JITTER, 1 + JITTER)
                virtual[number] = virtual_due - round(share * lateness[number] * job.weight / mean_weight) - 1
            elif virtual_due < due:
                virtual[number] = virtual_due + round(RELAX * (due - virtual_due))
        began = time.monotonic()
        placements = place_operations(checked, rule, virtual)
        cost = time.monotonic() - began
        builds += 1
        if placements is None:
            virtual = list(anchor)  # it overran the horizon: start again from the anchors
            lateness = [0] * len(checked.jobs)
            continue
        value, lateness = weighted_tardiness(checked, placements)
        if value < best.weighted_tardiness:
            best = Tuned(placements, value, builds)
            best_virtual, best_lateness = list(virtual), lateness
    return Tuned(best.placements, best.weighted_tardiness, builds)
