"""Care teams, their grants, memberships in several practices, and the practices a person may act in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from remotecare.api.schemas.common import Input, Output, RecordId
from remotecare.domain.programs import Program
from remotecare.store.models import Role


class PracticeAccessPublic(Output):
    practice_id: int
    practice_name: str
    role: Role
    programs: list[Program] | None = Field(description="The programs one may work in there; null: all.")
    via: str = Field(description="staff (one's own practice), member, or care_team (a grant).")


class CareTeamPublic(Output):
    id: int
    name: str


class GrantCreate(Input):
    care_team_id: RecordId
    programs: list[Program] = Field(min_length=1, max_length=10)


class GrantPublic(Output):
    id: int
    care_team_id: int
    care_team_name: str
    programs: list[Program]
    granted_by: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: int | None


class MembershipCreate(Input):
    email: str = Field(min_length=3, max_length=254, description="The login of a person who already has one.")
    role: Role


class MembershipPublic(Output):
    id: int
    user_id: int
    email: str
    full_name: str
    role: Role
    active: bool


class TeamWorkRow(Output):
    practice_id: int
    practice_name: str
    patient_id: int
    patient_name: str
    program: str
    period_start: dt.date
    period_end: dt.date
    status: str | None
    deadline: dt.date | None
    next_code: str | None
    payment_at_risk_usd: Decimal | None
    progress: dict[str, object]


class TeamMonthPublic(Output):
    practice_id: int
    practice_name: str
    month: str
    minutes: int
    patients: int
    staff: int
    entries: int
