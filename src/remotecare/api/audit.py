"""The audit trail: every read and write of patient data, appended in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from sqlalchemy import insert
from sqlalchemy.orm import Session

from remotecare.api.deps import Principal
from remotecare.store.base import utc_now
from remotecare.store.models import AuditEvent

APPEND = insert(AuditEvent)


def record(
    session: Session,
    request: Request,
    principal: Principal | None,
    *,
    action: str,
    entity: str,
    entity_id: object = None,
    practice_id: int | None = None,
    detail: dict[str, Any] | None = None,
    actor_label: str | None = None,
    actor_id: int | None = None,
) -> None:
    """One append-only event. Without a principal (a failed login; a care team's staff, who act in no
    practice until they name one), `actor_id` and `actor_label` say who, if anyone is known."""
    client = request.client.host if request.client else None
    # A Core INSERT, written at once in the caller's transaction: the audit row needs nothing of the ORM.
    session.connection().execute(
        APPEND,
        {
            "practice_id": principal.practice_id if principal else practice_id,
            "at": utc_now(),
            "actor_type": principal.kind if principal else ("user" if actor_id is not None else "anonymous"),
            "actor_id": principal.id if principal else actor_id,
            "actor_label": (principal.label if principal else actor_label) or "anonymous",
            "action": action,
            "entity": entity,
            "entity_id": None if entity_id is None else str(entity_id),
            "ip": client,
            "user_agent": (request.headers.get("user-agent") or "")[:256] or None,
            "path": request.url.path[:256],
            "detail": detail or {},
        },
    )


def record_list(
    session: Session, request: Request, principal: Principal, *, entity: str, ids: Iterable[int], query: dict[str, Any]
) -> None:
    """A list read names every record it returned."""
    record(session, request, principal, action="list", entity=entity, detail={"ids": list(ids), "query": query})


def record_team_list(
    session: Session,
    request: Request,
    *,
    entity: str,
    actor_id: int,
    actor_label: str | None,
    shown: Iterable[tuple[int, int]],
) -> None:
    """A list a care team's staff read across practices (`shown`: (practice id, patient id) pairs): one
    event in each practice's own trail, naming only that practice's patients."""
    by_practice: dict[int, set[int]] = {}
    for practice_id, patient_id in shown:
        by_practice.setdefault(practice_id, set()).add(patient_id)
    for practice_id, patient_ids in sorted(by_practice.items()):
        record(
            session,
            request,
            None,
            action="list",
            entity=entity,
            practice_id=practice_id,
            actor_id=actor_id,
            actor_label=actor_label,
            detail={"ids": sorted(patient_ids)},
        )
