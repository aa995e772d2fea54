"""Patient check-ins for the care team: check-in links, trends, reminders and who has gone quiet.

The patient's own side (the mobile page at `/c/{token}`, SMS replies) lives in `web` and `sms`.
See `services.checkins`, `checkin_links`, `checkin_trends` and `checkin_reminders`.
"""

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field
from sqlalchemy import select

from remotecare.api import audit
from remotecare.api.crud import load_or_record_miss, path_patient
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import Input, Output
from remotecare.api.visibility import patients_in_programs
from remotecare.services import checkin_links, checkin_reminders, checkin_trends
from remotecare.services.checkins import CheckinError
from remotecare.store.base import MAX_ID, utc_now
from remotecare.store.models import CheckinLink, Patient

router = APIRouter(tags=["check-ins"])
writer = require("care:write")
reader = require("care:read")

LinkId = Annotated[int, Path(ge=1, le=MAX_ID)]


class CheckinLinkCreate(Input):
    ttl_days: int = Field(default=7, ge=1, le=90, description="Days until the link expires.")


class CheckinLinkPublic(Output):
    id: int
    patient_id: int
    created_by: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: int | None
    last_used_at: dt.datetime | None


class CheckinLinkCreated(CheckinLinkPublic):
    url: str = Field(description="The patient's check-in page, /c/{token}: shown this once, never again.")


class TrendQuery(Input):
    days: int = Field(default=90, ge=1, le=730, description="The last so many days, today (patient's zone) included.")


class QuietQuery(Input):
    days: int = Field(default=3, ge=1, le=90, description="No check-in in the last so many days, today included.")


class TrendPointPublic(Output):
    observation_id: int
    date: dt.date
    value: float
    baseline: float | None = Field(description="Pain: the mean of the 7 days before. Mood: the previous score.")
    change: float | None
    meaningful: bool = Field(description="Pain: 2 points or 30%. PHQ-9: 5 points. GAD-7: 4 points.")


class AdherenceWeekPublic(Output):
    start: dt.date
    end: dt.date
    medications_taken: int
    medications_asked: int
    medication_rate: float | None
    exercises_done: int
    exercises_asked: int
    exercise_rate: float | None


class CheckinPeriodPublic(Output):
    start: dt.date
    end: dt.date
    checkin_days: int = Field(description="Days with any check-in answer.")
    counted_days: int = Field(description="Days the billing run counts for RTM from the check-in app.")
    all_counted_days: int = Field(description="Days the billing run counts for RTM from any device.")


class CheckinTrendsPublic(Output):
    patient_id: int
    from_: dt.date = Field(alias="from")
    to: dt.date
    pain: dict[str, list[TrendPointPublic]]
    mood: dict[str, list[TrendPointPublic]]
    adherence: list[AdherenceWeekPublic]
    rtm_device_qualifies: bool = Field(description="The practice's setting: does the check-in app count for RTM?")
    rtm_monitoring_start: dt.date | None
    periods: list[CheckinPeriodPublic]
    note: str


class ReminderReportPublic(Output):
    queued: list[int] = Field(description="Outbox message ids.")
    already_reminded: list[int]
    checked_in: list[int]
    not_yet_due: list[int]
    unreachable: list[int]


class QuietPatientPublic(Output):
    patient_id: int
    given_name: str
    family_name: str
    last_checkin: dt.date | None
    days_quiet: int | None
    checkin_time: str | None
    care_manager_id: int | None


def _link_public(link: CheckinLink) -> dict[str, Any]:
    return CheckinLinkPublic.model_validate(link).model_dump()


@router.post(
    "/patients/{patient_id}/checkin-links",
    response_model=CheckinLinkCreated,
    status_code=201,
    summary="Issue a check-in link for the patient (its URL is shown once)",
)
def create_checkin_link(
    body: CheckinLinkCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
    patient: Annotated[Patient, Depends(path_patient(writer))],
) -> Any:
    """A signed link to the patient's mobile check-in page. Only the token's hash is kept: the URL cannot be
    shown again; issue another if it is lost, and revoke the old one."""
    created_by = principal.id if principal.kind == "user" else None
    link, token = checkin_links.issue_link(
        session, principal.practice_id, patient.id, created_by, ttl=dt.timedelta(days=body.ttl_days)
    )
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="checkin_link",
        entity_id=link.id,
        detail={"patient_id": patient.id, "expires_at": link.expires_at.isoformat()},
    )
    session.commit()
    response.headers["Location"] = f"/patients/{patient.id}/checkin-links"
    return {**_link_public(link), "url": checkin_links.link_url(token)}


@router.get(
    "/patients/{patient_id}/checkin-links",
    response_model=list[CheckinLinkPublic],
    summary="The patient's check-in links (never their tokens)",
)
def list_checkin_links(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    patient: Annotated[Patient, Depends(path_patient(reader))],
) -> Any:
    links = session.scalars(
        select(CheckinLink)
        .where(CheckinLink.practice_id == principal.practice_id, CheckinLink.patient_id == patient.id)
        .order_by(CheckinLink.id.desc())
    ).all()
    audit.record_list(
        session,
        request,
        principal,
        entity="checkin_link",
        ids=[link.id for link in links],
        query={"patient_id": patient.id},
    )
    session.commit()
    return links


@router.post(
    "/checkin-links/{link_id}/revoke", response_model=CheckinLinkPublic, summary="Revoke a check-in link at once"
)
def revoke_checkin_link(
    link_id: LinkId, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(writer)]
) -> Any:
    link: CheckinLink = load_or_record_miss(session, request, principal, CheckinLink, "checkin_link", link_id)
    revoked_by = principal.id if principal.kind == "user" else None
    checkin_links.revoke_link(session, link, revoked_by)
    audit.record(
        session,
        request,
        principal,
        action="revoke",
        entity="checkin_link",
        entity_id=link.id,
        detail={"patient_id": link.patient_id},
    )
    session.commit()
    return link


@router.get(
    "/patients/{patient_id}/checkin-trends",
    response_model=CheckinTrendsPublic,
    summary="Pain and mood over time, adherence by week, and check-in days per 30-day period",
)
def read_checkin_trends(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    patient: Annotated[Patient, Depends(path_patient(reader))],
    query: Annotated[TrendQuery, Query()],
) -> Any:
    """Clinically meaningful changes are marked (pain 2 points or 30% from the week before; PHQ-9 5 points,
    GAD-7 4 points from the previous score). Check-in days are counted as the billing run counts them, with
    the practice's setting on whether its check-in app is the RTM device."""
    today = utc_now().astimezone(ZoneInfo(patient.timezone)).date()
    try:
        found = checkin_trends.trends(session, principal.practice_id, patient.id, today=today, days=query.days)
    except CheckinError as error:
        raise ApiError(422, "invalid", str(error), error.field) from None
    ids = [point.observation_id for series in (*found.pain.values(), *found.mood.values()) for point in series]
    audit.record_list(
        session,
        request,
        principal,
        entity="observation",
        ids=ids,
        query={"patient_id": patient.id, "checkin_trends": True, **query.model_dump(mode="json")},
    )
    session.commit()
    return {**found.as_dict(), "from": found.start, "to": found.end}


@router.post("/checkins/reminders", response_model=ReminderReportPublic, summary="Queue today's check-in reminders")
def queue_checkin_reminders(
    request: Request, session: SessionDep, principal: Annotated[Principal, Depends(writer)]
) -> Any:
    """One reminder a day to each patient whose usual check-in time has passed without a check-in (texts
    wait out quiet hours in the outbox). Safe to call as often as wanted: nobody is reminded twice a day."""
    visible = _visible(session, principal)
    report = checkin_reminders.queue_reminders(session, principal.practice_id, utc_now(), patient_ids=visible)
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="outbox_message",
        detail={"checkin_reminders": report.queued},
    )
    session.commit()
    return report


@router.get("/checkins/quiet", response_model=list[QuietPatientPublic], summary="Patients who have gone quiet")
def list_quiet_patients(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    query: Annotated[QuietQuery, Query()],
) -> Any:
    """Patients enrolled in a program with check-ins and no check-in in the last `days` days, longest quiet
    (or never) first."""
    zone = ZoneInfo(_practice_zone(session, principal))
    today = utc_now().astimezone(zone).date()
    visible = _visible(session, principal)
    quiet = [
        patient
        for patient in checkin_reminders.quiet_patients(session, principal.practice_id, today, query.days)
        if visible is None or patient.patient_id in visible
    ]
    audit.record_list(
        session,
        request,
        principal,
        entity="patient",
        ids=[patient.patient_id for patient in quiet],
        query={"checkins_quiet": True, **query.model_dump(mode="json")},
    )
    session.commit()
    return quiet


def _visible(session: Any, principal: Principal) -> set[int] | None:
    query = patients_in_programs(principal)
    return None if query is None else set(session.scalars(query))


def _practice_zone(session: Any, principal: Principal) -> str:
    from remotecare.store.models import Practice

    practice = session.get(Practice, principal.practice_id)
    return practice.timezone if practice is not None else "UTC"
