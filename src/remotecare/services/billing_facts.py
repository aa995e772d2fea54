"""The facts of a billing run, read from the database with set-based queries.

The rules judge `EnrollmentActivity` values (see `rules.counting`); a scenario
file builds them from listed readings, and this module builds the same values
from the tables: days with data come from one GROUP BY over the readings (their
local day is stored with them), so no reading is ever loaded one by one.

Each device assignment is one device as the rules see it (a device lent to two
patients in turn is two), named `<serial>#<assignment id>`.

Every period of an episode is replayed from its start (set-up is billed once
per episode), so the queries reach back to the earliest start of the
enrollments the run looks at.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, String, and_, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from remotecare.domain.devices import Device as DomainDevice
from remotecare.domain.encounters import Encounter as DomainEncounter
from remotecare.domain.facts import Window
from remotecare.domain.patients import Patient as DomainPatient
from remotecare.domain.programs import Enrollment as DomainEnrollment
from remotecare.domain.programs import Program
from remotecare.domain.time_entries import TimeEntry as DomainTimeEntry
from remotecare.rules.counting import (
    DEVICE_PROGRAMS,
    EnrollmentActivity,
    enrollment_activity,
    entry_order,
    monitoring_start,
)
from remotecare.store.base import MAX_ID
from remotecare.store.batches import IN_LIST, chunks
from remotecare.store.models import (
    Consent,
    Device,
    DeviceAssignment,
    Encounter,
    Enrollment,
    Observation,
    Patient,
    TimeEntry,
)

# An enrollment that ended this long before the window can still own a period that ends in it.
LOOKBACK = dt.timedelta(days=62)
DENSE_RANGE = 4  # ids read as a range when it holds at most this many ids per one wanted


@dataclass
class PracticeFacts:
    """The practice's records that a run over `window` needs, in the rules' own terms."""

    window: Window
    patients: dict[int, DomainPatient] = field(default_factory=dict)
    enrollments: list[DomainEnrollment] = field(default_factory=list)
    devices: dict[int, DomainDevice] = field(default_factory=dict)  # by assignment id
    device_records: dict[int, int] = field(default_factory=dict)  # assignment id -> the device's record id
    data_days: dict[tuple[int, int], set[dt.date]] = field(default_factory=dict)  # (patient, assignment) -> days
    time_entries: list[DomainTimeEntry] = field(default_factory=list)
    encounters: list[DomainEncounter] = field(default_factory=list)

    def activities(self) -> list[EnrollmentActivity]:
        """The same `EnrollmentActivity` values `rules.counting.build_activities` makes from a scenario."""
        entries: dict[tuple[str, Program], list[DomainTimeEntry]] = defaultdict(list)
        for entry in self.time_entries:
            entries[(entry.patient, entry.program)].append(entry)
        visits: dict[str, list[DomainEncounter]] = defaultdict(list)
        for encounter in self.encounters:
            visits[encounter.patient].append(encounter)
        devices_of: dict[tuple[str, Program], list[tuple[int, DomainDevice]]] = defaultdict(list)
        for assignment_id, device in self.devices.items():
            devices_of[(device.patient, device.program)].append((assignment_id, device))

        activities = []
        for enrollment in self.enrollments:
            patient = self.patients[int(enrollment.patient)]
            start = None
            by_day: dict[dt.date, frozenset[str]] = {}
            if enrollment.program in DEVICE_PROGRAMS:
                serving = devices_of[(patient.id, enrollment.program)]
                start = monitoring_start(enrollment, (device for _, device in serving), {})
                for assignment_id, device in serving:
                    if device.medical_device:
                        days = self.data_days.get((int(patient.id), assignment_id), ())
                        _add_device_days(by_day, days, device.id)
            mine = sorted(entries[(patient.id, enrollment.program)], key=entry_order)
            activities.append(enrollment_activity(enrollment, patient, start, by_day, mine, visits[patient.id]))
        return activities


def _add_device_days(by_day: dict[dt.date, frozenset[str]], days: Collection[dt.date], device: str) -> None:
    """Each day names the devices that sent data on it; one device's days share one set (most patients
    have one device, and a run makes a set per day otherwise)."""
    alone = frozenset((device,))
    for day in days:
        others = by_day.get(day)
        by_day[day] = alone if others is None else others | alone


def patient_slices(session: Session, practice_id: int, window: Window, size: int) -> list[tuple[int, int]]:
    """The practice's patients with an enrollment a run over `window` looks at, as id ranges of `size`."""
    ids = list(
        session.scalars(
            select(Enrollment.patient_id)
            .where(
                Enrollment.practice_id == practice_id,
                Enrollment.start_date <= window.end,
                or_(Enrollment.end_date.is_(None), Enrollment.end_date >= window.start - LOOKBACK),
            )
            .distinct()
            .order_by(Enrollment.patient_id)
        )
    )
    return [(ids[start], ids[min(start + size, len(ids)) - 1]) for start in range(0, len(ids), size)]


def device_name(serial: str, assignment_id: int) -> str:
    return f"{serial}#{assignment_id}"


def load_facts(
    session: Session,
    practice_id: int,
    window: Window,
    patients: tuple[int, int] | None = None,
    *,
    care_manager_id: int | None = None,
    patient_ids: Collection[int] | None = None,
    data_since: dt.date | None = None,
) -> PracticeFacts:
    """The facts of the practice's patients whose ids fall in `patients` (first, last), or of all of them:
    a run over a large practice loads them a slice at a time, so its memory does not grow with it. With
    `care_manager_id`, only that care manager's patients, and with `patient_ids` (at most `IN_LIST`),
    only those: every query is narrowed by the database.

    Days with data and minutes are read from the earliest enrollment's start, so that every period of an
    episode can be replayed; a caller that needs only the periods still open (see
    `rules.evaluate.evaluate_activities(only_in_progress=True)`) passes `data_since` to read less."""
    facts = PracticeFacts(window)
    first, last = patients or (0, MAX_ID)
    earliest = window.start - LOOKBACK
    mine = _patients_of(practice_id, care_manager_id, patient_ids)
    # Plain rows from the connection: the ORM's per-row handling took longer than the queries. Anything
    # the session holds unwritten is flushed first, as `session.execute` would.
    session.flush()
    connection = session.connection()
    consents = _consents(connection, practice_id, first, last, mine)
    rows = connection.execute(
        select(
            Enrollment.id,
            Enrollment.patient_id,
            Enrollment.program,
            Enrollment.start_date,
            Enrollment.end_date,
            Enrollment.focus,
            Enrollment.complex,
        ).where(
            Enrollment.practice_id == practice_id,
            Enrollment.patient_id.between(first, last),
            Enrollment.start_date <= window.end,
            or_(Enrollment.end_date.is_(None), Enrollment.end_date >= earliest),
            *mine(Enrollment.patient_id),
        )
    ).all()
    for enrollment_id, patient_id, program, start, end, focus, complex_ in rows:
        facts.enrollments.append(
            DomainEnrollment(
                str(enrollment_id),
                str(patient_id),
                Program(program),
                start,
                end,
                consents.get((patient_id, program)),
                focus,
                complex_,
            )
        )
    enrolled = sorted({int(e.patient) for e in facts.enrollments})
    if not enrolled:
        return facts
    since = min(e.start for e in facts.enrollments)
    if data_since is not None:
        since = max(since, data_since)
    wanted = set(enrolled)
    for patient_id, zone, established, conditions in _patient_rows(connection, practice_id, enrolled):
        if patient_id in wanted:
            facts.patients[patient_id] = DomainPatient(str(patient_id), zone, established, tuple(conditions))
    for assignment_id, device_id, patient_id, program, start, end, medical, kind, serial in connection.execute(
        select(
            DeviceAssignment.id,
            DeviceAssignment.device_id,
            DeviceAssignment.patient_id,
            DeviceAssignment.program,
            DeviceAssignment.start_date,
            DeviceAssignment.end_date,
            Device.medical_device,
            Device.kind,
            Device.serial,
        )
        .join(Device, and_(Device.id == DeviceAssignment.device_id, Device.practice_id == practice_id))
        .where(
            DeviceAssignment.practice_id == practice_id,
            DeviceAssignment.patient_id.between(first, last),
            *mine(DeviceAssignment.patient_id),
        )
    ):
        if patient_id in wanted:
            facts.devices[assignment_id] = DomainDevice(
                device_name(serial, assignment_id), str(patient_id), Program(program), kind, medical, start, end
            )
            facts.device_records[assignment_id] = device_id
    counted = counted_data_days(practice_id, since, window.end).where(
        Observation.patient_id.between(first, last), *mine(Observation.patient_id)
    )
    for patient_id, assignment_id, days in connection.execute(_day_lists(counted, session)):
        if patient_id in wanted:
            facts.data_days[(patient_id, assignment_id)] = set(map(dt.date.fromisoformat, days.split(",")))
    for entry_id, patient_id, program, day, minutes, performer, interactive in connection.execute(
        select(
            TimeEntry.id,
            TimeEntry.patient_id,
            TimeEntry.program,
            TimeEntry.service_date,
            TimeEntry.minutes,
            TimeEntry.performer,
            TimeEntry.interactive,
        ).where(
            TimeEntry.practice_id == practice_id,
            TimeEntry.patient_id.between(first, last),
            TimeEntry.service_date >= since,
            TimeEntry.service_date <= window.end,
            TimeEntry.deleted_at.is_(None),
            *mine(TimeEntry.patient_id),
        )
    ):
        if patient_id in wanted:
            facts.time_entries.append(
                DomainTimeEntry(str(patient_id), Program(program), day, minutes, performer, interactive, str(entry_id))
            )
    for patient_id, day, visit_type, face_to_face in connection.execute(
        select(Encounter.patient_id, Encounter.date, Encounter.type, Encounter.face_to_face).where(
            Encounter.practice_id == practice_id,
            Encounter.patient_id.between(first, last),
            Encounter.date <= window.end,
            *mine(Encounter.patient_id),
        )
    ):
        if patient_id in wanted:
            facts.encounters.append(DomainEncounter(str(patient_id), day, visit_type, face_to_face))
    return facts


def _patient_rows(connection: Connection, practice_id: int, ids: list[int]) -> Iterator[Row[Any]]:
    """The patients `ids` (sorted) name, and perhaps others between them. A slice of a run names most
    patients of its range, which is read as a range: PostgreSQL walked the practice's whole index for each
    list of ids. A few patients spread over the practice (a care manager's) are read by lists."""
    columns = (Patient.id, Patient.timezone, Patient.established, Patient.conditions)
    if ids[-1] - ids[0] < DENSE_RANGE * len(ids):
        yield from connection.execute(
            select(*columns).where(Patient.practice_id == practice_id, Patient.id.between(ids[0], ids[-1]))
        )
        return
    for chunk in chunks(ids):
        yield from connection.execute(select(*columns).where(Patient.practice_id == practice_id, Patient.id.in_(chunk)))


def counted_data_days(practice_id: int, since: dt.date, through: dt.date) -> Any:
    """Distinct (patient, assignment, local day) with a reading that can count (policy rule 2): from a
    medical device, while assigned to that patient, and for RPM transmitted rather than keyed in."""
    return (
        select(Observation.patient_id, DeviceAssignment.id, Observation.local_date)
        .join(
            DeviceAssignment,
            and_(
                DeviceAssignment.practice_id == Observation.practice_id,
                DeviceAssignment.device_id == Observation.device_id,
                # "+ 0" keeps SQLite from carrying a slice's patient range over to the assignments and
                # scanning that range for every reading (40x slower) instead of looking up the device.
                DeviceAssignment.patient_id + 0 == Observation.patient_id,
                Observation.local_date >= DeviceAssignment.start_date,
                or_(DeviceAssignment.end_date.is_(None), Observation.local_date <= DeviceAssignment.end_date),
            ),
        )
        .where(
            Observation.practice_id == practice_id,
            Observation.local_date >= since,
            Observation.local_date <= through,
            or_(Observation.manual.is_(False), DeviceAssignment.program != Program.RPM),
        )
        .group_by(Observation.patient_id, DeviceAssignment.id, Observation.local_date)
    )


def _day_lists(counted: Any, session: Session) -> Any:
    """`counted_data_days` folded to one row per (patient, assignment) with its days as comma-separated ISO
    dates: a run reads one row per device rather than one per day (fetching rows, not the query, took
    most of the time)."""
    days = counted.subquery()
    day = _as_text(session)(days.c.local_date)
    postgresql = session.get_bind().dialect.name == "postgresql"
    listed = func.string_agg(day, ",") if postgresql else func.group_concat(day, ",")
    return select(days.c.patient_id, days.c.id, type_coerce(listed, String)).group_by(days.c.patient_id, days.c.id)


def _patients_of(
    practice_id: int, care_manager_id: int | None, patient_ids: Collection[int] | None
) -> Callable[[Any], list[Any]]:
    """The extra conditions that keep a query's `patient_id` column to the care manager's patients (a
    subquery, so the database picks them, not a list sent from here) and to `patient_ids`."""
    if patient_ids is not None and len(patient_ids) > IN_LIST:
        raise ValueError(f"at most {IN_LIST} patient ids at a time")
    theirs = select(Patient.id).where(Patient.practice_id == practice_id, Patient.care_manager_id == care_manager_id)
    ids = None if patient_ids is None else sorted(patient_ids)

    def conditions(column: Any) -> list[Any]:
        found = [] if care_manager_id is None else [column.in_(theirs)]
        return found if ids is None else [*found, column.in_(ids)]

    return conditions


def _consents(
    connection: Connection, practice_id: int, first: int, last: int, mine: Callable[[Any], list[Any]]
) -> dict[tuple[int, Program], dt.date]:
    """The earliest standing consent per patient and program."""
    rows = connection.execute(
        select(Consent.patient_id, Consent.program, func.min(Consent.obtained_on))
        .where(
            Consent.practice_id == practice_id,
            Consent.patient_id.between(first, last),
            Consent.revoked_on.is_(None),
            *mine(Consent.patient_id),
        )
        .group_by(Consent.patient_id, Consent.program)
    )
    return {(patient_id, Program(program)): day for patient_id, program, day in rows}


def patient_fingerprints(
    session: Session, practice_id: int, since: dt.date, *, care_manager_id: int | None = None
) -> dict[int, tuple[str | None, ...]]:
    """Per patient of the practice (or of the care manager), a value that changes whenever anything
    `load_facts(data_since=since)` reads about that patient changes: one query, one row per patient, each
    table looked up by the patient's index, so its cost follows the number of patients (and their readings
    since `since`), not the practice's history.

    For each table, the patient's rows: their count, highest id, sum of versions and latest `updated_at`.
    A row added raises the count and the latest stamp; one removed lowers the count (with one added in
    the same breath, the stamp still moves); one changed through the ORM raises the sum of versions
    (optimistic locking bumps it on every UPDATE), whatever the order in which concurrent writers commit.
    Readings and minutes only from `since` on, which keeps it to the days a worklist reads; readings are
    never changed once stored (the table has no version or `updated_at`), so their count and highest id
    are enough. A device's own changes (its serial, whether it is a medical device) count for every
    patient it is assigned to."""
    text = _as_text(session)

    def summary(
        model: Any, *stamps: Any, sums: tuple[Any, ...] = (), where: tuple[Any, ...] = (), join: tuple[Any, ...] = ()
    ) -> Any:
        value = text(func.count()) + ":" + text(func.max(model.id))
        versions = (model.version,) if hasattr(model, "version") else ()
        for column in (*versions, *sums):
            value = value + ":" + text(func.sum(column))
        for stamp in stamps:
            value = value + ":" + text(func.max(stamp))
        query = select(value)
        if join:
            query = query.join(*join)
        return query.where(model.practice_id == practice_id, model.patient_id == Patient.id, *where).scalar_subquery()

    query = select(
        Patient.id,
        text(Patient.version) + ":" + text(Patient.updated_at),
        summary(Enrollment, Enrollment.updated_at),
        summary(Consent, Consent.updated_at),
        summary(
            DeviceAssignment,
            DeviceAssignment.updated_at,
            Device.updated_at,
            sums=(Device.version,),
            join=(Device, Device.id == DeviceAssignment.device_id),
        ),
        summary(Observation, where=(Observation.local_date >= since,)),
        summary(TimeEntry, TimeEntry.updated_at, where=(TimeEntry.service_date >= since,)),
        summary(Encounter, Encounter.updated_at),
    ).where(Patient.practice_id == practice_id)
    if care_manager_id is not None:
        query = query.where(Patient.care_manager_id == care_manager_id)
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One lookup per patient and table looks costly to the planner, which would spend longer compiling
        # the query (JIT, about a second) than running it (a tenth of that). For this transaction only.
        connection.exec_driver_sql("SET LOCAL jit = off")
    return {int(row[0]): tuple(row[1:]) for row in connection.execute(query)}


def _as_text(session: Session) -> Callable[[Any], Any]:
    """A column read as the database's own text: no conversion to Python values on the way."""
    if session.get_bind().dialect.name == "sqlite":  # dates and times are stored as text already
        return lambda column: type_coerce(column, String)
    return lambda column: cast(column, String)
