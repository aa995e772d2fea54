"""PHQ-2/9 and GAD-2/7 scored against hand-computed totals at every band boundary; crisis text."""

from __future__ import annotations

import pytest

from remotecare.domain.questionnaires import (
    CRISIS_RESOURCES,
    ITEMS,
    Instrument,
    QuestionnaireError,
    crisis_text,
    needs_follow_up,
    score,
)


def answers(instrument: Instrument, total: int, *, item9: int = 0) -> dict[str, int]:
    """Items filled from item1 on, 3 each, until they add up to `total` (PHQ-9 item 9 set apart)."""
    keys = [key for key in ITEMS[instrument] if not (instrument is Instrument.PHQ9 and key == "item9")]
    left, given = total - item9, {}
    for key in keys:
        given[key] = min(3, left)
        left -= given[key]
    assert left == 0, "total too large for the items"
    if instrument is Instrument.PHQ9:
        given["item9"] = item9
    return given


@pytest.mark.parametrize(
    ("total", "severity"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate")]
    + [(15, "moderately severe"), (19, "moderately severe"), (20, "severe"), (24, "severe")],
)
def test_phq9_bands_at_every_boundary(total: int, severity: str) -> None:
    result = score(Instrument.PHQ9, answers(Instrument.PHQ9, total))
    assert (result.total, result.severity, result.positive) == (total, severity, total >= 10)
    assert not result.safety_flag


def test_phq9_all_threes_is_27_severe_with_the_safety_flag() -> None:
    result = score("phq9", dict.fromkeys(ITEMS[Instrument.PHQ9], 3))
    assert (result.total, result.severity, result.safety_flag) == (27, "severe", True)


def test_a_hand_scored_phq9() -> None:
    # 1+2+0+3+1+0+2+1+0 = 10: moderate, positive, item 9 zero.
    given = dict(zip(ITEMS[Instrument.PHQ9], [1, 2, 0, 3, 1, 0, 2, 1, 0], strict=True))
    result = score(Instrument.PHQ9, given)
    assert (result.total, result.severity, result.positive, result.safety_flag) == (10, "moderate", True, False)


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_zero_is_a_safety_flag_whatever_the_total(item9: int) -> None:
    result = score(Instrument.PHQ9, answers(Instrument.PHQ9, item9, item9=item9))
    assert result.total == item9 and result.severity == "minimal" and result.safety_flag


@pytest.mark.parametrize(
    ("total", "severity"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate")]
    + [(15, "severe"), (21, "severe")],
)
def test_gad7_bands_at_every_boundary(total: int, severity: str) -> None:
    result = score(Instrument.GAD7, answers(Instrument.GAD7, total))
    assert (result.total, result.severity, result.positive, result.safety_flag) == (total, severity, total >= 10, False)


@pytest.mark.parametrize("instrument", [Instrument.PHQ2, Instrument.GAD2])
@pytest.mark.parametrize(
    ("first", "second", "positive"),
    [(0, 0, False), (1, 1, False), (2, 0, False), (2, 1, True), (0, 3, True), (3, 3, True)],
)
def test_two_item_screens_are_positive_at_3(instrument: Instrument, first: int, second: int, positive: bool) -> None:
    result = score(instrument, {"item1": first, "item2": second})
    assert result.total == first + second
    assert result.positive is positive and result.severity == ("positive" if positive else "negative")
    follow = needs_follow_up(instrument, result)
    assert follow == (
        {Instrument.PHQ2: Instrument.PHQ9, Instrument.GAD2: Instrument.GAD7}[instrument] if positive else None
    )


def test_full_questionnaires_need_no_follow_up() -> None:
    assert needs_follow_up(Instrument.PHQ9, score(Instrument.PHQ9, answers(Instrument.PHQ9, 27, item9=3))) is None


def test_keys_may_carry_the_instrument_prefix() -> None:
    assert score(Instrument.GAD2, {"gad2.item1": 2, "gad2.item2": 2}).total == 4


@pytest.mark.parametrize(
    ("instrument", "given", "field"),
    [
        (Instrument.PHQ9, {**answers(Instrument.PHQ9, 0), "item9": 4}, "phq9.item9"),
        (Instrument.PHQ9, {**answers(Instrument.PHQ9, 0), "item9": -1}, "phq9.item9"),
        (Instrument.PHQ9, {k: v for k, v in answers(Instrument.PHQ9, 0).items() if k != "item9"}, "phq9.item9"),
        (Instrument.GAD7, {**answers(Instrument.GAD7, 0), "item3": True}, "gad7.item3"),
        (Instrument.GAD7, {**answers(Instrument.GAD7, 0), "item3": "2"}, "gad7.item3"),
        (Instrument.GAD2, {"item1": 1, "item2": 1, "item3": 1}, "gad2.item3"),
        (Instrument.PHQ2, {"item1": 1}, "phq2.item2"),
        (Instrument.PHQ2, {"item1": 1.5, "item2": 1}, "phq2.item1"),
    ],
)
def test_bad_answers_name_the_item(instrument: Instrument, given: dict[str, object], field: str) -> None:
    with pytest.raises(QuestionnaireError) as raised:
        score(instrument, given)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_an_unknown_instrument_is_refused() -> None:
    with pytest.raises(QuestionnaireError) as raised:
        score("phq3", {})
    assert raised.value.field == "instrument"


def test_the_published_wording_is_used() -> None:
    assert (
        ITEMS[Instrument.PHQ9]["item9"]
        == "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert ITEMS[Instrument.GAD7]["item1"] == "Feeling nervous, anxious or on edge"
    assert ITEMS[Instrument.PHQ2] == {k: ITEMS[Instrument.PHQ9][k] for k in ("item1", "item2")}


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "KILL MYSELF",
        "thinking about suicide",
        "I feel suicidal tonight",
        "I just want to end my life.",
        "sometimes I want to die",
        "I might hurt myself",
        "self-harm again",
        "self harm",
        "Self  Harm",
        "I'd be better off dead",
        "I don't want to die",  # errs toward alerting: a person reads it
    ],
)
def test_crisis_text_matches(text: str) -> None:
    assert crisis_text(text)


@pytest.mark.parametrize(
    "text",
    ["", "7", "pain 7/10", "I killed it at physio today", "my knee hurts", "selfish harmony", "suicides" + "x", "diet"],
)
def test_crisis_text_does_not_match_ordinary_replies(text: str) -> None:
    assert not crisis_text(text)


def test_the_crisis_resources_name_988_and_911() -> None:
    assert "988" in CRISIS_RESOURCES and "911" in CRISIS_RESOURCES
