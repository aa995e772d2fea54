"""Scoring of patient-reported pain assessments, for Chronic Pain Management (CPM) and RTM.

Pure functions: the answers a patient gave in, a score (and the observation values to store) out.
The reading types are those of `remotecare.ingest.measures` (`pain_score`, `peg_score`,
`bpi_short_form`), so a scored assessment stores as an ordinary reading.

Scales and the rules taken from their sources:
  NRS     0-10 numeric rating scale; the score is the answer.
  PEG-3   Krebs et al. 2009 (J Gen Intern Med 24:733): the mean of three 0-10 items; all three needed.
  BPI-SF  Brief Pain Inventory short form (Cleeland's user guide): severity is the mean of items 3-6;
          interference the mean of items 9A-G, usable only when more than half (4 of 7) are answered.
Trends use the clinically meaningful change for pain NRS of Farrar et al. 2001 (Pain 94:149):
a change of 2 points or of 30%.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

LOW, HIGH = 0, 10


class PainScale(StrEnum):
    """A pain assessment; the value is the reading type it is stored as."""

    NRS = "pain_score"
    PEG = "peg_score"
    BPI = "bpi_short_form"


NRS_ITEMS = ("nrs",)
PEG_ITEMS = ("pain", "enjoyment", "activity")
BPI_SEVERITY = ("worst", "least", "average", "now")  # items 3-6
BPI_INTERFERENCE = (  # items 9A-G
    "general_activity",
    "mood",
    "walking_ability",
    "normal_work",
    "relations",
    "sleep",
    "enjoyment_of_life",
)
BPI_INTERFERENCE_MINIMUM = 4  # more than half of the seven, per the BPI user guide

_REQUIRED: dict[PainScale, tuple[str, ...]] = {
    PainScale.NRS: NRS_ITEMS,
    PainScale.PEG: PEG_ITEMS,
    PainScale.BPI: BPI_SEVERITY,
}
ITEMS: dict[PainScale, tuple[str, ...]] = {**_REQUIRED, PainScale.BPI: BPI_SEVERITY + BPI_INTERFERENCE}


class ScaleError(ValueError):
    """Answers that cannot be scored: `field` names the part at fault (`answers.pain`, `scale`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True, slots=True)
class PainScore:
    """A scored assessment. `score` is the headline: the NRS answer, the PEG mean, the BPI severity."""

    scale: PainScale
    items: dict[str, int]  # the items answered, in the scale's order
    score: float
    interference: float | None = None  # BPI only; None when too few interference items were answered
    interference_note: str | None = None  # why a BPI interference score is missing

    def values(self) -> dict[str, int | float]:
        """The observation values to store under the reading type `scale` (see `ingest.measures`)."""
        if self.scale is PainScale.NRS:
            return {"nrs": self.items["nrs"]}
        if self.scale is PainScale.PEG:
            return {"score": self.score, **self.items}
        interference = {} if self.interference is None else {"interference": self.interference}
        return {"severity": self.score, **interference, **self.items}


def score(scale: PainScale | str, answers: Mapping[str, object]) -> PainScore:
    """Score `answers` (item name -> integer 0-10) on `scale`, or raise `ScaleError` naming the field at fault.

    An item given as None counts as not answered: patient apps send skipped questions that way, and the
    BPI scores interference from whichever items were answered.
    """
    try:
        scale = PainScale(scale)
    except ValueError:
        raise ScaleError("scale", f"{scale!r} is not a pain scale (one of {', '.join(PainScale)})") from None
    items = _check(scale, answers)
    if scale is PainScale.NRS:
        return PainScore(scale, items, float(items["nrs"]))
    if scale is PainScale.PEG:
        return PainScore(scale, items, _mean(items.values()))
    severity = _mean(items[name] for name in BPI_SEVERITY)
    interference = [items[name] for name in BPI_INTERFERENCE if name in items]
    if len(interference) < BPI_INTERFERENCE_MINIMUM:
        note = (
            f"interference not scored: {len(interference)} of {len(BPI_INTERFERENCE)} items answered, "
            f"at least {BPI_INTERFERENCE_MINIMUM} needed"
        )
        return PainScore(scale, items, severity, None, note)
    return PainScore(scale, items, severity, _mean(interference))


def _check(scale: PainScale, answers: Mapping[str, object]) -> dict[str, int]:
    """The answered items as ints, in the scale's order; refused if unknown, not an integer 0-10, or missing."""
    allowed = ITEMS[scale]
    for name, value in answers.items():
        field = f"answers.{name}"
        if name not in allowed:
            raise ScaleError(field, f"is not an item of {scale} (one of {', '.join(allowed)})")
        if value is None:
            continue
        # bool is a subclass of int, but True is not an answer on a 0-10 scale.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScaleError(field, f"must be an integer from {LOW} to {HIGH}")
        if not LOW <= value <= HIGH:
            raise ScaleError(field, f"{value} is outside {LOW} to {HIGH}")
    items = {name: answer for name in allowed if isinstance(answer := answers.get(name), int)}
    for name in _REQUIRED[scale]:
        if name not in items:
            raise ScaleError(f"answers.{name}", f"is required for {scale}")
    return items


def _mean(values: Iterable[int]) -> float:
    """The mean to 2 decimals. The mean of up to 7 integers never falls on a tie at the third decimal,
    so round()'s half-to-even rule never comes into play."""
    numbers = list(values)
    return round(sum(numbers) / len(numbers), 2)


@dataclass(frozen=True, slots=True)
class PainTrend:
    """The latest score against the patient's recent baseline (None when no score fell in the baseline days)."""

    date: dt.date  # of the latest score
    latest: float
    baseline: float | None  # mean of the scores in the baseline days before `date`, to 2 decimals
    change: float | None  # latest - baseline, to 2 decimals
    meaningful: bool  # a change of at least 2 points or 30% of the baseline, either way (Farrar 2001)


def trend(points: Sequence[tuple[dt.date, float]], *, baseline_days: int = 7) -> PainTrend:
    """The latest of `points` (date, score) against the mean of those in the `baseline_days` days before its date.

    Points may come in any order. Several on the latest date: the last given is the latest, and the others
    count in neither. The 30% rule needs a baseline above 0 (any rise from 0 is "infinite" percent), so from
    a baseline of 0 only the 2-point rule applies. The rules are judged on the reported (rounded) numbers, in
    whole hundredths, so a change of exactly 2 or exactly 30% is not lost to float noise.
    """
    if not points:
        raise ValueError("no points: a trend needs at least one score")
    if baseline_days < 1:
        raise ValueError(f"baseline_days must be at least 1, not {baseline_days}")
    ordered = sorted(points, key=lambda point: point[0])  # stable: ties keep the order given
    date, latest = ordered[-1]
    start = date - dt.timedelta(days=baseline_days)
    window = [value for day, value in ordered if start <= day < date]
    if not window:
        return PainTrend(date, latest, None, None, False)
    baseline = round(sum(window) / len(window), 2)
    change = round(latest - baseline, 2)
    change_100, baseline_100 = abs(round(change * 100)), round(baseline * 100)
    meaningful = change_100 >= 200 or (baseline_100 > 0 and 10 * change_100 >= 3 * baseline_100)
    return PainTrend(date, latest, baseline, change, meaningful)
