"""Practice, users, API keys, the audit trail and logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AwareDatetime, EmailStr, Field

from remotecare.api.schemas.common import (
    AddressLine,
    City,
    Flag,
    Input,
    ListQuery,
    Npi,
    Output,
    PostalCode,
    RecordId,
    StateCode,
    TaxId,
    Versioned,
)
from remotecare.store.models import Role


class PracticePublic(Output):
    id: int
    name: str
    npi: str | None
    timezone: str
    tax_id: str | None
    place_of_service: str
    payer_name: str | None
    payer_id: str | None
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    audit_settings: dict[str, Any] = Field(
        description="The self-audit thresholds the practice set; the OIG's values apply to the rest."
    )
    checkin_settings: dict[str, Any] = Field(
        description="Patient check-ins: the question groups per program (defaults where unset) and "
        "rtm_device_qualifies, whether the check-in app counts as the RTM device (false unless set)."
    )


class PracticeUpdate(Input):
    """What claims carry about the practice as billing provider."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    npi: Npi | None = None
    tax_id: TaxId | None = None
    place_of_service: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    payer_name: str | None = Field(default=None, min_length=1, max_length=60)
    payer_id: str | None = Field(default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")
    phone: str | None = Field(default=None, pattern=r"^[0-9]{10}$", description="10 digits, the billing contact")
    address_line1: AddressLine | None = None
    address_line2: AddressLine | None = None
    city: City | None = None
    state: StateCode | None = None
    postal_code: PostalCode | None = None
    alert_overrides: dict[str, dict[str, Any]] | None = Field(
        default=None,
        max_length=50,
        description="The practice's changes to the default alert thresholds: rule name -> "
        '{"limit": number, "days": whole number, "enabled": true|false}; replaces the whole set '
        "(see GET /alert-thresholds).",
    )
    audit_settings: dict[str, Any] | None = Field(
        default=None,
        max_length=20,
        description="The self-audit's thresholds where the practice chooses its own: spike_increase_pct (150), "
        "spike_min_new_enrollees (100), no_prior_relationship_pct (80), no_management_pct (75), "
        "device_supply_lines_per_month (2), prior_relationship_since (2021-01-01); replaces the whole set.",
    )
    checkin_settings: dict[str, Any] | None = Field(
        default=None,
        description='Patient check-ins: {"rtm_device_qualifies": true|false (default false: the check-in app '
        'is not the RTM device and its days do not count for 98975-98978), "programs": {"RTM": ["pain", '
        '"function", "medications", "exercises"], ...}}; groups are pain, peg, function, medications, '
        "exercises, phq2, gad2, phq9, gad7; replaces the whole set.",
    )


class UserCreate(Input):
    email: EmailStr = Field(max_length=254)
    full_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=12, max_length=256)
    npi: Npi | None = None


class UserUpdate(Versioned):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    active: Flag | None = None
    password: str | None = Field(default=None, min_length=12, max_length=256)
    npi: Npi | None = None


class UserPublic(Output):
    id: int
    email: str
    full_name: str
    role: Role
    active: bool
    npi: str | None
    version: int


class UserFilter(ListQuery):
    role: Role | None = None
    active: bool | None = None


class ApiKeyCreate(Input):
    name: str = Field(min_length=1, max_length=120)
    scope: str = Field(default="ingest", pattern="^ingest$")


class ApiKeyPublic(Output):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="Shown once: only its hash is stored.")


class AuditEventPublic(Output):
    id: int
    at: dt.datetime
    actor_type: str
    actor_id: int | None
    actor_label: str
    action: str
    entity: str
    entity_id: str | None
    ip: str | None
    user_agent: str | None
    path: str | None
    detail: dict[str, Any]


class AuditEventFilter(ListQuery):
    entity: str | None = Field(default=None, max_length=40)
    entity_id: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=16)
    actor_label: str | None = Field(default=None, max_length=254)
    at_from: AwareDatetime | None = None
    at_to: AwareDatetime | None = None


class LoginRequest(Input):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(Output):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime
    user: UserPublic


class Me(Output):
    kind: str
    id: int
    practice_id: RecordId
    role: Role
    label: str
