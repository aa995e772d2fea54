"""A practice's records as a scenario file: for a biller's "what if", a bug report, or to check that the
database and a scenario file give the same lines for the same facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.services.billing_facts import PracticeFacts, load_facts
from remotecare.store.models import Observation


def export_scenario(session: Session, practice_id: int, window: Window, description: str = "") -> dict[str, Any]:
    """Every fact a billing run over `window` would read, with each reading listed one by one."""
    facts = load_facts(session, practice_id, window)
    return {
        "description": description or f"practice {practice_id}, exported for {window.start} to {window.end}",
        "window": {"from": window.start.isoformat(), "to": window.end.isoformat()},
        "patients": [
            {"id": p.id, "timezone": p.timezone, "established": p.established, "conditions": list(p.conditions)}
            for p in facts.patients.values()
        ],
        "enrollments": [
            {
                "id": e.id,
                "patient": e.patient,
                "program": str(e.program),
                "start": e.start.isoformat(),
                "end": _day(e.end),
                "consent": _day(e.consent),
                "focus": None if e.focus is None else str(e.focus),
                "complex": e.complex,
            }
            for e in facts.enrollments
        ],
        "devices": [
            {
                "id": d.id,
                "patient": d.patient,
                "program": str(d.program),
                "kind": d.kind,
                "medical_device": d.medical_device,
                "start": _day(d.start),
                "end": _day(d.end),
            }
            for d in facts.devices.values()
        ],
        "readings": _readings(session, practice_id, facts),
        "time": [
            {
                "id": t.id,
                "patient": t.patient,
                "program": str(t.program),
                "date": t.date.isoformat(),
                "minutes": t.minutes,
                "performer": str(t.performer),
                "interactive": t.interactive,
            }
            for t in facts.time_entries
        ],
        "encounters": [
            {"patient": c.patient, "date": c.date.isoformat(), "type": c.type, "face_to_face": c.face_to_face}
            for c in facts.encounters
        ],
    }


def _readings(session: Session, practice_id: int, facts: PracticeFacts) -> list[dict[str, Any]]:
    """Each reading, named by the assignment that covered its day (none: it counts for nothing)."""
    if not facts.enrollments:
        return []
    since = min(e.start for e in facts.enrollments)
    assignments: dict[tuple[str, int], list[tuple[dt.date | None, dt.date | None, str]]] = {}
    for assignment_id, device in facts.devices.items():
        key = (device.patient, facts.device_records[assignment_id])
        assignments.setdefault(key, []).append((device.start, device.end, device.id))
    out = []
    rows = session.execute(
        select(
            Observation.patient_id,
            Observation.device_id,
            Observation.effective_at,
            Observation.local_date,
            Observation.type,
            Observation.values,
            Observation.manual,
        )
        .where(
            Observation.practice_id == practice_id,
            Observation.local_date >= since,
            Observation.local_date <= facts.window.end,
        )
        .order_by(Observation.effective_at, Observation.id)
    )
    for patient_id, device_id, at, day, reading_type, values, manual in rows:
        if patient_id not in facts.patients:
            continue
        covering = next(
            (
                name
                for start, end, name in assignments.get((str(patient_id), device_id), [])
                if (start is None or start <= day) and (end is None or day <= end)
            ),
            None,
        )
        out.append(
            {
                "patient": str(patient_id),
                "device": covering,
                "at": at.isoformat(),
                "type": reading_type,
                "values": values,
                "manual": manual,
            }
        )
    return out


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()
