"""Markdown tables from `benchmark_scheduler --json` output: one table per file, then the mean gaps.

Usage: python tests/benchmarks/summarise.py la.jsonl [mk.jsonl ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _gap(value: object, reference: object) -> str:
    if not isinstance(value, int) or not isinstance(reference, int) or not reference:
        return "-"
    return f"{100.0 * (value - reference) / reference:.2f}"


def summarise(path: Path) -> str:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines = [
        f"### {path.stem}",
        "",
        "| instance | size | best known | ours | gap % | bound | baseline | baseline gap % | best rule |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    ours: list[float] = []
    theirs: list[float] = []
    better = worse = 0
    for record in records:
        known = record.get("best_known")
        baseline = record.get("baseline_makespan")
        rules = record.get("rules") or {}
        best_rule = min(rules, key=lambda name: rules[name]) if rules else None
        rule_text = f"{best_rule} {rules[best_rule]}" if best_rule else "-"
        baseline_text = "-" if baseline is None else str(baseline)
        lines.append(
            f"| {record['instance']} | {record['jobs']}x{record['machines']} | {known or '-'} | {record['makespan']} "
            f"| {_gap(record['makespan'], known)} | {record['best_bound']} | {baseline_text} "
            f"| {_gap(baseline, known)} | {rule_text} |"
        )
        if isinstance(known, int) and known:
            ours.append(100.0 * (record["makespan"] - known) / known)
            if isinstance(baseline, int):
                theirs.append(100.0 * (baseline - known) / known)
        if isinstance(baseline, int):
            better += record["makespan"] < baseline
            worse += record["makespan"] > baseline
    lines.append("")
    if ours:
        lines.append(
            f"Mean gap to best known: ours {sum(ours) / len(ours):.2f} %"
            + (f", baseline {sum(theirs) / len(theirs):.2f} %" if theirs else "")
            + f" ({len(ours)} instances)."
        )
    if theirs:
        lines.append(
            f"Ours better than the baseline on {better}, worse on {worse}, equal on {len(theirs) - better - worse}."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(summarise(Path(argument)))
