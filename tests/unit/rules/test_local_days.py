"""Days of data are counted in the patient's own time zone (Part A rule 2)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from remotecare.domain.facts import Window
from remotecare.rules import evaluate, load_rules
from remotecare.rules.counting import build_activities, local_date
from tests.builders import FactsBuilder, days_from

UTC = dt.UTC


def data_days(facts: FactsBuilder) -> list[dt.date]:
    (activity,) = build_activities(facts.build())
    return sorted(activity.data_days)


def test_a_reading_late_in_the_evening_counts_on_the_local_day() -> None:
    # 23:30 CDT in Chicago on 10 March is 04:30 UTC on 11 March.
    facts = FactsBuilder().patient(timezone="America/Chicago").enroll("RPM", dt.date(2025, 3, 1))
    facts.device("RPM", dt.date(2025, 3, 1)).reading_at(dt.datetime(2025, 3, 11, 4, 30, tzinfo=UTC))
    assert data_days(facts) == [dt.date(2025, 3, 10)]


def test_a_reading_just_after_local_midnight_counts_on_the_new_day() -> None:
    facts = FactsBuilder().patient(timezone="Asia/Tokyo").enroll("RPM", dt.date(2025, 3, 1))
    facts.device("RPM", dt.date(2025, 3, 1)).reading_at(dt.datetime(2025, 3, 10, 15, 5, tzinfo=UTC))
    assert data_days(facts) == [dt.date(2025, 3, 11)]


def test_two_readings_on_one_local_day_but_two_utc_dates_are_one_day() -> None:
    facts = FactsBuilder().patient(timezone="America/Los_Angeles").enroll("RPM", dt.date(2025, 6, 1))
    facts.device("RPM", dt.date(2025, 6, 1))
    facts.reading_at(dt.datetime(2025, 6, 10, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles")))
    facts.reading_at(dt.datetime(2025, 6, 10, 22, 0, tzinfo=ZoneInfo("America/Los_Angeles")))  # 05:00Z on the 11th
    assert data_days(facts) == [dt.date(2025, 6, 10)]


def test_spring_forward_day_counts_once_with_readings_either_side_of_the_gap() -> None:
    zone = ZoneInfo("America/New_York")
    facts = FactsBuilder().patient(timezone="America/New_York").enroll("RPM", dt.date(2025, 3, 1))
    facts.device("RPM", dt.date(2025, 3, 1))
    facts.reading_at(dt.datetime(2025, 3, 9, 1, 30, tzinfo=zone))  # EST, before the jump
    facts.reading_at(dt.datetime(2025, 3, 9, 23, 30, tzinfo=zone))  # EDT, 03:30Z on the 10th
    assert data_days(facts) == [dt.date(2025, 3, 9)]


def test_fall_back_day_repeats_an_hour_but_is_still_one_day() -> None:
    first = dt.datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = dt.datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST, the repeated hour
    facts = FactsBuilder().patient(timezone="America/New_York").enroll("RPM", dt.date(2025, 11, 1))
    facts.device("RPM", dt.date(2025, 11, 1)).reading_at(first).reading_at(second)
    assert local_date(first, "America/New_York") == local_date(second, "America/New_York")
    assert data_days(facts) == [dt.date(2025, 11, 2)]


def test_readings_at_local_midnight_around_daylight_saving_fill_16_days() -> None:
    # 16 readings at 00:10 local, straddling the March change in Denver: each is its own local day.
    start = dt.date(2025, 3, 1)
    facts = FactsBuilder().patient(timezone="America/Denver").enroll("RPM", start).device("RPM", start)
    facts.readings_on(days_from(start, 16), local_time=dt.time(0, 10))
    result = facts.evaluate(start, start + dt.timedelta(days=29))
    assert {line.code for line in result.lines} == {"99453", "99454"}
    assert data_days(facts) == days_from(start, 16)


def test_the_same_instants_give_a_different_count_in_another_zone() -> None:
    # Readings at 03:00 UTC: in UTC that is 16 days; in Honolulu (UTC-10) the first falls on the day before
    # monitoring began, so only 15 count.
    start = dt.date(2025, 4, 1)
    instants = [dt.datetime.combine(day, dt.time(3, 0), tzinfo=UTC) for day in days_from(start, 16)]
    counts = {}
    for zone in ("UTC", "Pacific/Honolulu"):
        facts = FactsBuilder().patient(timezone=zone).enroll("RPM", start).device("RPM", start)
        for at in instants:
            facts.reading_at(at)
        result = evaluate(facts.build(), rules=load_rules(), window=Window(start, start + dt.timedelta(days=29)))
        counts[zone] = {line.code for line in result.lines}
    assert counts == {"UTC": {"99453", "99454"}, "Pacific/Honolulu": set()}
