"""A care team's nurse in the browser's pages (no browser needed): she chooses the practice to work in,
sees only the granted programs there, switches practice, loses a practice the moment its grant is revoked,
and has a combined worklist across the practices her team serves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.config import Settings
from remotecare.domain.programs import Program
from remotecare.services.accounts import create_user
from remotecare.services.care_teams import grant_access, revoke_access
from remotecare.store.models import AuditEvent, CareTeamGrant, Enrollment, Practice, Role
from remotecare.store.session import make_engine
from tests.web.seed import PASSWORD, Clinic, seed_clinic


@dataclass
class Team:
    client: TestClient
    clinic: Clinic
    other_practice: int
    grant: int
    database_url: str


@pytest.fixture
def team(database_url: str) -> Iterator[Team]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic = seed_clinic(session)
        other = Practice(name="Second Synthetic Practice")
        session.add(other)
        session.flush()
        nurse = create_user(
            session,
            email="nurse@team.example",
            password=PASSWORD,
            role=Role.CLINICAL_STAFF,
            full_name="Team Nurse",
            care_team_name="Synthetic Remote Care",
        )
        assert nurse.care_team_id is not None
        grant = grant_access(session, clinic.practice_id, nurse.care_team_id, [Program.CCM], None)
        grant_access(session, other.id, nurse.care_team_id, [Program.RPM], None)
        session.commit()
        grant_id, other_id = grant.id, other.id
    engine.dispose()
    app = create_app(Settings(database_url=database_url, cookie_secure=False))
    with TestClient(app) as client:
        response = client.post(
            "/app/login", data={"email": "nurse@team.example", "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 303
        yield Team(client, clinic, other_id, grant_id, database_url)
    app.state.engine.dispose()


def choose(team: Team, practice_id: int, next_path: str = "/app/worklist") -> None:
    response = team.client.post(
        "/app/practices", data={"practice_id": practice_id, "next": next_path}, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, next_path)


def test_she_chooses_a_practice_and_sees_only_its_granted_programs(team: Team) -> None:
    first = team.client.get("/app/worklist", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, "/app/practices?next=/app/worklist")
    chooser = team.client.get("/app/practices").text
    assert "Browser Family Medicine" in chooser and "Second Synthetic Practice" in chooser and "CCM only" in chooser
    choose(team, team.clinic.practice_id)
    page = team.client.get("/app/worklist").text
    assert "Chen, Care" in page  # the CCM patient
    assert "Rivera, Risk" not in page  # RPM: not granted here
    assert 'id="practice-switch"' in page  # she works in two practices: the switcher is there
    rivera = team.client.get(f"/app/patients/{team.clinic.patients['Rivera']}")
    assert rivera.status_code == 404
    assert team.client.get(f"/app/patients/{team.clinic.patients['Chen']}").status_code == 200
    assert team.client.get("/app/billing").status_code == 403  # clinical staff do not bill


def test_a_revoked_grant_sends_her_back_to_the_choice_at_once(team: Team) -> None:
    choose(team, team.clinic.practice_id)
    assert team.client.get("/app/worklist").status_code == 200
    engine = make_engine(team.database_url)
    with Session(engine) as session:
        grant = session.get(CareTeamGrant, team.grant)
        assert grant is not None
        revoke_access(session, grant, None)
        session.commit()
    engine.dispose()
    after = team.client.get("/app/worklist", follow_redirects=False)
    assert (after.status_code, after.headers["location"]) == (303, "/app/practices?next=/app/worklist")
    assert "Browser Family Medicine" not in team.client.get("/app/practices").text


def test_the_team_worklist_names_each_practice_and_each_practice_audits_its_own(team: Team) -> None:
    engine = make_engine(team.database_url)
    with Session(engine) as session:
        patient = session.scalar(select(Enrollment.patient_id).where(Enrollment.practice_id == team.clinic.practice_id))
        assert patient is not None
    page = team.client.get("/app/team")
    assert page.status_code == 200
    assert "Browser Family Medicine" in page.text and "Chen, Care" in page.text
    assert "Rivera, Risk" not in page.text  # RPM is not granted by the clinic
    with Session(engine) as session:
        events = session.execute(
            select(AuditEvent.practice_id, AuditEvent.detail).where(AuditEvent.entity == "team_worklist")
        ).all()
    engine.dispose()
    assert [practice for practice, _ in events] == [team.clinic.practice_id]
    assert events[0][1]["ids"] == [team.clinic.patients["Chen"]]
