"""The practice itself, integration API keys and the audit trail (admins)."""

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from remotecare.api import audit
from remotecare.api.crud import ItemId, apply_filters, load_scoped, scoped
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.routes.alerts import check_overrides
from remotecare.api.schemas.admin import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditEventFilter,
    AuditEventPublic,
    PracticePublic,
    PracticeUpdate,
)
from remotecare.api.schemas.common import Page
from remotecare.api.security import new_api_key, token_digest
from remotecare.domain.self_audit import AuditSettingsError, audit_settings
from remotecare.services import checkins
from remotecare.store.base import utc_now
from remotecare.store.models import ApiKey, AuditEvent, Practice

router = APIRouter()

AUDIT_COLUMNS = [
    "id",
    "at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "entity",
    "entity_id",
    "ip",
    "user_agent",
    "path",
]


@router.get("/practice", response_model=PracticePublic, tags=["practice"])
def read_practice(session: SessionDep, principal: Annotated[Principal, Depends(require("practice:read"))]) -> Any:
    return session.get(Practice, principal.practice_id)


@router.patch("/practice", response_model=PracticePublic, tags=["practice"])
def update_practice(
    body: PracticeUpdate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("practice:write"))],
) -> Any:
    """The practice as billing provider: NPI, tax id, address, place of service and payer."""
    practice = session.get(Practice, principal.practice_id)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name in (
            "name",
            "place_of_service",
            "alert_overrides",
            "audit_settings",
            "checkin_settings",
        ):
            raise ApiError(422, "invalid", f"{name}: may not be null; leave it out to keep its value.", name)
        if name == "alert_overrides":
            check_overrides(name, value)
        if name == "audit_settings":
            try:
                audit_settings(value, field=name)
            except AuditSettingsError as error:
                raise ApiError(422, "invalid", str(error), error.field) from None
        if name == "checkin_settings":
            try:
                value = checkins.check_settings(value)
            except checkins.CheckinError as error:
                raise ApiError(422, "invalid", str(error), error.field) from None
        setattr(practice, name, value)
    if "checkin_settings" in changes and practice is not None:
        checkins.sync_device_setting(session, practice)
    audit.record(
        session, request, principal, action="update", entity="practice", entity_id=principal.practice_id, detail=changes
    )
    session.commit()
    return practice


@router.get("/api-keys", response_model=list[ApiKeyPublic], tags=["api keys"])
def list_api_keys(session: SessionDep, principal: Annotated[Principal, Depends(require("api_keys:manage"))]) -> Any:
    return list(session.scalars(scoped(ApiKey, principal).order_by(ApiKey.id)))


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, tags=["api keys"])
def create_api_key(
    body: ApiKeyCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("api_keys:manage"))],
) -> Any:
    key, prefix = new_api_key()
    row = ApiKey(
        practice_id=principal.practice_id,
        name=body.name,
        prefix=prefix,
        key_hash=token_digest(key),
        scope=body.scope,
        created_by=principal.id if principal.kind == "user" else None,
    )
    session.add(row)
    session.flush()
    audit.record(session, request, principal, action="create", entity="api_key", entity_id=row.id)
    session.commit()
    return {**ApiKeyPublic.model_validate(row).model_dump(), "key": key}


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api keys"])
def revoke_api_key(
    key_id: ItemId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("api_keys:manage"))],
) -> None:
    row = load_scoped(session, ApiKey, principal, "api_key", key_id)
    if row.revoked_at is None:
        row.revoked_at = utc_now()
    audit.record(session, request, principal, action="revoke", entity="api_key", entity_id=key_id)
    session.commit()


def _audit_query(principal: Principal, filters: AuditEventFilter) -> Any:
    return apply_filters(scoped(AuditEvent, principal), AuditEvent, filters)


@router.get("/audit-events", response_model=Page[AuditEventPublic], tags=["audit"])
def list_audit_events(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("audit:read"))],
    filters: Annotated[AuditEventFilter, Query()],
) -> Any:
    limit, offset = filters.limit, filters.offset
    query = _audit_query(principal, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)))
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/audit-events.csv",
    tags=["audit"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_audit_events(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("audit:read"))],
    filters: Annotated[AuditEventFilter, Query()],
) -> StreamingResponse:
    rows = list(session.scalars(_audit_query(principal, filters).order_by(AuditEvent.id)))
    audit.record(
        session,
        request,
        principal,
        action="export",
        entity="audit_event",
        detail={"rows": len(rows), "query": filters.model_dump(mode="json", exclude_none=True)},
    )
    session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        writer.writerow(
            [getattr(row, column).isoformat() if column == "at" else getattr(row, column) for column in AUDIT_COLUMNS]
        )
    headers = {"Content-Disposition": 'attachment; filename="audit-events.csv"'}
    return StreamingResponse(iter([buffer.getvalue()]), media_type="text/csv", headers=headers)
