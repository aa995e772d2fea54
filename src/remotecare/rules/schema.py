"""The shape of a year's rule set: frozen, validated models loaded from YAML."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from remotecare.domain.programs import Program, RtmFocus
from remotecare.domain.time_entries import Performer

Confidence = Literal["H", "M", "L", "D"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Role(StrEnum):
    """What a code pays for; the evaluation picks the logic by role."""

    SETUP = "setup"  # once per episode, with the first device-supply line
    DEVICE_SUPPLY = "device_supply"  # days of data in a 30-day period
    TREATMENT_TIME = "treatment_time"  # first minutes in a calendar month
    ADD_ON = "add_on"  # each further increment of minutes beyond its primary
    INTERPRETATION = "interpretation"  # 99091: physician minutes per 30 days


class Period(StrEnum):
    DEVICE_30_DAY = "device_30_day"
    CALENDAR_MONTH = "calendar_month"


class Supervision(StrEnum):
    DIRECT = "direct"
    GENERAL = "general"
    PERSONAL = "personal"  # the billing practitioner's own time only


class Source(Frozen):
    title: str
    href: str


class CodeRule(Frozen):
    """One HCPCS/CPT code as it stands in one rule set."""

    program: Program
    label: str
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    retired: bool = False
    note: str | None = None
    role: Role | None = None
    period: Period | None = None
    min_days: int | None = Field(default=None, ge=1)
    max_days: int | None = Field(default=None, ge=1, le=30)
    minutes: int | None = Field(default=None, ge=1)
    each_additional_minutes: int | None = Field(default=None, ge=1)
    add_on_to: str | None = None
    performers: tuple[Performer, ...] = ()
    interactive_communication: bool = False
    units_per_period: int | None = Field(default=None, ge=1)
    once_per_episode: bool = False
    excludes: tuple[str, ...] = ()
    focus: RtmFocus | None = None
    complex_only: bool = False
    face_to_face_first: bool = False
    requires_setting: str | None = None
    supervision: Supervision | None = None
    national_payment_usd: Decimal | None = None

    @field_validator("national_payment_usd", mode="before")
    @classmethod
    def _payment_is_written_as_a_string(cls, value: object) -> object:
        # A float in YAML would carry binary rounding into revenue figures.
        if value is not None and not isinstance(value, str):
            raise ValueError("write payments as quoted strings, e.g. '47.87'")
        return value

    @model_validator(mode="after")
    def _fields_fit_the_role(self) -> CodeRule:
        if self.retired:
            return self
        needed: dict[Role, tuple[str, ...]] = {
            Role.SETUP: ("min_days",),
            Role.DEVICE_SUPPLY: ("min_days",),
            Role.TREATMENT_TIME: ("minutes",),
            Role.ADD_ON: ("each_additional_minutes", "add_on_to"),
            Role.INTERPRETATION: ("minutes",),
        }
        if self.role is None or self.period is None:
            raise ValueError("a code in force needs a role and a period")
        missing = [name for name in needed[self.role] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"role {self.role} needs {', '.join(missing)}")
        if self.role in (Role.TREATMENT_TIME, Role.ADD_ON, Role.INTERPRETATION) and not self.performers:
            raise ValueError(f"role {self.role} needs performers")
        return self

    @property
    def payment_text(self) -> str:
        return "unknown" if self.national_payment_usd is None else f"${self.national_payment_usd}"


class ProgramRule(Frozen):
    """What a whole program requires, whatever the code."""

    label: str
    sources: tuple[str, ...] = Field(min_length=1)
    requires_established_patient: bool = False
    min_conditions: int = 0
    exclusive_with: tuple[Program, ...] = ()  # never billed in overlapping periods
    yields_month_to: tuple[Program, ...] = ()  # not billed in a month the other bills
    time_codes_in_order: tuple[str, ...] = ()  # first one whose conditions are met wins


class PublicHealthEmergency(Frozen):
    """The COVID-19 PHE flexibilities for RPM (2020-03-01 through 2023-05-11)."""

    start: dt.date
    end: dt.date
    covid_conditions: tuple[str, ...]
    covid_min_days: int = Field(ge=1)  # as every threshold: nothing is billed for a period without data
    covid_codes: tuple[str, ...]
    sources: tuple[str, ...] = Field(min_length=1)

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class Change(Frozen):
    """A mid-year change to one code, in force from `effective`."""

    effective: dt.date
    code: str
    set: dict[str, Any]
    sources: tuple[str, ...] = Field(min_length=1)


class RuleSet(Frozen):
    """One calendar year's complete rules, as the CMS PFS final rule set them."""

    year: int
    title: str
    summary: str
    effective: dt.date
    expires: dt.date
    sources: tuple[str, ...] = Field(min_length=1)
    public_health_emergency: PublicHealthEmergency | None = None
    programs: dict[Program, ProgramRule]
    codes: dict[str, CodeRule]
    changes: tuple[Change, ...] = ()

    @model_validator(mode="after")
    def _dates_fit_the_year(self) -> RuleSet:
        if self.effective != dt.date(self.year, 1, 1) or self.expires != dt.date(self.year, 12, 31):
            raise ValueError(f"a rule set for {self.year} runs from {self.year}-01-01 to {self.year}-12-31")
        for change in self.changes:
            if change.effective.year != self.year:
                raise ValueError(f"change to {change.code} dated {change.effective} is outside {self.year}")
            if change.code not in self.codes:
                raise ValueError(f"change names unknown code {change.code}")
        return self

    def code(self, hcpcs_code: str) -> CodeRule | None:
        """The code in force, or None when it does not exist or has been retired."""
        rule = self.codes.get(hcpcs_code)
        return None if rule is None or rule.retired else rule

    def codes_of(self, program: Program, role: Role) -> list[tuple[str, CodeRule]]:
        return list(self.index_by_program_role.get((program, role), ()))

    def add_ons_of(self, primary: str) -> list[tuple[str, CodeRule]]:
        return list(self.index_of_add_ons.get(primary, ()))

    # Built once per rule set: a billing run asks these for every period of every enrollment.
    @functools.cached_property
    def index_by_program_role(self) -> dict[tuple[Program, Role], tuple[tuple[str, CodeRule], ...]]:
        index: dict[tuple[Program, Role], list[tuple[str, CodeRule]]] = {}
        for hcpcs, rule in self.codes.items():
            if not rule.retired and rule.role is not None:
                index.setdefault((rule.program, rule.role), []).append((hcpcs, rule))
        return {key: tuple(value) for key, value in index.items()}

    def forget_indexes(self) -> None:
        for name in ("index_by_program_role", "index_of_add_ons"):
            self.__dict__.pop(name, None)

    @functools.cached_property
    def index_of_add_ons(self) -> dict[str, tuple[tuple[str, CodeRule], ...]]:
        index: dict[str, list[tuple[str, CodeRule]]] = {}
        for hcpcs, rule in self.codes.items():
            if not rule.retired and rule.role == Role.ADD_ON and rule.add_on_to is not None:
                index.setdefault(rule.add_on_to, []).append((hcpcs, rule))
        return {key: tuple(value) for key, value in index.items()}
