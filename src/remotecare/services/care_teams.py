"""The managed-service model: care teams that work the patients of practices which grant them access.

A practice grants a care team access for some programs and may revoke it at any time (it ends at once:
`practice_access` reads grants on every request). The team's staff then act in that practice as clinical
staff, for those programs only; their minutes belong to the patient's practice and program and are billed
by the practice, under general supervision of its billing practitioner.

The combined worklist is the one view across practices: it is built from one worklist per practice (each
its own queries, so practices may live on different database nodes), with the practice named on each row.
The team's report counts minutes and patients per practice, never a patient of one practice shown to
another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, distinct, func, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.rules.forecast import URGENCY
from remotecare.services.worklist import WorkItem, worklist
from remotecare.store.base import utc_now
from remotecare.store.models import CareTeam, CareTeamGrant, Practice, TimeEntry, User


class GrantRefusal(Exception):
    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


def grant_access(
    session: Session, practice_id: int, care_team_id: int, programs: Collection[Program], granted_by: int | None
) -> CareTeamGrant:
    """Let the team work the practice's patients in `programs`; one live grant per team and practice."""
    if session.get(CareTeam, care_team_id) is None:
        raise GrantRefusal("care_team_id", f"no care team {care_team_id}.")
    if not programs:
        raise GrantRefusal("programs", "name at least one program the care team may work in.")
    live = session.scalar(
        select(CareTeamGrant.id).where(
            CareTeamGrant.practice_id == practice_id,
            CareTeamGrant.care_team_id == care_team_id,
            CareTeamGrant.revoked_at.is_(None),
        )
    )
    if live is not None:
        raise GrantRefusal(
            "care_team_id", f"grant {live} to this care team is in force; change its programs or revoke it.", 409
        )
    grant = CareTeamGrant(
        practice_id=practice_id,
        care_team_id=care_team_id,
        programs=sorted(str(Program(program)) for program in programs),
        granted_by=granted_by,
    )
    session.add(grant)
    session.flush()
    return grant


def revoke_access(session: Session, grant: CareTeamGrant, revoked_by: int | None) -> CareTeamGrant:
    if grant.revoked_at is not None:
        raise GrantRefusal("grant", f"grant {grant.id} was revoked on {grant.revoked_at.isoformat()}.", 409)
    grant.revoked_at, grant.revoked_by = utc_now(), revoked_by
    session.flush()
    return grant


@dataclass(frozen=True, slots=True)
class TeamWorkItem:
    practice_id: int
    practice_name: str
    item: WorkItem


def combined_worklist(session: Session, care_team_id: int, as_of: dt.date | None = None) -> list[TeamWorkItem]:
    """Every open period of every practice that grants the team access, in the team's programs there, most
    at risk first across practices, as of `as_of` (default: today in each practice's own zone). One
    worklist per practice: nothing here joins two practices' data."""
    grants = session.execute(
        select(Practice.id, Practice.name, Practice.timezone, CareTeamGrant.programs)
        .join(CareTeamGrant, CareTeamGrant.practice_id == Practice.id)
        .where(CareTeamGrant.care_team_id == care_team_id, CareTeamGrant.revoked_at.is_(None))
        .order_by(Practice.name, Practice.id)
    ).all()
    rows: list[TeamWorkItem] = []
    for practice_id, name, zone, programs in grants:
        allowed = {str(program) for program in programs}
        day = as_of or dt.datetime.now(ZoneInfo(zone)).date()
        rows.extend(
            TeamWorkItem(practice_id, name, item)
            for item in worklist(session, practice_id, day)
            if item.program in allowed
        )
    rows.sort(key=_urgency)
    return rows


def _urgency(row: TeamWorkItem) -> tuple[object, ...]:
    item = row.item
    return (
        len(URGENCY) if item.status is None else URGENCY[item.status],
        -(item.payment_at_risk_usd or Decimal(0)),
        item.deadline or dt.date.max,
        row.practice_name,
        item.patient_name,
        item.enrollment_id,
    )


@dataclass(frozen=True, slots=True)
class TeamMonth:
    practice_id: int
    practice_name: str
    month: str  # YYYY-MM
    minutes: int
    patients: int
    staff: int
    entries: int


def team_report(session: Session, care_team_id: int, first: dt.date, last: dt.date) -> list[TeamMonth]:
    """Minutes the team's staff logged and patients they served, per practice and month: counts only (for
    the team's invoicing to each practice), from entries not deleted."""
    month = func.substr(cast(TimeEntry.service_date, String), 1, 7)  # YYYY-MM on both databases
    query = (
        select(
            TimeEntry.practice_id,
            Practice.name,
            month,
            func.sum(TimeEntry.minutes),
            func.count(distinct(TimeEntry.patient_id)),
            func.count(distinct(TimeEntry.user_id)),
            func.count(),
        )
        .join(User, User.id == TimeEntry.user_id)
        .join(Practice, Practice.id == TimeEntry.practice_id)
        .where(
            User.care_team_id == care_team_id,
            TimeEntry.deleted_at.is_(None),
            TimeEntry.service_date.between(first, last),
        )
        .group_by(TimeEntry.practice_id, Practice.name, month)
        .order_by(month, Practice.name)
    )
    return [
        TeamMonth(practice_id, name, str(key), int(minutes or 0), int(patients), int(staff), int(entries))
        for practice_id, name, key, minutes, patients, staff, entries in session.execute(query)
    ]
