"""Large neighbourhood search around CP-SAT: keep most of the schedule's machine sequences, re-solve the rest.

CP-SAT's own LNS workers share one thread between a dozen neighbourhoods when it has only two
workers, and barely get to run. This loop gives LNS a thread of its own: each step relaxes a
part of the incumbent (a time window, a few jobs, a few machines, or operations around the
critical path), keeps the relative order of everything else on every machine (and the machine of
every kept operation), and lets a one-worker CP-SAT solve re-optimise that part from the
incumbent as a hint. The size of each kind of neighbourhood adapts: larger when CP-SAT closes it
within its time, smaller when it does not. Half the steps break ties on the objective by `flow`
(the sum of the last operations' ends), and moves to equally good schedules are accepted: both
let the search walk across the plateaus typical of the makespan, where no small change to a
schedule shortens it but many pull work earlier and make room for the next step.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .cpsat import Expr, ShopModel, hint_solution, interval_end, interval_start
from .dispatch import Placements

_KINDS = ("window", "jobs", "machines", "critical")
FLOW_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Incumbent:
    value: int
    placements: Placements
    solution: list[int]
    flow: int | None = None  # sum of the last operations' ends, when known


class NeighbourhoodSearch:
    def __init__(self, shop: ShopModel, objective: Expr, seed: int) -> None:
        self.shop = shop
        self.objective = objective
        self.random = random.Random(seed)
        # A step should cost about as much as building the sub-model: longer and smaller on large models.
        constraints = len(shop.model.proto.constraints)
        self.difficulty = dict.fromkeys(_KINDS, 0.25 if constraints < 20_000 else 0.05)
        self.step_seconds = 0.3 + constraints / 100_000
        # Small neighbourhoods gain little from the LP relaxation and pay for it on every step.
        self.parameters: dict[str, object] = {
            "linearization_level": 0,
            "cp_model_presolve": False,
            "cp_model_probing_level": 0,
        }
        self.steps = 0
        self.improvements = 0
        checked = shop.checked
        self._option_of = [
            {option.machine: k for k, option in enumerate(operation.options)} for operation in checked.operations
        ]

    def step(self, incumbent: Incumbent, deadline: float) -> Incumbent | None:
        """One neighbourhood solve; the new incumbent when it is at least as good, else None."""
        if deadline - time.monotonic() <= 0.02:
            return None
        kind = self.random.choice(_KINDS)
        relaxed = self._neighbourhood(kind, incumbent)
        model = self.shop.model.clone()
        self._keep_the_rest(model, incumbent, relaxed)
        model.add(self.objective <= incumbent.value)
        # Lexicographic (objective, flow): moves that only pull work earlier are progress too.
        flow_weight = self.shop.horizon * max(1, len(self.shop.checked.operations)) + 1
        # Half the steps only minimise the objective: those close sooner, and so grow the neighbourhoods.
        if self.random.random() < FLOW_SHARE:
            model.minimize(self.objective * flow_weight + self.shop.flow)
        hint_solution(model, incumbent.solution)
        seconds = min(self.step_seconds, deadline - time.monotonic())
        if seconds <= 0.02:
            return None
        solver = cp_model.CpSolver()
        for name, value in self.parameters.items():
            setattr(solver.parameters, name, value)
        solver.parameters.max_time_in_seconds = seconds
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = self.steps
        self.steps += 1
        status = solver.solve(model)
        closed = status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
        factor = 1.1 if closed else 0.9
        self.difficulty[kind] = min(0.9, max(0.02, self.difficulty[kind] * factor))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        value = solver.value(self.objective)
        if value > incumbent.value:
            return None
        if value < incumbent.value:
            self.improvements += 1
        flow = solver.value(self.shop.flow)
        return Incumbent(value, self.shop.placements(solver), list(solver.response_proto.solution), flow)

    # Neighbourhoods ----------------------------------------------------------------------------

    def _neighbourhood(self, kind: str, incumbent: Incumbent) -> set[int]:
        movable = [index for index, operation in enumerate(self.shop.checked.operations) if operation.fixed is None]
        size = max(2, round(self.difficulty[kind] * len(movable)))
        if kind == "window":
            ordered = sorted(movable, key=lambda index: incumbent.placements[index][1])
            first = self.random.randrange(max(1, len(ordered) - size + 1))
            return set(ordered[first : first + size])
        if kind == "jobs":
            return self._grow(movable, size, lambda index: self.shop.checked.operations[index].job)
        if kind == "machines":
            return self._grow(movable, size, lambda index: incumbent.placements[index][0])
        return self._around_critical_path(movable, size, incumbent)

    def _grow(self, movable: list[int], size: int, group_of: Callable[[int], int]) -> set[int]:
        groups: dict[int, list[int]] = {}
        for index in movable:
            groups.setdefault(group_of(index), []).append(index)
        keys = list(groups)
        self.random.shuffle(keys)
        relaxed: set[int] = set()
        for key in keys:
            if len(relaxed) >= size:
                break
            relaxed.update(groups[key])
        return relaxed

    def _around_critical_path(self, movable: list[int], size: int, incumbent: Incumbent) -> set[int]:
        """Operations that touch a critical path, plus time-neighbours of a random critical one."""
        placements = incumbent.placements
        critical = self._critical_path(incumbent)
        if not critical:
            return set(self.random.sample(movable, min(size, len(movable))))
        pivot = placements[self.random.choice(critical)][1]
        nearest = sorted(movable, key=lambda index: abs(placements[index][1] - pivot))
        relaxed = set(critical[: size // 2])
        for index in nearest:
            if len(relaxed) >= size:
                break
            relaxed.add(index)
        return relaxed

    def _critical_path(self, incumbent: Incumbent) -> list[int]:
        """Walk back from the last operation through tight job or machine predecessors."""
        placements = incumbent.placements
        operations = self.shop.checked.operations
        previous_on_machine: dict[int, int] = {}
        by_machine: dict[int, list[tuple[int, int]]] = {}
        for index, (machine, start, _) in placements.items():
            by_machine.setdefault(machine, []).append((start, index))
        for sequence in by_machine.values():
            sequence.sort()
            for (_, earlier), (_, later) in zip(sequence, sequence[1:], strict=False):
                previous_on_machine[later] = earlier
        current = max(placements, key=lambda index: placements[index][2])
        path = [current]
        while True:
            start = placements[current][1]
            tight = [p for p in operations[current].predecessors if placements[p][2] == start]
            before = previous_on_machine.get(current)
            if before is not None and placements[before][2] == start:
                tight.append(before)
            if not tight:
                break
            current = self.random.choice(tight)
            path.append(current)
        return [index for index in path if operations[index].fixed is None]

    # Keeping the rest --------------------------------------------------------------------------

    def _keep_the_rest(self, model: cp_model.CpModel, incumbent: Incumbent, relaxed: set[int]) -> None:
        shop = self.shop
        by_machine: dict[int, list[tuple[int, int]]] = {}
        for index, (machine, start, _) in incumbent.placements.items():
            if index in relaxed:
                continue
            by_machine.setdefault(machine, []).append((start, index))
            operation = shop.checked.operations[index]
            if operation.fixed is None and len(operation.options) > 1:
                literal = shop.operations[index].present[self._option_of[index][machine]]
                model.add(literal == 1)
        for machine, sequence in by_machine.items():
            sequence.sort()
            # Zero-minute operations have no interval on the machine and no place in its order.
            kept = [interval for _, index in sequence if (interval := self._interval(index, machine)) is not None]
            for before, after in zip(kept, kept[1:], strict=False):
                model.add(interval_start(after) >= interval_end(before))

    def _interval(self, index: int, machine: int) -> cp_model.IntervalVar | None:
        if self.shop.checked.operations[index].fixed is not None:
            return self.shop.intervals.get((index, -1))
        return self.shop.intervals.get((index, self._option_of[index][machine]))
