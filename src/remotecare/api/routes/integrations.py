"""Device-vendor integrations (admins) and the review queue of readings they could not place (care team)."""

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from remotecare.api import audit, ingesting
from remotecare.api.crud import ItemId, apply_filters, load_scoped, read_page, scoped
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import Page
from remotecare.api.schemas.ingest import (
    HeldReadingFilter,
    HeldReadingPublic,
    HeldReadingReleased,
    IntegrationCreate,
    IntegrationCreated,
    IntegrationPublic,
    IntegrationUpdate,
)
from remotecare.ingest.reading import IncomingReading, Outcome
from remotecare.services import ingestion
from remotecare.store.base import utc_now
from remotecare.store.models import HeldReading, HeldStatus, Integration

router = APIRouter()
manage = require("integrations:manage")
review = require("held_readings:review")


def _public(row: Integration) -> dict[str, Any]:
    return {
        **{name: getattr(row, name) for name in ("id", "vendor", "name", "active", "last_received_at", "version")},
        "webhook_path": f"/sms/inbound/{row.id}" if row.vendor == "sms" else f"/webhooks/{row.vendor}/{row.id}",
    }


@router.get("/integrations", response_model=list[IntegrationPublic], tags=["integrations"])
def list_integrations(session: SessionDep, principal: Annotated[Principal, Depends(manage)]) -> Any:
    return [_public(row) for row in session.scalars(scoped(Integration, principal).order_by(Integration.id))]


@router.post("/integrations", response_model=IntegrationCreated, status_code=201, tags=["integrations"])
def create_integration(
    body: IntegrationCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(manage)],
) -> Any:
    """A device vendor's webhook secret is made here and shown once. An SMS provider (`sms`) signs with its
    own auth token, which the admin gives (`auth_token`) and is never shown back."""
    if body.vendor == "sms":
        token = (body.auth_token or "").strip()
        if not token:
            raise ApiError(422, "invalid", "auth_token: required for sms: the provider's auth token.", "auth_token")
        secret, shown = token, None
    else:
        if body.auth_token is not None:
            raise ApiError(
                422, "invalid", f"auth_token: only for sms; a {body.vendor} secret is made here.", "auth_token"
            )
        secret = shown = secrets.token_urlsafe(32)
    row = Integration(practice_id=principal.practice_id, vendor=body.vendor, name=body.name, secret=secret)
    session.add(row)
    session.flush()
    audit.record(session, request, principal, action="create", entity="integration", entity_id=row.id)
    session.commit()
    return {**_public(row), "secret": shown}


@router.patch("/integrations/{item_id}", response_model=IntegrationPublic, tags=["integrations"])
def update_integration(
    item_id: ItemId,
    body: IntegrationUpdate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(manage)],
) -> Any:
    row = load_scoped(session, Integration, principal, "integration", item_id)
    if row.version != body.version:
        raise ApiError(
            409, "conflict", f"version: the record is at version {row.version}, not {body.version}.", "version"
        )
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for name, value in changes.items():
        if value is None:
            raise ApiError(422, "invalid", f"{name}: may not be null; leave it out to keep its value.", name)
        setattr(row, name, value)
    session.flush()
    audit.record(session, request, principal, action="update", entity="integration", entity_id=item_id, detail=changes)
    session.commit()
    return _public(row)


@router.get("/held-readings", response_model=Page[HeldReadingPublic], tags=["review queue"])
def list_held(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(review)],
    filters: Annotated[HeldReadingFilter, Query()],
) -> Any:
    query = apply_filters(scoped(HeldReading, principal), HeldReading, filters)
    ordered = query.order_by(HeldReading.received_at, HeldReading.id)
    asked = filters.model_dump(mode="json", exclude_none=True)
    rows, total = read_page(session, request, principal, ordered, "held_reading", asked)
    return {"items": rows, "total": total, "limit": filters.limit, "offset": filters.offset}


@router.post("/held-readings/{item_id}/release", response_model=HeldReadingReleased, tags=["review queue"])
def release_held(
    item_id: ItemId, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(review)]
) -> Any:
    """Once the device is registered and assigned, store the held reading as if it had just arrived."""
    held = _open_held(session, principal, item_id)
    reading = IncomingReading(
        type=held.type,
        values=held.values,
        at=held.effective_at,
        device_serial=held.device_serial,
        manual=held.manual,
        external_id=held.external_id,
        provenance=held.provenance,
    )
    planned = ingestion.plan(session, principal.practice_id, [reading], source=held.source, now=utc_now())
    if planned.held:
        raise ApiError(409, "still_unplaced", f"device_serial: {planned.held[0].values['reason']}.", "device_serial")
    [result] = ingestion.store(session, planned)
    if result.outcome is Outcome.REFUSED:
        raise ApiError(422, "invalid", f"{result.field}: {result.message}", result.field)
    held.status, held.resolved_at, held.observation_id = HeldStatus.RELEASED, utc_now(), result.id
    ingesting.record(session, request, principal, [result], practice_id=principal.practice_id, source=held.source)
    audit.record(session, request, principal, action="release", entity="held_reading", entity_id=item_id)
    session.commit()
    return {"held": held, "result": result.as_json()}


@router.post("/held-readings/{item_id}/discard", response_model=HeldReadingPublic, tags=["review queue"])
def discard_held(
    item_id: ItemId, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(review)]
) -> Any:
    """A reading from a device the practice does not use (a demo unit, another clinic's): kept, marked discarded."""
    held = _open_held(session, principal, item_id)
    held.status, held.resolved_at = HeldStatus.DISCARDED, utc_now()
    audit.record(session, request, principal, action="discard", entity="held_reading", entity_id=item_id)
    session.commit()
    return held


def _open_held(session: SessionDep, principal: Principal, item_id: int) -> HeldReading:
    held: HeldReading = load_scoped(session, HeldReading, principal, "held reading", item_id)
    if held.status is not HeldStatus.HELD:
        raise ApiError(409, "conflict", f"status: the reading was already {held.status.value}.", "status")
    return held
