"""The check-in routes: links (URL shown once, no tokens after), trends, reminders and quiet patients;
permissions, the audit trail and 404 for another practice's records."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from remotecare.domain.programs import Program
from remotecare.services import checkin_links
from remotecare.store.models import AuditEvent, CheckinLink, Enrollment, Patient
from tests.api.conftest import World


def audit_actions(app: FastAPI, entity: str) -> list[str]:
    with app.state.session_factory() as session:
        return list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.entity == entity).order_by(AuditEvent.id))
        )


def test_a_link_is_issued_once_listed_without_token_and_revoked(app: FastAPI, client: TestClient, world: World) -> None:
    patient = world.patients["a1"]
    nurse = world.headers("a:clinical_staff")
    created = client.post(f"/patients/{patient}/checkin-links", json={"ttl_days": 3}, headers=nurse)
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["url"].removeprefix("/c/")
    assert body["url"].startswith("/c/") and len(token) >= 43
    with app.state.session_factory() as session:
        link = checkin_links.resolve_link(session, token)
        assert link is not None and link.id == body["id"]
        session.commit()
    listed = client.get(f"/patients/{patient}/checkin-links", headers=nurse)
    assert listed.status_code == 200 and [item["id"] for item in listed.json()] == [body["id"]]
    assert token not in listed.text and "url" not in listed.json()[0] and "token_hash" not in listed.json()[0]
    revoked = client.post(f"/checkin-links/{body['id']}/revoke", headers=nurse)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    with app.state.session_factory() as session:
        assert checkin_links.resolve_link(session, token) is None
    assert audit_actions(app, "checkin_link") == ["create", "list", "revoke"]


def test_a_biller_may_read_but_not_issue_links(client: TestClient, world: World) -> None:
    patient = world.patients["a1"]
    assert (
        client.post(f"/patients/{patient}/checkin-links", json={}, headers=world.headers("a:biller")).status_code == 403
    )
    assert client.get(f"/patients/{patient}/checkin-links", headers=world.headers("a:biller")).status_code == 200


def test_another_practices_patient_and_link_answer_404_and_the_miss_is_audited(
    app: FastAPI, client: TestClient, world: World
) -> None:
    theirs = world.patients["b1"]
    nurse = world.headers("a:clinical_staff")
    assert client.post(f"/patients/{theirs}/checkin-links", json={}, headers=nurse).status_code == 404
    assert client.get(f"/patients/{theirs}/checkin-trends", headers=nurse).status_code == 404
    other = client.post(f"/patients/{theirs}/checkin-links", json={}, headers=world.headers("b:admin")).json()
    assert client.post(f"/checkin-links/{other['id']}/revoke", headers=nurse).status_code == 404
    assert "not_found" in audit_actions(app, "patient") and "not_found" in audit_actions(app, "checkin_link")
    with app.state.session_factory() as session:
        assert session.get(CheckinLink, other["id"]).revoked_at is None


def test_a_bad_ttl_is_refused_naming_the_field(client: TestClient, world: World) -> None:
    response = client.post(
        f"/patients/{world.patients['a1']}/checkin-links", json={"ttl_days": 0}, headers=world.headers("a:admin")
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "ttl_days"


def _enroll_rtm(app: FastAPI, patient_id: int, practice_id: int, **changes: object) -> None:
    with app.state.session_factory() as session:
        session.add(
            Enrollment(
                practice_id=practice_id, patient_id=patient_id, program=Program.RTM, start_date=dt.date(2025, 1, 1)
            )
        )
        patient = session.get(Patient, patient_id)
        for name, value in changes.items():
            setattr(patient, name, value)
        session.commit()


def test_trends_show_the_practice_setting_and_are_audited(app: FastAPI, client: TestClient, world: World) -> None:
    _enroll_rtm(app, world.patients["a1"], world.practice_a)
    response = client.get(f"/patients/{world.patients['a1']}/checkin-trends?days=30", headers=world.headers("a:biller"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rtm_device_qualifies"] is False and body["pain"] == {} and len(body["adherence"]) == 5
    assert "list" in audit_actions(app, "observation")
    assert (
        client.get(
            f"/patients/{world.patients['a1']}/checkin-trends?days=0", headers=world.headers("a:biller")
        ).status_code
        == 422
    )


def test_reminders_and_quiet_patients(app: FastAPI, client: TestClient, world: World) -> None:
    _enroll_rtm(app, world.patients["a1"], world.practice_a, checkin_time="00:00", phone="+13125550100")
    assert client.post("/checkins/reminders", headers=world.headers("a:biller")).status_code == 403
    first = client.post("/checkins/reminders", headers=world.headers("a:clinical_staff"))
    assert first.status_code == 200 and len(first.json()["queued"]) == 1, first.text
    again = client.post("/checkins/reminders", headers=world.headers("a:clinical_staff"))
    assert again.json()["queued"] == [] and again.json()["already_reminded"] == [world.patients["a1"]]
    quiet = client.get("/checkins/quiet?days=3", headers=world.headers("a:physician"))
    assert quiet.status_code == 200 and [q["patient_id"] for q in quiet.json()] == [world.patients["a1"]]
    assert quiet.json()[0]["last_checkin"] is None


def test_practice_checkin_settings_are_validated_and_shown(client: TestClient, world: World) -> None:
    admin = world.headers("a:admin")
    bad = client.patch("/practice", json={"checkin_settings": {"programs": {"RTM": ["pain", "mood"]}}}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "checkin_settings.programs.RTM[1]"
    good = client.patch("/practice", json={"checkin_settings": {"rtm_device_qualifies": True}}, headers=admin)
    assert good.status_code == 200
    assert good.json()["checkin_settings"] == {"rtm_device_qualifies": True, "programs": {}}
    assert client.get("/practice", headers=admin).json()["checkin_settings"]["rtm_device_qualifies"] is True


def test_patient_medications_and_checkin_time_are_validated(client: TestClient, world: World) -> None:
    admin = world.headers("a:admin")
    path = f"/patients/{world.patients['a1']}"
    version = client.get(path, headers=admin).json()["version"]
    bad_time = client.patch(path, json={"version": version, "checkin_time": "25:00"}, headers=admin)
    assert bad_time.status_code == 422 and bad_time.json()["error"]["field"] == "checkin_time"
    twice = client.patch(path, json={"version": version, "medications": ["Metformin", "metformin"]}, headers=admin)
    assert twice.status_code == 422 and "medications" in twice.json()["error"]["field"]
    ok = client.patch(
        path, json={"version": version, "medications": ["Metformin 500 mg"], "checkin_time": "08:30"}, headers=admin
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["medications"] == ["Metformin 500 mg"] and ok.json()["checkin_time"] == "08:30"
