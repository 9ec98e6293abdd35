"""SVG charts drawn on the server, one module for the report pages and the PDF reports alike.

Each function returns one self-contained `<svg>` element as a string. Looks come from presentation attributes
only (no CSS classes or variables, no `foreignObject`, no web fonts), so the same string draws the same in a
browser, in WeasyPrint and saved as a file, with no JavaScript and nothing fetched. The `class` attributes name
parts for the pages and the tests; nothing depends on them for looks.

Values are ratios (0.724 is printed "72.4 %") or minutes, as `Decimal`, float or int; None is a missing value and
is drawn as a gap, never as a zero. Coordinates are printed with at most one decimal so that the output is small
and the same input always gives the same string. No Django here: callers that show the charts in another language
pass a translated `Wording`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final
from xml.sax.saxutils import escape

Number = Decimal | float | int

FONT_FAMILY: Final = "DejaVu Sans, Arial, sans-serif"
# Average glyph width of DejaVu Sans in em; a generous guess, so estimated text rather truncates than overflows.
_CHAR_EM: Final = 0.6

# Okabe–Ito: eight colours told apart with every common colour-vision deficiency.
PALETTE: Final[Mapping[str, str]] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GOOD: Final = PALETTE["green"]
SHORT: Final = PALETTE["orange"]  # below target
NEUTRAL: Final = PALETTE["blue"]
LOSS: Final = PALETTE["vermillion"]
# Series without colours of their own: warm ones first, since stacked charts mostly show losses.
SERIES_COLOURS: Final = (
    PALETTE["vermillion"],
    PALETTE["orange"],
    PALETTE["purple"],
    PALETTE["yellow"],
    PALETTE["sky_blue"],
    PALETTE["blue"],
    PALETTE["green"],
    "#999999",
)
# The same hue per state as the live machine pages (green running, yellow idle, blue setup, orange/red failures,
# greys when not scheduled or not connected), taken from Okabe–Ito where it has one.
STATE_COLOURS: Final[Mapping[str, str]] = {
    "running": PALETTE["green"],
    "idle": PALETTE["yellow"],
    "setup": PALETTE["blue"],
    "planned_down": "#8A929C",
    "unplanned_down": PALETTE["orange"],
    "alarm": PALETTE["vermillion"],
    "offline": "#3B4148",
}
_UNKNOWN_STATE: Final = "#D9D9D9"

_INK: Final = "#222222"
_MUTED: Final = "#555555"
_GRID: Final = "#DDDDDD"
_FRAME: Final = "#999999"
_TRACK: Final = "#E6E6E6"
_TARGET_DASH: Final = "6 4"
_WORLD_CLASS_DASH: Final = "1.5 3"
_MAX_X_LABELS: Final = 12
_X_LABEL_CHARS: Final = 10  # labels longer than this are truncated rather than shown more sparsely
_TITLE_BASELINE: Final = 17
_TITLE_SIZE: Final = 13
_LEGEND_ROW: Final = 16


@dataclass(frozen=True)
class Wording:
    """The few words the charts print themselves; callers showing another language pass translated ones."""

    no_data: str = "No data"
    no_value: str = "no data"
    target: str = "Target"
    world_class: str = "World class"
    minutes: str = "Minutes"
    minutes_unit: str = "min"
    cumulative: str = "Cumulative %"


ENGLISH: Final = Wording()


@dataclass(frozen=True)
class _Reference:
    """A reference mark: a target (dashed line, dark) or world class (dotted line, grey)."""

    value: float
    label: str
    dotted: bool = False

    @property
    def colour(self) -> str:
        return _MUTED if self.dotted else _INK

    @property
    def dash(self) -> str:
        return _WORLD_CLASS_DASH if self.dotted else _TARGET_DASH


@dataclass(frozen=True)
class _LegendItem:
    name: str
    colour: str
    line: bool = False


# --- Formatting -------------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate with at most one decimal ("12", "12.5"), never "-0"."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _one_place(value: Number) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def percent_text(value: Number, *, trim: bool = False) -> str:
    """A ratio as the charts print it: 0.724 -> "72.4 %"; with `trim`, 0.8 -> "80 %" (for reference labels)."""
    text = f"{_one_place(Decimal(str(value)) * 100):f}"
    if trim and text.endswith(".0"):
        text = text[:-2]
    return f"{text} %"


def _number_text(value: Number) -> str:
    text = f"{_one_place(value):f}"
    return text[:-2] if text.endswith(".0") else text


def _truncate(text: str, max_chars: float) -> str:
    limit = max(int(max_chars), 2)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fits(width: float, size: float) -> float:
    """How many characters of a `size` px font fit in `width` px."""
    return width / (size * _CHAR_EM)


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(max(value, low), high)


# --- Elements ---------------------------------------------------------------------------------------------------


def _open(kind: str, *, width: float, height: float, label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" class="chart chart-{kind}" role="img" aria-label="{_attr(label)}" '
        f'font-family="{FONT_FAMILY}">',
        f"<title>{escape(label)}</title>",
    ]


def _close(parts: list[str]) -> str:
    parts.append("</svg>")
    return "".join(parts)


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 10,
    anchor: str = "start",
    fill: str = _INK,
    bold: bool = False,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" fill="{fill}"{weight}>'
        f"{escape(content)}</text>"
    )


def _line(x1: float, y1: float, x2: float, y2: float, *, stroke: str, width: float = 1, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}" stroke-linecap="round"' if dash else ""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
        f'stroke-width="{_n(width)}"{dashed}/>'
    )


def _rect(x: float, y: float, width: float, height: float, *, fill: str, tooltip: str = "", stroke: str = "") -> str:
    outline = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
    head = f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" fill="{fill}"{outline}'
    return f"{head}><title>{escape(tooltip)}</title></rect>" if tooltip else f"{head}/>"


def _heading(title: str, width: float) -> str:
    return _text(8, _TITLE_BASELINE, _truncate(title, _fits(width - 16, _TITLE_SIZE)), size=_TITLE_SIZE, bold=True)


def _no_data(kind: str, *, title: str, width: float, height: float, words: Wording) -> str:
    """An empty frame saying "No data", the same size as the chart would have been."""
    parts = _open(kind, width=width, height=height, label=f"{title}: {words.no_data}")
    top = 26 if title else 1
    if title:
        parts.append(_heading(title, width))
    parts.append(_rect(0.5, top, width - 1, height - top - 0.5, fill="none", stroke=_FRAME))
    parts.append(_text(width / 2, (top + height) / 2 + 4, words.no_data, size=12, anchor="middle", fill=_MUTED))
    return _close(parts)


def _dot(x: float, y: float, *, radius: float, colour: str, tooltip: str = "") -> str:
    head = f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(radius)}" fill="{colour}"'
    return f"{head}><title>{escape(tooltip)}</title></circle>" if tooltip else f"{head}/>"


def _polylines(points: Sequence[tuple[float, float] | None], *, colour: str) -> list[str]:
    """One polyline per run of consecutive points, so a missing value leaves a gap; lone points become dots."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    parts = []
    for run in runs:
        if len(run) == 1:
            x, y = run[0]
            parts.append(_dot(x, y, radius=2.5, colour=colour))
        elif run:
            coordinates = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
            parts.append(
                f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
    return parts


def _markers(points: Sequence[tuple[float, float, str] | None], *, colour: str) -> list[str]:
    return [_dot(x, y, radius=2.5, colour=colour, tooltip=tip) for x, y, tip in (p for p in points if p is not None)]


def _x_labels(labels: Sequence[str], centres: Sequence[float], *, band: float, y: float) -> list[str]:
    """Category labels under a plot: every `step`-th one when there are many or they are wide, each cut to fit."""
    widest = min(max(len(label) for label in labels), _X_LABEL_CHARS) * 10 * _CHAR_EM + 6
    step = max(math.ceil(len(labels) / _MAX_X_LABELS), math.ceil(widest / band), 1)
    room = _fits(band * step - 4, 10)
    return [
        _text(centres[i], y, _truncate(labels[i], room), anchor="middle", fill=_MUTED)
        for i in range(0, len(labels), step)
    ]


def _spread(positions: Sequence[float], *, gap: float) -> list[float]:
    """Pushes label baselines apart, keeping their order, so labels of close reference lines stay legible."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = list(positions)
    previous: float | None = None
    for i in order:
        if previous is not None and placed[i] - previous < gap:
            placed[i] = previous + gap
        previous = placed[i]
    return placed


def _references(target: Number | None, world_class: Number | None, *, words: Wording) -> list[_Reference]:
    references = []
    if target is not None:
        references.append(_Reference(float(target), f"{words.target} {percent_text(target, trim=True)}"))
    if world_class is not None:
        label = f"{words.world_class} {percent_text(world_class, trim=True)}"
        references.append(_Reference(float(world_class), label, dotted=True))
    return references


def _legend_rows(items: Sequence[_LegendItem], *, width: float) -> list[list[tuple[float, _LegendItem]]]:
    """Lays legend entries left to right, wrapping to a new row when the next one would not fit."""
    rows: list[list[tuple[float, _LegendItem]]] = [[]]
    x = 8.0
    for item in items:
        item_width = 18 + len(_truncate(item.name, 28)) * 10 * _CHAR_EM + 14
        if rows[-1] and x + item_width > width - 8:
            rows.append([])
            x = 8.0
        rows[-1].append((x, item))
        x += item_width
    return rows if rows[0] else []


def _legend(rows: Sequence[Sequence[tuple[float, _LegendItem]]], *, bottom: float) -> list[str]:
    parts = ['<g class="legend">']
    for index, row in enumerate(rows):
        y = bottom - (len(rows) - 1 - index) * _LEGEND_ROW
        for x, item in row:
            if item.line:
                parts.append(_line(x, y - 4, x + 12, y - 4, stroke=item.colour, width=2))
            else:
                parts.append(_rect(x, y - 9, 10, 10, fill=item.colour))
            parts.append(_text(x + 16, y, _truncate(item.name, 28)))
    parts.append("</g>")
    return parts


def _nice_step(maximum: float, *, steps: int) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that covers `maximum` in `steps` grid steps (never below 0.1).

    2.5 only from 2.5 up, so that tick labels never need a second decimal.
    """
    raw = max(maximum / steps, 0.1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10) if magnitude >= 1 else (1, 2, 5, 10):
        if factor * magnitude >= raw * (1 - 1e-9):
            return float(factor * magnitude)
    return float(10 * magnitude)


def _minutes_text(value: Number, words: Wording) -> str:
    return f"{_number_text(value)} {words.minutes_unit}"


# --- Charts -----------------------------------------------------------------------------------------------------


def gauge(
    value: Number | None,
    *,
    label: str,
    target: Number | None = None,
    world_class: Number | None = Decimal("0.85"),
    size: int = 160,
    words: Wording = ENGLISH,
) -> str:
    """A half-circle gauge for one ratio (OEE, availability, ...), its value in big text, with target marks.

    The arc is green at or above the target (or world class when there is no target), orange below a target;
    a value above 100 % fills the arc and still prints its number. The target is a tick across the arc, world
    class a dot beside it, both explained in a small key under the label (the key keeps its two rows even when
    empty, so gauges side by side line up).
    """
    scale = size / 160
    stroke = 14 * scale
    radius = 60 * scale
    cx = size / 2
    cy = 8 * scale + radius + stroke / 2
    height = cy + 50 * scale
    value_text = percent_text(value) if value is not None else "—"
    spoken = value_text if value is not None else words.no_value
    parts = _open("gauge", width=size, height=height, label=f"{label}: {spoken}")

    def at(ratio: float, distance: float) -> tuple[float, float]:
        angle = math.pi * (1 + _clamp(ratio))
        return cx + distance * math.cos(angle), cy + distance * math.sin(angle)

    def arc(ratio: float) -> str:
        x, y = at(ratio, radius)
        return f"M {_n(cx - radius)} {_n(cy)} A {_n(radius)} {_n(radius)} 0 0 1 {_n(x)} {_n(y)}"

    parts.append(f'<path d="{arc(1)}" fill="none" stroke="{_TRACK}" stroke-width="{_n(stroke)}"/>')
    if value is not None and float(value) > 0:
        threshold = target if target is not None else world_class
        if threshold is not None and float(value) >= float(threshold):
            colour = GOOD
        else:
            colour = SHORT if target is not None else NEUTRAL
        parts.append(
            f'<path class="value" d="{arc(float(value))}" fill="none" stroke="{colour}" stroke-width="{_n(stroke)}"/>'
        )
    references = _references(target, world_class, words=words)
    key_x, small = cx - 50 * scale, 9 * scale
    parts.append('<g class="references">')
    for row, reference in enumerate(references):
        key_y = cy + (31 + 12 * row) * scale
        if reference.dotted:
            x, y = at(reference.value, radius + stroke / 2 + 4 * scale)
            parts.append(_dot(x, y, radius=2.2 * scale, colour=reference.colour))
            parts.append(_dot(key_x, key_y - 3 * scale, radius=2.2 * scale, colour=reference.colour))
        else:
            x1, y1 = at(reference.value, radius - stroke / 2 - 3 * scale)
            x2, y2 = at(reference.value, radius + stroke / 2 + 3 * scale)
            parts.append(_line(x1, y1, x2, y2, stroke=reference.colour, width=2.5 * scale))
            parts.append(_line(key_x, key_y - 7 * scale, key_x, key_y + 1 * scale, stroke=reference.colour, width=2))
        room = _fits(size - key_x - 10 * scale, small)
        parts.append(_text(key_x + 7 * scale, key_y, _truncate(reference.label, room), size=small, fill=_MUTED))
    parts.append("</g>")
    if value is not None:
        parts.append(_text(cx, cy - 4 * scale, value_text, size=20 * scale, anchor="middle", bold=True))
    else:
        parts.append(_text(cx, cy - 13 * scale, value_text, size=20 * scale, anchor="middle", fill=_MUTED, bold=True))
        parts.append(_text(cx, cy - 1 * scale, words.no_value, size=9 * scale, anchor="middle", fill=_MUTED))
    parts.append(
        _text(cx, cy + 16 * scale, _truncate(label, _fits(size - 4, 12 * scale)), size=12 * scale, anchor="middle")
    )
    return _close(parts)


def trend(
    points: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    target: Number | None = None,
    world_class: Number | None = Decimal("0.85"),
    width: int = 640,
    height: int = 220,
    words: Wording = ENGLISH,
) -> str:
    """A ratio over days or shifts: a line on a 0–100 % axis, broken where a value is missing.

    Values above 100 % sit on the top edge with their number printed; the target line is dashed, world class
    dotted, each labelled at the right.
    """
    if not any(value is not None for _label, value in points):
        return _no_data("trend", title=title, width=width, height=height, words=words)
    references = _references(target, world_class, words=words)
    left, top, bottom = 44.0, 32.0, height - 22.0
    label_room = max((len(r.label) for r in references), default=0) * 10 * _CHAR_EM
    right = width - (min(label_room, width * 0.3) + 12 if references else 16.0)
    plot_height = bottom - top
    band = (right - left) / len(points)
    centres = [left + (i + 0.5) * band for i in range(len(points))]

    def y_of(ratio: float) -> float:
        return bottom - _clamp(ratio) * plot_height

    parts = _open("trend", width=width, height=height, label=title)
    parts.append(_heading(title, width))
    parts.append('<g class="grid">')
    for step in range(6):
        y = y_of(step / 5)
        parts.append(_line(left, y, right, y, stroke=_GRID))
        parts.append(_text(left - 4, y + 3.5, percent_text(Decimal(step) / 5, trim=True), anchor="end", fill=_MUTED))
    parts.append("</g>")
    parts.append('<g class="references">')
    label_ys = _spread([y_of(r.value) + 3.5 for r in references], gap=11)
    for reference, label_y in zip(references, label_ys, strict=True):
        y = y_of(reference.value)
        parts.append(_line(left, y, right, y, stroke=reference.colour, width=1.5, dash=reference.dash))
        parts.append(_text(right + 4, label_y, _truncate(reference.label, _fits(width - right - 6, 10))))
    parts.append("</g>")
    plotted = [None if value is None else (centres[i], y_of(float(value))) for i, (_label, value) in enumerate(points)]
    parts.append('<g class="series">')
    parts.extend(_polylines(plotted, colour=NEUTRAL))
    parts.append("</g>")
    if len(points) <= 31:
        parts.append('<g class="points">')
        parts.extend(
            _markers(
                [
                    None if value is None else (centres[i], y_of(float(value)), f"{label}: {percent_text(value)}")
                    for i, (label, value) in enumerate(points)
                ],
                colour=NEUTRAL,
            )
        )
        parts.append("</g>")
    for i, (_label, value) in enumerate(points):
        if value is not None and float(value) > 1:
            parts.append(_text(centres[i], top - 5, percent_text(value), size=9, anchor="middle"))
    parts.append(_line(left, bottom, right, bottom, stroke=_FRAME))
    parts.extend(_x_labels([label for label, _value in points], centres, band=band, y=bottom + 14))
    return _close(parts)


def pareto(
    rows: Sequence[tuple[str, Number | None, Number | None]],
    *,
    title: str,
    width: int = 640,
    height: int = 260,
    words: Wording = ENGLISH,
) -> str:
    """Losses by reason, largest first: bars in minutes (left axis) and the cumulative share (right axis, 0–100 %).

    The dashed 80 % line marks the few reasons worth attacking first. Both axes share five grid steps, so the
    left axis ends at five "nice" steps of minutes.
    """
    if not any(minutes is not None for _label, minutes, _share in rows):
        return _no_data("pareto", title=title, width=width, height=height, words=words)
    legend = _legend_rows(
        [_LegendItem(words.minutes, LOSS), _LegendItem(words.cumulative, NEUTRAL, line=True)], width=width
    )
    left, right, top = 48.0, width - 44.0, 32.0
    bottom = height - 24.0 - len(legend) * _LEGEND_ROW
    plot_height = bottom - top
    most = max(float(minutes) for _label, minutes, _share in rows if minutes is not None)
    step = _nice_step(most, steps=5)
    band = (right - left) / len(rows)
    centres = [left + (i + 0.5) * band for i in range(len(rows))]

    def y_of(ratio: float) -> float:
        return bottom - _clamp(ratio) * plot_height

    parts = _open("pareto", width=width, height=height, label=title)
    parts.append(_heading(title, width))
    parts.append('<g class="grid">')
    for k in range(6):
        y = y_of(k / 5)
        parts.append(_line(left, y, right, y, stroke=_GRID))
        parts.append(_text(left - 4, y + 3.5, _number_text(step * k), anchor="end", fill=_MUTED))
        parts.append(_text(right + 4, y + 3.5, percent_text(Decimal(k) / 5, trim=True), fill=_MUTED))
    parts.append("</g>")
    parts.append('<g class="bars">')
    bar_width = min(band * 0.7, 64)
    for i, (label, minutes, _share) in enumerate(rows):
        if minutes is None:
            continue
        y = y_of(float(minutes) / (step * 5))
        tip = f"{label}: {_minutes_text(minutes, words)}"
        parts.append(_rect(centres[i] - bar_width / 2, y, bar_width, bottom - y, fill=LOSS, tooltip=tip))
    parts.append("</g>")
    cut = y_of(0.8)
    parts.append('<g class="references">')
    parts.append(_line(left, cut, right, cut, stroke=_INK, width=1.2, dash=_TARGET_DASH))
    parts.append(_text(right - 3, cut - 4, percent_text(Decimal("0.8"), trim=True), size=9, anchor="end"))
    parts.append("</g>")
    shares = [None if share is None else (centres[i], y_of(float(share))) for i, (_l, _m, share) in enumerate(rows)]
    parts.append('<g class="series">')
    parts.extend(_polylines(shares, colour=NEUTRAL))
    parts.extend(
        _markers(
            [
                None if share is None else (centres[i], y_of(float(share)), f"{label}: {percent_text(share)}")
                for i, (label, _minutes, share) in enumerate(rows)
            ],
            colour=NEUTRAL,
        )
    )
    parts.append("</g>")
    parts.append(_line(left, bottom, right, bottom, stroke=_FRAME))
    parts.extend(_x_labels([label for label, _m, _s in rows], centres, band=band, y=bottom + 14))
    parts.extend(_legend(legend, bottom=height - 6))
    return _close(parts)


def stacked_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    *,
    title: str,
    width: int = 640,
    height: int = 240,
    horizontal: bool = False,
    colours: Mapping[str, str] | None = None,
    words: Wording = ENGLISH,
) -> str:
    """Minutes split into parts per category: the six big losses per shift, or time by state per machine.

    Series are stacked in the given order with a legend; `colours` maps a series name to its colour (for
    instance a state's from `STATE_COLOURS`), the rest take `SERIES_COLOURS` in turn. A missing value adds
    nothing to its stack.
    """
    totals = [sum((float(v) for v in _column(series, i) if v is not None), start=0.0) for i in range(len(categories))]
    if not categories or not any(total > 0 for total in totals):
        return _no_data("stacked", title=title, width=width, height=height, words=words)
    palette = {
        name: (colours or {}).get(name, SERIES_COLOURS[index % len(SERIES_COLOURS)])
        for index, (name, _values) in enumerate(series)
    }
    legend = _legend_rows([_LegendItem(name, palette[name]) for name, _values in series], width=width)
    top = 32.0
    bottom = height - 24.0 - len(legend) * _LEGEND_ROW
    left = min(140.0, width * 0.25) if horizontal else 48.0
    right = width - 16.0
    step = _nice_step(max(totals), steps=5)
    axis_top = step * max(math.ceil(max(totals) / step), 1)
    length = (right - left) if horizontal else (bottom - top)

    def scaled(minutes: float) -> float:
        return minutes / axis_top * length

    parts = _open("stacked", width=width, height=height, label=title)
    parts.append(_heading(title, width))
    parts.append('<g class="grid">')
    for k in range(round(axis_top / step) + 1):
        offset = scaled(step * k)
        tick = _number_text(step * k)
        if horizontal:
            parts.append(_line(left + offset, top, left + offset, bottom, stroke=_GRID))
            parts.append(_text(left + offset, bottom + 13, tick, anchor="middle", fill=_MUTED))
        else:
            parts.append(_line(left, bottom - offset, right, bottom - offset, stroke=_GRID))
            parts.append(_text(left - 4, bottom - offset + 3.5, tick, anchor="end", fill=_MUTED))
    parts.append("</g>")
    band = ((bottom - top) if horizontal else (right - left)) / len(categories)
    thickness = min(band * (0.65 if horizontal else 0.6), 22 if horizontal else 56)
    parts.append('<g class="bars">')
    for i, category in enumerate(categories):
        centre = (top if horizontal else left) + (i + 0.5) * band
        stacked = 0.0
        for (name, _values), value in zip(series, _column(series, i), strict=True):
            if value is None or float(value) <= 0:
                continue
            start, size = scaled(stacked), scaled(float(value))
            stacked += float(value)
            tip = f"{category} · {name}: {_minutes_text(value, words)}"
            if horizontal:
                parts.append(
                    _rect(left + start, centre - thickness / 2, size, thickness, fill=palette[name], tooltip=tip)
                )
            else:
                box = (centre - thickness / 2, bottom - start - size, thickness, size)
                parts.append(_rect(*box, fill=palette[name], tooltip=tip))
    parts.append("</g>")
    if horizontal:
        parts.append(_line(left, top, left, bottom, stroke=_FRAME))
        room = _fits(left - 10, 10)
        for i, category in enumerate(categories):
            y = top + (i + 0.5) * band + 3.5
            parts.append(_text(left - 6, y, _truncate(category, room), anchor="end", fill=_MUTED))
    else:
        parts.append(_line(left, bottom, right, bottom, stroke=_FRAME))
        centres = [left + (i + 0.5) * band for i in range(len(categories))]
        parts.extend(_x_labels(categories, centres, band=band, y=bottom + 14))
    parts.extend(_legend(legend, bottom=height - 6))
    return _close(parts)


def _column(series: Sequence[tuple[str, Sequence[Number | None]]], index: int) -> list[Number | None]:
    """Each series' value for one category; a series shorter than the categories is missing the rest."""
    return [values[index] if index < len(values) else None for _name, values in series]


def bars(
    rows: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    percent: bool = True,
    target: Number | None = None,
    width: int = 640,
    height: int | None = None,
    words: Wording = ENGLISH,
) -> str:
    """One horizontal bar per row (OEE per machine): 18 px per row unless `height` is given, value at the bar's end.

    With `percent` the axis is 0–100 % and a value above it fills the row and still prints its number; otherwise
    values are plain numbers on a "nice" axis. Against a percent target, bars at or above it are green, below
    orange; plain numbers stay blue, since whether more is better depends on what they count.
    """
    top, row_height, axis_room = 36.0, 18.0, 22.0
    if height is None:
        height = round(top + max(len(rows), 1) * row_height + axis_room)
    if not any(value is not None for _label, value in rows):
        return _no_data("bars", title=title, width=width, height=height, words=words)
    row_height = (height - top - axis_room) / len(rows)
    left, right = min(150.0, width * 0.28), width - 56.0
    bottom = top + len(rows) * row_height
    if percent:
        axis_top, step = 1.0, 0.2
    else:
        most = max(float(value) for _label, value in rows if value is not None)
        step = _nice_step(most, steps=5)
        axis_top = step * max(math.ceil(most / step), 1)

    def x_of(value: float) -> float:
        return left + _clamp(value / axis_top) * (right - left)

    def shown(value: Number) -> str:
        return percent_text(value) if percent else _number_text(value)

    parts = _open("bars", width=width, height=height, label=title)
    parts.append(_heading(title, width))
    parts.append('<g class="grid">')
    for k in range(round(axis_top / step) + 1):
        x = x_of(step * k)
        tick = percent_text(Decimal(k) / 5, trim=True) if percent else _number_text(step * k)
        parts.append(_line(x, top, x, bottom, stroke=_GRID))
        parts.append(_text(x, bottom + 13, tick, anchor="middle", fill=_MUTED))
    parts.append("</g>")
    thickness = min(row_height * 0.7, 28)
    room = _fits(left - 10, 10)
    parts.append('<g class="bars">')
    labels = []
    for i, (label, value) in enumerate(rows):
        centre = top + (i + 0.5) * row_height
        labels.append(_text(left - 6, centre + 3.5, _truncate(label, room), anchor="end", fill=_INK))
        if value is None:
            labels.append(_text(left + 4, centre + 3.5, "—", fill=_MUTED))
            continue
        colour = NEUTRAL if target is None or not percent else GOOD if float(value) >= float(target) else SHORT
        end = x_of(float(value))
        parts.append(
            _rect(left, centre - thickness / 2, end - left, thickness, fill=colour, tooltip=f"{label}: {shown(value)}")
        )
        text = shown(value)
        labels.append(_rect(end + 2, centre - 6, len(text) * 10 * _CHAR_EM + 4, 12, fill="#FFFFFF"))
        labels.append(_text(end + 4, centre + 3.5, text))
    parts.append("</g>")
    parts.append(_line(left, top, left, bottom, stroke=_FRAME))
    if target is not None:
        x = x_of(float(target))
        target_label = f"{words.target} {percent_text(target, trim=True) if percent else _number_text(target)}"
        anchor = "end" if x > right - 40 else "start" if x < left + 40 else "middle"
        parts.append('<g class="references">')
        parts.append(_line(x, top - 2, x, bottom, stroke=_INK, width=1.5, dash=_TARGET_DASH))
        parts.append(_text(x, top - 6, target_label, size=9, anchor=anchor))
        parts.append("</g>")
    parts.extend(labels)  # last, on a white backing, so that no line crosses the numbers
    return _close(parts)


def state_strip(
    segments: Sequence[tuple[int, int, str]],
    *,
    total_seconds: int,
    width: int = 640,
    height: int = 28,
    label: str = "Machine states",
    state_labels: Mapping[str, str] | None = None,
    words: Wording = ENGLISH,
) -> str:
    """One machine's timeline: a strip coloured by state, each segment with its state and times as a tooltip.

    Offsets are seconds from the start of the window; segments are clipped to it and a stretch with no segment
    stays white. `state_labels` gives the states' names as the page shows them (for instance translated).
    """
    clipped = [
        (max(start, 0), min(end, total_seconds), state)
        for start, end, state in segments
        if min(end, total_seconds) > max(start, 0)
    ]
    if total_seconds <= 0 or not clipped:
        parts = _open("state-strip", width=width, height=height, label=f"{label}: {words.no_data}")
        parts.append(_rect(0.5, 0.5, width - 1, height - 1, fill="none", stroke=_FRAME))
        parts.append(_text(width / 2, height / 2 + 4, words.no_data, size=11, anchor="middle", fill=_MUTED))
        return _close(parts)
    names = state_labels or {}
    parts = _open("state-strip", width=width, height=height, label=label)
    parts.append(_rect(0, 0, width, height, fill="#FFFFFF"))
    parts.append('<g class="segments">')
    for start, end, state in clipped:
        x = start / total_seconds * width
        segment_width = (end - start) / total_seconds * width
        name = names.get(state, state.replace("_", " "))
        tip = f"{name}: {_clock(start)}–{_clock(end)} ({_minutes_text(Decimal(end - start) / 60, words)})"
        parts.append(_rect(x, 0, segment_width, height, fill=STATE_COLOURS.get(state, _UNKNOWN_STATE), tooltip=tip))
    parts.append("</g>")
    parts.append(_rect(0.5, 0.5, width - 1, height - 1, fill="none", stroke=_FRAME))
    return _close(parts)


def _clock(seconds: int) -> str:
    """An offset from the window's start as H:MM, or H:MM:SS when it is not on a whole minute."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if secs else f"{hours}:{minutes:02d}"
