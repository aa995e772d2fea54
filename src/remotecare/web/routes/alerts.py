"""The alerts queue in the browser: what to handle, urgent first, and the triage steps on each alert.

The steps are the API's own (`api.routes.alerts`): the same transitions, the same note required to
resolve, the same audit events. A refused step re-renders its row with the reason.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import case, select

from remotecare.api import audit
from remotecare.api.crud import ItemId, scoped
from remotecare.api.deps import SessionDep
from remotecare.api.errors import ApiError
from remotecare.api.routes.alerts import QUEUED, SEVERITY_RANK, TriageStep, triage_step
from remotecare.domain.alert_rules import DEFAULT_RULES
from remotecare.store.models import Alert, AlertStatus, Patient
from remotecare.web.auth import Viewer, action_for, page_for
from remotecare.web.office import clock, not_found, practice_zone
from remotecare.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Viewer, Depends(page_for("alerts:read"))]
Writer = Annotated[Viewer, Depends(action_for("alerts:write"))]

UNITS = {rule.name: rule.unit for rule in DEFAULT_RULES}
SHOWN = {"open": QUEUED, "resolved": (AlertStatus.RESOLVED,)}


def _names(session: SessionDep, practice_id: int, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(Patient.id, Patient.family_name, Patient.given_name).where(
            Patient.practice_id == practice_id, Patient.id.in_(ids)
        )
    )
    return {patient_id: f"{family}, {given}" for patient_id, family, given in rows}


@router.get("/app/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, session: SessionDep, viewer: Reader, show: Literal["open", "resolved"] = "open"
) -> HTMLResponse:
    """Open and acknowledged alerts, most urgent first, then the oldest; or the latest resolved ones."""
    rank = case(SEVERITY_RANK, value=Alert.severity, else_=len(SEVERITY_RANK))
    query = scoped(Alert, viewer.principal).where(Alert.status.in_(SHOWN[show]))  # a care team: its programs
    if show == "open":
        query = query.order_by(rank, Alert.created_at, Alert.id)
    else:
        query = query.order_by(Alert.resolved_at.desc(), Alert.id.desc())
    alerts = list(session.scalars(query.limit(200)))
    names = _names(session, viewer.principal.practice_id, {alert.patient_id for alert in alerts})
    ids = [alert.id for alert in alerts]
    audit.record_list(session, request, viewer.principal, entity="alert", ids=ids, query={"show": show})
    session.commit()
    when = clock(practice_zone(session, viewer.principal.practice_id))
    return page(
        request, viewer, "alerts.html", alerts=alerts, names=names, units=UNITS, show=show, when=when, error=None
    )


@router.post("/app/alerts/{item_id}/{step}", response_class=HTMLResponse)
def triage(
    item_id: ItemId,
    step: Literal["acknowledge", "resolve", "reopen"],
    request: Request,
    session: SessionDep,
    viewer: Writer,
    note: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[int | None, Form(ge=1)] = None,
) -> HTMLResponse:
    """One triage step; the row comes back as it now stands, or with the reason the step was refused."""
    principal = viewer.principal
    error, status = None, 200
    try:
        alert = triage_step(
            session, request, principal, item_id, TriageStep(note=note.strip() or None, version=version), step
        )
    except ApiError as refused:
        if refused.status == 404:
            return not_found(request, viewer, "such alert")
        session.rollback()
        alert = session.get_one(Alert, item_id)
        error, status = _plain_message(refused), 409 if refused.status == 409 else 422
    names = _names(session, principal.practice_id, {alert.patient_id})
    when = clock(practice_zone(session, principal.practice_id))
    return page(
        request,
        viewer,
        "alert_row.html",
        status,
        alert=alert,
        names=names,
        units=UNITS,
        when=when,
        error=error,
    )


def _plain_message(error: ApiError) -> str:
    """The API's message without the field's name in front: "Say how it was handled." reads better."""
    if error.field == "note":
        return "Write a note saying how the alert was handled, then resolve it."
    if error.field == "version":
        return "Someone changed this alert since the page was loaded; it is shown as it is now."
    return error.message.removeprefix(f"{error.field}: ").capitalize() if error.field else error.message
