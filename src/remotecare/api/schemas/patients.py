"""Patients."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, EmailStr, Field

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
from remotecare.services.checkins import medication_key

Sex = Literal["M", "F", "U"]


def _distinct_medications(names: list[str]) -> list[str]:
    """Names are kept as given, but two may not make the same question (`medications.<name in lower case>`)."""
    seen: dict[str, str] = {}
    for name in names:
        key = medication_key(name)
        if key in seen:
            raise ValueError(f"{name!r} and {seen[key]!r} name the same medication")
        seen[key] = name
    return names


Phone = Annotated[
    str, Field(pattern=r"^\+[1-9]\d{7,14}$", description="E.164: a plus, the country code and the number")
]
Email = Annotated[EmailStr, Field(max_length=254)]
CheckinTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description='The usual check-in time, "HH:MM" (24-hour) in the patient\'s zone: a reminder goes out '
        "when it passes without a check-in that day.",
    ),
]
MedicationName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 .,/%()+\-]*$",
        description="A scheduled medication as the patient knows it (letters, digits, spaces, . , / % ( ) + -).",
    ),
]
Medications = Annotated[
    list[MedicationName],
    Field(max_length=30, description="Scheduled medications: a check-in asks one yes/no question for each."),
    AfterValidator(_distinct_medications),
]
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
    medications: Medications = Field(default_factory=list)
    checkin_time: CheckinTime | None = None


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
    medications: Medications | None = None
    checkin_time: CheckinTime | None = None


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
    medications: list[str]
    checkin_time: str | None
    sms_opted_out_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PatientFilter(ListQuery):
    care_manager_id: RecordId | None = None
    family_name: str | None = Field(default=None, max_length=100)
    medicare_id: str | None = Field(default=None, max_length=13)
