"""Patients through the API: create, list, read, update; scoped to the practice; audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import World, count_rows

NEW_PATIENT = {
    "given_name": "Ada",
    "family_name": "Synthetic",
    "birth_date": "1948-02-29",
    "medicare_id": "4EG4TE5MK76",
    "timezone": "America/Denver",
    "conditions": ["I10", "e11.9"],
    "established": True,
}


def test_a_clinician_creates_lists_and_reads_a_patient(client: TestClient, world: World) -> None:
    headers = world.headers("a:clinical_staff")
    created = client.post("/patients", json=NEW_PATIENT, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["conditions"] == ["I10", "E11.9"] and body["version"] == 1
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    assert created.headers["location"] == f"/patients/{body['id']}"

    listed = client.get("/patients", params={"family_name": "Synthetic"}, headers=headers).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["total"] == 1
    assert client.get(f"/patients/{body['id']}", headers=headers).json()["medicare_id"] == "4EG4TE5MK76"


def test_another_practices_patient_answers_404_and_is_never_listed(client: TestClient, world: World) -> None:
    headers = world.headers("a:admin")
    response = client.get(f"/patients/{world.patients['b1']}", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    ids = {item["id"] for item in client.get("/patients", headers=headers).json()["items"]}
    assert ids == {world.patients["a1"], world.patients["a2"]}
    patch = client.patch(f"/patients/{world.patients['b1']}", json={"version": 1, "given_name": "X"}, headers=headers)
    assert patch.status_code == 404


def test_every_read_and_write_is_in_the_audit_trail(client: TestClient, world: World) -> None:
    headers = world.headers("a:physician")
    created = client.post("/patients", json=NEW_PATIENT, headers=headers).json()
    client.get("/patients", headers=headers)
    client.get(f"/patients/{world.patients['b1']}", headers=headers)
    trail = client.get("/audit-events", headers=world.headers("a:admin")).json()["items"]
    actions = [(e["action"], e["entity"], e["entity_id"], e["actor_label"]) for e in reversed(trail)]
    who = "a.physician@example.test"
    assert actions[-3:] == [
        ("create", "patient", str(created["id"]), who),
        ("list", "patient", None, who),
        ("not_found", "patient", str(world.patients["b1"]), who),
    ]
    listed = next(e for e in trail if e["action"] == "list")
    assert sorted(listed["detail"]["ids"]) == sorted([world.patients["a1"], world.patients["a2"], created["id"]])
    assert trail[0]["ip"] and trail[0]["path"] == f"/patients/{world.patients['b1']}"


def test_practice_b_does_not_see_practice_a_audit_events(client: TestClient, world: World) -> None:
    client.get("/patients", headers=world.headers("a:admin"))
    trail = client.get("/audit-events", headers=world.headers("b:admin")).json()
    assert trail["total"] == 0


def test_two_clients_updating_the_same_patient_lose_no_update(client: TestClient, world: World) -> None:
    path = f"/patients/{world.patients['a1']}"
    first = client.patch(path, json={"version": 1, "given_name": "First"}, headers=world.headers("a:physician"))
    second = client.patch(path, json={"version": 1, "family_name": "Second"}, headers=world.headers("a:clinical_staff"))
    assert first.status_code == 200 and first.json()["version"] == 2
    assert second.status_code == 409
    assert second.json()["error"]["field"] == "version"
    final = client.get(path, headers=world.headers("a:admin")).json()
    assert (final["given_name"], final["family_name"], final["version"]) == ("First", "Patient a1", 2)


def test_a_duplicate_medicare_id_is_refused_and_nothing_is_written(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = count_rows(engine, "patients")
    response = client.post(
        "/patients", json={**NEW_PATIENT, "medicare_id": "1EG4TE5MK73"}, headers=world.headers("a:admin")
    )
    assert response.status_code == 409 and response.json()["error"]["field"] == "medicare_id"
    assert count_rows(engine, "patients") == before


def test_a_biller_may_read_but_not_write_patients(client: TestClient, world: World) -> None:
    headers = world.headers("a:biller")
    assert client.get("/patients", headers=headers).status_code == 200
    response = client.post("/patients", json=NEW_PATIENT, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_no_token_means_401(client: TestClient, world: World) -> None:
    response = client.get("/patients")
    assert response.status_code == 401
    assert client.get("/patients", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_lists_page_and_refuse_unknown_query_parameters(client: TestClient, world: World) -> None:
    headers = world.headers("a:admin")
    page = client.get("/patients", params={"limit": 1, "offset": 1}, headers=headers).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)
    wrong = client.get("/patients", params={"famly_name": "x"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "famly_name"
    assert client.get("/patients", params={"limit": 0}, headers=headers).json()["error"]["field"] == "limit"
