"""Every table. Each table of patient data carries `practice_id`, and every query filters on it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import Mapped, mapped_column

from remotecare.domain.programs import Program, RtmFocus
from remotecare.domain.time_entries import Performer
from remotecare.store.base import Base, Id, IdMixin, TimestampMixin, VersionedMixin, utc_now


class Role(StrEnum):
    ADMIN = "admin"
    PHYSICIAN = "physician"
    CLINICAL_STAFF = "clinical_staff"
    BILLER = "biller"
    INTEGRATOR = "integrator"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class HeldStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"  # stored as an observation once its device was assigned
    DISCARDED = "discarded"


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class ClaimStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    EXPORTED = "exported"
    VOID = "void"


def _enum(kind: type[StrEnum], name: str) -> SqlEnum:
    # Stored as short strings with a CHECK, the same on SQLite and PostgreSQL.
    return SqlEnum(kind, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


def practice_fk() -> Mapped[int]:
    return mapped_column(Id, ForeignKey("practices.id", ondelete="RESTRICT"), index=True)


def patient_fk() -> Mapped[int]:
    return mapped_column(Id, ForeignKey("patients.id", ondelete="RESTRICT"), index=True)


class AddressMixin:
    """A postal address, as claims carry it (837P N3/N4)."""

    address_line1: Mapped[str | None] = mapped_column(String(55))
    address_line2: Mapped[str | None] = mapped_column(String(55))
    city: Mapped[str | None] = mapped_column(String(30))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))


class Practice(IdMixin, TimestampMixin, AddressMixin, Base):
    """The billing provider: its NPI, tax id and address go on every claim."""

    __tablename__ = "practices"
    name: Mapped[str] = mapped_column(String(200))
    npi: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="America/Chicago")
    tax_id: Mapped[str | None] = mapped_column(String(9))
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")  # CMS code: 11 office
    payer_name: Mapped[str | None] = mapped_column(String(60))  # the Medicare Administrative Contractor
    payer_id: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(10))  # the billing contact the 837P names
    # The practice's changes to the default alert thresholds: rule name -> {"limit", "days", "enabled"}.
    alert_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The self-audit's thresholds where the practice chose its own (domain.self_audit has the OIG's defaults).
    audit_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Patient check-ins: per-program question groups and whether the check-in app counts as the RTM device
    # ("rtm_device_qualifies", false unless the practice says so). services.checkins reads it.
    checkin_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CareTeam(IdMixin, TimestampMixin, Base):
    """An organization whose staff work the care of practices that grant it access (a monitoring company)."""

    __tablename__ = "care_teams"
    name: Mapped[str] = mapped_column(String(200), unique=True)


class User(IdMixin, TimestampMixin, VersionedMixin, Base):
    """Staff of one practice (`practice_id`, `role` there), or of a care team (`care_team_id`), never both.
    Either may also hold memberships in other practices, each with its own role."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("(practice_id IS NULL) <> (care_team_id IS NULL)", name="practice_or_care_team"),)
    practice_id: Mapped[int | None] = mapped_column(Id, ForeignKey("practices.id", ondelete="RESTRICT"), index=True)
    care_team_id: Mapped[int | None] = mapped_column(Id, ForeignKey("care_teams.id", ondelete="RESTRICT"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    npi: Mapped[str | None] = mapped_column(String(10))  # a physician's, as rendering provider on claims


class Membership(IdMixin, TimestampMixin, Base):
    """A user's place in a practice other than their own, with the role they hold there."""

    __tablename__ = "practice_memberships"
    __table_args__ = (UniqueConstraint("user_id", "practice_id"),)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    practice_id: Mapped[int] = practice_fk()
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CareTeamGrant(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A practice's grant to a care team: its staff work the practice's patients in `programs`, as clinical
    staff under the practice's billing practitioners, until the grant is revoked (at once)."""

    __tablename__ = "care_team_grants"
    __table_args__ = (Index("ix_care_team_grants_team_practice", "care_team_id", "practice_id"),)
    practice_id: Mapped[int] = practice_fk()
    care_team_id: Mapped[int] = mapped_column(Id, ForeignKey("care_teams.id", ondelete="RESTRICT"))
    programs: Mapped[list[str]] = mapped_column(default=list)
    granted_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))


class AuthSession(IdMixin, Base):
    """A login: the token is given to the client once; only its hash is kept."""

    __tablename__ = "auth_sessions"
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))


class ApiKey(IdMixin, Base):
    """An integration's key: shown once, stored hashed, revocable, limited to its scope."""

    __tablename__ = "api_keys"
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(32), default="ingest")
    created_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class Patient(IdMixin, TimestampMixin, VersionedMixin, AddressMixin, Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("practice_id", "medicare_id"),)
    practice_id: Mapped[int] = practice_fk()
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    medicare_id: Mapped[str] = mapped_column(String(11))
    timezone: Mapped[str] = mapped_column(String(64))
    conditions: Mapped[list[str]] = mapped_column(default=list)
    established: Mapped[bool] = mapped_column(Boolean, default=False)
    sex: Mapped[str | None] = mapped_column(String(1))  # M, F or U, as claims carry it
    phone: Mapped[str | None] = mapped_column(String(20))  # for reminders (E.164)
    email: Mapped[str | None] = mapped_column(String(254))
    # The clinical staff member whose worklist the patient is on.
    care_manager_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    # This patient's alert thresholds where they differ from the practice's: rule name -> changes.
    alert_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Scheduled medications by name: a check-in asks one yes/no question per name.
    medications: Mapped[list[str]] = mapped_column(default=list)
    # The usual check-in time, "HH:MM" in the patient's zone: a reminder goes out when it passes unanswered.
    checkin_time: Mapped[str | None] = mapped_column(String(5))
    # Set when the patient replied STOP to text messages; no SMS goes to them while it is set.
    sms_opted_out_at: Mapped[dt.datetime | None]


class CheckinLink(IdMixin, Base):
    """A patient's signed link to the mobile check-in page: the token is shown once, only its hash is kept;
    it expires and can be revoked."""

    __tablename__ = "checkin_links"
    __table_args__ = (Index("ix_checkin_links_practice_patient", "practice_id", "patient_id"),)
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = mapped_column(Id, ForeignKey("patients.id", ondelete="RESTRICT"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[dt.datetime | None]


class Consent(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "consents"
    # A billing run reads each table a slice of patients at a time.
    __table_args__ = (Index("ix_consents_practice_patient", "practice_id", "patient_id"),)
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    program: Mapped[Program] = mapped_column(_enum(Program, "program"))
    obtained_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16))
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class Enrollment(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "enrollments"
    # A billing run reads each table a slice of patients at a time.
    __table_args__ = (Index("ix_enrollments_practice_patient", "practice_id", "patient_id"),)
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    program: Mapped[Program] = mapped_column(_enum(Program, "program"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    focus: Mapped[RtmFocus | None] = mapped_column(_enum(RtmFocus, "rtm_focus"))
    complex: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_provider_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="RESTRICT"))
    # What the OIG asked CMS to require on remote monitoring claims: who ordered it, and for what condition.
    ordering_provider_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="RESTRICT"))
    monitored_conditions: Mapped[list[str]] = mapped_column(default=list)  # ICD-10-CM codes


class Device(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("practice_id", "serial"),)
    practice_id: Mapped[int] = practice_fk()
    serial: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    medical_device: Mapped[bool] = mapped_column(Boolean)
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))


class DeviceAssignment(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "device_assignments"
    # Who had a device on a day is asked for every reading (by device); a billing run reads by patient.
    __table_args__ = (
        Index("ix_device_assignments_practice_device", "practice_id", "device_id"),
        Index("ix_device_assignments_practice_patient", "practice_id", "patient_id"),
    )
    practice_id: Mapped[int] = practice_fk()
    device_id: Mapped[int] = mapped_column(Id, ForeignKey("devices.id", ondelete="RESTRICT"), index=True)
    patient_id: Mapped[int] = patient_fk()
    program: Mapped[Program] = mapped_column(_enum(Program, "program"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)


class Observation(IdMixin, Base):
    """A reading. `local_date` is its calendar day in the patient's zone, kept for day counting."""

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("practice_id", "content_key"),
        Index("ix_observations_practice_patient_day", "practice_id", "patient_id", "local_date"),
    )
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = mapped_column(Id, ForeignKey("patients.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(Id, ForeignKey("devices.id", ondelete="RESTRICT"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict[str, Any]] = mapped_column()
    effective_at: Mapped[dt.datetime]
    local_date: Mapped[dt.date] = mapped_column(Date)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(32), default="api")
    external_id: Mapped[str | None] = mapped_column(String(128))
    content_key: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    # What the sender said beyond the values (device time zone offset, estimated time, gateway, units as sent).
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Integration(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A device vendor's webhook into one practice, with the secret its payloads are signed with.

    The secret is kept as given, not hashed: verifying an HMAC needs it. It is
    shown once when created and never returned by the API afterwards.
    """

    __tablename__ = "integrations"
    practice_id: Mapped[int] = practice_fk()
    vendor: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_received_at: Mapped[dt.datetime | None]


class HeldReading(IdMixin, Base):
    """A reading from a device the practice does not know, or that no patient had on its day: kept for review."""

    __tablename__ = "held_readings"
    __table_args__ = (UniqueConstraint("practice_id", "content_key"),)
    practice_id: Mapped[int] = practice_fk()
    integration_id: Mapped[int | None] = mapped_column(Id, ForeignKey("integrations.id", ondelete="RESTRICT"))
    device_serial: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict[str, Any]] = mapped_column()
    effective_at: Mapped[dt.datetime]
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(128))
    content_key: Mapped[str] = mapped_column(String(64))
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[HeldStatus] = mapped_column(_enum(HeldStatus, "held_status"), default=HeldStatus.HELD)
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    resolved_at: Mapped[dt.datetime | None]
    observation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("observations.id", ondelete="RESTRICT"))


class TimeEntry(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "time_entries"
    # A staff member's entries on a day are read for every new one, to refuse overlaps; a billing run
    # reads a slice of patients at a time.
    __table_args__ = (
        Index("ix_time_entries_practice_user_day", "practice_id", "user_id", "service_date"),
        Index("ix_time_entries_practice_patient", "practice_id", "patient_id"),
    )
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    program: Mapped[Program] = mapped_column(_enum(Program, "program"))
    performer: Mapped[Performer] = mapped_column(_enum(Performer, "performer"))
    service_date: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    minutes: Mapped[int] = mapped_column(Integer)
    interactive: Mapped[bool] = mapped_column(Boolean, default=False)
    interaction_mode: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(Id, ForeignKey("alerts.id", ondelete="RESTRICT"))  # time on triage
    # A deleted entry stays, marked, so the ledger keeps its history; nothing counts it any more.
    deleted_at: Mapped[dt.datetime | None]
    deleted_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    delete_reason: Mapped[str | None] = mapped_column(Text)


class RunningTimer(IdMixin, TimestampMixin, Base):
    """A staff member's timer while it runs (one at a time): stopping it writes a time entry."""

    __tablename__ = "running_timers"
    practice_id: Mapped[int] = practice_fk()
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    patient_id: Mapped[int] = patient_fk()
    program: Mapped[Program] = mapped_column(_enum(Program, "program"))
    started_at: Mapped[dt.datetime]
    alert_id: Mapped[int | None] = mapped_column(Id, ForeignKey("alerts.id", ondelete="SET NULL"))


class Encounter(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "encounters"
    # A billing run reads each table a slice of patients at a time.
    __table_args__ = (Index("ix_encounters_practice_patient", "practice_id", "patient_id"),)
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    date: Mapped[dt.date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(40))
    face_to_face: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)


class CarePlan(IdMixin, TimestampMixin, VersionedMixin, Base):
    """The person-centered plan CCM and CPM require. Goals carry target dates ({description, target_date});
    interventions name who is responsible ({description, responsible})."""

    __tablename__ = "care_plans"
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    program: Mapped[Program] = mapped_column(_enum(Program, "program"))
    problems: Mapped[list[str]] = mapped_column(default=list)
    goals: Mapped[list[Any]] = mapped_column(default=list)
    interventions: Mapped[list[Any]] = mapped_column(default=list)
    strengths: Mapped[list[str]] = mapped_column(default=list)
    desired_outcomes: Mapped[list[str]] = mapped_column(default=list)
    review_date: Mapped[dt.date | None] = mapped_column(Date)


class CarePlanVersion(IdMixin, Base):
    """Every saved state of a care plan, with who saved it and which fields changed from the one before."""

    __tablename__ = "care_plan_versions"
    __table_args__ = (UniqueConstraint("care_plan_id", "version"),)
    practice_id: Mapped[int] = practice_fk()
    care_plan_id: Mapped[int] = mapped_column(Id, ForeignKey("care_plans.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    snapshot: Mapped[dict[str, Any]] = mapped_column()
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field -> {"from": ..., "to": ...}


class TimeEntryVersion(IdMixin, Base):
    """Every saved state of a time entry (created, edited, deleted), with who saved it and what changed."""

    __tablename__ = "time_entry_versions"
    __table_args__ = (UniqueConstraint("time_entry_id", "version"),)
    practice_id: Mapped[int] = practice_fk()
    time_entry_id: Mapped[int] = mapped_column(Id, ForeignKey("time_entries.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete
    changed_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    snapshot: Mapped[dict[str, Any]] = mapped_column()
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field -> {"from": ..., "to": ...}


class Alert(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A reading that crossed a threshold. `dedup_key` (rule and local day) makes one alert per rule per
    patient-day however many readings cross it; alerts raised by hand have none."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("practice_id", "patient_id", "dedup_key"),)
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    observation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("observations.id", ondelete="RESTRICT"))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[AlertStatus] = mapped_column(_enum(AlertStatus, "alert_status"), default=AlertStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text)
    dedup_key: Mapped[str | None] = mapped_column(String(80))
    message: Mapped[str | None] = mapped_column(Text)
    observed: Mapped[float | None]
    threshold: Mapped[float | None]
    acknowledged_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[dt.datetime | None]


class OutboxMessage(IdMixin, TimestampMixin, Base):
    """A reminder to a patient, queued until a sender (console, file, SMS, email) delivers it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_practice_status", "practice_id", "status"),)
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.QUEUED)
    created_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None]
    sender: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)


class ClaimLine(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A service the rules allow, for one enrollment and period: proposed by a billing run, approved by a
    biller, exported, or void. A re-run finds its line by (enrollment, code, period start)."""

    __tablename__ = "claim_lines"
    __table_args__ = (
        UniqueConstraint("practice_id", "enrollment_id", "code", "period_start"),
        Index("ix_claim_lines_practice_patient", "practice_id", "patient_id"),
    )
    practice_id: Mapped[int] = practice_fk()
    patient_id: Mapped[int] = patient_fk()
    enrollment_id: Mapped[int] = mapped_column(Id, ForeignKey("enrollments.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(8))
    units: Mapped[int] = mapped_column(Integer)
    service_date: Mapped[dt.date] = mapped_column(Date)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    rules: Mapped[str] = mapped_column(String(32))
    status: Mapped[ClaimStatus] = mapped_column(_enum(ClaimStatus, "claim_status"), default=ClaimStatus.PROPOSED)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Set when data that arrived after approval or export would change the line: never changed silently.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(IdMixin, Base):
    """Append-only (database triggers refuse UPDATE and DELETE): who did what, to which record, from where."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_practice_at", "practice_id", "at"),
        # What happened to one record (an SMS message's id seen before, a claim line's history).
        Index("ix_audit_events_practice_entity", "practice_id", "entity", "entity_id"),
    )
    practice_id: Mapped[int | None] = mapped_column(Id, ForeignKey("practices.id", ondelete="RESTRICT"))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Id)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    path: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
