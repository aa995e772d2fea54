"""Who is looking at a page: the login behind the session cookie, and what their role may see.

A page without a valid login sends the browser to the login page (and back afterwards); a page the
role may not see answers 403 with a page saying so. Permissions are the API's own (`api.permissions`),
so a role sees in the browser exactly what it may do through the API.

Actions (POST) come from htmx, which sends `HX-Request: true`. A cross-site form cannot set that header
(and the session cookie is SameSite=Lax), so an action without it is refused: no cross-site request
forgery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy import select

from remotecare.api.deps import SESSION_COOKIE, Principal, SessionDep, principal_from_login
from remotecare.api.errors import ApiError
from remotecare.api.permissions import PERMISSIONS
from remotecare.services.practice_access import Access, accesses
from remotecare.store.models import Practice, Role, User

# The practice the browser works in, for people who work in several (members, care teams).
PRACTICE_COOKIE = "remotecare_practice"


class LoginRequired(Exception):
    """No valid login: the browser goes to the login page, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PracticeChoiceRequired(Exception):
    """A person who works in several practices (or none of their own) has not chosen one, or lost it."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """The role may not see or do this."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person at the browser: their login, name and practice, and what the navigation shows them."""

    principal: Principal
    name: str
    practice_name: str
    practices: tuple[Access, ...] = ()  # every practice they may switch to

    @property
    def role(self) -> Role:
        return self.principal.role

    def may(self, permission: str) -> bool:
        return self.principal.role in PERMISSIONS[permission]


def login_url(next_path: str) -> str:
    return f"/app/login?next={quote(next_path, safe='/')}"


def chosen_practice(request: Request) -> int | None:
    value = request.cookies.get(PRACTICE_COOKIE, "")
    return int(value) if value.isdigit() and 0 < int(value) <= 2**53 else None


def current_viewer(request: Request, session: SessionDep) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    try:
        principal = principal_from_login(session, token, chosen_practice(request)) if token else None
    except ApiError as refused:  # no practice chosen, or one no longer theirs (a grant revoked)
        if refused.status in (404, 422):
            raise PracticeChoiceRequired(request.url.path) from None
        raise
    if principal is None:
        raise LoginRequired(request.url.path)
    name = session.scalar(select(User.full_name).where(User.id == principal.id)) or principal.label
    practice_name = session.scalar(select(Practice.name).where(Practice.id == principal.practice_id)) or ""
    request.state.principal = principal  # the audit trail reads it from here, as for the API
    viewer = Viewer(principal, name, practice_name, tuple(accesses(session, principal.id)))
    request.state.viewer = viewer  # for the page that says no
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def page_for(permission: str) -> Callable[[Viewer], Viewer]:
    """A dependency: the viewer, if their role has `permission`."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def check(viewer: ViewerDep) -> Viewer:
        if not viewer.may(permission):
            raise PageForbidden(permission)
        return viewer

    return check


def action_for(permission: str) -> Callable[[Request, Viewer], Viewer]:
    """A dependency for an htmx action: the viewer, if their role has `permission` and htmx sent it."""
    guard = page_for(permission)

    def check(request: Request, viewer: ViewerDep) -> Viewer:
        if request.headers.get("hx-request") != "true":
            raise PageForbidden("actions come from the page itself")
        return guard(viewer)

    return check
