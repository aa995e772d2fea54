"""Device-vendor webhooks: signed payloads in each vendor's own shape, turned into readings."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from remotecare.api import audit, ingesting
from remotecare.api.deps import SessionDep
from remotecare.api.errors import ApiError, not_found
from remotecare.api.schemas.ingest import IngestReport, Vendor
from remotecare.ingest.signing import SIGNATURE_HEADER, SignatureError, verify
from remotecare.ingest.vendors import ADAPTERS
from remotecare.store.base import MAX_ID, utc_now
from remotecare.store.models import Integration

router = APIRouter(tags=["webhooks"])


async def raw_body(request: Request) -> bytes:
    # The signature covers the bytes as sent, so they are read before any JSON parsing.
    return await request.body()


@router.post(
    "/webhooks/{vendor}/{integration_id}",
    response_model=IngestReport,
    summary="Receive a vendor's signed webhook",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
)
def receive_webhook(
    vendor: Vendor,
    integration_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    session: SessionDep,
    body: Annotated[bytes, Depends(raw_body)],
) -> Any:
    """Authenticated by the signature, not a login: header `X-RemoteCare-Signature: t=<unix seconds>,v1=<hex>`,
    the HMAC-SHA256 of `<t>.<body>` with the integration's secret. Signatures older than five minutes are
    refused. Readings from devices the practice does not know, or that no patient had that day, are held
    for review."""
    integration = session.get(Integration, integration_id)
    if integration is None or not integration.active or integration.vendor != vendor:
        raise not_found("integration", integration_id)
    label = f"integration {integration.name}"
    try:
        verify(integration.secret, body, request.headers.get(SIGNATURE_HEADER), utc_now())
    except SignatureError as refusal:
        audit.record(
            session,
            request,
            None,
            action="denied",
            entity="webhook",
            entity_id=integration_id,
            practice_id=integration.practice_id,
            actor_label=label,
            detail={"reason": refusal.message},
        )
        session.commit()
        raise ApiError(401, "bad_signature", refusal.message, SIGNATURE_HEADER) from None
    items = ADAPTERS[vendor].parse(body)
    integration.last_received_at = utc_now()
    results = ingesting.run(
        session,
        request,
        None,
        items,
        practice_id=integration.practice_id,
        source=vendor,
        integration_id=integration.id,
        actor_label=label,
    )
    return ingesting.report(results)
