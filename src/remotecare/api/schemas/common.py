"""Shared pieces of the request and response bodies."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, field_validator

from remotecare.exports.claims import npi_check_digit_ok
from remotecare.store.base import MAX_ID

T = TypeVar("T")


class Input(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than silently ignored.
    Booleans are `Flag`s: 0 and 1 are not false and true."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it for every database alike.
        if _has_nul(value):
            raise ValueError("may not contain NUL characters")
        return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ListQuery(Input):
    """Query parameters of a list: each entity's filters, plus paging; unknown ones are refused."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)

    def filters(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True, exclude={"limit", "offset"})


class Versioned(Input):
    version: int = Field(ge=1, description="The version you read; a stale one is refused with 409.")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
# Medicare Beneficiary Identifier: 11 characters, letters S, L, O, I, B and Z never used.
MBI = re.compile(
    r"^[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]"
    r"[AC-HJKMNP-RT-Y]{2}[0-9]{2}$"
)


def _icd10(value: str) -> str:
    value = value.upper()
    if not ICD10.match(value):
        raise ValueError(f"{value!r} is not an ICD-10-CM code (e.g. I10, E11.9)")
    return value


def _mbi(value: str) -> str:
    value = value.upper().replace("-", "")
    if not MBI.match(value):
        raise ValueError("not a Medicare Beneficiary Identifier (11 characters, e.g. 1EG4TE5MK73)")
    return value


def _not_future(value: dt.date) -> dt.date:
    if value > dt.date.today() + dt.timedelta(days=1):
        raise ValueError("is in the future")
    if value.year < 1900:
        raise ValueError("is before 1900")
    return value


def _plausible_day(value: dt.date) -> dt.date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between 2000 and 2100")
    return value


def _npi(value: str) -> str:
    if not npi_check_digit_ok(value):
        raise ValueError("not a National Provider Identifier (its check digit is wrong)")
    return value


RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
Icd10Code = Annotated[
    str, Field(max_length=8, pattern=r"^[A-Za-z][0-9][0-9A-Za-z](\.[0-9A-Za-z]{1,4})?$"), AfterValidator(_icd10)
]
MedicareId = Annotated[str, Field(min_length=11, max_length=13), AfterValidator(_mbi)]
PastDate = Annotated[dt.date, AfterValidator(_not_future)]
CareDate = Annotated[dt.date, AfterValidator(_plausible_day)]
Flag = StrictBool
Npi = Annotated[str, Field(pattern=r"^[0-9]{10}$"), AfterValidator(_npi)]
TaxId = Annotated[str, Field(pattern=r"^[0-9]{9}$")]
StateCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
PostalCode = Annotated[str, Field(pattern=r"^[0-9]{5}(-?[0-9]{4})?$")]
AddressLine = Annotated[str, Field(min_length=1, max_length=55)]
City = Annotated[str, Field(min_length=1, max_length=30)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Note = Annotated[str, Field(max_length=4000)]
Instant = AwareDatetime


class ErrorDetail(BaseModel):
    field: str | None
    message: str


class Error(BaseModel):
    code: str
    message: str
    field: str | None
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """Every 4xx answer: what went wrong, and which field."""

    error: Error
