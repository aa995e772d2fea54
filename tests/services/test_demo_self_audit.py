"""The self-audit of a demo practice finds the problems the generator seeds, and no others of their kind:
one patient in every 50 carries one (see `demo_practice.PROBLEMS`), so 100 patients carry two of each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from remotecare.cli import app
from remotecare.config import get_settings
from remotecare.domain.self_audit import AuditMonth, CheckId, SelfAuditReport
from remotecare.services.billing_run import default_window, run_billing
from remotecare.services.demo_practice import demo_practice, demo_problem, generate
from remotecare.services.self_audit import self_audit
from remotecare.store.models import ClaimLine, Patient
from remotecare.store.session import make_engine

OCTOBER = AuditMonth(2026, 10)  # 31 days, and 2026 rules bill 2-15 days (99445): two periods can end in it


def flagged(report: SelfAuditReport, check: CheckId) -> set[int]:
    section = next(s for s in report.sections if s.check.id == check)
    return {f.patient.id for f in section.findings if f.patient is not None}


def test_the_demo_practices_audit_finds_the_seeded_problems(database_url: str) -> None:
    engine = make_engine(database_url)
    practice_id = demo_practice(engine, "Demo Family Medicine")
    generate(engine, practice_id, 100, OCTOBER.start)
    with Session(engine) as session:
        run_billing(session, practice_id, default_window(OCTOBER.end))
        session.commit()
        first = min(session.scalars(select(Patient.id).where(Patient.practice_id == practice_id)))
        report = self_audit(session, practice_id, OCTOBER)
        device_periods = {
            (patient_id, period_end)
            for patient_id, period_end in session.execute(
                select(ClaimLine.patient_id, ClaimLine.period_end).where(ClaimLine.code.in_(["99454", "99445"]))
            )
        }
    engine.dispose()

    def seeded(problem: str) -> set[int]:
        return {first + number for number in range(100) if demo_problem(number) == problem}

    assert len(seeded("no_ordering_provider")) == 2
    assert flagged(report, CheckId.MISSING_CLAIM_DETAILS) == seeded("no_ordering_provider") | seeded(
        "no_monitored_condition"
    )
    assert flagged(report, CheckId.NO_PRIOR_RELATIONSHIP) == seeded("no_prior_visit")
    assert flagged(report, CheckId.TIME_BEFORE_CONSENT) == seeded("time_before_consent")
    # Two periods ending on 1 and 31 October: the seeded patients, and any the random start dates put there.
    twice = flagged(report, CheckId.MULTIPLE_DEVICE_SUPPLY)
    assert seeded("two_device_periods") <= twice
    for patient_id in twice:
        assert {(patient_id, dt.date(2026, 10, 1)), (patient_id, dt.date(2026, 10, 31))} <= device_periods
    assert not flagged(report, CheckId.SEVERAL_PRACTICES)
    assert not flagged(report, CheckId.MANUAL_READINGS_COUNTED)
    spike = next(s for s in report.sections if s.check.id == CheckId.ENROLLMENT_SPIKE)
    assert spike.measure is not None and not spike.measure.crosses  # fewer than 100 new enrollees


def test_the_command_prints_writes_and_refuses_a_bad_month(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    practice_id = demo_practice(engine, "Demo Family Medicine")
    generate(engine, practice_id, 50, OCTOBER.start)
    with Session(engine) as session:
        run_billing(session, practice_id, default_window(OCTOBER.end))
        session.commit()
    engine.dispose()
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()

    text = runner.invoke(app, ["audit", "--month", "2026-10"])  # the only practice
    assert text.exit_code == 0, text.output
    assert "7. RPM lines without the ordering provider or the monitored condition" in text.output
    assert "Patient 000008, Synthetic" in text.output  # number 7: no ordering provider
    out = tmp_path / "audit.csv"
    written = runner.invoke(
        app, ["audit", "--month", "2026-10", "--practice", str(practice_id), "--format", "csv", "--out", str(out)]
    )
    assert written.exit_code == 0 and out.read_text().startswith("check,source,patient_id")
    page = runner.invoke(app, ["audit", "--month", "2026-10", "--format", "html"])
    assert page.exit_code == 0 and "<!doctype html>" in page.output
    bad = runner.invoke(app, ["audit", "--month", "2026-13"])
    assert bad.exit_code == 2 and "--month" in bad.output
    unknown = runner.invoke(app, ["audit", "--month", "2026-10", "--practice", "999"])
    assert unknown.exit_code == 2 and "--practice: no practice 999" in unknown.output
    get_settings.cache_clear()
