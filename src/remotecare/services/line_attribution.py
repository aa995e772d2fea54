"""Who did the work a time-based claim line bills, and under whose supervision.

Clinical staff minutes (a practice's own nurses, or a care team's) are billed by the practice under general
supervision of its billing practitioner; the line names both: the people whose entries it counts
(`performed_by`, with their care team when they work for one) and the enrollment's billing practitioner
(`supervising_practitioner`). Two queries per slice of patients, each a range of the (practice, patient)
index: lists of ids let SQLite walk the practice's whole index instead, which grew with the practice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.rules.results import ClaimLine as ProposedLine
from remotecare.store.models import CareTeam, Enrollment, TimeEntry, User

KEYS = ("performed_by", "supervising_practitioner")


def attributions(
    session: Session, practice_id: int, patients: tuple[int, int], lines: Sequence[ProposedLine]
) -> dict[int, dict[str, Any]]:
    """For each line (by its index in `lines`) that counts time entries: its performers and supervisor.
    Every line is of a patient whose id is in `patients` (first, last)."""
    entries = [entry for line in lines for entry in line.evidence.get("time_entries") or () if isinstance(entry, dict)]
    entry_ids = {int(entry["id"]) for entry in entries if entry.get("id")}
    if not entry_ids:
        return {}
    earliest = min(dt.date.fromisoformat(entry["date"]) for entry in entries if entry.get("id"))
    performers: dict[int, dict[str, Any]] = {}
    rows = session.execute(
        select(TimeEntry.id, User.id, User.full_name, CareTeam.name)
        .join(User, User.id == TimeEntry.user_id)
        .outerjoin(CareTeam, CareTeam.id == User.care_team_id)
        .where(
            TimeEntry.practice_id == practice_id,
            TimeEntry.patient_id.between(*patients),
            TimeEntry.service_date >= earliest,
        )
    )
    for entry_id, user_id, name, team in rows:
        if entry_id in entry_ids:
            performers[entry_id] = {"user_id": user_id, "name": name, **({"care_team": team} if team else {})}
    supervisors: dict[int, dict[str, Any]] = {}
    rows = session.execute(
        select(Enrollment.id, User.id, User.full_name, User.npi)
        .join(User, User.id == Enrollment.billing_provider_id)
        .where(Enrollment.practice_id == practice_id, Enrollment.patient_id.between(*patients))
    )
    for enrollment_id, user_id, name, npi in rows:
        supervisors[enrollment_id] = {"user_id": user_id, "name": name, "npi": npi}
    found: dict[int, dict[str, Any]] = {}
    for index, line in enumerate(lines):
        ids = [int(e["id"]) for e in line.evidence.get("time_entries") or () if isinstance(e, dict) and e.get("id")]
        if not ids:
            continue
        people = {performers[i]["user_id"]: performers[i] for i in ids if i in performers}
        found[index] = {
            "performed_by": [people[user_id] for user_id in sorted(people)],
            "supervising_practitioner": supervisors.get(int(line.enrollment)),
        }
    return found
