"""`remotecare demo --patients N`: a synthetic practice that bills, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.services.billing_run import run_billing
from remotecare.services.demo_practice import demo_practice, generate
from remotecare.store.models import Enrollment, Observation, Patient, TimeEntry
from remotecare.store.session import make_engine


def test_a_demo_practice_has_mixed_programs_varied_adherence_and_bills(database_url: str) -> None:
    engine = make_engine(database_url)
    practice_id = demo_practice(engine, "Demo Family Medicine")
    assert demo_practice(engine, "Demo Family Medicine") == practice_id  # found again, not made twice
    summary = generate(engine, practice_id, 60, dt.date(2026, 9, 1))
    again = generate(engine, practice_id, 20, dt.date(2026, 9, 1), seed=7)  # more, after the first
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 80
        assert session.scalar(select(func.count()).select_from(Observation)) == summary.readings + again.readings
        assert session.scalar(select(func.count()).select_from(TimeEntry)) == summary.time_entries + again.time_entries
        programs = set(session.scalars(select(Enrollment.program)))
        assert {"RPM", "RTM", "CCM"} <= {str(p) for p in programs}
        zones = set(session.scalars(select(Patient.timezone)))
        assert len(zones) >= 4
        per_patient = session.execute(
            select(Observation.patient_id, func.count()).group_by(Observation.patient_id)
        ).all()
        counts = sorted(count for _, count in per_patient)
        assert counts[0] < counts[-1] / 2  # adherence varies: some send far less than others
        # Ids the generator chose do not collide with ones the database gives afterwards.
        session.add(
            Patient(
                practice_id=practice_id,
                given_name="Synthetic",
                family_name="Later",
                birth_date=dt.date(1950, 1, 1),
                medicare_id="9EG4TE5MK79",
                timezone="America/Chicago",
            )
        )
        session.commit()
        report = run_billing(session, practice_id, Window(dt.date(2026, 9, 1), dt.date(2026, 9, 30)))
        session.commit()
    engine.dispose()
    assert report.evaluation is not None
    assert {line.code for line in report.evaluation.lines} >= {"99453", "99454", "99457", "99490"}
