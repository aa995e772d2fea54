"""Care plans: every saved state kept as a version, and the elements CMS requires that a plan still lacks.

A plan is built over several visits, so a plan without its required elements is stored, not refused;
`plan_problems` says what is missing, for the care team to finish (and for a biller to see why a month
of CCM or CPM is not yet supported by a complete plan).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.services.record_history import Version, changes_since, list_versions, snapshot
from remotecare.store.models import CarePlan, CarePlanVersion

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


def record_version(
    session: Session, plan: CarePlan, user_id: int | None, before: Mapping[str, Any] | None
) -> CarePlanVersion | None:
    """Keep the plan as just flushed as its version `plan.version`, with what changed (see
    `record_history.changes_since`). An update that changed nothing made no new version, and records none."""
    changes = changes_since(plan, SNAPSHOT_FIELDS, before)
    if before is not None and not changes:
        return None
    version = CarePlanVersion(
        practice_id=plan.practice_id,
        care_plan_id=plan.id,
        version=plan.version,
        changed_by=user_id,
        snapshot=snapshot(plan, SNAPSHOT_FIELDS),
        changes=changes,
    )
    session.add(version)
    session.flush()
    return version


def record_write(session: Session, actor: Actor, plan: CarePlan, before: Mapping[str, Any] | None) -> None:
    """The generic routes' `after_write` hook for care plans."""
    record_version(session, plan, actor.id if actor.kind == "user" else None, before)


def versions(session: Session, practice_id: int, plan_id: int) -> list[Version]:
    """Every version of one plan of the practice, oldest first, with the name of who saved it."""
    return list_versions(session, practice_id, CarePlanVersion, CarePlanVersion.care_plan_id, plan_id)


def _part(item: Any, name: str) -> Any:
    """A part of a goal or intervention, stored as a dict or shown as an object (or, before goals had
    target dates, a bare string, which has none)."""
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)
