"""The SVG line chart, without a browser: escaped text, a name, axes, date ticks and threshold lines."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from remotecare.web.charts.line import Series, Threshold, date_ticks, day_offset, line_chart, value_ticks

SVG = "{http://www.w3.org/2000/svg}"
START, END = dt.date(2026, 9, 25), dt.date(2026, 11, 23)


def chart(**changes: object) -> ET.Element:
    arguments: dict[str, object] = {
        "series": [Series("Systolic", [(dt.date(2026, 11, 20), 130.0), (dt.datetime(2026, 11, 22, 12), 186.0)])],
        "start": START,
        "end": END,
        "thresholds": [Threshold("Systolic ≥ 180", 180)],
        "unit": "mmHg",
    }
    arguments.update(changes)
    return ET.fromstring(line_chart("Blood pressure", **arguments))  # type: ignore[arg-type]


def test_it_names_itself_for_screen_readers() -> None:
    svg = chart()
    assert svg.get("role") == "img" and svg.get("aria-label") == "Blood pressure"
    assert svg.findtext(f"{SVG}title") == "Blood pressure"
    assert svg.findtext(f"{SVG}desc") == (
        "Sep 25 to Nov 23. Systolic: 2 readings, latest 186 mmHg on Nov 22; Systolic ≥ 180 at 180 mmHg."
    )


def test_it_escapes_every_text() -> None:
    markup = line_chart(
        "<script>", [Series("a & <b>", [(START, 1.0)])], start=START, end=END, thresholds=[Threshold('"x"<', 2)]
    )
    assert "<script>" not in markup and "<b>" not in markup
    assert "&lt;script&gt;" in markup and "a &amp; &lt;b&gt;" in markup
    ET.fromstring(markup)  # well-formed


def test_it_draws_the_threshold_as_a_dashed_line_above_the_lower_points() -> None:
    svg = chart()
    line = svg.find(f".//{SVG}g[@class='threshold']/{SVG}line")
    assert line is not None and line.get("stroke-dasharray")
    circles = svg.findall(f".//{SVG}g[@class='series']/{SVG}circle")
    assert [circle.findtext(f"{SVG}title") for circle in circles] == [
        "Systolic Nov 20: 130 mmHg",
        "Systolic Nov 22: 186 mmHg",
    ]
    threshold_y = float(line.get("y1") or 0)
    low, high = (float(circle.get("cy") or 0) for circle in circles)
    assert high < threshold_y < low  # higher values sit higher up


def test_it_puts_points_in_date_order_along_the_axis() -> None:
    svg = chart(series=[Series("x", [(dt.date(2026, 11, 1), 1.0), (dt.date(2026, 10, 1), 2.0)])], thresholds=[])
    xs = [float(circle.get("cx") or 0) for circle in svg.iter(f"{SVG}circle")]
    assert xs == sorted(xs)


def test_it_labels_date_ticks_and_value_ticks() -> None:
    svg = chart()
    dates = [text.text for text in svg.findall(f".//{SVG}g[@class='axis x']/{SVG}text")]
    assert dates[0] == "Sep 25" and len(dates) <= 9
    values = [
        float((text.text or "").replace(",", "")) for text in svg.findall(f".//{SVG}g[@class='axis y']/{SVG}text")
    ]
    assert values == sorted(values) and values[0] <= 130 and values[-1] >= 186


def test_it_says_so_when_there_is_nothing_to_draw() -> None:
    svg = chart(series=[Series("Systolic", [])], thresholds=[])
    assert "No readings in this period" in ET.tostring(svg, encoding="unicode")
    assert svg.findtext(f"{SVG}desc") == "Sep 25 to Nov 23. Systolic: no readings."


def test_it_refuses_an_end_before_the_start() -> None:
    with pytest.raises(ValueError, match="end is before start"):
        line_chart("x", [], start=END, end=START)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]), (74, 193, [50, 100, 150, 200]), (-3, 3, [-4, -2, 0, 2, 4])],
)
def test_value_ticks_are_round_numbers_covering_the_range(low: float, high: float, expected: list[float]) -> None:
    assert value_ticks(low, high) == expected


def test_date_ticks_start_on_the_first_day_and_are_few() -> None:
    assert date_ticks(START, 60) == [START + dt.timedelta(days=7 * n) for n in range(9)]
    assert date_ticks(START, 7) == [START + dt.timedelta(days=n) for n in range(7)]


def test_a_date_sits_at_its_midday_and_a_datetime_at_its_clock() -> None:
    assert day_offset(START, START) == 0.5
    assert day_offset(dt.datetime(2026, 9, 26, 6), START) == 1.25


def test_a_fixed_scale_spans_the_whole_range_of_the_measure() -> None:
    svg = chart(series=[Series("Pain", [(START, 3.0), (END, 7.0)])], thresholds=[], scale=(0, 10))
    values = [text.text for text in svg.findall(f".//{SVG}g[@class='axis y']/{SVG}text")]
    assert values[0] == "0" and values[-1] == "10"
