"""Vendor webhooks end to end, on both databases: signed, replay-protected, idempotent, and
readings from unknown or unassigned devices held for review rather than dropped."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from remotecare.ingest.signing import SIGNATURE_HEADER, sign
from tests.api.conftest import World, count_rows

TENOVI_DEVICE = "5f0c6e0a-tenovi-bpm-0001"
BODYTRACE_DEVICE = 1234567890123  # IMEI without its check digit


@pytest.fixture
def integrations(client: TestClient, world: World) -> dict[str, dict[str, Any]]:
    made = {}
    for vendor in ("tenovi", "bodytrace"):
        response = client.post(
            "/integrations", json={"vendor": vendor, "name": f"{vendor} hub"}, headers=world.headers("a:admin")
        )
        assert response.status_code == 201, response.text
        made[vendor] = response.json()
    return made


def register(client: TestClient, world: World, serial: str, kind: str, start: str = "2025-01-06") -> int:
    headers = world.headers("a:admin")
    device = client.post("/devices", json={"serial": serial, "kind": kind, "medical_device": True}, headers=headers)
    assert device.status_code == 201, device.text
    assigned = client.post(
        "/device-assignments",
        json={
            "device_id": device.json()["id"],
            "patient_id": world.patients["a1"],
            "program": "RPM",
            "start_date": start,
        },
        headers=headers,
    )
    assert assigned.status_code == 201, assigned.text
    return int(device.json()["id"])


def deliver(
    client: TestClient, integration: dict[str, Any], payload: Any, *, age: int = 0, secret: str | None = None
) -> Any:
    body = json.dumps(payload).encode()
    signature = sign(secret or integration["secret"], body, int(time.time()) - age)
    return client.post(
        integration["webhook_path"],
        content=body,
        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
    )


def tenovi_bp(at: str = "2025-01-07T14:00:00Z", systolic: str = "128.00") -> list[dict[str, Any]]:
    common = {
        "device_name": "Tenovi BPM - L",
        "hwi_device_id": TENOVI_DEVICE,
        "patient_id": "client-7",
        "hardware_uuid": "gateway-1",
        "created": at,
        "timestamp": at,
        "timezone_offset": -6,
        "estimated_timestamp": False,
    }
    return [
        {**common, "metric": "blood_pressure", "value_1": systolic, "value_2": "82.00", "sensor_code": "10"},
        {**common, "metric": "pulse", "value_1": "71.00", "value_2": None, "sensor_code": "10"},
    ]


def test_a_signed_tenovi_delivery_is_stored_once_however_often_it_is_resent(
    client: TestClient, world: World, engine: Engine, integrations: dict[str, Any]
) -> None:
    register(client, world, TENOVI_DEVICE, "bp_cuff")
    first = deliver(client, integrations["tenovi"], tenovi_bp())
    assert first.status_code == 200, first.text
    assert [item["outcome"] for item in first.json()["items"]] == ["stored", "stored"]
    again = deliver(client, integrations["tenovi"], tenovi_bp())
    assert [item["outcome"] for item in again.json()["items"]] == ["duplicate", "duplicate"]
    assert count_rows(engine, "observations") == 2
    listed = client.get("/observations", headers=world.headers("a:clinical_staff")).json()["items"]
    by_type = {item["type"]: item for item in listed}
    assert by_type["blood_pressure"]["values"] == {"systolic": 128, "diastolic": 82}
    assert by_type["heart_rate"]["values"] == {"bpm": 71}
    assert by_type["blood_pressure"]["source"] == "tenovi"
    assert by_type["blood_pressure"]["patient_id"] == world.patients["a1"]
    assert by_type["blood_pressure"]["local_date"] == "2025-01-07"
    assert by_type["blood_pressure"]["provenance"]["gateway_id"] == "gateway-1"


def test_a_bodytrace_scale_weight_arrives_in_kilograms(
    client: TestClient, world: World, integrations: dict[str, Any]
) -> None:
    register(client, world, str(BODYTRACE_DEVICE), "scale")
    ts = int(dt.datetime(2025, 1, 8, 13, 5, tzinfo=dt.UTC).timestamp() * 1000)
    payload = {
        "deviceId": BODYTRACE_DEVICE,
        "ts": ts,
        "batteryVoltage": 5600,
        "rssi": -71,
        "values": {"unit": 1, "weight": 81450, "tare": 0},
    }
    response = deliver(client, integrations["bodytrace"], payload)
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["outcome"] == "stored"
    stored = client.get(f"/observations/{item['id']}", headers=world.headers("a:clinical_staff")).json()
    assert stored["values"] == {"kg": 81.45} and stored["type"] == "weight"


@pytest.mark.parametrize(
    ("how", "message"),
    [("unsigned", "missing"), ("wrong secret", "does not match"), ("stale", "replay"), ("tampered", "does not match")],
)
def test_a_delivery_that_is_not_signed_now_with_the_secret_is_refused_and_audited(
    client: TestClient, world: World, engine: Engine, integrations: dict[str, Any], how: str, message: str
) -> None:
    register(client, world, TENOVI_DEVICE, "bp_cuff")
    integration = integrations["tenovi"]
    body = json.dumps(tenovi_bp()).encode()
    headers = {"Content-Type": "application/json"}
    if how == "wrong secret":
        headers[SIGNATURE_HEADER] = sign("not the secret", body, int(time.time()))
    elif how == "stale":
        headers[SIGNATURE_HEADER] = sign(integration["secret"], body, int(time.time()) - 600)
    elif how == "tampered":
        headers[SIGNATURE_HEADER] = sign(integration["secret"], body, int(time.time()))
        body = body.replace(b"128.00", b"228.00")
    response = client.post(integration["webhook_path"], content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["field"] == SIGNATURE_HEADER
    assert message in response.json()["error"]["message"]
    assert count_rows(engine, "observations") == 0
    trail = client.get("/audit-events", params={"action": "denied"}, headers=world.headers("a:admin")).json()
    assert [event["entity"] for event in trail["items"]] == ["webhook"]


def test_an_unknown_or_inactive_integration_answers_404(
    client: TestClient, world: World, integrations: dict[str, Any]
) -> None:
    tenovi = integrations["tenovi"]
    wrong_vendor = client.post(f"/webhooks/bodytrace/{tenovi['id']}", content=b"{}")
    assert wrong_vendor.status_code == 404
    client.patch(
        f"/integrations/{tenovi['id']}", json={"version": 1, "active": False}, headers=world.headers("a:admin")
    )
    assert deliver(client, tenovi, tenovi_bp()).status_code == 404


def test_readings_from_an_unknown_device_are_held_then_released_once_it_is_assigned(
    client: TestClient, world: World, engine: Engine, integrations: dict[str, Any]
) -> None:
    first = deliver(client, integrations["tenovi"], tenovi_bp())
    assert [item["outcome"] for item in first.json()["items"]] == ["held", "held"]
    assert "no device" in first.json()["items"][0]["message"]
    # Re-sent while still unknown: held once, not twice.
    again = deliver(client, integrations["tenovi"], tenovi_bp())
    assert [item["id"] for item in again.json()["items"]] == [item["id"] for item in first.json()["items"]]
    assert count_rows(engine, "held_readings") == 2 and count_rows(engine, "observations") == 0

    staff = world.headers("a:clinical_staff")
    queue = client.get("/held-readings", params={"status": "held"}, headers=staff).json()
    assert queue["total"] == 2 and queue["items"][0]["device_serial"] == TENOVI_DEVICE
    held_id = first.json()["items"][0]["id"]
    too_soon = client.post(f"/held-readings/{held_id}/release", headers=staff)
    assert too_soon.status_code == 409 and too_soon.json()["error"]["field"] == "device_serial"

    register(client, world, TENOVI_DEVICE, "bp_cuff")
    released = client.post(f"/held-readings/{held_id}/release", headers=staff)
    assert released.status_code == 200, released.text
    assert released.json()["result"]["outcome"] == "stored"
    assert released.json()["held"]["status"] == "released"
    assert released.json()["held"]["observation_id"] == released.json()["result"]["id"]
    assert client.post(f"/held-readings/{held_id}/release", headers=staff).status_code == 409
    # A later delivery of the same reading is now a duplicate of the released one.
    later = deliver(client, integrations["tenovi"], tenovi_bp())
    repeat = later.json()["items"][0]
    assert (repeat["outcome"], repeat["id"]) == ("duplicate", released.json()["result"]["id"])

    other = first.json()["items"][1]["id"]
    discarded = client.post(f"/held-readings/{other}/discard", headers=staff)
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"


def test_a_reading_from_before_the_device_was_assigned_is_held(
    client: TestClient, world: World, integrations: dict[str, Any]
) -> None:
    register(client, world, TENOVI_DEVICE, "bp_cuff", start="2025-02-01")
    response = deliver(client, integrations["tenovi"], tenovi_bp(at="2025-01-07T14:00:00Z"))
    item = response.json()["items"][0]
    assert item["outcome"] == "held" and "not assigned to any patient" in item["message"]


def test_bad_items_in_a_delivery_are_refused_one_by_one(
    client: TestClient, world: World, engine: Engine, integrations: dict[str, Any]
) -> None:
    register(client, world, TENOVI_DEVICE, "bp_cuff")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = [*tenovi_bp(systolic="400.00")[:1], *tenovi_bp()[1:], *tenovi_bp(at=future)[1:]]
    items = deliver(client, integrations["tenovi"], payload).json()["items"]
    assert [(item["outcome"], item.get("field")) for item in items] == [
        ("refused", "[0].value_1"),
        ("stored", None),
        ("refused", "at"),
    ]
    assert count_rows(engine, "observations") == 1


def test_only_an_admin_manages_integrations_and_the_secret_is_shown_once(
    client: TestClient, world: World, integrations: dict[str, Any]
) -> None:
    listed = client.get("/integrations", headers=world.headers("a:admin"))
    assert listed.status_code == 200
    assert all("secret" not in item for item in listed.json())
    assert integrations["tenovi"]["secret"] not in listed.text
    assert client.get("/integrations", headers=world.headers("a:clinical_staff")).status_code == 403
    assert client.get("/integrations", headers=world.headers("b:admin")).json() == []


def test_a_large_delivery_from_an_unknown_device_is_held_once(
    client: TestClient, world: World, engine: Engine, integrations: dict[str, Any]
) -> None:
    # 60 items: large enough for PostgreSQL's bulk (COPY) path.
    start = dt.datetime(2025, 1, 7, 14, tzinfo=dt.UTC)
    payload = [
        {**tenovi_bp((start + dt.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ"))[1], "value_1": str(60 + n % 40)}
        for n in range(60)
    ]
    first = deliver(client, integrations["tenovi"], payload).json()
    again = deliver(client, integrations["tenovi"], payload).json()
    assert first["held"] == 60 and again["held"] == 60
    assert [item["id"] for item in again["items"]] == [item["id"] for item in first["items"]]
    assert count_rows(engine, "held_readings") == 60
    queue = client.get("/held-readings", params={"limit": 1}, headers=world.headers("a:clinical_staff")).json()
    assert queue["items"][0]["status"] == "held" and queue["total"] == 60
