"""`remotecare demo --patients N`: a synthetic practice that bills, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.services.billing_run import run_billing
from remotecare.services.demo_practice import demo_practice, generate
from remotecare.store.models import Alert, CarePlan, Enrollment, Observation, Patient, TimeEntry
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


def test_activity_goes_on_through_the_day_asked_leaving_the_month_as_it_was(database_url: str) -> None:
    """The CLI's demo runs up to yesterday, so the worklist has open periods, alerts and care plans."""
    engine = make_engine(database_url)
    month_only = demo_practice(engine, "Month Only")
    generate(engine, month_only, 80, dt.date(2026, 9, 1))
    through = demo_practice(engine, "Through October")
    generate(engine, through, 80, dt.date(2026, 9, 1), through=dt.date(2026, 10, 20))

    def month_rows(practice_id: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with Session(engine) as session:
            readings = session.execute(
                select(
                    Observation.patient_id
                    - select(func.min(Patient.id)).where(Patient.practice_id == practice_id).scalar_subquery(),
                    Observation.local_date,
                    Observation.values,
                )
                .where(Observation.practice_id == practice_id, Observation.local_date <= dt.date(2026, 9, 30))
                .order_by(Observation.patient_id, Observation.local_date)
            ).all()
            minutes = session.execute(
                select(TimeEntry.service_date, TimeEntry.minutes, TimeEntry.interactive)
                .where(TimeEntry.practice_id == practice_id, TimeEntry.service_date <= dt.date(2026, 9, 30))
                .order_by(TimeEntry.patient_id, TimeEntry.service_date, TimeEntry.minutes)
            ).all()
        return [tuple(row) for row in readings], [tuple(row) for row in minutes]

    assert month_rows(through) == month_rows(month_only)  # the month itself is unchanged
    with Session(engine) as session:
        last_day = session.scalar(select(func.max(Observation.local_date)).where(Observation.practice_id == through))
        assert last_day is not None and dt.date(2026, 10, 15) <= last_day <= dt.date(2026, 10, 20)
        last_entry = session.scalar(select(func.max(TimeEntry.service_date)).where(TimeEntry.practice_id == through))
        assert last_entry is not None and last_entry > dt.date(2026, 9, 30)
        # Calls are audio, as the ledger names them; other time has no mode.
        modes = set(session.execute(select(TimeEntry.interactive, TimeEntry.interaction_mode)).all())
        assert modes <= {(True, "audio"), (False, None)}
        # Two care managers share the patients; some recent readings opened alerts; CCM patients have plans.
        managers = session.execute(
            select(Patient.care_manager_id, func.count())
            .where(Patient.practice_id == through)
            .group_by(Patient.care_manager_id)
        ).all()
        assert len(managers) == 2 and all(count == 40 for _, count in managers)
        alerts = session.scalars(select(Alert).where(Alert.practice_id == through)).all()
        assert alerts and {alert.rule for alert in alerts} == {"systolic_high"}
        assert session.scalar(select(func.count()).select_from(Alert).where(Alert.practice_id == month_only)) == 0
        plans = session.scalar(select(func.count()).select_from(CarePlan).where(CarePlan.practice_id == through))
        ccm = session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.practice_id == through, Enrollment.program == "CCM")
        )
        assert plans == ccm and plans
    engine.dispose()
