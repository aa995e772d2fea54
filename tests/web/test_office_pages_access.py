"""Who sees the alerts, billing and admin pages, and who may act on them: exactly as `api.permissions` says.

TestClient against the app on the browser clinic's database (no browser): each role gets the page or the
403 page, an action without htmx's header is refused, and another practice's records answer 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.api.permissions import PERMISSIONS
from remotecare.config import Settings
from remotecare.domain.programs import Program
from remotecare.store.models import (
    Alert,
    AlertStatus,
    ApiKey,
    AuditEvent,
    ClaimLine,
    ClaimStatus,
    Enrollment,
    Patient,
    Practice,
    Role,
)
from remotecare.store.session import make_engine
from tests.web.seed import PASSWORD, Clinic, seed_clinic

HX = {"HX-Request": "true"}

# page -> the permission that shows it ({line} is one of the clinic's claim lines)
PAGES = {
    "/app/alerts": "alerts:read",
    "/app/alerts?show=resolved": "alerts:read",
    "/app/billing": "claims:read",
    "/app/billing?status=all&month=2020-01": "claims:read",
    "/app/billing/revenue": "claims:read",
    "/app/billing/audit": "claims:read",
    "/app/billing/lines/{line}/evidence": "claims:read",
    "/app/admin": "users:read",
    "/app/admin/thresholds": "users:read",
    "/app/admin/api-keys": "api_keys:manage",
    "/app/admin/audit": "audit:read",
}


@dataclass
class Office:
    client: TestClient
    clinic: Clinic
    session: Session
    line: int  # one of the clinic's proposed lines
    other_alert: int  # another practice's
    other_line: int
    other_key: int

    def log_in(self, role: Role) -> None:
        self.client.cookies.clear()
        answer = self.client.post(
            "/app/login",
            data={"email": self.clinic.emails[role], "password": PASSWORD},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text


def _other_practice(session: Session) -> tuple[int, int, int]:
    """Another practice with a patient, an alert, a claim line and an API key: none of it is ours to see."""
    practice = Practice(name="Elsewhere Clinic")
    session.add(practice)
    session.flush()
    patient = Patient(
        practice_id=practice.id,
        given_name="Other",
        family_name="Person",
        birth_date=dt.date(1950, 1, 1),
        medicare_id="9EG4TE5MK99",
        timezone="America/Chicago",
    )
    session.add(patient)
    session.flush()
    enrollment = Enrollment(
        practice_id=practice.id, patient_id=patient.id, program=Program.RPM, start_date=dt.date(2025, 1, 1)
    )
    session.add(enrollment)
    session.flush()
    alert = Alert(practice_id=practice.id, patient_id=patient.id, rule="systolic_high", severity="urgent")
    line = ClaimLine(
        practice_id=practice.id,
        patient_id=patient.id,
        enrollment_id=enrollment.id,
        code="99454",
        units=1,
        service_date=dt.date(2025, 1, 30),
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 1, 30),
        rules="2025",
    )
    key = ApiKey(practice_id=practice.id, name="elsewhere", prefix="abcd1234", key_hash="0" * 64, scope="ingest")
    session.add_all([alert, line, key])
    session.commit()
    return alert.id, line.id, key.id


@pytest.fixture
def office(database_url: str) -> Iterator[Office]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic = seed_clinic(session)
        other = _other_practice(session)
        line = session.scalar(
            select(ClaimLine.id).where(ClaimLine.practice_id == clinic.practice_id).order_by(ClaimLine.id)
        )
        assert line is not None
        app = create_app(Settings(database_url=database_url, cookie_secure=False))
        with TestClient(app) as client:
            yield Office(client, clinic, session, line, *other)
        app.state.engine.dispose()
    engine.dispose()


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_each_role_sees_the_pages_its_permissions_allow_and_the_403_page_otherwise(office: Office, role: Role) -> None:
    office.log_in(role)
    for path, permission in PAGES.items():
        answer = office.client.get(path.format(line=office.line))
        if role in PERMISSIONS[permission]:
            assert answer.status_code == 200, (role, path, answer.text[:300])
        else:
            assert answer.status_code == 403, (role, path)
            assert "Not for your role" in answer.text


def test_a_logged_out_browser_goes_to_the_login_page(office: Office) -> None:
    for path in PAGES:
        answer = office.client.get(path.format(line=office.line), follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/app/login?next=/app/")


def test_actions_without_htmx_header_are_refused_and_change_nothing(office: Office) -> None:
    office.log_in(Role.ADMIN)
    alert = office.clinic.alerts[0]
    refused = [
        office.client.post(f"/app/alerts/{alert}/acknowledge", data={}),
        office.client.post(f"/app/billing/lines/{office.line}/approve", data={"version": 1}),
        office.client.post("/app/billing/run", data={"month": "2025-01"}),
        office.client.post("/app/admin/api-keys", data={"name": "sneaky"}),
        office.client.post("/app/admin/thresholds", data={"rule": "systolic_high", "limit": "150"}),
        office.client.post(
            "/app/admin/users",
            data={"email": "x@example.test", "full_name": "X", "role": "admin", "password": "a" * 16},
        ),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    office.session.expire_all()
    assert office.session.get_one(Alert, alert).status is AlertStatus.OPEN
    assert office.session.get_one(ClaimLine, office.line).status is ClaimStatus.PROPOSED
    assert office.session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.name == "sneaky")) == 0


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_each_role_may_act_only_as_its_permissions_allow(office: Office, role: Role) -> None:
    office.log_in(role)
    alert = office.clinic.alerts[0]
    answers = {
        "alerts:write": office.client.post(f"/app/alerts/{alert}/acknowledge", headers=HX),
        "claims:write": office.client.post(
            f"/app/billing/lines/{office.line}/approve", data={"version": 1}, headers=HX
        ),
        "api_keys:manage": office.client.post("/app/admin/api-keys", data={"name": f"key of {role}"}, headers=HX),
        "practice:write": office.client.post(
            "/app/admin/thresholds", data={"rule": "systolic_high", "limit": "175"}, headers=HX
        ),
    }
    for permission, answer in answers.items():
        expected = 200 if role in PERMISSIONS[permission] else 403
        assert answer.status_code == expected, (role, permission, answer.text[:300])


def test_another_practices_alert_line_and_key_answer_404(office: Office) -> None:
    office.log_in(Role.ADMIN)
    answers = [
        office.client.post(f"/app/alerts/{office.other_alert}/acknowledge", headers=HX),
        office.client.post(f"/app/billing/lines/{office.other_line}/approve", data={"version": 1}, headers=HX),
        office.client.get(f"/app/billing/lines/{office.other_line}/evidence"),
        office.client.post(f"/app/admin/api-keys/{office.other_key}/revoke", headers=HX),
    ]
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    office.session.expire_all()
    assert office.session.get_one(Alert, office.other_alert).status is AlertStatus.OPEN
    assert office.session.get_one(ClaimLine, office.other_line).status is ClaimStatus.PROPOSED
    assert office.session.get_one(ApiKey, office.other_key).revoked_at is None
    misses = office.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "not_found"))
    assert misses == len(answers)


def test_resolving_without_a_note_is_refused_with_a_clear_message(office: Office) -> None:
    office.log_in(Role.CLINICAL_STAFF)
    answer = office.client.post(f"/app/alerts/{office.clinic.alerts[0]}/resolve", data={"note": "  "}, headers=HX)
    assert answer.status_code == 422
    assert "Write a note saying how the alert was handled" in answer.text
    office.session.expire_all()
    assert office.session.get_one(Alert, office.clinic.alerts[0]).status is AlertStatus.OPEN


def test_a_biller_cannot_void_without_a_reason_nor_act_on_a_stale_page(office: Office) -> None:
    office.log_in(Role.BILLER)
    void = office.client.post(f"/app/billing/lines/{office.line}/void", data={"version": 1}, headers=HX)
    assert void.status_code == 422
    assert "Write why the line is void" in void.text
    approved = office.client.post(f"/app/billing/lines/{office.line}/approve", data={"version": 1}, headers=HX)
    assert approved.status_code == 200
    stale = office.client.post(f"/app/billing/lines/{office.line}/void", data={"version": 1, "reason": "x"}, headers=HX)
    assert stale.status_code == 409
    office.session.expire_all()
    assert office.session.get_one(ClaimLine, office.line).status is ClaimStatus.APPROVED


def test_an_export_needs_the_forms_token(office: Office) -> None:
    office.log_in(Role.BILLER)
    office.client.post(f"/app/billing/lines/{office.line}/approve", data={"version": 1}, headers=HX)
    forged = office.client.post("/app/billing/exports", data={"format": "csv", "token": "forged"})
    assert forged.status_code == 403
    office.session.expire_all()
    assert office.session.get_one(ClaimLine, office.line).status is ClaimStatus.APPROVED


def test_the_audit_trail_shows_only_the_practices_own_events(office: Office) -> None:
    office.session.add(
        AuditEvent(
            practice_id=office.session.get_one(ClaimLine, office.other_line).practice_id,
            actor_type="user",
            actor_label="someone@elsewhere.example",
            action="read",
            entity="patient",
        )
    )
    office.session.commit()
    office.log_in(Role.ADMIN)
    answer = office.client.get("/app/admin/audit")
    assert answer.status_code == 200
    assert "someone@elsewhere.example" not in answer.text
    assert "admin@browser.example" in answer.text
