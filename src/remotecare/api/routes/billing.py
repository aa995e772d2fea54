"""Billing runs and the care team's worklist, over the caller's practice."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from remotecare.api import audit
from remotecare.api.crud import check_care_managers
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.common import CareDate, RecordId
from remotecare.api.visibility import in_programs
from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.rules.forecast import Status
from remotecare.services.billing_run import default_window, run_billing
from remotecare.services.worklist import WorkItem, worklist
from remotecare.store.base import utc_now

router = APIRouter(tags=["billing"])


class BillingRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    through: CareDate = Field(description="Bill every period that ends on or before this day.")
    from_: CareDate | None = Field(
        default=None, alias="from", description="Earliest period end (default: two months back)."
    )


class BillingRunReport(BaseModel):
    window_from: dt.date
    window_to: dt.date
    proposed: list[int]
    updated: list[int]
    unchanged: list[int]
    flagged: list[int]
    voided: list[int]


class WorklistQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: CareDate | None = Field(default=None, description="Default: today (UTC).")
    status: list[Status] | None = Field(
        default=None, description="Only periods whose forecast has one of these statuses (repeat to add more)."
    )
    program: Program | None = Field(default=None, description="Only this program's periods.")
    care_manager_id: RecordId | None = Field(
        default=None, description="Only the periods of the patients whose care manager is this user."
    )


@router.post("/billing-runs", response_model=BillingRunReport, summary="Run billing for the practice")
def create_billing_run(
    body: BillingRunRequest,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("claims:write"))],
) -> Any:
    """Proposes a claim line for every service the rules allow; a re-run doubles nothing, and late data
    only flags lines already approved or exported."""
    window = default_window(body.through) if body.from_ is None else Window(body.from_, body.through)
    if window.start > window.end:
        raise ApiError(422, "invalid", "from: is after through.", "from")
    report = run_billing(session, principal.practice_id, window)
    audit.record(
        session,
        request,
        principal,
        action="bill",
        entity="claim_line",
        detail={"from": window.start.isoformat(), "through": window.end.isoformat(), **report.counts()},
    )
    session.commit()
    return {"window_from": window.start, "window_to": window.end, **{k: getattr(report, k) for k in report.counts()}}


@router.get("/worklist", response_model=list[WorkItem], summary="What each patient still needs")
def read_worklist(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("care:read"))],
    query: Annotated[WorklistQuery, Query()],
) -> Any:
    """Every period still open on the day (today's last day included), with days or minutes so far, days
    left, the next threshold and the forecast: what is about to be lost first (at risk, short code only, on
    track, missed, met), then the most payment at risk, then the soonest deadline."""
    check_care_managers(session, principal, ("care_manager_id",), {"care_manager_id": query.care_manager_id})
    items = worklist(
        session,
        principal.practice_id,
        query.as_of or utc_now().date(),
        statuses=None if query.status is None else set(query.status),
        program=query.program,
        care_manager_id=query.care_manager_id,
    )
    items = in_programs(principal, items)  # a care team's staff: their granted programs only
    audit.record_list(
        session,
        request,
        principal,
        entity="worklist",
        ids=sorted({item.patient_id for item in items}),
        query=query.model_dump(mode="json", exclude_none=True),
    )
    session.commit()
    return items
