"""Alerts through the API: raised by readings posted to any route, triaged by the care team, and the
thresholds behind them set by the practice and per patient."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from remotecare.store.models import Alert, AuditEvent
from tests.api.conftest import World

STAFF, PHYSICIAN, ADMIN, BILLER = "a:clinical_staff", "a:physician", "a:admin", "a:biller"


def enroll(client: TestClient, world: World, patient: str, program: str = "RPM", who: str = ADMIN) -> None:
    body = {"patient_id": world.patients[patient], "program": program, "start_date": "2025-03-01"}
    response = client.post("/enrollments", json=body, headers=world.headers(who))
    assert response.status_code == 201, response.text


def batch(client: TestClient, world: World, *readings: dict[str, Any], who: str = STAFF) -> dict[str, Any]:
    response = client.post("/readings/batch", json={"readings": list(readings)}, headers=world.headers(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["stored"] == len(readings), body
    return body


def bp(world: World, patient: str, systolic: int, at: str, diastolic: int = 80) -> dict[str, Any]:
    return {
        "patient": world.patients[patient],
        "type": "blood_pressure",
        "values": {"systolic": systolic, "diastolic": diastolic},
        "at": at,
    }


def queue(client: TestClient, world: World, who: str = STAFF, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/alert-queue", params=params, headers=world.headers(who))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.fixture
def rpm(client: TestClient, world: World) -> World:
    """a1 and a2 in RPM from 1 March 2025, b1 in RPM in practice B."""
    enroll(client, world, "a1")
    enroll(client, world, "a2")
    enroll(client, world, "b1", who="b:admin")
    return world


# --- raised on ingest ------------------------------------------------------------------------------------


def test_a_batch_reading_at_180_raises_an_alert_and_179_does_not(client: TestClient, rpm: World) -> None:
    batch(client, rpm, bp(rpm, "a1", 179, "2025-03-10T08:00:00-05:00"))
    assert queue(client, rpm) == []
    batch(client, rpm, bp(rpm, "a1", 180, "2025-03-11T08:00:00-05:00"))
    [alert] = queue(client, rpm)
    assert (alert["rule"], alert["severity"], alert["status"]) == ("systolic_high", "urgent", "open")
    assert (alert["observed"], alert["threshold"], alert["patient_name"]) == (180, 180, "Patient a1, Synthetic")
    assert alert["message"] == "Systolic 180 mmHg is at or above 180 mmHg."


def test_a_single_reading_posted_to_observations_raises_an_alert(client: TestClient, rpm: World) -> None:
    body = {
        "patient_id": rpm.patients["a2"],
        "type": "glucose",
        "values": {"mg_dl": 65},
        "effective_at": "2025-03-10T07:00:00-05:00",
        "manual": True,
    }
    response = client.post("/observations", json=body, headers=rpm.headers(STAFF))
    assert response.status_code == 201, response.text
    [alert] = queue(client, rpm)
    assert (alert["rule"], alert["observation_id"]) == ("glucose_low", response.json()["id"])


def test_two_readings_the_same_day_make_one_alert(client: TestClient, rpm: World) -> None:
    batch(client, rpm, bp(rpm, "a1", 185, "2025-03-10T08:00:00-05:00"), bp(rpm, "a1", 190, "2025-03-10T20:00:00-05:00"))
    batch(client, rpm, bp(rpm, "a1", 195, "2025-03-10T22:00:00-05:00"))
    assert [alert["observed"] for alert in queue(client, rpm)] == [185]


def test_a_weight_gain_over_two_days_raises_a_warning(client: TestClient, rpm: World) -> None:
    def weight(kg: float, at: str) -> dict[str, Any]:
        return {"patient": rpm.patients["a1"], "type": "weight", "values": {"kg": kg}, "at": at}

    batch(client, rpm, weight(80.0, "2025-03-08T07:00:00-06:00"), weight(82.0, "2025-03-10T07:00:00-05:00"))
    [alert] = queue(client, rpm)
    assert (alert["rule"], alert["severity"], alert["observed"]) == ("weight_gain_2d", "warning", 2.0)


def test_pain_rising_raises_an_alert_for_an_rtm_patient_only(client: TestClient, world: World) -> None:
    enroll(client, world, "a1", "RTM")
    enroll(client, world, "a2", "RPM")

    def pain(patient: str, nrs: int, day: int) -> dict[str, Any]:
        return {
            "patient": world.patients[patient],
            "type": "pain_score",
            "values": {"nrs": nrs},
            "at": f"2025-03-{day:02d}T09:00:00-05:00",
        }

    batch(client, world, *(pain(p, 2, day) for p in ("a1", "a2") for day in (10, 11, 12)))
    batch(client, world, pain("a1", 5, 13), pain("a2", 9, 13))
    [alert] = queue(client, world)
    assert (alert["rule"], alert["patient_id"], alert["observed"]) == ("pain_rising", world.patients["a1"], 3)


def test_a_patient_not_enrolled_in_rpm_gets_no_blood_pressure_alert(client: TestClient, world: World) -> None:
    enroll(client, world, "a1", "CCM")
    batch(client, world, bp(world, "a1", 220, "2025-03-10T08:00:00-05:00"))
    assert queue(client, world) == []


# --- overrides through the API ----------------------------------------------------------------------------


def patch_patient(client: TestClient, world: World, patient: str, body: dict[str, Any], who: str = STAFF) -> Any:
    current = client.get(f"/patients/{world.patients[patient]}", headers=world.headers(who)).json()
    return client.patch(
        f"/patients/{world.patients[patient]}", json={"version": current["version"], **body}, headers=world.headers(who)
    )


def test_a_patient_override_of_170_and_a_practice_override_and_a_disabled_rule(client: TestClient, rpm: World) -> None:
    assert patch_patient(client, rpm, "a1", {"alert_overrides": {"systolic_high": {"limit": 170}}}).status_code == 200
    practice = {"glucose_high": {"limit": 250}, "spo2_low": {"enabled": False}}
    response = client.patch("/practice", json={"alert_overrides": practice}, headers=rpm.headers(ADMIN))
    assert response.status_code == 200, response.text
    batch(
        client,
        rpm,
        bp(rpm, "a1", 170, "2025-03-10T08:00:00-05:00"),  # the patient's 170
        bp(rpm, "a2", 175, "2025-03-10T08:00:00-05:00"),  # a2 keeps the default 180
        {"patient": rpm.patients["a2"], "type": "glucose", "values": {"mg_dl": 260}, "at": "2025-03-10T09:00:00-05:00"},
        {"patient": rpm.patients["a2"], "type": "spo2", "values": {"percent": 80}, "at": "2025-03-10T09:00:00-05:00"},
    )
    found = {(alert["patient_id"], alert["rule"], alert["threshold"]) for alert in queue(client, rpm)}
    assert found == {(rpm.patients["a1"], "systolic_high", 170), (rpm.patients["a2"], "glucose_high", 250)}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"systolic_high": {"limit": -5}}, "alert_overrides.systolic_high.limit"),
        ({"systolic_high": {"limit": True}}, "alert_overrides.systolic_high.limit"),
        ({"systolic_high": {"days": 3}}, "alert_overrides.systolic_high.days"),
        ({"weight_gain_2d": {"days": 31}}, "alert_overrides.weight_gain_2d.days"),
        ({"pain_rising": {"enabled": "no"}}, "alert_overrides.pain_rising.enabled"),
        ({"pain_rising": {"colour": "red"}}, "alert_overrides.pain_rising.colour"),
        ({"bp_high": {"limit": 170}}, "alert_overrides.bp_high"),
    ],
)
def test_invalid_overrides_are_refused_naming_the_field(
    client: TestClient, world: World, overrides: dict[str, Any], field: str
) -> None:
    response = patch_patient(client, world, "a1", {"alert_overrides": overrides})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    practice = client.patch("/practice", json={"alert_overrides": overrides}, headers=world.headers(ADMIN))
    assert practice.status_code == 422 and practice.json()["error"]["field"] == field


def test_overrides_may_not_be_null_and_only_an_admin_sets_the_practices(client: TestClient, world: World) -> None:
    assert patch_patient(client, world, "a1", {"alert_overrides": None}).status_code == 422
    nulled = client.patch("/practice", json={"alert_overrides": None}, headers=world.headers(ADMIN))
    assert nulled.status_code == 422 and nulled.json()["error"]["field"] == "alert_overrides"
    refused = client.patch("/practice", json={"alert_overrides": {}}, headers=world.headers(PHYSICIAN))
    assert refused.status_code == 403


def test_a_patient_carries_a_phone_and_an_email(client: TestClient, world: World) -> None:
    body = {
        "given_name": "Synthetic",
        "family_name": "Contact",
        "birth_date": "1948-02-03",
        "medicare_id": "5EG4TE5MK77",
        "timezone": "America/Chicago",
        "phone": "+13125550142",
        "email": "contact@example.com",
        "alert_overrides": {"systolic_high": {"limit": 170}},
    }
    created = client.post("/patients", json=body, headers=world.headers(STAFF))
    assert created.status_code == 201, created.text
    assert (created.json()["phone"], created.json()["email"]) == ("+13125550142", "contact@example.com")
    for field, value in (("phone", "312-555-0142"), ("phone", "+0123456789"), ("email", "not an email")):
        response = client.post(
            "/patients", json={**body, "medicare_id": "6EG4TE5MK78", field: value}, headers=world.headers(STAFF)
        )
        assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text
    changed = patch_patient(client, world, "a1", {"phone": "+442079460000"})
    assert changed.status_code == 200 and changed.json()["phone"] == "+442079460000"


# --- triage -----------------------------------------------------------------------------------------------


def raise_one(client: TestClient, world: World, patient: str = "a1", day: int = 10, systolic: int = 185) -> int:
    batch(client, world, bp(world, patient, systolic, f"2025-03-{day:02d}T08:00:00-05:00"))
    matching = [a for a in queue(client, world) if a["dedup_key"] == f"systolic_high:2025-03-{day:02d}"]
    assert len([a for a in matching if a["patient_id"] == world.patients[patient]]) == 1
    return int(matching[0]["id"])


def step(client: TestClient, world: World, alert: int, action: str, who: str = STAFF, **body: Any) -> Any:
    return client.post(f"/alerts/{alert}/{action}", json=body, headers=world.headers(who))


def audit_details(engine: Engine, alert: int) -> list[tuple[str, dict[str, Any]]]:
    with Session(engine) as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.entity == "alert", AuditEvent.entity_id == str(alert))
            .order_by(AuditEvent.id)
        )
        return [(action, detail) for action, detail in rows]


def test_an_alert_is_acknowledged_resolved_and_reopened_by_the_care_team(
    client: TestClient, rpm: World, engine: Engine
) -> None:
    alert = raise_one(client, rpm)
    acknowledged = step(client, rpm, alert, "acknowledge", note="Calling the patient.")
    assert acknowledged.status_code == 200, acknowledged.text
    body = acknowledged.json()
    assert (body["status"], body["acknowledged_by"], body["note"], body["version"]) == (
        "acknowledged",
        rpm.users[STAFF],
        "Calling the patient.",
        2,
    )
    assert body["acknowledged_at"] is not None and body["resolved_at"] is None

    no_note = step(client, rpm, alert, "resolve", who=PHYSICIAN)
    assert no_note.status_code == 422 and no_note.json()["error"]["field"] == "note"
    blank = step(client, rpm, alert, "resolve", who=PHYSICIAN, note="   ")
    assert blank.status_code == 422 and blank.json()["error"]["field"] == "note"
    resolved = step(client, rpm, alert, "resolve", who=PHYSICIAN, note="Repeat reading 150/90.", version=2)
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["resolved_by"], resolved.json()["version"]) == (
        "resolved",
        rpm.users[PHYSICIAN],
        3,
    )
    assert queue(client, rpm) == []

    reopened = step(client, rpm, alert, "reopen")
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["resolved_at"], reopened.json()["version"]) == ("open", None, 4)
    assert [a["id"] for a in queue(client, rpm)] == [alert]

    steps = [(action, detail) for action, detail in audit_details(engine, alert) if action != "list"]
    assert [(action, detail["from"], detail["to"]) for action, detail in steps] == [
        ("acknowledge", "open", "acknowledged"),
        ("resolve", "acknowledged", "resolved"),
        ("reopen", "resolved", "open"),
    ]
    assert steps[1][1]["note"] == "Repeat reading 150/90."


def test_steps_out_of_order_and_stale_versions_are_refused(client: TestClient, rpm: World, engine: Engine) -> None:
    alert = raise_one(client, rpm)
    reopen_open = step(client, rpm, alert, "reopen")
    assert reopen_open.status_code == 409 and reopen_open.json()["error"]["field"] == "status"
    assert "only a resolved alert can be reopened" in reopen_open.json()["error"]["message"]
    stale = step(client, rpm, alert, "acknowledge", version=7)
    assert stale.status_code == 409 and stale.json()["error"]["field"] == "version"
    assert step(client, rpm, alert, "resolve", note="Seen in clinic today.").status_code == 200  # open -> resolved
    for action, body in (("acknowledge", {}), ("resolve", {"note": "again"})):
        refused = step(client, rpm, alert, action, **body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["field"] == "status"
    assert step(client, rpm, alert, "reopen").status_code == 200
    assert step(client, rpm, alert, "acknowledge").status_code == 200
    again = step(client, rpm, alert, "acknowledge")
    assert again.status_code == 409 and "only an open alert can be acknowledged" in again.json()["error"]["message"]
    with Session(engine) as session:
        row = session.get(Alert, alert)
        assert row is not None and row.version == 4  # resolve, reopen, acknowledge; refusals change nothing
    assert [action for action, _ in audit_details(engine, alert) if action != "list"] == [
        "resolve",
        "reopen",
        "acknowledge",
    ]


def test_the_queue_shows_urgent_alerts_first_then_the_oldest(client: TestClient, rpm: World) -> None:
    weight = {"patient": rpm.patients["a2"], "type": "weight", "values": {"kg": 80.0}}
    batch(
        client,
        rpm,
        {**weight, "at": "2025-03-08T07:00:00-06:00"},
        {**weight, "values": {"kg": 83.0}, "at": "2025-03-09T07:00:00-05:00"},
    )
    first_urgent = raise_one(client, rpm, "a1", day=10)
    second_urgent = raise_one(client, rpm, "a2", day=11)
    acknowledged = raise_one(client, rpm, "a1", day=12)
    resolved = raise_one(client, rpm, "a2", day=13)
    assert step(client, rpm, acknowledged, "acknowledge").status_code == 200
    assert step(client, rpm, resolved, "resolve", note="Cuff was too small.").status_code == 200

    items = queue(client, rpm)
    warnings = [item["id"] for item in items if item["severity"] == "warning"]
    assert [item["id"] for item in items] == [first_urgent, second_urgent, acknowledged, *warnings]
    assert len(warnings) == 2 and resolved not in [item["id"] for item in items]  # weight gain 2 and 7 days
    assert [item["id"] for item in queue(client, rpm, status="acknowledged")] == [acknowledged]
    assert [item["id"] for item in queue(client, rpm, severity="warning")] == warnings
    by_patient = queue(client, rpm, patient_id=rpm.patients["a2"])
    assert {item["patient_name"] for item in by_patient} == {"Patient a2, Synthetic"}
    assert client.get("/alert-queue", params={"status": "resolved"}, headers=rpm.headers(STAFF)).status_code == 422


def test_reading_the_queue_is_audited_with_the_ids_it_returned(client: TestClient, rpm: World, engine: Engine) -> None:
    alert = raise_one(client, rpm)
    queue(client, rpm, severity="urgent")
    with Session(engine) as session:
        detail = session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "list", AuditEvent.entity == "alert")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert detail == {"ids": [alert], "query": {"limit": 50, "offset": 0, "severity": "urgent"}}


# --- thresholds -------------------------------------------------------------------------------------------


def thresholds(client: TestClient, world: World, who: str = STAFF, **params: Any) -> Any:
    return client.get("/alert-thresholds", params=params, headers=world.headers(who))


def test_the_thresholds_say_where_each_setting_came_from(client: TestClient, world: World) -> None:
    defaults = thresholds(client, world)
    assert defaults.status_code == 200, defaults.text
    by_name = {rule["name"]: rule for rule in defaults.json()["rules"]}
    assert by_name["systolic_high"] == {
        "name": "systolic_high",
        "kind": "at_or_above",
        "severity": "urgent",
        "reads": ["blood_pressure.systolic"],
        "programs": ["RPM"],
        "limit": 180,
        "days": None,
        "enabled": True,
        "unit": "mmHg",
        "source": "default",
        "sources": {"limit": "default", "days": "default", "enabled": "default"},
    }
    assert (by_name["pain_rising"]["days"], by_name["pain_rising"]["programs"]) == (7, ["CPM", "RTM"])

    practice = {"systolic_high": {"limit": 170}, "weight_gain_7d": {"days": 5}, "spo2_low": {"enabled": False}}
    assert (
        client.patch("/practice", json={"alert_overrides": practice}, headers=world.headers(ADMIN)).status_code == 200
    )
    patient = {"systolic_high": {"limit": 165}, "spo2_low": {"enabled": True}}
    assert patch_patient(client, world, "a1", {"alert_overrides": patient}).status_code == 200

    of_practice = {rule["name"]: rule for rule in thresholds(client, world).json()["rules"]}
    assert (of_practice["systolic_high"]["limit"], of_practice["systolic_high"]["source"]) == (170, "practice")
    assert (of_practice["weight_gain_7d"]["days"], of_practice["weight_gain_7d"]["sources"]["days"]) == (5, "practice")
    assert of_practice["spo2_low"]["enabled"] is False

    answer = thresholds(client, world, patient_id=world.patients["a1"]).json()
    assert answer["patient_id"] == world.patients["a1"] and answer["ignored"] == []
    of_patient = {rule["name"]: rule for rule in answer["rules"]}
    assert (of_patient["systolic_high"]["limit"], of_patient["systolic_high"]["source"]) == (165, "patient")
    assert of_patient["weight_gain_7d"]["source"] == "practice"
    assert (of_patient["spo2_low"]["enabled"], of_patient["spo2_low"]["sources"]["enabled"]) == (True, "patient")
    assert of_patient["glucose_low"]["source"] == "default"


def test_another_practices_patient_or_alert_is_404_and_a_biller_gets_403(client: TestClient, rpm: World) -> None:
    theirs = thresholds(client, rpm, patient_id=rpm.patients["b1"])
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    batch(client, rpm, bp(rpm, "b1", 200, "2025-03-10T08:00:00-05:00"), who="b:admin")
    [their_alert] = queue(client, rpm, who="b:admin")
    assert queue(client, rpm) == []
    for action in ("acknowledge", "resolve", "reopen"):
        response = step(client, rpm, their_alert["id"], action, note="not mine")
        assert response.status_code == 404, response.text
    assert client.get(f"/alerts/{their_alert['id']}", headers=rpm.headers(STAFF)).status_code == 404

    mine = raise_one(client, rpm)
    assert client.get("/alert-queue", headers=rpm.headers(BILLER)).status_code == 403
    assert thresholds(client, rpm, who=BILLER).status_code == 403
    assert step(client, rpm, mine, "acknowledge", who=BILLER).status_code == 403
    assert step(client, rpm, mine, "resolve", who=BILLER, note="x").status_code == 403
