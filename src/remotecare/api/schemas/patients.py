"""Patients."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field

from remotecare.api.schemas.common import (
    AddressLine,
    City,
    Flag,
    Icd10Code,
    Input,
    ListQuery,
    MedicareId,
    Name,
    Output,
    PastDate,
    PostalCode,
    RecordId,
    StateCode,
    TimeZoneName,
    Versioned,
)

Sex = Literal["M", "F", "U"]
Phone = Annotated[
    str, Field(pattern=r"^\+[1-9]\d{7,14}$", description="E.164: a plus, the country code and the number")
]
Email = Annotated[EmailStr, Field(max_length=254)]
AlertOverrides = Annotated[
    dict[str, dict[str, Any]],
    Field(
        max_length=50,
        description="This patient's changes to the practice's alert thresholds: rule name -> "
        '{"limit": number, "days": whole number, "enabled": true|false} (see GET /alert-thresholds).',
    ),
]


class PatientCreate(Input):
    given_name: Name
    family_name: Name
    birth_date: PastDate
    medicare_id: MedicareId
    timezone: TimeZoneName
    conditions: list[Icd10Code] = Field(default_factory=list, max_length=50)
    established: Flag = False
    sex: Sex | None = None
    address_line1: AddressLine | None = None
    address_line2: AddressLine | None = None
    city: City | None = None
    state: StateCode | None = None
    postal_code: PostalCode | None = None
    phone: Phone | None = None
    email: Email | None = None
    alert_overrides: AlertOverrides = Field(default_factory=dict)
    care_manager_id: RecordId | None = Field(default=None, description="The staff member whose worklist it is on.")


class PatientUpdate(Versioned):
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: PastDate | None = None
    medicare_id: MedicareId | None = None
    timezone: TimeZoneName | None = None
    conditions: list[Icd10Code] | None = Field(default=None, max_length=50)
    established: Flag | None = None
    sex: Sex | None = None
    address_line1: AddressLine | None = None
    address_line2: AddressLine | None = None
    city: City | None = None
    state: StateCode | None = None
    postal_code: PostalCode | None = None
    phone: Phone | None = None
    email: Email | None = None
    alert_overrides: AlertOverrides | None = None
    care_manager_id: RecordId | None = None


class PatientPublic(Output):
    id: int
    given_name: str
    family_name: str
    birth_date: dt.date
    medicare_id: str
    timezone: str
    conditions: list[str]
    established: bool
    sex: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    phone: str | None
    email: str | None
    care_manager_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PatientFilter(ListQuery):
    care_manager_id: RecordId | None = None
    family_name: str | None = Field(default=None, max_length=100)
    medicare_id: str | None = Field(default=None, max_length=13)
