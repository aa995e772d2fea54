"""The worklist against figures worked out by hand from the seeded practice, and the billing and worklist
routes of the API, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.api.security import token_digest
from remotecare.config import Settings
from remotecare.services.worklist import worklist
from remotecare.store.models import AuthSession, ClaimLine, ClaimStatus, Role, User
from remotecare.store.session import make_engine
from tests.services.test_billing_facts import seed


@pytest.fixture
def seeded(database_url: str) -> Iterator[tuple[str, int]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice_id = seed(session)
    engine.dispose()
    yield database_url, practice_id


def test_the_worklist_shows_what_each_open_period_still_needs(seeded: tuple[str, int]) -> None:
    url, practice_id = seeded
    engine = make_engine(url)
    with Session(engine) as session:
        items = worklist(session, practice_id, dt.date(2026, 11, 10))
    engine.dispose()
    by_key = {(item.patient_name, item.program, item.progress["kind"]): item for item in items}
    # Chicago: monitoring from 1 October, so the second period is 31 Oct to 29 Nov. Readings on days
    # 32, 36 and 40 of the series (1, 5 and 9 November) are the only ones by the 10th.
    chicago = by_key[("One, Synthetic", "RPM", "days_with_data")]
    assert (chicago.period_start, chicago.period_end, chicago.days_left) == (
        dt.date(2026, 10, 31),
        dt.date(2026, 11, 29),
        19,
    )
    assert chicago.progress["days_with_data"] == 3
    assert chicago.next_code == "99454" and chicago.progress["next_threshold"] == {"code": "99454", "days": 16}
    assert chicago.payment_at_risk_usd == Decimal("47.43")
    # Honolulu: the cuff from 6 October, so 5 Nov to 4 Dec; every third day has no reading: 6, 7, 9, 10 Nov.
    honolulu = by_key[("Two, Synthetic", "RPM", "days_with_data")]
    assert (honolulu.period_start, honolulu.progress["days_with_data"], honolulu.days_left) == (
        dt.date(2026, 11, 5),
        4,
        24,
    )
    ccm = by_key[("Two, Synthetic", "CCM", "minutes")]
    assert (ccm.progress["minutes"], ccm.progress["interactive_contact"], ccm.next_code) == (0, False, "99490")
    # The most money at risk first; a code with no published payment last.
    payments = [item.payment_at_risk_usd for item in items]
    known = [payment for payment in payments if payment is not None]
    assert known == sorted(known, reverse=True) and payments[-1] is None


def login(url: str, practice_id: int, role: Role) -> dict[str, str]:
    engine = make_engine(url)
    with Session(engine) as session:
        user = User(
            practice_id=practice_id,
            email=f"{role.value}@billing.example.test",
            full_name=role.value,
            role=role,
            password_hash="x",
        )
        session.add(user)
        session.flush()
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=token_digest(f"token-{role.value}"),
                expires_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
            )
        )
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer token-{role.value}"}


def test_a_biller_runs_billing_through_the_api_and_the_care_team_reads_the_worklist(
    seeded: tuple[str, int],
) -> None:
    url, practice_id = seeded
    app = create_app(Settings(database_url=url, cookie_secure=False))
    biller, physician = login(url, practice_id, Role.BILLER), login(url, practice_id, Role.PHYSICIAN)
    with TestClient(app) as client:
        body: dict[str, Any] = {"through": "2026-11-30", "from": "2026-10-01"}
        first = client.post("/billing-runs", json=body, headers=biller)
        assert first.status_code == 200, first.text
        assert len(first.json()["proposed"]) == 9
        again = client.post("/billing-runs", json=body, headers=biller).json()
        assert (again["proposed"], len(again["unchanged"])) == ([], 9)
        assert client.post("/billing-runs", json=body, headers=physician).status_code == 403
        backwards = client.post("/billing-runs", json={"through": "2026-10-01", "from": "2026-11-01"}, headers=biller)
        assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "from"

        listed = client.get("/worklist", params={"as_of": "2026-11-10"}, headers=physician)
        assert listed.status_code == 200, listed.text
        assert listed.json()[0]["payment_at_risk_usd"] == "47.43"
        assert client.get("/worklist", params={"as_of": "yesterday"}, headers=physician).status_code == 422
    app.state.engine.dispose()
    engine = make_engine(url)
    with Session(engine) as session:
        assert len(session.scalars(select(ClaimLine)).all()) == 9
    engine.dispose()


def test_the_revenue_report_adds_up_the_lines_by_month_program_and_code(seeded: tuple[str, int]) -> None:
    from remotecare.services.billing_run import run_billing
    from remotecare.services.revenue import revenue
    from tests.services.test_billing_facts import WINDOW

    url, practice_id = seeded
    engine = make_engine(url)
    with Session(engine) as session:
        report = run_billing(session, practice_id, WINDOW)
        session.commit()
        assert report.evaluation is not None
        line = session.scalar(select(ClaimLine).where(ClaimLine.code == "99454").order_by(ClaimLine.id))
        assert line is not None
        line.status = ClaimStatus.APPROVED
        session.commit()
        rows = revenue(session, practice_id, dt.date(2026, 10, 1), dt.date(2026, 11, 30))
    engine.dispose()
    expected_units: dict[tuple[str, str, str], int] = {}
    for proposed in report.evaluation.lines:
        key = (proposed.month, str(proposed.program), proposed.code)
        expected_units[key] = expected_units.get(key, 0) + proposed.units
    assert {(r.month, r.program, r.code): r.units for r in rows} == expected_units
    device = next(r for r in rows if r.code == "99454" and r.month == "2026-10")
    assert device.amount_usd == Decimal("47.43") * device.units and device.proposed_units == device.units - 1


def test_a_biller_approves_voids_and_reviews_lines_but_cannot_mark_one_exported(seeded: tuple[str, int]) -> None:
    url, practice_id = seeded
    app = create_app(Settings(database_url=url, cookie_secure=False))
    biller = login(url, practice_id, Role.BILLER)
    with TestClient(app) as client:
        client.post("/billing-runs", json={"through": "2026-11-30", "from": "2026-10-01"}, headers=biller)
        line = client.get("/claim-lines", params={"code": "99454"}, headers=biller).json()["items"][0]

        def patch(body: dict[str, Any]) -> Any:
            current = client.get(f"/claim-lines/{line['id']}", headers=biller).json()
            return client.patch(
                f"/claim-lines/{line['id']}", json={"version": current["version"], **body}, headers=biller
            )

        exported = patch({"status": "exported"})
        assert exported.status_code == 422 and exported.json()["error"]["field"] == "status"
        assert "can become approved, void" in exported.json()["error"]["message"]
        assert patch({"status": "approved"}).json()["status"] == "approved"
    app.state.engine.dispose()
    engine = make_engine(url)
    with Session(engine) as session:  # late data flags it, as a run would
        row = session.get(ClaimLine, line["id"])
        assert row is not None
        row.needs_review, row.review_note = True, "Data that arrived after it was approved would change units."
        session.commit()
    engine.dispose()
    app = create_app(Settings(database_url=url, cookie_secure=False))
    with TestClient(app) as client:
        current = client.get(f"/claim-lines/{line['id']}", headers=biller).json()
        reviewed = client.patch(
            f"/claim-lines/{line['id']}", json={"version": current["version"], "needs_review": False}, headers=biller
        ).json()
        assert (reviewed["needs_review"], reviewed["review_note"], reviewed["status"]) == (False, None, "approved")
    app.state.engine.dispose()
