"""The forecast of an open period at its boundaries: the last day on which 16 days are still possible, the
2026 short codes, deadlines across daylight-saving changes, and short months (February 2026 and 2028)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from remotecare.domain.facts import Window
from remotecare.rules import evaluate, load_rules
from remotecare.rules.counting import local_date
from remotecare.rules.forecast import (
    DeviceForecast,
    MinuteCode,
    MonthForecast,
    Status,
    device_forecast,
    end_of_local_day,
    month_forecast,
)
from remotecare.rules.results import Evaluation
from tests.builders import FactsBuilder, days_from

CHICAGO = "America/Chicago"
MARCH_START, MARCH_END = dt.date(2026, 3, 1), dt.date(2026, 3, 30)  # a 30-day period
RPM_2026 = [("99454", 16), ("99445", 2)]
STAFF = frozenset({"physician", "qhp", "clinical_staff"})


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def forecast(
    days: int,
    as_of: dt.date,
    *,
    read_today: bool = False,
    end: dt.date = MARCH_END,
    thresholds: list[tuple[str, int]] | None = None,
    timezone: str = CHICAGO,
) -> DeviceForecast:
    result = device_forecast(
        days_with_data=days,
        read_on_as_of=read_today,
        as_of=as_of,
        period_end=end,
        thresholds=RPM_2026 if thresholds is None else thresholds,
        timezone=timezone,
    )
    assert result is not None
    return result


def test_sixteen_is_still_possible_on_the_last_day_that_leaves_enough_days_and_not_the_day_after() -> None:
    # 5 days, none today: the 20th and the 10 days after it are exactly the 11 still needed.
    last = forecast(5, dt.date(2026, 3, 20))
    full = last.targets[0]
    assert (full.code, full.needed, full.reachable, full.spare_days) == ("99454", 11, True, 0)
    assert (last.status, last.code, last.next_reading_by) == (Status.AT_RISK, "99454", dt.date(2026, 3, 20))
    assert last.next_reading_by_utc == utc("2026-03-21T05:00")  # the end of the 20th in Chicago (CDT)
    # The 21st: 10 days open, 11 needed. 99445's 2 days are already met, so nothing more is at stake.
    after = forecast(5, dt.date(2026, 3, 21))
    assert (after.targets[0].reachable, after.targets[0].spare_days, after.targets[0].next_reading_by) == (
        False,
        -1,
        None,
    )
    assert (after.status, after.code, after.next_reading_by, after.deadline) == (
        Status.SHORT_CODE_ONLY,
        None,
        None,
        None,
    )


def test_a_reading_already_today_closes_today_so_the_next_one_is_due_tomorrow() -> None:
    # 6 days, the 6th today: 10 needed, 10 days after the 20th.
    today = forecast(6, dt.date(2026, 3, 20), read_today=True)
    assert (today.days_open, today.spare_days, today.next_reading_by) == (10, 0, dt.date(2026, 3, 21))
    # The same 6 days with the last today on the 21st: 9 days left for 10.
    late = forecast(6, dt.date(2026, 3, 21), read_today=True)
    assert (late.days_open, late.targets[0].spare_days, late.status) == (9, -1, Status.SHORT_CODE_ONLY)


def test_status_at_the_margin_and_once_met() -> None:
    assert forecast(8, dt.date(2026, 3, 20), read_today=True).status == Status.AT_RISK  # 10 open, 8 needed: 2
    assert forecast(9, dt.date(2026, 3, 20), read_today=True).status == Status.ON_TRACK  # 3 spare
    met = forecast(16, dt.date(2026, 3, 20), read_today=True)
    assert (met.status, met.code, met.next_reading_by, met.targets[0].needed) == (Status.MET, None, None, 0)


def test_the_short_code_is_reachable_when_sixteen_is_not_and_missed_when_neither_is() -> None:
    # No day yet on the 29th: 16 is long gone, but the 29th and the 30th make 99445's two days.
    short = forecast(0, dt.date(2026, 3, 29))
    assert (short.status, short.code, short.spare_days, short.next_reading_by) == (
        Status.SHORT_CODE_ONLY,
        "99445",
        0,
        dt.date(2026, 3, 29),
    )
    assert short.target("99445") is not None and short.target("99454") is not None
    assert forecast(0, dt.date(2026, 3, 30)).status == Status.MISSED  # one day left for two
    assert forecast(1, dt.date(2026, 3, 30)).next_reading_by == dt.date(2026, 3, 30)
    # Before 2026 there is no short code: out of reach of 16 is missed, whatever the days so far.
    assert forecast(10, dt.date(2026, 3, 28), thresholds=[("99454", 16)]).status == Status.MISSED
    assert (
        device_forecast(
            days_with_data=0,
            read_on_as_of=False,
            as_of=MARCH_START,
            period_end=MARCH_END,
            thresholds=[],
            timezone=CHICAGO,
        )
        is None
    )


@pytest.mark.parametrize(
    ("day", "timezone", "ends", "hours"),
    [
        (dt.date(2026, 3, 7), CHICAGO, "2026-03-08T06:00", 24),  # CST
        (dt.date(2026, 3, 8), CHICAGO, "2026-03-09T05:00", 23),  # clocks forward at 2:00
        (dt.date(2026, 10, 31), CHICAGO, "2026-11-01T05:00", 24),  # CDT
        (dt.date(2026, 11, 1), CHICAGO, "2026-11-02T06:00", 25),  # clocks back at 2:00
        (dt.date(2026, 3, 8), "America/Phoenix", "2026-03-09T07:00", 24),  # no daylight-saving time
        (dt.date(2026, 11, 1), "Pacific/Honolulu", "2026-11-02T10:00", 24),
        (dt.date(2026, 4, 4), "America/Santiago", "2026-04-05T04:00", 25),  # midnight repeated
        (dt.date(2026, 9, 6), "America/Santiago", "2026-09-07T03:00", 23),  # midnight skipped
    ],
)
def test_a_deadline_is_the_instant_its_local_day_ends(day: dt.date, timezone: str, ends: str, hours: int) -> None:
    end = end_of_local_day(day, timezone)
    assert end == utc(ends)
    assert end - end_of_local_day(day - dt.timedelta(days=1), timezone) == dt.timedelta(hours=hours)
    # A reading a microsecond before counts for the day, one at the instant for the next (policy rule 2).
    assert local_date(end - dt.timedelta(microseconds=1), timezone) == day
    assert local_date(end, timezone) == day + dt.timedelta(days=1)


def test_the_next_reading_deadline_moves_with_the_daylight_saving_change() -> None:
    # A period ending 23 March needs 16 days from the 8th on: the day Chicago's clocks go forward.
    spring = forecast(0, dt.date(2026, 3, 5), end=dt.date(2026, 3, 23))
    assert (spring.next_reading_by, spring.next_reading_by_utc) == (dt.date(2026, 3, 8), utc("2026-03-09T05:00"))
    phoenix = forecast(0, dt.date(2026, 3, 5), end=dt.date(2026, 3, 23), timezone="America/Phoenix")
    assert phoenix.next_reading_by_utc == utc("2026-03-09T07:00")
    autumn = forecast(0, dt.date(2026, 10, 20), end=dt.date(2026, 11, 16))  # 16 days from 1 November
    assert (autumn.next_reading_by, autumn.next_reading_by_utc) == (dt.date(2026, 11, 1), utc("2026-11-02T06:00"))


def rpm_minutes(counted: int, *, contact: bool, as_of: dt.date, month_end: dt.date) -> MonthForecast:
    codes = [MinuteCode("99457", 20, counted, STAFF, True), MinuteCode("99470", 10, counted, STAFF, True)]
    options = sorted((code.minutes - counted, code.code) for code in codes if code.minutes > counted)
    result = month_forecast(
        codes=codes,
        interactive_contact=contact,
        next_threshold=(options[0][1], options[0][0]) if options else ("99458", 40 - counted),
        as_of=as_of,
        month_end=month_end,
        timezone=CHICAGO,
    )
    assert result is not None
    return result


@pytest.mark.parametrize(
    ("month_end", "at_risk_from"),
    [(dt.date(2026, 2, 28), dt.date(2026, 2, 22)), (dt.date(2028, 2, 29), dt.date(2028, 2, 23))],
)
def test_minutes_are_at_risk_in_the_last_seven_days_of_a_short_month(month_end: dt.date, at_risk_from: dt.date) -> None:
    day_before = at_risk_from - dt.timedelta(days=1)
    before = rpm_minutes(0, contact=False, as_of=day_before, month_end=month_end)
    assert (before.status, before.days_left) == (Status.ON_TRACK, 8)
    risk = rpm_minutes(0, contact=False, as_of=at_risk_from, month_end=month_end)
    assert (risk.status, risk.days_left, risk.deadline) == (Status.AT_RISK, 7, month_end)
    assert risk.deadline_utc == dt.datetime.combine(month_end + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)
    # The nearest threshold is the 10-minute code: 10 minutes over 7 days is 2 a day, rounded up.
    assert (risk.next_code, risk.minutes_to_next, risk.minutes_per_day, risk.interactive_contact_needed) == (
        "99470",
        10,
        2,
        True,
    )
    last = rpm_minutes(5, contact=True, as_of=month_end, month_end=month_end)
    assert (last.days_left, last.minutes_to_next, last.minutes_per_day, last.interactive_contact_needed) == (
        1,
        5,
        5,
        False,
    )


def test_minutes_are_met_with_the_full_code_not_the_ten_minute_one() -> None:
    end = dt.date(2026, 2, 28)
    ten = rpm_minutes(12, contact=True, as_of=dt.date(2026, 2, 10), month_end=end)
    assert (ten.status, ten.earned, ten.next_code, ten.minutes_to_next) == (Status.ON_TRACK, "99470", "99457", 8)
    no_call = rpm_minutes(25, contact=False, as_of=dt.date(2026, 2, 10), month_end=end)
    assert (no_call.status, no_call.earned, no_call.interactive_contact_needed) == (Status.ON_TRACK, None, True)
    full = rpm_minutes(20, contact=True, as_of=dt.date(2026, 2, 27), month_end=end)
    assert (full.status, full.earned, full.deadline, full.deadline_utc) == (Status.MET, "99457", None, None)
    # CCM: 99491 counts only physician minutes, so staff minutes that earn 99490 meet the month.
    ccm = month_forecast(
        codes=[
            MinuteCode("99491", 30, 0, frozenset({"physician", "qhp"}), False),
            MinuteCode("99490", 20, 25, STAFF, False),
        ],
        interactive_contact=False,
        next_threshold=("99439", 15),
        as_of=dt.date(2026, 2, 27),
        month_end=end,
        timezone=CHICAGO,
    )
    assert ccm is not None and (ccm.status, ccm.earned, ccm.interactive_contact_needed) == (Status.MET, "99490", False)


def open_items(result: Evaluation, kind: str) -> list[dict[str, object]]:
    return [dict(item.progress) for item in result.in_progress if item.progress["kind"] == kind]


def test_the_evaluation_forecasts_from_the_rules_and_the_day_under_way() -> None:
    facts = FactsBuilder().patient().enroll("RPM", MARCH_START).device("RPM", MARCH_START)
    facts.readings_on([*days_from(MARCH_START, 5), MARCH_END])
    facts.time(dt.date(2026, 3, 30), 12, program="RPM", interactive=True)
    window = Window(dt.date(2026, 3, 1), MARCH_END)
    # Billing: the 30th is over and the period is judged (5 + 1 days: the 2-15 day code).
    billed = evaluate(facts.build(), rules=load_rules(), window=window)
    assert {line.code for line in billed.lines} >= {"99445"} and open_items(billed, "days_with_data") == []
    # During the 30th the period is still open: its reading counts and closes the day.
    during = evaluate(facts.build(), rules=load_rules(), window=window, end_under_way=True)
    (device,) = open_items(during, "days_with_data")
    days = device["forecast"]
    assert isinstance(days, DeviceForecast)
    assert (device["days_with_data"], days.days_open, days.status) == (6, 0, Status.SHORT_CODE_ONLY)
    assert [(t.code, t.days, t.needed) for t in days.targets] == [("99454", 16, 10), ("99445", 2, 0)]
    (month,) = open_items(during, "minutes")
    minutes = month["forecast"]
    assert isinstance(minutes, MonthForecast)
    assert (minutes.days_left, minutes.earned, minutes.next_code, minutes.status) == (
        2,
        "99470",
        "99457",
        Status.AT_RISK,
    )
    assert during.lines == ()
    # The forecast is plain JSON in the evaluation's output.
    printed = json.loads(json.dumps(during.to_dict()))
    assert printed["in_progress"][0]["forecast"]["status"] in {"short_code_only", "at_risk"}


def test_the_day_before_the_window_end_is_counted_over_when_billing() -> None:
    facts = FactsBuilder().patient().enroll("RPM", MARCH_START).device("RPM", MARCH_START)
    facts.readings_on(days_from(MARCH_START, 5))
    result = evaluate(facts.build(), rules=load_rules(), window=Window(MARCH_START, dt.date(2026, 3, 20)))
    (device,) = open_items(result, "days_with_data")
    days = device["forecast"]
    assert isinstance(days, DeviceForecast)
    # Billing through the 20th counts it over: 10 days open after it, 11 needed.
    assert (days.days_open, days.targets[0].spare_days, days.status) == (10, -1, Status.SHORT_CODE_ONLY)
