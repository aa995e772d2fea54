"""Consents, enrollments, encounters and care plans."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, computed_field, field_serializer, model_validator

from remotecare.api.schemas.common import (
    CareDate,
    Flag,
    Icd10Code,
    Input,
    ListQuery,
    Note,
    Output,
    RecordId,
    Versioned,
)
from remotecare.domain.programs import Program, RtmFocus
from remotecare.services.care_plans import plan_problems


class ConsentCreate(Input):
    patient_id: RecordId
    program: Program
    obtained_on: CareDate
    method: Literal["verbal", "written"]
    revoked_on: CareDate | None = None
    note: Note | None = None


class ConsentUpdate(Versioned):
    revoked_on: CareDate | None = None
    note: Note | None = None


class ConsentPublic(Output):
    id: int
    patient_id: RecordId
    program: Program
    obtained_on: dt.date
    method: str
    revoked_on: dt.date | None
    note: str | None
    version: int


class ConsentFilter(ListQuery):
    patient_id: RecordId | None = None
    program: Program | None = None


class EnrollmentCreate(Input):
    patient_id: RecordId
    program: Program
    start_date: CareDate
    end_date: CareDate | None = None
    focus: RtmFocus | None = None
    complex: Flag = False
    billing_provider_id: RecordId | None = None
    ordering_provider_id: RecordId | None = None
    monitored_conditions: list[Icd10Code] = Field(default_factory=list, max_length=12)

    @model_validator(mode="after")
    def _coherent(self) -> EnrollmentCreate:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if self.focus is not None and self.program != Program.RTM:
            raise ValueError("focus applies to RTM enrollments only")
        return self


class EnrollmentUpdate(Versioned):
    end_date: CareDate | None = None
    focus: RtmFocus | None = None
    complex: Flag | None = None
    billing_provider_id: RecordId | None = None
    ordering_provider_id: RecordId | None = None
    monitored_conditions: list[Icd10Code] | None = Field(default=None, max_length=12)


class EnrollmentPublic(Output):
    id: int
    patient_id: RecordId
    program: Program
    start_date: dt.date
    end_date: dt.date | None
    focus: RtmFocus | None
    complex: bool
    billing_provider_id: int | None
    ordering_provider_id: int | None
    monitored_conditions: list[str]
    version: int


class EnrollmentFilter(ListQuery):
    patient_id: RecordId | None = None
    program: Program | None = None


class EncounterCreate(Input):
    patient_id: RecordId
    date: CareDate
    type: str = Field(min_length=1, max_length=40)
    face_to_face: Flag = False
    note: Note | None = None


class EncounterUpdate(Versioned):
    date: CareDate | None = None
    type: str | None = Field(default=None, min_length=1, max_length=40)
    face_to_face: Flag | None = None
    note: Note | None = None


class EncounterPublic(Output):
    id: int
    patient_id: RecordId
    date: dt.date
    type: str
    face_to_face: bool
    note: str | None
    version: int


class EncounterFilter(ListQuery):
    patient_id: RecordId | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


PlanText = Annotated[str, Field(min_length=1, max_length=500)]
Responsible = Annotated[str, Field(min_length=1, max_length=200, description="A name or a role.")]
PLAN_ITEMS = 50


class CarePlanGoal(Input):
    description: PlanText
    target_date: CareDate | None = None

    @field_serializer("target_date")
    def _as_text(self, value: dt.date | None) -> str | None:
        # Stored in a JSON column: a date goes in as ISO text.
        return None if value is None else value.isoformat()


class CarePlanIntervention(Input):
    description: PlanText
    responsible: Responsible


class CarePlanCreate(Input):
    """A plan may be saved before it is complete; `missing_elements` on the answer says what CMS still needs."""

    patient_id: RecordId
    program: Program
    problems: list[PlanText] = Field(default_factory=list, max_length=PLAN_ITEMS)
    goals: list[CarePlanGoal] = Field(default_factory=list, max_length=PLAN_ITEMS)
    interventions: list[CarePlanIntervention] = Field(default_factory=list, max_length=PLAN_ITEMS)
    strengths: list[PlanText] = Field(default_factory=list, max_length=PLAN_ITEMS)
    desired_outcomes: list[PlanText] = Field(default_factory=list, max_length=PLAN_ITEMS)
    review_date: CareDate | None = None


class CarePlanUpdate(Versioned):
    """Each list given replaces the stored one; every saved change is kept as a version."""

    problems: list[PlanText] | None = Field(default=None, max_length=PLAN_ITEMS)
    goals: list[CarePlanGoal] | None = Field(default=None, max_length=PLAN_ITEMS)
    interventions: list[CarePlanIntervention] | None = Field(default=None, max_length=PLAN_ITEMS)
    strengths: list[PlanText] | None = Field(default=None, max_length=PLAN_ITEMS)
    desired_outcomes: list[PlanText] | None = Field(default=None, max_length=PLAN_ITEMS)
    review_date: CareDate | None = None


class CarePlanGoalPublic(Output):
    description: str
    target_date: dt.date | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        # Goals saved before they had target dates were bare text.
        return {"description": data} if isinstance(data, str) else data


class CarePlanInterventionPublic(Output):
    description: str
    responsible: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"description": data} if isinstance(data, str) else data


class CarePlanPublic(Output):
    id: int
    patient_id: RecordId
    program: Program
    problems: list[str]
    goals: list[CarePlanGoalPublic]
    interventions: list[CarePlanInterventionPublic]
    strengths: list[str]
    desired_outcomes: list[str]
    review_date: dt.date | None
    version: int

    @computed_field(  # type: ignore[prop-decorator]
        description="Required elements the plan still lacks for CCM or CPM, by field: problems, goals, "
        "goals.target_date (no goal has one), interventions; for CPM also strengths and desired_outcomes."
    )
    @property
    def missing_elements(self) -> list[str]:
        return plan_problems(self)


class CarePlanVersionPublic(Output):
    version: int
    changed_at: dt.datetime
    changed_by: int | None = Field(description="The user who saved this version (none for an integration).")
    changed_by_name: str | None
    changes: dict[str, dict[str, Any]] = Field(
        description='Each field that changed from the version before: {"from": ..., "to": ...}. '
        "The first version lists every field it was created with."
    )
    snapshot: dict[str, Any] = Field(description="The plan as saved in this version.")


class CarePlanFilter(ListQuery):
    patient_id: RecordId | None = None
    program: Program | None = None
