"""The worklist and patient pages without a browser: who may see them, what another practice's patient
answers, and what the audit trail keeps. The roles are the permission table's (`api.permissions`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.api.permissions import PERMISSIONS
from remotecare.config import Settings
from remotecare.store.models import AuditEvent, Patient, Practice, Role
from remotecare.store.session import make_engine
from tests.web.seed import PASSWORD, Clinic, seed_clinic

HTMX = {"HX-Request": "true"}


@dataclass
class Setup:
    client: TestClient
    clinic: Clinic
    stranger: int  # a patient of another practice
    database_url: str

    def log_in(self, role: Role) -> None:
        self.client.cookies.clear()
        response = self.client.post(
            "/app/login", data={"email": self.clinic.emails[role], "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 303, response.text

    def audit(self, action: str, entity: str) -> list[AuditEvent]:
        engine = make_engine(self.database_url)
        with Session(engine) as session:
            rows = list(
                session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity == entity))
            )
        engine.dispose()
        return rows


@pytest.fixture
def setup(database_url: str) -> Iterator[Setup]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic = seed_clinic(session)
        other = Practice(name="Elsewhere Clinic", timezone="America/New_York")
        session.add(other)
        session.flush()
        stranger = Patient(
            practice_id=other.id,
            given_name="Other",
            family_name="Stranger",
            birth_date=dt.date(1950, 1, 1),
            medicare_id="9EG4TE5MK99",
            timezone="America/New_York",
        )
        session.add(stranger)
        session.commit()
        stranger_id = stranger.id
    engine.dispose()
    app = create_app(Settings(database_url=database_url, cookie_secure=False))
    with TestClient(app) as client:
        yield Setup(client, clinic, stranger_id, database_url)


def test_it_sends_a_logged_out_browser_to_the_login_page(setup: Setup) -> None:
    rivera = setup.clinic.patients["Rivera"]
    for path in ("/app/worklist", f"/app/patients/{rivera}"):
        response = setup.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/app/login?next={path}"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_the_care_pages_as_the_permission_table_says(setup: Setup, role: Role) -> None:
    setup.log_in(role)
    allowed = role in PERMISSIONS["care:read"]
    for path in ("/app/worklist", f"/app/patients/{setup.clinic.patients['Rivera']}"):
        response = setup.client.get(path)
        assert response.status_code == (200 if allowed else 403), (role, path)
        if not allowed:
            assert "Not for your role" in response.text


def test_a_biller_sees_progress_but_neither_alerts_nor_the_timer(setup: Setup) -> None:
    assert Role.BILLER in PERMISSIONS["care:read"] and Role.BILLER not in PERMISSIONS["alerts:read"]
    setup.log_in(Role.BILLER)
    worklist = setup.client.get("/app/worklist")
    assert "Rivera, Risk" in worklist.text and "Open alerts" not in worklist.text
    patient = setup.client.get(f"/app/patients/{setup.clinic.patients['Rivera']}")
    assert "6 / 16 days" in patient.text
    assert "Open alerts" not in patient.text and "Start timer" not in patient.text
    assert "Your role does not log time." in patient.text
    start = setup.client.post(
        f"/app/patients/{setup.clinic.patients['Rivera']}/timer/start", data={"program": "RPM"}, headers=HTMX
    )
    assert start.status_code == 403


def test_another_practices_patient_is_not_found_and_the_miss_is_audited(setup: Setup) -> None:
    setup.log_in(Role.CLINICAL_STAFF)
    for patient_id in (setup.stranger, 999_999):
        response = setup.client.get(f"/app/patients/{patient_id}")
        assert response.status_code == 404
        assert "Patient not found" in response.text and "Stranger" not in response.text
    start = setup.client.post(f"/app/patients/{setup.stranger}/timer/start", data={"program": "RPM"}, headers=HTMX)
    assert start.status_code == 404
    misses = setup.audit("not_found", "patient")
    assert sorted(int(event.entity_id or 0) for event in misses) == sorted([setup.stranger, 999_999, setup.stranger])


def test_a_timer_action_needs_htmx(setup: Setup) -> None:
    setup.log_in(Role.CLINICAL_STAFF)
    path = f"/app/patients/{setup.clinic.patients['Rivera']}/timer/start"
    assert setup.client.post(path, data={"program": "RPM"}).status_code == 403
    assert setup.client.post(path, data={"program": "RPM"}, headers=HTMX).status_code == 200


def test_starting_a_second_timer_is_refused_naming_the_running_one(setup: Setup) -> None:
    setup.log_in(Role.CLINICAL_STAFF)
    rivera, tran = setup.clinic.patients["Rivera"], setup.clinic.patients["Tran"]
    assert setup.client.post(f"/app/patients/{rivera}/timer/start", data={"program": "RPM"}, headers=HTMX).is_success
    second = setup.client.post(f"/app/patients/{tran}/timer/start", data={"program": "RPM"}, headers=HTMX)
    assert second.status_code == 409
    assert "The timer did not start" in second.text and f"patient {rivera}" in second.text
    page = setup.client.get(f"/app/patients/{tran}")
    assert "Your timer is running on" in page.text and "Rivera, Risk" in page.text
    assert setup.audit("start", "timer")[0].detail["patient_id"] == rivera


def test_the_worklist_filters_and_records_what_it_listed(setup: Setup) -> None:
    setup.log_in(Role.CLINICAL_STAFF)
    response = setup.client.get("/app/worklist?program=CCM")
    assert "Chen, Care" in response.text and "Rivera, Risk" not in response.text
    listed = setup.audit("list", "worklist")
    assert listed[-1].detail["ids"] == [setup.clinic.patients["Chen"]]
    assert listed[-1].detail["query"]["program"] == "CCM"
    assert setup.client.get("/app/worklist?status=lost").status_code == 400


def test_htmx_gets_only_the_worklist_table(setup: Setup) -> None:
    setup.log_in(Role.CLINICAL_STAFF)
    response = setup.client.get("/app/worklist?program=RPM", headers={**HTMX, "HX-Target": "worklist-results"})
    assert response.status_code == 200
    assert "<html" not in response.text and "<table" in response.text
    assert "Chen, Care" not in response.text


def test_the_patient_page_records_what_it_showed(setup: Setup) -> None:
    setup.log_in(Role.CLINICAL_STAFF)
    rivera = setup.clinic.patients["Rivera"]
    assert setup.client.get(f"/app/patients/{rivera}").status_code == 200
    assert [event.entity_id for event in setup.audit("read", "patient")] == [str(rivera)]
    shown = {event.entity: event.detail["ids"] for event in setup.audit("list", "observation")}
    assert len(shown["observation"]) == 6
    assert setup.audit("list", "alert")[0].detail["ids"] == setup.clinic.alerts
