"""The entities served by the generic routes, with what each needs checked or derived."""

import hashlib
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.api.crud import Resource
from remotecare.api.deps import Principal
from remotecare.api.errors import ApiError
from remotecare.api.routes.alerts import check_overrides
from remotecare.api.schemas import admin, care, devices, patients, work
from remotecare.api.security import hash_password
from remotecare.services import care_plans, time_entry_history, time_ledger
from remotecare.services.alerting import raise_alerts
from remotecare.store import models
from remotecare.store.base import Base, utc_now

PERFORMER_BY_ROLE = time_ledger.PERFORMER_BY_ROLE  # whose time is clinical time, as which performer


def _refuse_duplicate(
    session: Session, model: type[Base], principal: Principal, field: str, value: Any, *, other_than: int | None = None
) -> None:
    query = select(func.count()).select_from(model).where(getattr(model, field) == value)
    if other_than is not None:
        query = query.where(model.id != other_than)  # type: ignore[attr-defined]
    if hasattr(model, "practice_id") and field != "email":
        query = query.where(model.practice_id == principal.practice_id)
    if session.scalar(query):
        raise ApiError(409, "duplicate", f"{field}: {value!r} is already on file.", field)


def prepare_patient(
    session: Session, principal: Principal, values: dict[str, Any], record_id: int | None
) -> dict[str, Any]:
    if values.get("medicare_id") is not None:
        _refuse_duplicate(
            session, models.Patient, principal, "medicare_id", values["medicare_id"], other_than=record_id
        )
    if values.get("alert_overrides") is not None:
        check_overrides("alert_overrides", values["alert_overrides"])
    return values


def prepare_device(
    session: Session, principal: Principal, values: dict[str, Any], record_id: int | None
) -> dict[str, Any]:
    _refuse_duplicate(session, models.Device, principal, "serial", values["serial"])
    return values


def prepare_observation(
    session: Session, principal: Principal, values: dict[str, Any], record_id: int | None
) -> dict[str, Any]:
    patient = session.get(models.Patient, values["patient_id"])
    assert patient is not None  # checked as a reference first
    if values["effective_at"] > utc_now():
        raise ApiError(422, "invalid", "effective_at: is in the future.", "effective_at")
    key_source = values.get("external_id") or json.dumps(
        [
            values["patient_id"],
            values.get("device_id"),
            values["type"],
            values["effective_at"].isoformat(),
            values["values"],
        ],
        sort_keys=True,
        default=str,
    )
    content_key = hashlib.sha256(str(key_source).encode()).hexdigest()
    _refuse_duplicate(session, models.Observation, principal, "content_key", content_key)
    local_date = values["effective_at"].astimezone(ZoneInfo(patient.timezone)).date()
    return {**values, "local_date": local_date, "content_key": content_key, "source": "api"}


def raise_observation_alerts(
    session: Session, principal: Principal, row: models.Observation, before: dict[str, Any] | None
) -> None:
    """A reading created through the generic route raises its alerts like any ingested one."""
    if before is None:  # created, not updated
        raise_alerts(session, principal.practice_id, [row.id])


def _ledger_error(refusal: time_ledger.LedgerRefusal) -> ApiError:
    return ApiError(refusal.status, refusal.code, f"{refusal.field}: {refusal.message}", refusal.field)


# The fields of a time entry the ledger's checks read: an edit that changes one of them is checked again.
LEDGER_FIELDS = ("service_date", "started_at", "ended_at", "minutes")


def prepare_time_entry(
    session: Session, principal: Principal, values: dict[str, Any], record_id: int | None
) -> dict[str, Any]:
    """A manual entry, created or edited, passes the same checks as one a timer writes
    (see `services.time_ledger`)."""
    if record_id is not None:
        return _prepare_time_entry_update(session, principal, values, record_id)
    user_id = values.get("user_id")
    if user_id is None:
        if principal.kind != "user":
            raise ApiError(422, "invalid", "user_id: required when an integration logs time.", "user_id")
        user_id = principal.id
    try:
        performer = time_ledger.performer_of(session, principal.practice_id, user_id, values.get("program"))
        time_ledger.check_interaction(values.get("interactive", False), values.get("interaction_mode"))
        time_ledger.check_alert(session, principal.practice_id, values["patient_id"], values.get("alert_id"))
        time_ledger.check_entry(
            session,
            principal.practice_id,
            user_id,
            service_date=values["service_date"],
            started_at=values.get("started_at"),
            ended_at=values.get("ended_at"),
            minutes=values["minutes"],
            patient_id=values["patient_id"],
            program=values["program"],
        )
    except time_ledger.LedgerRefusal as refusal:
        raise _ledger_error(refusal) from None
    return {**values, "user_id": user_id, "performer": performer}


def _prepare_time_entry_update(
    session: Session, principal: Principal, changes: dict[str, Any], record_id: int
) -> dict[str, Any]:
    """An edit is checked as the entry it makes, compared with every entry but itself. Fields the edit
    leaves alone are not judged again (a note added to an old entry is not refused for an old rule)."""
    entry = session.get(models.TimeEntry, record_id)
    assert entry is not None  # loaded and scoped before this is called
    try:
        time_entry_history.refuse_if_deleted(entry)
    except time_ledger.LedgerRefusal as refusal:
        raise _ledger_error(refusal) from None
    if changes.get("interactive") is False and "interaction_mode" not in changes:
        changes = {**changes, "interaction_mode": None}  # no longer interactive: no longer a mode either
    fields = (*LEDGER_FIELDS, "interactive", "interaction_mode", "alert_id")
    after = {name: changes[name] if name in changes else getattr(entry, name) for name in fields}
    try:
        if {"interactive", "interaction_mode"} & changes.keys():
            time_ledger.check_interaction(after["interactive"], after["interaction_mode"])
        if "alert_id" in changes:
            time_ledger.check_alert(session, principal.practice_id, entry.patient_id, after["alert_id"])
        if set(LEDGER_FIELDS) & changes.keys():
            time_ledger.check_entry(
                session,
                principal.practice_id,
                entry.user_id,
                service_date=after["service_date"],
                started_at=after["started_at"],
                ended_at=after["ended_at"],
                minutes=after["minutes"],
                patient_id=entry.patient_id,
                program=entry.program,
                exclude_id=entry.id,
            )
    except time_ledger.LedgerRefusal as refusal:
        raise _ledger_error(refusal) from None
    return changes


# What a biller may do to a line. Exported is set by an export only, and an exported line is only voided
# (a correction goes to the payer as a new claim, never by rewriting the one sent).
CLAIM_TRANSITIONS = {
    models.ClaimStatus.PROPOSED: {models.ClaimStatus.APPROVED, models.ClaimStatus.VOID},
    models.ClaimStatus.APPROVED: {models.ClaimStatus.PROPOSED, models.ClaimStatus.VOID},
    models.ClaimStatus.EXPORTED: {models.ClaimStatus.VOID},
    models.ClaimStatus.VOID: {models.ClaimStatus.PROPOSED},
}


def prepare_claim_line(
    session: Session, principal: Principal, values: dict[str, Any], record_id: int | None
) -> dict[str, Any]:
    line = session.get(models.ClaimLine, record_id)
    assert line is not None  # loaded and scoped before this is called
    wanted = values.get("status")
    if wanted is not None and wanted != line.status and wanted not in CLAIM_TRANSITIONS[line.status]:
        allowed = ", ".join(sorted(status.value for status in CLAIM_TRANSITIONS[line.status]))
        raise ApiError(
            422, "invalid", f"status: a {line.status.value} line can become {allowed}, not {wanted}.", "status"
        )
    if values.get("needs_review") is False:
        values = {**values, "review_note": None}  # reviewed: the note has served
    return values


def prepare_user(
    session: Session, principal: Principal, values: dict[str, Any], record_id: int | None
) -> dict[str, Any]:
    if "email" in values:
        values = {**values, "email": values["email"].lower()}
        _refuse_duplicate(session, models.User, principal, "email", values["email"])
    if values.get("password") is not None:
        values = {**values, "password_hash": hash_password(values["password"])}
    values.pop("password", None)
    return values


def _resource(
    path: str, entity: str, model: type[Base], schemas: tuple[Any, str], read: str, write: str, **extra: Any
) -> Resource:
    """Schemas are looked up by family name in their module: XCreate, XUpdate, XPublic, XFilter."""
    module, name = schemas
    return Resource(
        path=path,
        entity=entity,
        model=model,
        read=read,
        write=write,
        public=getattr(module, f"{name}Public"),
        filters=getattr(module, f"{name}Filter"),
        create=getattr(module, f"{name}Create", None),
        update=getattr(module, f"{name}Update", None),
        **extra,
    )


PATIENT_REF = {"patient_id": models.Patient}

RESOURCES = [
    _resource(
        "/patients",
        "patient",
        models.Patient,
        (patients, "Patient"),
        "patients:read",
        "patients:write",
        care_managers=("care_manager_id",),
        prepare_create=prepare_patient,
        prepare_update=prepare_patient,
        order_by="family_name",
    ),
    _resource(
        "/consents",
        "consent",
        models.Consent,
        (care, "Consent"),
        "care:read",
        "care:write",
        references=PATIENT_REF,
    ),
    _resource(
        "/enrollments",
        "enrollment",
        models.Enrollment,
        (care, "Enrollment"),
        "care:read",
        "care:write",
        references={**PATIENT_REF, "billing_provider_id": models.User, "ordering_provider_id": models.User},
    ),
    _resource(
        "/encounters",
        "encounter",
        models.Encounter,
        (care, "Encounter"),
        "care:read",
        "care:write",
        references=PATIENT_REF,
    ),
    _resource(
        "/care-plans",
        "care_plan",
        models.CarePlan,
        (care, "CarePlan"),
        "care:read",
        "care:write",
        references=PATIENT_REF,
        after_write=care_plans.record_write,  # every saved state kept as a version
    ),
    _resource(
        "/devices",
        "device",
        models.Device,
        (devices, "Device"),
        "devices:read",
        "devices:write",
        prepare_create=prepare_device,
    ),
    _resource(
        "/device-assignments",
        "device_assignment",
        models.DeviceAssignment,
        (devices, "DeviceAssignment"),
        "devices:read",
        "devices:write",
        references={**PATIENT_REF, "device_id": models.Device},
    ),
    _resource(
        "/observations",
        "observation",
        models.Observation,
        (devices, "Observation"),
        "observations:read",
        "observations:write",
        references={**PATIENT_REF, "device_id": models.Device},
        prepare_create=prepare_observation,
        after_write=raise_observation_alerts,
        order_by="effective_at",
    ),
    _resource(
        "/time-entries",
        "time_entry",
        models.TimeEntry,
        (work, "TimeEntry"),
        "care:read",
        "care:write",
        references=PATIENT_REF,
        prepare_create=prepare_time_entry,
        prepare_update=prepare_time_entry,
        after_write=time_entry_history.record_write,  # every saved state kept as a version
        order_by="service_date",
    ),
    _resource(
        "/alerts",
        "alert",
        models.Alert,
        (work, "Alert"),
        "alerts:read",
        "alerts:write",
        references={**PATIENT_REF, "observation_id": models.Observation},
    ),
    _resource(
        "/claim-lines",
        "claim_line",
        models.ClaimLine,
        (work, "ClaimLine"),
        "claims:read",
        "claims:write",
        prepare_update=prepare_claim_line,
        order_by="service_date",
    ),
    _resource(
        "/users",
        "user",
        models.User,
        (admin, "User"),
        "users:read",
        "users:write",
        prepare_create=prepare_user,
        prepare_update=prepare_user,
    ),
]
