"""The self-audit over the database, on both databases: synthetic practices built line by line to trip
each check and to narrowly miss it, and another practice's data never leaking into the report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.domain.self_audit import AuditMonth, CheckId, Section, SelfAuditReport
from remotecare.domain.time_entries import Performer
from remotecare.reports.self_audit import report_json
from remotecare.services.self_audit import self_audit
from remotecare.store.base import utc_now
from remotecare.store.models import (
    ClaimLine,
    ClaimStatus,
    Consent,
    Device,
    DeviceAssignment,
    Encounter,
    Enrollment,
    Observation,
    Patient,
    Practice,
    Role,
    TimeEntry,
    User,
)
from remotecare.store.session import make_engine

OCT = AuditMonth(2026, 10)
D = dt.date
JANUARY_VISIT = D(2026, 1, 5)


class Clinic:
    """One synthetic practice, with a physician who orders and bills every enrollment."""

    def __init__(self, session: Session, name: str, **audit_settings: Any) -> None:
        self.session = session
        self.practice = Practice(name=name, audit_settings=audit_settings)
        session.add(self.practice)
        session.flush()
        self.id = self.practice.id
        self.physician = self.add(
            User(practice_id=self.id, email=f"md@{name}.test", full_name="Dr", role=Role.PHYSICIAN, password_hash="!")
        )
        self.count = 0

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def patient(self, name: str, mbi: str | None = None, *, visit: dt.date | None = JANUARY_VISIT) -> Patient:
        self.count += 1
        patient = self.add(
            Patient(
                practice_id=self.id,
                given_name="Synthetic",
                family_name=name,
                birth_date=D(1950, 1, 1),
                medicare_id=mbi or f"{self.count}EG4TE5MK{self.id % 10}{self.count % 10}",
                timezone="America/Chicago",
            )
        )
        if visit is not None:
            self.add(Encounter(practice_id=self.id, patient_id=patient.id, date=visit, type="office_visit"))
        return patient  # type: ignore[no-any-return]

    def enroll(self, patient: Patient, *, ordering: bool = True, conditions: tuple[str, ...] = ("I10",)) -> Enrollment:
        return self.add(  # type: ignore[no-any-return]
            Enrollment(
                practice_id=self.id,
                patient_id=patient.id,
                program=Program.RPM,
                start_date=D(2026, 1, 1),
                ordering_provider_id=self.physician.id if ordering else None,
                monitored_conditions=list(conditions),
            )
        )

    def line(
        self,
        enrollment: Enrollment,
        code: str,
        day: dt.date,
        *,
        status: ClaimStatus = ClaimStatus.PROPOSED,
        evidence: dict[str, Any] | None = None,
    ) -> int:
        start = day - dt.timedelta(days=29) if code in ("99453", "99454", "99445") else day.replace(day=1)
        line = self.add(
            ClaimLine(
                practice_id=self.id,
                patient_id=enrollment.patient_id,
                enrollment_id=enrollment.id,
                code=code,
                units=1,
                service_date=day,
                period_start=start,
                period_end=day,
                rules="2026",
                status=status,
                evidence=evidence or {},
            )
        )
        return int(line.id)

    def rpm_patient(self, name: str, **kwargs: Any) -> tuple[Patient, Enrollment]:
        patient = self.patient(name, **kwargs)
        return patient, self.enroll(patient)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def audit(session: Session, clinic: Clinic, month: AuditMonth = OCT) -> SelfAuditReport:
    session.commit()
    return self_audit(session, clinic.id, month)


def section(report: SelfAuditReport, check: CheckId) -> Section:
    return next(s for s in report.sections if s.check.id == check)


def found(report: SelfAuditReport, check: CheckId) -> list[str]:
    return [f.patient.name.split(",")[0] if f.patient else "practice" for f in section(report, check).findings]


def test_a_spike_of_exactly_150_percent_crosses_and_one_new_enrollee_fewer_does_not(session: Session) -> None:
    clinic = Clinic(session, "spike", spike_min_new_enrollees=5)
    for n in range(2):
        _, enrollment = clinic.rpm_patient(f"Sep{n}")
        clinic.line(enrollment, "99454", D(2026, 9, 15))
        clinic.line(enrollment, "99454", D(2026, 10, 15))  # billed again in October: not new then
    for n in range(5):
        _, enrollment = clinic.rpm_patient(f"Oct{n}")
        clinic.line(enrollment, "99454", D(2026, 10, 15))
    _, voided = clinic.rpm_patient("Voided")
    clinic.line(voided, "99454", D(2026, 9, 10), status=ClaimStatus.VOID)  # void: its October line is its first
    clinic.line(voided, "99454", D(2026, 10, 10))
    report = audit(session, clinic)
    spike = section(report, CheckId.ENROLLMENT_SPIKE)
    assert spike.measure is not None and spike.measure.crosses and spike.measure.value_pct == 200.0
    assert sorted(found(report, CheckId.ENROLLMENT_SPIKE)) == ["Oct0", "Oct1", "Oct2", "Oct3", "Oct4", "Voided"]

    clinic.practice.audit_settings = {"spike_min_new_enrollees": 5, "spike_increase_pct": 201}
    missed = section(audit(session, clinic), CheckId.ENROLLMENT_SPIKE)
    assert missed.measure is not None and not missed.measure.crosses and missed.none_found


def test_patients_without_a_visit_before_their_first_rpm_line_are_named(session: Session) -> None:
    clinic = Clinic(session, "prior", no_prior_relationship_pct=50)
    for name, visit in (
        ("Never", None),
        ("TooOld", D(2020, 6, 1)),
        ("After", D(2026, 10, 25)),
        ("Known", D(2026, 9, 1)),
    ):
        _, enrollment = clinic.rpm_patient(name, visit=visit)
        clinic.line(enrollment, "99454", D(2026, 10, 20))
    report = audit(session, clinic)
    assert sorted(found(report, CheckId.NO_PRIOR_RELATIONSHIP)) == ["After", "Never", "TooOld"]
    measure = section(report, CheckId.NO_PRIOR_RELATIONSHIP).measure
    assert measure is not None and (measure.value_pct, measure.crosses) == (75.0, True)
    clinic.practice.audit_settings = {"no_prior_relationship_pct": 75}  # 3 of 4 is not more than 75%
    measure = section(audit(session, clinic), CheckId.NO_PRIOR_RELATIONSHIP).measure
    assert measure is not None and not measure.crosses


def test_enrollees_never_billed_for_management_this_year_are_named(session: Session) -> None:
    clinic = Clinic(session, "management")
    _, unmanaged = clinic.rpm_patient("Unmanaged")
    supply = clinic.line(unmanaged, "99454", D(2026, 3, 10))
    clinic.line(unmanaged, "99457", D(2025, 12, 31))  # last year's management does not count
    _, managed = clinic.rpm_patient("Managed")
    clinic.line(managed, "99454", D(2026, 10, 10))
    clinic.line(managed, "99457", D(2026, 2, 28))
    _, voided = clinic.rpm_patient("VoidManaged")
    clinic.line(voided, "99454", D(2026, 10, 10))
    clinic.line(voided, "99457", D(2026, 10, 31), status=ClaimStatus.VOID)
    report = audit(session, clinic)
    management = section(report, CheckId.NO_TREATMENT_MANAGEMENT)
    assert sorted(found(report, CheckId.NO_TREATMENT_MANAGEMENT)) == ["Unmanaged", "VoidManaged"]
    assert management.findings[0].claim_line_ids == (supply,)
    assert management.measure is not None and management.measure.value_pct == 66.7
    assert not management.measure.crosses  # 66.7% is not more than 75%


def test_two_device_supply_lines_in_one_month_are_found(session: Session) -> None:
    clinic = Clinic(session, "supply")
    _, twice = clinic.rpm_patient("Twice")
    first, second = clinic.line(twice, "99445", D(2026, 10, 1)), clinic.line(twice, "99454", D(2026, 10, 31))
    _, once = clinic.rpm_patient("Once")
    clinic.line(once, "99454", D(2026, 9, 30))
    clinic.line(once, "99454", D(2026, 10, 30))
    _, voided = clinic.rpm_patient("OneVoid")
    clinic.line(voided, "99454", D(2026, 10, 1), status=ClaimStatus.VOID)
    clinic.line(voided, "99454", D(2026, 10, 31))
    report = audit(session, clinic)
    (finding,) = section(report, CheckId.MULTIPLE_DEVICE_SUPPLY).findings
    assert finding.patient is not None and finding.patient.name == "Twice, Synthetic"
    assert finding.claim_line_ids == (first, second)


def test_a_patient_billed_by_another_practice_shows_only_the_count(session: Session) -> None:
    ours, theirs, third = Clinic(session, "ours"), Clinic(session, "Secret Rival Clinic"), Clinic(session, "third")
    _, shared = ours.rpm_patient("Shared", mbi="1EG4TE5MK73")
    mine = ours.line(shared, "99454", D(2026, 10, 15))
    rival, rival_enrollment = theirs.rpm_patient("RivalName", mbi="1EG4TE5MK73")
    theirs.line(rival_enrollment, "99457", D(2026, 10, 31))
    _, third_enrollment = third.rpm_patient("ThirdName", mbi="1EG4TE5MK73")
    third.line(third_enrollment, "99454", D(2026, 9, 30))  # another month: not counted
    _, alone = ours.rpm_patient("Alone", mbi="2EG4TE5MK74")
    ours.line(alone, "99454", D(2026, 10, 15))
    _, void_elsewhere = third.rpm_patient("VoidElsewhere", mbi="2EG4TE5MK74")
    third.line(void_elsewhere, "99454", D(2026, 10, 15), status=ClaimStatus.VOID)
    report = audit(session, ours)
    (finding,) = section(report, CheckId.SEVERAL_PRACTICES).findings
    assert finding.patient is not None and finding.patient.name == "Shared, Synthetic"
    assert finding.claim_line_ids == (mine,) and "by 1 other practice " in finding.detail
    text = repr(report_json(report))
    for leak in ("Secret Rival", "RivalName", "ThirdName", "VoidElsewhere", f"'id': {rival.id}"):
        assert leak not in text


def test_episodes_without_setup_or_management_are_found_once_a_month_has_closed(session: Session) -> None:
    clinic = Clinic(session, "components")
    _, bare = clinic.rpm_patient("Bare")
    supply = clinic.line(bare, "99454", D(2026, 9, 25))
    _, complete = clinic.rpm_patient("Complete")
    for code, day in (("99453", D(2026, 9, 25)), ("99454", D(2026, 9, 25)), ("99457", D(2026, 10, 31))):
        clinic.line(complete, code, day)
    _, fresh = clinic.rpm_patient("Fresh")  # first device supply in October: not judged yet
    clinic.line(fresh, "99454", D(2026, 10, 2))
    report = audit(session, clinic)
    (finding,) = section(report, CheckId.MISSING_COMPONENTS).findings
    assert finding.claim_line_ids == (supply,)
    assert finding.detail.endswith("no set-up and no treatment management line through 2026-10-31.")
    assert "Fresh" in found(audit(session, clinic, AuditMonth(2026, 11)), CheckId.MISSING_COMPONENTS)


def test_lines_whose_enrollment_lacks_the_ordering_provider_or_condition_are_found(session: Session) -> None:
    clinic = Clinic(session, "details")
    no_order = clinic.enroll(clinic.patient("NoOrder"), ordering=False)
    no_condition = clinic.enroll(clinic.patient("NoCondition"), conditions=())
    _, complete = clinic.rpm_patient("Complete")
    lines = {e.id: clinic.line(e, "99454", D(2026, 10, 5)) for e in (no_order, no_condition, complete)}
    clinic.line(no_order, "99454", D(2026, 9, 5))  # another month's line is not listed
    report = audit(session, clinic)
    findings = section(report, CheckId.MISSING_CLAIM_DETAILS).findings
    assert [(f.patient.name if f.patient else "", f.claim_line_ids) for f in findings] == [
        ("NoCondition, Synthetic", (lines[no_condition.id],)),
        ("NoOrder, Synthetic", (lines[no_order.id],)),
    ]
    assert "no monitored condition" in findings[0].detail and "no ordering provider" in findings[1].detail


def test_time_logged_when_no_consent_was_in_force_is_found(session: Session) -> None:
    clinic = Clinic(session, "consent")
    nurse = clinic.add(
        User(
            practice_id=clinic.id, email="rn@consent.test", full_name="RN", role=Role.CLINICAL_STAFF, password_hash="!"
        )
    )
    late, _ = clinic.rpm_patient("Late")
    revoked, _ = clinic.rpm_patient("Revoked")
    on_time, _ = clinic.rpm_patient("OnTime")
    clinic.add(
        Consent(
            practice_id=clinic.id, patient_id=late.id, program=Program.RPM, obtained_on=D(2026, 10, 6), method="verbal"
        )
    )
    clinic.add(
        Consent(
            practice_id=clinic.id,
            patient_id=revoked.id,
            program=Program.RPM,
            obtained_on=D(2026, 1, 1),
            revoked_on=D(2026, 10, 9),
            method="verbal",
        )
    )
    clinic.add(
        Consent(
            practice_id=clinic.id,
            patient_id=on_time.id,
            program=Program.RPM,
            obtained_on=D(2026, 10, 6),
            method="verbal",
        )
    )

    def entry(patient: Patient, day: dt.date, *, deleted: bool = False) -> int:
        row = clinic.add(
            TimeEntry(
                practice_id=clinic.id,
                patient_id=patient.id,
                user_id=nurse.id,
                program=Program.RPM,
                performer=Performer.CLINICAL_STAFF,
                service_date=day,
                minutes=10,
                deleted_at=utc_now() if deleted else None,
            )
        )
        return int(row.id)

    early = entry(late, D(2026, 10, 5))
    entry(late, D(2026, 10, 6))  # the day it was obtained: in force
    entry(late, D(2026, 10, 2), deleted=True)  # deleted: nothing counts it
    entry(revoked, D(2026, 10, 9))  # revoked that day: still in force
    after = entry(revoked, D(2026, 10, 10))
    entry(on_time, D(2026, 10, 20))
    enrollment = session.query(Enrollment).filter_by(patient_id=late.id).one()
    counting = clinic.line(enrollment, "99457", D(2026, 10, 31), evidence={"time_entries": [{"id": str(early)}]})
    report = audit(session, clinic)
    findings = section(report, CheckId.TIME_BEFORE_CONSENT).findings
    assert [(f.patient.name if f.patient else "", f.time_entry_ids, f.claim_line_ids) for f in findings] == [
        ("Late, Synthetic", (early,), (counting,)),
        ("Revoked, Synthetic", (after,), ()),
    ]
    assert "RPM consent obtained 2026-01-01, revoked 2026-10-09" in findings[1].detail


def test_a_line_that_counted_a_keyed_in_reading_is_found(session: Session) -> None:
    clinic = Clinic(session, "manual")
    cuff = clinic.add(Device(practice_id=clinic.id, serial="CUFF-1", kind="bp_cuff", medical_device=True))
    lines = {}
    for name, manual_day in (("Keyed", D(2026, 10, 3)), ("Clean", None)):
        patient, enrollment = clinic.rpm_patient(name)
        device = (
            cuff
            if name == "Keyed"
            else clinic.add(Device(practice_id=clinic.id, serial=f"CUFF-{name}", kind="bp_cuff", medical_device=True))
        )
        assignment = clinic.add(
            DeviceAssignment(
                practice_id=clinic.id,
                device_id=device.id,
                patient_id=patient.id,
                program=Program.RPM,
                start_date=D(2026, 9, 1),
            )
        )
        days = [D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 3)]
        for day in days:
            clinic.add(
                Observation(
                    practice_id=clinic.id,
                    patient_id=patient.id,
                    device_id=device.id,
                    type="blood_pressure",
                    values={"systolic": 120, "diastolic": 80},
                    effective_at=dt.datetime(day.year, day.month, day.day, 15, tzinfo=dt.UTC),
                    local_date=day,
                    manual=day == manual_day,
                    content_key=f"{name}-{day}",
                )
            )
        evidence = {"dates": [d.isoformat() for d in days], "devices": [f"{device.serial}#{assignment.id}"]}
        lines[name] = clinic.line(enrollment, "99454", D(2026, 10, 20), evidence=evidence)
    report = audit(session, clinic)
    (finding,) = section(report, CheckId.MANUAL_READINGS_COUNTED).findings
    assert (
        finding.claim_line_ids == (lines["Keyed"],) and "1 day(s)" in finding.detail and "2026-10-03" in finding.detail
    )


def test_another_practices_problems_stay_out_of_the_report(session: Session) -> None:
    ours, theirs = Clinic(session, "clean"), Clinic(session, "messy")
    _, good = ours.rpm_patient("Good")
    for code, day in (("99453", D(2026, 9, 25)), ("99454", D(2026, 9, 25)), ("99457", D(2026, 10, 31))):
        ours.line(good, code, day)
    ours.line(good, "99454", D(2026, 10, 25))
    bad = theirs.enroll(theirs.patient("Bad", visit=None), ordering=False, conditions=())
    for day in (D(2026, 9, 25), D(2026, 10, 1), D(2026, 10, 31)):
        theirs.line(bad, "99454", day)
    report = audit(session, ours)
    assert all(s.none_found for s in report.sections), [s.findings for s in report.sections if s.findings]
    assert report.practice_name == "clean" and report.settings.no_management_pct == 75
    messy = audit(session, theirs)
    assert {s.check.id for s in messy.sections if not s.none_found} == {
        CheckId.NO_PRIOR_RELATIONSHIP,
        CheckId.NO_TREATMENT_MANAGEMENT,
        CheckId.MULTIPLE_DEVICE_SUPPLY,
        CheckId.MISSING_COMPONENTS,
        CheckId.MISSING_CLAIM_DETAILS,
    }
