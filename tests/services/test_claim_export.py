"""Approved claim lines out of the database: an 837P that pyx12 accepts, a superbill, FHIR Claims; lines
marked exported once, and nothing marked when the practice lacks something a claim needs. Each line points at
what its enrollment monitors and names its ordering provider."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from remotecare.cli import app
from remotecare.config import get_settings
from remotecare.domain.facts import Window
from remotecare.services.billing_run import run_billing
from remotecare.services.claim_export import approved_lines, build_submission
from remotecare.services.demo_practice import demo_practice, generate
from remotecare.store.models import ClaimLine, ClaimStatus, Enrollment, Patient, Practice, Role, User
from remotecare.store.session import make_engine
from tests.unit.exports.test_exports import ack_segment_ids, find, pyx12_check, segments
from tests.unit.exports.test_ordering_and_pointers import ORDERING_NPI

WINDOW = Window(dt.date(2026, 9, 1), dt.date(2026, 9, 30))


@pytest.fixture
def approved(database_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, list[int]]:
    """A billed synthetic practice whose first twenty lines a biller approved."""
    engine = make_engine(database_url)
    practice_id = demo_practice(engine, "Demo Family Medicine")
    generate(engine, practice_id, 25, dt.date(2026, 9, 1))
    with Session(engine) as session:
        run_billing(session, practice_id, WINDOW)
        ids = list(session.scalars(select(ClaimLine.id).order_by(ClaimLine.id).limit(20)))
        session.execute(update(ClaimLine).where(ClaimLine.id.in_(ids)).values(status=ClaimStatus.APPROVED))
        session.commit()
    engine.dispose()
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    return database_url, practice_id, ids


def export(practice_id: int, fmt: str, out: Path) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(
        app, ["export", "claims", "--practice", str(practice_id), "--format", fmt, "--out", str(out)]
    )


def statuses(url: str, ids: list[int]) -> set[ClaimStatus]:
    engine = make_engine(url)
    with Session(engine) as session:
        found = set(session.scalars(select(ClaimLine.status).where(ClaimLine.id.in_(ids))))
    engine.dispose()
    return found


def test_an_837p_of_the_approved_lines_is_valid_and_marks_them_exported(
    approved: tuple[str, int, list[int]], tmp_path: Path
) -> None:
    url, practice_id, ids = approved
    result = export(practice_id, "x12", tmp_path / "claims.x12")
    assert result.exit_code == 0, result.output
    assert f"exported {len(ids)} claim line(s)" in result.output
    x12 = (tmp_path / "claims.x12").read_text()
    valid, ack = pyx12_check(x12, tmp_path)
    assert valid, ack
    assert not {"IK3", "IK4", "CTX"} & set(ack_segment_ids(ack))
    assert x12.count("REF*6R*") == len(ids)  # every line, with our id
    assert statuses(url, ids) == {ClaimStatus.EXPORTED}
    again = export(practice_id, "x12", tmp_path / "again.x12")
    assert again.exit_code == 2 and "no approved claim lines" in again.output


def test_the_superbill_and_fhir_claims_carry_the_same_lines(
    approved: tuple[str, int, list[int]], tmp_path: Path
) -> None:
    url, practice_id, ids = approved
    assert export(practice_id, "csv", tmp_path / "superbill.csv").exit_code == 0
    rows = (tmp_path / "superbill.csv").read_text().strip().splitlines()
    assert rows[0].startswith("claim_id,line_id") and len(rows) == len(ids) + 1
    engine = make_engine(url)
    with Session(engine) as session:  # approve them again to export the same lines as FHIR
        session.execute(update(ClaimLine).where(ClaimLine.id.in_(ids)).values(status=ClaimStatus.APPROVED))
        session.commit()
    engine.dispose()
    assert export(practice_id, "fhir", tmp_path / "claims.json").exit_code == 0
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert sum(len(FhirClaim.model_validate(claim).item or []) for claim in claims) == len(ids)


def test_nothing_is_marked_exported_when_the_practice_lacks_what_a_claim_needs(
    approved: tuple[str, int, list[int]], tmp_path: Path
) -> None:
    url, practice_id, ids = approved
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(update(Practice).where(Practice.id == practice_id).values(phone=None))
        session.commit()
    engine.dispose()
    result = export(practice_id, "x12", tmp_path / "claims.x12")
    assert result.exit_code == 2 and "practice.phone" in result.output
    assert statuses(url, ids) == {ClaimStatus.APPROVED}
    assert not (tmp_path / "claims.x12").exists()


# --- diagnosis pointers: what each line's enrollment monitors -------------------------------------------


def test_each_line_points_at_what_its_enrollment_monitors(approved: tuple[str, int, list[int]]) -> None:
    url, practice_id, _ = approved
    engine = make_engine(url)
    try:
        check_pointers(engine, practice_id)
    finally:  # a failure must not leave a pooled connection open for the next test
        engine.dispose()


def check_pointers(engine: Engine, practice_id: int) -> None:
    """Every line points at its enrollment's monitored conditions (else the patient's), and only those are listed."""
    with Session(engine) as session:
        lines = approved_lines(session, practice_id)
        enrollments = {
            e.id: e for e in session.scalars(select(Enrollment).where(Enrollment.practice_id == practice_id))
        }
        # A patient billed under two enrollments: the second monitors the first's codes and one more, before them.
        by_patient: dict[int, list[int]] = {}
        for line in lines:
            if line.enrollment_id not in by_patient.setdefault(line.patient_id, []):
                by_patient[line.patient_id].append(line.enrollment_id)
        patient_id, (first, second) = next((p, ids) for p, ids in by_patient.items() if len(ids) == 2)
        shared = enrollments[first].monitored_conditions
        assert shared and "E78.5" not in shared
        enrollments[second].monitored_conditions = ["E78.5", *shared]
        assert any(not enrollments[line.enrollment_id].monitored_conditions for line in lines), "a fallback line"
        session.flush()
        submission = build_submission(session, practice_id, lines, control_number=1, now=dt.datetime.now(dt.UTC))
        conditions = dict(session.execute(select(Patient.id, Patient.conditions)).tuples().all())
        enrollment_of = {line.id: line.enrollment_id for line in lines}
        for claim in submission.claims:
            pointed = []
            for service in claim.lines:
                monitored = enrollments[enrollment_of[service.line_id]].monitored_conditions
                codes = [claim.diagnoses[p - 1] for p in service.diagnosis_pointers]
                assert codes == (monitored or conditions[claim.patient.id])[:4], (claim.claim_id, service.code)
                pointed += codes
            # Every code pointed at, once, in the order first pointed at: nothing else.
            assert claim.diagnoses == tuple(dict.fromkeys(pointed)), claim.claim_id
        (both,) = [claim for claim in submission.claims if claim.patient.id == patient_id]
        assert sorted(both.diagnoses) == sorted(["E78.5", *shared]), "the shared code listed once"


# --- the ordering provider ------------------------------------------------------------------------------


def add_physician(url: str, practice_id: int, full_name: str, npi: str | None) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        user = User(
            practice_id=practice_id,
            email=f"{full_name.replace(' ', '.').lower()}@synthetic.example",
            full_name=full_name,
            role=Role.PHYSICIAN,
            password_hash="!",  # cannot log in
            npi=npi,
        )
        session.add(user)
        session.commit()
        user_id = user.id
    engine.dispose()
    return user_id


def order_first_patients_monitoring(url: str, ids: list[int], user_id: int) -> tuple[int, list[int]]:
    """The enrollment of the first approved line ordered by `user_id`: its id and its approved lines'."""
    engine = make_engine(url)
    with Session(engine) as session:
        enrollment_id = session.scalars(select(ClaimLine.enrollment_id).where(ClaimLine.id == min(ids))).one()
        session.execute(update(Enrollment).where(Enrollment.id == enrollment_id).values(ordering_provider_id=user_id))
        session.commit()
        ordered = list(
            session.scalars(select(ClaimLine.id).where(ClaimLine.enrollment_id == enrollment_id, ClaimLine.id.in_(ids)))
        )
    engine.dispose()
    return enrollment_id, ordered


def approve_again(url: str, ids: list[int]) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(update(ClaimLine).where(ClaimLine.id.in_(ids)).values(status=ClaimStatus.APPROVED))
        session.commit()
    engine.dispose()


def test_an_ordering_physician_other_than_the_billing_one_is_named_on_each_of_the_lines(
    approved: tuple[str, int, list[int]], tmp_path: Path
) -> None:
    url, practice_id, ids = approved
    orderer = add_physician(url, practice_id, "Priya Iqbal", ORDERING_NPI)
    _, ordered = order_first_patients_monitoring(url, ids, orderer)
    assert ordered and len(ordered) < len(ids)

    assert export(practice_id, "x12", tmp_path / "claims.x12").exit_code == 0
    x12 = (tmp_path / "claims.x12").read_text()
    valid, ack = pyx12_check(x12, tmp_path)
    assert valid, ack
    assert not {"IK3", "IK4", "CTX"} & set(ack_segment_ids(ack)), ack
    loop_2420e = ["NM1", "DK", "1", "Iqbal", "Priya", "", "", "", "XX", ORDERING_NPI]
    assert find(x12, "NM1", "DK") == [loop_2420e] * len(ordered)  # the demo's others were ordered by their biller
    segs = segments(x12)
    for line_id in ordered:
        assert segs[segs.index(["REF", "6R", str(line_id)]) + 1] == loop_2420e

    approve_again(url, ids)
    assert export(practice_id, "csv", tmp_path / "superbill.csv").exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "superbill.csv").read_text())))
    named = {int(row["line_id"]): (row["ordering_npi"], row["ordering_provider"]) for row in rows}
    assert named == {line_id: (ORDERING_NPI, "Iqbal, Priya") if line_id in ordered else ("", "") for line_id in ids}

    approve_again(url, ids)
    assert export(practice_id, "fhir", tmp_path / "claims.json").exit_code == 0
    claims = json.loads((tmp_path / "claims.json").read_text())
    (claim,) = [
        c for c in claims if any(m["provider"]["identifier"]["value"] == ORDERING_NPI for m in c.get("careTeam", []))
    ]
    FhirClaim.model_validate(claim)
    (member,) = [m for m in claim["careTeam"] if m["provider"]["identifier"]["value"] == ORDERING_NPI]
    assert member["role"]["coding"][0]["code"] == "other" and member["role"]["text"] == "Ordering provider"
    assert [member["sequence"] in item["careTeamSequence"] for item in claim["item"]].count(True) == len(ordered)


def test_an_ordering_provider_without_an_npi_is_refused_by_name_and_nothing_is_marked(
    approved: tuple[str, int, list[int]], tmp_path: Path
) -> None:
    url, practice_id, ids = approved
    orderer = add_physician(url, practice_id, "Priya Iqbal", None)
    enrollment_id, _ = order_first_patients_monitoring(url, ids, orderer)
    for fmt in ("x12", "csv", "fhir"):
        result = export(practice_id, fmt, tmp_path / f"claims.{fmt}")
        assert result.exit_code == 2, result.output
        assert f"enrollment {enrollment_id}.ordering_provider.npi: is missing" in result.output
        assert f"user {orderer} (Priya Iqbal)" in result.output
        assert not (tmp_path / f"claims.{fmt}").exists()
    assert statuses(url, ids) == {ClaimStatus.APPROVED}


def test_a_line_with_no_monitored_condition_nor_patient_condition_is_refused_by_name(
    approved: tuple[str, int, list[int]], tmp_path: Path
) -> None:
    url, practice_id, ids = approved
    engine = make_engine(url)
    with Session(engine) as session:
        line = session.get(ClaimLine, min(ids))
        assert line is not None
        enrollment_id, patient_id = line.enrollment_id, line.patient_id
        session.execute(update(Enrollment).where(Enrollment.id == enrollment_id).values(monitored_conditions=[]))
        session.execute(update(Patient).where(Patient.id == patient_id).values(conditions=[]))
        session.commit()
    engine.dispose()
    result = export(practice_id, "x12", tmp_path / "claims.x12")
    assert result.exit_code == 2
    assert f"enrollment {enrollment_id}.monitored_conditions: is empty and patient {patient_id} has no" in result.output
    assert statuses(url, ids) == {ClaimStatus.APPROVED}
