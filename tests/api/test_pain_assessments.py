"""Pain assessments through the API: scored (NRS, PEG-3, BPI short form), stored as one reading with the
answers as given, refused naming the item at fault, trended; scoped to the practice and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from remotecare.store.models import Observation
from tests.api.conftest import World, count_rows

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def ago(days: float) -> str:
    return (NOW - dt.timedelta(days=days)).isoformat()


def _post(client: TestClient, world: World, body: dict[str, Any], who: str = "a:clinical_staff", patient: str = "a1"):
    return client.post(f"/patients/{world.patients[patient]}/pain-assessments", json=body, headers=world.headers(who))


def _stored(app: FastAPI, observation_id: int) -> Observation:
    session: Session
    with app.state.session_factory() as session:
        row = session.scalar(select(Observation).where(Observation.id == observation_id))
        assert row is not None
        return row


def test_peg_is_scored_and_stored_as_one_reading_with_its_items(client: TestClient, world: World, app: FastAPI) -> None:
    answers = {"pain": 7, "enjoyment": 5, "activity": 6}
    response = _post(client, world, {"scale": "peg_score", "answers": answers, "at": ago(1), "note": "after PT"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["score"] == 6.0 and body["items"] == answers and body["interference"] is None
    assert body["values"] == {"score": 6.0, **answers}
    assert (body["manual"], body["source"], body["reported_by"]) == (True, "staff", "staff")
    assert response.headers["location"] == f"/observations/{body['id']}"

    stored = _stored(app, body["id"])
    assert (stored.type, stored.values, stored.device_id) == ("peg_score", {"score": 6.0, **answers}, None)
    assert stored.manual is True and stored.source == "staff"
    assert stored.provenance["answers"] == answers and stored.provenance["note"] == "after PT"
    assert stored.provenance["recorded_by"] == {
        "kind": "user",
        "id": world.users["a:clinical_staff"],
        "label": "a.clinical_staff@example.test",
    }
    assert stored.local_date == (NOW - dt.timedelta(days=1)).astimezone(ZoneInfo("America/Chicago")).date()
    read = client.get(f"/observations/{body['id']}", headers=world.headers("a:biller"))
    assert read.status_code == 200 and read.json()["values"]["score"] == 6.0


def test_bpi_with_three_interference_answers_stores_no_interference(
    client: TestClient, world: World, app: FastAPI
) -> None:
    answers = {
        "worst": 8,
        "least": 3,
        "average": 5,
        "now": 6,
        "mood": 4,
        "sleep": 7,
        "relations": 2,
        "walking_ability": None,
    }
    response = _post(client, world, {"scale": "bpi_short_form", "answers": answers, "at": ago(0.5)})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["score"] == 5.5 and body["interference"] is None
    assert "3 of 7" in body["interference_note"]
    stored = _stored(app, body["id"])
    assert "interference" not in stored.values and stored.values["severity"] == 5.5
    assert stored.provenance["answers"] == answers  # as given, the skipped item included
    assert "interference_note" in stored.provenance

    four = {**answers, "walking_ability": 5}  # (4 + 7 + 2 + 5) / 4 = 4.5
    scored = _post(client, world, {"scale": "bpi_short_form", "answers": four, "at": ago(0.4)}).json()
    assert scored["interference"] == 4.5 and _stored(app, scored["id"]).values["interference"] == 4.5


def test_an_app_reported_assessment_is_not_manual(client: TestClient, world: World) -> None:
    body = {"scale": "pain_score", "answers": {"nrs": 4}, "at": ago(0.2), "reported_by": "patient_app"}
    response = _post(client, world, body)
    assert response.status_code == 201, response.text
    assert (response.json()["manual"], response.json()["source"]) == (False, "patient_app")


def test_bad_answers_are_refused_naming_the_item(client: TestClient, world: World, engine: Engine) -> None:
    cases = [
        ("peg_score", {"pain": 11, "enjoyment": 5, "activity": 6}, "answers.pain"),
        ("peg_score", {"pain": 7, "enjoyment": -1, "activity": 6}, "answers.enjoyment"),
        ("peg_score", {"pain": 7, "enjoyment": 5}, "answers.activity"),
        ("peg_score", {"pain": 7, "enjoyment": 5, "activity": 6, "mood": 3}, "answers.mood"),
        ("peg_score", {"pain": "seven", "enjoyment": 5, "activity": 6}, "answers.pain"),
        ("peg_score", {"pain": 6.5, "enjoyment": 5, "activity": 6}, "answers.pain"),
        ("pain_score", {"nrs": True}, "answers.nrs"),
        ("pain_score", {"nrs": None}, "answers.nrs"),
        ("bpi_short_form", {"worst": 8, "least": 3, "average": 5}, "answers.now"),
        ("pain_score", {}, "answers"),
        ("womac", {"nrs": 3}, "scale"),
    ]
    for scale, answers, field in cases:
        response = _post(client, world, {"scale": scale, "answers": answers, "at": ago(1)})
        assert response.status_code == 422, (answers, response.text)
        assert response.json()["error"]["field"] == field, (answers, response.text)
    refused_times = [
        (NOW + dt.timedelta(hours=1)).isoformat(),  # the future
        "2025-01-07T08:00:00",  # no offset
        "1999-12-31T23:00:00+00:00",
        "9999-12-31T23:59:00-05:00",  # beyond the last UTC instant a datetime holds
        "0001-01-01T00:00:00+14:00",  # before the first
    ]
    for at in refused_times:
        response = _post(client, world, {"scale": "pain_score", "answers": {"nrs": 3}, "at": at})
        assert response.status_code == 422 and response.json()["error"]["field"] == "at", (at, response.text)
    assert count_rows(engine, "observations") == 0


def test_the_same_assessment_twice_is_a_duplicate(client: TestClient, world: World, engine: Engine) -> None:
    body = {"scale": "pain_score", "answers": {"nrs": 5}, "at": ago(2)}
    assert _post(client, world, body).status_code == 201
    again = _post(client, world, body, who="a:physician")
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate", again.text
    assert count_rows(engine, "observations") == 1


def test_nrs_trend_shows_a_meaningful_change(client: TestClient, world: World) -> None:
    for days, nrs in ((200, 2), (12, 9), (6, 7), (4, 7), (2, 8), (0.01, 4)):
        body = {"scale": "pain_score", "answers": {"nrs": nrs}, "at": ago(days)}
        assert _post(client, world, body).status_code == 201
    response = client.get(
        f"/patients/{world.patients['a1']}/pain-trend",
        params={"scale": "pain_score", "days": 90},
        headers=world.headers("a:physician"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [point["score"] for point in body["points"]] == [9, 7, 7, 8, 4]  # the reading 200 days ago is outside
    assert all(point["interference"] is None for point in body["points"])
    trend = body["trend"]
    # Baseline: the 7 days before the latest day hold 7, 7 and 8 (and maybe not 9, 12 days back).
    assert trend["latest"] == 4 and trend["baseline"] == 7.33 and trend["change"] == -3.33
    assert trend["meaningful"] is True
    assert body["scale"] == "pain_score" and body["baseline_days"] == 7
    assert dt.date.fromisoformat(body["to"]) - dt.date.fromisoformat(body["from"]) == dt.timedelta(days=89)

    # A short window still judges its latest score against the days before it.
    short = client.get(
        f"/patients/{world.patients['a1']}/pain-trend", params={"days": 1}, headers=world.headers("a:physician")
    ).json()
    if short["points"]:  # the latest may fall on yesterday in the patient's zone just after midnight
        assert short["trend"]["baseline"] is not None
    other = client.get(f"/patients/{world.patients['a2']}/pain-trend", headers=world.headers("a:physician")).json()
    assert other["points"] == [] and other["trend"] is None


def test_bpi_trend_carries_interference_and_a_small_change_is_not_meaningful(client: TestClient, world: World) -> None:
    interference = {"general_activity": 4, "mood": 4, "sleep": 6, "relations": 2}  # mean 4.0
    for days, now in ((3, 5), (1, 6)):
        answers = {"worst": 7, "least": 3, "average": 5, "now": now, **interference}
        assert _post(client, world, {"scale": "bpi_short_form", "answers": answers, "at": ago(days)}).status_code == 201
    body = client.get(
        f"/patients/{world.patients['a1']}/pain-trend",
        params={"scale": "bpi_short_form"},
        headers=world.headers("a:clinical_staff"),
    ).json()
    assert [(point["score"], point["interference"]) for point in body["points"]] == [(5.0, 4.0), (5.25, 4.0)]
    assert body["trend"]["baseline"] == 5.0 and body["trend"]["change"] == 0.25
    assert body["trend"]["meaningful"] is False
    nrs = client.get(f"/patients/{world.patients['a1']}/pain-trend", headers=world.headers("a:admin")).json()
    assert nrs["points"] == []  # scales are trended apart


def test_a_biller_may_read_the_trend_but_not_record(client: TestClient, world: World) -> None:
    body = {"scale": "pain_score", "answers": {"nrs": 5}, "at": ago(1)}
    refused = _post(client, world, body, who="a:biller")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    trend = client.get(f"/patients/{world.patients['a1']}/pain-trend", headers=world.headers("a:biller"))
    assert trend.status_code == 200, trend.text


def test_another_practices_patient_answers_404(client: TestClient, world: World, engine: Engine) -> None:
    body = {"scale": "pain_score", "answers": {"nrs": 5}, "at": ago(1)}
    response = _post(client, world, body, who="a:admin", patient="b1")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert _post(client, world, {"version": 1}, who="a:admin", patient="b1").status_code == 404  # before the body
    trend = client.get(f"/patients/{world.patients['b1']}/pain-trend", headers=world.headers("a:admin"))
    assert trend.status_code == 404
    assert client.get("/patients/999999/pain-trend", headers=world.headers("a:admin")).status_code == 404
    assert count_rows(engine, "observations") == 0
    assert _post(client, world, body, who="b:admin", patient="b1").status_code == 201


def test_recording_and_reading_are_audited(client: TestClient, world: World) -> None:
    body = {"scale": "peg_score", "answers": {"pain": 7, "enjoyment": 5, "activity": 6}, "at": ago(1)}
    created = _post(client, world, body, who="a:physician").json()
    client.get(
        f"/patients/{world.patients['a1']}/pain-trend",
        params={"scale": "peg_score"},
        headers=world.headers("a:physician"),
    )
    _post(client, world, body, who="a:physician", patient="b1")
    trail = client.get("/audit-events", headers=world.headers("a:admin")).json()["items"]
    events = [(e["action"], e["entity"], e["entity_id"]) for e in reversed(trail)][-3:]
    assert events == [
        ("create", "observation", str(created["id"])),
        ("list", "observation", None),
        ("not_found", "patient", str(world.patients["b1"])),
    ]
    create = next(e for e in trail if e["action"] == "create")
    assert create["detail"] == {
        "pain_assessment": "peg_score",
        "patient_id": world.patients["a1"],
        "reported_by": "staff",
    }
    listed = next(e for e in trail if e["action"] == "list")
    assert listed["detail"]["ids"] == [created["id"]]
    assert listed["detail"]["query"] == {
        "patient_id": world.patients["a1"],
        "scale": "peg_score",
        "days": 90,
        "baseline_days": 7,
    }
