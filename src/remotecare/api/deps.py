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
from remotecare.domain.programs import Program
from remotecare.services.practice_access import access_in
from remotecare.store.base import utc_now
from remotecare.store.models import ApiKey, AuthSession, Role, User

SESSION_COOKIE = "remotecare_session"
# The practice a request acts in, for those who work in several (members, care teams); staff of one
# practice may leave it out.
PRACTICE_HEADER = "X-Practice-Id"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a person (by login) or an integration (by API key), acting in one practice.

    `practice_id` is the practice the request acts in (its context) and `role` the caller's role there;
    `programs`, when set, are the only programs the caller may work in (a care team's grant)."""

    kind: str  # "user" | "api_key"
    id: int
    practice_id: int
    role: Role
    label: str
    scope: str | None = None
    programs: frozenset[Program] | None = None
    via: str = "staff"  # staff, member or care_team (services.practice_access)
    care_team_id: int | None = None

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
    wanted = requested_practice(request)
    if token.startswith(API_KEY_PREFIX):
        principal = _from_api_key(session, token)
        if principal is not None and wanted is not None and wanted != principal.practice_id:
            raise _not_yours(wanted)
    else:
        principal = principal_from_login(session, token, wanted)
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


def requested_practice(request: Request) -> int | None:
    """The practice named by the request's X-Practice-Id header, if it names one."""
    value = request.headers.get(PRACTICE_HEADER)
    if value is None:
        return None
    if not value.strip().isdigit() or not 1 <= int(value) <= 2**53:
        raise ApiError(422, "invalid", f"{PRACTICE_HEADER}: not a practice id: {value[:20]!r}.", PRACTICE_HEADER)
    return int(value)


def _not_yours(practice_id: int) -> ApiError:
    # 404, not 403: whether a practice exists is not told to those outside it.
    return ApiError(404, "not_found", f"{PRACTICE_HEADER}: no practice {practice_id} among yours.", PRACTICE_HEADER)


def principal_from_login(session: Session, token: str, practice_id: int | None = None) -> Principal | None:
    """The user behind a login token (a bearer or the session cookie), acting in `practice_id` (default:
    their own practice), or None if the token is unknown, expired, revoked, or its user disabled. A
    practice that is not theirs (or whose grant was revoked) is refused with 404; none named, for someone
    with no practice of their own (a care team's staff), with 422."""
    row = session.connection().execute(LOGIN, {"digest": token_digest(token)}).first()
    if row is None:
        return None
    revoked_at, expires_at, user_id, home, role, email, active = row
    if revoked_at is not None or expires_at <= utc_now() or not active:
        return None
    if practice_id is None or practice_id == home:
        if home is None:
            raise ApiError(
                422,
                "invalid",
                f"{PRACTICE_HEADER}: required: you work in the practices that granted your care team access; "
                "name the one this request acts in (GET /auth/practices lists them).",
                PRACTICE_HEADER,
            )
        return Principal("user", user_id, home, role, email)
    access = access_in(session, user_id, practice_id)
    if access is None:
        raise _not_yours(practice_id)
    return Principal(
        "user",
        user_id,
        practice_id,
        access.role,
        email,
        programs=access.programs,
        via=access.via,
        care_team_id=access.care_team_id,
    )


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


@dataclass(frozen=True, slots=True)
class Person:
    """A logged-in person outside any one practice's context: for what spans practices (the practices one
    may act in; a care team's combined worklist and reports)."""

    id: int
    label: str
    role: Role
    practice_id: int | None  # their own practice, if they are a practice's staff
    care_team_id: int | None  # their care team, if they are a care team's staff


PERSON = select(User.id, User.email, User.role, User.practice_id, User.care_team_id)


def current_person(request: Request, session: SessionDep) -> Person:
    token = _bearer(request)
    if not token:
        raise ApiError(401, "unauthenticated", "Log in: send the bearer token or the session cookie.")
    if token.startswith(API_KEY_PREFIX):
        raise ApiError(403, "forbidden", "This call is for people, not integrations' API keys.")
    row = session.connection().execute(LOGIN, {"digest": token_digest(token)}).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utc_now() or not row.active:
        raise ApiError(401, "unauthenticated", "The token is unknown, expired or revoked.")
    person = session.execute(PERSON.where(User.id == row.id)).one()
    request.state.token = token
    return Person(person.id, person.email, person.role, person.practice_id, person.care_team_id)


def require_person(permission: str) -> Callable[[Person], Coroutine[Any, Any, Person]]:
    """Like `require`, for calls outside any one practice's context."""

    async def check(person: Annotated[Person, Depends(current_person)]) -> Person:
        if not role_may(person.role, permission):
            raise ApiError(403, "forbidden", f"Your role ({person.role}) may not {permission}.")
        return person

    check.permission = permission  # type: ignore[attr-defined]  # read by the authorization matrix test
    return check
