"""One case on each side of every threshold, every year (Part A rules 7-14, 21).

The expected codes are written out here from ../shared/cms-rules.md, not read
from the rule files, so a wrong number in the data fails a test.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tests.builders import FactsBuilder, days_from

YEARS = range(2019, 2027)
LONG_YEARS = [year for year in YEARS if year < 2026]


def device_case(year: int, program: str, days: int, focus: str | None = None) -> Counter[str]:
    start = dt.date(year, 4, 1)
    facts = FactsBuilder().patient().enroll(program, start, focus=focus).device(program, start)
    facts.readings_on(days_from(start, days))
    result = facts.evaluate(start, start + dt.timedelta(days=29))
    return Counter({line.code: line.units for line in result.lines})


def minutes_case(
    year: int, program: str, minutes: int, *, performer: str = "clinical_staff", complex: bool = False
) -> Counter[str]:
    month = dt.date(year, 5, 1)
    facts = FactsBuilder().patient().enroll(program, month, complex=complex).visit(month)
    # Two entries so the threshold is reached by a sum; the first is the interactive contact.
    facts.time(month, 1, program=program, performer=performer, interactive=True)
    facts.time(month + dt.timedelta(days=10), minutes - 1, program=program, performer=performer)
    result = facts.evaluate(month, dt.date(year, 5, 31))
    return Counter({line.code: line.units for line in result.lines if line.month == f"{year}-05"})


@pytest.mark.parametrize("year", LONG_YEARS)
def test_rpm_device_supply_needs_16_days_before_2026(year: int) -> None:
    assert device_case(year, "RPM", 15) == Counter()
    assert device_case(year, "RPM", 16) == Counter({"99453": 1, "99454": 1})


def test_rpm_2026_device_tiers_at_2_and_16_days() -> None:
    assert device_case(2026, "RPM", 1) == Counter()
    assert device_case(2026, "RPM", 2) == Counter({"99453": 1, "99445": 1})
    assert device_case(2026, "RPM", 15) == Counter({"99453": 1, "99445": 1})
    assert device_case(2026, "RPM", 16) == Counter({"99453": 1, "99454": 1})
    assert device_case(2026, "RPM", 30) == Counter({"99453": 1, "99454": 1})


@pytest.mark.parametrize(("focus", "code"), [("respiratory", "98976"), ("musculoskeletal", "98977"), ("cbt", "98978")])
@pytest.mark.parametrize("year", [2022, 2023, 2024, 2025])
def test_rtm_device_supply_needs_16_days_before_2026(year: int, focus: str, code: str) -> None:
    if code == "98978" and year == 2022:
        assert device_case(year, "RTM", 16, focus) == Counter(), "98978 exists only from 2023"
        return
    assert device_case(year, "RTM", 15, focus) == Counter()
    assert device_case(year, "RTM", 16, focus) == Counter({"98975": 1, code: 1})


@pytest.mark.parametrize(
    ("focus", "long_code", "short_code"),
    [("respiratory", "98976", "98984"), ("musculoskeletal", "98977", "98985"), ("cbt", "98978", "98986")],
)
def test_rtm_2026_device_tiers(focus: str, long_code: str, short_code: str) -> None:
    assert device_case(2026, "RTM", 1, focus) == Counter()
    assert device_case(2026, "RTM", 2, focus) == Counter({"98975": 1, short_code: 1})
    assert device_case(2026, "RTM", 15, focus) == Counter({"98975": 1, short_code: 1})
    assert device_case(2026, "RTM", 16, focus) == Counter({"98975": 1, long_code: 1})


@pytest.mark.parametrize("year", [2019, 2020, 2021])
def test_no_rtm_codes_before_2022(year: int) -> None:
    assert device_case(year, "RTM", 20, "musculoskeletal") == Counter()


def test_the_last_day_of_a_30_day_period_belongs_to_it() -> None:
    start = dt.date(2025, 3, 3)
    last_day = start + dt.timedelta(days=29)
    for extra_day, expected in ((last_day, {"99453", "99454"}), (last_day + dt.timedelta(days=1), set())):
        facts = FactsBuilder().patient().enroll("RPM", start).device("RPM", start)
        facts.readings_on([*days_from(start, 15), extra_day])
        result = facts.evaluate(start, last_day)
        assert {line.code for line in result.lines} == expected
        if expected:
            assert all(line.service_date == last_day for line in result.lines)


RPM_MINUTES = {
    2019: [(19, {}), (20, {"99457": 1}), (60, {"99457": 1})],
    **{
        year: [
            (19, {}),
            (20, {"99457": 1}),
            (39, {"99457": 1}),
            (40, {"99457": 1, "99458": 1}),
            (59, {"99457": 1, "99458": 1}),
            (60, {"99457": 1, "99458": 2}),
        ]
        for year in range(2020, 2026)
    },
    2026: [
        (9, {}),
        (10, {"99470": 1}),
        (19, {"99470": 1}),
        (20, {"99457": 1}),
        (39, {"99457": 1}),
        (40, {"99457": 1, "99458": 1}),
    ],
}


@pytest.mark.parametrize(
    ("year", "minutes", "expected"),
    [(year, minutes, expected) for year, cases in RPM_MINUTES.items() for minutes, expected in cases],
)
def test_rpm_treatment_minutes(year: int, minutes: int, expected: dict[str, int]) -> None:
    assert minutes_case(year, "RPM", minutes) == Counter(expected)


@pytest.mark.parametrize(("year", "cap"), [(2020, 2), (2022, 2), (2024, 3), (2025, 3), (2026, 3)])
def test_99458_unit_cap(year: int, cap: int) -> None:
    assert minutes_case(year, "RPM", 20 + 20 * (cap + 2)) == Counter({"99457": 1, "99458": cap})


RTM_MINUTES = {
    **{
        year: [
            (19, {}),
            (20, {"98980": 1}),
            (39, {"98980": 1}),
            (40, {"98980": 1, "98981": 1}),
            (60, {"98980": 1, "98981": 2}),
            (100, {"98980": 1, "98981": 2}),
        ]
        for year in range(2022, 2026)
    },
    2026: [(9, {}), (10, {"98979": 1}), (19, {"98979": 1}), (20, {"98980": 1}), (40, {"98980": 1, "98981": 1})],
}


@pytest.mark.parametrize(
    ("year", "minutes", "expected"),
    [(year, minutes, expected) for year, cases in RTM_MINUTES.items() for minutes, expected in cases],
)
def test_rtm_treatment_minutes(year: int, minutes: int, expected: dict[str, int]) -> None:
    assert minutes_case(year, "RTM", minutes) == Counter(expected)


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026])
@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (29, {}),
        (30, {"G3002": 1}),
        (44, {"G3002": 1}),
        (45, {"G3002": 1, "G3003": 1}),
        (59, {"G3002": 1, "G3003": 1}),
        (60, {"G3002": 1, "G3003": 2}),
        (120, {"G3002": 1, "G3003": 6}),
    ],
)
def test_cpm_physician_minutes(year: int, minutes: int, expected: dict[str, int]) -> None:
    assert minutes_case(year, "CPM", minutes, performer="physician") == Counter(expected)


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2022])
def test_no_cpm_before_2023(year: int) -> None:
    assert minutes_case(year, "CPM", 60, performer="physician") == Counter()


CCM_ADD_ON = {2019: None, 2020: "G2058", **dict.fromkeys(range(2021, 2027), "99439")}


@pytest.mark.parametrize("year", YEARS)
def test_ccm_clinical_staff_minutes(year: int) -> None:
    add_on = CCM_ADD_ON[year]
    assert minutes_case(year, "CCM", 19) == Counter()
    assert minutes_case(year, "CCM", 20) == Counter({"99490": 1})
    assert minutes_case(year, "CCM", 39) == Counter({"99490": 1})
    with_add_on = Counter({"99490": 1, **({add_on: 1} if add_on else {})})
    assert minutes_case(year, "CCM", 40) == with_add_on
    capped = Counter({"99490": 1, **({add_on: 2} if add_on else {})})
    assert minutes_case(year, "CCM", 100) == capped


@pytest.mark.parametrize("year", YEARS)
def test_ccm_physician_minutes(year: int) -> None:
    # Under 30 physician minutes, they count as clinical-staff time toward 99490 (rule 12).
    assert minutes_case(year, "CCM", 29, performer="physician") == Counter({"99490": 1})
    assert minutes_case(year, "CCM", 30, performer="physician") == Counter({"99491": 1})
    sixty = Counter({"99491": 1, **({"99437": 1} if year >= 2022 else {})})
    assert minutes_case(year, "CCM", 59, performer="physician") == Counter({"99491": 1})
    assert minutes_case(year, "CCM", 60, performer="physician") == sixty


def _ccm_add_on(year: int, units: int) -> dict[str, int]:
    add_on = CCM_ADD_ON[year]
    return {add_on: units} if add_on else {}


@pytest.mark.parametrize("year", YEARS)
def test_complex_ccm_minutes(year: int) -> None:
    assert minutes_case(year, "CCM", 59, complex=True) == Counter({"99490": 1, **_ccm_add_on(year, 1)})
    assert minutes_case(year, "CCM", 60, complex=True) == Counter({"99487": 1})
    assert minutes_case(year, "CCM", 89, complex=True) == Counter({"99487": 1})
    assert minutes_case(year, "CCM", 90, complex=True) == Counter({"99487": 1, "99489": 1})
    assert minutes_case(year, "CCM", 150, complex=True) == Counter({"99487": 1, "99489": 3})


@pytest.mark.parametrize("year", [2020, 2021])
def test_pcm_g_codes_in_2020_and_2021(year: int) -> None:
    assert minutes_case(year, "PCM", 29, performer="physician") == Counter()
    assert minutes_case(year, "PCM", 30, performer="physician") == Counter({"G2064": 1})
    assert minutes_case(year, "PCM", 29) == Counter()
    assert minutes_case(year, "PCM", 30) == Counter({"G2065": 1})
    assert minutes_case(year, "PCM", 90) == Counter({"G2065": 1})


@pytest.mark.parametrize("year", [2022, 2023, 2024, 2025, 2026])
def test_pcm_cpt_codes_from_2022(year: int) -> None:
    assert minutes_case(year, "PCM", 29, performer="physician") == Counter()
    assert minutes_case(year, "PCM", 30, performer="physician") == Counter({"99424": 1})
    assert minutes_case(year, "PCM", 59, performer="physician") == Counter({"99424": 1})
    assert minutes_case(year, "PCM", 60, performer="physician") == Counter({"99424": 1, "99425": 1})
    assert minutes_case(year, "PCM", 29) == Counter()
    assert minutes_case(year, "PCM", 30) == Counter({"99426": 1})
    assert minutes_case(year, "PCM", 60) == Counter({"99426": 1, "99427": 1})


def test_no_pcm_in_2019() -> None:
    assert minutes_case(2019, "PCM", 60) == Counter()


@pytest.mark.parametrize("year", YEARS)
def test_bhi_minutes(year: int) -> None:
    assert minutes_case(year, "BHI", 19) == Counter()
    assert minutes_case(year, "BHI", 20) == Counter({"99484": 1})
    assert minutes_case(year, "BHI", 60) == Counter({"99484": 1})
