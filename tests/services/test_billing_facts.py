"""The database and a scenario file give the same evaluation for the same facts (issue 6, item 1).

A synthetic practice is written to the database (SQLite, or PostgreSQL with
REMOTECARE_TEST_DATABASE=postgresql); its facts are read back with the
set-based queries of `billing_facts`, and also exported as a scenario file;
both are evaluated by the same rules and must agree line for line, reason for
reason.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.domain.time_entries import Performer
from remotecare.rules import evaluate, load_rules
from remotecare.rules.evaluate import evaluate_activities
from remotecare.scenarios.file import parse_scenario
from remotecare.services.billing_facts import load_facts
from remotecare.services.scenario_export import export_scenario
from remotecare.store.models import (
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

WINDOW = Window(dt.date(2026, 10, 1), dt.date(2026, 11, 30))
UTC = dt.UTC


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def reading(practice: int, patient: Patient, device: int | None, at: dt.datetime, manual: bool = False) -> Observation:
    from zoneinfo import ZoneInfo

    return Observation(
        practice_id=practice,
        patient_id=patient.id,
        device_id=device,
        type="blood_pressure",
        values={"systolic": 130, "diastolic": 80},
        effective_at=at,
        local_date=at.astimezone(ZoneInfo(patient.timezone)).date(),
        manual=manual,
        source="api",
        content_key=f"{patient.id}-{device}-{at.isoformat()}-{manual}",
    )


def seed(session: Session) -> int:
    """Two patients in different zones: RPM with gaps, a manual reading, a reading before the cuff was
    assigned and one from a non-medical device; CCM with staff and physician minutes and a call."""
    practice = add(session, Practice(name="Synthetic Equivalence Clinic"))
    nurse = add(
        session,
        User(
            practice_id=practice.id,
            email="nurse@example.test",
            full_name="Synthetic Nurse",
            role=Role.CLINICAL_STAFF,
            password_hash="x",
        ),
    )
    chicago = add(
        session,
        Patient(
            practice_id=practice.id,
            given_name="Synthetic",
            family_name="One",
            birth_date=dt.date(1950, 1, 1),
            medicare_id="1EG4TE5MK73",
            timezone="America/Chicago",
            conditions=["I10", "E11.9"],
            established=True,
        ),
    )
    honolulu = add(
        session,
        Patient(
            practice_id=practice.id,
            given_name="Synthetic",
            family_name="Two",
            birth_date=dt.date(1948, 2, 29),
            medicare_id="2EG4TE5MK74",
            timezone="Pacific/Honolulu",
            conditions=["I50.9", "N18.3"],
            established=True,
        ),
    )
    for patient, program, start in (
        (chicago, Program.RPM, dt.date(2026, 10, 1)),
        (honolulu, Program.RPM, dt.date(2026, 10, 5)),
        (honolulu, Program.CCM, dt.date(2026, 10, 1)),
    ):
        add(session, Enrollment(practice_id=practice.id, patient_id=patient.id, program=program, start_date=start))
        add(
            session,
            Consent(
                practice_id=practice.id,
                patient_id=patient.id,
                program=program,
                obtained_on=start - dt.timedelta(days=1),
                method="verbal",
            ),
        )
    cuff = add(session, Device(practice_id=practice.id, serial="CUFF-1", kind="bp_cuff", medical_device=True))
    cuff2 = add(session, Device(practice_id=practice.id, serial="CUFF-2", kind="bp_cuff", medical_device=True))
    watch = add(session, Device(practice_id=practice.id, serial="WATCH-1", kind="watch", medical_device=False))
    for device, patient, first_day in ((cuff, chicago, 1), (cuff2, honolulu, 6), (watch, honolulu, 5)):
        add(
            session,
            DeviceAssignment(
                practice_id=practice.id,
                device_id=device.id,
                patient_id=patient.id,
                program=Program.RPM,
                start_date=dt.date(2026, 10, first_day),
            ),
        )
    observations = []
    # Chicago: 18 days in the first period (every day but the weekends), then a thin second period.
    for day in range(1, 61):
        when = dt.datetime(2026, 10, 1, 13, tzinfo=UTC) + dt.timedelta(days=day - 1)
        if (day <= 30 and when.weekday() < 5) or day % 4 == 0:
            observations.append(reading(practice.id, chicago, cuff.id, when))
    # 04:30 UTC is the previous evening in Chicago: a day counted in the patient's zone.
    observations.append(reading(practice.id, chicago, cuff.id, dt.datetime(2026, 10, 4, 4, 30, tzinfo=UTC)))
    # Honolulu: daily from the 6th, a manual reading (never counts for RPM), readings before the cuff's
    # assignment, and a non-medical watch every day.
    for day in range(3, 50):
        when = dt.datetime(2026, 10, 1, 20, tzinfo=UTC) + dt.timedelta(days=day - 1)
        observations.append(reading(practice.id, honolulu, watch.id, when))
        if day % 3 != 0:
            observations.append(reading(practice.id, honolulu, cuff2.id, when))
    observations.append(reading(practice.id, honolulu, cuff2.id, dt.datetime(2026, 10, 9, 1, tzinfo=UTC), True))
    session.add_all(observations)
    for day, minutes, interactive, program in (
        (8, 12, False, Program.RPM),
        (15, 14, True, Program.RPM),
        (10, 25, True, Program.CCM),
        (20, 22, False, Program.CCM),
        (12, 9, False, Program.RPM),
    ):
        for patient in (chicago, honolulu):
            if program == Program.CCM and patient is chicago:
                continue
            session.add(
                TimeEntry(
                    practice_id=practice.id,
                    patient_id=patient.id,
                    user_id=nurse.id,
                    program=program,
                    performer=Performer.CLINICAL_STAFF,
                    service_date=dt.date(2026, 10, day),
                    minutes=minutes,
                    interactive=interactive,
                )
            )
    session.add(
        Encounter(
            practice_id=practice.id,
            patient_id=chicago.id,
            date=dt.date(2026, 9, 20),
            type="office_visit",
            face_to_face=True,
        )
    )
    session.commit()
    return int(practice.id)


@pytest.fixture
def practice(database_url: str) -> tuple[str, int]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice_id = seed(session)
    engine.dispose()
    return database_url, practice_id


def evaluations(url: str, practice_id: int) -> tuple[Any, Any]:
    engine = make_engine(url)
    rules = load_rules()
    with Session(engine) as session:
        from_database = evaluate_activities(
            load_facts(session, practice_id, WINDOW).activities(), rules=rules, window=WINDOW
        )
        exported = export_scenario(session, practice_id, WINDOW)
    engine.dispose()
    scenario = parse_scenario(json.dumps(exported))  # through the same validation as a file
    from_file = evaluate(scenario.facts(), rules=rules, window=scenario.evaluation_window)
    return from_database, from_file


def test_the_database_and_its_scenario_file_give_the_same_evaluation(practice: tuple[str, int]) -> None:
    from_database, from_file = evaluations(*practice)
    assert from_database.to_dict() == from_file.to_dict()
    codes = sorted((line.patient, line.code, line.month) for line in from_database.lines)
    # Not vacuous: device days, set-up and time codes were billed from the database's own facts.
    assert {code for _, code, _ in codes} >= {"99453", "99454", "99457", "99490"}, codes


def test_days_are_counted_in_the_patients_zone_and_only_from_assigned_medical_devices(
    practice: tuple[str, int],
) -> None:
    url, practice_id = practice
    engine = make_engine(url)
    with Session(engine) as session:
        facts = load_facts(session, practice_id, WINDOW)
    engine.dispose()
    activities = {(a.patient.timezone, a.enrollment.program): a for a in facts.activities()}
    chicago = activities[("America/Chicago", Program.RPM)]
    assert dt.date(2026, 10, 3) in chicago.data_days  # 04:30 UTC on the 4th is the 3rd in Chicago
    honolulu = activities[("Pacific/Honolulu", Program.RPM)]
    assert honolulu.monitoring_start == dt.date(2026, 10, 6)  # the cuff's start; the watch is not medical
    assert min(honolulu.data_days) >= dt.date(2026, 10, 6)
    assert all(
        ids == frozenset({next(iter(ids))}) and "CUFF-2#" in next(iter(ids)) for ids in honolulu.data_days.values()
    )


def test_a_day_names_every_medical_device_that_sent_data_on_it() -> None:
    """Days of one device share one set; a day two devices sent data on names both."""
    from remotecare.domain.devices import Device as DomainDevice
    from remotecare.domain.patients import Patient as DomainPatient
    from remotecare.domain.programs import Enrollment as DomainEnrollment
    from remotecare.services.billing_facts import PracticeFacts

    start = dt.date(2026, 10, 1)
    facts = PracticeFacts(WINDOW)
    facts.patients[1] = DomainPatient("1", "America/Chicago", True, ("I10",))
    facts.enrollments.append(DomainEnrollment("5", "1", Program.RPM, start, None, start))
    facts.devices[10] = DomainDevice("CUFF#10", "1", Program.RPM, "bp_cuff", True, start, None)
    facts.devices[11] = DomainDevice("SCALE#11", "1", Program.RPM, "scale", True, start, None)
    facts.devices[12] = DomainDevice("WATCH#12", "1", Program.RPM, "watch", False, start, None)
    facts.data_days[(1, 10)] = {start, start + dt.timedelta(days=1)}
    facts.data_days[(1, 11)] = {start + dt.timedelta(days=1), start + dt.timedelta(days=2)}
    facts.data_days[(1, 12)] = {start + dt.timedelta(days=3)}
    (activity,) = facts.activities()
    assert dict(activity.data_days) == {
        start: frozenset({"CUFF#10"}),
        start + dt.timedelta(days=1): frozenset({"CUFF#10", "SCALE#11"}),
        start + dt.timedelta(days=2): frozenset({"SCALE#11"}),
    }


def test_patients_are_read_by_range_for_a_slice_and_by_list_when_few_are_spread_wide(
    practice: tuple[str, int],
) -> None:
    url, practice_id = practice
    engine = make_engine(url)
    with Session(engine) as session:
        enrolled = sorted(session.scalars(select(Enrollment.patient_id).where(Enrollment.practice_id == practice_id)))
        first = enrolled[0]
        for number in range(8):  # patients between, none enrolled: the three enrolled are read as a range
            add(
                session,
                Patient(
                    practice_id=practice_id,
                    given_name="Synthetic",
                    family_name=f"Filler{number}",
                    birth_date=dt.date(1950, 1, 1),
                    medicare_id=f"3EG4TE5MK{number:02d}",
                    timezone="UTC",
                ),
            )
        far = add(
            session,
            Patient(
                practice_id=practice_id,
                given_name="Synthetic",
                family_name="Far",
                birth_date=dt.date(1951, 1, 1),
                medicare_id="4EG4TE5MK99",
                timezone="UTC",
                conditions=["I10"],
            ),
        )
        add(
            session,
            Enrollment(practice_id=practice_id, patient_id=far.id, program=Program.CCM, start_date=WINDOW.start),
        )
        session.commit()
        spread = load_facts(session, practice_id, WINDOW, patient_ids=[first, far.id])  # read by list
        whole = load_facts(session, practice_id, WINDOW)  # read by range
    engine.dispose()
    assert set(spread.patients) == {first, far.id}
    assert set(whole.patients) == {*enrolled, far.id}
    assert whole.patients[far.id].conditions == ("I10",)
