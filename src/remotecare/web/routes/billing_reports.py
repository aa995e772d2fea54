"""The billing reports in the browser: the month's revenue by program and code (a chart and the same
numbers as a table), and the compliance self-audit with a link to every patient and line it names.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from remotecare.api import audit
from remotecare.api.deps import SessionDep
from remotecare.domain.self_audit import AuditMonth
from remotecare.reports.self_audit import measure_text
from remotecare.services.revenue import revenue
from remotecare.services.self_audit import self_audit
from remotecare.store.base import utc_now
from remotecare.web.auth import Viewer, page_for
from remotecare.web.charts.bars import Bar, bar_chart, group_colours
from remotecare.web.office import month_end, month_name, parse_month, practice_zone
from remotecare.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Viewer, Depends(page_for("claims:read"))]


def _month(session: SessionDep, viewer: Viewer, month: str | None) -> dt.date:
    today = utc_now().astimezone(practice_zone(session, viewer.principal.practice_id)).date()
    return parse_month(month, today)


def _money(value: Decimal | float) -> str:
    return f"${value:,.2f}"


@router.get("/app/billing/revenue", response_class=HTMLResponse)
def revenue_page(request: Request, session: SessionDep, viewer: Reader, month: str | None = None) -> HTMLResponse:
    """Lines, units and national payment per program and code for the month (void lines left out)."""
    start = _month(session, viewer, month)
    rows = revenue(session, viewer.principal.practice_id, start, month_end(start))
    bars = [Bar(row.code, row.amount_usd, row.program) for row in rows]
    title = f"Revenue for {month_name(start)} by program and code, in US dollars"
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row.program] += row.amount_usd or 0
    return page(
        request,
        viewer,
        "billing_revenue.html",
        tab="revenue",
        month=start,
        month_text=month_name(start),
        rows=rows,
        chart=bar_chart(bars, title=title, value_text=_money),
        colours=group_colours(bars),
        totals=dict(totals),
        total=sum(totals.values(), Decimal(0)),
        unknown=[row.code for row in rows if row.amount_usd is None],
        proposed_units=sum(row.proposed_units for row in rows),
    )


@router.get("/app/billing/audit", response_class=HTMLResponse)
def self_audit_page(request: Request, session: SessionDep, viewer: Reader, month: str | None = None) -> HTMLResponse:
    """The OIG's patterns and the extra checks for the month, as `GET /self-audit` reports them."""
    start = _month(session, viewer, month)
    report = self_audit(session, viewer.principal.practice_id, AuditMonth(start.year, start.month))
    detail = {"month": f"{start:%Y-%m}", "format": "page", "patient_ids": report.patient_ids}
    audit.record(session, request, viewer.principal, action="read", entity="self_audit", detail=detail)
    session.commit()
    return page(
        request,
        viewer,
        "billing_audit.html",
        tab="audit",
        month=start,
        month_text=month_name(start),
        report=report,
        measure_text=measure_text,
        flagged=sum(1 for section in report.sections if not section.none_found),
    )
