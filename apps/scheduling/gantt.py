"""The Gantt chart as one SVG string, from plain dataclasses (no Django models here).

Sized for a 1080p screen: 1,680 px of time (70 px an hour at day zoom, 120 px a day at the
two-week zoom) and 22 px rows, so 30 work centers over two weeks fit without scrolling. Each row
holds the planned bars and, in a thin strip under them, what the floor actually did. Every piece
of text goes through `escape`: job numbers and descriptions come from users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from html import escape
from zoneinfo import ZoneInfo

LEFT = 160  # label column
PLOT_WIDTH = 1680
TOP = 40  # time axis
ROW_HEIGHT = 22
BAR_TOP = 2  # the planned bar: 14 px high, 2 px below the row's top
BAR_HEIGHT = 14
ACTUAL_TOP = 17  # the floor's strip: 4 px under the planned bar, 1 px above the next row
ACTUAL_HEIGHT = 4
ACTUAL_MIN_WIDTH = 2.0  # an operation started a minute ago still shows
TIP = ACTUAL_HEIGHT // 2 + 1  # half the height of the arrowhead at a running strip's end
WIDTH = LEFT + PLOT_WIDTH
LABEL_MIN_WIDTH = 44  # a bar narrower than this gets no text inside

Interval = tuple[datetime, datetime]


class Tone(StrEnum):
    LATE = "late"
    AT_RISK = "at-risk"
    ON_TIME = "on-time"
    FROZEN = "frozen"


@dataclass(frozen=True)
class Bar:
    slot_id: int
    label: str  # drawn inside the bar when it fits
    title: str  # the hover text
    setup_start: datetime
    start: datetime
    end: datetime
    tone: Tone
    job_status: str = ""
    href: str = ""


class FloorState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETE = "complete"


@dataclass(frozen=True)
class Actual:
    """What the floor did with an operation: from its actual start to its actual end, or to now
    while it is not complete. A paused one worked until `paused_since` and stands still since."""

    operation_id: int
    title: str  # the hover text
    start: datetime
    end: datetime
    state: FloorState
    paused_since: datetime | None = None


@dataclass(frozen=True)
class Row:
    label: str
    bars: tuple[Bar, ...]
    off: tuple[Interval, ...] = ()  # non-working time, shaded
    title: str = ""
    actuals: tuple[Actual, ...] = ()


@dataclass(frozen=True)
class Chart:
    start: datetime
    end: datetime
    rows: tuple[Row, ...]
    tz: ZoneInfo
    hourly: bool  # day zoom: a line every hour; otherwise a line every 6 hours
    labels: dict[str, str] = field(default_factory=dict)  # "title"; "now": the now line's hover text
    now: datetime | None = None  # a line is drawn there when it falls inside the chart


def x_of(chart: Chart, instant: datetime) -> float:
    """Horizontal position of `instant`, clamped to the plot."""
    span = (chart.end - chart.start).total_seconds()
    offset = min(max((instant - chart.start).total_seconds(), 0.0), span)
    return round(LEFT + offset / span * PLOT_WIDTH, 1)


def height_of(chart: Chart) -> int:
    return TOP + ROW_HEIGHT * max(len(chart.rows), 1) + 4


def render_svg(chart: Chart) -> str:
    height = height_of(chart)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gantt" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(chart.labels.get("title", "Gantt"))}">',
        "<defs>"
        '<pattern id="gantt-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#9aa0a6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#6b7075" '
        'stroke-width="3"/></pattern>'
        '<pattern id="gantt-stopped" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="4" height="4" fill="#fff"/><line x1="0" y1="0" x2="0" y2="4" stroke="#c2410c" '
        'stroke-width="2.5"/></pattern></defs>',
    ]
    parts.extend(_rows(chart))
    parts.extend(_axis(chart, height))
    for index, row in enumerate(chart.rows):
        parts.extend(_bars(chart, row, TOP + index * ROW_HEIGHT))
    # Non-working time once more over the bars, faded, so a bar paused over a night or a holiday
    # shows where it does not run.
    for index, row in enumerate(chart.rows):
        parts.extend(_off(chart, row, TOP + index * ROW_HEIGHT, "gantt-paused"))
    # What the floor did is not faded: work done in the plan's non-working time (overtime) shows.
    for index, row in enumerate(chart.rows):
        parts.extend(_actuals(chart, row, TOP + index * ROW_HEIGHT))
    parts.extend(_now(chart, height))
    parts.append("</svg>")
    return "".join(parts)


def _rows(chart: Chart) -> list[str]:
    parts = []
    for index, row in enumerate(chart.rows):
        y = TOP + index * ROW_HEIGHT
        stripe = "gantt-row-odd" if index % 2 else "gantt-row"
        parts.append(f'<rect class="{stripe}" x="0" y="{y}" width="{WIDTH}" height="{ROW_HEIGHT}"/>')
        parts.extend(_off(chart, row, y, "gantt-off"))
        title = f"<title>{escape(row.title)}</title>" if row.title else ""
        parts.append(
            f'<text class="gantt-label" x="6" y="{y + ROW_HEIGHT - 7}">{title}{escape(_clip(row.label, 22))}</text>'
        )
    return parts


def _off(chart: Chart, row: Row, y: int, css: str) -> list[str]:
    parts = []
    for lo, hi in row.off:
        x1, x2 = x_of(chart, lo), x_of(chart, hi)
        if x2 > x1:
            parts.append(f'<rect class="{css}" x="{x1}" y="{y}" width="{round(x2 - x1, 1)}" height="{ROW_HEIGHT}"/>')
    return parts


def _axis(chart: Chart, height: int) -> list[str]:
    parts = [f'<line class="gantt-edge" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{height}"/>']
    step = timedelta(hours=1 if chart.hourly else 6)
    local_start = chart.start.astimezone(chart.tz)
    tick = datetime.combine(local_start.date(), time(0), chart.tz)
    while tick < chart.end:
        if tick > chart.start:
            x = x_of(chart, tick)
            midnight = tick.hour == 0
            css, reach = ("gantt-day", 14) if midnight else ("gantt-tick", 4)
            parts.append(f'<line class="{css}" x1="{x}" y1="{TOP - reach}" x2="{x}" y2="{height}"/>')
            if chart.hourly and tick.hour % 2 == 0:
                parts.append(f'<text class="gantt-time" x="{x + 2}" y="{TOP - 6}">{tick:%H:%M}</text>')
        if tick.hour == 0 and not chart.hourly:
            x = x_of(chart, max(tick, chart.start))
            parts.append(f'<text class="gantt-date" x="{x + 3}" y="{TOP - 22}">{_day_label(tick.date())}</text>')
        # Aware arithmetic in one zone is wall-clock: day lines stay on local midnight across DST.
        tick = tick + step
    if chart.hourly:
        parts.append(f'<text class="gantt-date" x="{LEFT + 3}" y="{TOP - 24}">{_day_label(local_start.date())}</text>')
    return parts


def _bars(chart: Chart, row: Row, y: int) -> list[str]:
    parts = []
    top = y + BAR_TOP
    for bar in row.bars:
        if bar.end <= chart.start or bar.setup_start >= chart.end:
            continue
        xs, xr, xe = x_of(chart, bar.setup_start), x_of(chart, bar.start), x_of(chart, bar.end)
        fill = "url(#gantt-hatch)" if bar.tone is Tone.FROZEN else ""
        status = f" job-{escape(bar.job_status)}" if bar.job_status else ""
        inner = [f"<title>{escape(bar.title)}</title>"]
        if xr > xs:
            inner.append(
                f'<rect class="gantt-setup" x="{xs}" y="{top}" width="{round(xr - xs, 1)}" height="{BAR_HEIGHT}"/>'
            )
        run_width = round(max(xe - xr, 1.0), 1)
        inner.append(
            f'<rect class="gantt-run" x="{xr}" y="{top}" width="{run_width}" height="{BAR_HEIGHT}"'
            + (f' fill="{fill}"' if fill else "")
            + "/>"
        )
        if xe - xs >= LABEL_MIN_WIDTH:
            inner.append(
                f'<text class="gantt-bar-label" x="{xs + 3}" y="{top + BAR_HEIGHT - 3}">'
                f"{escape(_clip(bar.label, int((xe - xs) / 7)))}</text>"
            )
        group = f'<g class="gantt-bar tone-{bar.tone.value}{status}" data-slot="{bar.slot_id}">{"".join(inner)}</g>'
        if bar.href:
            group = f'<a href="{escape(bar.href)}">{group}</a>'
        parts.append(group)
    return parts


def _actuals(chart: Chart, row: Row, y: int) -> list[str]:
    parts = []
    top = y + ACTUAL_TOP
    for actual in row.actuals:
        if actual.end <= chart.start or actual.start >= chart.end:
            continue
        x1, x2 = x_of(chart, actual.start), x_of(chart, actual.end)
        x2 = max(x2, round(x1 + ACTUAL_MIN_WIDTH, 1))
        inner = [f"<title>{escape(actual.title)}</title>"]
        stop = x2
        if actual.state is FloorState.PAUSED and actual.paused_since is not None:
            stop = min(max(x_of(chart, actual.paused_since), x1), x2)
        if stop > x1:
            inner.append(_strip("gantt-actual-worked", x1, stop, top))
        if x2 > stop:
            inner.append(_strip("gantt-actual-stopped", stop, x2, top, fill="url(#gantt-stopped)"))
        if actual.state is FloorState.RUNNING and x2 < LEFT + PLOT_WIDTH:
            # An arrowhead at now: the strip grows from here.
            inner.append(f'<path class="gantt-actual-tip" d="M{x2} {top - 1}l4 {TIP}l-4 {TIP}z"/>')
        parts.append(
            f'<g class="gantt-actual actual-{actual.state.value}" data-operation="{actual.operation_id}">'
            f"{''.join(inner)}</g>"
        )
    return parts


def _strip(css: str, x1: float, x2: float, top: int, fill: str = "") -> str:
    paint = f' fill="{fill}"' if fill else ""
    return f'<rect class="{css}" x="{x1}" y="{top}" width="{round(x2 - x1, 1)}" height="{ACTUAL_HEIGHT}"{paint}/>'


def _now(chart: Chart, height: int) -> list[str]:
    if chart.now is None or not chart.start <= chart.now < chart.end:
        return []
    x = x_of(chart, chart.now)
    title = chart.labels.get("now", "")
    return [
        f'<g class="gantt-now">{f"<title>{escape(title)}</title>" if title else ""}'
        f'<line x1="{x}" y1="{TOP - 6}" x2="{x}" y2="{height}"/>'
        f'<path d="M{round(x - 4, 1)} {TOP - 8}h8l-4 6z"/></g>'
    ]


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: max(length - 1, 1)] + "…"


def _day_label(day: date) -> str:
    return f"{day:%a %d.%m}"


def window(start_day: date, days: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The chart's time span: local midnight of `start_day` to local midnight `days` later."""
    first = datetime.combine(start_day, time(0), tz)
    last = datetime.combine(start_day + timedelta(days=days), time(0), tz)
    return first, last
