"""The compliance self-audit of one practice for one month, from its claim lines and records.

Each check's facts come from one or two grouped queries scoped to the practice (no query per patient),
then the pure checks in `domain.self_audit` judge them. Lines that are void are never counted. Which
codes are RPM set-up, device supply or treatment management (time, add-on, 99091) comes from the rule
sets, every year's: a line is judged by what its code is in the rules, never by a list written here.

Each check looks back as far as it needs: the month before (the enrollment spike, and episodes that
billed device supply then), the year to date (treatment management), every earlier line (a patient's
first RPM line, an episode's components) and every visit up to the first RPM date of service.

One query reads across practices, on purpose: the same Medicare id billed by several practices (OIG
measure 5) cannot be seen otherwise. It returns only how many other practices billed the patient; no
name, id or line of another practice leaves the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from remotecare.domain import self_audit as audit
from remotecare.domain.programs import Program
from remotecare.domain.self_audit import AuditMonth, AuditSettings, PatientRef, SelfAuditReport
from remotecare.rules import load_rules
from remotecare.rules.schema import Role
from remotecare.services.billing_facts import counted_data_days
from remotecare.store.batches import chunks
from remotecare.store.models import (
    ClaimLine,
    ClaimStatus,
    Consent,
    Encounter,
    Enrollment,
    Observation,
    Patient,
    Practice,
    TimeEntry,
)

MANAGEMENT = (Role.TREATMENT_TIME, Role.ADD_ON, Role.INTERPRETATION)


class PracticeNotFound(LookupError):
    pass


@cache
def rpm_codes(*roles: Role) -> frozenset[str]:
    """The RPM codes of these roles in any year's rule set, mid-year changes included."""
    rules = load_rules()
    found: set[str] = set()
    for year in rules.years:
        for day in [dt.date(year, 1, 1)] + [change.effective for change in rules.for_year(year).changes]:
            rule_set = rules.in_force(day)
            assert rule_set is not None  # a year the book lists
            for role in roles:
                found.update(code for code, _ in rule_set.codes_of(Program.RPM, role))
    return frozenset(found)


def self_audit(session: Session, practice_id: int, month: AuditMonth) -> SelfAuditReport:
    practice = session.get(Practice, practice_id)
    if practice is None:
        raise PracticeNotFound(f"no practice {practice_id}")
    settings = audit.audit_settings(practice.audit_settings)
    firsts = _first_lines(session, practice_id, month)
    new = [audit.NewEnrollee(p, line, first) for p, first, line, _ in firsts if first >= month.start]
    previous = sum(1 for _, first, _, _ in firsts if month.previous.start <= first < month.start)
    sections = (
        audit.enrollment_spike(month, new, previous, settings),
        audit.no_prior_relationship(_enrollees(session, practice_id, month, firsts), settings),
        audit.no_treatment_management(month, *_management(session, practice_id, month), settings),
        audit.multiple_device_supply(month, _device_supply(session, practice_id, month, settings), settings),
        audit.several_practices(month, _shared(session, practice_id, month)),
        audit.missing_components(month, _episodes(session, practice_id, month)),
        audit.missing_claim_details(month, _claim_details(session, practice_id, month)),
        audit.time_before_consent(_early_time(session, practice_id, month)),
        audit.manual_readings_counted(_line_days(session, practice_id, month)),
    )
    return SelfAuditReport(practice_id, practice.name, month, settings, sections)


# --- shared pieces ---------------------------------------------------------------------------------


def _rpm_line(practice_id: int, line: Any = ClaimLine, *roles: Role) -> ColumnElement[bool]:
    """The practice's RPM lines (of these roles, or all), not void."""
    return and_(
        line.practice_id == practice_id,
        line.status != ClaimStatus.VOID,
        line.code.in_(sorted(rpm_codes(*(roles or tuple(Role))))),
    )


def _in(column: Any, month: AuditMonth) -> ColumnElement[bool]:
    return column.between(month.start, month.end)  # type: ignore[no-any-return]


def _ref(patient_id: int, family: str, given: str) -> PatientRef:
    return PatientRef(patient_id, f"{family}, {given}")


def _patient(practice_id: int) -> ColumnElement[bool]:
    return Patient.practice_id == practice_id


# --- 1 and 2: first lines, new enrollees and prior visits ------------------------------------------


FirstLine = tuple[PatientRef, dt.date, int, dt.date]  # patient, first RPM date of service, its line, last date


def _first_lines(session: Session, practice_id: int, month: AuditMonth) -> list[FirstLine]:
    """Each patient billed for RPM in the month or the one before: their first RPM line ever (through the
    month's end) and their latest date of service."""
    spans = (
        select(
            ClaimLine.patient_id.label("patient_id"),
            func.min(ClaimLine.service_date).label("first"),
            func.max(ClaimLine.service_date).label("last"),
        )
        .where(_rpm_line(practice_id), ClaimLine.service_date <= month.end)
        .group_by(ClaimLine.patient_id)
        .having(func.max(ClaimLine.service_date) >= month.previous.start)
        .subquery()
    )
    rows = session.execute(
        select(spans.c.patient_id, Patient.family_name, Patient.given_name, spans.c.first, spans.c.last)
        .add_columns(func.min(ClaimLine.id))
        .join(Patient, and_(_patient(practice_id), Patient.id == spans.c.patient_id))
        .join(
            ClaimLine,
            and_(
                _rpm_line(practice_id),
                ClaimLine.patient_id == spans.c.patient_id,
                ClaimLine.service_date == spans.c.first,
            ),
        )
        .group_by(spans.c.patient_id, Patient.family_name, Patient.given_name, spans.c.first, spans.c.last)
    )
    return [(_ref(pid, family, given), first, line, last) for pid, family, given, first, last, line in rows]


def _enrollees(
    session: Session, practice_id: int, month: AuditMonth, firsts: list[FirstLine]
) -> list[audit.RpmEnrollee]:
    """The month's RPM patients, with their latest visit on or before their first RPM date of service."""
    billed = [(patient, first, line) for patient, first, line, last in firsts if last >= month.start]
    last_visit: dict[int, dt.date] = {}
    by_id = {patient.id: first for patient, first, _ in billed}
    for chunk in chunks(sorted(by_id)):
        for patient_id, day in session.execute(
            select(Encounter.patient_id, Encounter.date).where(
                Encounter.practice_id == practice_id, Encounter.patient_id.in_(chunk)
            )
        ):
            if day <= by_id[patient_id] and day > last_visit.get(patient_id, dt.date.min):
                last_visit[patient_id] = day
    return [audit.RpmEnrollee(patient, line, first, last_visit.get(patient.id)) for patient, first, line in billed]


# --- 3. treatment management, year to date ---------------------------------------------------------


def _management(session: Session, practice_id: int, month: AuditMonth) -> tuple[list[audit.Unmanaged], int]:
    """The year's RPM enrollees never billed for treatment management (with their lines), and how many
    RPM enrollees the year has in all."""
    year_start = dt.date(month.year, 1, 1)
    managed = func.sum(case((ClaimLine.code.in_(sorted(rpm_codes(*MANAGEMENT))), 1), else_=0))
    per_patient = (
        select(ClaimLine.patient_id.label("patient_id"), managed.label("managed"))
        .where(_rpm_line(practice_id), ClaimLine.service_date.between(year_start, month.end))
        .group_by(ClaimLine.patient_id)
        .subquery()
    )
    enrollees = session.scalar(select(func.count()).select_from(per_patient)) or 0
    unmanaged: dict[int, list[int]] = defaultdict(list)
    names: dict[int, PatientRef] = {}
    for patient_id, family, given, line_id in session.execute(
        select(ClaimLine.patient_id, Patient.family_name, Patient.given_name, ClaimLine.id)
        .join(per_patient, per_patient.c.patient_id == ClaimLine.patient_id)
        .join(Patient, and_(_patient(practice_id), Patient.id == ClaimLine.patient_id))
        .where(
            per_patient.c.managed == 0,
            _rpm_line(practice_id),
            ClaimLine.service_date.between(year_start, month.end),
        )
    ):
        unmanaged[patient_id].append(line_id)
        names[patient_id] = _ref(patient_id, family, given)
    return [audit.Unmanaged(names[p], tuple(ids)) for p, ids in unmanaged.items()], enrollees


# --- 4. device-supply lines per patient-month ------------------------------------------------------


def _device_supply(
    session: Session, practice_id: int, month: AuditMonth, settings: AuditSettings
) -> list[audit.DeviceSupplyLine]:
    """Only patients with the flagged number of lines or more are read."""
    crowded = (
        select(ClaimLine.patient_id)
        .where(_rpm_line(practice_id, ClaimLine, Role.DEVICE_SUPPLY), _in(ClaimLine.service_date, month))
        .group_by(ClaimLine.patient_id)
        .having(func.count() >= settings.device_supply_lines_per_month)
    )
    rows = session.execute(
        select(
            ClaimLine.patient_id,
            Patient.family_name,
            Patient.given_name,
            ClaimLine.id,
            ClaimLine.code,
            ClaimLine.period_start,
            ClaimLine.period_end,
        )
        .join(Patient, and_(_patient(practice_id), Patient.id == ClaimLine.patient_id))
        .where(
            _rpm_line(practice_id, ClaimLine, Role.DEVICE_SUPPLY),
            _in(ClaimLine.service_date, month),
            ClaimLine.patient_id.in_(crowded),
        )
    )
    return [
        audit.DeviceSupplyLine(_ref(pid, family, given), line_id, code, start, end)
        for pid, family, given, line_id, code, start, end in rows
    ]


# --- 5. the same patient billed by several practices -----------------------------------------------


def _shared(session: Session, practice_id: int, month: AuditMonth) -> list[audit.SharedPatient]:
    """The deliberate cross-practice read: a count of other practices per patient of ours, nothing more."""
    ours = (
        select(ClaimLine.patient_id)
        .where(_rpm_line(practice_id), _in(ClaimLine.service_date, month))
        .distinct()
        .subquery()
    )
    other, other_line = aliased(Patient), aliased(ClaimLine)
    counts = dict(
        session.execute(
            select(Patient.id, func.count(func.distinct(other_line.practice_id)))
            .join(ours, ours.c.patient_id == Patient.id)
            .join(other, and_(other.medicare_id == Patient.medicare_id, other.practice_id != practice_id))
            .join(
                other_line,
                and_(
                    other_line.practice_id == other.practice_id,
                    other_line.patient_id == other.id,
                    other_line.status != ClaimStatus.VOID,
                    other_line.code.in_(sorted(rpm_codes(*Role))),
                    _in(other_line.service_date, month),
                ),
            )
            .where(_patient(practice_id))
            .group_by(Patient.id)
        )
        .tuples()
        .all()
    )
    lines: dict[int, list[int]] = defaultdict(list)
    names: dict[int, PatientRef] = {}
    for chunk in chunks(sorted(counts)):
        for patient_id, family, given, line_id in session.execute(
            select(ClaimLine.patient_id, Patient.family_name, Patient.given_name, ClaimLine.id)
            .join(Patient, and_(_patient(practice_id), Patient.id == ClaimLine.patient_id))
            .where(_rpm_line(practice_id), _in(ClaimLine.service_date, month), ClaimLine.patient_id.in_(chunk))
        ):
            lines[patient_id].append(line_id)
            names[patient_id] = _ref(patient_id, family, given)
    return [audit.SharedPatient(names[p], tuple(ids), counts[p]) for p, ids in lines.items()]


# --- 6. three components over the episode ----------------------------------------------------------


def _episodes(session: Session, practice_id: int, month: AuditMonth) -> list[audit.Episode]:
    """Enrollments the month's report judges (see `domain.self_audit.is_checked_for_components`), with
    their lines through the month's end."""
    supply = ClaimLine.code.in_(sorted(rpm_codes(Role.DEVICE_SUPPLY)))
    supply_date = case((supply, ClaimLine.service_date))
    judged = (
        select(
            ClaimLine.enrollment_id.label("enrollment_id"),
            func.min(supply_date).label("first"),
            func.max(supply_date).label("last"),
        )
        .where(_rpm_line(practice_id), ClaimLine.service_date <= month.end)
        .group_by(ClaimLine.enrollment_id)
        .having(and_(func.min(supply_date) < month.start, func.max(supply_date) >= month.previous.start))
        .subquery()
    )
    setup, management = rpm_codes(Role.SETUP), rpm_codes(*MANAGEMENT)
    found: dict[int, dict[str, Any]] = {}
    for enrollment_id, first, last, patient_id, family, given, line_id, code in session.execute(
        select(
            judged.c.enrollment_id,
            judged.c.first,
            judged.c.last,
            ClaimLine.patient_id,
            Patient.family_name,
            Patient.given_name,
            ClaimLine.id,
            ClaimLine.code,
        )
        .join(ClaimLine, ClaimLine.enrollment_id == judged.c.enrollment_id)
        .join(Patient, and_(_patient(practice_id), Patient.id == ClaimLine.patient_id))
        .where(_rpm_line(practice_id), ClaimLine.service_date <= month.end)
    ):
        episode = found.setdefault(
            enrollment_id,
            {
                "patient": _ref(patient_id, family, given),
                "first": first,
                "last": last,
                "setup": [],
                "supply": [],
                "managed": [],
            },
        )
        role = "setup" if code in setup else "managed" if code in management else "supply"
        episode[role].append(line_id)
    return [
        audit.Episode(
            e["patient"],
            enrollment_id,
            e["first"],
            e["last"],
            tuple(e["setup"]),
            tuple(e["supply"]),
            tuple(e["managed"]),
        )
        for enrollment_id, e in found.items()
    ]


# --- 7. ordering provider and monitored condition --------------------------------------------------


def _claim_details(session: Session, practice_id: int, month: AuditMonth) -> list[audit.ClaimDetailGap]:
    """Only enrollments missing one of the two are read."""
    length = func.jsonb_array_length if session.get_bind().dialect.name == "postgresql" else func.json_array_length
    rows = session.execute(
        select(
            Enrollment.id,
            Enrollment.patient_id,
            Patient.family_name,
            Patient.given_name,
            Enrollment.ordering_provider_id,
            Enrollment.monitored_conditions,
            ClaimLine.id,
        )
        .join(ClaimLine, ClaimLine.enrollment_id == Enrollment.id)
        .join(Patient, and_(_patient(practice_id), Patient.id == Enrollment.patient_id))
        .where(
            Enrollment.practice_id == practice_id,
            _rpm_line(practice_id),
            _in(ClaimLine.service_date, month),
            or_(Enrollment.ordering_provider_id.is_(None), length(Enrollment.monitored_conditions) == 0),
        )
    )
    found: dict[int, audit.ClaimDetailGap] = {}
    for enrollment_id, patient_id, family, given, ordering, conditions, line_id in rows:
        known = found.get(enrollment_id)
        ids = (known.line_ids if known else ()) + (line_id,)
        found[enrollment_id] = audit.ClaimDetailGap(
            _ref(patient_id, family, given), enrollment_id, ids, ordering is not None, tuple(conditions or ())
        )
    return list(found.values())


# --- 8. time before consent ------------------------------------------------------------------------


def _early_time(session: Session, practice_id: int, month: AuditMonth) -> list[audit.EarlyTime]:
    """Entries of the month (not deleted) with no consent for their program in force on their day: obtained
    on or before it and not revoked before it."""
    in_force = exists().where(
        Consent.practice_id == practice_id,
        Consent.patient_id == TimeEntry.patient_id,
        Consent.program == TimeEntry.program,
        Consent.obtained_on <= TimeEntry.service_date,
        or_(Consent.revoked_on.is_(None), Consent.revoked_on >= TimeEntry.service_date),
    )
    entries: dict[tuple[int, str], list[tuple[int, dt.date]]] = defaultdict(list)
    names: dict[int, PatientRef] = {}
    for entry_id, patient_id, family, given, program, day in session.execute(
        select(
            TimeEntry.id,
            TimeEntry.patient_id,
            Patient.family_name,
            Patient.given_name,
            TimeEntry.program,
            TimeEntry.service_date,
        )
        .join(Patient, and_(_patient(practice_id), Patient.id == TimeEntry.patient_id))
        .where(
            TimeEntry.practice_id == practice_id,
            _in(TimeEntry.service_date, month),
            TimeEntry.deleted_at.is_(None),
            ~in_force,
        )
    ):
        entries[(patient_id, str(program))].append((entry_id, day))
        names[patient_id] = _ref(patient_id, family, given)
    consents: dict[tuple[int, str], list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    counted_by: dict[str, set[int]] = defaultdict(set)  # time entry id (as evidence keeps it) -> lines
    for chunk in chunks(sorted(names)):
        for patient_id, program, obtained, revoked in session.execute(
            select(Consent.patient_id, Consent.program, Consent.obtained_on, Consent.revoked_on).where(
                Consent.practice_id == practice_id, Consent.patient_id.in_(chunk)
            )
        ):
            consents[(patient_id, str(program))].append((obtained, revoked))
        for line_id, evidence in session.execute(
            select(ClaimLine.id, ClaimLine.evidence).where(
                ClaimLine.practice_id == practice_id,
                ClaimLine.patient_id.in_(chunk),
                ClaimLine.status != ClaimStatus.VOID,
                ClaimLine.period_start <= month.end,
                ClaimLine.period_end >= month.start,
            )
        ):
            for entry in evidence.get("time_entries") or ():
                counted_by[str(entry.get("id"))].add(line_id)
    return [
        audit.EarlyTime(
            names[patient_id],
            program,
            tuple(mine),
            tuple(consents[(patient_id, program)]),
            tuple(sorted({line for entry_id, _ in mine for line in counted_by.get(str(entry_id), ())})),
        )
        for (patient_id, program), mine in entries.items()
    ]


# --- 9. keyed-in readings counted toward days ------------------------------------------------------


def _line_days(session: Session, practice_id: int, month: AuditMonth) -> list[audit.LineDays]:
    """The month's RPM set-up and device-supply lines: the days their evidence lists against the days
    `counted_data_days` gives now for the devices it names (all the patient's, if it names none)."""
    lines = session.execute(
        select(
            ClaimLine.id,
            ClaimLine.patient_id,
            Patient.family_name,
            Patient.given_name,
            ClaimLine.code,
            ClaimLine.period_start,
            ClaimLine.period_end,
            ClaimLine.evidence,
        )
        .join(Patient, and_(_patient(practice_id), Patient.id == ClaimLine.patient_id))
        .where(_rpm_line(practice_id, ClaimLine, Role.SETUP, Role.DEVICE_SUPPLY), _in(ClaimLine.service_date, month))
    ).all()
    if not lines:
        return []
    since, through = min(line[5] for line in lines), max(line[6] for line in lines)
    counted: dict[tuple[int, int], set[dt.date]] = defaultdict(set)
    for chunk in chunks(sorted({line[1] for line in lines})):
        query = counted_data_days(practice_id, since, through).where(Observation.patient_id.in_(chunk))
        for patient_id, assignment_id, day in session.execute(query):
            counted[(patient_id, assignment_id)].add(day)
    by_patient: dict[int, set[int]] = defaultdict(set)
    for patient_id, assignment_id in counted:
        by_patient[patient_id].add(assignment_id)
    facts = []
    for line_id, patient_id, family, given, code, _, _, evidence in lines:
        named = _assignments(evidence.get("devices") or ())
        days = {d for a in (named or by_patient[patient_id]) for d in counted.get((patient_id, a), ())}
        listed = frozenset(dt.date.fromisoformat(day) for day in evidence.get("dates") or ())
        facts.append(audit.LineDays(_ref(patient_id, family, given), line_id, code, listed, frozenset(days)))
    return facts


def _assignments(devices: Iterable[str]) -> set[int]:
    """Device names in evidence are `<serial>#<assignment id>` (billing_facts.device_name)."""
    found = set()
    for name in devices:
        _, _, tail = str(name).rpartition("#")
        if tail.isdigit():
            found.add(int(tail))
    return found
