"""A patient's page, and the timer on it.

The page shows the patient's programs, readings charted against the alert thresholds in force, pain and
adherence for RTM and CPM, this month's time with the timer, the care plan and the open alerts, and
records in the audit trail every record it showed. Another practice's patient answers 404, recorded as a
miss, as the API does.

The timer is the viewer's own (`RunningTimer`): the server keeps it, so it runs across page loads. Start,
stop and discard are htmx actions through `services.time_ledger`, audited as `api/routes/timers.py`
audits them; each answers with the time panel re-rendered (a refusal with the panel and its reason).

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.crud import scoped
from remotecare.api.deps import SessionDep
from remotecare.domain.programs import Program
from remotecare.services import checkin_links, time_ledger
from remotecare.store.base import MAX_ID, utc_now
from remotecare.store.models import CheckinLink, Patient
from remotecare.web.auth import Viewer, action_for, page_for
from remotecare.web.checkin_view import CheckinCard, LinkPanel, load_card, load_links
from remotecare.web.patient_view import PatientPage, TimePanel, load_page, load_time
from remotecare.web.render import page

router = APIRouter(include_in_schema=False)
PatientId = Annotated[int, Path(ge=1, le=MAX_ID)]
Reader = Annotated[Viewer, Depends(page_for("care:read"))]
Writer = Annotated[Viewer, Depends(action_for("care:write"))]
MODES = {"audio": "Phone (audio)", "video": "Video", "in_person": "In person"}


class PatientMissing(Exception):
    pass


def _patient(session: Session, request: Request, viewer: Viewer, patient_id: int) -> Patient:
    """The viewer's practice's patient; a miss is worth an auditor's eye, as on every API route."""
    patient: Patient | None = session.scalar(scoped(Patient, viewer.principal).where(Patient.id == patient_id))
    if patient is None:
        audit.record(session, request, viewer.principal, action="not_found", entity="patient", entity_id=patient_id)
        session.commit()
        raise PatientMissing
    return patient


def _missing(request: Request, viewer: Viewer) -> HTMLResponse:
    message = "There is no such patient in your practice. Find the patient on the worklist."
    return page(request, viewer, "error.html", 404, heading="Patient not found", message=message)


@router.get("/app/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(patient_id: PatientId, request: Request, session: SessionDep, viewer: Reader) -> HTMLResponse:
    try:
        patient = _patient(session, request, viewer, patient_id)
    except PatientMissing:
        return _missing(request, viewer)
    now = utc_now()
    shown = load_page(session, patient, now=now, with_alerts=viewer.may("alerts:read"))
    panel = load_time(session, patient, viewer.principal.id, now=now)
    card = load_card(session, patient, now=now)
    _record_page(session, request, viewer, shown.patient.id, shown, panel, card)
    session.commit()
    context = _time_context(viewer)
    return page(request, viewer, "patient.html", view=shown, panel=panel, checkins=card, **context)


def _record_page(
    session: Session,
    request: Request,
    viewer: Viewer,
    patient_id: int,
    shown: PatientPage,
    panel: TimePanel,
    card: CheckinCard,
) -> None:
    principal = viewer.principal
    audit.record(session, request, principal, action="read", entity="patient", entity_id=patient_id)
    query = {"patient_id": patient_id, "page": "patient"}
    listed = {
        "enrollment": [row.id for row in shown.enrollments],
        "consent": [row.id for row in shown.consents],
        "observation": sorted(set(shown.observation_ids + shown.pain_ids + card.observation_ids)),
        "checkin_link": [link.id for link in card.links.links],
        "care_plan": [plan.id for plan, _ in shown.plans],
        "alert": [alert.id for alert in shown.alerts],
    }
    for entity, ids in listed.items():
        if ids:
            audit.record_list(session, request, principal, entity=entity, ids=ids, query=query)
    _record_time(session, request, viewer, panel)


def _record_time(session: Session, request: Request, viewer: Viewer, panel: TimePanel) -> None:
    query = {"patient_id": panel.patient.id, "from": panel.month.isoformat()}
    if panel.entries:
        ids = [entry["id"] for entry in panel.entries]
        audit.record_list(session, request, viewer.principal, entity="time_entry", ids=ids, query=query)


def _time_context(viewer: Viewer) -> dict[str, Any]:
    return {"can_log": viewer.may("care:write"), "modes": MODES}


def _panel(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    patient: Patient,
    status_code: int = 200,
    *,
    message: str | None = None,
    refused: str | None = None,
) -> HTMLResponse:
    panel = load_time(session, patient, viewer.principal.id, now=utc_now())
    panel.message, panel.refused = message, refused
    _record_time(session, request, viewer, panel)
    session.commit()
    return page(request, viewer, "patient_time.html", status_code, panel=panel, **_time_context(viewer))


def _refusal(refusal: time_ledger.LedgerRefusal, prefix: str = "Not logged: ") -> str:
    return f"{prefix}{refusal.message[:1].upper()}{refusal.message[1:]}"


@router.post("/app/patients/{patient_id}/timer/start", response_class=HTMLResponse)
def start_timer(
    patient_id: PatientId,
    request: Request,
    session: SessionDep,
    viewer: Writer,
    program: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    try:
        patient = _patient(session, request, viewer, patient_id)
    except PatientMissing:
        return _missing(request, viewer)
    if program not in Program.__members__.values():
        return _panel(request, session, viewer, patient, 422, refused="Choose the program the time is for.")
    try:
        timer = time_ledger.start_timer(
            session, viewer.principal.practice_id, viewer.principal.id, patient.id, Program(program), now=utc_now()
        )
    except time_ledger.LedgerRefusal as refusal:
        session.rollback()
        message = f"The timer did not start: {refusal.message}"
        return _panel(request, session, viewer, patient, refusal.status, refused=message)
    detail = {"patient_id": timer.patient_id, "program": timer.program.value, "alert_id": timer.alert_id}
    audit.record(session, request, viewer.principal, action="start", entity="timer", entity_id=timer.id, detail=detail)
    session.commit()
    return _panel(request, session, viewer, patient, message=f"Timer started for {timer.program.value}.")


@router.post("/app/patients/{patient_id}/timer/stop", response_class=HTMLResponse)
def stop_timer(
    patient_id: PatientId,
    request: Request,
    session: SessionDep,
    viewer: Writer,
    interactive: Annotated[str, Form(max_length=8)] = "",
    mode: Annotated[str, Form(max_length=16)] = "",
) -> HTMLResponse:
    try:
        patient = _patient(session, request, viewer, patient_id)
    except PatientMissing:
        return _missing(request, viewer)
    is_interactive = interactive == "yes"
    try:
        entry = time_ledger.stop_timer(
            session,
            viewer.principal.practice_id,
            viewer.principal.id,
            utc_now(),
            interactive=is_interactive,
            interaction_mode=(mode or None) if is_interactive else None,
        )
    except time_ledger.TimerTooShort as refusal:
        # The timer's deletion stands, with its audit event; only the entry was refused.
        detail = {"reason": "ran under a minute"}
        audit.record(
            session,
            request,
            viewer.principal,
            action="discard",
            entity="timer",
            entity_id=refusal.timer_id,
            detail=detail,
        )
        session.commit()
        return _panel(request, session, viewer, patient, 422, refused=_refusal(refusal, ""))
    except time_ledger.LedgerRefusal as refusal:
        session.rollback()
        return _panel(request, session, viewer, patient, refusal.status, refused=_refusal(refusal))
    created = {"source": "timer", "minutes": entry.minutes, "patient_id": entry.patient_id}
    audit.record(
        session, request, viewer.principal, action="create", entity="time_entry", entity_id=entry.id, detail=created
    )
    session.commit()
    logged = f"Logged {entry.minutes} min of {Program(entry.program).value}" + (
        " with an interactive contact." if entry.interactive else "."
    )
    return _panel(request, session, viewer, patient, message=logged)


@router.post("/app/patients/{patient_id}/timer/discard", response_class=HTMLResponse)
def discard_timer(patient_id: PatientId, request: Request, session: SessionDep, viewer: Writer) -> HTMLResponse:
    try:
        patient = _patient(session, request, viewer, patient_id)
    except PatientMissing:
        return _missing(request, viewer)
    try:
        timer = time_ledger.discard_timer(session, viewer.principal.practice_id, viewer.principal.id)
    except time_ledger.LedgerRefusal as refusal:
        return _panel(request, session, viewer, patient, refusal.status, refused=_refusal(refusal))
    detail = {"patient_id": timer.patient_id, "program": timer.program.value}
    audit.record(
        session, request, viewer.principal, action="discard", entity="timer", entity_id=timer.id, detail=detail
    )
    session.commit()
    return _panel(request, session, viewer, patient, message="Timer discarded; nothing was logged.")


def _links_panel(request: Request, viewer: Viewer, links: LinkPanel, status_code: int = 200) -> HTMLResponse:
    return page(request, viewer, "patient_checkin_links.html", status_code, links=links, **_time_context(viewer))


@router.post("/app/patients/{patient_id}/checkin-links", response_class=HTMLResponse)
def create_checkin_link(patient_id: PatientId, request: Request, session: SessionDep, viewer: Writer) -> HTMLResponse:
    """A new check-in link, its address shown once (only the token's hash is kept)."""
    try:
        patient = _patient(session, request, viewer, patient_id)
    except PatientMissing:
        return _missing(request, viewer)
    now = utc_now()
    link, token = checkin_links.issue_link(session, patient.practice_id, patient.id, viewer.principal.id, now=now)
    detail = {"patient_id": patient.id, "expires_at": link.expires_at.isoformat()}
    audit.record(
        session, request, viewer.principal, action="create", entity="checkin_link", entity_id=link.id, detail=detail
    )
    session.commit()
    links = load_links(session, patient, now)
    links.new_url = str(request.url_for("checkin_page", token=token))
    links.new_expires = link.expires_at
    links.message = "Link created. Copy it now: it is not shown again."
    return _links_panel(request, viewer, links)


@router.post("/app/patients/{patient_id}/checkin-links/{link_id}/revoke", response_class=HTMLResponse)
def revoke_checkin_link(
    patient_id: PatientId,
    link_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    session: SessionDep,
    viewer: Writer,
) -> HTMLResponse:
    try:
        patient = _patient(session, request, viewer, patient_id)
    except PatientMissing:
        return _missing(request, viewer)
    now = utc_now()
    link = session.scalar(
        select(CheckinLink).where(
            CheckinLink.id == link_id,
            CheckinLink.practice_id == patient.practice_id,
            CheckinLink.patient_id == patient.id,
        )
    )
    if link is None:
        links = load_links(session, patient, now)
        links.refused = "There is no such check-in link for this patient."
        return _links_panel(request, viewer, links, 404)
    checkin_links.revoke_link(session, link, viewer.principal.id, now=now)
    audit.record(
        session,
        request,
        viewer.principal,
        action="revoke",
        entity="checkin_link",
        entity_id=link.id,
        detail={"patient_id": patient.id},
    )
    session.commit()
    links = load_links(session, patient, now)
    links.message = "Link revoked: it no longer opens the check-in."
    return _links_panel(request, viewer, links)
