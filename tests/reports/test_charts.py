"""The SVG charts: valid, self-contained XML; gaps for missing values; clipping, escaping, truncation; the same
string for the same input; and one real PDF drawn by WeasyPrint with every chart in it."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from apps.reports import charts

NS = "{http://www.w3.org/2000/svg}"
D = Decimal

DAYS = [("Mon", D("0.5")), ("Tue", D("0.6")), ("Wed", None), ("Thu", D("0.7")), ("Fri", D("0.8"))]
REASONS = [
    ("Waiting for material", D("120"), D("0.4")),
    ("Breakdown", D("90"), D("0.7")),
    ("Tool change", D("45"), D("0.85")),
    ("Other", D("45"), D("1")),
]
LOSSES: list[tuple[str, list[Decimal | None]]] = [
    ("Breakdowns", [D("30"), D("10"), None]),
    ("Small stops", [D("10"), D("0"), D("8.5")]),
]
MACHINES = [("MILL-01", D("0.724")), ("MILL-02", D("0.86")), ("LATHE-03", None), ("GRIND-04", D("1.07"))]
SEGMENTS = [(0, 3600, "running"), (3600, 4500, "setup"), (5400, 7200, "alarm")]

BUILDERS: dict[str, Callable[[], str]] = {
    "gauge": lambda: charts.gauge(D("0.724"), label="OEE", target=D("0.8")),
    "trend": lambda: charts.trend(DAYS, title="OEE trend", target=D("0.8")),
    "pareto": lambda: charts.pareto(REASONS, title="Downtime by reason"),
    "stacked": lambda: charts.stacked_bars(["Morning", "Afternoon", "Night"], LOSSES, title="Losses"),
    "bars": lambda: charts.bars(MACHINES, title="OEE per machine", target=D("0.8")),
    "state-strip": lambda: charts.state_strip(SEGMENTS, total_seconds=8 * 3600),
}
EMPTY: dict[str, Callable[[], str]] = {
    "gauge": lambda: charts.gauge(None, label="OEE"),
    "trend": lambda: charts.trend([], title="OEE trend"),
    "pareto": lambda: charts.pareto([], title="Downtime by reason"),
    "stacked": lambda: charts.stacked_bars([], [], title="Losses"),
    "bars": lambda: charts.bars([], title="OEE per machine"),
    "state-strip": lambda: charts.state_strip([], total_seconds=8 * 3600),
}
COORDINATES = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "points", "d", "viewBox")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{NS}text")]


def group(root: ET.Element, name: str) -> ET.Element:
    found = root.find(f"{NS}g[@class='{name}']")
    assert found is not None, f"no <g class={name!r}>"
    return found


def tooltips(elements: list[ET.Element]) -> list[str]:
    return [element.findtext(f"{NS}title") or "" for element in elements]


# --- Every chart ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "build"),
    [pytest.param(kind, build, id=kind) for kind, build in BUILDERS.items()]
    + [pytest.param(kind, build, id=f"{kind}-empty") for kind, build in EMPTY.items()],
)
def test_every_chart_is_one_self_contained_svg(kind: str, build: Callable[[], str]) -> None:
    svg = build()
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("class") == f"chart chart-{kind}"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root.get("font-family") == "DejaVu Sans, Arial, sans-serif"
    assert root[0].tag == f"{NS}title"
    assert root[0].text == root.get("aria-label")
    for forbidden in ("var(", "foreignObject", "<style", "<script", "href", "@import"):
        assert forbidden not in svg


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_coordinates_have_at_most_one_decimal(kind: str) -> None:
    root = parse(BUILDERS[kind]())
    checked = 0
    for element in root.iter():
        for name in COORDINATES:
            value = element.get(name)
            if value is not None:
                checked += 1
                assert not re.search(r"\d\.\d\d", value), f"{element.tag} {name}={value}"
    assert checked > 10


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_same_input_gives_the_same_string(kind: str) -> None:
    assert BUILDERS[kind]() == BUILDERS[kind]()


@pytest.mark.parametrize("kind", sorted(set(EMPTY) - {"gauge"}))
def test_empty_data_draws_a_frame_saying_no_data(kind: str) -> None:
    root = parse(EMPTY[kind]())
    assert "No data" in texts(root)
    assert root.find(f".//{NS}polyline") is None
    assert root.find(f".//{NS}g[@class='bars']") is None


def test_labels_are_escaped_and_read_back_unchanged() -> None:
    nasty = 'A<b>&"c"'
    svg = charts.bars([(nasty, D("0.5"))], title=nasty)
    assert "<b>" not in svg
    assert "A&lt;b&gt;&amp;" in svg
    root = parse(svg)
    assert root.get("aria-label") == nasty
    assert texts(root)[0] == nasty
    assert tooltips(list(group(root, "bars")))[0] == f"{nasty}: 50.0 %"


def test_long_labels_are_truncated_with_an_ellipsis_but_kept_whole_in_tooltips() -> None:
    name = "LATHE-03 with a very long name indeed"
    root = parse(charts.bars([(name, D("0.5"))], title="OEE per machine"))
    shown = [text for text in texts(root) if text.startswith("LATHE")]
    assert shown == ["LATHE-03 with a very l…"]  # 140 px of 10 px text: 23 characters
    assert tooltips(list(group(root, "bars"))) == [f"{name}: 50.0 %"]


def test_wording_can_be_translated() -> None:
    spanish = charts.Wording(no_data="Sin datos", target="Objetivo", world_class="Clase mundial")
    assert "Sin datos" in texts(parse(charts.trend([], title="Tendencia", words=spanish)))
    shown = texts(parse(charts.trend(DAYS, title="Tendencia", target=D("0.8"), words=spanish)))
    assert "Objetivo 80 %" in shown
    assert "Clase mundial 85 %" in shown


@pytest.mark.parametrize(
    ("value", "trim", "expected"),
    [
        (D("0.724"), False, "72.4 %"),
        (0.7245, False, "72.5 %"),
        (D("0.8"), False, "80.0 %"),
        (D("0.8"), True, "80 %"),
        (D("0.855"), True, "85.5 %"),
        (1, False, "100.0 %"),
    ],
)
def test_percent_text(value: Decimal | float | int, trim: bool, expected: str) -> None:
    assert charts.percent_text(value, trim=trim) == expected


# --- Gauge ------------------------------------------------------------------------------------------------------


def test_gauge_prints_the_value_and_fills_the_arc_to_it() -> None:
    root = parse(charts.gauge(D("0.5"), label="OEE", target=D("0.8")))
    assert root.get("aria-label") == "OEE: 50.0 %"
    assert (root.get("width"), root.get("height")) == ("160", "125")
    value = root.find(f"{NS}path[@class='value']")
    assert value is not None
    # Centre (80, 75), radius 60: half way is the top of the circle.
    assert value.get("d") == "M 20 75 A 60 60 0 0 1 80 15"
    assert value.get("stroke") == charts.SHORT
    assert "50.0 %" in texts(root)
    assert "OEE" in texts(root)
    assert "Target 80 %" in texts(root)
    assert "World class 85 %" in texts(root)


def test_gauge_is_green_at_target_and_clips_above_100_percent_keeping_the_number() -> None:
    root = parse(charts.gauge(D("1.124"), label="Performance", target=D("0.95")))
    value = root.find(f"{NS}path[@class='value']")
    assert value is not None
    assert value.get("d") == "M 20 75 A 60 60 0 0 1 140 75"
    assert value.get("stroke") == charts.GOOD
    assert "112.4 %" in texts(root)


def test_gauge_without_target_is_judged_against_world_class() -> None:
    below = parse(charts.gauge(D("0.7"), label="OEE")).find(f"{NS}path[@class='value']")
    above = parse(charts.gauge(D("0.85"), label="OEE")).find(f"{NS}path[@class='value']")
    assert below is not None and above is not None
    assert (below.get("stroke"), above.get("stroke")) == (charts.NEUTRAL, charts.GOOD)


def test_gauge_without_a_value_says_no_data_and_draws_no_arc() -> None:
    root = parse(charts.gauge(None, label="Quality", world_class=None))
    assert root.get("aria-label") == "Quality: no data"
    assert root.find(f"{NS}path[@class='value']") is None
    assert texts(root) == ["—", "no data", "Quality"]


# --- Trend ------------------------------------------------------------------------------------------------------


def test_trend_breaks_the_line_at_a_missing_value() -> None:
    root = parse(charts.trend(DAYS, title="OEE trend", world_class=None))
    lines = group(root, "series").findall(f"{NS}polyline")
    # Plot from x 44 to 624 in five bands of 116; y 0 % at 198, 100 % at 32.
    assert [line.get("points") for line in lines] == ["102,115 218,98.4", "450,81.8 566,65.2"]
    markers = group(root, "points").findall(f"{NS}circle")
    assert tooltips(markers) == ["Mon: 50.0 %", "Tue: 60.0 %", "Thu: 70.0 %", "Fri: 80.0 %"]


def test_trend_draws_a_lone_value_between_gaps_as_a_dot() -> None:
    root = parse(charts.trend([("a", None), ("b", D("0.5")), ("c", None)], title="t", world_class=None))
    series = group(root, "series")
    assert series.findall(f"{NS}polyline") == []
    assert [(dot.get("cx"), dot.get("cy")) for dot in series.findall(f"{NS}circle")] == [("334", "115")]


def test_trend_clips_values_above_100_percent_at_the_top_and_prints_them() -> None:
    root = parse(charts.trend([("a", D("0.9")), ("b", D("1.124"))], title="t", world_class=None))
    points = group(root, "series").findall(f"{NS}polyline")[0].get("points") or ""
    assert points.split(" ")[1].endswith(",32")
    assert "112.4 %" in texts(root)
    assert "90.0 %" not in texts(root)


def test_trend_reference_lines_are_dashed_and_dotted_with_labels() -> None:
    root = parse(charts.trend(DAYS, title="OEE trend", target=D("0.8")))
    references = group(root, "references")
    dashes = [line.get("stroke-dasharray") for line in references.findall(f"{NS}line")]
    assert dashes == ["6 4", "1.5 3"]
    assert [text.text for text in references.findall(f"{NS}text")] == ["Target 80 %", "World class 85 %"]
    ys = [float(text.get("y") or 0) for text in references.findall(f"{NS}text")]
    assert ys[0] - ys[1] >= 11  # close lines, labels pushed apart


def test_trend_shows_at_most_twelve_category_labels() -> None:
    points = [(f"D{day}", D("0.5")) for day in range(1, 61)]
    shown = [text for text in texts(parse(charts.trend(points, title="t"))) if text.startswith("D")]
    assert shown == [f"D{day}" for day in range(1, 61, 5)]


def test_trend_with_only_missing_values_says_no_data() -> None:
    assert "No data" in texts(parse(charts.trend([("a", None), ("b", None)], title="t")))


# --- Pareto -----------------------------------------------------------------------------------------------------


def test_pareto_has_one_bar_per_reason_and_a_cumulative_line() -> None:
    root = parse(charts.pareto(REASONS, title="Downtime by reason"))
    bars = group(root, "bars").findall(f"{NS}rect")
    assert tooltips(bars) == [
        "Waiting for material: 120 min",
        "Breakdown: 90 min",
        "Tool change: 45 min",
        "Other: 45 min",
    ]
    heights = [float(bar.get("height") or 0) for bar in bars]
    assert heights[0] > heights[1] > heights[2] == heights[3]
    line = group(root, "series").findall(f"{NS}polyline")
    assert len(line) == 1
    assert len((line[0].get("points") or "").split(" ")) == 4
    shown = texts(root)
    assert [t for t in shown if t.isdigit()] == ["0", "25", "50", "75", "100", "125"]  # 120 min -> a 125 axis
    assert "100 %" in shown
    cut = group(root, "references")
    assert [line.get("stroke-dasharray") for line in cut.findall(f"{NS}line")] == ["6 4"]
    assert [text.text for text in cut.findall(f"{NS}text")] == ["80 %"]


def test_pareto_leaves_gaps_for_missing_values() -> None:
    rows = [("a", D("10"), D("0.5")), ("b", None, None), ("c", D("5"), D("1"))]
    root = parse(charts.pareto(rows, title="t"))
    assert len(group(root, "bars").findall(f"{NS}rect")) == 2
    series = group(root, "series")
    assert series.findall(f"{NS}polyline") == []
    assert len(series.findall(f"{NS}circle")) == 4  # two lone dots, two markers


# --- Stacked bars -----------------------------------------------------------------------------------------------


def test_stacked_bars_draw_one_segment_per_present_value_with_a_legend() -> None:
    root = parse(charts.stacked_bars(["Morning", "Afternoon", "Night"], LOSSES, title="Losses"))
    segments = group(root, "bars").findall(f"{NS}rect")
    assert tooltips(segments) == [
        "Morning · Breakdowns: 30 min",
        "Morning · Small stops: 10 min",
        "Afternoon · Breakdowns: 10 min",
        "Night · Small stops: 8.5 min",
    ]
    assert [s.get("fill") for s in segments] == [charts.SERIES_COLOURS[0], charts.SERIES_COLOURS[1]] * 2
    morning_breakdowns, morning_stops = segments[0], segments[1]
    # Stacked: the second segment ends where the first begins.
    assert float(morning_stops.get("y") or 0) + float(morning_stops.get("height") or 0) == pytest.approx(
        float(morning_breakdowns.get("y") or 0), abs=0.1
    )
    legend = group(root, "legend")
    assert [text.text for text in legend.findall(f"{NS}text")] == ["Breakdowns", "Small stops"]


def test_stacked_bars_horizontal_with_state_colours() -> None:
    series: list[tuple[str, list[Decimal | None]]] = [("running", [D("300"), D("60")]), ("alarm", [D("20"), None])]
    root = parse(
        charts.stacked_bars(
            ["MILL-01", "MILL-02"], series, title="Time by state", horizontal=True, colours=charts.STATE_COLOURS
        )
    )
    segments = group(root, "bars").findall(f"{NS}rect")
    assert [s.get("fill") for s in segments] == [charts.STATE_COLOURS["running"], charts.STATE_COLOURS["alarm"]] + [
        charts.STATE_COLOURS["running"]
    ]
    first, second = segments[0], segments[1]
    assert float(first.get("x") or 0) + float(first.get("width") or 0) == pytest.approx(
        float(second.get("x") or 0), abs=0.1
    )
    assert first.get("y") == second.get("y")


def test_stacked_bars_with_only_missing_values_say_no_data() -> None:
    nothing: list[tuple[str, list[Decimal | None]]] = [("x", [None])]
    root = parse(charts.stacked_bars(["a"], nothing, title="t"))
    assert "No data" in texts(root)


# --- Bars -------------------------------------------------------------------------------------------------------


def test_bars_one_per_machine_coloured_against_the_target() -> None:
    root = parse(charts.bars(MACHINES, title="OEE per machine", target=D("0.8")))
    assert root.get("height") == str(36 + 4 * 18 + 22)
    bars = group(root, "bars").findall(f"{NS}rect")
    assert tooltips(bars) == ["MILL-01: 72.4 %", "MILL-02: 86.0 %", "GRIND-04: 107.0 %"]
    assert [bar.get("fill") for bar in bars] == [charts.SHORT, charts.GOOD, charts.GOOD]
    # The plot runs from x 150 to 584: 107 % is clipped to the full width and still printed.
    assert [bar.get("width") for bar in bars] == ["314.2", "373.2", "434"]
    shown = texts(root)
    assert "107.0 %" in shown
    assert "—" in shown
    references = group(root, "references")
    assert [text.text for text in references.findall(f"{NS}text")] == ["Target 80 %"]


def test_bars_height_grows_with_rows() -> None:
    rows = [(f"M{i}", D("0.5")) for i in range(20)]
    root = parse(charts.bars(rows, title="t"))
    assert root.get("height") == str(36 + 20 * 18 + 22)
    assert len(group(root, "bars").findall(f"{NS}rect")) == 20


def test_bars_of_plain_numbers_use_a_nice_axis_and_one_colour() -> None:
    root = parse(charts.bars([("a", D("124.5")), ("b", D("33"))], title="Downtime", percent=False, target=D("60")))
    bars = group(root, "bars").findall(f"{NS}rect")
    assert {bar.get("fill") for bar in bars} == {charts.NEUTRAL}
    shown = texts(root)
    assert [t for t in shown if t.isdigit()] == ["0", "25", "50", "75", "100", "125", "33"]
    assert "124.5" in shown
    assert "Target 60" in shown


# --- State strip ------------------------------------------------------------------------------------------------


def test_state_strip_one_segment_per_state_with_tooltips() -> None:
    root = parse(charts.state_strip(SEGMENTS, total_seconds=8 * 3600, width=640))
    segments = group(root, "segments").findall(f"{NS}rect")
    assert [(s.get("x"), s.get("width"), s.get("fill")) for s in segments] == [
        ("0", "80", charts.STATE_COLOURS["running"]),
        ("80", "20", charts.STATE_COLOURS["setup"]),
        ("120", "40", charts.STATE_COLOURS["alarm"]),
    ]
    assert tooltips(segments) == [
        "running: 0:00–1:00 (60 min)",
        "setup: 1:00–1:15 (15 min)",
        "alarm: 1:30–2:00 (30 min)",
    ]


def test_state_strip_clips_to_the_window_and_names_states_as_told() -> None:
    segments = [(-600, 30, "planned_down"), (30, 4000, "mystery"), (3000, 3700, "offline")]
    root = parse(
        charts.state_strip(segments, total_seconds=3600, width=360, state_labels={"planned_down": "parada planificada"})
    )
    drawn = group(root, "segments").findall(f"{NS}rect")
    assert [(s.get("x"), s.get("width"), s.get("fill")) for s in drawn] == [
        ("0", "3", charts.STATE_COLOURS["planned_down"]),
        ("3", "357", "#D9D9D9"),
        ("300", "60", charts.STATE_COLOURS["offline"]),
    ]
    assert tooltips(drawn)[0] == "parada planificada: 0:00–0:00:30 (0.5 min)"


def test_state_colours_cover_every_machine_state() -> None:
    assert list(charts.STATE_COLOURS) == [
        "running",
        "idle",
        "setup",
        "planned_down",
        "unplanned_down",
        "alarm",
        "offline",
    ]
    assert len(set(charts.STATE_COLOURS.values())) == 7


# --- On paper ---------------------------------------------------------------------------------------------------


def test_weasyprint_draws_every_chart_into_a_pdf(tmp_path: Path) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    figures = "".join(f"<figure>{build()}</figure>" for build in [*BUILDERS.values(), *EMPTY.values()])
    pdf = weasyprint.HTML(string=f"<!doctype html><html><body>{figures}</body></html>").write_pdf()
    assert pdf[:4] == b"%PDF"
    assert len(pdf) > 5000
    if shutil.which("pdftoppm") is None:
        return
    (tmp_path / "charts.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(tmp_path / "charts.pdf"), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages
    assert all(page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for page in pages)
