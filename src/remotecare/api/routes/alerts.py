"""The care team's alert triage: the queue, acknowledge, resolve, reopen, and the thresholds in force.

Alerts are raised on ingest (`services.alerting`); the generic /alerts routes list, read,
create and update them. A triage step moves an alert along

    open -> acknowledged -> resolved,  open -> resolved,  resolved -> open (reopen)

and anything else is refused with 409. Each step records who and when, bumps the
version, and writes an audit event with the status before and after.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.crud import ItemId, load_or_record_miss, read_page
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import Input, ListQuery, Output, Page, RecordId
from remotecare.api.visibility import restrict
from remotecare.domain.alert_rules import DEFAULT_RULES, AlertRuleError, validate_overrides
from remotecare.services.alerting import thresholds
from remotecare.store.base import utc_now
from remotecare.store.models import Alert, AlertStatus, Patient, Practice

router = APIRouter(tags=["alerts"])
reader = require("alerts:read")
writer = require("alerts:write")

# Most urgent first in the queue; severities raised by hand (low .. high) fit around the rules' two.
SEVERITY_RANK = {"urgent": 0, "high": 1, "warning": 2, "medium": 2, "low": 3}
QUEUED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


def check_overrides(field: str, overrides: object) -> None:
    """Refuse alert overrides that cannot apply, with a 422 naming the part at fault
    (`alert_overrides.systolic_high.limit`)."""
    try:
        validate_overrides(DEFAULT_RULES, overrides)  # type: ignore[arg-type]
    except AlertRuleError as error:
        path = field + error.field.removeprefix("overrides")
        raise ApiError(422, "invalid", f"{path}: {error.message}", path) from None


# --- bodies and answers ----------------------------------------------------------------------------


class AlertOut(Output):
    id: int
    patient_id: int
    observation_id: int | None
    rule: str
    severity: str
    status: AlertStatus
    message: str | None
    observed: float | None
    threshold: float | None
    dedup_key: str | None
    note: str | None
    acknowledged_by: int | None
    acknowledged_at: dt.datetime | None
    resolved_by: int | None
    resolved_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class QueuedAlert(AlertOut):
    patient_name: str = Field(description="Family name, given name.")


class QueueQuery(ListQuery):
    status: Literal["open", "acknowledged"] | None = Field(default=None, description="Default: both.")
    severity: str | None = Field(default=None, min_length=1, max_length=16)
    patient_id: RecordId | None = None


class TriageStep(Input):
    note: str | None = Field(default=None, max_length=4000)
    version: int | None = Field(
        default=None, ge=1, description="The version you read; if given and stale, the step is refused with 409."
    )


class ThresholdOut(BaseModel):
    name: str
    kind: str
    severity: str
    reads: list[str] = Field(description="The reading values the rule judges (`blood_pressure.systolic`).")
    programs: list[str] = Field(description="The rule applies to patients enrolled in any of these.")
    limit: float
    days: int | None = Field(description="The look-back window of a windowed rule, in days.")
    enabled: bool
    unit: str
    source: Literal["default", "practice", "patient"] = Field(
        description="The most specific layer that changed anything about the rule."
    )
    sources: dict[str, Literal["default", "practice", "patient"]] = Field(
        description="limit, days, enabled -> the layer its value came from."
    )


class ThresholdsOut(BaseModel):
    patient_id: int | None
    rules: list[ThresholdOut]
    ignored: list[str] = Field(description="Stored overrides that are not valid, and so are not applied.")


class ThresholdsQuery(Input):
    patient_id: RecordId | None = Field(default=None, description="Default: the practice's own thresholds.")


# --- the queue -------------------------------------------------------------------------------------


@router.get("/alert-queue", response_model=Page[QueuedAlert], summary="Alerts still to handle, urgent first")
def read_queue(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    query: Annotated[QueueQuery, Query()],
) -> Any:
    """Open and acknowledged alerts of the practice: the most urgent first, then the oldest first."""
    rank = case(SEVERITY_RANK, value=Alert.severity, else_=len(SEVERITY_RANK))
    statuses = QUEUED if query.status is None else (AlertStatus(query.status),)
    rows = (
        select(Alert)
        .where(Alert.practice_id == principal.practice_id, Alert.status.in_(statuses))
        .order_by(rank, Alert.created_at, Alert.id)
    )
    rows = restrict(rows, Alert, principal)  # a care team's staff: their programs' patients only
    if query.severity is not None:
        rows = rows.where(Alert.severity == query.severity)
    if query.patient_id is not None:
        rows = rows.where(Alert.patient_id == query.patient_id)
    asked = query.model_dump(mode="json", exclude_none=True)
    alerts, total = read_page(session, request, principal, rows, "alert", asked)
    names = _names(session, principal.practice_id, {alert.patient_id for alert in alerts})
    items = [
        {**AlertOut.model_validate(alert).model_dump(), "patient_name": names.get(alert.patient_id, "")}
        for alert in alerts
    ]
    return {"items": items, "total": total, "limit": query.limit, "offset": query.offset}


def _names(session: Session, practice_id: int, patient_ids: set[int]) -> dict[int, str]:
    if not patient_ids:
        return {}
    found = session.execute(
        select(Patient.id, Patient.given_name, Patient.family_name).where(
            Patient.practice_id == practice_id, Patient.id.in_(patient_ids)
        )
    )
    return {patient_id: f"{family}, {given}" for patient_id, given, family in found}


# --- triage steps ----------------------------------------------------------------------------------


OptionalStep = Annotated[TriageStep | None, Body()]


@router.post("/alerts/{item_id}/acknowledge", response_model=AlertOut, summary="Acknowledge an open alert")
def acknowledge(
    item_id: ItemId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
    body: OptionalStep = None,
) -> Any:
    """Someone is on it: open -> acknowledged, with an optional note."""
    return triage_step(session, request, principal, item_id, body, "acknowledge")


@router.post("/alerts/{item_id}/resolve", response_model=AlertOut, summary="Resolve an alert")
def resolve(
    item_id: ItemId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
    body: OptionalStep = None,
) -> Any:
    """Handled: open or acknowledged -> resolved. A note saying how is required."""
    return triage_step(session, request, principal, item_id, body, "resolve")


@router.post("/alerts/{item_id}/reopen", response_model=AlertOut, summary="Reopen a resolved alert")
def reopen(
    item_id: ItemId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
    body: OptionalStep = None,
) -> Any:
    """Not handled after all: resolved -> open, with an optional note."""
    return triage_step(session, request, principal, item_id, body, "reopen")


# step -> (the statuses it starts from, the status it leads to, what it does to an alert)
STEPS: dict[str, tuple[tuple[AlertStatus, ...], AlertStatus, str]] = {
    "acknowledge": ((AlertStatus.OPEN,), AlertStatus.ACKNOWLEDGED, "acknowledged"),
    "resolve": ((AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED), AlertStatus.RESOLVED, "resolved"),
    "reopen": ((AlertStatus.RESOLVED,), AlertStatus.OPEN, "reopened"),
}


def triage_step(
    session: Session, request: Request, principal: Principal, item_id: int, body: TriageStep | None, step: str
) -> Alert:
    alert = _load(session, request, principal, item_id)
    body = body or TriageStep()
    sources, target, done = STEPS[step]
    if body.version is not None and body.version != alert.version:
        raise ApiError(
            409,
            "conflict",
            f"version: the alert is at version {alert.version}, not {body.version}; read it again.",
            "version",
        )
    before = alert.status
    if before not in sources:
        allowed = " or ".join(status.value for status in sources)
        article = "an" if allowed[0] in "aeiou" else "a"
        raise ApiError(
            409,
            "conflict",
            f"status: the alert is {before.value}; only {article} {allowed} alert can be {done}.",
            "status",
        )
    if step == "resolve" and not body.note:
        raise ApiError(422, "invalid", "note: is required to resolve an alert; say how it was handled.", "note")
    now = utc_now()
    actor = principal.id if principal.kind == "user" else None
    if target is AlertStatus.ACKNOWLEDGED:
        alert.acknowledged_by, alert.acknowledged_at = actor, now
    elif target is AlertStatus.RESOLVED:
        alert.resolved_by, alert.resolved_at = actor, now
    else:  # reopened: neither acknowledged nor resolved any more (the audit trail keeps who did both)
        alert.acknowledged_by = alert.acknowledged_at = alert.resolved_by = alert.resolved_at = None
    alert.status = target
    if body.note:
        alert.note = body.note
    session.flush()  # the UPDATE names the version read: a concurrent step gets 409
    detail: dict[str, Any] = {"from": before.value, "to": target.value}
    if body.note:
        detail["note"] = body.note
    audit.record(session, request, principal, action=step, entity="alert", entity_id=item_id, detail=detail)
    session.commit()
    return alert


def _load(session: Session, request: Request, principal: Principal, item_id: int) -> Alert:
    alert: Alert = load_or_record_miss(session, request, principal, Alert, "alert", item_id)
    return alert


# --- thresholds ------------------------------------------------------------------------------------


@router.get("/alert-thresholds", response_model=ThresholdsOut, summary="The alert thresholds in force")
def read_thresholds(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    query: Annotated[ThresholdsQuery, Query()],
) -> Any:
    """Every rule with its limit, window, severity and programs, for the practice or one patient, and the
    layer each setting came from: the default, the practice's overrides or the patient's."""
    practice = session.get(Practice, principal.practice_id)
    assert practice is not None  # the caller's own practice
    patient_overrides: object = None
    if query.patient_id is not None:
        patient = load_or_record_miss(session, request, principal, Patient, "patient", query.patient_id)
        patient_overrides = patient.alert_overrides
    rules, ignored = thresholds(
        practice.alert_overrides, patient_overrides, practice_id=practice.id, patient_id=query.patient_id
    )
    audit.record(
        session,
        request,
        principal,
        action="read",
        entity="alert_thresholds",
        entity_id=query.patient_id,
        detail={"patient_id": query.patient_id},
    )
    session.commit()
    return {"patient_id": query.patient_id, "rules": [dataclasses.asdict(rule) for rule in rules], "ignored": ignored}
