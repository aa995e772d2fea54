"""The billing run on both databases: lines proposed once, re-runs that double nothing, and late data that
updates a proposed line but only flags one a biller already approved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from remotecare.cli import app
from remotecare.config import get_settings
from remotecare.domain.programs import Program
from remotecare.services.billing_run import RunReport, run_billing
from remotecare.store.models import AuditEvent, ClaimLine, ClaimStatus, Observation, Patient, TimeEntry
from remotecare.store.session import make_engine
from tests.services.test_billing_facts import WINDOW, reading, seed


@pytest.fixture
def db(database_url: str) -> Iterator[tuple[Session, int]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice_id = seed(session)
        yield session, practice_id
    engine.dispose()


def bill(session: Session, practice_id: int) -> RunReport:
    report = run_billing(session, practice_id, WINDOW)
    session.commit()
    return report


def lines(session: Session) -> list[tuple[Any, ...]]:
    return [
        (line.code, line.period_start, line.units, line.status, line.needs_review)
        for line in session.scalars(
            select(ClaimLine).order_by(ClaimLine.patient_id, ClaimLine.service_date, ClaimLine.code)
        )
    ]


def test_a_run_proposes_each_line_once_and_a_rerun_doubles_nothing(db: tuple[Session, int]) -> None:
    session, practice_id = db
    first = bill(session, practice_id)
    assert first.evaluation is not None
    assert len(first.proposed) == len(first.evaluation.lines) > 0
    stored = lines(session)
    assert all(status is ClaimStatus.PROPOSED and not review for *_, status, review in stored)
    again = bill(session, practice_id)
    assert again.counts() == {"proposed": 0, "updated": 0, "unchanged": len(stored), "flagged": 0, "voided": 0}
    assert lines(session) == stored


def test_late_data_updates_a_proposed_line_but_only_flags_an_approved_one(db: tuple[Session, int]) -> None:
    session, practice_id = db
    bill(session, practice_id)
    honolulu = session.scalar(select(Patient).where(Patient.timezone == "Pacific/Honolulu"))
    assert honolulu is not None
    device_line = session.scalar(
        select(ClaimLine).where(ClaimLine.patient_id == honolulu.id, ClaimLine.code == "99454")
    )
    assert device_line is not None
    days_before = device_line.evidence["days_with_data"]
    # A reading that arrives late, on a day of that period that had none (every third day was missing).
    cuff = session.scalar(
        select(Observation.device_id).where(Observation.patient_id == honolulu.id, Observation.manual)
    )
    session.add(reading(practice_id, honolulu, cuff, dt.datetime(2026, 10, 12, 20, tzinfo=dt.UTC)))
    session.commit()
    updated = bill(session, practice_id)
    session.refresh(device_line)
    assert device_line.id in updated.updated and device_line.evidence["days_with_data"] == days_before + 1

    device_line.status = ClaimStatus.APPROVED
    session.commit()
    session.add(reading(practice_id, honolulu, cuff, dt.datetime(2026, 10, 15, 20, tzinfo=dt.UTC)))
    session.commit()
    flagged = bill(session, practice_id)
    session.refresh(device_line)
    assert device_line.id in flagged.flagged and device_line.needs_review
    assert device_line.evidence["days_with_data"] == days_before + 1  # history unchanged
    assert "after it was approved" in (device_line.review_note or "")


def test_a_proposed_line_the_facts_no_longer_support_is_voided(db: tuple[Session, int]) -> None:
    session, practice_id = db
    bill(session, practice_id)
    honolulu = session.scalar(select(Patient.id).where(Patient.timezone == "Pacific/Honolulu"))
    ccm = session.scalar(select(ClaimLine).where(ClaimLine.patient_id == honolulu, ClaimLine.code == "99490"))
    assert ccm is not None
    session.execute(delete(TimeEntry).where(TimeEntry.patient_id == honolulu, TimeEntry.program == Program.CCM))
    session.commit()
    report = bill(session, practice_id)
    session.refresh(ccm)
    assert ccm.id in report.voided and ccm.status is ClaimStatus.VOID
    assert session.scalar(select(func.count()).select_from(ClaimLine).where(ClaimLine.id == ccm.id)) == 1


def test_the_command_bills_and_writes_the_audit_trail(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice_id = seed(session)
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    args = ["bill", "--through", "2026-11-30", "--from", "2026-10-01", "--practice", str(practice_id)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "billed 2026-10-01 to 2026-11-30: 9 proposed" in first.output
    second = runner.invoke(app, args)
    assert "0 proposed, 0 updated, 9 unchanged" in second.output
    unknown = runner.invoke(app, ["bill", "--through", "2026-11-30", "--practice", "999"])
    assert unknown.exit_code == 2 and "--practice: no practice 999" in unknown.output
    with Session(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "bill")).all()
        assert [(e.actor_label, e.detail["proposed"]) for e in events] == [
            ("remotecare bill", 9),
            ("remotecare bill", 0),
        ]
    engine.dispose()
    get_settings.cache_clear()


def test_the_worklist_command_prints_each_open_period(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice_id = seed(session)
    engine.dispose()
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["worklist", "--practice", str(practice_id), "--as-of", "2026-11-10"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    first_row = next(line for line in result.output.splitlines() if "One, Synthetic" in line)
    assert "3 days" in first_row and "16 for 99454" in first_row and "$47.43" in first_row and "19" in first_row


def test_the_evidence_packet_shows_the_rule_the_days_the_minutes_consent_and_visits(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice_id = seed(session)
        bill(session, practice_id)
        chicago = session.scalar(select(Patient.id).where(Patient.timezone == "America/Chicago"))
        device_line = session.scalar(
            select(ClaimLine).where(ClaimLine.patient_id == chicago, ClaimLine.code == "99454")
        )
        time_line = session.scalar(select(ClaimLine).where(ClaimLine.patient_id == chicago, ClaimLine.code == "99457"))
        assert device_line is not None and time_line is not None
        ids = (device_line.id, time_line.id, device_line.evidence["dates"])
    engine.dispose()
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    device_page, time_page = tmp_path / "device.html", tmp_path / "time.html"
    assert runner.invoke(app, ["evidence", str(ids[0]), "--out", str(device_page)]).exit_code == 0
    assert runner.invoke(app, ["evidence", str(ids[1]), "--out", str(time_page)]).exit_code == 0
    missing = runner.invoke(app, ["evidence", "999999"])
    get_settings.cache_clear()
    assert missing.exit_code == 2 and "no claim line 999999" in missing.output
    device = device_page.read_text()
    assert "99454" in device and f"Days with data: {len(ids[2])}" in device
    assert all(f"<td>{day}</td>" in device for day in ids[2])
    assert "2026-09-30" in device and "verbal" in device  # consent
    assert "office_visit" in device and "2026-09-20" in device  # the visit
    minutes = time_page.read_text()
    assert "Synthetic Nurse" in minutes and "clinical_staff" in minutes
    assert "Interactive contact: 2026-10-15" in minutes


def with_evidence(session: Session) -> list[tuple[Any, ...]]:
    query = select(ClaimLine.enrollment_id, ClaimLine.code, ClaimLine.period_start, ClaimLine.evidence)
    return sorted((row.enrollment_id, row.code, row.period_start, repr(row.evidence)) for row in session.execute(query))


@pytest.mark.parametrize("workers", [1, 2], ids=["one process", "two worker processes"])
def test_a_run_in_slices_of_one_patient_writes_the_same_lines(db: tuple[Session, int], workers: int) -> None:
    session, practice_id = db
    sliced = run_billing(session, practice_id, WINDOW, slice_size=1, workers=workers)
    session.commit()
    assert sliced.evaluation is None and len(sliced.proposed) == sum(lines for lines, _ in sliced.code_totals.values())
    assert (sliced.pool.worker_peak_mb is not None) == (workers > 1)  # the workers did the judging
    in_slices, evidence = lines(session), with_evidence(session)
    session.execute(delete(ClaimLine))
    session.commit()
    whole = bill(session, practice_id)
    assert whole.evaluation is not None and lines(session) == in_slices and with_evidence(session) == evidence
    assert whole.code_totals == sliced.code_totals
    rerun = run_billing(session, practice_id, WINDOW, slice_size=1, workers=workers)
    assert not rerun.proposed and len(rerun.unchanged) == len(in_slices)
