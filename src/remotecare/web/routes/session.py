"""Logging in and out in the browser: the same logins, limits and audit trail as `POST /auth/login`.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from remotecare.api.deps import SESSION_COOKIE, SessionDep, principal_from_login
from remotecare.api.logins import LoginRefused, end_login, set_session_cookie, start_login
from remotecare.store.models import Role
from remotecare.web.render import page

router = APIRouter(include_in_schema=False)

# Where each role starts: the page it works in most.
HOME = {Role.BILLER: "/app/billing", Role.ADMIN: "/app/worklist"}


def home_of(role: Role) -> str:
    return HOME.get(role, "/app/worklist")


def _safe_next(next_path: str | None) -> str | None:
    """Only a path of this site's own pages: never an address elsewhere."""
    if next_path and next_path.startswith("/app/") and not next_path.startswith("//"):
        return next_path
    return None


@router.get("/", response_class=RedirectResponse)
def root() -> RedirectResponse:
    return RedirectResponse("/app", status_code=303)


@router.get("/app", response_class=RedirectResponse)
def start(request: Request, session: SessionDep) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    principal = principal_from_login(session, token) if token else None
    return RedirectResponse(home_of(principal.role) if principal else "/app/login", status_code=303)


@router.get("/app/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002 - the query's name
    return page(request, None, "login.html", next_path=_safe_next(next) or "", error=None, email=None)


@router.post("/app/login", response_class=HTMLResponse)
def log_in(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=512)] = "",  # noqa: A002 - the form field's name
) -> Response:
    try:
        opened = start_login(session, request, email, password)
    except LoginRefused as refused:
        status, error = 401, "The e-mail or password is wrong."
        if refused.retry_after:
            status, error = 429, f"Too many failed logins; try again in {refused.retry_after} seconds."
        shown = email.strip().lower()
        return page(request, None, "login.html", status, next_path=_safe_next(next) or "", error=error, email=shown)
    response = RedirectResponse(_safe_next(next) or home_of(opened.user.role), status_code=303)
    set_session_cookie(request, response, opened.token)
    return response


@router.post("/app/logout", response_class=RedirectResponse)
def log_out(request: Request, session: SessionDep) -> RedirectResponse:
    """A plain form (it works without script); SameSite=Lax keeps other sites from sending it."""
    token = request.cookies.get(SESSION_COOKIE)
    principal = principal_from_login(session, token) if token else None
    if principal is not None:
        end_login(session, request, principal, token)
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
