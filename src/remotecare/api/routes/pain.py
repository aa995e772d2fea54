"""Pain assessments for CPM and RTM: scored on a validated scale, stored as readings, and trended.

See `remotecare.services.pain_assessments` for how an assessment is stored (manual or patient-reported).
"""

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, Field, StrictInt

from remotecare.api import audit
from remotecare.api.crud import path_patient
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import Input, Note, Output
from remotecare.domain.pain_scales import PainScale
from remotecare.services import pain_assessments
from remotecare.store.base import utc_now
from remotecare.store.models import Patient

router = APIRouter(tags=["pain"])
writer = require("care:write")
reader = require("care:read")

ItemName = Annotated[str, Field(min_length=1, max_length=40)]
Answer = Annotated[StrictInt, Field(ge=0, le=10)]


class PainAssessmentCreate(Input):
    scale: PainScale = Field(description="pain_score (0-10 NRS), peg_score (PEG-3) or bpi_short_form (BPI-SF).")
    answers: dict[ItemName, Answer | None] = Field(
        min_length=1,
        max_length=11,
        description="Item -> answer 0-10 (null: skipped). NRS: nrs. PEG-3: pain, enjoyment, activity. "
        "BPI-SF: worst, least, average, now (required) and the interference items general_activity, mood, "
        "walking_ability, normal_work, relations, sleep, enjoyment_of_life (scored when 4 or more are answered).",
    )
    at: AwareDatetime = Field(description="When the patient answered; not in the future.")
    note: Note | None = None
    reported_by: Literal["staff", "patient_app"] = Field(
        default="staff",
        description="staff: keyed in by the care team (stored as manual). patient_app: answered by the patient "
        "in the monitoring app (stored as the app's data, not manual).",
    )


class PainAssessmentPublic(Output):
    id: int = Field(description="The observation the assessment is stored as.")
    patient_id: int
    scale: PainScale
    at: dt.datetime
    local_date: dt.date
    score: float = Field(description="NRS: the answer. PEG-3: the mean of its items. BPI-SF: severity.")
    interference: float | None = Field(description="BPI-SF only; null when too few items were answered.")
    interference_note: str | None
    items: dict[str, int]
    values: dict[str, int | float]
    reported_by: Literal["staff", "patient_app"]
    manual: bool
    source: str
    note: str | None


class PainTrendQuery(Input):
    scale: PainScale = PainScale.NRS
    days: int = Field(default=90, ge=1, le=3650, description="The last so many days, today included.")
    baseline_days: int = Field(default=7, ge=1, le=365, description="Days before the latest score it is judged by.")


class PainPointPublic(Output):
    observation_id: int
    date: dt.date
    at: dt.datetime
    score: float
    interference: float | None


class PainTrendPublic(Output):
    date: dt.date = Field(description="Of the latest score.")
    latest: float
    baseline: float | None = Field(description="Mean of the scores in the baseline days before the latest.")
    change: float | None = Field(description="latest - baseline.")
    meaningful: bool = Field(description="A change of at least 2 points or 30% either way (Farrar et al. 2001).")


class PainSeriesPublic(Output):
    patient_id: int
    scale: PainScale
    from_: dt.date = Field(alias="from")
    to: dt.date
    baseline_days: int
    points: list[PainPointPublic]
    trend: PainTrendPublic | None = Field(description="Null when no score falls in the period.")


@router.post(
    "/patients/{patient_id}/pain-assessments",
    response_model=PainAssessmentPublic,
    status_code=201,
    summary="Record a pain assessment (NRS, PEG-3 or BPI short form), scored",
)
def create_pain_assessment(
    body: PainAssessmentCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
    patient: Annotated[Patient, Depends(path_patient(writer))],
) -> Any:
    """Scores the answers and stores them as one reading of the scale's type; a bad answer is refused naming
    it (`answers.pain`). The reading's provenance keeps the answers as given and who recorded them."""
    try:
        recorded = pain_assessments.record_assessment(
            session,
            patient,
            body.scale,
            body.answers,
            body.at,
            reported_by=body.reported_by,
            recorded_by={"kind": principal.kind, "id": principal.id, "label": principal.label},
            note=body.note,
            now=utc_now(),
        )
    except pain_assessments.AssessmentRefused as refused:
        raise ApiError(refused.status, refused.code, f"{refused.field}: {refused.message}", refused.field) from None
    observation, scored = recorded.observation, recorded.scored
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="observation",
        entity_id=observation.id,
        detail={"pain_assessment": scored.scale.value, "patient_id": patient.id, "reported_by": body.reported_by},
    )
    session.commit()
    response.headers["Location"] = f"/observations/{observation.id}"
    return {
        "id": observation.id,
        "patient_id": patient.id,
        "scale": scored.scale,
        "at": observation.effective_at,
        "local_date": observation.local_date,
        "score": scored.score,
        "interference": scored.interference,
        "interference_note": scored.interference_note,
        "items": scored.items,
        "values": observation.values,
        "reported_by": recorded.reported_by,
        "manual": observation.manual,
        "source": observation.source,
        "note": recorded.note,
    }


@router.get(
    "/patients/{patient_id}/pain-trend",
    response_model=PainSeriesPublic,
    summary="A patient's pain scores over time, and the latest against the baseline",
)
def read_pain_trend(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    patient: Annotated[Patient, Depends(path_patient(reader))],
    query: Annotated[PainTrendQuery, Query()],
) -> Any:
    """Every score of the scale in the period (BPI-SF with its interference), oldest first, whoever sent it
    (this API, readings, FHIR), and whether the latest differs meaningfully from the days before it."""
    series = pain_assessments.pain_series(
        session, patient, query.scale, days=query.days, baseline_days=query.baseline_days, now=utc_now()
    )
    audit.record_list(
        session,
        request,
        principal,
        entity="observation",
        ids=[point.observation_id for point in series.points],
        query={"patient_id": patient.id, **query.model_dump(mode="json")},
    )
    session.commit()
    return {
        "patient_id": patient.id,
        "scale": series.scale,
        "from": series.start,
        "to": series.end,
        "baseline_days": series.baseline_days,
        "points": series.points,
        "trend": series.trend,
    }
