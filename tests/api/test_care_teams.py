"""The managed-service model on both databases: a care team works practice A's patients once A grants it
access, for the granted programs only, in A's context only; B stays out of reach; a revocation answers 404
on the very next request; the combined worklist and the team's report span the practices it serves."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from remotecare.api.security import token_digest
from remotecare.store.models import AuditEvent, AuthSession, CareTeam, ClaimLine, Role, User
from tests.api.conftest import World

TODAY = dt.datetime.now(ZoneInfo("America/Chicago")).date()  # the world's patients live there


@pytest.fixture
def team(app: FastAPI, world: World) -> dict[str, Any]:
    """A monitoring company with one nurse (no practice of her own), logged in."""
    with app.state.session_factory() as session:
        care_team = CareTeam(name="Synthetic Monitoring Co")
        session.add(care_team)
        session.flush()
        nurse = User(
            care_team_id=care_team.id,
            email="nurse@monitoring.example",
            full_name="Team Nurse",
            role=Role.CLINICAL_STAFF,
            password_hash="!",
        )
        session.add(nurse)
        session.flush()
        session.add(
            AuthSession(
                user_id=nurse.id,
                token_hash=token_digest("team-nurse"),
                expires_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
            )
        )
        session.commit()
        return {"id": care_team.id, "nurse": nurse.id}


def as_nurse(practice: int | None = None) -> dict[str, str]:
    headers = {"Authorization": "Bearer team-nurse"}
    if practice is not None:
        headers["X-Practice-Id"] = str(practice)
    return headers


def enroll(client: TestClient, world: World, patient: str, program: str, practice: str = "a") -> None:
    admin = world.headers(f"{practice}:admin")
    start = (TODAY - dt.timedelta(days=10)).isoformat()
    for path, body in (
        (
            "/consents",
            {"patient_id": world.patients[patient], "program": program, "obtained_on": start, "method": "verbal"},
        ),
        ("/enrollments", {"patient_id": world.patients[patient], "program": program, "start_date": start}),
    ):
        response = client.post(path, json=body, headers=admin)
        assert response.status_code == 201, response.text


def grant(client: TestClient, world: World, team_id: int, programs: list[str], practice: str = "a") -> dict[str, Any]:
    response = client.post(
        "/care-team-grants",
        json={"care_team_id": team_id, "programs": programs},
        headers=world.headers(f"{practice}:admin"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_granted_care_team_works_only_the_granted_programs_of_that_practice(
    client: TestClient, world: World, team: dict[str, Any]
) -> None:
    a, b = world.practice_a, world.practice_b
    enroll(client, world, "a1", "RPM")
    enroll(client, world, "a2", "CCM")
    # No practice of her own: every practice call names one; before any grant she has none.
    missing = client.get("/patients", headers=as_nurse())
    assert (missing.status_code, missing.json()["error"]["field"]) == (422, "X-Practice-Id")
    assert client.get("/auth/practices", headers=as_nurse()).json() == []
    before = client.get("/patients", headers=as_nurse(a))
    assert before.status_code == 404, before.text

    given = grant(client, world, team["id"], ["RPM"])
    assert (given["care_team_name"], given["programs"]) == ("Synthetic Monitoring Co", ["RPM"])
    practices = client.get("/auth/practices", headers=as_nurse()).json()
    assert practices == [
        {
            "practice_id": a,
            "practice_name": "Prairie Family Medicine",
            "role": "clinical_staff",
            "programs": ["RPM"],
            "via": "care_team",
        }
    ]
    # In A, as clinical staff, RPM only: the CCM patient is not there for her.
    listed = client.get("/patients", headers=as_nurse(a)).json()
    assert [item["id"] for item in listed["items"]] == [world.patients["a1"]]
    assert client.get(f"/patients/{world.patients['a2']}", headers=as_nurse(a)).status_code == 404
    assert [e["program"] for e in client.get("/enrollments", headers=as_nurse(a)).json()["items"]] == ["RPM"]
    entry = {"patient_id": world.patients["a1"], "service_date": TODAY.isoformat(), "minutes": 12}
    refused = client.post("/time-entries", json={**entry, "program": "CCM"}, headers=as_nurse(a))
    assert (refused.status_code, refused.json()["error"]["field"]) == (403, "program")
    logged = client.post("/time-entries", json={**entry, "program": "RPM"}, headers=as_nurse(a))
    assert logged.status_code == 201, logged.text
    assert (logged.json()["user_id"], logged.json()["performer"]) == (team["nurse"], "clinical_staff")
    # Clinical staff do not bill; and B never granted anything.
    assert client.get("/claim-lines", headers=as_nurse(a)).status_code == 403
    for path in ("/patients", f"/patients/{world.patients['b1']}", "/alert-queue"):
        answer = client.get(path, headers=as_nurse(b))
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found"), path
    # A's own staff see both patients as before.
    assert client.get("/patients", headers=world.headers("a:clinical_staff")).json()["total"] == 2


def test_a_revoked_grant_answers_404_on_the_next_request(
    client: TestClient, app: FastAPI, world: World, team: dict[str, Any]
) -> None:
    a = world.practice_a
    enroll(client, world, "a1", "RPM")
    given = grant(client, world, team["id"], ["RPM"])
    assert client.get(f"/patients/{world.patients['a1']}", headers=as_nurse(a)).status_code == 200
    again = client.post(
        "/care-team-grants", json={"care_team_id": team["id"], "programs": ["CCM"]}, headers=world.headers("a:admin")
    )
    assert again.status_code == 409  # one grant in force per team
    revoked = client.post(f"/care-team-grants/{given['id']}/revoke", headers=world.headers("a:admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = client.get(f"/patients/{world.patients['a1']}", headers=as_nurse(a))
    assert (after.status_code, after.json()["error"]["field"]) == (404, "X-Practice-Id")
    assert client.get("/auth/practices", headers=as_nurse()).json() == []
    # Granting and revoking are in A's audit trail, by A's admin; only admins manage grants.
    with app.state.session_factory() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.practice_id).where(
                AuditEvent.entity == "care_team_grant", AuditEvent.action != "list"
            )
        ).all()
    assert [(action, actor) for action, actor, _ in events] == [
        ("create", world.users["a:admin"]),
        ("revoke", world.users["a:admin"]),
    ]
    assert {practice for _, _, practice in events} == {a}
    assert client.get("/care-team-grants", headers=world.headers("a:physician")).status_code == 403


def test_the_combined_worklist_spans_the_granting_practices_and_audits_each_apart(
    client: TestClient, app: FastAPI, world: World, team: dict[str, Any]
) -> None:
    enroll(client, world, "a1", "RPM")
    enroll(client, world, "a2", "CCM")
    enroll(client, world, "b1", "RPM", practice="b")
    grant(client, world, team["id"], ["RPM"])
    grant(client, world, team["id"], ["RPM", "CCM"], practice="b")
    rows = client.get("/care-team/worklist", headers=as_nurse())
    assert rows.status_code == 200, rows.text
    seen = {(row["practice_name"], row["patient_id"], row["program"]) for row in rows.json()}
    assert ("Prairie Family Medicine", world.patients["a1"], "RPM") in seen
    assert ("Lakeside Clinic", world.patients["b1"], "RPM") in seen
    assert all(patient != world.patients["a2"] for _, patient, _ in seen)  # A granted RPM only
    with app.state.session_factory() as session:
        events = {
            practice: detail["ids"]
            for practice, detail in session.execute(
                select(AuditEvent.practice_id, AuditEvent.detail).where(AuditEvent.entity == "team_worklist")
            )
        }
    assert events == {world.practice_a: [world.patients["a1"]], world.practice_b: [world.patients["b1"]]}
    # Someone on no care team has no combined worklist.
    assert client.get("/care-team/worklist", headers=world.headers("a:clinical_staff")).status_code == 404


def test_the_teams_report_counts_minutes_and_patients_per_practice_and_lines_name_who_did_it(
    client: TestClient, app: FastAPI, world: World, team: dict[str, Any]
) -> None:
    a, b = world.practice_a, world.practice_b
    enroll(client, world, "a1", "RPM")
    enroll(client, world, "b1", "RPM", practice="b")
    grant(client, world, team["id"], ["RPM"])
    grant(client, world, team["id"], ["RPM"], practice="b")
    day = TODAY.isoformat()
    for practice, patient, minutes in ((a, "a1", 12), (a, "a1", 9), (b, "b1", 25)):
        body = {"patient_id": world.patients[patient], "program": "RPM", "service_date": day, "minutes": minutes}
        assert client.post("/time-entries", json=body, headers=as_nurse(practice)).status_code == 201
    report = client.get("/care-team/report", params={"from": day, "to": day}, headers=as_nurse()).json()
    assert [(r["practice_name"], r["minutes"], r["patients"], r["entries"]) for r in report] == [
        ("Lakeside Clinic", 25, 1, 1),
        ("Prairie Family Medicine", 21, 1, 2),
    ]
    assert set(report[0]) == {"practice_id", "practice_name", "month", "minutes", "patients", "staff", "entries"}


def test_a_member_of_two_practices_acts_in_each_with_its_own_role(
    client: TestClient, world: World, team: dict[str, Any]
) -> None:
    added = client.post(
        "/memberships", json={"email": "b.admin@example.test", "role": "physician"}, headers=world.headers("a:admin")
    )
    assert added.status_code == 201, added.text
    in_a = {**world.headers("b:admin"), "X-Practice-Id": str(world.practice_a)}
    assert client.get("/claim-lines", headers=in_a).status_code == 200  # a physician reads claims
    assert client.get("/users", headers=in_a).status_code == 403  # but is not A's admin
    assert client.get("/users", headers=world.headers("b:admin")).status_code == 200  # still B's admin at home
    ended = client.post(f"/memberships/{added.json()['id']}/end", headers=world.headers("a:admin"))
    assert ended.status_code == 200 and ended.json()["active"] is False
    assert client.get("/claim-lines", headers=in_a).status_code == 404
    bad = client.get("/patients", headers={**world.headers("a:admin"), "X-Practice-Id": "abc"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "X-Practice-Id")


def test_a_billed_minute_names_the_care_team_nurse_and_the_supervising_physician(
    client: TestClient, app: FastAPI, world: World, team: dict[str, Any]
) -> None:
    from remotecare.domain.facts import Window
    from remotecare.services.billing_run import run_billing

    a = world.practice_a
    physician = world.users["a:physician"]
    start = (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # last month
    body = {"patient_id": world.patients["a1"], "program": "RPM", "start_date": start.isoformat()}
    admin = world.headers("a:admin")
    consent = {
        "patient_id": world.patients["a1"],
        "program": "RPM",
        "obtained_on": start.isoformat(),
        "method": "verbal",
    }
    assert client.post("/consents", json=consent, headers=admin).status_code == 201
    assert (
        client.post("/enrollments", json={**body, "billing_provider_id": physician}, headers=admin).status_code == 201
    )
    grant(client, world, team["id"], ["RPM"])
    for minutes, interactive in ((15, True), (10, False)):
        entry = {
            "patient_id": world.patients["a1"],
            "program": "RPM",
            "service_date": (start + dt.timedelta(days=3 + minutes)).isoformat(),
            "minutes": minutes,
            "interactive": interactive,
            **({"interaction_mode": "audio"} if interactive else {}),
        }
        assert client.post("/time-entries", json=entry, headers=as_nurse(a)).status_code == 201
    end = TODAY.replace(day=1) - dt.timedelta(days=1)
    with app.state.session_factory() as session:
        run_billing(session, a, Window(start, end))
        session.commit()
        line = session.scalar(select(ClaimLine).where(ClaimLine.code == "99457"))
    assert line is not None
    assert line.evidence["performed_by"] == [
        {"user_id": team["nurse"], "name": "Team Nurse", "care_team": "Synthetic Monitoring Co"}
    ]
    assert line.evidence["supervising_practitioner"]["user_id"] == physician


def test_every_practice_route_refuses_an_ungranted_practice_and_follows_the_table_in_a_granted_one(
    client: TestClient, world: World, team: dict[str, Any]
) -> None:
    """The authorization matrix's routes, called by a care team's nurse: in B (no grant) every one answers
    404; in A (granted) each answers 403 exactly when the table denies clinical staff."""
    from tests.api.test_permission_matrix import ROUTES, may

    enroll(client, world, "a1", "RPM")
    grant(client, world, team["id"], ["RPM"])
    checked = 0
    for spec in ROUTES:
        if spec.method != "GET" or "{" in spec.path or not spec.permissions:
            continue
        if not spec.permissions.isdisjoint({"self:read", "team:read"}):
            continue  # spans practices: no practice context
        outside = client.get(spec.path, headers=as_nurse(world.practice_b))
        assert outside.status_code == 404, f"{spec.label} in B: {outside.status_code} {outside.text}"
        inside = client.get(spec.path, headers=as_nurse(world.practice_a))
        if may("a:clinical_staff", spec.permissions):
            assert inside.status_code not in (401, 403, 404), f"{spec.label} in A: {inside.text}"
        else:
            assert inside.status_code == 403, f"{spec.label} in A: {inside.status_code}"
        checked += 1
    assert checked > 20


def test_the_alert_queue_worklist_and_outreach_show_a_team_nurse_only_her_programs_patients(
    client: TestClient, world: World, team: dict[str, Any]
) -> None:
    a = world.practice_a
    enroll(client, world, "a1", "RPM")
    enroll(client, world, "a2", "CCM")
    grant(client, world, team["id"], ["RPM"])
    admin = world.headers("a:admin")
    for patient in ("a1", "a2"):
        body = {"patient_id": world.patients[patient], "rule": "manual", "severity": "high"}
        assert client.post("/alerts", json=body, headers=admin).status_code == 201
    mine = client.get("/alert-queue", headers=as_nurse(a)).json()
    assert {item["patient_id"] for item in mine["items"]} == {world.patients["a1"]}
    assert len(client.get("/alert-queue", headers=admin).json()["items"]) == 2
    worklist = client.get("/worklist", headers=as_nurse(a)).json()
    assert worklist and {row["program"] for row in worklist} == {"RPM"}
    assert "CCM" in {row["program"] for row in client.get("/worklist", headers=admin).json()}
    outreach = client.get("/outreach", headers=as_nurse(a))
    assert outreach.status_code == 200 and all(row["program"] == "RPM" for row in outreach.json())


def test_a_granted_care_teams_nurse_can_be_a_patients_care_manager_and_filter_the_worklist_by_it(
    client: TestClient, app: FastAPI, world: World, team: dict[str, Any]
) -> None:
    a, admin = world.practice_a, world.headers("a:admin")
    enroll(client, world, "a1", "RPM")
    patient_url = f"/patients/{world.patients['a1']}"

    def name_care_manager(user_id: int) -> Any:
        version = client.get(patient_url, headers=admin).json()["version"]
        return client.patch(patient_url, json={"care_manager_id": user_id, "version": version}, headers=admin)

    refused = name_care_manager(team["nurse"])  # no grant yet: she does not work for A
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "care_manager_id")
    given = grant(client, world, team["id"], ["RPM"])
    named = name_care_manager(team["nurse"])
    assert named.status_code == 200 and named.json()["care_manager_id"] == team["nurse"]
    for who in ("b:admin", "a:biller"):  # another practice's staff, and a biller, are no care managers here
        assert name_care_manager(world.users[who]).status_code == 422
    assert name_care_manager(world.users["a:clinical_staff"]).status_code == 200
    assert name_care_manager(team["nurse"]).status_code == 200

    theirs = client.get(f"/worklist?care_manager_id={team['nurse']}", headers=as_nurse(a)).json()
    assert theirs and {row["patient_id"] for row in theirs} == {world.patients["a1"]}
    with app.state.session_factory() as session:
        from remotecare.services.practice_access import care_managers

        assert team["nurse"] in dict(care_managers(session, a))
        assert world.users["a:biller"] not in dict(care_managers(session, a))
        assert team["nurse"] not in dict(care_managers(session, world.practice_b))

    client.post(f"/care-team-grants/{given['id']}/revoke", headers=admin)
    with app.state.session_factory() as session:
        assert team["nurse"] not in dict(care_managers(session, a))  # no longer offered
    again = client.get(f"/worklist?care_manager_id={team['nurse']}", headers=admin)
    assert (again.status_code, again.json()["error"]["field"]) == (422, "care_manager_id")


def test_the_patient_page_names_a_care_team_nurse_as_care_manager(
    client: TestClient, app: FastAPI, world: World, team: dict[str, Any]
) -> None:
    from remotecare.store.models import Patient
    from remotecare.web.patient_view import load_page

    enroll(client, world, "a1", "RPM")
    grant(client, world, team["id"], ["RPM"])
    url = f"/patients/{world.patients['a1']}"
    version = client.get(url, headers=world.headers("a:admin")).json()["version"]
    body = {"care_manager_id": team["nurse"], "version": version}
    assert client.patch(url, json=body, headers=world.headers("a:admin")).status_code == 200
    with app.state.session_factory() as session:
        patient = session.get(Patient, world.patients["a1"])
        assert patient is not None
        page = load_page(session, patient, now=dt.datetime.now(dt.UTC), with_alerts=False)
    assert page.care_manager == "Team Nurse"
