"""The browser tests' practice: a few synthetic patients whose state on today's date is known.

Everything is placed relative to today in the practice's zone (America/Chicago), because the pages show
the worklist as of today and the timer runs on the real clock. Each patient's name says what it shows:

- Rivera, Risk: RPM, 20 days into a 30-day period with 6 days of data (the last, yesterday, a blood
  pressure of 186/96 that opened an alert) and none today: 10 days still open, 10 needed, no day to spare.
  The patient closest to missing the 16-day mark.
- Tran, Track: RPM, same period, 14 days of data: 2 needed, 8 to spare.
- Moreno, Met: RPM, 16 days of data: met.
- Garcia, Gap: RPM, 25 days in with 4 days of data: 16 is out of reach, the 2-15 day code is not.
- Baker, Billed: RPM all last month (every day of data, 25 minutes with a call): last month's lines are
  proposed by a billing run, for the biller to approve.
- Chen, Care: CCM with 12 minutes this month and a care plan.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from remotecare.api.security import hash_password
from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.domain.time_entries import Performer
from remotecare.services.alerting import raise_alerts
from remotecare.services.billing_run import run_billing
from remotecare.store.models import (
    CarePlan,
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

ZONE_NAME = "America/Chicago"
ZONE = ZoneInfo(ZONE_NAME)
PASSWORD = "synthetic browser passphrase"
_PASSWORD_HASH = hash_password(PASSWORD)
DAY = dt.timedelta(days=1)
MBIS = (f"{n % 9 + 1}EG4TE5MK{70 + n % 30}" for n in itertools.count(1))  # always 11 characters


def today() -> dt.date:
    return dt.datetime.now(ZONE).date()


@dataclass
class Clinic:
    practice_id: int
    users: dict[Role, int] = field(default_factory=dict)
    emails: dict[Role, str] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)  # family name -> id
    alerts: list[int] = field(default_factory=list)


Row = TypeVar("Row")


def _add(session: Session, row: Row) -> Row:
    session.add(row)
    session.flush()
    return row


def _at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), ZONE).astimezone(dt.UTC)


def _patient(session: Session, clinic: Clinic, family: str, given: str, care_manager: int | None) -> Patient:
    patient = _add(
        session,
        Patient(
            practice_id=clinic.practice_id,
            given_name=given,
            family_name=family,
            birth_date=dt.date(1948, 4, 9),
            medicare_id=next(MBIS),
            timezone=ZONE_NAME,
            conditions=["I10", "E11.9"],
            established=True,
            care_manager_id=care_manager,
            sex="F",
            address_line1="2 Synthetic Lane",
            city="Springfield",
            state="IL",
            postal_code="62701",
        ),
    )
    clinic.patients[family] = patient.id
    return patient


def _monitored(session: Session, clinic: Clinic, patient: Patient, start: dt.date, days: list[dt.date]) -> Device:
    session.add(
        Consent(
            practice_id=clinic.practice_id,
            patient_id=patient.id,
            program=Program.RPM,
            obtained_on=start - DAY,
            method="verbal",
        )
    )
    session.add(Encounter(practice_id=clinic.practice_id, patient_id=patient.id, date=start - 2 * DAY, type="office"))
    session.add(
        Enrollment(
            practice_id=clinic.practice_id,
            patient_id=patient.id,
            program=Program.RPM,
            start_date=start,
            billing_provider_id=clinic.users[Role.PHYSICIAN],
            ordering_provider_id=clinic.users[Role.PHYSICIAN],
            monitored_conditions=["I10"],
        )
    )
    device = _add(
        session,
        Device(practice_id=clinic.practice_id, serial=f"CUFF-{patient.id}", kind="bp_cuff", medical_device=True),
    )
    session.add(
        DeviceAssignment(
            practice_id=clinic.practice_id,
            device_id=device.id,
            patient_id=patient.id,
            program=Program.RPM,
            start_date=start,
        )
    )
    for number, day in enumerate(days):
        _reading(session, clinic, patient, device, day, 128 + number % 7, 82)
    return device


def _reading(
    session: Session, clinic: Clinic, patient: Patient, device: Device, day: dt.date, systolic: int, diastolic: int
) -> Observation:
    return _add(
        session,
        Observation(
            practice_id=clinic.practice_id,
            patient_id=patient.id,
            device_id=device.id,
            type="blood_pressure",
            values={"systolic": systolic, "diastolic": diastolic},
            effective_at=_at_noon(day),
            local_date=day,
            content_key=f"seed-{patient.id}-{day.isoformat()}-{systolic}",
        ),
    )


def _minutes(
    session: Session, clinic: Clinic, patient: Patient, program: Program, day: dt.date, minutes: int, call: bool
) -> None:
    start = _at_noon(day)
    session.add(
        TimeEntry(
            practice_id=clinic.practice_id,
            patient_id=patient.id,
            user_id=clinic.users[Role.CLINICAL_STAFF],
            program=program,
            performer=Performer.CLINICAL_STAFF,
            service_date=day,
            started_at=start,
            ended_at=start + dt.timedelta(minutes=minutes),
            minutes=minutes,
            interactive=call,
            interaction_mode="audio" if call else None,
        )
    )


def seed_clinic(session: Session) -> Clinic:
    day = today()
    practice = _add(
        session,
        Practice(
            name="Browser Family Medicine",
            npi="1234567893",
            timezone=ZONE_NAME,
            tax_id="123456789",
            payer_name="Synthetic Medicare Contractor",
            payer_id="99999",
            phone="2175550100",
            address_line1="1 Synthetic Way",
            city="Springfield",
            state="IL",
            postal_code="627011234",
        ),
    )
    clinic = Clinic(practice.id)
    for role in Role:
        email = f"{role.value}@browser.example"
        user = _add(
            session,
            User(
                practice_id=practice.id,
                email=email,
                full_name=f"Synthetic {role.value.replace('_', ' ').title()}",
                role=role,
                password_hash=_PASSWORD_HASH,
                npi="1245319599" if role is Role.PHYSICIAN else None,
            ),
        )
        clinic.users[role], clinic.emails[role] = user.id, email
    nurse = clinic.users[Role.CLINICAL_STAFF]

    period_start = day - 20 * DAY  # today is the period's 21st day: 10 days still open, today included
    risk = _patient(session, clinic, "Rivera", "Risk", nurse)
    cuff = _monitored(session, clinic, risk, period_start, [period_start + n * 3 * DAY for n in range(5)])
    high = _reading(session, clinic, risk, cuff, day - DAY, 186, 96)
    track = _patient(session, clinic, "Tran", "Track", nurse)
    _monitored(session, clinic, track, period_start, [period_start + n * DAY for n in range(14)])
    met = _patient(session, clinic, "Moreno", "Met", None)
    _monitored(session, clinic, met, period_start, [period_start + n * DAY for n in range(16)])
    gap = _patient(session, clinic, "Garcia", "Gap", None)
    _monitored(session, clinic, gap, day - 25 * DAY, [day - (25 - n * 5) * DAY for n in range(4)])

    last_month_end = day.replace(day=1) - DAY
    last_month_start = last_month_end.replace(day=1)
    billed = _patient(session, clinic, "Baker", "Billed", nurse)
    days = [last_month_start + n * DAY for n in range((last_month_end - last_month_start).days + 1)]
    _monitored(session, clinic, billed, last_month_start, days)
    _minutes(session, clinic, billed, Program.RPM, last_month_start + 9 * DAY, 25, call=True)

    care = _patient(session, clinic, "Chen", "Care", nurse)
    session.add(
        Consent(
            practice_id=practice.id,
            patient_id=care.id,
            program=Program.CCM,
            obtained_on=day - 60 * DAY,
            method="written",
        )
    )
    session.add(Enrollment(practice_id=practice.id, patient_id=care.id, program=Program.CCM, start_date=day - 59 * DAY))
    _minutes(session, clinic, care, Program.CCM, day.replace(day=1), 12, call=True)
    session.add(
        CarePlan(
            practice_id=practice.id,
            patient_id=care.id,
            program=Program.CCM,
            problems=["I10", "E11.9"],
            goals=[{"description": "Blood pressure under 130/80", "target_date": (day + 90 * DAY).isoformat()}],
            interventions=[{"description": "Weekly call about readings", "responsible": "care manager"}],
        )
    )
    session.flush()
    clinic.alerts = raise_alerts(session, practice.id, [high.id])
    run_billing(session, practice.id, Window(last_month_start, last_month_end))
    session.commit()
    assert clinic.alerts, "the seed's high reading should raise an alert"
    return clinic


def seed_checkin_patient(session: Session, clinic: Clinic) -> Patient:
    """Patel, Pain: CPM for 20 days (chronic low back pain), two scheduled medications, no check-ins yet.
    Not part of `seed_clinic`, so the other pages' patients stay as they are; the check-in tests add her."""
    day = today()
    start = day - 20 * DAY
    patient = _add(
        session,
        Patient(
            practice_id=clinic.practice_id,
            given_name="Pain",
            family_name="Patel",
            birth_date=dt.date(1952, 7, 14),
            medicare_id="8EG4TE5MK88",
            timezone=ZONE_NAME,
            conditions=["M54.50", "G89.29"],
            established=True,
            care_manager_id=clinic.users[Role.CLINICAL_STAFF],
            sex="F",
            medications=["Gabapentin 300 mg", "Naproxen 500 mg"],
            address_line1="3 Synthetic Lane",
            city="Springfield",
            state="IL",
            postal_code="62701",
        ),
    )
    clinic.patients[patient.family_name] = patient.id
    session.add(
        Consent(
            practice_id=clinic.practice_id,
            patient_id=patient.id,
            program=Program.CPM,
            obtained_on=start - DAY,
            method="written",
        )
    )
    session.add(Encounter(practice_id=clinic.practice_id, patient_id=patient.id, date=start - DAY, type="office"))
    session.add(
        Enrollment(
            practice_id=clinic.practice_id,
            patient_id=patient.id,
            program=Program.CPM,
            start_date=start,
            billing_provider_id=clinic.users[Role.PHYSICIAN],
            monitored_conditions=["G89.29"],
        )
    )
    session.commit()
    return patient
