"""Plan a problem: check it, build every dispatch-rule schedule, hint the best to CP-SAT, solve in stages.

Lexicographic objectives are solved one stage at a time: each stage minimises its objective
with every earlier objective held at the value its stage reached (a constraint, not a big-M
weight, so no stage's scale distorts another's and each stage reports its own bound). A stage
whose objective is zero in every schedule (tardiness without due dates, changeovers without a
matrix) is skipped, and one the best rule already brings to zero is fixed there without a solve.
When the makespan is the first objective that needs solving, the best rule's makespan bounds
every operation's latest start, which shrinks the model considerably on benchmark instances.
On a very large job shop minimising the makespan, the rule's schedule is not CP-SAT's hint
(`search.rule_hint_helps`): there CP-SAT finds better schedules without it.

When weighted tardiness leads and the due-date rules leave some, the capacity relaxation
(`bounds.capacity_relaxation`) runs first: its due dates give the tuning a better start, and its
bound is the shop-scale path's bound and raises CP-SAT's where it is stronger. With two workers or
more, its finer version (`bounds.FinerBound`) runs beside the tuning and raises that bound.

Given an earlier plan (the published one, when a planning run starts from it), `solve` rebuilds it
on this problem (`dispatch.follow_plan`: the same machines and order where they still apply) and
starts from it when it beats the rules; the due-date tuning is then skipped, since it starts from
the rules. A replan then keeps what still works in the plan the floor follows, and improves on it.

The schedule CP-SAT returns is left-shifted (`dispatch.left_shift`: each operation as early as its
machine's order allows) and accepted only if the independent validator finds nothing wrong;
otherwise (a bug, never expected) the best rule schedule is returned and the result says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .bounds import (
    FinerBound,
    Relaxation,
    capacity_relaxation,
    first_objective_bound,
    guided_due_dates,
    leading_weights,
)
from .check import CheckedProblem, check_problem, latest_starts
from .cpsat import Expr, ShopModel, total
from .dispatch import (
    RULES,
    Placements,
    build_schedule,
    follow_plan,
    known_placements,
    left_shift,
    place_operations,
    placements_of,
    schedule_from_placements,
)
from .lns import Incumbent
from .model import (
    Objective,
    Problem,
    Rule,
    Schedule,
    SolveResult,
    SolverSettings,
    SolveStatus,
    StageOutcome,
)
from .parts import LARGE_CIRCUITS, PartsSearch, circuit_arcs
from .search import ProgressCallback, rule_hint_helps, search_stage
from .tuning import Tuned, tune_due_dates, weighted_tardiness
from .validate import objective_values, validate_schedule

logger = logging.getLogger(__name__)

# Share of the time limit the due-date tuning may take before CP-SAT starts (only while tardiness leads).
TUNING_SHARE = 0.3
# Share of the time limit (and the most seconds) the capacity relaxation may take, while tardiness leads.
BOUND_SHARE = 0.05
BOUND_SECONDS = 3.0
# Share of the time limit the finer bound may still take when the tuning ends before it does.
FINER_BOUND_GRACE = 0.01
DUE_DATE_RULES = (Rule.EDD, Rule.SLACK, Rule.CR)


@dataclass(frozen=True, slots=True)
class RuleSchedules:
    """Every rule's valid schedule with its objective values, and the best one under the settings."""

    schedules: Mapping[Rule, Schedule]
    values: Mapping[Rule, Mapping[Objective, int]]
    best: Rule | None


def rule_schedules(problem: Problem, checked: CheckedProblem, settings: SolverSettings) -> RuleSchedules:
    schedules: dict[Rule, Schedule] = {}
    values: dict[Rule, Mapping[Objective, int]] = {}
    for rule in RULES:
        schedule = build_schedule(checked, rule)
        if schedule is None:
            continue
        violations = validate_schedule(problem, schedule)
        if violations:
            logger.warning("dispatch rule %s built an invalid schedule: %s", rule, violations[0])
            continue
        schedules[rule] = schedule
        values[rule] = objective_values(problem, schedule)
    best = min(values, key=lambda rule: _rank(values[rule], settings), default=None)
    return RuleSchedules(schedules, values, best)


def _rank(values: Mapping[Objective, int], settings: SolverSettings) -> tuple[int, ...]:
    if settings.weights is not None:
        return (sum(weight * values[objective] for objective, weight in settings.weights.items()),)
    return tuple(values[objective] for objective in settings.objectives)


EARLIER_PLAN = "earlier plan"
TUNING = "due-date tuning"


@dataclass(frozen=True, slots=True)
class _Start:
    """What the search starts from (`SolveResult.start`), and the earlier plan rebuilt when one was given."""

    label: str
    followed: Schedule | None = None


@dataclass(frozen=True, slots=True)
class _Stage:
    """One solve: minimise a weighted sum of objectives (a lexicographic stage has one, weight 1)."""

    name: str
    weights: Mapping[Objective, int]

    def rule_value(self, values: Mapping[Objective, int]) -> int:
        return sum(weight * values[objective] for objective, weight in self.weights.items())

    def expression(self, shop: ShopModel) -> Expr:
        return total(weight * shop.expression(objective) for objective, weight in self.weights.items())


def solve(
    problem: Problem,
    settings: SolverSettings | None = None,
    progress: ProgressCallback | None = None,
    start_from: Schedule | None = None,
) -> SolveResult:
    """The best schedule found within the time limit, validated. Raises `InputError` on bad input.

    `start_from` is an earlier plan of (most of) the same work, such as the published one: rebuilt
    on this problem (`dispatch.follow_plan`), it is where the search starts when it beats the rules.
    """
    settings = settings or SolverSettings()
    started = time.monotonic()
    deadline = started + settings.time_limit_s
    checked = check_problem(problem)
    rules = rule_schedules(problem, checked, settings)
    hint = rules.schedules[rules.best] if rules.best is not None else None
    hint_values = rules.values[rules.best] if rules.best is not None else None
    origin = _Start(f"rule:{rules.best}" if rules.best is not None else "")
    if start_from is not None and hint is not None and hint_values is not None:
        followed = _follow(problem, checked, start_from, hint, settings)
        if followed is not None:
            origin = replace(origin, followed=followed[0])
            if _rank(followed[1], settings) < _rank(hint_values, settings):
                logger.info("starting from the earlier plan: %s against the best rule's %s", followed[1], hint_values)
                hint, hint_values = followed
                origin = replace(origin, label=EARLIER_PLAN)
    dated = _due_date_rules(rules, settings)
    relaxation = None
    if dated:  # tardiness leads and the rules leave some: the relaxation's bound and due dates are worth having
        budget = min(BOUND_SECONDS, settings.time_limit_s * BOUND_SHARE)
        relaxation = capacity_relaxation(checked, budget, settings.workers)
    tuning_deadline = started + settings.time_limit_s * TUNING_SHARE
    # Tuning starts from the rules' schedules: when the earlier plan already beats them, its time goes to the search.
    following = origin.label == EARLIER_PLAN
    # The finer bound runs on the second worker while the tuning (Python) runs on the first.
    finer = None
    if relaxation is not None and not following and settings.workers > 1:
        finer = FinerBound(checked, tuning_deadline - time.monotonic())
    tuned = None if following else _tune(problem, checked, rules, dated, settings, tuning_deadline, relaxation)
    if finer is not None and relaxation is not None:
        finer_bound = finer.bound(wait=settings.time_limit_s * FINER_BOUND_GRACE)
        relaxation = replace(relaxation, bound=max(relaxation.bound, finer_bound or 0))
    if tuned is not None and hint_values is not None and _rank(tuned[1], settings) < _rank(hint_values, settings):
        hint, hint_values = tuned
        origin = replace(origin, label=TUNING)
    if hint is not None and circuit_arcs(checked) > LARGE_CIRCUITS:
        bound = first_objective_bound(checked, settings, relaxation.bound if relaxation is not None else None)
        return _solve_in_parts(problem, checked, rules, origin, hint, bound, settings, deadline, progress, started)

    stages = _stages(checked, settings)
    # Leading stages the best rule already brings to zero are optimal: hold them there without solving.
    # (Only leading ones: a later stage's optimum depends on what the stages before it settle on.)
    settled: list[_Stage] = []
    for stage in stages:
        if hint_values is None or stage.rule_value(hint_values) != 0:
            break
        settled.append(stage)
    to_solve = stages[len(settled) :]
    horizon = problem.horizon
    makespan_first = bool(to_solve) and dict(to_solve[0].weights) == {Objective.MAKESPAN: 1}
    if hint_values is not None and makespan_first:
        # No schedule at least as good on the earlier (zero) stages needs to end later than the rule's.
        horizon = hint_values[Objective.MAKESPAN]
        latest_starts(checked, horizon)
    shop = ShopModel(checked, horizon)
    outcomes: list[StageOutcome] = []
    for stage in settled:
        shop.model.add(stage.expression(shop) <= 0)
        outcomes.append(StageOutcome(stage.name, 0, 0, SolveStatus.OPTIMAL, 0.0))
    # The schedule each stage starts from: the best rule's, then the previous stage's.
    current: tuple[Schedule, Incumbent] | None = None
    if hint is not None:
        vector = shop.hint(hint)
        if vector is not None:
            placements = placements_of(checked, hint)
            current = hint, Incumbent(0, placements, vector, shop.flow_of(placements))
            if makespan_first and not rule_hint_helps(checked):
                # Still the stage's start, so never worse than the rule, but CP-SAT's first run goes without it.
                shop.model.clear_hints()

    solved: list[StageOutcome] = []
    solver_placements: Placements | None = None
    for number, stage in enumerate(to_solve):
        remaining = deadline - time.monotonic()
        if remaining <= 0.01:
            break
        # Earlier stages get most of the time; whatever they leave unused passes on.
        share = (1.0, 0.7, 0.6)[min(len(to_solve) - number - 1, 2)]
        expression = stage.expression(shop)
        start = None
        if current is not None:
            start_schedule, start_incumbent = current
            start = replace(start_incumbent, value=stage.rule_value(objective_values(problem, start_schedule)))
        found = search_stage(shop, expression, stage.name, settings, remaining * share, progress, started, start)
        incumbent = found.incumbent
        value = incumbent.value if incumbent is not None else 0
        bound = found.bound if found.bound is not None else 0
        if relaxation is not None and dict(stage.weights) == {Objective.WEIGHTED_TARDINESS: 1}:
            # The relaxation runs only while tardiness leads, so this is the first stage: its bound holds.
            bound = max(bound, relaxation.bound)
        solved.append(StageOutcome(stage.name, value, bound, found.status, found.wall_s, found.stopped))
        if incumbent is None:
            if found.status is SolveStatus.INFEASIBLE and number == 0 and hint is None:
                return _result(problem, rules, origin, None, outcomes + solved, solved, SolveStatus.INFEASIBLE, started)
            break
        solver_placements = incumbent.placements
        current = schedule_from_placements(checked, solver_placements), incumbent
        shop.model.add(expression <= incumbent.value)
        shop.hint_solution(incumbent.solution)
        if found.stopped:
            break
    solver_schedule = None
    if solver_placements is not None:
        # CP-SAT places work the objectives do not depend on anywhere it fits; start it as early as its order
        # allows. That never makes an objective worse; where it makes one better, the stage reports it.
        solver_schedule = schedule_from_placements(checked, left_shift(checked, solver_placements))
        shifted = objective_values(problem, solver_schedule)
        solved = [
            replace(outcome, value=min(outcome.value, stage.rule_value(shifted)))
            for outcome, stage in zip(solved, to_solve, strict=False)
        ]
    outcomes.extend(solved)

    complete = len(solved) == len(to_solve) and all(o.status is SolveStatus.OPTIMAL for o in solved)
    status = SolveStatus.OPTIMAL if complete else SolveStatus.FEASIBLE
    if solver_schedule is not None:
        violations = validate_schedule(problem, solver_schedule)
        if not violations:
            return _result(problem, rules, origin, solver_schedule, outcomes, solved, status, started)
        logger.error("CP-SAT schedule rejected by the validator: %s", "; ".join(map(str, violations[:5])))
        messages = tuple(f"solver schedule rejected: {violation}" for violation in violations[:10])
        return _result(
            problem, rules, origin, hint, outcomes, solved, SolveStatus.FEASIBLE, started, messages, rule=True
        )
    if hint is not None:
        rule_status = status if not to_solve else SolveStatus.FEASIBLE
        return _result(problem, rules, origin, hint, outcomes, solved, rule_status, started, rule=True)
    messages = () if rules.best is not None else ("no dispatch rule fits every operation within the horizon",)
    return _result(problem, rules, origin, None, outcomes, solved, SolveStatus.UNKNOWN, started, messages)


def _follow(
    problem: Problem, checked: CheckedProblem, plan: Schedule, fallback: Schedule, settings: SolverSettings
) -> tuple[Schedule, Mapping[Objective, int]] | None:
    """`plan` rebuilt on this problem, with `fallback` for the work it does not place; None if that fails.

    When the plan places every operation validly as it stands (the shop has not changed), the plan
    itself, left-shifted, is a candidate too: rebuilding can change a changeover and lose a little,
    and a replan of an unchanged shop should never start worse than the plan it replaces.
    """
    candidates = []
    placed = follow_plan(checked, plan, placements_of(checked, fallback))
    if placed is None:
        logger.info("the earlier plan does not fit this problem's horizon: starting from the rules")
    else:
        schedule = schedule_from_placements(checked, placed)
        violations = validate_schedule(problem, schedule)
        if violations:  # the rules' builder: never expected
            logger.error("the earlier plan, rebuilt, is invalid: %s", violations[0])
        else:
            candidates.append((schedule, objective_values(problem, schedule)))
    as_is = _as_is(checked, plan)
    if as_is is not None and not validate_schedule(problem, schedule_from_placements(checked, as_is)):
        schedule = schedule_from_placements(checked, left_shift(checked, as_is))
        candidates.append((schedule, objective_values(problem, schedule)))
    return min(candidates, key=lambda candidate: _rank(candidate[1], settings), default=None)


def _as_is(checked: CheckedProblem, plan: Schedule) -> Placements | None:
    """`plan`'s placement of every operation of the problem, or None if it misses one."""
    placed = known_placements(checked, plan)
    return placed if len(placed) == len(checked.operations) else None


def _due_date_rules(rules: RuleSchedules, settings: SolverSettings) -> list[Rule]:
    """The due-date rules that built a schedule, least weighted tardiness first; none unless tardiness leads
    and the best of them leaves some."""
    if not leading_weights(settings).get(Objective.WEIGHTED_TARDINESS):
        return []
    dated = sorted(
        (rule for rule in DUE_DATE_RULES if rule in rules.values),
        key=lambda rule: rules.values[rule][Objective.WEIGHTED_TARDINESS],
    )
    return dated if dated and rules.values[dated[0]][Objective.WEIGHTED_TARDINESS] else []


def _tune(
    problem: Problem,
    checked: CheckedProblem,
    rules: RuleSchedules,
    dated: list[Rule],
    settings: SolverSettings,
    deadline: float,
    relaxation: Relaxation | None,
) -> tuple[Schedule, Mapping[Objective, int]] | None:
    """The best schedule of due-date tuning (of every due-date rule), when tardiness is what matters most.

    Each rule tunes from its own schedule, or from the one it builds with the relaxation's due dates
    (`bounds.guided_due_dates`) when that one is better: then those dates are what the tuning varies.
    """
    if not dated:
        return None
    guided = guided_due_dates(checked, relaxation) if relaxation is not None else None
    # Each due-date rule tunes to a local optimum of its own, and the best rule untuned is often not the
    # best tuned: every rule gets an equal share of the time, and what one leaves when it stalls passes on.
    tuned: Tuned | None = None
    for number, rule in enumerate(dated):
        share = (deadline - time.monotonic()) / (len(dated) - number)
        start = placements_of(checked, rules.schedules[rule])
        anchors = None
        if guided is not None:
            following = place_operations(checked, rule, guided)
            own = rules.values[rule][Objective.WEIGHTED_TARDINESS]
            if following is not None and weighted_tardiness(checked, following)[0] < own:
                start, anchors = following, guided
        found = tune_due_dates(checked, rule, start, time.monotonic() + share, settings.seed, anchors)
        if tuned is None or found.weighted_tardiness < tuned.weighted_tardiness:
            tuned = found
    if tuned is None:
        return None
    schedule = schedule_from_placements(checked, tuned.placements)
    if validate_schedule(problem, schedule):
        return None  # the same builder as the rules: never expected, and then the rules' schedules stand
    return schedule, objective_values(problem, schedule)


def _solve_in_parts(
    problem: Problem,
    checked: CheckedProblem,
    rules: RuleSchedules,
    origin: _Start,
    hint: Schedule,
    bound: int,
    settings: SolverSettings,
    deadline: float,
    progress: ProgressCallback | None,
    started: float,
) -> SolveResult:
    """Shop scale: the sub-problem search (`parts`) from the hint, without the full model; `bound` is the first
    objective's lower bound."""
    search = PartsSearch(problem, checked, settings)
    outcome = search.run(hint, deadline, progress, started, bound)
    values = outcome.values
    first = search.stages()[0] if search.stages() else {}
    value = sum(weight * values[objective] for objective, weight in first.items())
    status = SolveStatus.OPTIMAL if first and value <= bound and len(search.stages()) == 1 else SolveStatus.FEASIBLE
    name = "weighted" if settings.weights is not None else str(next(iter(first), "none"))
    stage = StageOutcome(name, value, min(bound, value), status, time.monotonic() - started, outcome.stopped)
    violations = validate_schedule(problem, outcome.schedule)
    if violations:
        logger.error("sub-problem schedule rejected by the validator: %s", "; ".join(map(str, violations[:5])))
        messages = tuple(f"solver schedule rejected: {violation}" for violation in violations[:10])
        return _result(
            problem, rules, origin, hint, [stage], [stage], SolveStatus.FEASIBLE, started, messages, rule=True
        )
    return _result(problem, rules, origin, outcome.schedule, [stage], [stage], status, started)


def _stages(checked: CheckedProblem, settings: SolverSettings) -> list[_Stage]:
    trivial = set()
    if not any(job.due is not None and job.weight > 0 for job in checked.jobs):
        trivial.add(Objective.WEIGHTED_TARDINESS)
    if not any(checked.has_setups(machine) for machine in range(len(checked.machines))):
        trivial.add(Objective.TOTAL_SETUP)
    if settings.weights is not None:
        weights = {objective: weight for objective, weight in settings.weights.items() if objective not in trivial}
        return [_Stage("weighted", weights)] if any(weights.values()) else []
    return [_Stage(str(objective), {objective: 1}) for objective in settings.objectives if objective not in trivial]


def _result(
    problem: Problem,
    rules: RuleSchedules,
    origin: _Start,
    schedule: Schedule | None,
    outcomes: list[StageOutcome],
    solved: list[StageOutcome],
    status: SolveStatus,
    started: float,
    messages: tuple[str, ...] = (),
    rule: bool = False,
) -> SolveResult:
    values = objective_values(problem, schedule) if schedule is not None else {}
    headline = solved[0] if solved else outcomes[0] if outcomes else None
    objective = best_bound = None
    gap: float | None = None
    if headline is not None and schedule is not None and headline.status is not SolveStatus.UNKNOWN:
        objective = headline.value
        best_bound = headline.bound
        gap = (objective - best_bound) / max(1, abs(objective))
    source = "none" if schedule is None else origin.label if rule else "cp-sat"
    return SolveResult(
        status=status,
        schedule=schedule,
        objective=objective,
        best_bound=best_bound,
        gap=gap,
        values=values,
        stages=tuple(outcomes),
        source=source,
        rule_values=rules.values,
        wall_s=time.monotonic() - started,
        stopped=any(outcome.stopped for outcome in outcomes),
        messages=messages,
        start=origin.label,
        followed=origin.followed,
    )
