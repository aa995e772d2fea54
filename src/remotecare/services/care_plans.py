"""Care plans: every saved state kept as a version, and the elements CMS requires that a plan still lacks.

A plan is built over several visits, so a plan without its required elements is stored, not refused;
`plan_problems` says what is missing, for the care team to finish (and for a biller to see why a month
of CCM or CPM is not yet supported by a complete plan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.store.models import CarePlan, CarePlanVersion, User

# What a version's snapshot holds: the plan's content, as the API shows it.
SNAPSHOT_FIELDS = (
    "patient_id",
    "program",
    "problems",
    "goals",
    "interventions",
    "strengths",
    "desired_outcomes",
    "review_date",
)

# CCM needs a comprehensive care plan; CPM a person-centered one (strengths, goals, clinical needs,
# desired outcomes: ../shared/cms-rules.md section 4). Both: problems, goals with target dates,
# interventions with who is responsible for them.
PLAN_PROGRAMS = frozenset({Program.CCM, Program.CPM})
PERSON_CENTERED = frozenset({Program.CPM})


class PlanContent(Protocol):
    """A care plan as stored (goals and interventions as dicts) or as the API shows it (as objects)."""

    @property
    def program(self) -> Program: ...
    @property
    def problems(self) -> Sequence[str]: ...
    @property
    def goals(self) -> Sequence[Any]: ...
    @property
    def interventions(self) -> Sequence[Any]: ...
    @property
    def strengths(self) -> Sequence[str]: ...
    @property
    def desired_outcomes(self) -> Sequence[str]: ...


class Actor(Protocol):
    """Who writes (the API's Principal): a user's id goes on the version; an integration's does not."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> int: ...


def plan_problems(plan: PlanContent) -> list[str]:
    """The required elements a CCM or CPM plan lacks, by field ("goals.target_date": no goal has a target
    date). Empty for a complete plan, and for programs that need no plan of this kind."""
    if plan.program not in PLAN_PROGRAMS:
        return []
    missing: list[str] = []
    if not plan.problems:
        missing.append("problems")
    if not plan.goals:
        missing.append("goals")
    elif not any(_part(goal, "target_date") for goal in plan.goals):
        missing.append("goals.target_date")
    if not plan.interventions:
        missing.append("interventions")
    if plan.program in PERSON_CENTERED:
        if not plan.strengths:
            missing.append("strengths")
        if not plan.desired_outcomes:
            missing.append("desired_outcomes")
    return missing


def snapshot(plan: CarePlan) -> dict[str, Any]:
    return {name: _jsonable(getattr(plan, name)) for name in SNAPSHOT_FIELDS}


def record_version(
    session: Session, plan: CarePlan, user_id: int | None, before: Mapping[str, Any] | None
) -> CarePlanVersion | None:
    """Keep the plan as just flushed as its version `plan.version`, with what changed: every field that has
    content on creation (`before` None), else the fields of `before` (their values before the update) whose
    value differs now. An update that changed nothing made no new version, and records none."""
    now = snapshot(plan)
    if before is None:
        changes = {name: {"from": None, "to": value} for name, value in now.items() if value not in (None, [])}
    else:
        changes = {
            name: {"from": _jsonable(old), "to": _jsonable(getattr(plan, name))}
            for name, old in before.items()
            if _jsonable(old) != _jsonable(getattr(plan, name))
        }
        if not changes:
            return None
    version = CarePlanVersion(
        practice_id=plan.practice_id,
        care_plan_id=plan.id,
        version=plan.version,
        changed_by=user_id,
        snapshot=now,
        changes=changes,
    )
    session.add(version)
    session.flush()
    return version


def record_write(session: Session, actor: Actor, plan: CarePlan, before: Mapping[str, Any] | None) -> None:
    """The generic routes' `after_write` hook for care plans."""
    record_version(session, plan, actor.id if actor.kind == "user" else None, before)


@dataclass(frozen=True, slots=True)
class PlanVersion:
    id: int
    version: int
    changed_at: dt.datetime
    changed_by: int | None
    changed_by_name: str | None
    changes: dict[str, Any]
    snapshot: dict[str, Any]


def versions(session: Session, practice_id: int, plan_id: int) -> list[PlanVersion]:
    """Every version of one plan of the practice, oldest first, with the name of who saved it."""
    query = (
        select(CarePlanVersion, User.full_name)
        .outerjoin(User, and_(User.id == CarePlanVersion.changed_by, User.practice_id == practice_id))
        .where(CarePlanVersion.practice_id == practice_id, CarePlanVersion.care_plan_id == plan_id)
        .order_by(CarePlanVersion.version)
    )
    return [
        PlanVersion(row.id, row.version, row.changed_at, row.changed_by, name, dict(row.changes), dict(row.snapshot))
        for row, name in session.execute(query)
    ]


def _part(item: Any, name: str) -> Any:
    """A part of a goal or intervention, stored as a dict or shown as an object (or, before goals had
    target dates, a bare string, which has none)."""
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Program):
        return value.value
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value
