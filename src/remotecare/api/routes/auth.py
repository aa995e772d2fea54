"""Log in and out: a session cookie for the browser and the same token as a bearer for API clients."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from remotecare.api import audit
from remotecare.api.deps import SESSION_COOKIE, Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.schemas.admin import LoginRequest, LoginResponse, Me
from remotecare.api.security import new_token, token_digest, verify_password
from remotecare.store.base import utc_now
from remotecare.store.models import AuthSession, User

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response, session: SessionDep) -> Any:
    settings = request.app.state.settings
    limiter = request.app.state.login_limiter
    address = request.client.host if request.client else "unknown"
    keys = (f"email:{body.email.lower()}", f"ip:{address}")
    wait = limiter.retry_after(*keys)
    if wait:
        raise ApiError(429, "too_many_attempts", f"Too many failed logins; try again in {wait} s.", "email")
    user = session.scalar(select(User).where(User.email == body.email.lower()))
    if not verify_password(user.password_hash if user else None, body.password) or user is None or not user.active:
        limiter.failed(*keys)
        audit.record(
            session,
            request,
            None,
            action="login_failed",
            entity="user",
            practice_id=user.practice_id if user else None,
            actor_label=body.email.lower()[:254],
        )
        session.commit()
        raise ApiError(401, "unauthenticated", "The e-mail or password is wrong.", "password")
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
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    return {"access_token": token, "expires_at": expires, "user": user}


@router.post("/logout", status_code=204)
def logout(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("self:read"))],
) -> Response:
    token = getattr(request.state, "token", None)
    if principal.kind == "user" and token:
        login_row = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_digest(token)))
        if login_row is not None:
            login_row.revoked_at = utc_now()
    audit.record(session, request, principal, action="logout", entity="user", entity_id=principal.id)
    session.commit()
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", response_model=Me)
def me(principal: Annotated[Principal, Depends(require("self:read"))]) -> Any:
    return principal
