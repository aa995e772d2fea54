"""Records whose every saved state is kept as a version row (care plans, time entries): the state as saved,
who saved it, and which fields changed from the version before."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from remotecare.store.base import Base
from remotecare.store.models import User


def jsonable(value: Any) -> Any:
    """A stored value as JSON shows it: dates and times in ISO 8601, enumerations by their value."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def snapshot(record: Any, fields: Sequence[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(record, name)) for name in fields}


def changes_since(record: Any, fields: Sequence[str], before: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a write changed, field -> {"from", "to"}: on creation (`before` None) every field with content;
    on an update the fields of `before` (their values before it) whose value differs now. Empty when an
    update changed nothing."""
    if before is None:
        now = snapshot(record, fields)
        return {name: {"from": None, "to": value} for name, value in now.items() if value not in (None, [])}
    return {
        name: {"from": jsonable(old), "to": jsonable(getattr(record, name))}
        for name, old in before.items()
        if jsonable(old) != jsonable(getattr(record, name))
    }


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    version: int
    action: str  # create, update, delete
    changed_at: dt.datetime
    changed_by: int | None
    changed_by_name: str | None
    changes: dict[str, Any]
    snapshot: dict[str, Any]


def list_versions(
    session: Session, practice_id: int, model: type[Base], owner: InstrumentedAttribute[int], owner_id: int
) -> list[Version]:
    """Every version of one record of the practice, oldest first, with the name of who saved each."""
    table: Any = model
    query = (
        select(table, User.full_name)
        .outerjoin(User, and_(User.id == table.changed_by, User.practice_id == practice_id))
        .where(table.practice_id == practice_id, owner == owner_id)
        .order_by(table.version)
    )
    return [
        Version(
            row.id,
            row.version,
            getattr(row, "action", None) or ("create" if row.version == 1 else "update"),
            row.changed_at,
            row.changed_by,
            name,
            dict(row.changes),
            dict(row.snapshot),
        )
        for row, name in session.execute(query)
    ]
