"""Readings as plain JSON (one at a time, or batches in the scenario-file shape), on both databases.

Each test checks the answer item by item and the table itself: what was
stored, exactly once, with its day in the patient's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from remotecare.api.schemas.ingest import IngestReport
from remotecare.ingest.reading import IncomingReading, Outcome
from remotecare.services import ingestion
from remotecare.store.base import utc_now
from remotecare.store.models import Observation
from tests.api.conftest import World, count_rows

SERIAL = "BPM-0001"


@pytest.fixture
def cuff(client: TestClient, world: World) -> int:
    """A cuff assigned to patient a1 from 2025-01-06, with no end."""
    headers = world.headers("a:admin")
    device = client.post(
        "/devices", json={"serial": SERIAL, "kind": "bp_cuff", "medical_device": True}, headers=headers
    ).json()
    assigned = client.post(
        "/device-assignments",
        json={
            "device_id": device["id"],
            "patient_id": world.patients["a1"],
            "program": "RPM",
            "start_date": "2025-01-06",
        },
        headers=headers,
    )
    assert assigned.status_code == 201, assigned.text
    return int(device["id"])


def bp(world: World, at: str, systolic: float = 132, diastolic: float = 84, **extra: Any) -> dict[str, Any]:
    return {
        "patient": world.patients["a1"],
        "device": SERIAL,
        "at": at,
        "type": "blood_pressure",
        "values": {"systolic": systolic, "diastolic": diastolic},
        **extra,
    }


def post_batch(client: TestClient, world: World, readings: list[Any], who: str = "a:clinical_staff") -> Any:
    response = client.post("/readings/batch", json={"readings": readings}, headers=world.headers(who))
    assert response.status_code == 200, response.text
    IngestReport.model_validate(response.json())  # built by hand for speed: it must still be the documented shape
    return response.json()


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    columns = select(Observation.patient_id, Observation.type, Observation.local_date, Observation.source)
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(columns.order_by(Observation.effective_at))]


def test_a_batch_reports_each_item_and_stores_only_the_good_ones(
    client: TestClient, world: World, engine: Engine, cuff: int
) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    readings = [
        bp(world, "2025-01-07T08:00:00-06:00"),  # 0 stored
        bp(world, "2025-01-07T08:00:00-06:00"),  # 1 the same reading again in the batch
        bp(world, future),  # 2 in the future
        bp(world, "2025-01-08T08:00:00-06:00", systolic=400),  # 3 implausible
        bp(world, "2025-01-08T08:00:00-06:00", systolic=80, diastolic=120),  # 4 swapped
        bp(world, "2025-01-05T08:00:00-06:00"),  # 5 before the cuff was assigned
        {**bp(world, "2025-01-08T08:00:00-06:00"), "patient": world.patients["b1"]},  # 6 another practice
        {**bp(world, "2025-01-08T08:00:00-06:00"), "device": "NOT-OURS"},  # 7 unknown device
        bp(world, "2025-01-08T08:00:00"),  # 8 no offset
        {**bp(world, "2025-01-08T09:00:00-06:00"), "values": {"systolic": 130, "diastolic": 80, "mood": 3}},
        "not an object",  # 10
        {
            "patient": world.patients["a1"],
            "at": "2025-01-09T10:00:00-06:00",
            "type": "weight",
            "values": {"kg": 81.5},
            "manual": True,
        },  # 11 stored, no device
    ]
    report = post_batch(client, world, readings)
    outcomes = [(item["index"], item["outcome"], item.get("field")) for item in report["items"]]
    assert outcomes == [
        (0, "stored", None),
        (1, "duplicate", None),
        (2, "refused", "at"),
        (3, "refused", "values.systolic"),
        (4, "refused", "values.diastolic"),
        (5, "refused", "device"),
        (6, "refused", "patient"),
        (7, "refused", "device"),
        (8, "refused", "at"),
        (9, "refused", "values.mood"),
        (10, "refused", "item"),
        (11, "stored", None),
    ]
    assert report["items"][1]["id"] == report["items"][0]["id"]
    assert (report["stored"], report["duplicate"], report["refused"], report["held"]) == (2, 1, 9, 0)
    assert "outside the plausible range 50 to 300" in report["items"][3]["message"]
    assert "not assigned to patient" in report["items"][5]["message"]
    assert stored(engine) == [
        (world.patients["a1"], "blood_pressure", dt.date(2025, 1, 7), "api"),
        (world.patients["a1"], "weight", dt.date(2025, 1, 9), "api"),
    ]


@pytest.mark.parametrize("size", [20, 120])  # 120: PostgreSQL takes large batches by COPY
def test_sending_the_same_batch_again_stores_nothing_twice(
    client: TestClient, world: World, engine: Engine, cuff: int, size: int
) -> None:
    start = dt.datetime(2025, 1, 7, 13, 30, tzinfo=dt.UTC)
    times = [(start + dt.timedelta(hours=3 * n)).isoformat() for n in range(size)]
    readings = [bp(world, at, systolic=100 + n % 80) for n, at in enumerate(times)]
    first = post_batch(client, world, readings)
    assert first["stored"] == size
    # Written the bulk way or the row-by-row way (by size and database), a reading reads back the same.
    last = client.get(f"/observations/{first['items'][-1]['id']}", headers=world.headers("a:clinical_staff")).json()
    assert (last["values"], last["effective_at"], last["manual"], last["provenance"]) == (
        {"systolic": 100 + (size - 1) % 80, "diastolic": 84},
        (start + dt.timedelta(hours=3 * (size - 1))).isoformat().replace("+00:00", "Z"),
        False,
        {},
    )
    assert last["local_date"] == (start + dt.timedelta(hours=3 * (size - 1)) - dt.timedelta(hours=6)).date().isoformat()
    # Half of it again, plus as many new: the old half is found on file, the new half stored.
    later = [bp(world, (start + dt.timedelta(hours=3 * n + 1)).isoformat()) for n in range(size // 2)]
    mixed = post_batch(client, world, readings[: size // 2] + later)
    assert (mixed["stored"], mixed["duplicate"]) == (size // 2, size // 2)
    assert [item["id"] for item in mixed["items"][: size // 2]] == [item["id"] for item in first["items"][: size // 2]]
    again = post_batch(client, world, readings)
    assert again["stored"] == 0 and again["duplicate"] == size
    assert [item["id"] for item in again["items"]] == [item["id"] for item in first["items"]]
    assert count_rows(engine, "observations") == size + size // 2


def test_the_day_of_a_reading_is_the_patients_calendar_day(
    client: TestClient, world: World, engine: Engine, cuff: int
) -> None:
    # 03:30 UTC on 8 January is still the evening of 7 January in Chicago.
    post_batch(client, world, [bp(world, "2025-01-08T03:30:00Z")])
    assert stored(engine) == [(world.patients["a1"], "blood_pressure", dt.date(2025, 1, 7), "api")]


def test_an_external_id_is_the_identity_of_a_reading(
    client: TestClient, world: World, engine: Engine, cuff: int
) -> None:
    first = post_batch(client, world, [bp(world, "2025-01-07T08:00:00-06:00", external_id="hub-42")])
    # A retry that re-encodes the time in UTC is the same reading.
    retry = post_batch(client, world, [bp(world, "2025-01-07T14:00:00Z", external_id="hub-42")])
    changed = post_batch(client, world, [bp(world, "2025-01-07T08:00:00-06:00", systolic=150, external_id="hub-42")])
    assert first["stored"] == 1 and retry["duplicate"] == 1
    assert retry["items"][0]["id"] == first["items"][0]["id"]
    assert changed["refused"] == 1 and changed["items"][0]["field"] == "external_id"
    assert "never changed" in changed["items"][0]["message"]
    assert count_rows(engine, "observations") == 1


def test_a_batch_is_audited_with_the_ids_it_stored(client: TestClient, world: World, cuff: int) -> None:
    report = post_batch(client, world, [bp(world, "2025-01-07T08:00:00-06:00"), bp(world, "2099-01-07T08:00:00Z")])
    trail = client.get("/audit-events", params={"action": "ingest"}, headers=world.headers("a:admin")).json()["items"]
    (event,) = trail
    assert event["entity"] == "observation" and event["actor_label"] == "a.clinical_staff@example.test"
    assert event["detail"]["stored_ids"] == [report["items"][0]["id"]]
    assert (event["detail"]["stored"], event["detail"]["refused"]) == (1, 1)


def test_a_batch_that_is_not_a_list_of_readings_is_refused_whole(client: TestClient, world: World) -> None:
    headers = world.headers("a:clinical_staff")
    for body, field in (({"readings": []}, "readings"), ({"readings": "x"}, "readings"), ({}, "readings")):
        response = client.post("/readings/batch", json=body, headers=headers)
        assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text


def test_a_single_reading_posted_twice_is_stored_once(
    client: TestClient, world: World, engine: Engine, cuff: int
) -> None:
    body = {
        "patient_id": world.patients["a1"],
        "device_id": cuff,
        "type": "blood_pressure",
        "values": {"systolic": 128, "diastolic": 82},
        "effective_at": "2025-01-07T08:00:00-06:00",
    }
    headers = world.headers("a:clinical_staff")
    first = client.post("/observations", json=body, headers=headers)
    again = client.post("/observations", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.headers["location"] == first.headers["location"]
    assert count_rows(engine, "observations") == 1
    unassigned = client.post(
        "/observations", json={**body, "effective_at": "2025-01-02T08:00:00-06:00"}, headers=headers
    )
    assert unassigned.status_code == 422 and unassigned.json()["error"]["field"] == "device_id"


def test_a_reading_stored_by_another_request_meanwhile_is_a_duplicate(
    app: Any, world: World, engine: Engine, cuff: int
) -> None:
    """Two senders race with the same reading: the second to write finds it stored, not an error."""
    reading = IncomingReading(
        type="weight",
        values={"kg": 80.2},
        at=dt.datetime(2025, 1, 7, 14, tzinfo=dt.UTC),
        patient_id=world.patients["a1"],
    )
    with app.state.session_factory() as slow, app.state.session_factory() as fast:
        planned = ingestion.plan(slow, world.practice_a, [reading], source="api", now=utc_now())
        [winner] = ingestion.ingest(fast, world.practice_a, [reading], source="api", now=utc_now())
        fast.commit()
        [loser] = ingestion.store(slow, planned)
        slow.commit()
    assert (winner.outcome, loser.outcome) == (Outcome.STORED, Outcome.DUPLICATE)
    assert loser.id == winner.id
    assert count_rows(engine, "observations") == 1
