"""Horizontal bar charts as server-rendered SVG: no script, no request to any other host.

Pure functions: values in, escaped SVG markup out. The chart carries a <title> and an aria-label that
say what it shows, and each bar its own <title> with its label and value, so a screen reader (or a
pointer hovering a bar) reads the numbers; the page shows the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

# One colour per group (a program), in the order groups first appear; readable on white.
PALETTE = ("#0b5cad", "#1a7f37", "#9a6700", "#8250df", "#b3261e", "#57606a")

ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 150
VALUE_WIDTH = 110
WIDTH = 720


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # "99454"
    value: Decimal | float | None  # None: nothing known to show (drawn empty, said so)
    group: str = ""  # "RPM": bars of a group share a colour


def _plain(value: Decimal | float) -> str:
    return f"{value:,.2f}"


def group_colours(bars: Sequence[Bar]) -> dict[str, str]:
    """Each group's colour, in the order the groups first appear."""
    colours: dict[str, str] = {}
    for bar in bars:
        if bar.group not in colours:
            colours[bar.group] = PALETTE[len(colours) % len(PALETTE)]
    return colours


def bar_chart(
    bars: Sequence[Bar], *, title: str, value_text: Callable[[Decimal | float], str] = _plain, unknown: str = "unknown"
) -> Markup:
    """A horizontal bar per item, longest = the largest value; labels on the left, values on the right."""
    if not bars:
        return Markup(
            f'<svg class="chart" role="img" aria-label="{escape(title)}: nothing to show" viewBox="0 0 {WIDTH} 40" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}: nothing to show</title>'
            f'<text x="8" y="24">Nothing to show</text></svg>'
        )
    largest = max((float(bar.value) for bar in bars if bar.value is not None), default=0.0)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    colours = group_colours(bars)
    height = ROW_HEIGHT * len(bars) + 8
    parts = [
        f'<svg class="chart bars" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for row, bar in enumerate(bars):
        top = 4 + row * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2
        shown = unknown if bar.value is None else value_text(bar.value)
        length = 0.0 if bar.value is None or largest <= 0 else span * max(float(bar.value), 0.0) / largest
        name = f"{bar.group} {bar.label}".strip()
        parts.append(
            f"<g><title>{escape(name)}: {escape(shown)}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{middle:.1f}" text-anchor="end" dominant-baseline="middle">'
            f"{escape(name)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{top + (ROW_HEIGHT - BAR_HEIGHT) / 2:.1f}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" rx="3" fill="{colours[bar.group]}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{middle:.1f}" dominant-baseline="middle">'
            f"{escape(shown)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
