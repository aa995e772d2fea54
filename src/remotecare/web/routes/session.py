"""Logging in and out in the browser: the same logins, limits and audit trail as `POST /auth/login`.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from remotecare.api import audit
from remotecare.api.deps import SESSION_COOKIE, SessionDep, principal_from_login
from remotecare.api.security import new_token, token_digest, verify_password
from remotecare.store.base import utc_now
from remotecare.store.models import AuthSession, Role, User
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
    settings = request.app.state.settings
    limiter = request.app.state.login_limiter
    address = request.client.host if request.client else "unknown"
    email = email.strip().lower()
    keys = (f"email:{email}", f"ip:{address}")
    wait = limiter.retry_after(*keys)
    if wait:
        error = f"Too many failed logins; try again in {wait} seconds."
        return page(request, None, "login.html", 429, next_path=_safe_next(next) or "", error=error, email=email)
    user = session.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        limiter.failed(*keys)
        audit.record(
            session,
            request,
            None,
            action="login_failed",
            entity="user",
            practice_id=user.practice_id if user else None,
            actor_label=email[:254],
        )
        session.commit()
        error = "The e-mail or password is wrong."
        return page(request, None, "login.html", 401, next_path=_safe_next(next) or "", error=error, email=email)
    limiter.succeeded(*keys)
    token = new_token()
    expires = utc_now() + dt.timedelta(hours=settings.session_hours)
    session.add(AuthSession(user_id=user.id, token_hash=token_digest(token), expires_at=expires, ip=address))
    audit.record(
        session,
        request,
        None,
        action="login",
        entity="user",
        entity_id=user.id,
        practice_id=user.practice_id,  # none for a care team's staff: they name a practice per request
        actor_id=user.id,
        actor_label=user.email,
    )
    session.commit()
    response = RedirectResponse(_safe_next(next) or home_of(user.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    return response


@router.post("/app/logout", response_class=RedirectResponse)
def log_out(request: Request, session: SessionDep) -> RedirectResponse:
    """A plain form (it works without script); SameSite=Lax keeps other sites from sending it."""
    token = request.cookies.get(SESSION_COOKIE)
    principal = principal_from_login(session, token) if token else None
    if principal is not None and token:
        login_row = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_digest(token)))
        if login_row is not None:
            login_row.revoked_at = utc_now()
        audit.record(session, request, principal, action="logout", entity="user", entity_id=principal.id)
        session.commit()
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
