"""Billing in the browser: a month's claim lines with their evidence, approve or void, the billing run and
the exports. The revenue report and the self-audit are in `billing_reports`.

Every decision is the API's: a line changes status by `prepare_claim_line`'s rules (a biller never marks a
line exported), a run is `run_billing`, an export is `export_approved` (it marks the lines exported in the
same transaction as its audit event).

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.crud import ItemId, load_or_record_miss
from remotecare.api.deps import SESSION_COOKIE, Principal, SessionDep
from remotecare.api.errors import ApiError
from remotecare.api.resources import CLAIM_TRANSITIONS, prepare_claim_line
from remotecare.api.security import token_digest
from remotecare.domain.facts import Window
from remotecare.exports.claims import ExportError
from remotecare.reports.evidence_packet import EvidenceNotFound, evidence_packet
from remotecare.services.billing_run import run_billing
from remotecare.services.claim_export import export_approved
from remotecare.services.record_history import jsonable
from remotecare.store.base import utc_now
from remotecare.store.models import ClaimLine, ClaimStatus, Patient
from remotecare.web.auth import PageForbidden, Viewer, action_for, page_for
from remotecare.web.office import iso_day, month_end, month_name, not_found, parse_month, practice_zone
from remotecare.web.render import page
from remotecare.web.routes import billing_reports

router = APIRouter(include_in_schema=False)
router.include_router(billing_reports.router)
Reader = Annotated[Viewer, Depends(page_for("claims:read"))]
Writer = Annotated[Viewer, Depends(action_for("claims:write"))]
Exporter = Annotated[Viewer, Depends(page_for("claims:write"))]

STATUSES = ("proposed", "approved", "exported", "void")
# A step on a line -> the status it asks for (checked against CLAIM_TRANSITIONS by prepare_claim_line).
STEPS = {"approve": ClaimStatus.APPROVED, "void": ClaimStatus.VOID, "undo": ClaimStatus.PROPOSED}
# format -> (label, file suffix, media type)
EXPORTS = {
    "csv": ("Superbill CSV", "csv", "text/csv"),
    "x12": ("X12 837P", "837", "application/edi-x12"),
    "fhir": ("FHIR Claims (JSON)", "json", "application/fhir+json"),
}


def export_token(request: Request) -> str:
    """The export form's token: bound to the login, unreadable by another site. A download is a plain form
    post (htmx cannot save a file), so this stands in for the HX-Request header that guards other actions."""
    return token_digest("export-form:" + (request.cookies.get(SESSION_COOKIE) or ""))


def _today(session: Session, viewer: Viewer) -> dt.date:
    return utc_now().astimezone(practice_zone(session, viewer.principal.practice_id)).date()


def _names(session: Session, practice_id: int, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(Patient.id, Patient.family_name, Patient.given_name).where(
            Patient.practice_id == practice_id, Patient.id.in_(ids)
        )
    )
    return {patient_id: f"{family}, {given}" for patient_id, family, given in rows}


def _month_lines(session: Session, practice_id: int, start: dt.date, status: str) -> list[ClaimLine]:
    query = select(ClaimLine).where(
        ClaimLine.practice_id == practice_id,
        ClaimLine.service_date >= start,
        ClaimLine.service_date <= month_end(start),
    )
    if status != "all":
        query = query.where(ClaimLine.status == ClaimStatus(status))
    return list(session.scalars(query.order_by(ClaimLine.patient_id, ClaimLine.service_date, ClaimLine.code)))


def _counts(session: Session, practice_id: int, start: dt.date) -> dict[str, int]:
    rows = session.execute(
        select(ClaimLine.status, func.count())
        .where(
            ClaimLine.practice_id == practice_id,
            ClaimLine.service_date >= start,
            ClaimLine.service_date <= month_end(start),
        )
        .group_by(ClaimLine.status)
    )
    found = {str(status.value): count for status, count in rows}
    return {status: found.get(status, 0) for status in STATUSES}


def _lines_context(request: Request, session: Session, viewer: Viewer, start: dt.date, status: str) -> dict[str, Any]:
    """What the lines section shows, with the read (every line and patient in it) in the audit trail."""
    practice_id = viewer.principal.practice_id
    lines = _month_lines(session, practice_id, start, status)
    query = {"month": f"{start:%Y-%m}", "status": status}
    audit.record_list(session, request, viewer.principal, entity="claim_line", ids=[x.id for x in lines], query=query)
    session.commit()
    return {
        "lines": lines,
        "names": _names(session, practice_id, {line.patient_id for line in lines}),
        "month": start,
        "month_text": month_name(start),
        "status": status,
        "counts": _counts(session, practice_id, start),
        "statuses": STATUSES,
        **_export_context(request, session, viewer),
        "iso_day": iso_day,
        "may_run": month_end(start) < _today(session, viewer),
        "transitions": CLAIM_TRANSITIONS,
        "notice": None,
        "error": None,
    }


def _export_context(request: Request, session: Session, viewer: Viewer) -> dict[str, Any]:
    approved = session.scalar(
        select(func.count())
        .select_from(ClaimLine)
        .where(ClaimLine.practice_id == viewer.principal.practice_id, ClaimLine.status == ClaimStatus.APPROVED)
    )
    return {"approved_total": approved or 0, "exports": EXPORTS, "export_token": export_token(request)}


@router.get("/app/billing", response_class=HTMLResponse)
def billing_page(
    request: Request,
    session: SessionDep,
    viewer: Reader,
    month: str | None = None,
    status: Literal["proposed", "approved", "exported", "void", "all"] = "proposed",
) -> HTMLResponse:
    start = parse_month(month, _today(session, viewer))
    return page(request, viewer, "billing.html", tab="lines", **_lines_context(request, session, viewer, start, status))


@router.post("/app/billing/lines/{item_id}/{step}", response_class=HTMLResponse)
def change_line(
    item_id: ItemId,
    step: Literal["approve", "void", "undo"],
    request: Request,
    session: SessionDep,
    viewer: Writer,
    version: Annotated[int, Form(ge=1)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """Approve, void (with a reason) or return a line to proposed; the row comes back as it now stands."""
    error, status_code = None, 200
    try:
        line = _change_status(session, request, viewer.principal, item_id, STEPS[step], version, reason.strip())
    except ApiError as refused:
        if refused.status == 404:
            return not_found(request, viewer, "such claim line")
        session.rollback()
        line = session.get_one(ClaimLine, item_id)
        error, status_code = _refusal_text(refused), 409 if refused.status == 409 else 422
    names = _names(session, viewer.principal.practice_id, {line.patient_id})
    context = {"line": line, "names": names, "transitions": CLAIM_TRANSITIONS, "error": error, "iso_day": iso_day}
    response = page(request, viewer, "claim_row.html", status_code, **context)
    if error is None:
        response.headers["HX-Trigger"] = "claims-changed"  # the export panel counts approved lines again
    return response


@router.get("/app/billing/export-panel", response_class=HTMLResponse)
def export_panel(request: Request, session: SessionDep, viewer: Reader) -> HTMLResponse:
    """The export section alone, after a line changed status."""
    return page(request, viewer, "billing_export.html", **_export_context(request, session, viewer))


def _change_status(
    session: Session,
    request: Request,
    principal: Principal,
    item_id: int,
    wanted: ClaimStatus,
    version: int,
    reason: str,
) -> ClaimLine:
    """The generic `PATCH /claim-lines/{id}` with a status, step by step, and the reason for a void."""
    line: ClaimLine = load_or_record_miss(session, request, principal, ClaimLine, "claim_line", item_id)
    if line.version != version:
        raise ApiError(409, "conflict", f"version: the record is at version {line.version}, not {version}.", "version")
    if wanted is ClaimStatus.VOID and not reason:
        raise ApiError(422, "invalid", "reason: say why the line is void.", "reason")
    changes = prepare_claim_line(session, principal, {"status": wanted}, line.id)
    before = {name: jsonable(getattr(line, name)) for name in changes}
    for name, value in changes.items():
        setattr(line, name, value)
    session.flush()  # the UPDATE names the version read: a concurrent change is refused
    detail: dict[str, Any] = {"before": before, "after": {name: jsonable(getattr(line, name)) for name in changes}}
    if reason:
        detail["reason"] = reason
    audit.record(session, request, principal, action="update", entity="claim_line", entity_id=item_id, detail=detail)
    session.commit()
    return line


def _refusal_text(error: ApiError) -> str:
    if error.field == "version":
        return "Someone changed this line since the page was loaded; it is shown as it is now."
    if error.field == "reason":
        return "Write why the line is void, then void it."
    return error.message.removeprefix(f"{error.field}: ").capitalize() if error.field else error.message


@router.post("/app/billing/run", response_class=HTMLResponse)
def run_for_month(
    request: Request, session: SessionDep, viewer: Writer, month: Annotated[str, Form(max_length=7)]
) -> HTMLResponse:
    """`POST /billing-runs` for the periods that end in the month; the lines section comes back with counts."""
    start = parse_month(month, _today(session, viewer))
    window = Window(start, month_end(start))
    report = run_billing(session, viewer.principal.practice_id, window)
    detail = {"from": window.start.isoformat(), "through": window.end.isoformat(), **report.counts()}
    audit.record(session, request, viewer.principal, action="bill", entity="claim_line", detail=detail)
    session.commit()
    context = _lines_context(request, session, viewer, start, "proposed")
    counts = report.counts()
    context["notice"] = (
        f"Billing ran for {month_name(start)}: {counts['proposed']} new, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['flagged']} flagged for review, {counts['voided']} voided."
    )
    return page(request, viewer, "billing_lines.html", **context)


@router.post("/app/billing/exports")
def download_export(
    request: Request,
    session: SessionDep,
    viewer: Exporter,
    fmt: Annotated[Literal["csv", "x12", "fhir"], Form(alias="format")],
    token: Annotated[str, Form(max_length=128)],
) -> Response:
    """Every approved line of the practice in one file, marked exported with the export's audit event."""
    if not hmac.compare_digest(token, export_token(request)):
        raise PageForbidden("the export form of this login")
    now = utc_now()
    try:
        text, ids = export_approved(session, viewer.principal.practice_id, fmt, now=now)
    except ExportError as refused:
        session.rollback()
        message = f"Nothing was exported or marked: {refused.field} {refused.message}."
        return page(request, viewer, "error.html", 422, heading="Export refused", message=message)
    label, suffix, media_type = EXPORTS[fmt]
    name = f"claims-{now:%Y%m%d-%H%M%S}.{suffix}"
    detail = {"format": fmt, "file": name, "line_ids": ids}
    audit.record(session, request, viewer.principal, action="export", entity="claim_line", detail=detail)
    session.commit()
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type=media_type, headers=headers)


@router.get("/app/billing/lines/{item_id}/evidence", response_class=HTMLResponse)
def evidence(item_id: ItemId, request: Request, session: SessionDep, viewer: Reader) -> HTMLResponse:
    """The line's audit packet: the rule applied and every record behind it, printable."""
    try:
        packet = evidence_packet(session, item_id, practice_id=viewer.principal.practice_id, now=utc_now())
    except EvidenceNotFound:
        audit.record(session, request, viewer.principal, action="not_found", entity="claim_line", entity_id=item_id)
        session.commit()
        return not_found(request, viewer, "such claim line")
    patient_id, served = session.execute(
        select(ClaimLine.patient_id, ClaimLine.service_date).where(ClaimLine.id == item_id)
    ).one()
    detail = {"view": "evidence_packet", "patient_id": patient_id}
    audit.record(
        session, request, viewer.principal, action="read", entity="claim_line", entity_id=item_id, detail=detail
    )
    session.commit()
    back = f'<p class="back"><a href="/app/billing?month={served:%Y-%m}">Back to billing</a></p>'
    return HTMLResponse(packet.replace("<body>", "<body>\n" + back, 1))
