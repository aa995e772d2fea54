"""Devices, their assignments to patients, and observations (readings)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from remotecare.api.schemas.common import CareDate, Flag, Input, Instant, ListQuery, Output, RecordId, Versioned
from remotecare.domain.programs import Program

ObservationType = Literal[
    "blood_pressure",
    "weight",
    "glucose",
    "spo2",
    "heart_rate",
    "pain_score",
    "peg_score",
    "medication_adherence",
    "therapy_adherence",
    "respiratory_status",
    "musculoskeletal_status",
    "cbt_session",
    "bpi_short_form",
    "symptom_checkin",
]


class DeviceCreate(Input):
    serial: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=64)
    medical_device: Flag
    manufacturer: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)


class DeviceUpdate(Versioned):
    kind: str | None = Field(default=None, min_length=1, max_length=64)
    medical_device: Flag | None = None
    manufacturer: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)


class DevicePublic(Output):
    id: int
    serial: str
    kind: str
    medical_device: bool
    manufacturer: str | None
    model: str | None
    version: int


class DeviceFilter(ListQuery):
    serial: str | None = Field(default=None, max_length=64)
    kind: str | None = Field(default=None, max_length=64)


class DeviceAssignmentCreate(Input):
    device_id: RecordId
    patient_id: RecordId
    program: Program
    start_date: CareDate
    end_date: CareDate | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DeviceAssignmentCreate:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class DeviceAssignmentUpdate(Versioned):
    end_date: CareDate | None = None


class DeviceAssignmentPublic(Output):
    id: int
    device_id: RecordId
    patient_id: RecordId
    program: Program
    start_date: dt.date
    end_date: dt.date | None
    version: int


class DeviceAssignmentFilter(ListQuery):
    patient_id: RecordId | None = None
    device_id: RecordId | None = None


class ObservationIn(Input):
    """One reading, posted on its own: stored (201), or answered with the stored copy if sent before (200)."""

    patient_id: RecordId
    device_id: RecordId | None = None
    type: ObservationType
    values: dict[str, float | int | bool | str] = Field(max_length=20)
    effective_at: Instant
    manual: Flag = False
    external_id: str | None = Field(default=None, min_length=1, max_length=128)


class ObservationPublic(Output):
    id: int
    patient_id: RecordId
    device_id: int | None
    type: str
    values: dict[str, Any]
    effective_at: dt.datetime
    local_date: dt.date
    manual: bool
    source: str
    external_id: str | None
    received_at: dt.datetime
    provenance: dict[str, Any]


class ObservationFilter(ListQuery):
    patient_id: RecordId | None = None
    type: ObservationType | None = None
    local_date_from: dt.date | None = None
    local_date_to: dt.date | None = None
