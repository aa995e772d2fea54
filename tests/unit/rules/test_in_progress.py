"""The periods still open, evaluated on their own (what the worklist asks for), against a full evaluation.

`evaluate_activities(only_in_progress=True)` judges nothing and starts at the open periods; it must report
exactly the periods in progress that a full evaluation (replaying every period from the episode's start)
reports, from only the readings and minutes on or after `open_period_floor` of the evaluation's last day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from remotecare.domain.facts import CareFacts, Window
from remotecare.rules import load_rules
from remotecare.rules.counting import build_activities, local_date
from remotecare.rules.evaluate import evaluate_activities
from remotecare.rules.periods import device_periods, open_period_floor
from tests.builders import FactsBuilder
from tests.unit.rules.test_properties import World, worlds

RULES = load_rules()
D = dt.date


def since(facts: CareFacts, floor: dt.date) -> CareFacts:
    """Only the readings and minutes on or after `floor`, as `load_facts(data_since=floor)` reads them."""
    zones = {patient.id: patient.timezone for patient in facts.patients}
    assert all(device.start is not None for device in facts.devices), "monitoring would start at a first reading"
    return dataclasses.replace(
        facts,
        readings=tuple(r for r in facts.readings if local_date(r.at, zones[r.patient]) >= floor),
        time_entries=tuple(entry for entry in facts.time_entries if entry.date >= floor),
    )


@settings(max_examples=150, deadline=None)
@given(world=worlds(), end_under_way=st.booleans(), back=st.integers(0, 40))
def test_the_open_periods_alone_are_those_a_full_evaluation_reports_in_progress(
    world: World, end_under_way: bool, back: int
) -> None:
    window = Window(world.window.start, world.window.end - dt.timedelta(days=back))
    full = evaluate_activities(build_activities(world.facts), rules=RULES, window=window, end_under_way=end_under_way)
    alone = evaluate_activities(
        build_activities(since(world.facts, open_period_floor(window.end))),
        rules=RULES,
        window=window,
        end_under_way=end_under_way,
        only_in_progress=True,
    )
    assert alone.in_progress == full.in_progress
    assert alone.lines == () and alone.not_billed == ()


def test_the_floor_is_the_earliest_start_of_a_30_day_period_or_month_open_on_the_day() -> None:
    assert open_period_floor(D(2026, 3, 20)) == D(2026, 2, 19)  # a period ending on the 20th began 29 days back
    assert open_period_floor(D(2026, 3, 31)) == D(2026, 3, 1)  # the month began later than that
    assert open_period_floor(D(2026, 3, 1)) == D(2026, 1, 31)


@given(
    start=st.dates(D(2020, 1, 1), D(2026, 12, 31)),
    length=st.one_of(st.none(), st.integers(0, 400)),
    through=st.integers(0, 500),
    from_day=st.integers(-40, 500),
)
def test_device_periods_from_a_day_are_the_tail_of_all_of_them(
    start: dt.date, length: int | None, through: int, from_day: int
) -> None:
    end = None if length is None else start + dt.timedelta(days=length)
    last = start + dt.timedelta(days=through)
    day = start + dt.timedelta(days=from_day)
    every = list(device_periods(start, end, through=last))
    tail = list(device_periods(start, end, through=last, from_day=day))
    # A tail of them, from at most one period before the day's (one cut short by the episode's end) on:
    # nothing that holds the day or comes after it is skipped.
    assert tail == every[len(every) - len(tail) :]
    assert all(period in tail for period in every if period.end >= day)
    assert len([period for period in tail if period.end < day]) <= 1


def test_the_first_day_of_the_open_period_or_month_still_counts() -> None:
    """At the floor exactly: a 30-day period ending on the day (from 29 days back), a month from its 1st."""
    builder = (
        FactsBuilder()
        .patient()
        .enroll("RPM", D(2026, 1, 20))  # periods of 30 days from 20 January: the third is 19 Feb to 20 Mar
        .device("RPM", D(2026, 1, 20))
        .enroll("CCM", D(2026, 1, 20))
        .readings_on([D(2026, 2, 19), D(2026, 3, 2)])
        .time(D(2026, 3, 1), 20, program="CCM", interactive=True)
    )
    for as_of, days, minutes in ((D(2026, 3, 20), 2, 20), (D(2026, 3, 31), 0, 20)):
        window = Window(as_of - dt.timedelta(days=31), as_of)
        alone = evaluate_activities(
            build_activities(since(builder.build(), open_period_floor(as_of))),
            rules=RULES,
            window=window,
            end_under_way=True,
            only_in_progress=True,
        )
        full = evaluate_activities(build_activities(builder.build()), rules=RULES, window=window, end_under_way=True)
        assert alone.in_progress == full.in_progress
        progress = {item.progress["kind"]: item.progress for item in alone.in_progress}
        assert progress["days_with_data"]["days_with_data"] == days and progress["minutes"]["minutes"] == minutes
