"""Pain scales: NRS, PEG-3 and BPI short form scored by hand, refusals naming their field, and pain trends."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remotecare.domain.pain_scales import (
    BPI_INTERFERENCE,
    BPI_SEVERITY,
    PEG_ITEMS,
    PainScale,
    PainScore,
    PainTrend,
    ScaleError,
    score,
    trend,
)
from remotecare.ingest.measures import check_values

SEVERITY = {"worst": 8, "least": 3, "average": 5, "now": 6}  # (8 + 3 + 5 + 6) / 4 = 5.5
DAY = dt.date(2024, 5, 15)


def days_ago(n: int) -> dt.date:
    return DAY - dt.timedelta(days=n)


# --- scoring -----------------------------------------------------------------------------------------


def test_nrs_scores_the_answer() -> None:
    result = score(PainScale.NRS, {"nrs": 6})
    assert result == PainScore(PainScale.NRS, {"nrs": 6}, 6.0)
    assert result.values() == {"nrs": 6}


@pytest.mark.parametrize(
    ("pain", "enjoyment", "activity", "expected"),
    [
        (7, 5, 6, 6.0),  # 18 / 3 = 6
        (7, 5, 5, 5.67),  # 17 / 3 = 5.666... -> 5.67
        (1, 1, 0, 0.67),  # 2 / 3 = 0.666... -> 0.67
        (4, 3, 3, 3.33),  # 10 / 3 = 3.333... -> 3.33
        (10, 10, 9, 9.67),  # 29 / 3 = 9.666... -> 9.67
        (0, 0, 0, 0.0),
        (10, 10, 10, 10.0),
    ],
)
def test_peg_scores_the_mean_to_two_decimals(pain: int, enjoyment: int, activity: int, expected: float) -> None:
    result = score(PainScale.PEG, {"pain": pain, "enjoyment": enjoyment, "activity": activity})
    assert result.score == expected
    assert result.interference is None
    assert result.values() == {"score": expected, "pain": pain, "enjoyment": enjoyment, "activity": activity}


def test_a_scale_may_be_named_by_its_reading_type() -> None:
    assert score("peg_score", {"activity": 5, "pain": 7, "enjoyment": 5}).scale is PainScale.PEG


def test_bpi_scores_severity_and_interference() -> None:
    interference = dict(zip(BPI_INTERFERENCE, (4, 5, 3, 5, 6, 2, 7), strict=True))  # 32 / 7 = 4.571... -> 4.57
    result = score(PainScale.BPI, {**SEVERITY, **interference})
    assert (result.score, result.interference, result.interference_note) == (5.5, 4.57, None)
    assert result.values() == {"severity": 5.5, "interference": 4.57, **SEVERITY, **interference}


def test_bpi_interference_is_scored_from_four_answered_items() -> None:
    answered = {"mood": 4, "sleep": 5, "walking_ability": 3, "relations": 5}  # 17 / 4 = 4.25
    skipped = {"general_activity": None, "normal_work": None}  # as a patient app sends a skipped question
    result = score(PainScale.BPI, {**SEVERITY, **answered, **skipped})
    assert (result.score, result.interference, result.interference_note) == (5.5, 4.25, None)
    assert result.items == {**SEVERITY, "mood": 4, "walking_ability": 3, "relations": 5, "sleep": 5}
    assert result.values() == {"severity": 5.5, "interference": 4.25, **result.items}


def test_bpi_interference_is_not_scored_from_three() -> None:
    result = score(PainScale.BPI, {**SEVERITY, "mood": 4, "sleep": 5, "walking_ability": 3})
    assert (result.score, result.interference) == (5.5, None)
    assert result.interference_note == "interference not scored: 3 of 7 items answered, at least 4 needed"
    assert result.values() == {"severity": 5.5, **SEVERITY, "mood": 4, "walking_ability": 3, "sleep": 5}


def test_bpi_severity_rounds_to_two_decimals() -> None:
    # (1 + 0 + 0 + 0) / 4 = 0.25; (9 + 2 + 5 + 7) / 4 = 5.75: quarters are already two decimals
    assert score(PainScale.BPI, {"worst": 1, "least": 0, "average": 0, "now": 0}).score == 0.25
    assert score(PainScale.BPI, {"worst": 9, "least": 2, "average": 5, "now": 7}).score == 5.75
    # interference (1 + 1 + 1 + 1 + 1 + 0) / 6 = 0.8333... -> 0.83
    interference = dict(zip(BPI_INTERFERENCE, (1, 1, 1, 1, 1, 0), strict=False))
    assert score(PainScale.BPI, {**SEVERITY, **interference}).interference == 0.83


# --- refusals ----------------------------------------------------------------------------------------

PEG = {"pain": 7, "enjoyment": 5, "activity": 5}


@pytest.mark.parametrize(
    ("scale", "answers", "field", "message"),
    [
        ("pain", PEG, "scale", "'pain' is not a pain scale (one of pain_score, peg_score, bpi_short_form)"),
        (PainScale.NRS, {}, "answers.nrs", "is required for pain_score"),
        (PainScale.NRS, {"nrs": None}, "answers.nrs", "is required for pain_score"),
        (PainScale.PEG, {"pain": 7, "activity": 5}, "answers.enjoyment", "is required for peg_score"),
        (PainScale.BPI, {"worst": 8, "least": 3, "average": 5}, "answers.now", "is required for bpi_short_form"),
        (
            PainScale.PEG,
            {**PEG, "mood": 3},
            "answers.mood",
            "is not an item of peg_score (one of pain, enjoyment, activity)",
        ),
        (PainScale.NRS, {"pain": 3}, "answers.pain", "is not an item of pain_score (one of nrs)"),
        (PainScale.NRS, {"nrs": 6.5}, "answers.nrs", "must be an integer from 0 to 10"),
        (PainScale.NRS, {"nrs": 6.0}, "answers.nrs", "must be an integer from 0 to 10"),
        (PainScale.PEG, {**PEG, "pain": "7"}, "answers.pain", "must be an integer from 0 to 10"),
        (PainScale.PEG, {**PEG, "activity": True}, "answers.activity", "must be an integer from 0 to 10"),
        (PainScale.NRS, {"nrs": False}, "answers.nrs", "must be an integer from 0 to 10"),
        (PainScale.NRS, {"nrs": 11}, "answers.nrs", "11 is outside 0 to 10"),
        (PainScale.PEG, {**PEG, "enjoyment": -1}, "answers.enjoyment", "-1 is outside 0 to 10"),
        (PainScale.BPI, {**SEVERITY, "sleep": 12}, "answers.sleep", "12 is outside 0 to 10"),
    ],
)
def test_answers_that_cannot_be_scored_are_refused_naming_the_field(
    scale: Any, answers: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ScaleError) as raised:
        score(scale, answers)
    assert (raised.value.field, raised.value.message) == (field, message)
    assert str(raised.value) == f"{field}: {message}"
    assert isinstance(raised.value, ValueError)


# --- the values stored --------------------------------------------------------------------------------


def test_the_values_are_accepted_as_readings_of_their_type() -> None:
    three_interference = {"mood": 4, "sleep": 5, "walking_ability": 3}
    for result in (
        score(PainScale.NRS, {"nrs": 0}),
        score(PainScale.PEG, PEG),
        score(PainScale.BPI, {**SEVERITY, **dict.fromkeys(BPI_INTERFERENCE, 10)}),
        score(PainScale.BPI, {**SEVERITY, **three_interference}),
    ):
        assert check_values(result.scale, result.values()) == result.values()


answer = st.integers(0, 10)


@given(st.fixed_dictionaries(dict.fromkeys(PEG_ITEMS, answer)))
def test_peg_score_lies_between_its_items(answers: dict[str, int]) -> None:
    assert min(answers.values()) <= score(PainScale.PEG, answers).score <= max(answers.values())


@given(
    st.fixed_dictionaries(
        dict.fromkeys(BPI_SEVERITY, answer), optional=dict.fromkeys(BPI_INTERFERENCE, st.none() | answer)
    )
)
def test_bpi_scores_lie_between_their_items_and_store_as_readings(answers: dict[str, int | None]) -> None:
    result = score(PainScale.BPI, answers)
    severity = [value for name in BPI_SEVERITY if (value := answers[name]) is not None]
    assert min(severity) <= result.score <= max(severity)
    interference = [value for name in BPI_INTERFERENCE if (value := answers.get(name)) is not None]
    if len(interference) >= 4:
        assert result.interference is not None
        assert min(interference) <= result.interference <= max(interference)
    else:
        assert (result.interference, result.interference_note is not None) == (None, True)
    assert check_values(PainScale.BPI, result.values()) == result.values()


# --- trends ------------------------------------------------------------------------------------------


def test_the_baseline_is_the_mean_of_the_days_before_the_latest() -> None:
    points = [
        (days_ago(8), 10.0),  # before the 7 days: not counted
        (days_ago(7), 5.0),
        (days_ago(3), 6.0),
        (days_ago(1), 4.0),  # baseline (5 + 6 + 4) / 3 = 5
        (DAY, 9.0),  # the same day as the latest: not counted
        (DAY, 6.0),  # latest
    ]
    assert trend(points) == PainTrend(DAY, 6.0, 5.0, 1.0, False)


def test_points_may_come_unsorted() -> None:
    points = [(days_ago(n), float(n)) for n in range(7)]  # latest 0 on DAY; baseline (1 + ... + 6) / 6 = 3.5
    random.Random(7).shuffle(points)
    assert trend(points) == PainTrend(DAY, 0.0, 3.5, -3.5, True)


def test_the_baseline_days_can_be_chosen() -> None:
    points = [(days_ago(4), 9.0), (days_ago(3), 4.0), (days_ago(1), 5.0), (DAY, 6.0)]  # (4 + 5) / 2 = 4.5
    assert trend(points, baseline_days=3) == PainTrend(DAY, 6.0, 4.5, 1.5, True)  # 1.5 >= 30% of 4.5


def test_the_baseline_mean_is_rounded_to_two_decimals() -> None:
    points = [(days_ago(3), 6.0), (days_ago(2), 7.0), (days_ago(1), 7.0), (DAY, 8.0)]  # 20 / 3 = 6.666... -> 6.67
    assert trend(points) == PainTrend(DAY, 8.0, 6.67, 1.33, False)  # 1.33 < 2 and < 30% of 6.67 = 2.001


@pytest.mark.parametrize(
    "points",
    [
        [(DAY, 7.0)],
        [(days_ago(8), 3.0), (DAY, 7.0)],
        [(DAY, 3.0), (DAY, 7.0)],
    ],
)
def test_without_a_baseline_there_is_no_change(points: list[tuple[dt.date, float]]) -> None:
    assert trend(points) == PainTrend(DAY, 7.0, None, None, False)


@pytest.mark.parametrize(
    ("baseline", "latest", "change", "meaningful"),
    [
        # the 2-point rule, where 30% of the baseline is more than 2
        (8.0, 10.0, 2.0, True),  # exactly 2; 30% of 8 = 2.4
        (8.0, 9.99, 1.99, False),
        (9.0, 7.0, -2.0, True),  # exactly 2 down; 30% of 9 = 2.7
        (9.0, 7.01, -1.99, False),
        (5.1, 7.1, 2.0, True),  # 7.1 - 5.1 is 1.9999999999999996 in floats
        # the 30% rule, where 30% of the baseline is less than 2
        (5.0, 6.5, 1.5, True),  # exactly 30% of 5
        (5.0, 6.49, 1.49, False),
        (5.0, 3.5, -1.5, True),  # exactly 30% down
        (5.0, 3.51, -1.49, False),
        (3.0, 3.9, 0.9, True),  # 30% of 3 is 0.8999999999999999 in floats
        (0.1, 0.13, 0.03, True),  # 30% of 0.1 is 0.030000000000000002 in floats
        # from a baseline of 0 only the 2-point rule applies
        (0.0, 1.99, 1.99, False),
        (0.0, 2.0, 2.0, True),
        (0.0, 0.0, 0.0, False),
    ],
)
def test_a_meaningful_change_is_2_points_or_30_percent(
    baseline: float, latest: float, change: float, meaningful: bool
) -> None:
    result = trend([(DAY, latest), (days_ago(2), baseline)])
    assert (result.baseline, result.change, result.meaningful) == (baseline, change, meaningful)


def test_a_trend_needs_a_point() -> None:
    with pytest.raises(ValueError, match="no points"):
        trend([])
