"""Approved claim lines out of the database: an 837P that pyx12 accepts, a superbill, FHIR Claims; lines
marked exported once, and nothing marked when the practice lacks something a claim needs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from remotecare.cli import app
from remotecare.config import get_settings
from remotecare.domain.facts import Window
from remotecare.services.billing_run import run_billing
from remotecare.services.demo_practice import demo_practice, generate
from remotecare.store.models import ClaimLine, ClaimStatus, Practice
from remotecare.store.session import make_engine
from tests.unit.exports.test_exports import ack_segment_ids, pyx12_check

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
