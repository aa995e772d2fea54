"""Logging in and out, API keys, deactivated users, and the audit trail of all three."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from remotecare.api.deps import SESSION_COOKIE
from tests.api.conftest import PASSWORD, World, count_rows

ADMIN_EMAIL = "a.admin@example.test"
PHYSICIAN_EMAIL = "a.physician@example.test"


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def observation(world: World) -> dict[str, Any]:
    return {
        "patient_id": world.patients["a1"],
        "type": "blood_pressure",
        "values": {"systolic": 131, "diastolic": 84},
        "effective_at": "2025-03-04T07:30:00-06:00",
    }


def audit_trail(client: TestClient, world: World, action: str) -> list[dict[str, Any]]:
    response = client.get("/audit-events", params={"action": action}, headers=world.headers("a:admin"))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# --- logging in ----------------------------------------------------------------------------------


def test_a_login_gives_a_bearer_token_that_works(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        response = login(client, ADMIN_EMAIL)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "bearer" and body["access_token"]
        assert body["user"]["email"] == ADMIN_EMAIL and body["user"]["role"] == "admin"
        assert "password_hash" not in body["user"]
        client.cookies.clear()  # the token alone, not the cookie
        me = client.get("/auth/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200, me.text
        assert (me.json()["kind"], me.json()["id"], me.json()["label"]) == ("user", world.users["a:admin"], ADMIN_EMAIL)


def test_the_email_is_not_case_sensitive(client: TestClient, world: World) -> None:
    assert login(client, "A.Admin@Example.TEST").status_code == 200


def test_a_login_sets_an_http_only_session_cookie_that_works(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        response = login(client, PHYSICIAN_EMAIL)
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}={response.json()['access_token']};")
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert "httponly" in attributes
        assert "samesite=lax" in cookie.lower()
    with TestClient(app) as browser:  # a fresh client that only has the cookie
        browser.cookies.set(SESSION_COOKIE, response.json()["access_token"])
        me = browser.get("/auth/me")
        assert me.status_code == 200 and me.json()["id"] == world.users["a:physician"]
        assert browser.get("/patients").status_code == 200


def test_a_wrong_password_is_401_naming_the_password(client: TestClient, world: World) -> None:
    response = login(client, ADMIN_EMAIL, "not the password at all")
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("unauthenticated", "password")
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_an_unknown_email_answers_exactly_like_a_wrong_password(client: TestClient, world: World) -> None:
    unknown = login(client, "nobody@example.test")
    wrong = login(client, ADMIN_EMAIL, "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_six_failed_logins_in_a_row_are_throttled(client: TestClient, world: World) -> None:
    answers = [login(client, ADMIN_EMAIL, f"wrong password {n}").status_code for n in range(6)]
    assert answers == [401] * 5 + [429]
    throttled = login(client, ADMIN_EMAIL, "wrong password again")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "too_many_attempts"
    # While throttled, even the right password waits: guessing cannot continue.
    assert login(client, ADMIN_EMAIL).status_code == 429


# --- logging out ---------------------------------------------------------------------------------


def test_logout_revokes_the_token(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        token = login(client, ADMIN_EMAIL).json()["access_token"]
        client.cookies.clear()
        assert client.get("/auth/me", headers=bearer(token)).status_code == 200
        response = client.post("/auth/logout", headers=bearer(token))
        assert response.status_code == 204
        assert client.get("/auth/me", headers=bearer(token)).status_code == 401
        assert client.get("/patients", headers=bearer(token)).status_code == 401
        # Other logins of the same user are not affected.
        assert client.get("/auth/me", headers=world.headers("a:admin")).status_code == 200


def test_logout_by_cookie_revokes_the_session_and_clears_the_cookie(app: FastAPI, world: World) -> None:
    with TestClient(app) as browser:
        token = login(browser, ADMIN_EMAIL).json()["access_token"]
        response = browser.post("/auth/logout")
        assert response.status_code == 204
        assert (
            SESSION_COOKIE in response.headers["set-cookie"] and "max-age=0" in response.headers["set-cookie"].lower()
        )
    with TestClient(app) as client:
        assert client.get("/auth/me", headers=bearer(token)).status_code == 401


def test_logout_revokes_the_session_it_was_called_with(app: FastAPI, world: World) -> None:
    # A cookie session with an unrelated Authorization header (a proxy's Basic credentials).
    with TestClient(app) as browser:
        token = login(browser, ADMIN_EMAIL).json()["access_token"]
        response = browser.post("/auth/logout", headers={"Authorization": "Basic cHJveHk6cHJveHk="})
        assert response.status_code == 204
    with TestClient(app) as client:
        assert client.get("/auth/me", headers=bearer(token)).status_code == 401


# --- API keys ------------------------------------------------------------------------------------


def create_key(client: TestClient, world: World, name: str = "glucometer hub") -> dict[str, Any]:
    response = client.post("/api-keys", json={"name": name}, headers=world.headers("a:admin"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_api_key_is_shown_once(client: TestClient, world: World) -> None:
    created = create_key(client, world)
    assert created["key"].startswith(f"rck_{created['prefix']}_") and created["scope"] == "ingest"
    listed = client.get("/api-keys", headers=world.headers("a:admin"))
    assert listed.status_code == 200
    (item,) = listed.json()
    assert item["id"] == created["id"] and item["prefix"] == created["prefix"]
    assert "key" not in item and "key_hash" not in item
    assert created["key"] not in listed.text


@pytest.mark.parametrize("how", ["bearer", "x-api-key"])
def test_an_api_key_may_ingest_but_not_read_patients(
    client: TestClient, world: World, engine: Engine, how: str
) -> None:
    key = create_key(client, world)["key"]
    headers = bearer(key) if how == "bearer" else {"X-API-Key": key}
    before = count_rows(engine, "observations")
    posted = client.post("/observations", json=observation(world), headers=headers)
    assert posted.status_code == 201, posted.text
    assert posted.json()["source"] == "api"
    assert count_rows(engine, "observations") == before + 1
    assert client.get("/practice", headers=headers).status_code == 200
    assert client.get("/devices", headers=headers).status_code == 200
    for path in ("/patients", f"/patients/{world.patients['a1']}", "/observations", "/audit-events"):
        denied = client.get(path, headers=headers)
        assert denied.status_code == 403, f"{path}: {denied.text}"
        assert denied.json()["error"]["code"] == "forbidden"
    used = client.get("/api-keys", headers=world.headers("a:admin")).json()[0]
    assert used["last_used_at"] is not None


def test_an_api_key_of_practice_a_cannot_write_for_practice_b(client: TestClient, world: World) -> None:
    key = create_key(client, world)["key"]
    response = client.post(
        "/observations", json={**observation(world), "patient_id": world.patients["b1"]}, headers=bearer(key)
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "patient_id"


def test_a_revoked_api_key_is_refused(client: TestClient, world: World) -> None:
    created = create_key(client, world)
    other = create_key(client, world, "second hub")
    key = created["key"]
    assert client.get("/practice", headers=bearer(key)).status_code == 200
    revoked = client.delete(f"/api-keys/{created['id']}", headers=world.headers("a:admin"))
    assert revoked.status_code == 204
    for headers in (bearer(key), {"X-API-Key": key}):
        response = client.post("/observations", json=observation(world), headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthenticated"
    listed = {item["id"]: item for item in client.get("/api-keys", headers=world.headers("a:admin")).json()}
    assert listed[created["id"]]["revoked_at"] is not None
    assert listed[other["id"]]["revoked_at"] is None
    assert client.get("/practice", headers=bearer(other["key"])).status_code == 200
    assert [event["entity_id"] for event in audit_trail(client, world, "revoke")] == [str(created["id"])]


def test_practice_b_cannot_revoke_practice_a_keys(client: TestClient, world: World) -> None:
    created = create_key(client, world)
    assert client.delete(f"/api-keys/{created['id']}", headers=world.headers("b:admin")).status_code == 404
    assert client.get("/practice", headers=bearer(created["key"])).status_code == 200


def test_a_made_up_api_key_is_refused(client: TestClient, world: World) -> None:
    key = create_key(client, world)["key"]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert client.get("/practice", headers=bearer(forged)).status_code == 401
    assert client.get("/practice", headers={"X-API-Key": forged}).status_code == 401


# --- deactivated users ---------------------------------------------------------------------------


def test_a_deactivated_user_can_no_longer_use_its_token_or_log_in(client: TestClient, world: World) -> None:
    physician = world.headers("a:physician")
    assert client.get("/patients", headers=physician).status_code == 200
    response = client.patch(
        f"/users/{world.users['a:physician']}", json={"version": 1, "active": False}, headers=world.headers("a:admin")
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert client.get("/patients", headers=physician).status_code == 401
    assert client.get("/auth/me", headers=physician).status_code == 401
    assert login(client, PHYSICIAN_EMAIL).status_code == 401
    # Reactivated, the same token works again (it was never revoked, only refused).
    client.patch(
        f"/users/{world.users['a:physician']}", json={"version": 2, "active": True}, headers=world.headers("a:admin")
    )
    assert client.get("/patients", headers=physician).status_code == 200


def test_only_an_admin_may_deactivate_a_user(client: TestClient, world: World) -> None:
    response = client.patch(
        f"/users/{world.users['a:admin']}", json={"version": 1, "active": False}, headers=world.headers("a:physician")
    )
    assert response.status_code == 403
    assert client.get("/auth/me", headers=world.headers("a:admin")).status_code == 200


# --- the audit trail -----------------------------------------------------------------------------


def test_the_audit_trail_records_login_failed_login_and_logout(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        assert login(client, PHYSICIAN_EMAIL, "not the password at all").status_code == 401
        token = login(client, PHYSICIAN_EMAIL).json()["access_token"]
        client.cookies.clear()
        assert client.post("/auth/logout", headers=bearer(token)).status_code == 204

        failed = audit_trail(client, world, "login_failed")
        assert [(e["actor_type"], e["actor_label"], e["entity"]) for e in failed] == [
            ("anonymous", PHYSICIAN_EMAIL, "user")
        ]
        physician = str(world.users["a:physician"])
        for action in ("login", "logout"):
            (event,) = audit_trail(client, world, action)
            assert (event["actor_type"], event["actor_id"], event["actor_label"]) == (
                "user",
                world.users["a:physician"],
                PHYSICIAN_EMAIL,
            )
            assert (event["entity"], event["entity_id"]) == ("user", physician)
            assert event["ip"] and event["path"] == f"/auth/{action}"
        ordered = [
            e["action"]
            for e in reversed(client.get("/audit-events", headers=world.headers("a:admin")).json()["items"])
            if e["action"] in ("login", "login_failed", "logout")
        ]
        assert ordered == ["login_failed", "login", "logout"]


def test_the_password_is_never_in_the_audit_trail(client: TestClient, world: World) -> None:
    login(client, ADMIN_EMAIL, "a wrong secret 12345")
    login(client, ADMIN_EMAIL)
    export = client.get("/audit-events.csv", headers=world.headers("a:admin"))
    listed = client.get("/audit-events", headers=world.headers("a:admin"))
    for text in (export.text, listed.text):
        assert "a wrong secret 12345" not in text and PASSWORD not in text
