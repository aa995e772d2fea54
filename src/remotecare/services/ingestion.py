"""Check and store readings from any source: set-based, idempotent, all or nothing per item.

Whatever the path (FHIR, JSON batch, CSV, vendor webhook), readings arrive as
`IncomingReading`s and leave as one `ItemResult` each:

- stored: written once, with its calendar day in the patient's time zone;
- duplicate: already stored (a retry is safe), answered with the stored id;
- refused: with the field at fault and why (future time, implausible value,
  unknown patient, a device not assigned to the patient that day, ...);
- held: the device is unknown, or no patient had it that day; kept in the
  review queue (`held_readings`) rather than dropped.

The work is a handful of queries per batch, whatever its size: one for the
patients, one for the devices, one for their assignments, one for the keys
already stored, and one multi-row INSERT. Nothing is committed here; the
caller commits the readings together with its audit event, so a failure
leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb
from sqlalchemy import BindParameter, Connection, Table, bindparam, insert, select, text
from sqlalchemy.orm import Session

from remotecare.ingest.measures import ReadingRefused, check_values
from remotecare.ingest.reading import IncomingReading, ItemResult, Outcome, Parsed, Refusal
from remotecare.services.alerting import raise_alerts_for_stored
from remotecare.store.batches import chunks, copy_rows, driver_rows, next_ids
from remotecare.store.models import Device, DeviceAssignment, HeldReading, HeldStatus, Observation, Patient

# Device clocks drift; a reading a few minutes "in the future" is a clock, not a fabrication.
CLOCK_SKEW = dt.timedelta(minutes=5)
BULK_FROM = 50  # rows from which a batch is written the bulk way: COPY on PostgreSQL, executemany on SQLite

# Built once: a statement made per call costs more Python than the database spends running it.
_PRACTICE: BindParameter[int] = bindparam("practice")
_WANTED: BindParameter[Any] = bindparam("wanted", expanding=True)
_devices, _assignments, _patients, _observations = (
    Device.__table__.c,
    DeviceAssignment.__table__.c,
    Patient.__table__.c,
    Observation.__table__.c,
)
# A device with each of its assignments and the assigned patient's zone: one query answers "who had it that day".
_HOLDERS = (
    select(
        _devices.id,
        _devices.serial,
        _assignments.patient_id,
        _assignments.start_date,
        _assignments.end_date,
        _patients.timezone,
    )
    .select_from(Device.__table__)
    .outerjoin(
        DeviceAssignment.__table__,
        (_assignments.device_id == _devices.id) & (_assignments.practice_id == _devices.practice_id),
    )
    .outerjoin(
        Patient.__table__, (_patients.id == _assignments.patient_id) & (_patients.practice_id == _devices.practice_id)
    )
    .where(_devices.practice_id == _PRACTICE)
)
HOLDERS_BY_ID = _HOLDERS.where(_devices.id.in_(_WANTED))
HOLDERS_BY_SERIAL = _HOLDERS.where(_devices.serial.in_(_WANTED))
ZONES = select(_patients.id, _patients.timezone).where(_patients.practice_id == _PRACTICE, _patients.id.in_(_WANTED))
STORED_BY_KEY = select(
    _observations.id,
    _observations.content_key,
    _observations.type,
    _observations["values"],  # not .values: that is the collection's own method
    _observations.effective_at,
).where(_observations.practice_id == _PRACTICE, _observations.content_key.in_(_WANTED))


@dataclass(frozen=True, slots=True)
class Row:
    """An item that passed every check, ready to insert."""

    index: int
    values: dict[str, Any]


@dataclass
class Plan:
    """What a batch would do: its results so far, and the rows it would write."""

    results: dict[int, ItemResult] = field(default_factory=dict)
    observations: list[Row] = field(default_factory=list)
    held: list[Row] = field(default_factory=list)
    duplicate_of: dict[int, int] = field(default_factory=dict)  # a repeat within the batch -> first index
    first_index: dict[tuple[bool, str], int] = field(default_factory=dict)  # (held?, content key) -> index

    @property
    def refused(self) -> list[ItemResult]:
        return [result for result in self.results.values() if result.outcome is Outcome.REFUSED]


@dataclass(frozen=True, slots=True)
class _Assignment:
    patient_id: int
    start: dt.date
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


def plan(
    session: Session,
    practice_id: int,
    items: Sequence[Parsed],
    *,
    source: str,
    now: dt.datetime,
    integration_id: int | None = None,
) -> Plan:
    """Check every item against the practice's records; write nothing."""
    result = Plan()
    readings: list[tuple[int, IncomingReading]] = []
    for index, item in enumerate(items):
        if isinstance(item, Refusal):
            result.results[index] = _refused(index, item.field, item.message)
            continue
        try:
            readings.append((index, _checked(item, now)))
        except ReadingRefused as refusal:
            result.results[index] = _refused(index, refusal.field, refusal.message)

    lookup = _Lookup.load(session, practice_id, [reading for _, reading in readings])
    for index, reading in readings:
        try:
            _place(result, lookup, index, reading, practice_id, source, now, integration_id)
        except ReadingRefused as refusal:
            result.results[index] = _refused(index, refusal.field, refusal.message)
    return result


def store(session: Session, planned: Plan) -> list[ItemResult]:
    """Write the plan's rows and return one result per item, in the order sent.

    Readings already on file are found by the INSERT itself (it skips a key it
    has), so the common case, new readings, costs no lookup of stored keys;
    the skipped ones are then looked up to tell a retry from a clash."""
    stored = _insert(session, Observation.__table__, planned.observations)  # type: ignore[arg-type]
    if stored:  # the new readings' alerts, in the same transaction
        raise_alerts_for_stored(
            session,
            planned.observations[0].values["practice_id"],
            [
                (stored[row.values["content_key"]], row.values)
                for row in planned.observations
                if row.values["content_key"] in stored
            ],
        )
    skipped = [row for row in planned.observations if row.values["content_key"] not in stored]
    planned.results.update(_settle_conflicts(session, skipped) if skipped else {})
    for row in planned.observations:
        if row.values["content_key"] in stored:
            planned.results[row.index] = ItemResult(row.index, Outcome.STORED, stored[row.values["content_key"]])

    held = _insert(session, HeldReading.__table__, planned.held)  # type: ignore[arg-type]
    held.update(
        _existing_ids(session, HeldReading, [row for row in planned.held if row.values["content_key"] not in held])
    )
    for row in planned.held:
        planned.results[row.index] = ItemResult(
            row.index, Outcome.HELD, held[row.values["content_key"]], "device", row.values["reason"]
        )
    for index, first in planned.duplicate_of.items():
        answer = planned.results[first]  # a repeat within the batch shares its first copy's fate
        if answer.outcome is Outcome.REFUSED:
            planned.results[index] = ItemResult(index, Outcome.REFUSED, None, answer.field, answer.message)
        else:
            planned.results[index] = ItemResult(index, Outcome.DUPLICATE, answer.id)
    return [planned.results[index] for index in sorted(planned.results)]


def ingest(
    session: Session,
    practice_id: int,
    items: Sequence[Parsed],
    *,
    source: str,
    now: dt.datetime,
    integration_id: int | None = None,
) -> list[ItemResult]:
    """Plan and store: every good item is stored, every bad one reported. The caller commits."""
    return store(session, plan(session, practice_id, items, source=source, now=now, integration_id=integration_id))


def _refused(index: int, field_name: str, message: str) -> ItemResult:
    return ItemResult(index, Outcome.REFUSED, None, field_name, message)


def _checked(reading: IncomingReading, now: dt.datetime) -> IncomingReading:
    if reading.at.tzinfo is None:
        raise ReadingRefused("at", "has no UTC offset, so its instant is unknown")
    if reading.at > now + CLOCK_SKEW:
        raise ReadingRefused("at", f"{reading.at.isoformat()} is in the future")
    checked = check_values(reading.type, reading.values)  # whole numbers where the measure counts
    return reading if checked == reading.values else dataclasses.replace(reading, values=checked)


@dataclass
class _Lookup:
    """The practice's patients, devices and assignments that a batch names, fetched in a few queries."""

    zones: dict[int, ZoneInfo]
    device_by_id: dict[int, tuple[int, str]]
    device_by_serial: dict[str, tuple[int, str]]
    assignments: dict[int, list[_Assignment]]  # device id -> its assignments

    @classmethod
    def load(cls, session: Session, practice_id: int, readings: list[IncomingReading]) -> _Lookup:
        connection = session.connection()
        found = cls(zones={}, device_by_id={}, device_by_serial={}, assignments={})
        device_ids = {r.device_id for r in readings if r.device_id is not None}
        serials = {r.device_serial for r in readings if r.device_serial is not None}
        for query, wanted in ((HOLDERS_BY_ID, device_ids), (HOLDERS_BY_SERIAL, serials)):
            for chunk in chunks(wanted):
                for device_id, serial, patient_id, start, end, zone in connection.execute(
                    query, {"practice": practice_id, "wanted": chunk}
                ):
                    found.device_by_id[device_id] = found.device_by_serial[serial] = (device_id, serial)
                    if patient_id is not None:
                        found.assignments.setdefault(device_id, []).append(_Assignment(patient_id, start, end))
                        found.zones[patient_id] = ZoneInfo(zone)
        # Patients named directly, whose zone the device query did not already bring.
        missing = {r.patient_id for r in readings if r.patient_id is not None} - found.zones.keys()
        for ids in chunks(missing):
            for patient_id, zone in connection.execute(ZONES, {"practice": practice_id, "wanted": ids}):
                found.zones[patient_id] = ZoneInfo(zone)
        return found

    def device(self, reading: IncomingReading) -> tuple[int, str] | None:
        if reading.device_id is not None:
            return self.device_by_id.get(reading.device_id)
        if reading.device_serial is not None:
            return self.device_by_serial.get(reading.device_serial)
        return None

    def holder(self, device_id: int, at: dt.datetime) -> tuple[int, dt.date] | None:
        """The patient who had the device on the reading's day (in that patient's zone), if any."""
        for assignment in self.assignments.get(device_id, ()):
            day = at.astimezone(self.zones[assignment.patient_id]).date()
            if assignment.covers(day):
                return assignment.patient_id, day
        return None


def _place(
    planned: Plan,
    lookup: _Lookup,
    index: int,
    reading: IncomingReading,
    practice_id: int,
    source: str,
    now: dt.datetime,
    integration_id: int | None,
) -> None:
    """Decide where one checked reading goes: stored, held, a repeat within the batch, or refused."""
    named_device = reading.device_id is not None or reading.device_serial is not None
    device = lookup.device(reading)
    device_label = reading.device_serial if reading.device_id is None else reading.device_id
    if reading.patient_id is None:
        if not named_device:
            raise ReadingRefused("patient", "is required when no device is named")
        holder = lookup.holder(device[0], reading.at) if device else None
        if holder is None:
            reason = (
                f"no device {device_label!r} in this practice"
                if device is None
                else f"device {device_label!r} is not assigned to any patient on {reading.at.date().isoformat()}"
            )
            _hold(planned, index, reading, practice_id, source, now, integration_id, reason)
            return
        patient_id, day = holder
    else:
        patient_id = reading.patient_id
        zone = lookup.zones.get(patient_id)
        if zone is None:
            raise ReadingRefused("patient", f"no patient {patient_id} in this practice")
        day = reading.at.astimezone(zone).date()
        if named_device:
            if device is None:
                raise ReadingRefused("device", f"no device {device_label!r} in this practice")
            holder = lookup.holder(device[0], reading.at)
            if holder is None or holder[0] != patient_id:
                raise ReadingRefused(
                    "device", f"device {device_label!r} is not assigned to patient {patient_id} on {day.isoformat()}"
                )
    device_id = device[0] if device else None
    key = content_key(source, reading, patient_id, device_id)
    _add(
        planned,
        planned.observations,
        index,
        {
            "practice_id": practice_id,
            "patient_id": patient_id,
            "device_id": device_id,
            "type": reading.type,
            "values": reading.values,
            "effective_at": reading.at,
            "local_date": day,
            "manual": reading.manual,
            "source": source,
            "external_id": reading.external_id,
            "content_key": key,
            "received_at": now,
            "provenance": reading.provenance,
        },
    )


def _hold(
    planned: Plan,
    index: int,
    reading: IncomingReading,
    practice_id: int,
    source: str,
    now: dt.datetime,
    integration_id: int | None,
    reason: str,
) -> None:
    serial = reading.device_serial or str(reading.device_id)
    _add(
        planned,
        planned.held,
        index,
        {
            "practice_id": practice_id,
            "integration_id": integration_id,
            "device_serial": serial,
            "type": reading.type,
            "values": reading.values,
            "effective_at": reading.at,
            "manual": reading.manual,
            "source": source,
            "external_id": reading.external_id,
            "content_key": content_key(source, reading, None, None),
            "provenance": reading.provenance,
            "reason": reason,
            "status": HeldStatus.HELD,
            "received_at": now,
        },
    )


def _add(planned: Plan, rows: list[Row], index: int, values: dict[str, Any]) -> None:
    """Queue a row, unless the batch already holds the same reading: then this one repeats it."""
    first = planned.first_index.setdefault((rows is planned.held, values["content_key"]), index)
    if first != index:
        planned.duplicate_of[index] = first
        return
    rows.append(Row(index, values))


def content_key(source: str, reading: IncomingReading, patient_id: int | None, device_id: int | None) -> str:
    """The sender's own id when it gives one (scoped to the source), else what the reading says."""
    if reading.external_id is not None:
        identity = f"external\x1f{source}\x1f{reading.external_id}"
    else:
        device = device_id if device_id is not None else reading.device_serial
        values = ",".join([f"{name}={_canonical(reading.values[name])}" for name in sorted(reading.values)])
        instant = reading.at.astimezone(dt.UTC).isoformat()
        identity = f"content\x1f{patient_id}\x1f{device}\x1f{reading.type}\x1f{instant}\x1f{values}"
    return hashlib.sha256(identity.encode()).hexdigest()


def _canonical(value: Any) -> str:
    """One spelling per value, so 128 and 128.0 (or a re-encoded string) are the same reading."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is bool:
        return "true" if value else "false"
    return json.dumps(value)


def _settle_conflicts(session: Session, rows: list[Row]) -> dict[int, ItemResult]:
    """Rows the INSERT skipped because their key is on file: the same reading again (a duplicate), or an
    external id reused for a different reading (refused: a stored reading is never changed)."""
    by_key = {row.values["content_key"]: row for row in rows}
    settled: dict[int, ItemResult] = {}
    for keys in chunks(set(by_key)):
        for stored_id, key, reading_type, values, at in session.connection().execute(
            STORED_BY_KEY, {"practice": rows[0].values["practice_id"], "wanted": keys}
        ):
            row = by_key[key]
            if (reading_type, values, at) == (row.values["type"], row.values["values"], row.values["effective_at"]):
                settled[row.index] = ItemResult(row.index, Outcome.DUPLICATE, stored_id)
            else:
                settled[row.index] = _refused(
                    row.index,
                    "external_id",
                    f"{row.values['external_id']!r} was already used for a different reading (observation "
                    f"{stored_id}); a stored reading is never changed",
                )
    unsettled = [row.index for row in rows if row.index not in settled]
    if unsettled:  # the INSERT skipped a row for another reason: never report it stored
        raise RuntimeError(f"items {unsettled} were neither written nor found on file")
    return settled


def _insert(session: Session, table: Table, rows: list[Row]) -> dict[str, int]:
    """Write the rows, skipping any whose content key is on file; returns content key -> id of what it wrote."""
    if not rows:
        return {}
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if len(rows) >= BULK_FROM:
            return _sqlite_bulk(connection, table, rows)
        # Core, not the ORM: the rows are plain dicts, and the ORM bulk path adds nothing here.
        return dict(connection.execute(_insert_or_ignore(table), [row.values for row in rows]).tuples().all())
    if len(rows) >= BULK_FROM:
        return _copy_in(session, table, rows)
    if len(rows) == 1:  # one round trip, where drawing an id first would take two
        names = tuple(rows[0].values)
        written = connection.execute(_insert_on_conflict_skip(table, names, returning=True), rows[0].values)
        return dict(written.tuples().all())
    # PostgreSQL, a few rows: ids drawn from the table's sequence up front, then one executemany.
    ids = next_ids(connection, table.name, len(rows))
    statement = _insert_on_conflict_skip(table, ("id", *rows[0].values), returning=False)
    result = connection.execute(statement, [{**row.values, "id": i} for row, i in zip(rows, ids, strict=True)])
    if result.rowcount != len(rows):
        present = set(connection.execute(select(table.c.id).where(table.c.id.in_(ids))).scalars())
        return {row.values["content_key"]: i for row, i in zip(rows, ids, strict=True) if i in present}
    return {row.values["content_key"]: i for row, i in zip(rows, ids, strict=True)}


def _sqlite_bulk(connection: Connection, table: Table, rows: list[Row]) -> dict[str, int]:
    """SQLite, many rows: the driver's own executemany of INSERT OR IGNORE, each value passed through its
    column's SQLAlchemy converter once, without the per-row bookkeeping of a Core statement (which costs
    more than SQLite spends storing the row). The new rows' ids are then read back in one query: this
    transaction holds SQLite's only write lock, and SQLite gives each new row the next rowid, so the rows
    it wrote are the last `rowcount` ids of the table."""
    names = list(rows[0].values)
    columns = ", ".join(f'"{name}"' for name in names)
    statement = f"INSERT OR IGNORE INTO {table.name} ({columns}) VALUES ({', '.join('?' for _ in names)})"  # noqa: S608
    parameters = driver_rows(connection, table, names, ([row.values[name] for name in names] for row in rows))
    written = connection.exec_driver_sql(statement, parameters).rowcount
    if written <= 0:
        return {}
    newest = connection.exec_driver_sql(
        f"SELECT content_key, id FROM {table.name} WHERE id > (SELECT max(id) FROM {table.name}) - ?",  # noqa: S608
        (written,),
    )
    return dict(newest.tuples().all())


def _copy_in(session: Session, table: Table, rows: list[Row]) -> dict[str, int]:
    """PostgreSQL, many rows: COPY them into a temporary table, then one INSERT ... SELECT that skips keys
    on file and returns the ids. COPY is the server's bulk path, several times faster than executemany."""
    connection = session.connection()
    staging = f"incoming_{table.name}"
    names = list(rows[0].values)  # every row of a batch carries the same columns
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(f'"{name}"' for name in names)
    # Made in the transaction that first needs it (so a rollback takes it away too), kept by the connection.
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "  # noqa: S608 - our own names
        f"AS SELECT {quoted} FROM {table.name} WITH NO DATA"
    )
    # COPY bypasses SQLAlchemy's column types: JSON goes as jsonb, enums as their stored value.
    converters = [_copy_converter(rows[0].values[name]) for name in names]
    copy_rows(
        connection,
        staging,
        names,
        (
            [value if convert is None else convert(value) for convert, value in zip(converters, values, strict=True)]
            for values in ([row.values[name] for name in names] for row in rows)
        ),
    )
    cursor.execute(
        f"INSERT INTO {table.name} ({quoted}) SELECT {quoted} FROM {staging} "  # noqa: S608
        f"ON CONFLICT (practice_id, content_key) DO NOTHING RETURNING content_key, id"
    )
    written = dict(cursor.fetchall())
    cursor.execute(f"DELETE FROM {staging}")  # noqa: S608 - the same transaction may copy again
    return written


def _copy_converter(example: Any) -> Callable[[Any], Any] | None:
    """How a column's values go into COPY, judged by one row's value (every row of a batch has the same
    kinds): JSON documents as jsonb, enums as their stored value, the rest as they are."""
    if isinstance(example, dict | list):
        return Jsonb
    if isinstance(example, enum.Enum):
        return operator.attrgetter("value")
    return None


@functools.cache
def _insert_or_ignore(table: Table) -> Any:
    # INSERT OR IGNORE rather than sqlite.insert().on_conflict_do_nothing(): the same statement, but one
    # SQLAlchemy caches, which saves compiling it on every request. Rows reaching it were checked already,
    # so the only constraint it can meet is the unique content key.
    return insert(table).prefix_with("OR IGNORE", dialect="sqlite").returning(table.c.content_key, table.c.id)


@functools.cache
def _insert_on_conflict_skip(table: Table, names: tuple[str, ...], *, returning: bool) -> Any:
    # Written as text with typed parameters: SQLAlchemy's PostgreSQL insert construct is not cacheable,
    # and compiling it per request costs more than the insert itself.
    columns = ", ".join(f'"{name}"' for name in names)
    values = ", ".join(f":{name}" for name in names)
    statement = text(
        f"INSERT INTO {table.name} ({columns}) VALUES ({values}) "  # noqa: S608 - the table's own names
        "ON CONFLICT (practice_id, content_key) DO NOTHING" + (" RETURNING content_key, id" if returning else "")
    )
    return statement.bindparams(*(bindparam(name, type_=table.c[name].type) for name in names))


def _existing_ids(session: Session, model: type[Observation] | type[HeldReading], rows: list[Row]) -> dict[str, int]:
    found: dict[str, int] = {}
    if not rows:
        return found
    practice_id = rows[0].values["practice_id"]
    for keys in chunks({row.values["content_key"] for row in rows}):
        found.update(
            session.connection()
            .execute(
                select(model.content_key, model.id).where(model.practice_id == practice_id, model.content_key.in_(keys))
            )
            .tuples()
            .all()
        )
    return found
