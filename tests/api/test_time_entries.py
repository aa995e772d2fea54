"""The time ledger's history and days through the API, on both databases: edits and withdrawals kept as
versions, withdrawn entries listed apart, and one person's day with every minute placed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from remotecare.store.models import AuditEvent
from tests.api.conftest import World

NURSE = "a:clinical_staff"
UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def log(client: TestClient, world: World, who: str = NURSE, patient: str = "a1", **body: Any) -> Any:
    values = {"patient_id": world.patients[patient], "program": "RPM", **body}
    for key in ("started_at", "ended_at", "service_date"):
        if isinstance(values.get(key), dt.date):
            values[key] = values[key].isoformat()
    return client.post("/time-entries", json=values, headers=world.headers(who))


def timed(client: TestClient, world: World, start: dt.datetime, minutes: int, **extra: Any) -> dict[str, Any]:
    end = start + dt.timedelta(minutes=minutes)
    response = log(
        client,
        world,
        service_date=start.astimezone(dt.timezone(dt.timedelta(hours=-5))).date(),
        started_at=start,
        ended_at=end,
        minutes=minutes,
        **extra,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def audit_events(app: FastAPI, entity: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    with app.state.session_factory() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.detail)
            .where(AuditEvent.entity == entity)
            .order_by(AuditEvent.id)
        )
        return [(action, entity_id, dict(detail)) for action, entity_id, detail in rows]


def test_an_entry_edited_then_withdrawn_keeps_every_version(client: TestClient, app: FastAPI, world: World) -> None:
    entry = timed(client, world, at(7, 15), 20)  # 10:00 in Chicago on the 7th
    edited = client.patch(
        f"/time-entries/{entry['id']}",
        json={"version": entry["version"], "note": "reviewed the week's readings"},
        headers=world.headers(NURSE),
    )
    assert edited.status_code == 200, edited.text
    deleted = client.delete(
        f"/time-entries/{entry['id']}",
        params={"version": edited.json()["version"], "reason": "logged on the wrong patient"},
        headers=world.headers(NURSE),
    )
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert (body["delete_reason"], body["deleted_by"]) == ("logged on the wrong patient", world.users[NURSE])
    assert body["deleted_at"] is not None

    versions = client.get(f"/time-entries/{entry['id']}/versions", headers=world.headers("a:physician"))
    assert versions.status_code == 200, versions.text
    history = versions.json()
    assert [(v["version"], v["action"], v["changed_by_name"]) for v in history] == [
        (1, "create", NURSE),
        (2, "update", NURSE),
        (3, "delete", NURSE),
    ]
    assert history[0]["changes"]["minutes"] == {"from": None, "to": 20}
    assert history[1]["changes"] == {"note": {"from": None, "to": "reviewed the week's readings"}}
    assert history[2]["changes"]["delete_reason"]["to"] == "logged on the wrong patient"
    assert history[2]["snapshot"]["note"] == "reviewed the week's readings"

    # The audit trail has the withdrawal, with its reason, and the read of the history.
    assert (
        "delete",
        str(entry["id"]),
        {"reason": "logged on the wrong patient", "minutes": 20, "patient_id": world.patients["a1"]},
    ) in audit_events(app, "time_entry")
    assert [action for action, _, _ in audit_events(app, "time_entry_version")] == ["list"]


def test_a_withdrawn_entry_is_listed_apart_and_cannot_be_edited(client: TestClient, world: World) -> None:
    kept = timed(client, world, at(7, 15), 20)
    gone = timed(client, world, at(7, 16), 15)
    response = client.delete(
        f"/time-entries/{gone['id']}", params={"version": 1, "reason": "duplicate"}, headers=world.headers(NURSE)
    )
    assert response.status_code == 200, response.text
    live = client.get("/time-entries", headers=world.headers(NURSE)).json()
    withdrawn = client.get("/time-entries", params={"deleted": "true"}, headers=world.headers(NURSE)).json()
    assert [item["id"] for item in live["items"]] == [kept["id"]]
    assert [item["id"] for item in withdrawn["items"]] == [gone["id"]]
    edit = client.patch(f"/time-entries/{gone['id']}", json={"version": 2, "note": "x"}, headers=world.headers(NURSE))
    assert edit.status_code == 409 and edit.json()["error"]["field"] == "version"
    # Its minutes are free again.
    timed(client, world, at(7, 16), 15, patient_id=world.patients["a2"])


def test_withdrawing_needs_the_version_read_and_a_reason(client: TestClient, world: World) -> None:
    entry = timed(client, world, at(7, 15), 20)
    path = f"/time-entries/{entry['id']}"
    cases = [
        ({"reason": "duplicate"}, 422, "version"),
        ({"version": 1}, 422, "reason"),
        ({"version": 1, "reason": "   "}, 422, "reason"),
        ({"version": 2, "reason": "duplicate"}, 409, "version"),
    ]
    for params, status, field in cases:
        response = client.delete(path, params=params, headers=world.headers(NURSE))
        assert (response.status_code, response.json()["error"]["field"]) == (status, field), (params, response.text)
    # A biller reads the ledger but does not change it; another practice's entry is not found.
    assert (
        client.delete(path, params={"version": 1, "reason": "x"}, headers=world.headers("a:biller")).status_code == 403
    )
    assert (
        client.delete(path, params={"version": 1, "reason": "x"}, headers=world.headers("b:admin")).status_code == 404
    )
    assert client.get(f"{path}/versions", headers=world.headers("b:admin")).status_code == 404


def test_a_persons_day_places_minutes_without_times_in_the_free_time(client: TestClient, world: World) -> None:
    # The practice's day (America/Chicago, the default) runs from 05:00 UTC on the 7th to 05:00 on the 8th.
    call = timed(client, world, at(7, 5, 10), 20, interactive=True, interaction_mode="audio")
    untimed = log(client, world, patient="a2", service_date="2026-10-07", minutes=15)
    assert untimed.status_code == 201, untimed.text
    response = client.get(
        "/time-ledger", params={"user_id": world.users[NURSE], "date": "2026-10-07"}, headers=world.headers("a:biller")
    )
    assert response.status_code == 200, response.text
    day = response.json()
    assert (day["timezone"], day["day_minutes"], day["free_minutes"], day["unplaced_minutes"]) == (
        "America/Chicago",
        1440,
        1420,
        0,
    )
    placed = {entry["id"]: entry for entry in day["entries"]}
    assert placed[call["id"]]["timed"] is True
    block = placed[untimed.json()["id"]]
    assert block["timed"] is False
    # 10 minutes before the call, then 5 after it.
    assert [(piece["start"], piece["end"]) for piece in block["pieces"]] == [
        ("2026-10-07T05:00:00Z", "2026-10-07T05:10:00Z"),
        ("2026-10-07T05:30:00Z", "2026-10-07T05:35:00Z"),
    ]
    unknown = client.get("/time-ledger", params={"user_id": 999, "date": "2026-10-07"}, headers=world.headers(NURSE))
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "user_id")
