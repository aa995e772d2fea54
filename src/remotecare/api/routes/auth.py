"""Log in and out: a session cookie for the browser and the same token as a bearer for API clients."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from remotecare.api.deps import SESSION_COOKIE, Principal, SessionDep, require
from remotecare.api.errors import ApiError
from remotecare.api.logins import LoginRefused, end_login, set_session_cookie, start_login
from remotecare.api.schemas.admin import LoginRequest, LoginResponse, Me

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response, session: SessionDep) -> Any:
    try:
        opened = start_login(session, request, body.email, body.password)
    except LoginRefused as refused:
        if refused.retry_after:
            message = f"Too many failed logins; try again in {refused.retry_after} s."
            raise ApiError(429, "too_many_attempts", message, "email") from None
        raise ApiError(401, "unauthenticated", "The e-mail or password is wrong.", "password") from None
    set_session_cookie(request, response, opened.token)
    return {"access_token": opened.token, "expires_at": opened.expires_at, "user": opened.user}


@router.post("/logout", status_code=204)
def logout(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("self:read"))],
) -> Response:
    end_login(session, request, principal, getattr(request.state, "token", None))
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", response_model=Me)
def me(principal: Annotated[Principal, Depends(require("self:read"))]) -> Any:
    return principal
