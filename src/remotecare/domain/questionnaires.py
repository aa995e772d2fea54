"""Scoring of the behavioral health questionnaires a check-in asks: PHQ-2, PHQ-9, GAD-2, GAD-7.

Pure functions: answers in, a score out; no database, no clock.

Sources (the instruments are free to use, no permission needed; the wording below is the published one):
  PHQ-9   Kroenke, Spitzer, Williams 2001 (J Gen Intern Med 16:606): nine items 0-3, total 0-27; severity
          0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe. Item 9 (thoughts of
          being better off dead or of self-harm) above 0 is a safety flag, whatever the total. "Positive"
          here means a total of 10 or more, the usual cut point for major depression.
  PHQ-2   Kroenke, Spitzer, Williams 2003 (Med Care 41:1284): PHQ-9 items 1-2, total 0-6, positive at 3+.
  GAD-7   Spitzer, Kroenke, Williams, Lowe 2006 (Arch Intern Med 166:1092): seven items 0-3, total 0-21;
          0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe. Positive at 10 or more.
  GAD-2   Kroenke et al. 2007 (Ann Intern Med 146:317): GAD-7 items 1-2, total 0-6, positive at 3+.
A positive PHQ-2 is followed by the PHQ-9, a positive GAD-2 by the GAD-7 (`needs_follow_up`).

Crisis text: `crisis_text` matches a short list of phrases (CRISIS_PATTERNS), case-insensitive, on word
boundaries. It errs toward alerting: "I don't want to die" matches too, and a person reads every alert.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ANSWER_LABELS",
    "CRISIS_PATTERNS",
    "CRISIS_RESOURCES",
    "ITEMS",
    "STEMS",
    "Instrument",
    "QuestionnaireError",
    "QuestionnaireScore",
    "crisis_text",
    "needs_follow_up",
    "score",
]

CRISIS_RESOURCES = (
    "If you are thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline) now, "
    "or call 911 if you are in danger."
)


class Instrument(StrEnum):
    """A questionnaire; the value is the prefix of its question keys and the reading type it is stored as."""

    PHQ2 = "phq2"
    PHQ9 = "phq9"
    GAD2 = "gad2"
    GAD7 = "gad7"


LOW, HIGH = 0, 3
ANSWER_LABELS: tuple[str, ...] = ("Not at all", "Several days", "More than half the days", "Nearly every day")

_PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety "
    "or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
_GAD7_ITEMS = (
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)
_PHQ_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
_GAD_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"

# Item key ("item1" ...) -> published wording, in order.
ITEMS: dict[Instrument, dict[str, str]] = {
    Instrument.PHQ9: {f"item{n}": text for n, text in enumerate(_PHQ9_ITEMS, start=1)},
    Instrument.PHQ2: {f"item{n}": text for n, text in enumerate(_PHQ9_ITEMS[:2], start=1)},
    Instrument.GAD7: {f"item{n}": text for n, text in enumerate(_GAD7_ITEMS, start=1)},
    Instrument.GAD2: {f"item{n}": text for n, text in enumerate(_GAD7_ITEMS[:2], start=1)},
}
STEMS: dict[Instrument, str] = {
    Instrument.PHQ2: _PHQ_STEM,
    Instrument.PHQ9: _PHQ_STEM,
    Instrument.GAD2: _GAD_STEM,
    Instrument.GAD7: _GAD_STEM,
}

# (lowest total of the band, band name), ascending.
_BANDS: dict[Instrument, tuple[tuple[int, str], ...]] = {
    Instrument.PHQ9: ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")),
    Instrument.GAD7: ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
    Instrument.PHQ2: ((0, "negative"), (3, "positive")),
    Instrument.GAD2: ((0, "negative"), (3, "positive")),
}
POSITIVE_AT: dict[Instrument, int] = {Instrument.PHQ2: 3, Instrument.GAD2: 3, Instrument.PHQ9: 10, Instrument.GAD7: 10}
FOLLOW_UP: dict[Instrument, Instrument] = {Instrument.PHQ2: Instrument.PHQ9, Instrument.GAD2: Instrument.GAD7}
SAFETY_ITEM = "item9"  # of the PHQ-9


class QuestionnaireError(ValueError):
    """Answers that cannot be scored: `field` names the item at fault (`phq9.item9`) or `instrument`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True, slots=True)
class QuestionnaireScore:
    instrument: Instrument
    items: dict[str, int]  # "item1" ... in order
    total: int
    severity: str  # the band; "positive" / "negative" for the 2-item screens
    positive: bool
    safety_flag: bool  # PHQ-9 item 9 above 0

    def values(self) -> dict[str, object]:
        """The observation values to store: the items, the total, the band and the flags."""
        return {
            **self.items,
            "total": self.total,
            "severity": self.severity,
            "positive": self.positive,
            "safety_flag": self.safety_flag,
        }


def score(instrument: Instrument | str, answers: Mapping[str, int]) -> QuestionnaireScore:
    """Score `answers` (item key -> 0-3; keys "item1" or "phq9.item1") or raise QuestionnaireError naming the item.

    Every item is required: the published scoring has no rule for a missing item."""
    try:
        instrument = Instrument(instrument)
    except ValueError:
        raise QuestionnaireError("instrument", f"{instrument!r} is not one of {', '.join(Instrument)}") from None
    items = _check(instrument, answers)
    total = sum(items.values())
    severity = next(name for low, name in reversed(_BANDS[instrument]) if total >= low)
    safety = instrument is Instrument.PHQ9 and items[SAFETY_ITEM] > 0
    return QuestionnaireScore(instrument, items, total, severity, total >= POSITIVE_AT[instrument], safety)


def _check(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, int]:
    prefix = f"{instrument}."
    given = {key.removeprefix(prefix): value for key, value in answers.items()}
    allowed = ITEMS[instrument]
    for key, value in given.items():
        field = f"{instrument}.{key}"
        if key not in allowed:
            raise QuestionnaireError(field, f"is not an item of {instrument.name} (item1 to item{len(allowed)})")
        # bool is a subclass of int, but True is not an answer on a 0-3 scale.
        if isinstance(value, bool) or not isinstance(value, int):
            raise QuestionnaireError(field, f"must be an integer from {LOW} to {HIGH}")
        if not LOW <= value <= HIGH:
            raise QuestionnaireError(field, f"{value} is outside {LOW} to {HIGH}")
    for key in allowed:
        if key not in given:
            raise QuestionnaireError(f"{instrument}.{key}", f"is required for {instrument.name}")
    return {key: int(given[key]) for key in allowed}  # type: ignore[call-overload]


def needs_follow_up(instrument: Instrument | str, result: QuestionnaireScore) -> Instrument | None:
    """The full questionnaire a positive screen calls for: PHQ-2 -> PHQ-9, GAD-2 -> GAD-7; else None."""
    follow_up = FOLLOW_UP.get(Instrument(instrument))
    return follow_up if follow_up is not None and result.positive else None


# Phrases that call for a person at once. Spaces match any run of spaces or hyphens ("self-harm").
CRISIS_PATTERNS: tuple[str, ...] = (
    "kill myself",
    "killing myself",
    "suicide",
    "suicidal",
    "end my life",
    "ending my life",
    "end it all",
    "take my own life",
    "want to die",
    "wanna die",
    "better off dead",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "self harm",
    "no reason to live",
)
_CRISIS = re.compile(
    r"\b(?:" + "|".join(r"[\s\-]+".join(map(re.escape, p.split())) for p in CRISIS_PATTERNS) + r")\b",
    re.IGNORECASE,
)


def crisis_text(text: str) -> bool:
    """Whether `text` contains one of CRISIS_PATTERNS (case-insensitive, on word boundaries)."""
    return bool(text) and _CRISIS.search(text) is not None
