"""Turn raw facts into what the rules count: days with data and minutes per enrollment.

The database computes the same `EnrollmentActivity` with set-based SQL; the
evaluation only ever sees this aggregated form.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from remotecare.domain.devices import Device, Reading
from remotecare.domain.encounters import Encounter
from remotecare.domain.facts import CareFacts
from remotecare.domain.patients import Patient
from remotecare.domain.programs import Enrollment, Program
from remotecare.domain.time_entries import TimeEntry

DEVICE_PROGRAMS = frozenset({Program.RPM, Program.RTM})


@dataclass(frozen=True, slots=True)
class EnrollmentActivity:
    """One enrollment with everything that counts toward it.

    `data_days` maps each local calendar day with qualifying data to the devices
    that sent it. `monitoring_start` is None for programs without devices, and
    for a device program that has no medical device serving this enrollment.
    """

    enrollment: Enrollment
    patient: Patient
    monitoring_start: dt.date | None = None
    data_days: Mapping[dt.date, frozenset[str]] = field(default_factory=dict)
    time_entries: tuple[TimeEntry, ...] = ()
    encounters: tuple[Encounter, ...] = ()


def local_date(at: dt.datetime, timezone: str) -> dt.date:
    """The calendar day of an instant in the patient's zone (policy rule 2)."""
    return at.astimezone(ZoneInfo(timezone)).date()


def build_activities(facts: CareFacts) -> list[EnrollmentActivity]:
    patients = {patient.id: patient for patient in facts.patients}
    devices = {device.id: device for device in facts.devices}
    first_reading_day = _first_reading_day_per_device(facts.readings, devices, patients)
    qualifying = _qualifying_days(facts.readings, devices, patients, first_reading_day)
    entries = _unique_time_entries(facts.time_entries)
    encounters: dict[str, list[Encounter]] = defaultdict(list)
    for encounter in facts.encounters:
        encounters[encounter.patient].append(encounter)

    activities = []
    for enrollment in facts.enrollments:
        patient = patients[enrollment.patient]
        start = None
        days: Mapping[dt.date, Iterable[str]] = {}
        if enrollment.program in DEVICE_PROGRAMS:
            serving = [
                device
                for device in facts.devices
                if device.patient == patient.id and device.program == enrollment.program
            ]
            start = monitoring_start(enrollment, serving, first_reading_day)
            days = qualifying.get((patient.id, enrollment.program), {})
        mine = (entry for entry in entries if entry.patient == patient.id and entry.program == enrollment.program)
        activities.append(enrollment_activity(enrollment, patient, start, days, mine, encounters[patient.id]))
    return activities


def enrollment_activity(
    enrollment: Enrollment,
    patient: Patient,
    monitoring_start: dt.date | None,
    days: Mapping[dt.date, Iterable[str]],
    entries: Iterable[TimeEntry],
    encounters: Iterable[Encounter],
) -> EnrollmentActivity:
    """What counts toward one enrollment: its days with data from monitoring start within the episode,
    its patient's minutes in the program within the episode (in `entry_order`), and the visits."""
    counted: dict[dt.date, frozenset[str]] = {}
    if monitoring_start is not None and days:
        if monitoring_start <= min(days) and enrollment.contains(max(days)):
            counted = {day: frozenset(ids) for day, ids in days.items()}  # all inside: the common case
        else:
            counted = {
                day: frozenset(ids) for day, ids in days.items() if monitoring_start <= day and enrollment.contains(day)
            }
    return EnrollmentActivity(
        enrollment=enrollment,
        patient=patient,
        monitoring_start=monitoring_start,
        data_days=counted,
        time_entries=tuple(entry for entry in entries if enrollment.contains(entry.date)),
        encounters=tuple(sorted(encounters, key=lambda e: (e.date, e.type))),
    )


def monitoring_start(
    enrollment: Enrollment, devices: Iterable[Device], first_reading_day: Mapping[str, dt.date]
) -> dt.date | None:
    """The later of the enrollment start and the earliest medical device start (policy rule 1)."""
    starts = []
    for device in devices:
        if not device.medical_device:
            continue
        start = device.start or first_reading_day.get(device.id)
        if start is None or (device.end is not None and device.end < enrollment.start):
            continue  # never used, or returned before this episode began
        if enrollment.end is not None and start > enrollment.end:
            continue
        starts.append(start)
    if not starts:
        return None
    return max(enrollment.start, min(starts))


def device_assignment_covers(device: Device, day: dt.date, first_day: dt.date | None) -> bool:
    start = device.start or first_day
    if start is None or day < start:
        return False
    return device.end is None or day <= device.end


def _first_reading_day_per_device(
    readings: Iterable[Reading], devices: Mapping[str, Device], patients: Mapping[str, Patient]
) -> dict[str, dt.date]:
    first: dict[str, dt.date] = {}
    for reading in readings:
        device = devices.get(reading.device) if reading.device else None
        if device is None or device.start is not None or device.patient != reading.patient:
            continue
        day = local_date(reading.at, patients[reading.patient].timezone)
        if device.id not in first or day < first[device.id]:
            first[device.id] = day
    return first


def _qualifying_days(
    readings: Iterable[Reading],
    devices: Mapping[str, Device],
    patients: Mapping[str, Patient],
    first_reading_day: Mapping[str, dt.date],
) -> dict[tuple[str, Program], dict[dt.date, set[str]]]:
    """Days with at least one reading that can count (policy rule 2), per patient and program."""
    days: dict[tuple[str, Program], dict[dt.date, set[str]]] = defaultdict(lambda: defaultdict(set))
    for reading in readings:
        device = devices.get(reading.device) if reading.device else None
        if device is None or not device.medical_device or device.patient != reading.patient:
            continue
        if reading.manual and device.program == Program.RPM:
            continue  # RPM data must be transmitted automatically
        day = local_date(reading.at, patients[reading.patient].timezone)
        if not device_assignment_covers(device, day, first_reading_day.get(device.id)):
            continue
        days[(reading.patient, device.program)][day].add(device.id)
    return days


def _unique_time_entries(entries: Iterable[TimeEntry]) -> list[TimeEntry]:
    """An entry sent twice under the same id is counted once."""
    seen: set[str] = set()
    unique = []
    for entry in sorted(entries, key=entry_order):
        if entry.id is not None:
            if entry.id in seen:
                continue
            seen.add(entry.id)
        unique.append(entry)
    return unique


def entry_order(entry: TimeEntry) -> tuple[object, ...]:
    return (entry.date, entry.patient, entry.program, entry.performer, entry.minutes, entry.interactive, entry.id or "")
