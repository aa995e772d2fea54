"""Patients."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from remotecare.api.schemas.common import (
    Flag,
    Icd10Code,
    Input,
    ListQuery,
    MedicareId,
    Name,
    Output,
    PastDate,
    TimeZoneName,
    Versioned,
)


class PatientCreate(Input):
    given_name: Name
    family_name: Name
    birth_date: PastDate
    medicare_id: MedicareId
    timezone: TimeZoneName
    conditions: list[Icd10Code] = Field(default_factory=list, max_length=50)
    established: Flag = False


class PatientUpdate(Versioned):
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: PastDate | None = None
    medicare_id: MedicareId | None = None
    timezone: TimeZoneName | None = None
    conditions: list[Icd10Code] | None = Field(default=None, max_length=50)
    established: Flag | None = None


class PatientPublic(Output):
    id: int
    given_name: str
    family_name: str
    birth_date: dt.date
    medicare_id: str
    timezone: str
    conditions: list[str]
    established: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PatientFilter(ListQuery):
    family_name: str | None = Field(default=None, max_length=100)
    medicare_id: str | None = Field(default=None, max_length=13)
