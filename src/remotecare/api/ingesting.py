"""Run an ingestion for a request: the service's results, one audit event, one commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.deps import Principal
from remotecare.ingest.reading import ItemResult, Outcome, Parsed
from remotecare.services import ingestion
from remotecare.store.base import utc_now


def run(
    session: Session,
    request: Request,
    principal: Principal | None,
    items: Sequence[Parsed],
    *,
    practice_id: int,
    source: str,
    integration_id: int | None = None,
    actor_label: str | None = None,
) -> list[ItemResult]:
    results = ingestion.ingest(session, practice_id, items, source=source, now=utc_now(), integration_id=integration_id)
    record(session, request, principal, results, practice_id=practice_id, source=source, actor_label=actor_label)
    session.commit()
    return results


def record(
    session: Session,
    request: Request,
    principal: Principal | None,
    results: Sequence[ItemResult],
    *,
    practice_id: int,
    source: str,
    actor_label: str | None = None,
) -> None:
    """One audit event per call, naming every observation it stored and every reading it held."""
    counts = tally(results)
    audit.record(
        session,
        request,
        principal,
        action="ingest",
        entity="observation",
        practice_id=practice_id,
        actor_label=actor_label,
        detail={
            "source": source,
            **counts,
            "stored_ids": [r.id for r in results if r.outcome is Outcome.STORED],
            "held_ids": [r.id for r in results if r.outcome is Outcome.HELD],
        },
    )


def tally(results: Sequence[ItemResult]) -> dict[str, int]:
    counts = dict.fromkeys((outcome.value for outcome in Outcome), 0)
    for result in results:
        counts[result.outcome.value] += 1
    return counts


def report(results: Sequence[ItemResult], renames: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The answer to a batch: counts, then one entry per item in the order sent."""
    items = []
    for result in results:
        item = result.as_json()
        if renames and item.get("field"):
            item["field"] = rename(item["field"], renames)
        items.append(item)
    return {**tally(results), "items": items}


def rename(field: str, renames: Mapping[str, str]) -> str:
    """The service names fields generically (`at`, `patient`, `device`); each API names them its own way."""
    head, dot, rest = field.partition(".")
    return renames.get(head, head) + dot + rest
