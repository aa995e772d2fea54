"""Audit events for work done from the command line, where there is no request or login to name."""

from __future__ import annotations

from typing import Any

from remotecare.store.base import utc_now
from remotecare.store.models import AuditEvent


def command_event(practice_id: int, command: str, action: str, entity: str, detail: dict[str, Any]) -> AuditEvent:
    """An event by `remotecare <command>`: actor type "cli", labelled with the command."""
    return AuditEvent(
        practice_id=practice_id,
        at=utc_now(),
        actor_type="cli",
        actor_label=f"remotecare {command}",
        action=action,
        entity=entity,
        detail=detail,
    )
