"""The Gantt chart as one SVG string, from plain dataclasses (no Django models here).

Sized for a 1080p screen: 1,680 px of time (70 px an hour at day zoom, 120 px a day at the
two-week zoom) and 22 px rows, so 30 work centers over two weeks fit without scrolling. Every
piece of text goes through `escape`: job numbers and descriptions come from users.
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
BAR_HEIGHT = 16
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


@dataclass(frozen=True)
class Row:
    label: str
    bars: tuple[Bar, ...]
    off: tuple[Interval, ...] = ()  # non-working time, shaded
    title: str = ""


@dataclass(frozen=True)
class Chart:
    start: datetime
    end: datetime
    rows: tuple[Row, ...]
    tz: ZoneInfo
    hourly: bool  # day zoom: a line every hour; otherwise a line every 6 hours
    labels: dict[str, str] = field(default_factory=dict)


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
        'stroke-width="3"/></pattern></defs>',
    ]
    parts.extend(_rows(chart))
    parts.extend(_axis(chart, height))
    for index, row in enumerate(chart.rows):
        parts.extend(_bars(chart, row, TOP + index * ROW_HEIGHT))
    # Non-working time once more over the bars, faded, so a bar paused over a night or a holiday
    # shows where it does not run.
    for index, row in enumerate(chart.rows):
        parts.extend(_off(chart, row, TOP + index * ROW_HEIGHT, "gantt-paused"))
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
    top = y + (ROW_HEIGHT - BAR_HEIGHT) / 2
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
                f'<text class="gantt-bar-label" x="{xs + 3}" y="{top + BAR_HEIGHT - 4}">'
                f"{escape(_clip(bar.label, int((xe - xs) / 7)))}</text>"
            )
        group = f'<g class="gantt-bar tone-{bar.tone.value}{status}" data-slot="{bar.slot_id}">{"".join(inner)}</g>'
        if bar.href:
            group = f'<a href="{escape(bar.href)}">{group}</a>'
        parts.append(group)
    return parts


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: max(length - 1, 1)] + "…"


def _day_label(day: date) -> str:
    return f"{day:%a %d.%m}"


def window(start_day: date, days: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The chart's time span: local midnight of `start_day` to local midnight `days` later."""
    first = datetime.combine(start_day, time(0), tz)
    last = datetime.combine(start_day + timedelta(days=days), time(0), tz)
    return first, last
