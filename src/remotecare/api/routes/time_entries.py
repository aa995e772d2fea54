"""The time ledger's history and days: withdrawing an entry, its versions, and one person's day.

Entries are created and edited through the generic routes (`/time-entries`, see resources.py), which keep
a version on every write. Withdrawing one is `DELETE /time-entries/{id}`: the entry is kept, marked, and
counts for nothing from then on.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from remotecare.api import audit
from remotecare.api.crud import ItemId, load_or_record_miss, versions_read
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import RecordId
from remotecare.api.schemas.work import LedgerDayPublic, TimeEntryPublic, TimeEntryVersionPublic
from remotecare.services import time_entry_history
from remotecare.services.ledger_day import ledger_day
from remotecare.services.ledger_refusal import LedgerRefusal
from remotecare.store.models import TimeEntry, User

router = APIRouter(tags=["time_entry"])
reader = require("care:read")
writer = require("care:write")


@router.delete(
    "/time-entries/{item_id}",
    response_model=TimeEntryPublic,
    summary="Withdraw a time entry (it is kept, marked deleted, and counts for nothing)",
)
def delete_time_entry(
    item_id: ItemId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
    version: Annotated[
        int | None, Query(ge=1, description="Required: the version you read; a stale one is refused with 409.")
    ] = None,
    reason: Annotated[str | None, Query(max_length=500, description="Required: why it is withdrawn.")] = None,
) -> Any:
    # Both are required, but checked once the entry is found: another practice's entry answers 404 first.
    entry = load_or_record_miss(session, request, principal, TimeEntry, "time_entry", item_id)
    if version is None:
        raise ApiError(422, "invalid", "version: required: the version of the entry you read.", "version")
    try:
        time_entry_history.delete_entry(
            session, entry, principal.id if principal.kind == "user" else None, reason or "", version=version
        )
    except LedgerRefusal as refusal:
        raise ApiError(refusal.status, refusal.code, f"{refusal.field}: {refusal.message}", refusal.field) from None
    audit.record(
        session,
        request,
        principal,
        action="delete",
        entity="time_entry",
        entity_id=entry.id,
        detail={"reason": entry.delete_reason, "minutes": entry.minutes, "patient_id": entry.patient_id},
    )
    session.commit()
    return entry


@router.get(
    "/time-entries/{item_id}/versions",
    response_model=list[TimeEntryVersionPublic],
    summary="Every version of a time entry, oldest first",
)
def list_versions(
    item_id: ItemId, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(reader)]
) -> Any:
    """Created, each edit, and the withdrawal if any: who, when, which fields changed (from, to), the entry
    as saved."""
    return versions_read(session, request, principal, TimeEntry, "time_entry", item_id, time_entry_history.versions)


@router.get("/time-ledger", response_model=LedgerDayPublic, summary="One person's day: where every minute sits")
def read_ledger_day(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    user_id: Annotated[RecordId, Query(description="Whose day.")],
    date: Annotated[dt.date, Query(description="The day, in the practice's zone.")],
) -> Any:
    """Timed entries where they were logged; entries with only a duration placed in the time left free."""
    if session.scalar(select(User.id).where(User.id == user_id, User.practice_id == principal.practice_id)) is None:
        raise ApiError(422, "unknown_reference", f"user_id: no user {user_id} in this practice.", "user_id")
    day = ledger_day(session, principal.practice_id, user_id, date)
    audit.record_list(
        session,
        request,
        principal,
        entity="time_entry",
        ids=[entry.id for entry in day.entries],
        query={"user_id": user_id, "date": date.isoformat()},
    )
    session.commit()
    return day
