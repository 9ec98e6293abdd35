"""Pure checks on precedence graphs (routing steps, job operations): no Django here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal


def default_predecessors(sequences: Sequence[int], explicit: Mapping[int, Sequence[int]]) -> dict[int, list[int]]:
    """Predecessors of each step: the explicit ones, or else the previous step in sequence order."""
    ordered = sorted(sequences)
    result: dict[int, list[int]] = {}
    for index, sequence in enumerate(ordered):
        given = list(explicit.get(sequence, ()))
        result[sequence] = given if given else ([ordered[index - 1]] if index else [])
    return result


def find_cycle(predecessors: Mapping[int, Sequence[int]]) -> list[int] | None:
    """A cycle as a list of steps [a, b, ..., a], or None when the graph is a DAG."""
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    path: list[int] = []

    def visit(node: int) -> list[int] | None:
        state[node] = 1
        path.append(node)
        for before in predecessors.get(node, ()):
            if state.get(before) == 1:
                return [*path[path.index(before) :], before]
            if before not in state:
                found = visit(before)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in predecessors:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def unknown_predecessors(predecessors: Mapping[int, Sequence[int]]) -> dict[int, list[int]]:
    """Steps whose predecessors name a step that does not exist."""
    known = set(predecessors)
    return {
        step: missing for step, befores in predecessors.items() if (missing := [b for b in befores if b not in known])
    }


def critical_path(weights: Mapping[int, Decimal], predecessors: Mapping[int, Sequence[int]]) -> Decimal:
    """The longest chain of `weights` through the precedence graph (the least time the steps
    need, one after another where they must wait and side by side where they may not).

    Predecessors missing from `weights` count as zero; an edge that would close a cycle is
    ignored so that a bad graph still gives a number.
    """
    finish: dict[int, Decimal] = {}
    on_path: set[int] = set()

    def earliest_finish(node: int) -> Decimal:
        if node in finish:
            return finish[node]
        on_path.add(node)
        start = max(
            (
                earliest_finish(before)
                for before in predecessors.get(node, ())
                if before in weights and before not in on_path
            ),
            default=Decimal(0),
        )
        on_path.discard(node)
        finish[node] = start + weights[node]
        return finish[node]

    return max((earliest_finish(node) for node in weights), default=Decimal(0))
