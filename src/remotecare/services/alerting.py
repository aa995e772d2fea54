"""Alerts raised on ingest: each new reading judged against its patient's thresholds.

`raise_alerts` is set-based, a few queries per batch whatever its size:

1. the new readings of a type some rule reads, with their patients' and the practice's
   threshold overrides (one query; `raise_alerts_for_stored`, ingestion's way in, has the
   readings in hand and asks only for the overrides);
2. the history those readings need: only for the windowed rules (weight gain, pain
   rising), only of the types those rules read, from `history_days_needed` days before
   the earliest reading to the latest (one query, skipped when no windowed rule applies);
3. the pure `evaluate_reading` per reading, with the patient's other readings as history
   (readings of the same batch, being stored already, see each other);
4. the patients' enrolled programs on each reading's local date (one query, only when
   something fired): a rule fires only for a patient in one of its programs;
5. one INSERT of the findings, ON CONFLICT (practice, patient, dedup_key) DO NOTHING, so
   one alert per rule per patient-day however many readings cross it, even when two
   ingests run at once.

Judging before asking for the programs gives the same answer as filtering the rules
first (each rule is judged on its own) and spares the query for the common reading
that crosses nothing. Manual (keyed-in) readings are judged like any other. Stored
overrides that are not valid are ignored for that layer (practice or patient), with a
warning in the log: a bad setting never stops a reading from being stored.
Nothing is committed here; the caller commits with its audit event.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import BindParameter, Connection, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from remotecare.domain.alert_rules import (
    DEFAULT_RULES,
    OVERRIDE_KEYS,
    WINDOWED_KINDS,
    AlertFinding,
    AlertRuleError,
    AlertThreshold,
    ReadingPoint,
    effective_rules,
    evaluate_reading,
    history_days_needed,
    validate_overrides,
)
from remotecare.domain.programs import Program
from remotecare.store.base import utc_now
from remotecare.store.batches import chunks
from remotecare.store.models import Alert, AlertStatus, Enrollment, Observation, Patient, Practice

log = logging.getLogger(__name__)

Source = Literal["default", "practice", "patient"]

# Overrides change limits and windows or switch rules off; they never add a rule. So these are every
# type any rule can read, and the windowed rules' types are every type history is ever needed for.
WATCHED_TYPES = tuple(sorted({ref.reading_type for rule in DEFAULT_RULES for ref in rule.looks_at}))
WINDOWED_TYPES = tuple(
    sorted({ref.reading_type for rule in DEFAULT_RULES if rule.kind in WINDOWED_KINDS for ref in rule.looks_at})
)

# Built once: a statement made per call costs more Python than the database spends running it.
_PRACTICE: BindParameter[int] = bindparam("practice")
_WANTED: BindParameter[Any] = bindparam("wanted", expanding=True)
_obs, _patients, _practices, _enrollments = (
    Observation.__table__.c,
    Patient.__table__.c,
    Practice.__table__.c,
    Enrollment.__table__.c,
)
_READING_COLUMNS = (
    _obs.id,
    _obs.patient_id,
    _obs.type,
    _obs["values"],  # not .values: that is the collection's own method
    _obs.effective_at,
    _obs.local_date,
)
NEW_READINGS = (
    select(*_READING_COLUMNS, _patients.alert_overrides, _practices.alert_overrides)
    .select_from(Observation.__table__)
    .join(Patient.__table__, (_patients.id == _obs.patient_id) & (_patients.practice_id == _obs.practice_id))
    .join(Practice.__table__, _practices.id == _obs.practice_id)
    .where(_obs.practice_id == _PRACTICE, _obs.id.in_(_WANTED), _obs.type.in_(WATCHED_TYPES))
)
# The same overrides for readings already in hand (ingestion has just written them): no need to read them back.
OVERRIDES = (
    select(_patients.id, _patients.alert_overrides, _practices.alert_overrides)
    .select_from(Patient.__table__)
    .join(Practice.__table__, _practices.id == _patients.practice_id)
    .where(_patients.practice_id == _PRACTICE, _patients.id.in_(_WANTED))
)
HISTORY = select(*_READING_COLUMNS).where(
    _obs.practice_id == _PRACTICE,
    _obs.patient_id.in_(_WANTED),
    _obs.type.in_(bindparam("types", expanding=True)),
    _obs.local_date >= bindparam("first"),
    _obs.local_date <= bindparam("last"),
)
PROGRAMS = select(_enrollments.patient_id, _enrollments.program, _enrollments.start_date, _enrollments.end_date).where(
    _enrollments.practice_id == _PRACTICE,
    _enrollments.patient_id.in_(_WANTED),
    _enrollments.start_date <= bindparam("last"),
    or_(_enrollments.end_date.is_(None), _enrollments.end_date >= bindparam("first")),
)


@dataclass(frozen=True, slots=True)
class _New:
    patient_id: int
    point: ReadingPoint


def raise_alerts(session: Session, practice_id: int, observation_ids: Iterable[int]) -> list[int]:
    """Judge the stored readings `observation_ids` of `practice_id` and open the alerts they call for.

    Returns the ids of the alerts it opened (none for a rule and day that already has one)."""
    wanted = sorted(set(observation_ids))
    if not wanted:
        return []
    connection = session.connection()
    readings, rules = _load_new(connection, practice_id, wanted)
    return _judge_and_open(connection, practice_id, readings, rules)


def raise_alerts_for_stored(
    session: Session, practice_id: int, stored: Iterable[tuple[int, Mapping[str, Any]]]
) -> list[int]:
    """`raise_alerts` for readings just written, given as (observation id, the row's values: patient_id, type,
    values, effective_at, local_date), so they need not be read back: ingestion's way."""
    readings = [
        _New(
            row["patient_id"],
            ReadingPoint(reading_id, row["type"], row["values"], row["effective_at"], row["local_date"]),
        )
        for reading_id, row in stored
        if row["type"] in WATCHED_TYPES
    ]
    if not readings:
        return []
    connection = session.connection()
    rules: dict[int, tuple[AlertThreshold, ...]] = {}
    in_force = _RulesInForce(practice_id)
    for ids in chunks(sorted({reading.patient_id for reading in readings})):
        for patient_id, patient_overrides, practice_overrides in connection.execute(
            OVERRIDES, {"practice": practice_id, "wanted": ids}
        ):
            rules[patient_id] = in_force.of(patient_id, patient_overrides, practice_overrides)
    readings = [reading for reading in readings if reading.patient_id in rules]  # (always: checked on ingest)
    readings.sort(key=lambda reading: (reading.patient_id, reading.point.at, reading.point.id or 0))
    return _judge_and_open(connection, practice_id, readings, rules)


class _RulesInForce:
    """Each patient's rules from the stored overrides; the practice's own computed once."""

    def __init__(self, practice_id: int) -> None:
        self.practice_id = practice_id
        self.practice_layer: Mapping[str, object] | None = None
        self.practice_rules: tuple[AlertThreshold, ...] | None = None

    def of(self, patient_id: int, patient_overrides: object, practice_overrides: object) -> tuple[AlertThreshold, ...]:
        if self.practice_rules is None:
            self.practice_layer = _layer(practice_overrides, f"practice {self.practice_id}")
            self.practice_rules = effective_rules(DEFAULT_RULES, self.practice_layer)
        patient_layer = _layer(patient_overrides, f"patient {patient_id}")
        if patient_layer is None:
            return self.practice_rules
        return effective_rules(DEFAULT_RULES, self.practice_layer, patient_layer)


def _judge_and_open(
    connection: Connection, practice_id: int, readings: list[_New], rules: Mapping[int, tuple[AlertThreshold, ...]]
) -> list[int]:
    """Judge the readings (in time order per patient) and insert the alerts of the rules their programs have."""
    if not readings:
        return []
    history = _load_history(connection, practice_id, readings, rules)
    found: list[tuple[_New, AlertFinding]] = []
    # Most patients share the practice's rules: which of them read a type, and how far back, is worked out once.
    reading_rules: dict[tuple[int, str], tuple[tuple[AlertThreshold, ...], int]] = {}
    for reading in readings:
        patient_rules = rules[reading.patient_id]
        key = (id(patient_rules), reading.point.type)
        if key not in reading_rules:
            relevant = tuple(rule for rule in patient_rules if rule.reads(reading.point.type) is not None)
            reading_rules[key] = relevant, history_days_needed(relevant)
        relevant, days = reading_rules[key]
        if not relevant:
            continue
        past = history.get(reading.patient_id) if days else None
        window = past.around(reading.point, days) if past else ()
        found.extend((reading, finding) for finding in evaluate_reading(relevant, reading.point, window))
    if not found:
        return []
    programs = _load_programs(connection, practice_id, [reading for reading, _ in found])
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    now = utc_now()
    for reading, finding in found:
        rule = next(rule for rule in rules[reading.patient_id] if rule.name == finding.rule)
        enrolled = programs.on(reading.patient_id, reading.point.local_date)
        if not rule.programs & enrolled:
            continue
        # The earliest reading to cross a rule on a day stands for the day (readings are in time order).
        rows.setdefault((reading.patient_id, finding.dedup_key), _row(practice_id, reading, finding, now))
    return _insert(connection, list(rows.values()))


def _load_new(
    connection: Connection, practice_id: int, wanted: list[int]
) -> tuple[list[_New], dict[int, tuple[AlertThreshold, ...]]]:
    """The new readings in time order, and the rules in force for each of their patients."""
    readings: list[_New] = []
    rules: dict[int, tuple[AlertThreshold, ...]] = {}
    in_force = _RulesInForce(practice_id)
    for ids in chunks(wanted):
        for row in connection.execute(NEW_READINGS, {"practice": practice_id, "wanted": ids}):
            reading_id, patient_id, reading_type, values, at, local_date, patient_overrides, practice_overrides = row
            if patient_id not in rules:
                rules[patient_id] = in_force.of(patient_id, patient_overrides, practice_overrides)
            readings.append(_New(patient_id, ReadingPoint(reading_id, reading_type, values, at, local_date)))
    readings.sort(key=lambda reading: (reading.patient_id, reading.point.at, reading.point.id or 0))
    return readings, rules


def _layer(overrides: object, whose: str) -> Mapping[str, object] | None:
    """A stored layer of overrides, or None (the layer below holds) if it is empty or cannot be used."""
    if overrides is None or overrides == {}:
        return None
    try:
        if not isinstance(overrides, Mapping):
            raise AlertRuleError("overrides", "must map rule names to settings")
        validate_overrides(DEFAULT_RULES, overrides)
    except AlertRuleError as error:
        log.warning("alert thresholds: ignoring the invalid overrides of %s (%s)", whose, error)
        return None
    return overrides


@dataclass
class _History:
    """One patient's readings by local date, for the windows of the readings being judged."""

    points: list[ReadingPoint]
    dates: list[dt.date]

    def around(self, reading: ReadingPoint, days: int) -> Sequence[ReadingPoint]:
        if days <= 0:
            return ()
        start = bisect.bisect_left(self.dates, reading.local_date - dt.timedelta(days=days))
        end = bisect.bisect_right(self.dates, reading.local_date)
        return self.points[start:end]


def _load_history(
    connection: Connection,
    practice_id: int,
    readings: list[_New],
    rules: Mapping[int, tuple[AlertThreshold, ...]],
) -> dict[int, _History]:
    """The readings the windowed rules compare with, for the patients whose new readings they judge."""
    patients: set[int] = set()
    types: set[str] = set()
    days = 0
    first: dt.date | None = None
    last: dt.date | None = None
    for reading in readings:
        windowed = [
            rule
            for rule in rules[reading.patient_id]
            if rule.kind in WINDOWED_KINDS and rule.reads(reading.point.type) is not None
        ]
        if not windowed:
            continue
        patients.add(reading.patient_id)
        types.update(ref.reading_type for rule in windowed for ref in rule.looks_at)
        days = max(days, history_days_needed(windowed))
        day = reading.point.local_date
        first = day if first is None or day < first else first
        last = day if last is None or day > last else last
    if not patients or first is None or last is None:
        return {}
    found: dict[int, list[ReadingPoint]] = {}
    parameters = {
        "practice": practice_id,
        "types": sorted(types),
        "first": first - dt.timedelta(days=days),
        "last": last,
    }
    for ids in chunks(sorted(patients)):
        for reading_id, patient_id, reading_type, values, at, local_date in connection.execute(
            HISTORY, {**parameters, "wanted": ids}
        ):
            found.setdefault(patient_id, []).append(ReadingPoint(reading_id, reading_type, values, at, local_date))
    history: dict[int, _History] = {}
    for patient_id, points in found.items():
        points.sort(key=lambda point: (point.local_date, point.at))
        history[patient_id] = _History(points, [point.local_date for point in points])
    return history


@dataclass
class _Programs:
    spans: dict[int, list[tuple[Program, dt.date, dt.date | None]]]

    def on(self, patient_id: int, day: dt.date) -> frozenset[Program]:
        return frozenset(
            program
            for program, start, end in self.spans.get(patient_id, ())
            if start <= day and (end is None or day <= end)
        )


def _load_programs(connection: Connection, practice_id: int, readings: list[_New]) -> _Programs:
    """The enrollments of the readings' patients that cover any of the readings' local dates."""
    days = [reading.point.local_date for reading in readings]
    parameters = {"practice": practice_id, "first": min(days), "last": max(days)}
    spans: dict[int, list[tuple[Program, dt.date, dt.date | None]]] = {}
    for ids in chunks(sorted({reading.patient_id for reading in readings})):
        for patient_id, program, start, end in connection.execute(PROGRAMS, {**parameters, "wanted": ids}):
            spans.setdefault(patient_id, []).append((Program(program), start, end))
    return _Programs(spans)


def _row(practice_id: int, reading: _New, finding: AlertFinding, now: dt.datetime) -> dict[str, Any]:
    return {
        "practice_id": practice_id,
        "patient_id": reading.patient_id,
        "observation_id": reading.point.id,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "status": AlertStatus.OPEN,
        "dedup_key": finding.dedup_key,
        "message": finding.message,
        "observed": finding.observed,
        "threshold": finding.limit,
        "version": 1,  # a Core INSERT: the ORM's version counter starts at 1
        "created_at": now,
        "updated_at": now,
    }


@functools.cache
def _insert_statement(dialect: str) -> Any:
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    return (
        insert(Alert)
        .on_conflict_do_nothing(index_elements=["practice_id", "patient_id", "dedup_key"])
        .returning(Alert.id)
    )


def _insert(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the alerts, skipping any (practice, patient, dedup_key) on file; the ids of those written."""
    if not rows:
        return []
    statement = _insert_statement(connection.dialect.name)
    written: list[int] = []
    for batch in chunks(rows):
        written.extend(connection.execute(statement, batch).scalars())
    return written


# --- what the thresholds are, and where each setting came from ---------------------------------------


@dataclass(frozen=True, slots=True)
class ThresholdView:
    """One rule as it stands for a practice or a patient: its settings, and which layer set each."""

    name: str
    kind: str
    severity: str
    reads: list[str]
    programs: list[str]
    limit: float
    days: int | None
    enabled: bool
    unit: str
    source: Source  # the most specific layer that changed anything about the rule
    sources: dict[str, Source]  # limit, days, enabled -> the layer its value came from


def thresholds(
    practice_overrides: object, patient_overrides: object = None, *, practice_id: int = 0, patient_id: int | None = None
) -> tuple[list[ThresholdView], list[str]]:
    """Every rule with its settings for the practice (or, with `patient_overrides`, for one patient),
    disabled rules included, and a note for each stored layer that is not valid and so is not applied.

    The settings layer as in `effective_rules`: a key the patient sets wins over the practice's, which
    wins over the default."""
    ignored: list[str] = []
    layers: list[tuple[Source, Mapping[str, object]]] = []
    stored_layers: tuple[tuple[Source, object, str], ...] = (
        ("practice", practice_overrides, f"practice {practice_id}"),
        ("patient", patient_overrides, f"patient {patient_id}"),
    )
    for source, stored, whose in stored_layers:
        layer = _layer(stored, whose)
        if layer is not None:
            layers.append((source, layer))
        elif stored not in (None, {}):
            ignored.append(f"the {source}'s alert overrides are not valid and are not applied")
    views = []
    for rule in DEFAULT_RULES:
        settings: dict[str, object] = {"limit": rule.limit, "days": rule.days, "enabled": True}
        sources: dict[str, Source] = dict.fromkeys(OVERRIDE_KEYS, "default")
        for layer_source, layer in layers:
            changes = layer.get(rule.name)
            if isinstance(changes, Mapping):  # validated: only limit, days and enabled, of the right types
                settings.update(changes)
                sources.update(dict.fromkeys(changes, layer_source))
        overall: Source = "default"
        if "practice" in sources.values():
            overall = "practice"
        if "patient" in sources.values():
            overall = "patient"
        limit, days = settings["limit"], settings["days"]
        assert isinstance(limit, int | float) and (days is None or isinstance(days, int))
        views.append(
            ThresholdView(
                name=rule.name,
                kind=rule.kind.value,
                severity=rule.severity.value,
                reads=[str(ref) for ref in rule.looks_at],
                programs=sorted(program.value for program in rule.programs),
                limit=float(limit),
                days=days,
                enabled=settings["enabled"] is not False,
                unit=rule.unit,
                source=overall,
                sources=sources,
            )
        )
    return views, ignored
