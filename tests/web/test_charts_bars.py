"""The revenue bar chart as SVG markup: no browser needed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from remotecare.web.charts.bars import PALETTE, Bar, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def _widths(svg: str) -> list[float]:
    return [float(rect.get("width", "0")) for rect in ET.fromstring(svg).iter(f"{SVG}rect")]


def test_it_draws_one_bar_per_item_the_largest_the_longest() -> None:
    svg = str(bar_chart([Bar("99453", Decimal("21.71"), "RPM"), Bar("99454", Decimal("43.42"), "RPM")], title="T"))
    small, large = _widths(svg)
    assert large > 0 and abs(small * 2 - large) < 0.2


def test_it_says_what_it_shows_to_screen_readers_and_in_each_bars_title() -> None:
    svg = str(bar_chart([Bar("99457", Decimal("51.77"), "RPM")], title="Revenue for October 2026"))
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Revenue for October 2026"
    titles = [title.text for title in root.iter(f"{SVG}title")]
    assert titles == ["Revenue for October 2026", "RPM 99457: 51.77"]


def test_it_escapes_labels_and_titles() -> None:
    svg = str(bar_chart([Bar("<b>&", 1.0, 'A"B')], title="<script>alert(1)</script>"))
    assert "<script>" not in svg and "<b>" not in svg
    ET.fromstring(svg)  # still well-formed XML
    assert "&lt;b&gt;&amp;" in svg


def test_groups_share_a_colour_and_an_unknown_value_is_drawn_empty_and_said() -> None:
    bars = [Bar("99454", 47.43, "RPM"), Bar("98975", None, "RTM"), Bar("99457", 51.77, "RPM")]
    svg = str(bar_chart(bars, title="T", unknown="no payment known"))
    fills = re.findall(r'fill="(#[0-9a-f]{6})"', svg)
    assert fills == [PALETTE[0], PALETTE[1], PALETTE[0]]
    assert _widths(svg)[1] == 0
    assert "RTM 98975: no payment known" in svg


def test_no_bars_says_there_is_nothing_to_show() -> None:
    svg = str(bar_chart([], title="Revenue"))
    assert 'aria-label="Revenue: nothing to show"' in svg
    ET.fromstring(svg)


def test_all_zero_values_draw_no_length() -> None:
    assert _widths(str(bar_chart([Bar("a", 0), Bar("b", Decimal(0))], title="T"))) == [0.0, 0.0]
