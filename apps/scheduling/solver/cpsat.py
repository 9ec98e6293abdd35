"""The CP-SAT model of the shop.

Time on a machine is modelled on its working clock (see `working_time`): each machine option is
a fixed-size interval in working positions, so the machine's NoOverlap and its changeovers
(which must be done in working time) are exactly those of a shop without calendars. Real time,
where precedence, releases, due dates and the makespan live, is linked to positions only where
the calendar has a gap: for every window boundary an operation could start (end) beyond, one
literal says whether it does, and real start = position + the non-working minutes before that
window. Windows an option cannot reach, given its earliest and latest start, get no literal, so
a machine with one working interval (every benchmark instance) costs nothing extra: the start
variable is the position.

Operations that may not straddle non-working time get a position domain with holes: the
positions where the work fits before the window ends, so their end is simply start + work.

Changeovers: on a machine whose matrix can cost anything, an AddCircuit over the candidate
operations chooses the sequence, with arc literals that carry the changeover minutes (and the
total-setup objective); NoOverlap stays as a redundant, strongly propagating constraint.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from ortools.sat.python import cp_model

from .check import CheckedOption, CheckedProblem
from .dispatch import Placements, changeover, placements_of
from .model import Objective, Schedule, Straddle
from .working_time import WorkingTime

# Narrower than cp_model.LinearExprT (which admits numpy scalars) so that arithmetic type-checks.
Expr = cp_model.LinearExpr | int
Presence = cp_model.IntVar | int  # an option's literal, or 1 for an operation's only option


@dataclass(slots=True)
class _Clock:
    """One operation on one working clock: the options that share it and its position literals."""

    calendar: WorkingTime
    options: list[int]  # indices into the operation's options
    position: cp_model.IntVar
    present: cp_model.IntVar | None  # None: the operation's only clock, always used
    start_literals: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)  # (literal, boundary)
    end_literals: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)


@dataclass(slots=True)
class _OperationVars:
    start: Expr
    end: Expr
    present: list[Presence]  # per option: its literal, or 1 when it is the only option
    clocks: list[_Clock]
    fixed: bool


@dataclass(slots=True)
class _Node:
    """An operation that may run on a machine, as a node of that machine's circuit."""

    operation: int
    interval: cp_model.IntervalVar
    present: Presence
    earliest: int  # real-time bounds on this machine, to skip arcs that cannot be used
    latest: int
    shortest_end: int


@dataclass(slots=True)
class _Arc:
    machine: int
    tail: int  # operation index, or -1 for the machine's initial / final state
    head: int
    literal: cp_model.IntVar
    minutes: int


class ShopModel:
    """The CP-SAT model of a checked problem, with one expression per objective."""

    def __init__(self, checked: CheckedProblem, horizon: int) -> None:
        self.checked = checked
        self.horizon = horizon
        self.model = cp_model.CpModel()
        self.operations: list[_OperationVars] = []
        self.arcs: list[_Arc] = []
        self.empty_machines: dict[int, cp_model.IntVar] = {}
        self.tardiness: list[tuple[int, cp_model.IntVar]] = []  # job index, minutes late
        self.makespan = self.model.new_int_var(0, horizon, "makespan")
        self._nodes: list[list[_Node]] = [[] for _ in checked.machines]
        self.intervals: dict[tuple[int, int], cp_model.IntervalVar] = {}  # (operation, option or -1 if frozen)
        for operation in checked.operations:
            self.operations.append(self._operation(operation.index))
        self._precedences()
        self._machines()
        self._objectives()

    # Variables of one operation ---------------------------------------------------------------

    def _operation(self, index: int) -> _OperationVars:
        operation = self.checked.operations[index]
        model = self.model
        if operation.fixed is not None:
            machine, fixed_start, fixed_end = operation.fixed
            calendar = self.checked.machines[machine].calendar
            low, high = calendar.position(fixed_start), calendar.position(fixed_end)
            if high > low:
                interval = model.new_fixed_size_interval_var(low, high - low, f"fixed{index}")
                self._nodes[machine].append(_Node(index, interval, 1, fixed_start, fixed_start, fixed_end))
                self.intervals[(index, -1)] = interval
            return _OperationVars(fixed_start, fixed_end, [1], [], True)
        options = operation.options
        start = model.new_int_var(operation.earliest, operation.latest, f"o{index}s")
        present: list[Presence] = [1]
        if len(options) > 1:
            literals = [model.new_bool_var(f"o{index}m{k}") for k in range(len(options))]
            present = list(literals)
            model.add_exactly_one(literals)
            for literal, option in zip(literals, options, strict=True):
                # Per-option windows are tighter than the operation's: they let CP-SAT drop options early.
                if option.earliest > operation.earliest:
                    model.add(start >= option.earliest).only_enforce_if(literal)
                if option.latest < operation.latest:
                    model.add(start <= option.latest).only_enforce_if(literal)
        within = operation.straddle is Straddle.WITHIN_WINDOW
        groups: dict[tuple[int, int], list[int]] = {}
        for k, option in enumerate(options):
            calendar = self.checked.machines[option.machine].calendar
            # Options on machines with the same calendar share a position variable and its literals,
            # unless (not straddling) the positions they may take depend on their own duration.
            # Zero-minute options end where they start and take no machine time: a clock of their own.
            groups.setdefault((id(calendar), option.duration if within or not option.duration else -1), []).append(k)
        single = len(groups) == 1
        clocks = [self._clock(index, members, start, present, single, within) for members in groups.values()]
        shift = self._constant_end_shift(index, clocks[0], within or _zero(clocks[0], options)) if single else None
        if shift is not None:
            end: Expr = start + _work(present, [option.duration for option in options]) + shift
        else:
            end_var = model.new_int_var(operation.earliest + operation.shortest, self.horizon, f"o{index}e")
            for clock in clocks:
                self._link_end(index, clock, present, start, end_var, within or _zero(clock, options))
            end = end_var
        return _OperationVars(start, end, present, clocks, False)

    def _clock(
        self,
        index: int,
        members: list[int],
        start: cp_model.IntVar,
        present: list[Presence],
        single: bool,
        within: bool,
    ) -> _Clock:
        model = self.model
        checked = self.checked
        options = checked.operations[index].options
        calendar = checked.machines[options[members[0]].machine].calendar
        low = calendar.position(min(options[k].earliest for k in members))
        high = calendar.position(max(options[k].latest for k in members))
        windows = range(calendar.start_window(low), calendar.start_window(high) + 1)
        position: cp_model.IntVar
        if single and len(windows) == 1 and calendar.offsets[windows[0]] == 0 and not within:
            position = start  # one window from time zero: the position is the real start
        elif within:
            work = options[members[0]].duration
            spans = [
                [max(low, calendar.position_starts[w]), min(high, calendar.position_ends[w] - work)]
                for w in windows
                if max(low, calendar.position_starts[w]) <= min(high, calendar.position_ends[w] - work)
            ]
            position = model.new_int_var_from_domain(cp_model.Domain.from_intervals(spans), f"o{index}p")
        else:
            position = model.new_int_var(low, high, f"o{index}p")
        group_present: cp_model.IntVar | None = None
        if not single:
            group_present = model.new_bool_var(f"o{index}g{members[0]}")
            model.add(sum(present[k] for k in members) == group_present)
        clock = _Clock(calendar, members, position, group_present)
        if position is not start:
            terms: list[Expr] = []
            for window in windows[1:]:
                boundary = calendar.position_starts[window]
                literal = model.new_bool_var(f"o{index}w{window}")
                model.add(position >= boundary).only_enforce_if(literal)
                model.add(position <= boundary - 1).only_enforce_if(~literal)
                clock.start_literals.append((literal, boundary))
                terms.append((calendar.offsets[window] - calendar.offsets[window - 1]) * literal)
            link = model.add(start == position + calendar.offsets[windows[0]] + sum(terms))
            if group_present is not None:
                link.only_enforce_if(group_present)
        for k in members:
            option = options[k]
            presence = present[k]
            if isinstance(presence, int):
                interval = model.new_fixed_size_interval_var(position, option.duration, f"o{index}i{k}")
            else:
                interval = model.new_optional_fixed_size_interval_var(
                    position, option.duration, presence, f"o{index}i{k}"
                )
            if option.duration:
                self._nodes[option.machine].append(
                    _Node(index, interval, presence, option.earliest, option.latest, option.earliest + option.duration)
                )
                self.intervals[(index, k)] = interval
        return clock

    def _end_windows(self, index: int, clock: _Clock) -> tuple[int, int]:
        options = self.checked.operations[index].options
        calendar = clock.calendar
        low = calendar.position(min(options[k].earliest for k in clock.options))
        high = calendar.position(max(options[k].latest for k in clock.options))
        durations = [options[k].duration for k in clock.options]
        last = len(calendar.starts) - 1
        return min(calendar.end_window(low + min(durations)), last), min(
            calendar.end_window(high + max(durations)), last
        )

    def _constant_end_shift(self, index: int, clock: _Clock, within: bool) -> int | None:
        """end - start - work when it is the same wherever the operation starts, else None."""
        if within:
            return 0
        if clock.start_literals:
            return None
        first, last = self._end_windows(index, clock)
        if first != last:
            return None
        calendar = clock.calendar
        start_window = calendar.start_window(calendar.position(self.checked.operations[index].earliest))
        return calendar.offsets[first] - calendar.offsets[start_window]

    def _link_end(
        self,
        index: int,
        clock: _Clock,
        present: list[Presence],
        start: cp_model.IntVar,
        end: cp_model.IntVar,
        within: bool,
    ) -> None:
        model = self.model
        options = self.checked.operations[index].options
        work = _work([present[k] for k in clock.options], [options[k].duration for k in clock.options])
        if within:
            link = model.add(end == start + work)
        else:
            calendar = clock.calendar
            finish = clock.position + work
            first, last = self._end_windows(index, clock)
            terms: list[Expr] = []
            for window in range(first + 1, last + 1):
                boundary = calendar.position_starts[window]
                literal = model.new_bool_var(f"o{index}x{window}")
                model.add(finish >= boundary + 1).only_enforce_if(literal)
                model.add(finish <= boundary).only_enforce_if(~literal)
                clock.end_literals.append((literal, boundary))
                terms.append((calendar.offsets[window] - calendar.offsets[window - 1]) * literal)
            link = model.add(end == finish + calendar.offsets[first] + sum(terms))
        if clock.present is not None:
            link.only_enforce_if(clock.present)

    # Constraints between operations ------------------------------------------------------------

    def _precedences(self) -> None:
        for operation in self.checked.operations:
            for successor in operation.successors:
                before, after = self.operations[operation.index], self.operations[successor]
                if not (before.fixed and after.fixed):
                    self.model.add(before.end <= after.start)

    def _machines(self) -> None:
        for machine, nodes in enumerate(self._nodes):
            if len(nodes) > 1:
                self.model.add_no_overlap([node.interval for node in nodes])
            calendar = self.checked.machines[machine].calendar
            optional = [node for node in nodes if not isinstance(node.present, int)]
            if optional and len(calendar.starts) == 1 and calendar.offsets[0] == 0:
                # The machine's load as a linear bound on the makespan: NoOverlap alone does not give the
                # LP relaxation this when operations may choose their machine (flexible job shops).
                earliest = min(node.earliest for node in nodes)
                load = sum(node.present * (node.shortest_end - node.earliest) for node in nodes)
                self.model.add(self.makespan >= earliest + load)
            if nodes and self.checked.has_setups(machine):
                self._circuit(machine, nodes)

    def _circuit(self, machine: int, nodes: list[_Node]) -> None:
        model = self.model
        checked = self.checked
        first = checked.machines[machine].calendar.first
        arcs: list[tuple[int, int, cp_model.LiteralT]] = []
        if not all(isinstance(node.present, int) for node in nodes):
            empty = model.new_bool_var(f"m{machine}empty")
            self.empty_machines[machine] = empty
            arcs.append((0, 0, empty))
        frozen = sorted(node.earliest for node in nodes if checked.operations[node.operation].fixed is not None)
        for number, node in enumerate(nodes, start=1):
            if not isinstance(node.present, int):
                arcs.append((number, number, ~node.present))
            # A frozen operation that surely runs before (after) this one keeps it from being first (last).
            if not frozen or frozen[0] >= node.earliest:
                opening = model.new_bool_var(f"m{machine}first{node.operation}")
                minutes = changeover(checked, machine, None, node.operation)
                if minutes:
                    model.add(interval_start(node.interval) >= first + minutes).only_enforce_if(opening)
                arcs.append((0, number, opening))
                self.arcs.append(_Arc(machine, -1, node.operation, opening, minutes))
            if not frozen or frozen[-1] <= node.latest:
                closing = model.new_bool_var(f"m{machine}last{node.operation}")
                arcs.append((number, 0, closing))
                self.arcs.append(_Arc(machine, node.operation, -1, closing, 0))
        for tail_number, tail in enumerate(nodes, start=1):
            for head_number, head in enumerate(nodes, start=1):
                if tail_number == head_number or self._cannot_follow(tail, head, frozen):
                    continue
                minutes = changeover(checked, machine, tail.operation, head.operation)
                literal = model.new_bool_var(f"m{machine}a{tail.operation}_{head.operation}")
                model.add(interval_start(head.interval) >= interval_end(tail.interval) + minutes).only_enforce_if(
                    literal
                )
                arcs.append((tail_number, head_number, literal))
                self.arcs.append(_Arc(machine, tail.operation, head.operation, literal, minutes))
        model.add_circuit(arcs)

    def _cannot_follow(self, tail: _Node, head: _Node, frozen: list[int]) -> bool:
        """True when `head` can never run right after `tail` on the machine, so the arc is not needed.

        `frozen` holds the sorted starts of the machine's frozen operations: one that surely starts
        after `tail` (it starts after tail's latest start, and nothing overlaps on a machine) and
        before `head` comes between them. With most of a machine frozen, as in the neighbourhood
        search's sub-problems, this leaves a few arcs per operation instead of one per pair.
        """
        if head.operation in self.checked.operations[tail.operation].predecessors:
            return True
        if head.latest < tail.shortest_end:
            return True
        between = bisect_right(frozen, tail.latest)
        return between < len(frozen) and frozen[between] < head.earliest

    # Objectives --------------------------------------------------------------------------------

    def _objectives(self) -> None:
        model = self.model
        checked = self.checked
        sinks = [operation.index for operation in checked.operations if not operation.successors]
        for index in sinks:
            model.add(self.makespan >= self.operations[index].end)
        # The sum of the last ends: a tie-breaker that lets a search move along a makespan plateau.
        self.flow: Expr = total(self.operations[index].end for index in sinks)
        for job_index, job in enumerate(checked.jobs):
            if job.due is None or job.weight == 0:
                continue
            late = model.new_int_var(0, max(0, self.horizon - job.due), f"j{job_index}late")
            for index in job.operations:
                if not any(checked.operations[s].job == job_index for s in checked.operations[index].successors):
                    model.add(late >= self.operations[index].end - job.due)
            self.tardiness.append((job_index, late))

    def expression(self, objective: Objective) -> Expr:
        if objective is Objective.MAKESPAN:
            return self.makespan
        if objective is Objective.WEIGHTED_TARDINESS:
            return total(self.checked.jobs[job].weight * late for job, late in self.tardiness)
        return total(arc.minutes * arc.literal for arc in self.arcs if arc.minutes)

    def is_trivial(self, objective: Objective) -> bool:
        """True when the objective is zero in every schedule, so its stage can be skipped."""
        if objective is Objective.WEIGHTED_TARDINESS:
            return not self.tardiness
        if objective is Objective.TOTAL_SETUP:
            return not any(arc.minutes for arc in self.arcs)
        return False

    # Hints and solutions -----------------------------------------------------------------------

    def hint(self, schedule: Schedule) -> list[int] | None:
        """Hint every variable's value in `schedule`: a complete, feasible hint is CP-SAT's first solution.

        Returns the values as a full solution (by variable index), or None if some variable has none.
        """
        checked = self.checked
        placed = placements_of(checked, schedule)
        values: dict[int, int] = {}

        def put(variable: Expr, value: int) -> None:
            if isinstance(variable, cp_model.IntVar):
                values[variable.index] = value

        for operation, variables in zip(checked.operations, self.operations, strict=True):
            if variables.fixed:
                continue
            machine, start, end = placed[operation.index]
            chosen = next(k for k, option in enumerate(operation.options) if option.machine == machine)
            put(variables.start, start)
            put(variables.end, end)
            for k, literal in enumerate(variables.present):
                put(literal, int(k == chosen))
            for clock in variables.clocks:
                used = chosen in clock.options
                position = clock.calendar.position(start) if used else _lowest(clock.position)
                finish = position + (operation.options[chosen].duration if used else 0)
                put(clock.position, position)
                if clock.present is not None:
                    put(clock.present, int(used))
                for literal, boundary in clock.start_literals:
                    put(literal, int(position >= boundary))
                for literal, boundary in clock.end_literals:
                    put(literal, int(finish > boundary))
        put(self.makespan, max((end for _, _, end in placed.values()), default=0))
        completion: dict[int, int] = {}
        for index, (_, _, end) in placed.items():
            job = checked.operations[index].job
            completion[job] = max(completion.get(job, end), end)
        for job, late in self.tardiness:
            put(late, max(0, completion[job] - (checked.jobs[job].due or 0)))
        self._hint_sequences(placed, values)
        for index, variable in enumerate(self.model.proto.variables):
            # Constants CP-SAT made on the side (a literal `1`, say) have the only value they can have.
            if index not in values and len(variable.domain) == 2 and variable.domain[0] == variable.domain[1]:
                values[index] = variable.domain[0]
        self.model.clear_hints()
        hint = self.model.proto.solution_hint
        hint.vars.extend(list(values))
        hint.values.extend(list(values.values()))
        count = len(self.model.proto.variables)
        if len(values) < count:
            return None
        return [values[index] for index in range(count)]

    def flow_of(self, placements: Placements) -> int:
        """The value of `flow` for a schedule given as operation -> (machine, start, end)."""
        return sum(placements[operation.index][2] for operation in self.checked.operations if not operation.successors)

    def _hint_sequences(self, placed: Placements, values: dict[int, int]) -> None:
        if not self.arcs:
            return
        sequences: dict[int, list[tuple[int, int]]] = {}
        nodes = {
            (machine, node.operation) for machine, machine_nodes in enumerate(self._nodes) for node in machine_nodes
        }
        for index, (machine, start, _) in placed.items():
            if (machine, index) in nodes:
                sequences.setdefault(machine, []).append((start, index))
        used: set[tuple[int, int, int]] = set()
        for machine, sequence in sequences.items():
            sequence.sort()
            order = [-1, *(index for _, index in sequence), -1]
            used.update((machine, tail, head) for tail, head in zip(order, order[1:], strict=False))
        for arc in self.arcs:
            values[arc.literal.index] = int((arc.machine, arc.tail, arc.head) in used)
        for machine, literal in self.empty_machines.items():
            values[literal.index] = int(machine not in sequences)

    def hint_solution(self, solution: Sequence[int]) -> None:
        """Hint a previous stage's complete solution."""
        hint_solution(self.model, solution)

    def placements(
        self, value: cp_model.CpSolverSolutionCallback | cp_model.CpSolver
    ) -> dict[int, tuple[int, int, int]]:
        """Operation -> (machine, start, end) in the solver's current solution."""
        placed: dict[int, tuple[int, int, int]] = {}
        for operation, variables in zip(self.checked.operations, self.operations, strict=True):
            if operation.fixed is not None:
                placed[operation.index] = operation.fixed
                continue
            chosen = next(k for k, literal in enumerate(variables.present) if value.value(literal))
            machine = operation.options[chosen].machine
            placed[operation.index] = (machine, value.value(variables.start), value.value(variables.end))
        return placed


def _zero(clock: _Clock, options: Sequence[CheckedOption]) -> bool:
    return all(options[k].duration == 0 for k in clock.options)


def _work(present: Sequence[Presence], durations: Sequence[int]) -> Expr:
    """The working minutes of whichever option is present."""
    total: Expr = 0
    for literal, duration in zip(present, durations, strict=True):
        total = total + literal * duration
    return total


def hint_solution(model: cp_model.CpModel, solution: Sequence[int]) -> None:
    """Replace `model`'s hint by a complete solution (a value for every variable, by index)."""
    model.clear_hints()
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(solution)))
    hint.values.extend(solution)


def total(terms: Iterable[Expr]) -> Expr:
    """A sum of expressions, typed (the built-in sum's start value confuses the OR-Tools stubs)."""
    result: Expr = 0
    for term in terms:
        result = result + term
    return result


def interval_start(interval: cp_model.IntervalVar) -> cp_model.LinearExpr:
    return cast(cp_model.LinearExpr, interval.start_expr())


def interval_end(interval: cp_model.IntervalVar) -> cp_model.LinearExpr:
    return cast(cp_model.LinearExpr, interval.end_expr())


def _lowest(variable: cp_model.IntVar) -> int:
    return int(variable.proto.domain[0])
