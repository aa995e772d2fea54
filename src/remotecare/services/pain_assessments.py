"""Pain assessments (NRS, PEG-3, BPI short form) scored and stored as readings, and a patient's pain trend.

An assessment is stored as one observation of the scale's reading type (`pain_score`, `peg_score`,
`bpi_short_form`) with the scored values, so FHIR, exports and every reading view see it like any other.
Its provenance keeps the item answers exactly as given (skipped ones as null), who recorded it and how:

- keyed in by staff (`reported_by` "staff", the default): `manual` true, source "staff";
- reported by the patient in the monitoring app and passed on by staff (`reported_by` "patient_app"):
  `manual` false, source "patient_app" (RTM counts the app's patient-reported data as the app's data).

Neither names a device, so neither counts as a day of device data for RPM or RTM (cms-rules.md rule 2);
the assessment is the validated pain scale that CPM requires and the clinical record for RTM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.domain.pain_scales import PainScale, PainScore, PainTrend, ScaleError, score, trend
from remotecare.ingest.reading import IncomingReading
from remotecare.services.ingestion import CLOCK_SKEW, content_key
from remotecare.store.models import Observation, Patient

Reporter = Literal["staff", "patient_app"]
SOURCES: dict[str, str] = {"staff": "staff", "patient_app": "patient_app"}
EARLIEST_YEAR = 2000

# The value of each scale's stored reading that is its headline score (see PainScore.values()).
HEADLINE = {PainScale.NRS: "nrs", PainScale.PEG: "score", PainScale.BPI: "severity"}


class AssessmentRefused(ValueError):
    """An assessment that cannot be stored: `field` names the part at fault (`answers.pain`, `at`)."""

    status, code = 422, "invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class DuplicateAssessment(AssessmentRefused):
    status, code = 409, "duplicate"


@dataclass(frozen=True, slots=True)
class Recorded:
    observation: Observation
    scored: PainScore
    reported_by: Reporter
    note: str | None


def record_assessment(
    session: Session,
    patient: Patient,
    scale: PainScale | str,
    answers: Mapping[str, int | None],
    at: dt.datetime,
    *,
    reported_by: Reporter,
    recorded_by: dict[str, Any],
    note: str | None = None,
    now: dt.datetime,
) -> Recorded:
    """Score `answers` on `scale` and store the result as one observation of `patient` (flushed, not committed).

    Raises AssessmentRefused naming the field: an answer that cannot be scored, a time in the future or
    before 2000, or (DuplicateAssessment) the same answers for the same patient at the same instant.
    """
    if at.tzinfo is None:
        raise AssessmentRefused("at", "has no UTC offset, so its instant is unknown")
    if at.year < EARLIEST_YEAR:
        raise AssessmentRefused("at", f"is before {EARLIEST_YEAR}")
    if at > now + CLOCK_SKEW:
        raise AssessmentRefused("at", f"{at.isoformat()} is in the future")
    try:
        scored = score(scale, answers)
    except ScaleError as error:
        raise AssessmentRefused(error.field, error.message) from None
    values = scored.values()
    instant = at.astimezone(dt.UTC)
    # The key every other way in gives a reading, so a repeat is the same reading however it arrives.
    key = content_key(
        SOURCES[reported_by], IncomingReading(scored.scale.value, dict(values), instant, patient.id), patient.id, None
    )
    taken = session.scalar(
        select(func.count())
        .select_from(Observation)
        .where(Observation.practice_id == patient.practice_id, Observation.content_key == key)
    )
    if taken:
        raise DuplicateAssessment("at", f"this {scored.scale.value} assessment at {at.isoformat()} is already on file")
    provenance: dict[str, Any] = {
        "answers": dict(answers),
        "reported_by": reported_by,
        "recorded_by": recorded_by,
    }
    if note is not None:
        provenance["note"] = note
    if scored.interference_note is not None:
        provenance["interference_note"] = scored.interference_note
    observation = Observation(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        device_id=None,
        type=scored.scale.value,
        values=values,
        effective_at=instant,
        local_date=instant.astimezone(ZoneInfo(patient.timezone)).date(),
        manual=reported_by == "staff",
        source=SOURCES[reported_by],
        content_key=key,
        provenance=provenance,
    )
    session.add(observation)
    session.flush()
    return Recorded(observation, scored, reported_by, note)


@dataclass(frozen=True, slots=True)
class PainPoint:
    observation_id: int
    date: dt.date  # in the patient's zone
    at: dt.datetime
    score: float
    interference: float | None  # BPI only


@dataclass(frozen=True, slots=True)
class PainSeries:
    scale: PainScale
    start: dt.date
    end: dt.date
    points: list[PainPoint]  # those from `start`, oldest first
    trend: PainTrend | None  # None without a point from `start`
    baseline_days: int


def pain_series(
    session: Session,
    patient: Patient,
    scale: PainScale,
    *,
    days: int,
    baseline_days: int = 7,
    now: dt.datetime,
) -> PainSeries:
    """The patient's `scale` scores over the last `days` days (today included, in the patient's zone),
    and the latest against the mean of the `baseline_days` days before it. The baseline may reach back
    before the window: the latest score of a short window is still judged against its own week."""
    end = now.astimezone(ZoneInfo(patient.timezone)).date()
    start = end - dt.timedelta(days=days - 1)
    rows = session.execute(
        select(Observation.id, Observation.local_date, Observation.effective_at, Observation.values)
        .where(
            Observation.practice_id == patient.practice_id,
            Observation.patient_id == patient.id,
            Observation.local_date >= start - dt.timedelta(days=baseline_days),
            Observation.type == scale.value,
        )
        .order_by(Observation.effective_at, Observation.id)
    )
    every: list[PainPoint] = []
    for observation_id, local_date, at, values in rows:
        headline = _number(values.get(HEADLINE[scale]))
        if headline is None:
            continue
        interference = _number(values.get("interference")) if scale is PainScale.BPI else None
        every.append(PainPoint(observation_id, local_date, at, headline, interference))
    points = [point for point in every if point.date >= start]
    summary = trend([(point.date, point.score) for point in every], baseline_days=baseline_days) if points else None
    return PainSeries(scale, start, end, points, summary, baseline_days)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
