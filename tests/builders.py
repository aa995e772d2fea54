"""Build synthetic care facts for tests, one readable call per fact."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from remotecare.domain.devices import Device, Reading
from remotecare.domain.encounters import Encounter
from remotecare.domain.facts import CareFacts, Window
from remotecare.domain.patients import Patient
from remotecare.domain.programs import Enrollment, Program, RtmFocus
from remotecare.domain.time_entries import Performer, TimeEntry
from remotecare.rules import Evaluation, PracticeSettings, evaluate, load_rules

DAY = dt.timedelta(days=1)


def days_from(start: dt.date, count: int, *, step: int = 1) -> list[dt.date]:
    return [start + dt.timedelta(days=step * index) for index in range(count)]


class FactsBuilder:
    def __init__(self) -> None:
        self.patients: list[Patient] = []
        self.enrollments: list[Enrollment] = []
        self.devices: list[Device] = []
        self.readings: list[Reading] = []
        self.time_entries: list[TimeEntry] = []
        self.encounters: list[Encounter] = []

    def patient(
        self,
        id: str = "p1",
        *,
        timezone: str = "America/Chicago",
        established: bool = True,
        conditions: Iterable[str] = ("I10", "E11.9"),
    ) -> FactsBuilder:
        self.patients.append(Patient(id, timezone, established=established, conditions=tuple(conditions)))
        return self

    def enroll(
        self,
        program: Program | str,
        start: dt.date,
        *,
        id: str | None = None,
        patient: str = "p1",
        end: dt.date | None = None,
        consent: dt.date | None | str = "day before",
        focus: RtmFocus | str | None = None,
        complex: bool = False,
    ) -> FactsBuilder:
        consent_day = start - DAY if consent == "day before" else consent
        assert consent_day is None or isinstance(consent_day, dt.date)
        self.enrollments.append(
            Enrollment(
                id or f"e{len(self.enrollments) + 1}",
                patient,
                Program(program),
                start,
                end,
                consent_day,
                RtmFocus(focus) if focus else None,
                complex,
            )
        )
        return self

    def device(
        self,
        program: Program | str,
        start: dt.date | None,
        *,
        id: str | None = None,
        patient: str = "p1",
        medical: bool = True,
        end: dt.date | None = None,
    ) -> FactsBuilder:
        self.devices.append(
            Device(id or f"d{len(self.devices) + 1}", patient, Program(program), "cuff", medical, start, end)
        )
        return self

    def readings_on(
        self,
        days: Iterable[dt.date],
        *,
        device: str | None = "d1",
        patient: str = "p1",
        local_time: dt.time = dt.time(9, 0),
        manual: bool = False,
        type: str = "blood_pressure",
    ) -> FactsBuilder:
        zone = ZoneInfo(self._patient(patient).timezone)
        for day in days:
            at = dt.datetime.combine(day, local_time, tzinfo=zone)
            self.readings.append(Reading(patient, at, type, device=device, manual=manual))
        return self

    def reading_at(self, at: dt.datetime, *, device: str | None = "d1", patient: str = "p1") -> FactsBuilder:
        self.readings.append(Reading(patient, at, "blood_pressure", device=device))
        return self

    def time(
        self,
        day: dt.date,
        minutes: int,
        *,
        program: Program | str,
        performer: Performer | str = Performer.CLINICAL_STAFF,
        interactive: bool = False,
        patient: str = "p1",
        id: str | None = None,
    ) -> FactsBuilder:
        self.time_entries.append(
            TimeEntry(patient, Program(program), day, minutes, Performer(performer), interactive, id)
        )
        return self

    def visit(self, day: dt.date, *, face_to_face: bool = True, patient: str = "p1") -> FactsBuilder:
        self.encounters.append(Encounter(patient, day, "office_visit", face_to_face))
        return self

    def build(self) -> CareFacts:
        return CareFacts(
            tuple(self.patients),
            tuple(self.enrollments),
            tuple(self.devices),
            tuple(self.readings),
            tuple(self.time_entries),
            tuple(self.encounters),
        )

    def evaluate(self, start: dt.date, end: dt.date, *, settings: PracticeSettings | None = None) -> Evaluation:
        return evaluate(self.build(), rules=load_rules(), window=Window(start, end), settings=settings)

    def _patient(self, patient_id: str) -> Patient:
        return next(p for p in self.patients if p.id == patient_id)


def billed(evaluation: Evaluation) -> Counter[tuple[str, int, str]]:
    """The lines as a multiset of (code, units, month)."""
    return Counter((line.code, line.units, line.month) for line in evaluation.lines)


def codes(evaluation: Evaluation) -> set[str]:
    return {line.code for line in evaluation.lines}


def reasons_for(evaluation: Evaluation, code: str | None) -> list[str]:
    return [item.reason for item in evaluation.not_billed if item.code == code]
