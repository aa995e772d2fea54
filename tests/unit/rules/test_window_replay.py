"""A window's lines do not depend on how far back the window reaches.

The evaluation replays an episode from its start only for what earlier periods carry forward (set-up billed
once, the first CPM month, a month CCM took from PCM), and skips a period before the window that can carry
nothing. Whatever it skips, the lines of a late window must be exactly the lines an early window reports for
the same periods.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from remotecare.domain.devices import Reading
from remotecare.domain.facts import Window
from remotecare.rules import evaluate
from remotecare.rules.counting import build_activities
from remotecare.rules.evaluate import evaluate_activities
from tests.builders import FactsBuilder, codes
from tests.unit.rules.test_properties import RULES, World, worlds

D = dt.date


@st.composite
def dense_worlds(draw: st.DrawFn) -> World:
    """Random worlds whose devices also send data most days from the window's start: several 30-day
    periods in a row reach 16 days, so set-up is billed early and later periods must not bill it again."""
    world = draw(worlds())
    zones = {patient.id: ZoneInfo(patient.timezone) for patient in world.facts.patients}
    extra = []
    for device in world.facts.devices:
        skip = draw(st.integers(3, 10))  # every skip-th day is missed
        days = (world.window.start + dt.timedelta(days=offset) for offset in range(-30, 130) if offset % skip)
        extra += [
            Reading(device.patient, dt.datetime.combine(day, dt.time(10), tzinfo=zones[device.patient]), "x", device.id)
            for day in days
        ]
    return World(dataclasses.replace(world.facts, readings=(*world.facts.readings, *extra)), world.window)


def _later_window_bills_the_same(world: World, cut: int) -> None:
    start = min(world.window.start + dt.timedelta(days=cut), world.window.end)
    late = Window(start, world.window.end)
    early = world.evaluate()
    expected = [line for line in early.lines if line.service_date >= start]
    assert list(evaluate(world.facts, rules=RULES, window=late).lines) == expected


@settings(max_examples=150, deadline=None)
@given(world=worlds(), cut=st.integers(0, 120))
def test_a_later_window_bills_what_an_earlier_one_bills_for_the_same_periods(world: World, cut: int) -> None:
    _later_window_bills_the_same(world, cut)


@settings(max_examples=60, deadline=None)
@given(world=dense_worlds(), cut=st.integers(30, 120))
def test_the_same_holds_when_data_reaches_16_days_period_after_period(world: World, cut: int) -> None:
    _later_window_bills_the_same(world, cut)


def test_set_up_billed_before_the_window_is_not_billed_again_in_it() -> None:
    facts = (
        FactsBuilder()
        .patient("p1")
        .enroll("RPM", D(2025, 1, 1), patient="p1")
        .device("RPM", D(2025, 1, 1), id="d1")
        .readings_on([D(2025, 1, 1) + dt.timedelta(days=i) for i in range(90)], device="d1", patient="p1")
        .build()
    )
    march = evaluate(facts, rules=RULES, window=Window(D(2025, 3, 1), D(2025, 3, 31)))
    assert codes(march) == {"99454"}
    quarter = evaluate(facts, rules=RULES, window=Window(D(2025, 1, 1), D(2025, 3, 31)))
    assert [line.code for line in quarter.lines].count("99453") == 1


def test_a_period_with_no_data_before_the_window_does_not_move_set_up() -> None:
    """An episode that sent nothing for two periods bills set-up with its first period of data."""
    facts = (
        FactsBuilder()
        .patient("p1")
        .enroll("RPM", D(2025, 1, 1), patient="p1")
        .device("RPM", D(2025, 1, 1), id="d1")
        .readings_on([D(2025, 3, 2) + dt.timedelta(days=i) for i in range(20)], device="d1", patient="p1")
        .build()
    )
    activities = build_activities(facts)
    spring = evaluate_activities(activities, rules=RULES, window=Window(D(2025, 3, 1), D(2025, 4, 30)))
    assert sorted(line.code for line in spring.lines) == ["99453", "99454"]
