"""Request dependencies: the database session, the caller, and permission checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api.errors import ApiError
from remotecare.api.permissions import API_KEY_SCOPES, role_may
from remotecare.api.security import API_KEY_PREFIX, token_digest
from remotecare.store.base import utc_now
from remotecare.store.models import ApiKey, AuthSession, Role, User

SESSION_COOKIE = "remotecare_session"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a person (by login) or an integration (by API key), in one practice."""

    kind: str  # "user" | "api_key"
    id: int
    practice_id: int
    role: Role
    label: str
    scope: str | None = None

    def may(self, permission: str) -> bool:
        if self.scope is not None and permission not in API_KEY_SCOPES.get(self.scope, frozenset()):
            return False
        return role_may(self.role, permission)


def get_session(request: Request) -> Iterator[Session]:
    factory = request.app.state.session_factory
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or request.cookies.get(SESSION_COOKIE)


def current_principal(request: Request, session: SessionDep) -> Principal:
    token = _bearer(request)
    if not token:
        raise ApiError(401, "unauthenticated", "Log in, or send a bearer token or an API key.")
    principal = _from_api_key(session, token) if token.startswith(API_KEY_PREFIX) else _from_login(session, token)
    if principal is None:
        raise ApiError(401, "unauthenticated", "The token or API key is unknown, expired or revoked.")
    request.state.principal = principal
    request.state.token = token  # logout revokes exactly the credential that authenticated the call
    return principal


def _from_login(session: Session, token: str) -> Principal | None:
    row = session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_digest(token))
    ).first()
    if row is None:
        return None
    login, user = row
    if login.revoked_at is not None or login.expires_at <= utc_now() or not user.active:
        return None
    return Principal("user", user.id, user.practice_id, user.role, user.email)


def _from_api_key(session: Session, key: str) -> Principal | None:
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == token_digest(key)))
    if api_key is None or api_key.revoked_at is not None:
        return None
    now = utc_now()
    # Noted at most once a minute: a write on every call would double the cost of posting a reading.
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        api_key.last_used_at = now
        session.commit()
    return Principal(
        "api_key", api_key.id, api_key.practice_id, Role.INTEGRATOR, f"api key {api_key.name}", api_key.scope
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Callable[[Principal], Principal]:
    """A dependency that lets the call through only with `permission` (see permissions.PERMISSIONS)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.may(permission):
            raise ApiError(403, "forbidden", f"Your role ({principal.role}) may not {permission}.")
        return principal

    check.permission = permission  # type: ignore[attr-defined]  # read by the authorization matrix test
    return check
