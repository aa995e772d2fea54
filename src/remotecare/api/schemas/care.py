"""Consents, enrollments, encounters and care plans."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from remotecare.api.schemas.common import CareDate, Flag, Input, ListQuery, Note, Output, RecordId, Versioned
from remotecare.domain.programs import Program, RtmFocus


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


class EnrollmentPublic(Output):
    id: int
    patient_id: RecordId
    program: Program
    start_date: dt.date
    end_date: dt.date | None
    focus: RtmFocus | None
    complex: bool
    billing_provider_id: int | None
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


class CarePlanCreate(Input):
    patient_id: RecordId
    program: Program
    problems: list[str] = Field(default_factory=list, max_length=50)
    goals: list[str] = Field(default_factory=list, max_length=50)
    interventions: list[str] = Field(default_factory=list, max_length=50)
    review_date: CareDate | None = None


class CarePlanUpdate(Versioned):
    problems: list[str] | None = Field(default=None, max_length=50)
    goals: list[str] | None = Field(default=None, max_length=50)
    interventions: list[str] | None = Field(default=None, max_length=50)
    review_date: CareDate | None = None


class CarePlanPublic(Output):
    id: int
    patient_id: RecordId
    program: Program
    problems: list[str]
    goals: list[str]
    interventions: list[str]
    review_date: dt.date | None
    version: int


class CarePlanFilter(ListQuery):
    patient_id: RecordId | None = None
    program: Program | None = None
