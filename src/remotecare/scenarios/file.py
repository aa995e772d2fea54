"""Read and validate a scenario file (../shared/scenario-format.md) into domain facts.

Every problem is reported with the path of the field it concerns, e.g.
`readings[3].at: needs a UTC offset or Z`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from remotecare.domain.devices import Device, Reading
from remotecare.domain.encounters import Encounter
from remotecare.domain.facts import CareFacts, Window
from remotecare.domain.patients import Patient
from remotecare.domain.programs import Enrollment, Program, RtmFocus
from remotecare.domain.time_entries import Performer, TimeEntry


class ScenarioError(Exception):
    """A scenario file that cannot be evaluated; the message names the field."""


class _Model(BaseModel):
    # Unknown keys are allowed (a file may carry notes); wrong types are not.
    model_config = ConfigDict(extra="ignore", strict=False)


class _ForPatient(_Model):
    patient: str


class WindowIn(_Model):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> WindowIn:
        if self.end < self.start:
            raise ValueError("'to' is before 'from'")
        return self


class PatientIn(_Model):
    id: str = Field(min_length=1)
    timezone: str
    established: StrictBool = False
    conditions: list[str] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class EnrollmentIn(_ForPatient):
    id: str = Field(min_length=1)
    patient: str
    program: Program
    start: dt.date
    end: dt.date | None = None
    consent: dt.date | None = None
    focus: RtmFocus | None = None
    complex: StrictBool = False

    @model_validator(mode="after")
    def _ordered(self) -> EnrollmentIn:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class DeviceIn(_ForPatient):
    id: str = Field(min_length=1)
    patient: str
    program: Program
    kind: str = "unspecified"
    medical_device: StrictBool
    start: dt.date | None = None
    end: dt.date | None = None


class ReadingIn(_ForPatient):
    patient: str
    device: str | None = None
    at: dt.datetime
    type: str
    values: dict[str, Any] = {}
    manual: StrictBool = False

    @field_validator("at", mode="before")
    @classmethod
    def _is_iso_text(cls, value: object) -> object:
        if not isinstance(value, str):
            raise ValueError("write the instant as ISO 8601 text with a UTC offset, e.g. 2026-10-01T07:55:00-05:00")
        return value

    @field_validator("at")
    @classmethod
    def _has_offset(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset or Z")
        return value


class TimeIn(_ForPatient):
    id: str | None = None
    patient: str
    program: Program
    date: dt.date
    minutes: int = Field(ge=1, le=24 * 60)
    performer: Performer
    interactive: StrictBool = False


class EncounterIn(_ForPatient):
    patient: str
    date: dt.date
    type: str
    face_to_face: StrictBool = False


class ExpectedIn(_ForPatient):
    patient: str
    code: str
    units: int = Field(ge=1)
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class Scenario(_Model):
    description: str = ""
    window: WindowIn
    patients: list[PatientIn] = Field(min_length=1)
    enrollments: list[EnrollmentIn] = []
    devices: list[DeviceIn] = []
    readings: list[ReadingIn] = []
    time: list[TimeIn] = []
    encounters: list[EncounterIn] = []
    expected: list[ExpectedIn] | None = None

    def facts(self) -> CareFacts:
        return CareFacts(
            patients=tuple(
                Patient(p.id, p.timezone, established=p.established, conditions=tuple(p.conditions))
                for p in self.patients
            ),
            enrollments=tuple(
                Enrollment(e.id, e.patient, e.program, e.start, e.end, e.consent, e.focus, e.complex)
                for e in self.enrollments
            ),
            devices=tuple(
                Device(d.id, d.patient, d.program, d.kind, d.medical_device, d.start, d.end) for d in self.devices
            ),
            readings=tuple(
                Reading(r.patient, r.at, r.type, device=r.device, values=r.values, manual=r.manual)
                for r in self.readings
            ),
            time_entries=tuple(
                TimeEntry(t.patient, t.program, t.date, t.minutes, t.performer, t.interactive, t.id) for t in self.time
            ),
            encounters=tuple(Encounter(c.patient, c.date, c.type, c.face_to_face) for c in self.encounters),
        )

    @property
    def evaluation_window(self) -> Window:
        return Window(self.window.start, self.window.end)


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, *, source: str = "scenario") -> Scenario:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: the file must hold one JSON object")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(f"{source}: " + "; ".join(_describe(error) for error in exc.errors())) from exc
    problems = _reference_problems(scenario)
    if problems:
        raise ScenarioError(f"{source}: " + "; ".join(problems))
    return scenario


def _describe(error: Any) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{path or 'file'}: {message}"


def _reference_problems(scenario: Scenario) -> list[str]:
    """Ids must be unique and every reference must name something in the file."""
    problems: list[str] = []
    patients = _unique_ids("patients", [p.id for p in scenario.patients], problems)
    _unique_ids("enrollments", [e.id for e in scenario.enrollments], problems)
    devices = {d.id: d for d in scenario.devices}
    _unique_ids("devices", [d.id for d in scenario.devices], problems)
    sections: tuple[tuple[str, Sequence[_ForPatient]], ...] = (
        ("enrollments", scenario.enrollments),
        ("devices", scenario.devices),
        ("readings", scenario.readings),
        ("time", scenario.time),
        ("encounters", scenario.encounters),
        ("expected", scenario.expected or []),
    )
    for section, items in sections:
        for index, item in enumerate(items):
            if item.patient not in patients:
                problems.append(f"{section}[{index}].patient: no patient with id {item.patient!r}")
    for index, reading in enumerate(scenario.readings):
        if reading.device is not None and reading.device not in devices:
            problems.append(f"readings[{index}].device: no device with id {reading.device!r}")
    problems.extend(_overlapping_enrollments(scenario.enrollments))
    return problems


def _unique_ids(section: str, ids: list[str], problems: list[str]) -> set[str]:
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            problems.append(f"{section}[{index}].id: {item_id!r} is used twice")
        seen.add(item_id)
    return seen


def _overlapping_enrollments(enrollments: list[EnrollmentIn]) -> list[str]:
    """Two episodes of one program for one patient may not overlap: minutes would be ambiguous."""
    problems = []
    for index, mine in enumerate(enrollments):
        for other in enrollments[:index]:
            if other.patient != mine.patient or other.program != mine.program:
                continue
            if mine.start <= (other.end or dt.date.max) and other.start <= (mine.end or dt.date.max):
                problems.append(f"enrollments[{index}]: overlaps enrollment {other.id!r} of the same program")
    return problems
