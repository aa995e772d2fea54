"""Request dependencies: the database session, the caller, and permission checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import bindparam, select, update
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


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Async so FastAPI runs it on the event loop: making a Session does no I/O (it connects on first use),
    # and a sync generator would cost two thread-pool hops per request, more than a small insert.
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
    principal = (
        _from_api_key(session, token) if token.startswith(API_KEY_PREFIX) else principal_from_login(session, token)
    )
    if principal is None:
        raise ApiError(401, "unauthenticated", "The token or API key is unknown, expired or revoked.")
    request.state.principal = principal
    request.state.token = token  # logout revokes exactly the credential that authenticated the call
    return principal


# Built once: every authenticated request runs one of these, and building a statement costs more than running it.
LOGIN = (
    select(
        AuthSession.revoked_at, AuthSession.expires_at, User.id, User.practice_id, User.role, User.email, User.active
    )
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("digest"))
)
KEY = select(ApiKey.id, ApiKey.practice_id, ApiKey.name, ApiKey.scope, ApiKey.revoked_at, ApiKey.last_used_at).where(
    ApiKey.key_hash == bindparam("digest")
)
KEY_USED = update(ApiKey).where(ApiKey.id == bindparam("key_id")).values(last_used_at=bindparam("now"))


def principal_from_login(session: Session, token: str) -> Principal | None:
    """The user behind a login token (a bearer or the session cookie), or None if it is unknown, expired,
    revoked, or its user is disabled."""
    row = session.connection().execute(LOGIN, {"digest": token_digest(token)}).first()
    if row is None:
        return None
    revoked_at, expires_at, user_id, practice_id, role, email, active = row
    if revoked_at is not None or expires_at <= utc_now() or not active:
        return None
    return Principal("user", user_id, practice_id, role, email)


def _from_api_key(session: Session, key: str) -> Principal | None:
    row = session.connection().execute(KEY, {"digest": token_digest(key)}).first()
    if row is None or row.revoked_at is not None:
        return None
    now = utc_now()
    # Noted at most once a minute: a write on every call would double the cost of posting a reading.
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        session.connection().execute(KEY_USED, {"key_id": row.id, "now": now})
        session.commit()
    return Principal("api_key", row.id, row.practice_id, Role.INTEGRATOR, f"api key {row.name}", row.scope)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets the call through only with `permission` (see permissions.PERMISSIONS)."""

    async def check(principal: CurrentPrincipal) -> Principal:  # no I/O: no thread-pool hop
        if not principal.may(permission):
            raise ApiError(403, "forbidden", f"Your role ({principal.role}) may not {permission}.")
        return principal

    check.permission = permission  # type: ignore[attr-defined]  # read by the authorization matrix test
    return check
