"""Outreach for missing readings, and the reminder outbox, over the caller's practice.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
import sys
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from remotecare.api import audit
from remotecare.api.crud import read_page
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import CareDate, Input, ListQuery, Output, Page, RecordId
from remotecare.api.visibility import in_programs
from remotecare.notify.senders import Sender, default_outbox_path, local_senders
from remotecare.services.outbox import REASON_MAX, TEMPLATE_MAX, OutboxError, dispatch, queue_reminders
from remotecare.services.outreach import OutreachItem, outreach_list
from remotecare.store.base import utc_now
from remotecare.store.models import OutboxMessage, OutboxStatus

router = APIRouter(tags=["outreach"])

Channel = Literal["sms", "email", "file", "console"]


class OutreachQuery(Input):
    as_of: CareDate | None = Field(default=None, description="Default: today (UTC).")
    quiet_days: int = Field(default=3, ge=1, le=30, description="Quiet after this many days without data.")
    margin: int = Field(default=2, ge=0, le=30, description="At risk with this many spare days or fewer.")


class ReminderRequest(Input):
    patient_ids: list[RecordId] = Field(min_length=1, max_length=500)
    channel: Channel
    template: str | None = Field(
        default=None,
        min_length=1,
        max_length=TEMPLATE_MAX,
        description="Plain text; `{first_name}` is the only placeholder. Default: a short reading reminder.",
    )
    reason: str = Field(min_length=1, max_length=REASON_MAX, description="Why, e.g. quiet or at_risk.")


class OutboxMessageOut(Output):
    id: int
    patient_id: int
    channel: str
    recipient: str | None
    body: str
    reason: str
    status: OutboxStatus
    created_by: int | None
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    sender: str | None
    error: str | None


class OutboxQuery(ListQuery):
    status: OutboxStatus | None = None


class DispatchQuery(Input):
    limit: int = Field(default=100, ge=1, le=500, description="Send at most this many messages.")


class DispatchReportOut(BaseModel):
    sent: list[int]
    failed: list[int]
    deferred: list[int] = Field(description="Texts left queued: quiet hours (21:00-08:00) where the patient is.")
    without_sender: dict[str, int] = Field(description="Queued messages of channels no sender is set up for.")


def app_senders(request: Request) -> Mapping[str, Sender]:
    """The senders set up for the app (`app.state.outbox_senders`), else the local ones: file messages to
    the settings' `outbox_path` (default: outbox.jsonl in the data folder) and console messages to stdout."""
    configured: Mapping[str, Sender] | None = getattr(request.app.state, "outbox_senders", None)
    if configured is not None:
        return configured
    settings = request.app.state.settings
    return local_senders(default_outbox_path(settings.outbox_path), sys.stdout)


@router.get("/outreach", response_model=list[OutreachItem], summary="Patients to call about missing readings")
def read_outreach(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("care:read"))],
    query: Annotated[OutreachQuery, Query()],
) -> Any:
    """Every open RPM or RTM period with a reason to call: at risk of missing 16 days (fewest spare days
    first), quiet (longest silence first), or past reaching 16 (with whether the 2-15 day code still can)."""
    items = outreach_list(
        session,
        principal.practice_id,
        query.as_of or utc_now().date(),
        quiet_days=query.quiet_days,
        margin=query.margin,
    )
    items = in_programs(principal, items)  # a care team's staff: their granted programs only
    audit.record_list(
        session,
        request,
        principal,
        entity="outreach",
        ids=sorted({item.patient_id for item in items}),
        query=query.model_dump(mode="json", exclude_none=True),
    )
    session.commit()
    return items


@router.post(
    "/outreach/reminders",
    response_model=list[OutboxMessageOut],
    status_code=201,
    summary="Queue reminders to patients",
)
def create_reminders(
    body: ReminderRequest,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("care:write"))],
) -> Any:
    """One queued message per patient, naming them by first name only; sent by POST /outbox/dispatch."""
    try:
        messages = queue_reminders(
            session,
            principal.practice_id,
            body.patient_ids,
            body.channel,
            body.template,
            principal.id if principal.kind == "user" else None,
            body.reason,
        )
    except OutboxError as error:
        raise ApiError(422, error.code, str(error), error.field) from None
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="outbox_message",
        detail={
            "ids": [message.id for message in messages],
            "patient_ids": list(body.patient_ids),
            "channel": body.channel,
            "reason": body.reason,
        },
    )
    session.commit()
    return messages


@router.get("/outbox", response_model=Page[OutboxMessageOut], summary="List the reminder outbox")
def list_outbox(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("care:read"))],
    query: Annotated[OutboxQuery, Query()],
) -> Any:
    """The practice's messages, newest first; `status` filters (queued, sent, failed)."""
    statement = select(OutboxMessage).where(OutboxMessage.practice_id == principal.practice_id)
    if query.status is not None:
        statement = statement.where(OutboxMessage.status == query.status)
    asked = query.model_dump(mode="json", exclude_none=True)
    rows, total = read_page(
        session, request, principal, statement.order_by(OutboxMessage.id.desc()), "outbox_message", asked
    )
    return {"items": rows, "total": total, "limit": query.limit, "offset": query.offset}


@router.post("/outbox/dispatch", response_model=DispatchReportOut, summary="Send the queued reminders")
def dispatch_outbox(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("care:write"))],
    query: Annotated[DispatchQuery, Query()],
) -> Any:
    """Sends the oldest queued messages through the app's senders; each message's outcome is kept even if
    a later one fails. Texts wait out the patient's quiet hours."""
    report = dispatch(session, principal.practice_id, app_senders(request), limit=query.limit)
    audit.record(
        session,
        request,
        principal,
        action="dispatch",
        entity="outbox_message",
        detail={
            "sent": report.sent,
            "failed": report.failed,
            "deferred": report.deferred,
            "without_sender": report.without_sender,
        },
    )
    session.commit()
    return {
        "sent": report.sent,
        "failed": report.failed,
        "deferred": report.deferred,
        "without_sender": report.without_sender,
    }
