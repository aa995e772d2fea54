"""Time entries, alerts and claim lines."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from remotecare.api.schemas.common import CareDate, Flag, Input, Instant, ListQuery, Note, Output, RecordId, Versioned
from remotecare.domain.programs import Program
from remotecare.domain.time_entries import Performer
from remotecare.store.models import AlertStatus, ClaimStatus

Mode = Literal["audio", "video", "in_person"]


class TimeEntryCreate(Input):
    """Minutes logged by hand. With `started_at` and `ended_at`, `minutes` is the whole minutes between
    them and `service_date` the day it started in the patient's zone; no two timed entries of one person
    overlap, and an entry without times may not repeat another one without times."""

    patient_id: RecordId
    program: Program
    service_date: CareDate
    minutes: int = Field(ge=1, le=24 * 60)
    user_id: RecordId | None = Field(default=None, description="Whose time; defaults to the caller.")
    started_at: Instant | None = None
    ended_at: Instant | None = None
    interactive: Flag = False
    interaction_mode: Mode | None = Field(default=None, description="Required when interactive, absent otherwise.")
    note: Note | None = None
    alert_id: RecordId | None = Field(default=None, description="The alert of this patient the time was spent on.")


class TimeEntryUpdate(Versioned):
    """A correction; the entry it makes is checked again against the person's other entries."""

    service_date: CareDate | None = None
    started_at: Instant | None = None
    ended_at: Instant | None = None
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    interactive: Flag | None = None
    interaction_mode: Mode | None = None
    note: Note | None = None
    alert_id: RecordId | None = None


class TimeEntryPublic(Output):
    id: int
    patient_id: RecordId
    user_id: int
    program: Program
    performer: Performer
    service_date: dt.date
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    minutes: int
    interactive: bool
    interaction_mode: str | None
    note: str | None
    alert_id: int | None
    version: int


class TimeEntryFilter(ListQuery):
    patient_id: RecordId | None = None
    program: Program | None = None
    user_id: RecordId | None = None
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None


class AlertCreate(Input):
    patient_id: RecordId
    observation_id: RecordId | None = None
    rule: str = Field(min_length=1, max_length=64)
    severity: Literal["low", "medium", "high", "urgent"]
    note: Note | None = None


class AlertUpdate(Versioned):
    status: AlertStatus | None = None
    note: Note | None = None


class AlertPublic(Output):
    id: int
    patient_id: RecordId
    observation_id: int | None
    rule: str
    severity: str
    status: AlertStatus
    note: str | None
    version: int
    created_at: dt.datetime


class AlertFilter(ListQuery):
    patient_id: RecordId | None = None
    status: AlertStatus | None = None


class ClaimLineUpdate(Versioned):
    """A biller approves or voids a line, or marks a flagged one reviewed (needs_review: false)."""

    status: ClaimStatus | None = None
    needs_review: Flag | None = None


class ClaimLinePublic(Output):
    id: int
    patient_id: RecordId
    enrollment_id: int
    code: str
    units: int
    service_date: dt.date
    period_start: dt.date
    period_end: dt.date
    rules: str
    status: ClaimStatus
    evidence: dict[str, Any]
    needs_review: bool
    review_note: str | None
    version: int


class ClaimLineFilter(ListQuery):
    patient_id: RecordId | None = None
    status: ClaimStatus | None = None
    needs_review: Flag | None = None
    code: str | None = Field(default=None, max_length=8)
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None
