"""Who did the work a time-based claim line bills, and under whose supervision.

Clinical staff minutes (a practice's own nurses, or a care team's) are billed by the practice under general
supervision of its billing practitioner; the line names both: the people whose entries it counts
(`performed_by`, with their care team when they work for one) and the enrollment's billing practitioner
(`supervising_practitioner`). Two grouped queries per slice of lines, whatever their number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.rules.results import ClaimLine as ProposedLine
from remotecare.store.batches import chunks
from remotecare.store.models import CareTeam, Enrollment, TimeEntry, User

KEYS = ("performed_by", "supervising_practitioner")


def attributions(session: Session, practice_id: int, lines: Sequence[ProposedLine]) -> dict[int, dict[str, Any]]:
    """For each line (by its index in `lines`) that counts time entries: its performers and supervisor."""
    entry_ids = {
        int(entry["id"])
        for line in lines
        for entry in line.evidence.get("time_entries") or ()
        if isinstance(entry, dict) and entry.get("id")
    }
    if not entry_ids:
        return {}
    performers: dict[int, dict[str, Any]] = {}
    for chunk in chunks(sorted(entry_ids)):
        rows = session.execute(
            select(TimeEntry.id, User.id, User.full_name, CareTeam.name)
            .join(User, User.id == TimeEntry.user_id)
            .outerjoin(CareTeam, CareTeam.id == User.care_team_id)
            .where(TimeEntry.practice_id == practice_id, TimeEntry.id.in_(chunk))
        )
        for entry_id, user_id, name, team in rows:
            performers[entry_id] = {"user_id": user_id, "name": name, **({"care_team": team} if team else {})}
    enrollments = sorted({int(line.enrollment) for line in lines})
    supervisors: dict[int, dict[str, Any]] = {}
    for chunk in chunks(enrollments):
        rows = session.execute(
            select(Enrollment.id, User.id, User.full_name, User.npi)
            .join(User, User.id == Enrollment.billing_provider_id)
            .where(Enrollment.practice_id == practice_id, Enrollment.id.in_(chunk))
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
