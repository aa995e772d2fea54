"""Choosing the practice to work in, for people who work in several, and a care team's combined worklist.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from remotecare.api import audit
from remotecare.api.deps import SessionDep, current_person
from remotecare.api.errors import ApiError
from remotecare.services.care_teams import combined_worklist
from remotecare.services.practice_access import access_in, accesses
from remotecare.store.models import User
from remotecare.web.auth import PRACTICE_COOKIE, PageForbidden, login_url
from remotecare.web.render import page
from remotecare.web.routes.session import home_of

router = APIRouter(include_in_schema=False)


def _person(request: Request, session: SessionDep) -> User:
    """The logged-in person, whatever practice (if any) they work in now."""
    try:
        person = current_person(request, session)
    except ApiError:
        raise _LoginRedirect(request.url.path) from None
    user = session.get(User, person.id)
    assert user is not None  # the login's user
    return user


class _LoginRedirect(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _safe(next_path: str | None) -> str | None:
    return next_path if next_path and next_path.startswith("/app/") and not next_path.startswith("//") else None


@router.get("/app/practices", response_class=HTMLResponse)
def choose_practice(request: Request, session: SessionDep, next: str | None = None) -> Response:  # noqa: A002
    try:
        person = _person(request, session)
    except _LoginRedirect as missing:
        return RedirectResponse(login_url(missing.next_path), status_code=303)
    return page(
        request,
        None,
        "practices.html",
        person=person,
        practices=accesses(session, person.id),
        next_path=_safe(next) or "",
    )


@router.post("/app/practices", response_class=RedirectResponse)
def switch_practice(
    request: Request,
    session: SessionDep,
    practice_id: Annotated[int, Form(ge=1)],
    next: Annotated[str, Form(max_length=512)] = "",  # noqa: A002
) -> Response:
    """A plain form (works without script); SameSite=Lax keeps other sites from sending it."""
    try:
        person = _person(request, session)
    except _LoginRedirect as missing:
        return RedirectResponse(login_url(missing.next_path), status_code=303)
    access = access_in(session, person.id, practice_id)
    if access is None:
        return RedirectResponse("/app/practices", status_code=303)
    audit.record(
        session,
        request,
        None,
        action="switch",
        entity="practice",
        entity_id=practice_id,
        practice_id=practice_id,
        actor_id=person.id,
        actor_label=person.email,
        detail={"role": access.role.value, "via": access.via},
    )
    session.commit()
    response = RedirectResponse(_safe(next) or home_of(access.role), status_code=303)
    response.set_cookie(
        PRACTICE_COOKIE,
        str(practice_id),
        httponly=True,
        secure=request.app.state.settings.cookie_secure,
        samesite="lax",
    )
    return response


@router.get("/app/team", response_class=HTMLResponse)
def team_worklist(request: Request, session: SessionDep) -> Response:
    """A care team's combined worklist: the patients of every practice that grants the team access."""
    try:
        person = _person(request, session)
    except _LoginRedirect as missing:
        return RedirectResponse(login_url(missing.next_path), status_code=303)
    if person.care_team_id is None:
        raise PageForbidden("team:read")
    rows = combined_worklist(session, person.care_team_id)
    shown = ((row.practice_id, row.item.patient_id) for row in rows)
    audit.record_team_list(
        session, request, entity="team_worklist", actor_id=person.id, actor_label=person.email, shown=shown
    )
    session.commit()
    return page(request, None, "team_worklist.html", person=person, rows=rows)
