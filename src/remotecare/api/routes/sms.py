"""Texts from patients (the SMS provider's signed webhook) and the daily check-in prompts.

The provider's auth token lives in an `Integration` row of vendor "sms" (its `secret`), made with
`remotecare sms connect`; the phone number's webhook is `POST /sms/inbound/{integration_id}`, which is how a
text finds its practice. Replies are not put in the webhook's answer (an empty TwiML `<Response/>`): they are
queued in the outbox, so every text sent is recorded, and sent at once through the app's "sms" sender (the
crisis resources even in quiet hours; other replies wait for 08:00 there).

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from remotecare.api import audit
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.routes.outreach import app_senders
from remotecare.notify.sms_inbound import PROVIDERS, InboundSmsError, SignatureError, SmsProvider
from remotecare.services.outbox import dispatch
from remotecare.services.sms_checkins import already_handled, handle_reply, prompt
from remotecare.store.base import MAX_ID, utc_now
from remotecare.store.models import Integration

router = APIRouter(tags=["sms"])

# Integration vendor -> the provider whose webhook it receives. Another provider gets a vendor of its own.
SMS_VENDORS: dict[str, SmsProvider] = {"sms": PROVIDERS["twilio"]}
FORM_MAX = 64 * 1024


async def raw_body(request: Request) -> bytes:
    # The signature covers the fields exactly as sent, so they are read before anything parses them.
    return await request.body()


def signed_url(request: Request) -> str:
    """The URL the provider signed: the configured public address with this path and query, else as received."""
    public: str | None = request.app.state.settings.public_url
    if not public:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return public.rstrip("/") + request.url.path + query


class PromptReportOut(BaseModel):
    queued: list[int] = Field(description="The outbox messages queued (one per patient).")
    patient_ids: list[int]
    not_yet: int = Field(description="Patients whose usual check-in time has not come yet today.")
    already: int = Field(description="Patients prompted today already, or whose pain is recorded today.")
    quiet: int = Field(description="Patients in their quiet hours (21:00-08:00).")
    not_asked: int = Field(description="Patients whose check-in has no 0-10 pain question.")


@router.post(
    "/sms/inbound/{integration_id}",
    summary="Receive a patient's text (the SMS provider's signed webhook)",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "An empty TwiML answer."}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
        }
    },
)
def receive_sms(
    integration_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    session: SessionDep,
    body: Annotated[bytes, Depends(raw_body)],
) -> Response:
    """Authenticated by the provider's signature, not a login (Twilio: `X-Twilio-Signature`, HMAC-SHA1 of the
    URL and the sorted form fields with the auth token). An unknown or inactive number answers 401 like a
    bad signature, so the endpoint tells a caller without the token nothing. A message id seen before is
    acknowledged and ignored (the signature has no timestamp, so this is the replay protection)."""
    integration = session.get(Integration, integration_id)
    provider = SMS_VENDORS.get(integration.vendor) if integration is not None else None
    header = provider.signature_header if provider is not None else PROVIDERS["twilio"].signature_header
    params = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    try:
        if integration is None or provider is None or not integration.active:
            raise SignatureError(f"{header}: does not match the request")
        if len(body) > FORM_MAX:
            raise SignatureError(f"{header}: the request is too large to be a text")
        provider.verify(integration.secret, signed_url(request), params, request.headers.get(header))
    except SignatureError as refusal:
        if integration is not None:
            audit.record(
                session,
                request,
                None,
                action="denied",
                entity="sms",
                entity_id=integration_id,
                practice_id=integration.practice_id,
                actor_label=f"integration {integration.name}",
                detail={"reason": refusal.message},
            )
            session.commit()
        raise ApiError(401, "bad_signature", refusal.message, header) from None
    try:
        inbound = provider.parse(dict(params))
    except InboundSmsError as error:
        raise ApiError(422, "invalid", str(error), error.field) from None
    acknowledgement, media_type = provider.acknowledgement()
    practice_id = integration.practice_id
    now = utc_now()
    integration.last_received_at = now
    label = f"integration {integration.name}"
    if already_handled(session, practice_id, inbound.message_id):
        session.commit()
        return Response(acknowledgement, media_type=media_type)
    reply = handle_reply(session, practice_id, inbound, now)
    audit.record(
        session,
        request,
        None,
        action="inbound",
        entity="sms",
        entity_id=inbound.message_id,
        practice_id=practice_id,
        actor_label=label,
        detail={"integration_id": integration.id, **reply.audit_detail()},
    )
    session.commit()
    if reply.message_ids:
        # At once: the crisis resources whatever the hour; other replies unless it is quiet hours there.
        report = dispatch(session, practice_id, app_senders(request), now=now, message_ids=reply.message_ids)
        audit.record(
            session,
            request,
            None,
            action="dispatch",
            entity="outbox_message",
            practice_id=practice_id,
            actor_label=label,
            detail={"sent": report.sent, "failed": report.failed, "deferred": report.deferred},
        )
        session.commit()
    return Response(acknowledgement, media_type=media_type)


@router.post("/sms/prompts", response_model=PromptReportOut, summary="Queue today's check-in prompts that are due")
def queue_prompts(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("care:write"))],
) -> Any:
    """Queues the daily pain prompt to every patient due now: a phone, no STOP, enrolled in RTM or CPM with
    the 0-10 pain question, past their usual check-in time (default 18:00) in their zone, outside quiet
    hours, not prompted or answered today. Sent by POST /outbox/dispatch (or a scheduler)."""
    report = prompt(session, principal.practice_id, utc_now())
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="outbox_message",
        detail={"ids": report.queued, "patient_ids": report.patient_ids, "reason": "sms_checkin_prompt"},
    )
    session.commit()
    return report
