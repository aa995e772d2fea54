"""Alerts raised on ingest, on both databases: thresholds at their boundaries, one alert per rule per
patient-day, history within and across batches, programs, overrides, and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.ingest.reading import IncomingReading, Outcome
from remotecare.services import ingestion
from remotecare.services.alerting import raise_alerts, thresholds
from remotecare.store.models import Alert, AlertStatus, Enrollment, Patient, Practice
from remotecare.store.session import make_engine

CHICAGO = ZoneInfo("America/Chicago")
DAY = dt.date(2025, 3, 10)
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


@dataclass
class Clinic:
    engine: Engine
    practice: int
    other_practice: int
    rpm: int  # enrolled in RPM from 1 March
    rtm: int  # enrolled in RTM from 1 March
    ccm: int  # enrolled in CCM only
    other: int  # RPM, in the other practice

    def session(self) -> Session:
        return Session(self.engine)


@pytest.fixture
def clinic(database_url: str) -> Iterator[Clinic]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practices = [Practice(name="Prairie Family Medicine"), Practice(name="Lakeside Clinic")]
        session.add_all(practices)
        session.flush()
        ids: dict[str, int] = {}
        for key, practice, program, mbi in (
            ("rpm", practices[0], Program.RPM, "1EG4TE5MK73"),
            ("rtm", practices[0], Program.RTM, "2EG4TE5MK74"),
            ("ccm", practices[0], Program.CCM, "3EG4TE5MK75"),
            ("other", practices[1], Program.RPM, "4EG4TE5MK76"),
        ):
            patient = Patient(
                practice_id=practice.id,
                given_name="Synthetic",
                family_name=key,
                birth_date=dt.date(1950, 5, 17),
                medicare_id=mbi,
                timezone="America/Chicago",
            )
            session.add(patient)
            session.flush()
            session.add(
                Enrollment(
                    practice_id=practice.id, patient_id=patient.id, program=program, start_date=dt.date(2025, 3, 1)
                )
            )
            ids[key] = patient.id
        session.commit()
        clinic = Clinic(engine, practices[0].id, practices[1].id, **ids)
    yield clinic
    engine.dispose()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO)


def reading(patient: int, kind: str, values: dict[str, Any], when: dt.datetime, **extra: Any) -> IncomingReading:
    return IncomingReading(type=kind, values=values, at=when, patient_id=patient, **extra)


def bp(patient: int, systolic: int, when: dt.datetime, diastolic: int = 80, **extra: Any) -> IncomingReading:
    return reading(patient, "blood_pressure", {"systolic": systolic, "diastolic": diastolic}, when, **extra)


def ingest(clinic: Clinic, *readings: IncomingReading, practice: int | None = None) -> list[int]:
    """Store the readings as any ingestion path does (alerts included), commit, and return their ids."""
    with clinic.session() as session:
        results = ingestion.ingest(session, practice or clinic.practice, readings, source="api", now=NOW)
        session.commit()
    assert all(result.outcome is Outcome.STORED for result in results), results
    return [result.id for result in results if result.id is not None]


def alerts(clinic: Clinic, patient: int | None = None) -> list[Alert]:
    with clinic.session() as session:
        query = select(Alert).order_by(Alert.id)
        if patient is not None:
            query = query.where(Alert.patient_id == patient)
        return list(session.scalars(query))


def set_overrides(
    clinic: Clinic, *, practice: dict[str, Any] | None = None, patient: dict[str, Any] | None = None
) -> None:
    with clinic.session() as session:
        if practice is not None:
            row = session.get(Practice, clinic.practice)
            assert row is not None
            row.alert_overrides = practice
        if patient is not None:
            record = session.get(Patient, clinic.rpm)
            assert record is not None
            record.alert_overrides = patient
        session.commit()


# --- plain thresholds --------------------------------------------------------------------------------


def test_a_systolic_of_180_raises_an_urgent_alert_and_179_does_not(clinic: Clinic) -> None:
    [crossing] = ingest(clinic, bp(clinic.rpm, 180, at(DAY, 8)))
    ingest(clinic, bp(clinic.rpm, 179, at(DAY + dt.timedelta(days=1), 8)))
    [alert] = alerts(clinic)
    assert (alert.rule, alert.severity, alert.status) == ("systolic_high", "urgent", AlertStatus.OPEN)
    assert (alert.observation_id, alert.patient_id, alert.practice_id) == (crossing, clinic.rpm, clinic.practice)
    assert (alert.observed, alert.threshold, alert.dedup_key) == (180, 180, "systolic_high:2025-03-10")
    assert alert.message == "Systolic 180 mmHg is at or above 180 mmHg."
    assert alert.version == 1 and alert.created_at is not None


def test_two_readings_that_cross_the_same_rule_on_one_day_make_one_alert(clinic: Clinic) -> None:
    first = ingest(clinic, bp(clinic.rpm, 185, at(DAY, 8)), bp(clinic.rpm, 190, at(DAY, 9)))
    ingest(clinic, bp(clinic.rpm, 200, at(DAY, 20)))  # a later batch, the same local day
    [alert] = alerts(clinic)
    assert alert.observation_id == first[0] and alert.observed == 185  # the day's first crossing stands
    # Days are the patient's: 04:30 UTC on the 11th is 23:30 on the 10th in Chicago, 05:30 UTC is the 11th.
    ingest(clinic, bp(clinic.rpm, 182, dt.datetime(2025, 3, 11, 4, 30, tzinfo=dt.UTC)))
    assert len(alerts(clinic)) == 1
    ingest(clinic, bp(clinic.rpm, 182, dt.datetime(2025, 3, 11, 5, 30, tzinfo=dt.UTC)))
    assert [a.dedup_key for a in alerts(clinic)] == ["systolic_high:2025-03-10", "systolic_high:2025-03-11"]


def test_judging_the_same_readings_again_opens_nothing_new(clinic: Clinic) -> None:
    ids = ingest(clinic, bp(clinic.rpm, 185, at(DAY, 8), diastolic=125))
    assert len(alerts(clinic)) == 2  # systolic and diastolic
    with clinic.session() as session:
        assert raise_alerts(session, clinic.practice, ids) == []
        session.commit()
    assert len(alerts(clinic)) == 2


def test_glucose_below_70_is_urgent_and_70_is_not(clinic: Clinic) -> None:
    ingest(
        clinic,
        reading(clinic.rpm, "glucose", {"mg_dl": 70}, at(DAY, 7)),
        reading(clinic.rpm, "glucose", {"mg_dl": 69, "meal": "fasting"}, at(DAY + dt.timedelta(days=1), 7)),
        reading(clinic.rpm, "glucose", {"mg_dl": 301}, at(DAY + dt.timedelta(days=2), 7)),
    )
    found = [(a.rule, a.severity, a.observed) for a in alerts(clinic)]
    assert found == [("glucose_low", "urgent", 69), ("glucose_high", "warning", 301)]


def test_a_manual_reading_raises_alerts_too(clinic: Clinic) -> None:
    ingest(clinic, reading(clinic.rpm, "spo2", {"percent": 88}, at(DAY, 10), manual=True))
    [alert] = alerts(clinic)
    assert (alert.rule, alert.message) == ("spo2_low", "SpO2 88% is below 90%.")


# --- windowed rules: history across and within batches ----------------------------------------------------


def weight(patient: int, kg: float, when: dt.datetime) -> IncomingReading:
    return reading(patient, "weight", {"kg": kg}, when)


def test_a_weight_gain_of_2_kg_over_2_days_raises_an_alert(clinic: Clinic) -> None:
    ingest(clinic, weight(clinic.rpm, 80.6, at(DAY - dt.timedelta(days=3), 7)))  # outside the 2-day window
    ingest(clinic, weight(clinic.rpm, 81.0, at(DAY - dt.timedelta(days=2), 7)))
    ingest(clinic, weight(clinic.rpm, 82.9, at(DAY, 7)))  # 1.9 over the 2-day window's lowest (81.0): nothing
    assert alerts(clinic) == []  # (and 2.3 over the week's lowest, under the 7-day rule's 2.5)
    ingest(clinic, weight(clinic.rpm, 83.0, at(DAY, 18)))  # 2.0 over 81.0; the same day's 82.9 counts too
    [alert] = alerts(clinic)
    assert (alert.rule, alert.observed, alert.threshold) == ("weight_gain_2d", 2.0, 2.0)
    assert "lowest weight of the previous 2 days (81 kg)" in (alert.message or "")


def test_readings_of_one_batch_are_each_others_history(clinic: Clinic) -> None:
    # Sent together, out of order: the gain is judged against the earlier reading of the same batch.
    ids = ingest(
        clinic,
        weight(clinic.rpm, 84.0, at(DAY, 7)),
        weight(clinic.rpm, 81.0, at(DAY - dt.timedelta(days=1), 7)),
    )
    # 3 kg over the day before: over the 2-day rule's 2 kg and the 7-day rule's 2.5 kg.
    found = [(a.rule, a.observation_id, a.observed) for a in alerts(clinic)]
    assert found == [("weight_gain_2d", ids[0], 3.0), ("weight_gain_7d", ids[0], 3.0)]


def test_pain_rising_3_points_over_the_weeks_mean_raises_an_alert_for_an_rtm_patient(clinic: Clinic) -> None:
    def pain(nrs: int, days_after: int) -> IncomingReading:
        return reading(clinic.rtm, "pain_score", {"nrs": nrs}, at(DAY + dt.timedelta(days=days_after), 9))

    ingest(clinic, pain(5, -3), pain(4, -2), pain(3, -1))
    ingest(clinic, pain(6, 0))  # 2 above the mean of the days before (4)
    ingest(clinic, pain(7, 1))  # 2.5 above 4.5
    assert alerts(clinic) == []
    ingest(clinic, pain(8, 2))  # 3 above the mean of 5, 4, 3, 6 and 7 (5)
    [alert] = alerts(clinic)
    assert (alert.rule, alert.severity, alert.observed, alert.threshold) == ("pain_rising", "warning", 3, 3)


# --- who a rule applies to ---------------------------------------------------------------------------------


def test_a_patient_not_enrolled_in_rpm_gets_no_blood_pressure_alert(clinic: Clinic) -> None:
    ingest(clinic, bp(clinic.ccm, 200, at(DAY, 8)), bp(clinic.rtm, 200, at(DAY, 8)))
    assert alerts(clinic) == []
    # Pain rising is for RTM and CPM: an RPM patient's rising pain scores raise nothing either.
    ingest(
        clinic,
        reading(clinic.rpm, "pain_score", {"nrs": 1}, at(DAY + dt.timedelta(days=1), 9)),
        reading(clinic.rpm, "pain_score", {"nrs": 9}, at(DAY + dt.timedelta(days=2), 9)),
    )
    assert alerts(clinic) == []


def test_only_the_programs_in_force_on_the_readings_local_date_count(clinic: Clinic) -> None:
    with clinic.session() as session:
        enrollment = session.scalar(select(Enrollment).where(Enrollment.patient_id == clinic.rpm))
        assert enrollment is not None
        enrollment.end_date = DAY
        session.commit()
    # 23:30 on the 10th in Chicago is 05:30 UTC on the 11th: still the 10th, still enrolled.
    ingest(clinic, bp(clinic.rpm, 181, at(DAY, 23, 30)))
    ingest(clinic, bp(clinic.rpm, 181, at(DAY + dt.timedelta(days=1), 8)))  # the day after it ended
    assert [a.dedup_key for a in alerts(clinic)] == ["systolic_high:2025-03-10"]
    ingest(clinic, bp(clinic.rpm, 181, at(dt.date(2025, 2, 20), 8)))  # before it started
    assert len(alerts(clinic)) == 1


# --- overrides -----------------------------------------------------------------------------------------


def test_a_patient_override_lowers_the_systolic_limit_to_170(clinic: Clinic) -> None:
    set_overrides(clinic, patient={"systolic_high": {"limit": 170}})
    ingest(clinic, bp(clinic.rpm, 169, at(DAY, 8)))
    assert alerts(clinic) == []
    ingest(clinic, bp(clinic.rpm, 170, at(DAY, 9)))
    [alert] = alerts(clinic)
    assert (alert.observed, alert.threshold) == (170, 170)


def test_the_patients_setting_wins_over_the_practices_which_wins_over_the_default(clinic: Clinic) -> None:
    set_overrides(clinic, practice={"systolic_high": {"limit": 160}, "glucose_low": {"limit": 80}})
    set_overrides(clinic, patient={"systolic_high": {"limit": 175}})
    ingest(
        clinic,
        bp(clinic.rpm, 170, at(DAY, 8)),  # above the practice's 160, below the patient's 175
        reading(clinic.rpm, "glucose", {"mg_dl": 75}, at(DAY, 9)),  # below the practice's 80
    )
    [alert] = alerts(clinic)
    assert (alert.rule, alert.threshold) == ("glucose_low", 80)
    views, ignored = thresholds({"systolic_high": {"limit": 160}}, {"systolic_high": {"limit": 175}})
    systolic = next(view for view in views if view.name == "systolic_high")
    assert (systolic.limit, systolic.source, systolic.sources["limit"], ignored) == (175, "patient", "patient", [])


def test_a_disabled_rule_raises_nothing(clinic: Clinic) -> None:
    set_overrides(clinic, practice={"spo2_low": {"enabled": False}})
    ingest(clinic, reading(clinic.rpm, "spo2", {"percent": 85}, at(DAY, 8)))
    assert alerts(clinic) == []
    set_overrides(clinic, patient={"spo2_low": {"enabled": True}})  # the patient's own setting wins
    ingest(clinic, reading(clinic.rpm, "spo2", {"percent": 85}, at(DAY, 9)))
    assert [a.rule for a in alerts(clinic)] == ["spo2_low"]


def test_invalid_stored_overrides_fall_back_to_the_layer_below_and_warn(
    clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    set_overrides(clinic, practice={"systolic_high": {"limit": 150}}, patient={"systolic_high": {"limit": "high"}})
    with caplog.at_level(logging.WARNING, logger="remotecare.services.alerting"):
        ingest(clinic, bp(clinic.rpm, 155, at(DAY, 8)))
    [alert] = alerts(clinic)
    assert alert.threshold == 150  # the practice's, as the patient's layer cannot be used
    assert any(f"patient {clinic.rpm}" in record.getMessage() for record in caplog.records)
    caplog.clear()
    set_overrides(clinic, practice={"no_such_rule": {}}, patient={})
    with caplog.at_level(logging.WARNING, logger="remotecare.services.alerting"):
        ingest(
            clinic,
            bp(clinic.rpm, 180, at(DAY + dt.timedelta(days=1), 8)),
            bp(clinic.rpm, 179, at(DAY + dt.timedelta(days=2), 8)),
        )
    assert [a.threshold for a in alerts(clinic)] == [150, 180]  # the defaults: 180 fires, 179 does not
    assert any(f"practice {clinic.practice}" in record.getMessage() for record in caplog.records)


# --- scope and cost ------------------------------------------------------------------------------------


def test_another_practices_readings_are_not_judged_for_this_one(clinic: Clinic) -> None:
    [theirs] = ingest(clinic, bp(clinic.other, 200, at(DAY, 8)), practice=clinic.other_practice)
    assert [a.practice_id for a in alerts(clinic)] == [clinic.other_practice]
    with clinic.session() as session:
        assert raise_alerts(session, clinic.practice, [theirs]) == []


def test_a_batch_costs_a_few_queries_whatever_its_size(clinic: Clinic) -> None:
    patients = [clinic.rpm, clinic.rtm, clinic.ccm]
    batch = [
        item
        for day in range(20)
        for patient in patients
        for item in (
            bp(patient, 150 + day * 2, at(DAY + dt.timedelta(days=day), 8)),
            weight(patient, 80 + day * 0.5, at(DAY + dt.timedelta(days=day), 7)),
            reading(patient, "pain_score", {"nrs": day % 10}, at(DAY + dt.timedelta(days=day), 9)),
        )
    ]
    ids = ingest(clinic, *batch)
    with clinic.session() as session:
        session.execute(delete(Alert))  # judged again from scratch
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(clinic.engine, "before_cursor_execute", count)
        try:
            opened = raise_alerts(session, clinic.practice, ids)
        finally:
            event.remove(clinic.engine, "before_cursor_execute", count)
        session.rollback()
    assert opened  # systolic from day 15, weight gains, the RTM patient's rising pain
    assert len(statements) == 4, statements  # readings, history, programs, one insert
