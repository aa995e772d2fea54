"""Bad input is refused with one error shape that names the field, and nothing is written.

Each case changes one thing in a body the API accepts (the first test proves
each of those bodies is accepted), sends it, and checks: a 4xx answer of the
form {"error": {"code", "message", "field"}} naming the offending field, the
table exactly as it was, and no create or update in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import World, count_rows


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "{a1}" is replaced by patient a1's id
    table: str
    caller: str
    valid: Callable[[World], dict[str, Any]]


ENDPOINTS = {
    "POST /patients": Endpoint(
        "POST",
        "/patients",
        "patients",
        "a:admin",
        lambda world: {
            "given_name": "Ada",
            "family_name": "Synthetic",
            "birth_date": "1948-02-29",
            "medicare_id": "4EG4TE5MK76",
            "timezone": "America/Denver",
            "conditions": ["I10"],
        },
    ),
    "POST /enrollments": Endpoint(
        "POST",
        "/enrollments",
        "enrollments",
        "a:admin",
        lambda world: {"patient_id": world.patients["a1"], "program": "RPM", "start_date": "2025-01-06"},
    ),
    "POST /observations": Endpoint(
        "POST",
        "/observations",
        "observations",
        "a:clinical_staff",
        lambda world: {
            "patient_id": world.patients["a1"],
            "type": "weight",
            "values": {"kg": 81.5},
            "effective_at": "2025-01-07T08:00:00-06:00",
        },
    ),
    "POST /time-entries": Endpoint(
        "POST",
        "/time-entries",
        "time_entries",
        "a:physician",
        lambda world: {
            "patient_id": world.patients["a1"],
            "program": "RPM",
            "service_date": "2025-01-06",
            "minutes": 20,
        },
    ),
    "PATCH /patients/{id}": Endpoint(
        "PATCH", "/patients/{a1}", "patients", "a:admin", lambda world: {"version": 1, "given_name": "Augusta"}
    ),
}

DROP = object()  # removes a key from the valid body
MALFORMED = b'{"given_name": "Ada", '


def ref(key: str) -> Callable[[World], int]:
    """An id known only once the world is seeded: "a1", "b1" (patients) or "user:b:admin"."""
    if key.startswith("user:"):
        return lambda world: world.users[key.removeprefix("user:")]
    return lambda world: world.patients[key]


def soon(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def later(hours: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


@dataclass(frozen=True)
class Bad:
    endpoint: str
    change: dict[str, Any] | bytes | list[Any]  # merged into the valid body, or sent instead of it
    status: int
    field: str | None
    code: str | None = None


CASES = [
    # POST /patients
    pytest.param(Bad("POST /patients", MALFORMED, 400, "body", "malformed_json"), id="patients-malformed-json"),
    pytest.param(Bad("POST /patients", {"given_name": 123}, 422, "given_name"), id="patients-name-not-a-string"),
    pytest.param(Bad("POST /patients", {"established": "maybe"}, 422, "established"), id="patients-bool-not-a-bool"),
    pytest.param(Bad("POST /patients", {"conditions": "I10"}, 422, "conditions"), id="patients-list-not-a-list"),
    pytest.param(Bad("POST /patients", {"conditions": ["XYZ"]}, 422, "conditions[0]"), id="patients-bad-icd10"),
    pytest.param(Bad("POST /patients", {"nickname": "Addie"}, 422, "nickname"), id="patients-unknown-field"),
    pytest.param(Bad("POST /patients", {"practice_id": 2}, 422, "practice_id"), id="patients-practice-id-refused"),
    pytest.param(Bad("POST /patients", {"family_name": "x" * 101}, 422, "family_name"), id="patients-name-too-long"),
    pytest.param(Bad("POST /patients", {"medicare_id": "1" * 14}, 422, "medicare_id"), id="patients-mbi-too-long"),
    pytest.param(Bad("POST /patients", {"timezone": "Mars/Olympus"}, 422, "timezone"), id="patients-unknown-zone"),
    pytest.param(Bad("POST /patients", {"birth_date": "2025-02-30"}, 422, "birth_date"), id="patients-impossible-date"),
    pytest.param(Bad("POST /patients", {"birth_date": soon(30)}, 422, "birth_date"), id="patients-born-in-future"),
    pytest.param(Bad("POST /patients", {"given_name": DROP}, 422, "given_name"), id="patients-missing-field"),
    pytest.param(Bad("POST /patients", {"given_name": None}, 422, "given_name"), id="patients-null-name"),
    pytest.param(
        Bad("POST /patients", [], 422, "body"),
        id="patients-body-a-list",
    ),
    # POST /enrollments
    pytest.param(Bad("POST /enrollments", MALFORMED, 400, "body", "malformed_json"), id="enrollments-malformed-json"),
    pytest.param(Bad("POST /enrollments", {"patient_id": "a1"}, 422, "patient_id"), id="enrollments-id-not-a-number"),
    pytest.param(Bad("POST /enrollments", {"program": "XYZ"}, 422, "program"), id="enrollments-unknown-program"),
    pytest.param(Bad("POST /enrollments", {"complex": [True]}, 422, "complex"), id="enrollments-bool-a-list"),
    pytest.param(Bad("POST /enrollments", {"status": "active"}, 422, "status"), id="enrollments-unknown-field"),
    pytest.param(
        Bad("POST /enrollments", {"start_date": "2025-02-30"}, 422, "start_date"), id="enrollments-impossible-date"
    ),
    pytest.param(
        Bad("POST /enrollments", {"start_date": "1999-12-31"}, 422, "start_date"), id="enrollments-date-before-2000"
    ),
    pytest.param(
        Bad("POST /enrollments", {"patient_id": ref("b1")}, 422, "patient_id", "unknown_reference"),
        id="enrollments-other-practices-patient",
    ),
    pytest.param(
        Bad("POST /enrollments", {"billing_provider_id": ref("user:b:admin")}, 422, "billing_provider_id"),
        id="enrollments-other-practices-provider",
    ),
    pytest.param(
        Bad("POST /enrollments", {"end_date": "2025-01-01"}, 422, "end_date"),
        id="enrollments-ends-before-start",
    ),
    pytest.param(
        Bad("POST /enrollments", {"focus": "cbt"}, 422, "focus"),
        id="enrollments-focus-outside-rtm",
    ),
    # POST /observations
    pytest.param(Bad("POST /observations", MALFORMED, 400, "body", "malformed_json"), id="observations-malformed-json"),
    pytest.param(
        Bad("POST /observations", {"effective_at": "2025-01-07T08:00:00"}, 422, "effective_at"),
        id="observations-naive-datetime",
    ),
    pytest.param(
        Bad("POST /observations", {"effective_at": "2025-02-30T08:00:00Z"}, 422, "effective_at"),
        id="observations-impossible-date",
    ),
    pytest.param(
        Bad("POST /observations", {"effective_at": later(24)}, 422, "effective_at"), id="observations-in-the-future"
    ),
    pytest.param(Bad("POST /observations", {"type": "temperature"}, 422, "type"), id="observations-unknown-type"),
    pytest.param(Bad("POST /observations", {"values": "81.5"}, 422, "values"), id="observations-values-not-object"),
    pytest.param(
        Bad("POST /observations", {"values": {"kg": [81.5]}}, 422, "values.kg"),
        id="observations-value-a-list",
    ),
    pytest.param(
        Bad("POST /observations", {"external_id": "x" * 129}, 422, "external_id"), id="observations-id-too-long"
    ),
    pytest.param(Bad("POST /observations", {"unit": "kg"}, 422, "unit"), id="observations-unknown-field"),
    pytest.param(
        Bad("POST /observations", {"patient_id": ref("b1")}, 422, "patient_id", "unknown_reference"),
        id="observations-other-practices-patient",
    ),
    # POST /time-entries
    pytest.param(Bad("POST /time-entries", MALFORMED, 400, "body", "malformed_json"), id="time-malformed-json"),
    pytest.param(Bad("POST /time-entries", {"minutes": "twenty"}, 422, "minutes"), id="time-minutes-not-a-number"),
    pytest.param(Bad("POST /time-entries", {"minutes": 0}, 422, "minutes"), id="time-zero-minutes"),
    pytest.param(Bad("POST /time-entries", {"minutes": 24 * 60 + 1}, 422, "minutes"), id="time-over-a-day"),
    pytest.param(Bad("POST /time-entries", {"note": "x" * 4001}, 422, "note"), id="time-note-too-long"),
    pytest.param(Bad("POST /time-entries", {"billable": True}, 422, "billable"), id="time-unknown-field"),
    pytest.param(
        Bad("POST /time-entries", {"service_date": "2025-02-30"}, 422, "service_date"), id="time-impossible-date"
    ),
    pytest.param(
        Bad("POST /time-entries", {"started_at": "2025-01-06T09:00:00"}, 422, "started_at"), id="time-naive-datetime"
    ),
    pytest.param(
        Bad(
            "POST /time-entries",
            {"started_at": "2025-01-06T10:00:00Z", "ended_at": "2025-01-06T09:40:00Z"},
            422,
            "ended_at",
        ),
        id="time-ends-before-it-starts",
    ),
    pytest.param(
        Bad("POST /time-entries", {"patient_id": ref("b1")}, 422, "patient_id", "unknown_reference"),
        id="time-other-practices-patient",
    ),
    pytest.param(
        Bad("POST /time-entries", {"user_id": ref("user:b:admin")}, 422, "user_id"), id="time-other-practices-user"
    ),
    pytest.param(Bad("POST /time-entries", {"user_id": ref("user:a:biller")}, 422, "user_id"), id="time-billers-time"),
    # PATCH /patients/{id}
    pytest.param(Bad("PATCH /patients/{id}", MALFORMED, 400, "body", "malformed_json"), id="patch-malformed-json"),
    pytest.param(Bad("PATCH /patients/{id}", {"version": DROP}, 422, "version"), id="patch-without-version"),
    pytest.param(Bad("PATCH /patients/{id}", {"version": "one"}, 422, "version"), id="patch-version-not-a-number"),
    pytest.param(Bad("PATCH /patients/{id}", {"given_name": ""}, 422, "given_name"), id="patch-empty-name"),
    pytest.param(Bad("PATCH /patients/{id}", {"family_name": "x" * 101}, 422, "family_name"), id="patch-name-too-long"),
    pytest.param(
        Bad("PATCH /patients/{id}", {"established": "yes please"}, 422, "established"), id="patch-bool-not-a-bool"
    ),
    pytest.param(
        Bad("PATCH /patients/{id}", {"birth_date": "2025-02-30"}, 422, "birth_date"), id="patch-impossible-date"
    ),
    pytest.param(Bad("PATCH /patients/{id}", {"birth_date": soon(30)}, 422, "birth_date"), id="patch-born-in-future"),
    pytest.param(Bad("PATCH /patients/{id}", {"medicare_id": "not an mbi"}, 422, "medicare_id"), id="patch-bad-mbi"),
    pytest.param(Bad("PATCH /patients/{id}", {"timezone": "Mars/Olympus"}, 422, "timezone"), id="patch-unknown-zone"),
    pytest.param(Bad("PATCH /patients/{id}", {"practice_id": 2}, 422, "practice_id"), id="patch-practice-id-refused"),
    pytest.param(Bad("PATCH /patients/{id}", {"id": 99}, 422, "id"), id="patch-id-refused"),
    pytest.param(
        Bad("PATCH /patients/{id}", {"given_name": None}, 422, "given_name"),
        id="patch-null-name",
    ),
    pytest.param(
        Bad("PATCH /patients/{id}", {"birth_date": None}, 422, "birth_date"),
        id="patch-null-birth-date",
    ),
    pytest.param(
        Bad("PATCH /patients/{id}", {"medicare_id": "2EG4TE5MK74"}, 409, "medicare_id"),
        id="patch-another-patients-mbi",
    ),
]


def _resolve(value: Any, world: World) -> Any:
    return value(world) if callable(value) else value


def _body(endpoint: Endpoint, change: dict[str, Any] | list[Any], world: World) -> Any:
    if isinstance(change, list):
        return change
    body = endpoint.valid(world)
    for name, value in change.items():
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = _resolve(value, world)
    return body


def _send(client: TestClient, world: World, endpoint: Endpoint, change: dict[str, Any] | bytes | list[Any]) -> Any:
    path = endpoint.path.replace("{a1}", str(world.patients["a1"]))
    headers = world.headers(endpoint.caller)
    if isinstance(change, bytes):
        return client.request(
            endpoint.method, path, content=change, headers={**headers, "Content-Type": "application/json"}
        )
    return client.request(endpoint.method, path, json=_body(endpoint, change, world), headers=headers)


def _snapshot(engine: Engine, table: str) -> tuple[int, list[Any], int]:
    """(rows, their content, creates, updates and ingests in the audit trail)."""
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]  # noqa: S608
        writes = connection.execute(
            text("SELECT count(*) FROM audit_events WHERE action IN ('create', 'update', 'ingest')")
        ).scalar_one()
    return count_rows(engine, table), rows, int(writes)


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_the_valid_body_each_case_starts_from_is_accepted(
    client: TestClient, world: World, engine: Engine, name: str
) -> None:
    endpoint = ENDPOINTS[name]
    count, _, writes = _snapshot(engine, endpoint.table)
    response = _send(client, world, endpoint, {})
    assert response.status_code in (200, 201), response.text
    after, _, writes_after = _snapshot(engine, endpoint.table)
    assert after == count + (1 if endpoint.method == "POST" else 0)
    assert writes_after == writes + 1


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, world: World, engine: Engine, bad: Bad
) -> None:
    endpoint = ENDPOINTS[bad.endpoint]
    before = _snapshot(engine, endpoint.table)
    response = _send(client, world, endpoint, bad.change)

    assert response.status_code == bad.status, response.text
    error = response.json()["error"]
    assert {"code", "message", "field"} <= error.keys()
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    assert error["field"] == bad.field, error
    if bad.code is not None:
        assert error["code"] == bad.code
    assert not error["message"].startswith("Value error"), error["message"]
    assert _snapshot(engine, endpoint.table) == before
