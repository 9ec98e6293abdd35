"""Benchmark instance loaders and the benchmark_scheduler command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.scheduling.benchmarks import InstanceFormatError, best_known, parse_fjsp, parse_jssp, to_problem

from .shop import FT06, TINY_FJSP


def test_jssp_is_read_in_file_order_with_comments_skipped() -> None:
    instance = parse_jssp(FT06, "ft06")
    assert (len(instance.jobs), instance.machines, instance.operations) == (6, 6, 36)
    assert instance.jobs[0][:2] == (((2, 1),), ((0, 3),))
    assert instance.horizon == 197


def test_fjsp_machines_are_numbered_from_zero() -> None:
    instance = parse_fjsp(TINY_FJSP, "tiny")
    assert instance.jobs[0] == (((0, 4), (1, 6)), ((2, 5),))
    assert instance.operations == 6


def test_a_benchmark_problem_is_a_plain_chain_per_job() -> None:
    problem = to_problem(parse_fjsp(TINY_FJSP, "tiny"))
    assert [machine.working for machine in problem.machines] == [((0, 25),)] * 3
    assert problem.jobs[1].operations[1].predecessors == ("0",)


@pytest.mark.parametrize(
    ("text", "message"),
    [("2 2\n0 5 1 5\n", "need 10 numbers"), ("1 2\n0 5 7 5\n", "machine 7"), ("x y", "invalid literal")],
)
def test_malformed_jssp(text: str, message: str) -> None:
    with pytest.raises(InstanceFormatError, match=message):
        parse_jssp(text, "bad")


def test_malformed_fjsp() -> None:
    with pytest.raises(InstanceFormatError, match="line ends early"):
        parse_fjsp("1 2 1\n2 1 1 5\n", "bad")


def test_best_known_is_read_from_bounds_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "ft06.txt").write_text(FT06)
    (tmp_path / "bounds.json").write_text(json.dumps([{"instance": "ft06", "upper_bound": 55, "lower_bound": 55}]))
    assert best_known(tmp_path / "ft06.txt") == 55
    assert best_known(tmp_path / "other.txt") is None


def test_the_command_prints_one_json_line_per_instance_and_writes_solutions(tmp_path: Path) -> None:
    (tmp_path / "ft06.txt").write_text(FT06)
    (tmp_path / "tiny.txt").write_text(TINY_FJSP)
    out = io.StringIO()
    arguments = ["--time-limit", "2", "--workers", "1", "--json", "--solutions", str(tmp_path / "solutions")]
    call_command(
        "benchmark_scheduler", str(tmp_path / "ft06.txt"), "--format", "jssp", "--baseline", *arguments, stdout=out
    )
    call_command("benchmark_scheduler", str(tmp_path / "tiny.txt"), "--format", "fjsp", *arguments, stdout=out)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert {
        key: first[key] for key in ("instance", "jobs", "machines", "operations", "makespan", "best_bound", "status")
    } == {
        "instance": "ft06",
        "jobs": 6,
        "machines": 6,
        "operations": 36,
        "makespan": 55,
        "best_bound": 55,
        "status": "optimal",
    }
    assert set(first["rules"]) == {"EDD", "SPT", "CR", "SLACK", "FIFO", "MWKR"}
    assert first["baseline_makespan"] == 55
    assert first["wall_s"] >= 0
    assert (second["instance"], second["makespan"]) == ("tiny", 9)
    assert "baseline_makespan" not in second
    rows = json.loads((tmp_path / "solutions" / "ft06.json").read_text())
    assert len(rows) == 36
    assert set(rows[0]) == {"job", "op", "machine", "start", "end"}
    assert max(row["end"] for row in rows) == 55
    # Job 0's first operation runs on machine 2 for 1 minute, as in the file.
    first_row = next(row for row in rows if (row["job"], row["op"]) == (0, 0))
    assert (first_row["machine"], first_row["end"] - first_row["start"]) == (2, 1)


def test_the_command_names_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("2 2\n0 5\n")
    with pytest.raises(CommandError, match="bad.txt"):
        call_command("benchmark_scheduler", str(tmp_path / "bad.txt"), "--time-limit", "1")
