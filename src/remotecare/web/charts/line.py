"""Line charts over dates, as SVG markup: readings over time with the alert thresholds drawn as dashed lines.

Pure functions: data in, markup out, every text escaped. The chart names itself (`<title>`, `aria-label`)
and says in words what it shows (`<desc>`), so a screen reader gets the gist without the picture; each
point carries its own `<title>` (date and value) for a pointer to hover.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Series colours (readable on white, told apart without relying on hue alone: the legend names them).
COLOURS = ("#0b5cad", "#8250df", "#1a7f37", "#9a6700")
THRESHOLD_COLOUR = "#b3261e"
MARK_COLOUR = "#b3261e"
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 150, 14, 44
DATE_STEPS = (1, 2, 7, 14, 28, 56, 91)  # days between date ticks: the first that gives at most MAX_DATE_TICKS
MAX_DATE_TICKS = 9

When = dt.date | dt.datetime
Scale = Callable[[float], float]
Place = Callable[[When], float]


@dataclass(frozen=True, slots=True)
class Series:
    """One line: `points` are (when, value), when a date or a local wall-clock datetime."""

    label: str
    points: Sequence[tuple[When, float]]


@dataclass(frozen=True, slots=True)
class Mark:
    """A point to draw the eye to (a clinically meaningful change): a ring around it, named in its title."""

    when: When
    value: float
    label: str


@dataclass(frozen=True, slots=True)
class Threshold:
    """A level drawn across the chart as a dashed line, labelled at its right end."""

    label: str
    value: float


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    start: dt.date,
    end: dt.date,
    thresholds: Sequence[Threshold] = (),
    unit: str = "",
    width: int = 720,
    height: int = 240,
    scale: tuple[float, float] | None = None,
    marks: Sequence[Mark] = (),
    mark_legend: str = "meaningful change",
    threshold_legend: str = "alert threshold",
) -> str:
    """An SVG line chart of `series` from `start` to `end` (both days included), with `thresholds` and
    `marks` (rings around points, named in the legend by `mark_legend`). The value axis fits the values and
    thresholds, or spans `scale` (a pain score's 0-10) and any beyond it."""
    if end < start:
        raise ValueError("end is before start")
    values = [value for line in series for _, value in line.points]
    label = escape(title)
    plot_w, plot_h = width - MARGIN_LEFT - MARGIN_RIGHT, height - MARGIN_TOP - MARGIN_BOTTOM
    days = (end - start).days + 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{label}</title>",
        f"<desc>{escape(describe(series, start=start, end=end, thresholds=thresholds, unit=unit))}"
        f"{escape(_describe_marks(marks, mark_legend))}</desc>",
    ]
    levels = values + [level.value for level in thresholds]
    low, high = value_range(levels) if scale is None else (min([scale[0], *levels]), max([scale[1], *levels]))
    ticks = value_ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])

    def x_of(when: When) -> float:
        return MARGIN_LEFT + plot_w * day_offset(when, start) / days

    def y_of(value: float) -> float:
        return MARGIN_TOP + plot_h * (1 - (value - low) / (high - low))

    parts.append(_axes(plot_w, plot_h, ticks, y_of))
    parts.append(_date_ticks(start, days, plot_h, x_of))
    for level in thresholds:
        y = y_of(level.value)
        parts.append(
            f'<g class="threshold"><line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{THRESHOLD_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{MARGIN_LEFT + plot_w + 6}" y="{y + 4:.1f}" style="fill:{THRESHOLD_COLOUR}">'
            f"{escape(level.label)}</text></g>"
        )
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        points = sorted(line.points, key=lambda point: day_offset(point[0], start))
        parts.append(_line(line.label, points, colour, unit, x_of, y_of))
    if marks:
        parts.append('<g class="marks">')
        for mark in marks:
            tip = escape(f"{mark.label} {_short(mark.when)}: {_number(mark.value)}{_unit(unit)}")
            parts.append(
                f'<circle cx="{x_of(mark.when):.1f}" cy="{y_of(mark.value):.1f}" r="7" fill="none" '
                f'stroke="{MARK_COLOUR}" stroke-width="2"><title>{tip}</title></circle>'
            )
        parts.append("</g>")
    parts.append(
        _legend(
            series,
            height,
            with_thresholds=bool(thresholds),
            mark_legend=mark_legend if marks else "",
            threshold_legend=threshold_legend,
        )
    )
    if not values:
        parts.append(
            f'<text x="{MARGIN_LEFT + plot_w / 2:.1f}" y="{MARGIN_TOP + plot_h / 2:.1f}" text-anchor="middle">'
            "No readings in this period</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def describe(
    series: Sequence[Series], *, start: dt.date, end: dt.date, thresholds: Sequence[Threshold] = (), unit: str = ""
) -> str:
    """The chart in words: how many points of each line, the latest, and the thresholds."""
    span = f"{_short(start)} to {_short(end)}"
    said = []
    for line in series:
        if not line.points:
            said.append(f"{line.label}: no readings")
            continue
        when, value = max(line.points, key=lambda point: day_offset(point[0], start))
        said.append(
            f"{line.label}: {len(line.points)} readings, latest {_number(value)}{_unit(unit)} on {_short(when)}"
        )
    said.extend(f"{line.label} at {_number(line.value)}{_unit(unit)}" for line in thresholds)
    return f"{span}. " + "; ".join(said) + "." if said else f"{span}. No readings."


def day_offset(when: When, start: dt.date) -> float:
    """Days from the start of `start` to `when`; a bare date sits at its midday."""
    if isinstance(when, dt.datetime):
        clock = when.hour / 24 + when.minute / 1440 + when.second / 86400
        return (when.date() - start).days + clock
    return (when - start).days + 0.5


def value_range(values: Sequence[float]) -> tuple[float, float]:
    """The lowest and highest value, widened a little so no point sits on the frame (0..1 when empty)."""
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or max(abs(high) * 0.05, 1.0)
    return low - pad, high + pad


def value_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round values (steps of 1, 2 or 5 times a power of ten) covering low..high, at most about `most`."""
    raw = (high - low) / max(most - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(power * factor for factor in (1, 2, 5, 10) if power * factor >= raw)
    first = math.floor(low / step) * step
    ticks = []
    tick = first
    while tick < high + step:
        ticks.append(round(tick, 10))
        if tick >= high:
            break
        tick += step
    return ticks


def date_ticks(start: dt.date, days: int) -> list[dt.date]:
    """Evenly spaced days from `start`, at most MAX_DATE_TICKS of them."""
    step = next((step for step in DATE_STEPS if days / step <= MAX_DATE_TICKS), DATE_STEPS[-1])
    return [start + dt.timedelta(days=offset) for offset in range(0, days, step)]


def _axes(plot_w: float, plot_h: float, ticks: list[float], y_of: Scale) -> str:
    parts = ['<g class="axis y">']
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e7ecf0"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(tick)}</text>'
        )
    bottom = MARGIN_TOP + plot_h
    parts.append(
        f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{MARGIN_TOP}" y2="{bottom}" stroke="#8c959f"/>'
        f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{bottom}" y2="{bottom}" stroke="#8c959f"/></g>'
    )
    return "".join(parts)


def _date_ticks(start: dt.date, days: int, plot_h: float, x_of: Place) -> str:
    bottom = MARGIN_TOP + plot_h
    parts = ['<g class="axis x">']
    for day in date_ticks(start, days):
        x = x_of(dt.datetime.combine(day, dt.time()))
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#8c959f"/>'
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(_short(day))}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _line(label: str, points: list[tuple[When, float]], colour: str, unit: str, x_of: Place, y_of: Scale) -> str:
    coordinates = [(x_of(when), y_of(value), when, value) for when, value in points]
    parts = [f'<g class="series" aria-label="{escape(label)}">']
    if len(coordinates) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in coordinates)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for x, y, when, value in coordinates:
        tip = escape(f"{label} {_short(when)}: {_number(value)}{_unit(unit)}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{tip}</title></circle>')
    parts.append("</g>")
    return "".join(parts)


def _describe_marks(marks: Sequence[Mark], legend: str) -> str:
    if not marks:
        return ""
    return f" {legend.capitalize()}: " + "; ".join(f"{_short(m.when)} ({m.label})" for m in marks) + "."


def _legend(
    series: Sequence[Series],
    height: int,
    *,
    with_thresholds: bool,
    mark_legend: str = "",
    threshold_legend: str = "alert threshold",
) -> str:
    parts = ['<g class="legend">']
    x = MARGIN_LEFT
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{height - 9}">{escape(line.label)}</text>'
        )
        x += 28 + 7 * len(line.label)
    if with_thresholds:
        parts.append(
            f'<line x1="{x}" x2="{x + 14}" y1="{height - 12}" y2="{height - 12}" stroke="{THRESHOLD_COLOUR}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{x + 18}" y="{height - 9}">{escape(threshold_legend)}</text>'
        )
        x += 28 + 7 * len(threshold_legend)
    if mark_legend:
        parts.append(
            f'<circle cx="{x + 6}" cy="{height - 12}" r="5" fill="none" stroke="{MARK_COLOUR}" stroke-width="2"/>'
            f'<text x="{x + 16}" y="{height - 9}">{escape(mark_legend)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _short(when: When) -> str:
    return f"{when:%b} {when.day}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _unit(unit: str) -> str:
    return f" {unit}" if unit and unit != "%" else unit
