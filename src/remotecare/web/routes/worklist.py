"""The care team's worklist page: every open period, most urgent first, as `services.worklist` orders it.

One pass: the worklist service (which filters), one grouped query for the open alerts of the patients
listed, one for the care managers to filter by; nothing per row. The filters are a plain GET form (it
works without script); htmx sends it on every change and swaps only the table.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.deps import SessionDep
from remotecare.domain.programs import Program
from remotecare.rules.forecast import Status
from remotecare.services.practice_access import care_managers
from remotecare.services.worklist import WorkItem, worklist
from remotecare.store.models import Alert, AlertStatus, Practice
from remotecare.web.auth import Viewer, page_for
from remotecare.web.progress import STATUS_LABELS, Bar, progress_bar, short_day, status_label
from remotecare.web.render import page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100  # rows per page: a large practice's whole list would be megabytes of HTML
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class Row:
    item: WorkItem
    bar: Bar
    status_label: str
    open_alerts: int
    period: str  # "Nov 3 – Dec 2"
    code_at_stake: str | None


def _row(item: WorkItem, open_alerts: int) -> Row:
    forecast_code = getattr(item.forecast, "code", None)  # a device period: the code it can still earn
    return Row(
        item,
        progress_bar(item.progress, item.status, item.deadline),
        status_label(item.status),
        open_alerts,
        f"{short_day(item.period_start)} – {short_day(item.period_end)}",
        forecast_code if item.progress.get("kind") == "days_with_data" else item.next_code,
    )


@dataclass(frozen=True, slots=True)
class Filters:
    program: Program | None = None
    care_manager: int | None = None
    status: Status | None = None
    as_of: dt.date | None = None
    page: int = 1

    def query(self) -> dict[str, str]:
        chosen: dict[str, object] = {"program": self.program, "care_manager": self.care_manager}
        chosen.update(status=self.status, as_of=self.as_of.isoformat() if self.as_of else None)
        return {name: str(value) for name, value in chosen.items() if value is not None}

    def page_link(self, number: int) -> str:
        return "?" + "&".join(f"{name}={value}" for name, value in {**self.query(), "page": str(number)}.items())


class BadFilter(ValueError):
    pass


def read_filters(request: Request) -> Filters:
    """The form's choices; an empty choice means all. A value no control offers is refused by name."""
    params = request.query_params
    try:
        program = Program(params["program"]) if params.get("program") else None
        status = Status(params["status"]) if params.get("status") else None
        care_manager = int(params["care_manager"]) if params.get("care_manager") else None
        as_of = dt.date.fromisoformat(params["as_of"]) if params.get("as_of") else None
        number = int(params["page"]) if params.get("page") else 1
    except ValueError as error:
        raise BadFilter(str(error)) from None
    if not 1 <= number <= 100_000:
        raise BadFilter("page")
    return Filters(program, care_manager, status, as_of, number)


@router.get("/app/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request, session: SessionDep, viewer: Annotated[Viewer, Depends(page_for("care:read"))]
) -> HTMLResponse:
    practice_id = viewer.principal.practice_id
    try:
        filters = read_filters(request)
    except BadFilter:
        return page(
            request,
            viewer,
            "error.html",
            400,
            heading="Unknown filter",
            message="A filter in the address is not one the worklist offers. Choose again from the worklist.",
        )
    zone = session.scalar(select(Practice.timezone).where(Practice.id == practice_id)) or "UTC"
    as_of = filters.as_of or dt.datetime.now(ZoneInfo(zone)).date()
    items = worklist(
        session,
        practice_id,
        as_of,
        program=filters.program,
        statuses={filters.status} if filters.status else None,
        care_manager_id=filters.care_manager,
    )
    if viewer.principal.programs is not None:  # a care team's staff: the granted programs only
        items = [item for item in items if item.program in viewer.principal.programs]
    show_alerts = viewer.may("alerts:read")
    pages = max(1, -(-len(items) // PAGE_SIZE))
    number = min(filters.page, pages)
    shown = items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]  # already in order of urgency
    alerts = _open_alerts(session, practice_id, {item.patient_id for item in shown}) if show_alerts else {}
    rows = [_row(item, alerts.get(item.patient_id, 0)) for item in shown]
    audit.record_list(
        session,
        request,
        viewer.principal,
        entity="worklist",
        ids=sorted({item.patient_id for item in shown}),  # what the page showed
        query={"as_of": as_of.isoformat(), **filters.query(), "page": number},
    )
    session.commit()
    fragment = request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "worklist-results"
    response = page(
        request,
        viewer,
        "worklist_table.html" if fragment else "worklist.html",
        rows=rows,
        total=len(items),
        at_risk_count=sum(1 for item in items if item.status == Status.AT_RISK),
        page_number=number,
        pages=pages,
        first_row=(number - 1) * PAGE_SIZE + 1,
        as_of=as_of,
        filters=filters,
        show_alerts=show_alerts,
        at_risk_total=sum(
            (item.payment_at_risk_usd or Decimal(0) for item in items if item.status == Status.AT_RISK), Decimal(0)
        ),
        programs=list(Program),
        statuses=list(STATUS_LABELS.items()),
        care_managers=[] if fragment else care_managers(session, practice_id),
    )
    response.headers["Vary"] = "HX-Request, HX-Target"  # the fragment and the page share an address
    return response


def _open_alerts(session: Session, practice_id: int, patient_ids: set[int]) -> dict[int, int]:
    if not patient_ids:
        return {}
    rows = session.execute(
        select(Alert.patient_id, func.count())
        .where(Alert.practice_id == practice_id, Alert.patient_id.in_(patient_ids), Alert.status.in_(UNRESOLVED))
        .group_by(Alert.patient_id)
    )
    return {int(patient_id): int(count) for patient_id, count in rows}
