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
    deleted_at: dt.datetime | None = Field(description="Set when the entry was withdrawn; it then counts for nothing.")
    deleted_by: int | None
    delete_reason: str | None
    version: int


class TimeEntryFilter(ListQuery):
    patient_id: RecordId | None = None
    program: Program | None = None
    user_id: RecordId | None = None
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None
    deleted: bool = Field(default=False, description="true lists the withdrawn entries, kept as history.")


class TimeEntryVersionPublic(Output):
    version: int
    action: Literal["create", "update", "delete"]
    changed_at: dt.datetime
    changed_by: int | None = Field(description="The user who saved this version (none for an integration).")
    changed_by_name: str | None
    changes: dict[str, dict[str, Any]] = Field(
        description='Each field that changed from the version before: {"from": ..., "to": ...}.'
    )
    snapshot: dict[str, Any] = Field(description="The entry as saved in this version.")


class PlacedPiece(Output):
    start: dt.datetime
    end: dt.datetime


class LedgerDayEntry(Output):
    id: int
    patient_id: int
    program: Program
    minutes: int
    timed: bool = Field(description="false: logged as a duration only, and placed in the day's free time.")
    pieces: list[PlacedPiece]


class LedgerDayPublic(Output):
    user_id: int
    date: dt.date
    timezone: str = Field(description="The practice's zone, in which the day runs from midnight to midnight.")
    day_minutes: int = Field(description="1440, or 1380 and 1500 on the days the clocks change.")
    free_minutes: int = Field(description="The minutes the timed entries leave free.")
    unplaced_minutes: int = Field(description="Minutes without times that do not fit: 0 for a consistent day.")
    entries: list[LedgerDayEntry]


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
