"""The managed-service model through the API: care teams, the grants practices give them, memberships in
several practices, and the views that span practices (the practices one may act in, a care team's combined
worklist and its report).

Calls in one practice's context (grants, memberships) are scoped and audited there like any other. The
calls that span practices take no practice context (`require_person`); each audit event they write goes to
the practice whose data it shows.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from remotecare.api import audit
from remotecare.api.crud import ItemId, load_or_record_miss
from remotecare.api.deps import Person, Principal, SessionDep, require, require_person
from remotecare.api.errors import ApiError
from remotecare.api.schemas.teams import (
    CareTeamPublic,
    GrantCreate,
    GrantPublic,
    MembershipCreate,
    MembershipPublic,
    PracticeAccessPublic,
    TeamMonthPublic,
    TeamWorkRow,
)
from remotecare.services import care_teams
from remotecare.services.practice_access import accesses
from remotecare.store.models import CareTeam, CareTeamGrant, Membership, User

router = APIRouter(tags=["care_teams"])
GrantManager = Annotated[Principal, Depends(require("grants:manage"))]
UserManager = Annotated[Principal, Depends(require("users:write"))]
UserReader = Annotated[Principal, Depends(require("users:read"))]
Someone = Annotated[Person, Depends(require_person("self:read"))]
TeamMember = Annotated[Person, Depends(require_person("team:read"))]


@router.get("/auth/practices", response_model=list[PracticeAccessPublic], summary="The practices you may act in")
def my_practices(session: SessionDep, person: Someone) -> Any:
    """Name one of these in the X-Practice-Id header to act in it (staff of one practice may leave it out)."""
    return [
        {
            "practice_id": access.practice_id,
            "practice_name": access.practice_name,
            "role": access.role,
            "programs": None if access.programs is None else sorted(access.programs),
            "via": access.via,
        }
        for access in accesses(session, person.id)
    ]


@router.get("/care-teams", response_model=list[CareTeamPublic], summary="The care teams a practice may grant")
def list_care_teams(session: SessionDep, principal: GrantManager) -> Any:
    return list(session.scalars(select(CareTeam).order_by(CareTeam.name)))


def _grant_out(grant: CareTeamGrant, team_name: str) -> dict[str, Any]:
    return {
        "id": grant.id,
        "care_team_id": grant.care_team_id,
        "care_team_name": team_name,
        "programs": grant.programs,
        "granted_by": grant.granted_by,
        "created_at": grant.created_at,
        "revoked_at": grant.revoked_at,
        "revoked_by": grant.revoked_by,
    }


@router.get("/care-team-grants", response_model=list[GrantPublic], summary="The practice's grants to care teams")
def list_grants(request: Request, session: SessionDep, principal: GrantManager) -> Any:
    rows = session.execute(
        select(CareTeamGrant, CareTeam.name)
        .join(CareTeam, CareTeam.id == CareTeamGrant.care_team_id)
        .where(CareTeamGrant.practice_id == principal.practice_id)
        .order_by(CareTeamGrant.id)
    ).all()
    audit.record_list(session, request, principal, entity="care_team_grant", ids=[g.id for g, _ in rows], query={})
    session.commit()
    return [_grant_out(grant, name) for grant, name in rows]


@router.post("/care-team-grants", response_model=GrantPublic, status_code=201, summary="Grant a care team access")
def create_grant(body: GrantCreate, request: Request, session: SessionDep, principal: GrantManager) -> Any:
    """The team's staff may then work this practice's patients in `programs`, as clinical staff."""
    try:
        grant = care_teams.grant_access(session, principal.practice_id, body.care_team_id, body.programs, principal.id)
    except care_teams.GrantRefusal as refusal:
        code = "conflict" if refusal.status == 409 else "unknown_reference"
        raise ApiError(refusal.status, code, f"{refusal.field}: {refusal.message}", refusal.field) from None
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="care_team_grant",
        entity_id=grant.id,
        detail={"care_team_id": grant.care_team_id, "programs": grant.programs},
    )
    session.commit()
    team = session.get(CareTeam, grant.care_team_id)
    return _grant_out(grant, team.name if team else "")


@router.post("/care-team-grants/{item_id}/revoke", response_model=GrantPublic, summary="Revoke a grant, at once")
def revoke_grant(item_id: ItemId, request: Request, session: SessionDep, principal: GrantManager) -> Any:
    """From the next request on, the team's staff find nothing of this practice (404)."""
    grant = load_or_record_miss(session, request, principal, CareTeamGrant, "care_team_grant", item_id)
    try:
        care_teams.revoke_access(session, grant, principal.id)
    except care_teams.GrantRefusal as refusal:
        raise ApiError(refusal.status, "conflict", f"{refusal.field}: {refusal.message}", refusal.field) from None
    audit.record(session, request, principal, action="revoke", entity="care_team_grant", entity_id=grant.id)
    session.commit()
    team = session.get(CareTeam, grant.care_team_id)
    return _grant_out(grant, team.name if team else "")


def _membership_out(membership: Membership, user: User) -> dict[str, Any]:
    return {
        "id": membership.id,
        "user_id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": membership.role,
        "active": membership.active,
    }


@router.get("/memberships", response_model=list[MembershipPublic], summary="People of other practices who work here")
def list_memberships(request: Request, session: SessionDep, principal: UserReader) -> Any:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.practice_id == principal.practice_id)
        .order_by(Membership.id)
    ).all()
    audit.record_list(session, request, principal, entity="membership", ids=[m.id for m, _ in rows], query={})
    session.commit()
    return [_membership_out(membership, user) for membership, user in rows]


@router.post("/memberships", response_model=MembershipPublic, status_code=201, summary="Give a person a role here")
def create_membership(body: MembershipCreate, request: Request, session: SessionDep, principal: UserManager) -> Any:
    """A person with a login elsewhere (another practice, a care team) gets `role` in this practice."""
    user = session.scalar(select(User).where(User.email == body.email.lower()))
    if user is None or not user.active:
        raise ApiError(422, "unknown_reference", f"email: no active login {body.email}.", "email")
    if user.practice_id == principal.practice_id:
        raise ApiError(409, "conflict", "email: this person is already this practice's own staff.", "email")
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.practice_id == principal.practice_id)
    )
    if membership is None:
        membership = Membership(user_id=user.id, practice_id=principal.practice_id, role=body.role)
        session.add(membership)
    else:
        membership.role, membership.active = body.role, True
    session.flush()
    audit.record(
        session,
        request,
        principal,
        action="create",
        entity="membership",
        entity_id=membership.id,
        detail={"user_id": user.id, "role": body.role.value},
    )
    session.commit()
    return _membership_out(membership, user)


@router.post("/memberships/{item_id}/end", response_model=MembershipPublic, summary="End a membership, at once")
def end_membership(item_id: ItemId, request: Request, session: SessionDep, principal: UserManager) -> Any:
    membership = load_or_record_miss(session, request, principal, Membership, "membership", item_id)
    membership.active = False
    audit.record(session, request, principal, action="end", entity="membership", entity_id=membership.id)
    session.commit()
    user = session.get(User, membership.user_id)
    assert user is not None
    return _membership_out(membership, user)


def _team_of(person: Person) -> int:
    if person.care_team_id is None:
        raise ApiError(404, "not_found", "You are not on a care team.")
    return person.care_team_id


@router.get("/care-team/worklist", response_model=list[TeamWorkRow], summary="Your care team's combined worklist")
def team_worklist(
    request: Request,
    session: SessionDep,
    person: TeamMember,
    as_of: Annotated[dt.date | None, Query(description="Default: today in each practice's zone.")] = None,
) -> Any:
    """Every practice that grants your team access, in its programs there; the practice named on each row,
    most at risk first. Built from one worklist per practice; each practice's audit trail gets the ids of
    its own patients that were shown."""
    team = _team_of(person)
    rows = care_teams.combined_worklist(session, team, as_of)
    shown = ((row.practice_id, row.item.patient_id) for row in rows)
    audit.record_team_list(
        session, request, entity="team_worklist", actor_id=person.id, actor_label=person.label, shown=shown
    )
    session.commit()
    return [
        {
            "practice_id": row.practice_id,
            "practice_name": row.practice_name,
            "patient_id": row.item.patient_id,
            "patient_name": row.item.patient_name,
            "program": row.item.program,
            "period_start": row.item.period_start,
            "period_end": row.item.period_end,
            "status": None if row.item.status is None else str(row.item.status),
            "deadline": row.item.deadline,
            "next_code": row.item.next_code,
            "payment_at_risk_usd": row.item.payment_at_risk_usd,
            "progress": row.item.progress,
        }
        for row in rows
    ]


@router.get("/care-team/report", response_model=list[TeamMonthPublic], summary="Your care team's work per practice")
def team_report(
    session: SessionDep,
    person: TeamMember,
    first: Annotated[dt.date, Query(alias="from", description="First service date.")],
    last: Annotated[dt.date, Query(alias="to", description="Last service date.")],
) -> Any:
    """Minutes logged and patients served per practice and month, counts only, for the team's invoicing."""
    team = _team_of(person)
    if last < first:
        raise ApiError(422, "invalid", "to: is before from.", "to")
    return care_teams.team_report(session, team, first, last)
