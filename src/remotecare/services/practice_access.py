"""In which practices a person may act, and as what: the practice context of every request.

A person acts in a practice as one of three things:

- its own staff (`User.practice_id`), with their `User.role`;
- a member (`Membership`), with the role of the membership: one person, several practices, a role in each;
- a care team's staff (`User.care_team_id`) the practice granted access (`CareTeamGrant`): clinical staff,
  for the programs of the grant only. A revoked grant ends this at once: the next request is refused.

Nothing here is cached: revoking takes effect on the very next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.store.models import CareTeamGrant, Membership, Practice, Role, User

STAFF, MEMBER, CARE_TEAM = "staff", "member", "care_team"
CLINICIANS = frozenset({Role.CLINICAL_STAFF, Role.PHYSICIAN})  # who may be a patient's care manager


@dataclass(frozen=True, slots=True)
class Access:
    practice_id: int
    practice_name: str
    role: Role
    programs: frozenset[Program] | None  # None: every program
    via: str  # STAFF, MEMBER or CARE_TEAM
    care_team_id: int | None = None


def _grant_programs(programs: list[str]) -> frozenset[Program]:
    return frozenset(Program(program) for program in programs)


def accesses(session: Session, user_id: int, practice_id: int | None = None) -> list[Access]:
    """Every practice the user may act in now (or only `practice_id`), each with the role and programs of
    that context, in practice name order. Three small queries, one per way in."""
    user = session.execute(
        select(User.practice_id, User.role, User.care_team_id, User.active).where(User.id == user_id)
    ).one_or_none()
    if user is None or not user.active:
        return []
    only = [] if practice_id is None else [Practice.id == practice_id]
    found: dict[int, Access] = {}
    if user.practice_id is not None:
        for pid, name in session.execute(
            select(Practice.id, Practice.name).where(Practice.id == user.practice_id, *only)
        ):
            found[pid] = Access(pid, name, user.role, None, STAFF)
    memberships = (
        select(Practice.id, Practice.name, Membership.role)
        .join(Membership, Membership.practice_id == Practice.id)
        .where(Membership.user_id == user_id, Membership.active.is_(True), *only)
    )
    for pid, name, role in session.execute(memberships):
        found.setdefault(pid, Access(pid, name, role, None, MEMBER))
    if user.care_team_id is not None:
        grants = (
            select(Practice.id, Practice.name, CareTeamGrant.programs)
            .join(CareTeamGrant, CareTeamGrant.practice_id == Practice.id)
            .where(
                CareTeamGrant.care_team_id == user.care_team_id,
                CareTeamGrant.revoked_at.is_(None),
                *only,
            )
            .order_by(CareTeamGrant.id)
        )
        for pid, name, programs in session.execute(grants):
            if pid not in found:
                found[pid] = Access(
                    pid, name, Role.CLINICAL_STAFF, _grant_programs(programs), CARE_TEAM, user.care_team_id
                )
            else:  # two grants to one team: the union of their programs
                known = found[pid]
                if known.via == CARE_TEAM and known.programs is not None:
                    found[pid] = Access(
                        pid, name, known.role, known.programs | _grant_programs(programs), CARE_TEAM, user.care_team_id
                    )
    return sorted(found.values(), key=lambda access: (access.practice_name, access.practice_id))


def access_in(session: Session, user_id: int, practice_id: int) -> Access | None:
    """The user's access to one practice, or None: not theirs, or a grant revoked."""
    found = accesses(session, user_id, practice_id)
    return found[0] if found else None


def active_grant(session: Session, practice_id: int, care_team_id: int) -> CareTeamGrant | None:
    return session.scalar(
        select(CareTeamGrant).where(
            CareTeamGrant.practice_id == practice_id,
            CareTeamGrant.care_team_id == care_team_id,
            CareTeamGrant.revoked_at.is_(None),
        )
    )


def may_manage_care(session: Session, user_id: int, practice_id: int) -> bool:
    """Whether the person may be named a patient's care manager in the practice (see `care_managers`)."""
    found = _care_managers(practice_id).where(User.id == user_id).exists()
    return bool(session.scalar(select(found)))


def care_managers(session: Session, practice_id: int) -> list[tuple[int, str]]:
    """(id, name), by name, of everyone who may be named a patient's care manager in the practice: an active
    clinician who acts in it now, as its staff, a member, or a nurse of a care team it grants access. The
    choices offered and the check of a name given are the same query."""
    rows = session.execute(_care_managers(practice_id).order_by(User.full_name, User.id))
    return [(int(user_id), name) for user_id, name in rows]


def _care_managers(practice_id: int) -> Select[tuple[int, str]]:
    staff = and_(User.practice_id == practice_id, User.role.in_(CLINICIANS))
    members = select(Membership.user_id).where(
        Membership.practice_id == practice_id, Membership.active.is_(True), Membership.role.in_(CLINICIANS)
    )
    granted = select(CareTeamGrant.care_team_id).where(
        CareTeamGrant.practice_id == practice_id, CareTeamGrant.revoked_at.is_(None)
    )
    return select(User.id, User.full_name).where(
        User.active.is_(True), or_(staff, User.id.in_(members), User.care_team_id.in_(granted))
    )
