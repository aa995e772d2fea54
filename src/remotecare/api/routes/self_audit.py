"""The compliance self-audit of the caller's practice for a month: as JSON, CSV or a printable page.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from remotecare.api import audit
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.schemas.common import Input
from remotecare.domain.self_audit import AuditMonth, SelfAuditReport
from remotecare.reports.self_audit import report_csv, report_html, report_json
from remotecare.services.self_audit import self_audit
from remotecare.store.base import utc_now

router = APIRouter(tags=["self-audit"])


class SelfAuditQuery(Input):
    month: str = Field(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$", description="The month audited, YYYY-MM.")


class SourceOut(BaseModel):
    title: str
    number: str
    date: str


class MeasureOut(BaseModel):
    value_pct: float | None = Field(description="None when nothing to divide by (e.g. no enrollees before).")
    threshold_pct: float
    comparison: str = Field(description='"or more" or "more than", as the OIG worded it.')
    crosses: bool
    basis: str


class PatientOut(BaseModel):
    id: int
    name: str


class FindingOut(BaseModel):
    patient: PatientOut | None
    claim_line_ids: list[int]
    time_entry_ids: list[int]
    detail: str


class SectionOut(BaseModel):
    check: str
    title: str
    source: SourceOut
    measures: str
    measure: MeasureOut | None = Field(description="Practice-level checks only: the value against the threshold.")
    none_found: bool
    findings: list[FindingOut]


class PracticeRef(BaseModel):
    id: int
    name: str


class SelfAuditOut(BaseModel):
    practice: PracticeRef
    month: str
    settings: dict[str, Any] = Field(description="The thresholds in force: the OIG's unless the practice set its own.")
    sections: list[SectionOut]


AuditQuery = Annotated[SelfAuditQuery, Query()]
ClaimsReader = Annotated[Principal, Depends(require("claims:read"))]


def _audited(
    request: Request, session: SessionDep, principal: Principal, query: SelfAuditQuery, fmt: str
) -> SelfAuditReport:
    """The report, with the read (and every patient it names) in the audit trail."""
    report = self_audit(session, principal.practice_id, AuditMonth.parse(query.month))
    audit.record(
        session,
        request,
        principal,
        action="read" if fmt == "json" else "export",
        entity="self_audit",
        detail={"month": query.month, "format": fmt, "patient_ids": report.patient_ids},
    )
    session.commit()
    return report


@router.get("/self-audit", response_model=SelfAuditOut, summary="The practice's compliance self-audit")
def read_self_audit(request: Request, session: SessionDep, principal: ClaimsReader, query: AuditQuery) -> Any:
    """One section per OIG pattern (enrollment spike, no prior relationship, no treatment management, two
    or more device-supply lines in a month, several practices) and per extra check (three components,
    ordering provider and monitored condition, time before consent, keyed-in readings counted)."""
    return report_json(_audited(request, session, principal, query, "json"))


@router.get(
    "/self-audit.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The self-audit as CSV",
)
def export_self_audit_csv(
    request: Request, session: SessionDep, principal: ClaimsReader, query: AuditQuery
) -> Response:
    """One row per finding: check, source, patient id and name, claim line ids, time entry ids, detail."""
    report = _audited(request, session, principal, query, "csv")
    headers = {"Content-Disposition": f'attachment; filename="self-audit-{query.month}.csv"'}
    return Response(report_csv(report), media_type="text/csv", headers=headers)


@router.get(
    "/self-audit.html",
    response_class=Response,  # the page on success; errors stay JSON, as the document says
    responses={200: {"content": {"text/html": {}}}},
    summary="The self-audit as a printable page",
)
def export_self_audit_html(
    request: Request, session: SessionDep, principal: ClaimsReader, query: AuditQuery
) -> HTMLResponse:
    """The same report as one self-contained page, laid out for print."""
    report = _audited(request, session, principal, query, "html")
    return HTMLResponse(report_html(report, now=utc_now()))
