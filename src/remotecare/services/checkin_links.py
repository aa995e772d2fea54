"""Per-patient links to the mobile check-in page: signed by a random token, expiring, revocable.

The raw token (32 random bytes from `secrets`, url-safe) is returned once by `issue_link`, for the URL
`/c/{token}`; only its SHA-256 is stored, so a database leak gives no working link. `resolve_link` answers
None for a token that is unknown, expired (at or after `expires_at`) or revoked, and records the use.
The page a link opens shows nothing about the patient beyond their first name (the web page's duty).
Nothing is committed here; the caller commits with its audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.store.base import utc_now
from remotecare.store.models import CheckinLink, Patient

__all__ = ["DEFAULT_TTL", "MAX_TTL", "LinkError", "hash_token", "issue_link", "link_url", "resolve_link", "revoke_link"]

DEFAULT_TTL = dt.timedelta(days=7)
MAX_TTL = dt.timedelta(days=90)
TOKEN_BYTES = 32


class LinkError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(token: str) -> str:
    """The path of the check-in page for `token` (the web app serves it)."""
    return f"/c/{token}"


def issue_link(
    session: Session,
    practice_id: int,
    patient_id: int,
    created_by: int | None,
    *,
    ttl: dt.timedelta = DEFAULT_TTL,
    now: dt.datetime | None = None,
) -> tuple[CheckinLink, str]:
    """A new link for the patient, and its raw token (shown once). Raises LinkError for a bad ttl or patient."""
    now = utc_now() if now is None else now
    if not dt.timedelta(minutes=5) <= ttl <= MAX_TTL:
        raise LinkError("ttl", f"must be from 5 minutes to {MAX_TTL.days} days")
    found = session.scalar(select(Patient.id).where(Patient.practice_id == practice_id, Patient.id == patient_id))
    if found is None:
        raise LinkError("patient_id", f"no patient {patient_id} in this practice")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = CheckinLink(
        practice_id=practice_id,
        patient_id=patient_id,
        token_hash=hash_token(token),
        created_by=created_by,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(link)
    session.flush()
    return link, token


def resolve_link(session: Session, token: str, *, now: dt.datetime | None = None) -> CheckinLink | None:
    """The live link of `token` (its `last_used_at` set to now), or None: unknown, expired or revoked."""
    now = utc_now() if now is None else now
    if not token or len(token) > 200:
        return None
    link = session.scalar(select(CheckinLink).where(CheckinLink.token_hash == hash_token(token)))
    if link is None or link.revoked_at is not None or now >= link.expires_at:
        return None
    link.last_used_at = now
    session.flush()
    return link


def revoke_link(session: Session, link: CheckinLink, revoked_by: int | None, *, now: dt.datetime | None = None) -> None:
    """Revoke at once; revoking a revoked link keeps its first revocation."""
    if link.revoked_at is not None:
        return
    link.revoked_at = utc_now() if now is None else now
    link.revoked_by = revoked_by
    session.flush()
