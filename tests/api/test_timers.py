"""The timer routes and the manual time entries, through the API, on both databases.

A timer runs on the server's clock: to make one that ran 25 minutes, the test moves the running
timer's `started_at` back (`rewind`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from remotecare.store.models import Alert, AuditEvent, RunningTimer
from tests.api.conftest import World, count_rows

CHICAGO = ZoneInfo("America/Chicago")  # every patient of the world lives there


def start(client: TestClient, world: World, who: str = "a:clinical_staff", **body: Any) -> Any:
    body = {"patient_id": world.patients["a1"], "program": "RPM", **body}
    return client.post("/timers", json=body, headers=world.headers(who))


def stop(client: TestClient, world: World, who: str = "a:clinical_staff", **body: Any) -> Any:
    return client.post("/timers/current/stop", json=body, headers=world.headers(who))


def rewind(app: FastAPI, world: World, who: str, by: dt.timedelta) -> dt.datetime:
    """Make `who`'s running timer have started `by` ago; returns the new start."""
    started = dt.datetime.now(dt.UTC) - by
    with app.state.session_factory() as session:
        session.execute(update(RunningTimer).where(RunningTimer.user_id == world.users[who]).values(started_at=started))
        session.commit()
    return started


def timed(client: TestClient, app: FastAPI, world: World, minutes: int, who: str = "a:clinical_staff") -> Any:
    """A timer that ran `minutes` and 30 seconds, stopped: the entry it wrote."""
    assert start(client, world, who).status_code == 201
    rewind(app, world, who, dt.timedelta(minutes=minutes, seconds=30))
    response = stop(client, world, who)
    assert response.status_code == 201, response.text
    return response.json()


def manual(
    client: TestClient, world: World, start_at: dt.datetime, end_at: dt.datetime, patient: str = "a2", **extra: Any
) -> Any:
    body = {
        "patient_id": world.patients[patient],
        "program": "RPM",
        "service_date": start_at.astimezone(CHICAGO).date().isoformat(),
        "started_at": start_at.isoformat(),
        "ended_at": end_at.isoformat(),
        "minutes": int((end_at - start_at).total_seconds() // 60),
        **extra,
    }
    return client.post("/time-entries", json=body, headers=world.headers("a:clinical_staff"))


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def audit_actions(app: FastAPI, entity: str) -> list[tuple[str, str | None]]:
    with app.state.session_factory() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.entity_id).where(AuditEvent.entity == entity).order_by(AuditEvent.id)
        )
        return [(action, entity_id) for action, entity_id in rows]


def test_a_timer_started_and_stopped_writes_its_whole_minutes(client: TestClient, app: FastAPI, world: World) -> None:
    started = start(client, world)
    assert started.status_code == 201, started.text
    timer = started.json()
    assert (timer["patient_id"], timer["program"], timer["elapsed_seconds"]) == (world.patients["a1"], "RPM", 0)
    began = rewind(app, world, "a:clinical_staff", dt.timedelta(minutes=25, seconds=30))
    running = client.get("/timers/current", headers=world.headers("a:clinical_staff"))
    assert running.status_code == 200 and 25 * 60 + 30 <= running.json()["elapsed_seconds"] < 27 * 60
    stopped = stop(client, world, interactive=True, interaction_mode="audio", note="called about readings")
    assert stopped.status_code == 201, stopped.text
    entry = stopped.json()
    assert stopped.headers["location"] == f"/time-entries/{entry['id']}"
    assert (entry["minutes"], entry["performer"], entry["interactive"], entry["interaction_mode"]) == (
        25,
        "clinical_staff",
        True,
        "audio",
    )
    assert instant(entry["started_at"]) == began
    assert entry["service_date"] == began.astimezone(CHICAGO).date().isoformat()
    assert client.get("/timers/current", headers=world.headers("a:clinical_staff")).status_code == 204
    stored = client.get(f"/time-entries/{entry['id']}", headers=world.headers("a:clinical_staff"))
    assert stored.status_code == 200 and stored.json()["minutes"] == 25
    assert audit_actions(app, "timer") == [("start", str(timer["id"])), ("read", str(timer["id"])), ("read", None)]
    assert ("create", str(entry["id"])) in audit_actions(app, "time_entry")
    assert count_rows(app.state.engine, "running_timers") == 0


def test_a_second_timer_is_refused_naming_the_running_one(client: TestClient, world: World) -> None:
    assert start(client, world).status_code == 201
    second = start(client, world, patient_id=world.patients["a2"], program="CCM")
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["code"], error["field"]) == ("conflict", "timer")
    assert f"patient {world.patients['a1']} (RPM)" in error["message"]


def test_a_timer_under_a_minute_is_refused_and_discarded(client: TestClient, app: FastAPI, world: World) -> None:
    timer = start(client, world).json()
    response = stop(client, world)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "timer: the timer ran under a minute; nothing was logged."
    assert client.get("/timers/current", headers=world.headers("a:clinical_staff")).status_code == 204
    assert count_rows(app.state.engine, "time_entries") == 0
    assert ("discard", str(timer["id"])) in audit_actions(app, "timer")


def test_a_timer_is_discarded_once(client: TestClient, app: FastAPI, world: World) -> None:
    timer = start(client, world).json()
    headers = world.headers("a:clinical_staff")
    assert client.delete("/timers/current", headers=headers).status_code == 204
    again = client.delete("/timers/current", headers=headers)
    assert again.status_code == 404 and again.json()["error"]["field"] == "timer"
    assert stop(client, world).status_code == 404
    assert count_rows(app.state.engine, "time_entries") == 0
    assert ("discard", str(timer["id"])) in audit_actions(app, "timer")


def test_overlap_is_refused_across_patients_and_programs_naming_the_entry(
    client: TestClient, app: FastAPI, world: World
) -> None:
    first = timed(client, app, world, 20)
    began = instant(first["started_at"])
    middle = began + dt.timedelta(minutes=5)
    for patient, program in (("a2", "RPM"), ("a1", "CCM")):
        response = manual(client, world, middle, middle + dt.timedelta(minutes=10), patient, program=program)
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("conflict", "started_at")
        assert f"overlaps entry {first['id']} (patient {world.patients['a1']}, RPM," in error["message"]
    # A timer that overlaps is refused the same way, and keeps running until discarded.
    assert start(client, world, patient_id=world.patients["a2"]).status_code == 201
    rewind(app, world, "a:clinical_staff", dt.timedelta(minutes=15))
    response = stop(client, world)
    assert response.status_code == 409 and f"entry {first['id']}" in response.json()["error"]["message"]
    assert client.get("/timers/current", headers=world.headers("a:clinical_staff")).status_code == 200


def test_touching_intervals_both_stand(client: TestClient, app: FastAPI, world: World) -> None:
    began = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    ended = began + dt.timedelta(minutes=20)
    assert manual(client, world, began, ended).status_code == 201
    # One that ends as it starts, and a timer that starts as it ends (stopped now, about 100 minutes later).
    touching = manual(client, world, began - dt.timedelta(minutes=10), began, "a1", program="CCM")
    assert touching.status_code == 201, touching.text
    assert start(client, world).status_code == 201
    with app.state.session_factory() as session:
        session.execute(update(RunningTimer).values(started_at=ended))
        session.commit()
    after = stop(client, world)
    assert after.status_code == 201, after.text
    assert instant(after.json()["started_at"]) == ended and after.json()["minutes"] >= 99


def test_a_duration_only_entry_sent_twice_is_refused(client: TestClient, world: World) -> None:
    body = {"patient_id": world.patients["a1"], "program": "RPM", "service_date": "2026-10-06", "minutes": 15}
    headers = world.headers("a:clinical_staff")
    first = client.post("/time-entries", json=body, headers=headers)
    assert first.status_code == 201, first.text
    second = client.post("/time-entries", json=body, headers=headers)
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["code"], error["field"]) == ("duplicate", "minutes")
    assert error["message"].startswith(f"minutes: duplicate of entry {first.json()['id']}")
    assert client.post("/time-entries", json={**body, "minutes": 16}, headers=headers).status_code == 201


def test_an_update_that_would_overlap_is_refused_and_one_that_does_not_is_audited(
    client: TestClient, app: FastAPI, world: World
) -> None:
    first = timed(client, app, world, 20)
    began = instant(first["started_at"])
    earlier = manual(client, world, began - dt.timedelta(minutes=40), began - dt.timedelta(minutes=30))
    assert earlier.status_code == 201, earlier.text
    entry = earlier.json()
    headers = world.headers("a:clinical_staff")
    moved_start, moved_end = began - dt.timedelta(minutes=5), began + dt.timedelta(minutes=5)
    change = {
        "version": entry["version"],
        "started_at": moved_start.isoformat(),
        "ended_at": moved_end.isoformat(),
        "service_date": moved_start.astimezone(CHICAGO).date().isoformat(),
    }
    overlapping = client.patch(f"/time-entries/{entry['id']}", json=change, headers=headers)
    assert overlapping.status_code == 409 and f"entry {first['id']}" in overlapping.json()["error"]["message"]
    # The minutes must follow the times: an edit of the times alone no longer matches them.
    fine = {**change, "started_at": (began - dt.timedelta(minutes=25)).isoformat(), "ended_at": began.isoformat()}
    fine["service_date"] = (began - dt.timedelta(minutes=25)).astimezone(CHICAGO).date().isoformat()
    mismatch = client.patch(f"/time-entries/{entry['id']}", json=fine, headers=headers)
    assert mismatch.status_code == 422 and mismatch.json()["error"]["field"] == "minutes"
    edited = client.patch(f"/time-entries/{entry['id']}", json={**fine, "minutes": 25}, headers=headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["minutes"] == 25
    # A note alone is not judged again; interactive without a mode is refused.
    noted = client.patch(f"/time-entries/{entry['id']}", json={"version": 2, "note": "late entry"}, headers=headers)
    assert noted.status_code == 200, noted.text
    no_mode = client.patch(f"/time-entries/{entry['id']}", json={"version": 3, "interactive": True}, headers=headers)
    assert no_mode.status_code == 422 and no_mode.json()["error"]["field"] == "interaction_mode"
    with app.state.session_factory() as session:
        detail = session.scalar(
            select(AuditEvent.detail)
            .where(AuditEvent.entity == "time_entry", AuditEvent.action == "update")
            .order_by(AuditEvent.id)
        )
    assert detail is not None and set(detail["after"]) == {"started_at", "ended_at", "service_date", "minutes"}


def test_no_one_logs_more_than_a_day_on_one_date(client: TestClient, world: World) -> None:
    headers = world.headers("a:clinical_staff")
    body = {"program": "RPM", "service_date": "2026-10-06"}
    for patient, minutes in (("a1", 720), ("a2", 700)):
        created = client.post(
            "/time-entries", json={**body, "patient_id": world.patients[patient], "minutes": minutes}, headers=headers
        )
        assert created.status_code == 201, created.text
    over = client.post(
        "/time-entries",
        json={**body, "patient_id": world.patients["a1"], "minutes": 21, "program": "CCM"},
        headers=headers,
    )
    assert over.status_code == 422 and over.json()["error"]["field"] == "minutes"
    assert "1441 minutes" in over.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"interactive": True}, 422),
        ({"interactive": True, "interaction_mode": "sms"}, 422),
        ({"interactive": False, "interaction_mode": "audio"}, 422),
        ({"interaction_mode": "video"}, 422),
        ({"interactive": True, "interaction_mode": "in_person"}, 201),
    ],
)
def test_interaction_mode_is_given_exactly_for_interactive_time(
    client: TestClient, app: FastAPI, world: World, body: dict[str, Any], status: int
) -> None:
    assert start(client, world).status_code == 201
    rewind(app, world, "a:clinical_staff", dt.timedelta(minutes=12))
    response = stop(client, world, **body)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["error"]["field"] == "interaction_mode"
        assert client.get("/timers/current", headers=world.headers("a:clinical_staff")).status_code == 200
        manual_body = {"service_date": "2026-10-06", "minutes": 12, "patient_id": world.patients["a1"], **body}
        posted = client.post(
            "/time-entries", json={"program": "RPM", **manual_body}, headers=world.headers("a:clinical_staff")
        )
        assert posted.status_code == 422 and posted.json()["error"]["field"] == "interaction_mode"


def test_an_admin_may_not_log_time_and_a_biller_may_not_time(client: TestClient, world: World) -> None:
    admin = start(client, world, "a:admin")
    assert admin.status_code == 422
    assert admin.json()["error"]["field"] == "user_id" and "not clinical time" in admin.json()["error"]["message"]
    assert start(client, world, "a:biller").status_code == 403
    assert client.get("/timers/current", headers=world.headers("a:biller")).status_code == 204


def test_another_practices_patient_answers_404_and_is_audited(client: TestClient, app: FastAPI, world: World) -> None:
    response = start(client, world, patient_id=world.patients["b1"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert ("not_found", str(world.patients["b1"])) in audit_actions(app, "patient")
    assert count_rows(app.state.engine, "running_timers") == 0


def test_an_alert_must_be_the_same_patients(client: TestClient, app: FastAPI, world: World) -> None:
    with app.state.session_factory() as session:
        alerts = {}
        for key, practice in (("a1", world.practice_a), ("a2", world.practice_a), ("b1", world.practice_b)):
            alert = Alert(practice_id=practice, patient_id=world.patients[key], rule="bp_high", severity="high")
            session.add(alert)
            session.flush()
            alerts[key] = alert.id
        session.commit()
    for other in ("a2", "b1"):
        refused = start(client, world, alert_id=alerts[other])
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "alert_id", refused.text
    assert start(client, world, alert_id=alerts["a1"]).status_code == 201
    rewind(app, world, "a:clinical_staff", dt.timedelta(minutes=3))
    entry = stop(client, world).json()
    assert entry["alert_id"] == alerts["a1"]
