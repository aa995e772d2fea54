"""Starting and ending a login, for the API (`/auth/login`) and the web pages (`/app/login`) alike: the
same rate limits, password check, audit trail and session cookie, whichever door the person uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.deps import SESSION_COOKIE, Principal
from remotecare.api.security import new_token, token_digest, verify_password
from remotecare.store.base import utc_now
from remotecare.store.models import AuthSession, User


class LoginRefused(Exception):
    """Too many failed attempts (`retry_after` seconds to wait), or a wrong e-mail or password."""

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__("too many attempts" if retry_after else "wrong e-mail or password")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Login:
    user: User
    token: str
    expires_at: dt.datetime


def start_login(session: Session, request: Request, email: str, password: str) -> Login:
    """Check the password under the rate limits and open a login; every attempt is in the audit trail
    (committed). Raises LoginRefused."""
    limiter = request.app.state.login_limiter
    address = request.client.host if request.client else "unknown"
    email = email.strip().lower()
    keys = (f"email:{email}", f"ip:{address}")
    wait = limiter.retry_after(*keys)
    if wait:
        raise LoginRefused(wait)
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
        raise LoginRefused()
    limiter.succeeded(*keys)
    token = new_token()
    expires = utc_now() + dt.timedelta(hours=request.app.state.settings.session_hours)
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
    return Login(user, token, expires)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def end_login(session: Session, request: Request, principal: Principal, token: str | None) -> None:
    """Revoke the login `token` (the credential that authenticated the call) and record the logout."""
    if principal.kind == "user" and token:
        login_row = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_digest(token)))
        if login_row is not None:
            login_row.revoked_at = utc_now()
    audit.record(session, request, principal, action="logout", entity="user", entity_id=principal.id)
    session.commit()
