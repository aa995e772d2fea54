"""The care team's timer: start it on a patient and program, stop it to log the minutes, or discard it.

One timer per person. Stopping writes a time entry through the same ledger checks as a manual entry
(`services.time_ledger`): whole minutes, on the day it started in the patient's zone, never overlapping
another entry of the same person.
"""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from remotecare.api import audit
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import Flag, Input, Note, Output, RecordId
from remotecare.api.schemas.work import Mode, TimeEntryPublic
from remotecare.domain.programs import Program
from remotecare.services import time_ledger
from remotecare.store.base import utc_now
from remotecare.store.models import RunningTimer

router = APIRouter(tags=["time"])
reader = require("care:read")
writer = require("care:write")


class TimerStart(Input):
    patient_id: RecordId
    program: Program
    alert_id: RecordId | None = Field(default=None, description="The alert of this patient being worked on.")


class TimerStop(Input):
    interactive: Flag = Field(default=False, description="Real-time communication with the patient or caregiver.")
    interaction_mode: Mode | None = Field(default=None, description="Required when interactive, absent otherwise.")
    note: Note | None = None


class TimerPublic(Output):
    id: int
    patient_id: int
    program: Program
    alert_id: int | None
    started_at: dt.datetime
    elapsed_seconds: int


def _person(principal: Principal) -> int:
    if principal.kind != "user":
        raise ApiError(422, "invalid", "timer: a timer belongs to a person; log in as one.", "timer")
    return principal.id


def _refused(refusal: time_ledger.LedgerRefusal) -> ApiError:
    return ApiError(refusal.status, refusal.code, f"{refusal.field}: {refusal.message}", refusal.field)


def _public(timer: RunningTimer, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": timer.id,
        "patient_id": timer.patient_id,
        "program": timer.program,
        "alert_id": timer.alert_id,
        "started_at": timer.started_at,
        "elapsed_seconds": max(0, int((now - timer.started_at).total_seconds())),
    }


@router.post("/timers", response_model=TimerPublic, status_code=201, summary="Start your timer")
def start(
    body: TimerStart,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
) -> Any:
    """Start timing work on a patient and program (and, if given, one of the patient's alerts).
    Refused with 409 while another timer of yours runs."""
    user_id = _person(principal)
    now = utc_now()
    try:
        timer = time_ledger.start_timer(
            session, principal.practice_id, user_id, body.patient_id, body.program, body.alert_id, now=now
        )
    except time_ledger.LedgerRefusal as refusal:
        session.rollback()
        if refusal.status == 404:
            # Asking for a patient outside one's practice is worth an auditor's eye, as on every route.
            audit.record(session, request, principal, action="not_found", entity="patient", entity_id=body.patient_id)
            session.commit()
        raise _refused(refusal) from None
    audit.record(
        session,
        request,
        principal,
        action="start",
        entity="timer",
        entity_id=timer.id,
        detail={"patient_id": timer.patient_id, "program": timer.program.value, "alert_id": timer.alert_id},
    )
    session.commit()
    response.headers["Location"] = "/timers/current"
    return _public(timer, now)


@router.get(
    "/timers/current",
    response_model=TimerPublic,
    summary="Your running timer",
    responses={204: {"description": "No timer of yours is running."}},
)
def current(request: Request, session: SessionDep, principal: Annotated[Principal, Depends(reader)]) -> Any:
    """Your running timer with the seconds it has run, or 204 when none runs."""
    timer = (
        time_ledger.current_timer(session, principal.practice_id, principal.id) if principal.kind == "user" else None
    )
    audit.record(
        session,
        request,
        principal,
        action="read",
        entity="timer",
        entity_id=timer.id if timer else None,
        detail={"patient_id": timer.patient_id} if timer else {"running": False},
    )
    session.commit()
    if timer is None:
        return Response(status_code=204)
    return _public(timer, utc_now())


@router.post("/timers/current/stop", response_model=TimeEntryPublic, status_code=201, summary="Stop your timer")
def stop(
    body: TimerStop,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
) -> Any:
    """Log the timer's whole minutes as a time entry and answer with it. A timer that ran under a minute
    logs nothing and is discarded (422); a time entry that would overlap another of yours is refused (409)
    and the timer keeps running, to be stopped later or discarded."""
    user_id = _person(principal)
    try:
        entry = time_ledger.stop_timer(
            session,
            principal.practice_id,
            user_id,
            utc_now(),
            interactive=body.interactive,
            interaction_mode=body.interaction_mode,
            note=body.note,
        )
    except time_ledger.TimerTooShort as refusal:
        # The timer's deletion stands, with its audit event; only the entry was refused.
        audit.record(
            session,
            request,
            principal,
            action="discard",
            entity="timer",
            entity_id=refusal.timer_id,
            detail={"reason": "ran under a minute"},
        )
        session.commit()
        raise _refused(refusal) from None
    except time_ledger.LedgerRefusal as refusal:
        session.rollback()
        raise _refused(refusal) from None
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="time_entry",
        entity_id=entry.id,
        detail={"source": "timer", "minutes": entry.minutes, "patient_id": entry.patient_id},
    )
    session.commit()
    response.headers["Location"] = f"/time-entries/{entry.id}"
    return entry


@router.delete("/timers/current", status_code=204, summary="Discard your timer")
def discard(request: Request, session: SessionDep, principal: Annotated[Principal, Depends(writer)]) -> Response:
    """Throw your running timer away without logging anything (404 when none runs)."""
    user_id = _person(principal)
    try:
        timer = time_ledger.discard_timer(session, principal.practice_id, user_id)
    except time_ledger.LedgerRefusal as refusal:
        raise _refused(refusal) from None
    audit.record(
        session,
        request,
        principal,
        action="discard",
        entity="timer",
        entity_id=timer.id,
        detail={"patient_id": timer.patient_id, "program": timer.program.value},
    )
    session.commit()
    return Response(status_code=204)
