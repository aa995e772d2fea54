"""A service is judged by the rules in force on its date of service (Part A rule 6)."""

from __future__ import annotations

import datetime as dt

from remotecare.domain.programs import Program
from remotecare.rules import load_rules
from remotecare.rules.load import _data_dir
from tests.builders import FactsBuilder, billed, days_from


def nine_days_from(start: dt.date) -> FactsBuilder:
    facts = FactsBuilder().patient().enroll("RPM", start).device("RPM", start)
    return facts.readings_on(days_from(start, 9, step=3))


def test_nine_days_earn_nothing_under_2025_rules() -> None:
    start = dt.date(2025, 11, 1)  # period ends 30 November 2025
    result = nine_days_from(start).evaluate(start, dt.date(2025, 11, 30))
    assert billed(result) == {}
    assert result.rules == "CMS PFS 2025"


def test_the_same_nine_days_earn_99445_when_the_period_ends_in_2026() -> None:
    start = dt.date(2025, 12, 15)  # period ends 13 January 2026
    result = nine_days_from(start).evaluate(start, dt.date(2026, 1, 13))
    assert billed(result) == {("99445", 1, "2026-01"): 1, ("99453", 1, "2026-01"): 1}
    assert {line.rules for line in result.lines} == {"CMS PFS 2026"}


def test_twelve_minutes_with_a_call_earn_99470_in_january_2026_but_nothing_in_december_2025() -> None:
    facts = FactsBuilder().patient().enroll("RPM", dt.date(2025, 12, 1)).device("RPM", dt.date(2025, 12, 1))
    for month_start in (dt.date(2025, 12, 1), dt.date(2026, 1, 1)):
        facts.time(month_start + dt.timedelta(days=4), 12, program="RPM", interactive=True)
    months = {line.month: line.code for line in facts.evaluate(dt.date(2025, 12, 1), dt.date(2026, 1, 31)).lines}
    assert months == {"2026-01": "99470"}


def test_the_99458_cap_rises_on_1_july_2023() -> None:
    rules = load_rules()
    june, july = rules.in_force(dt.date(2023, 6, 30)), rules.in_force(dt.date(2023, 7, 1))
    assert june is not None and july is not None
    assert june.codes["99458"].units_per_period == 2
    assert july.codes["99458"].units_per_period == 3
    assert rules.for_year(2023).codes["99458"].units_per_period == 2


def test_no_rules_are_loaded_for_2027_and_the_line_says_so() -> None:
    start = dt.date(2027, 1, 1)
    facts = FactsBuilder().patient().enroll("CCM", start).time(start, 30, program="CCM")
    result = facts.evaluate(start, dt.date(2027, 1, 31))
    assert result.lines == ()
    assert [item.reason for item in result.not_billed] == ["no_rules"]
    assert "2027" in result.not_billed[0].message


DATA = _data_dir()


def test_a_mid_year_change_is_seen_even_after_the_years_codes_were_looked_up() -> None:
    # The rule sets index their codes; the copy with a mid-year change must not keep the old index.
    from remotecare.rules.schema import Role

    rules = load_rules(DATA)  # a fresh book: nothing indexed or copied yet
    rules.for_year(2023).codes_of(Program.RPM, Role.ADD_ON)  # the base indexes its codes first
    before, after = rules.in_force(dt.date(2023, 6, 30)), rules.in_force(dt.date(2023, 7, 1))
    assert before is not None and after is not None
    caps = [
        {code: rule.units_per_period for code, rule in rule_set.add_ons_of("99457")} for rule_set in (before, after)
    ]
    assert caps == [{"99458": 2}, {"99458": 3}]
