"""The time ledger's history: every saved state of an entry (created, edited, deleted) as a version.

An entry is never removed: deleting marks it (who, when, why) and writes a last version, so an auditor can
see what was logged, what was corrected and what was withdrawn. A deleted entry counts toward nothing
(billing, the ledger's checks) and cannot be edited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session

from remotecare.services.ledger_refusal import LedgerRefusal
from remotecare.services.record_history import Version, changes_since, list_versions, snapshot
from remotecare.store.base import utc_now
from remotecare.store.models import TimeEntry, TimeEntryVersion

SNAPSHOT_FIELDS = (
    "patient_id",
    "user_id",
    "program",
    "performer",
    "service_date",
    "started_at",
    "ended_at",
    "minutes",
    "interactive",
    "interaction_mode",
    "note",
    "alert_id",
    "deleted_at",
    "deleted_by",
    "delete_reason",
)


class Actor(Protocol):
    """Who writes (the API's Principal): a user's id goes on the version; an integration's does not."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> int: ...


def record_version(
    session: Session, entry: TimeEntry, user_id: int | None, action: str, before: Mapping[str, Any] | None
) -> TimeEntryVersion | None:
    """Keep the entry as just flushed as its version `entry.version`; an edit that changed nothing records
    none."""
    changes = changes_since(entry, SNAPSHOT_FIELDS, before)
    if before is not None and not changes:
        return None
    version = TimeEntryVersion(
        practice_id=entry.practice_id,
        time_entry_id=entry.id,
        version=entry.version,
        action=action,
        changed_by=user_id,
        snapshot=snapshot(entry, SNAPSHOT_FIELDS),
        changes=changes,
    )
    session.add(version)
    session.flush()
    return version


def record_write(session: Session, actor: Actor, entry: TimeEntry, before: Mapping[str, Any] | None) -> None:
    """The generic routes' `after_write` hook for time entries."""
    user_id = actor.id if actor.kind == "user" else None
    record_version(session, entry, user_id, "create" if before is None else "update", before)


def refuse_if_deleted(entry: TimeEntry) -> None:
    if entry.deleted_at is not None:
        raise LedgerRefusal(
            "version",
            f"entry {entry.id} was deleted on {entry.deleted_at.isoformat()} and is kept only as history.",
            status=409,
            code="conflict",
        )


def delete_entry(
    session: Session,
    entry: TimeEntry,
    user_id: int | None,
    reason: str,
    *,
    version: int,
    now: dt.datetime | None = None,
) -> TimeEntryVersion:
    """Withdraw an entry: mark it deleted (kept), with who, when and why, as a new version. `version` is the
    version the caller read: a stale one is refused, so a deletion never hides an edit it did not see."""
    refuse_if_deleted(entry)
    if version != entry.version:
        raise LedgerRefusal(
            "version",
            f"entry {entry.id} is at version {entry.version}, not {version}: read it again.",
            status=409,
            code="conflict",
        )
    if not reason.strip():
        raise LedgerRefusal("reason", "is required: say why the entry is withdrawn.")
    before = {name: getattr(entry, name) for name in ("deleted_at", "deleted_by", "delete_reason")}
    entry.deleted_at = now or utc_now()
    entry.deleted_by = user_id
    entry.delete_reason = reason.strip()
    session.flush()
    recorded = record_version(session, entry, user_id, "delete", before)
    assert recorded is not None  # the deletion marks changed
    return recorded


def versions(session: Session, practice_id: int, entry_id: int) -> list[Version]:
    """Every version of one entry of the practice, oldest first, with the name of who saved it."""
    return list_versions(session, practice_id, TimeEntryVersion, TimeEntryVersion.time_entry_id, entry_id)
