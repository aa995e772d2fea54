"""Outreach and the reminder outbox through the API, on both databases: the list, queueing reminders
(refusals naming the field, 403 for a biller), the outbox and dispatch, each audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.config import Settings
from remotecare.notify.senders import OutgoingMessage, SendResult
from remotecare.store.base import utc_now
from remotecare.store.models import AuditEvent, Patient
from tests.api.conftest import World, count_rows
from tests.services.test_outreach import monitored_patient, span


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    """The shared fixture's app, with the file sender writing under the test's folder."""
    settings = Settings(database_url=database_url, cookie_secure=False, outbox_path=tmp_path / "data" / "outbox.jsonl")
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


def audit_events(engine: Engine, entity: str, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == entity, AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        )


def set_contact(engine: Engine, patient_id: int, **values: Any) -> None:
    with Session(engine) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        for name, value in values.items():
            setattr(patient, name, value)
        session.commit()


def zone_at_local_hour(hour: int) -> str:
    """A fixed-offset zone where it is now about `hour` o'clock (Etc/GMT-5 is UTC+5)."""
    offset = hour - utc_now().hour
    if offset < -12:
        offset += 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" + ("" if offset == 0 else f"{-offset:+d}")


def test_the_care_team_reads_the_outreach_list_and_the_read_is_audited(
    client: TestClient, world: World, engine: Engine
) -> None:
    with Session(engine) as session:
        five = monitored_patient(session, world.practice_a, "Five", span(1, 5))
        monitored_patient(session, world.practice_b, "Elsewhere", [])
        session.commit()
    staff = world.headers("a:clinical_staff")

    response = client.get("/outreach", params={"as_of": "2026-03-21", "margin": 1}, headers=staff)

    assert response.status_code == 200, response.text
    (item,) = response.json()
    assert (item["patient_id"], item["patient_name"], item["program"]) == (five, "Five, Synthetic", "RPM")
    assert (item["last_reading"], item["days_since_last_reading"], item["days_with_data"]) == ("2026-03-05", 16, 5)
    assert (item["days_left"], item["days_open"], item["days_needed"], item["spare_days"]) == (9, 10, 11, -1)
    assert (item["short_code"], item["short_code_reachable"], item["reasons"]) == (
        "99445",
        True,
        ["quiet", "cannot_reach_16"],
    )
    (event,) = audit_events(engine, "outreach", "list")
    assert event.detail == {"ids": [five], "query": {"as_of": "2026-03-21", "quiet_days": 3, "margin": 1}}
    assert event.actor_id == world.users["a:clinical_staff"]
    assert client.get("/outreach", params={"as_of": "2026-03-21"}, headers=world.headers("a:biller")).status_code == 200
    assert (
        client.get("/outreach", params={"as_of": "2026-03-21"}, headers=world.headers("b:admin"))
        .json()[0]["patient_name"]
        .startswith("Elsewhere")
    )
    for params, field in (({"quiet_days": 0}, "quiet_days"), ({"as_of": "yesterday"}, "as_of"), ({"x": 1}, "x")):
        bad = client.get("/outreach", params=params, headers=staff)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field, bad.text


def test_a_reminder_to_another_practices_patient_is_refused_naming_the_field(
    client: TestClient, world: World, engine: Engine
) -> None:
    staff = world.headers("a:clinical_staff")
    body = {"patient_ids": [world.patients["a1"], world.patients["b1"]], "channel": "sms", "reason": "quiet"}

    refused = client.post("/outreach/reminders", json=body, headers=staff)

    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "unknown_reference",
        "message": f"patient_ids[1]: no patient {world.patients['b1']} in this practice",
        "field": "patient_ids[1]",
    }
    for change, field in (
        ({"template": "Dear {first_name} {family_name}"}, "template"),
        ({"channel": "fax"}, "channel"),
        ({"patient_ids": []}, "patient_ids"),
        ({"reason": ""}, "reason"),
    ):
        bad = client.post("/outreach/reminders", json={**body, **change}, headers=staff)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field, bad.text
    assert count_rows(engine, "outbox_messages") == 0
    assert audit_events(engine, "outbox_message", "create") == []


def test_a_biller_may_read_but_not_queue_or_send(client: TestClient, world: World, engine: Engine) -> None:
    biller = world.headers("a:biller")
    body = {"patient_ids": [world.patients["a1"]], "channel": "file", "reason": "quiet"}
    for response in (
        client.post("/outreach/reminders", json=body, headers=biller),
        client.post("/outbox/dispatch", headers=biller),
    ):
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert client.get("/outbox", headers=biller).status_code == 200
    assert count_rows(engine, "outbox_messages") == 0


def test_reminders_are_queued_listed_and_sent_with_each_step_audited(
    app: FastAPI, client: TestClient, world: World, engine: Engine, tmp_path: Path
) -> None:
    a1, a2 = world.patients["a1"], world.patients["a2"]
    set_contact(engine, a1, phone="+13125550100", timezone=zone_at_local_hour(12))
    set_contact(engine, a2, phone="+13125550101", timezone=zone_at_local_hour(0))
    staff = world.headers("a:clinical_staff")

    texts = client.post(
        "/outreach/reminders",
        json={"patient_ids": [a1, a2], "channel": "sms", "reason": "at_risk", "template": "Hi {first_name}!"},
        headers=staff,
    )
    files = client.post(
        "/outreach/reminders", json={"patient_ids": [a1], "channel": "file", "reason": "quiet"}, headers=staff
    )

    assert texts.status_code == 201, texts.text
    assert [(m["patient_id"], m["recipient"], m["body"], m["status"]) for m in texts.json()] == [
        (a1, "+13125550100", "Hi Synthetic!", "queued"),
        (a2, "+13125550101", "Hi Synthetic!", "queued"),
    ]
    assert texts.json()[0]["created_by"] == world.users["a:clinical_staff"]
    text_ids = [m["id"] for m in texts.json()]
    (file_id,) = [m["id"] for m in files.json()]
    created = audit_events(engine, "outbox_message", "create")
    assert [event.detail for event in created] == [
        {"ids": text_ids, "patient_ids": [a1, a2], "channel": "sms", "reason": "at_risk"},
        {"ids": [file_id], "patient_ids": [a1], "channel": "file", "reason": "quiet"},
    ]

    queued = client.get("/outbox", params={"status": "queued"}, headers=staff).json()
    assert (queued["total"], [m["id"] for m in queued["items"]]) == (3, [file_id, *reversed(text_ids)])
    assert audit_events(engine, "outbox_message", "list")[-1].detail["ids"] == [file_id, *reversed(text_ids)]
    assert client.get("/outbox", headers=world.headers("b:admin")).json()["total"] == 0
    assert client.get("/outbox", params={"status": "lost"}, headers=staff).status_code == 422

    # The app's own senders: the file one writes under the data folder; texts wait for an SMS sender.
    local = client.post("/outbox/dispatch", headers=staff)
    assert local.status_code == 200, local.text
    assert local.json() == {"sent": [file_id], "failed": [], "deferred": [], "without_sender": {"sms": 2}}
    assert '"body": "Hi Synthetic, this is your care team.' in (tmp_path / "data" / "outbox.jsonl").read_text()

    sent: list[OutgoingMessage] = []

    class FakeSms:
        name, channel = "sms", "sms"

        def send(self, message: OutgoingMessage) -> SendResult:
            sent.append(message)
            return SendResult.sent("SM1")

    app.state.outbox_senders = {"sms": FakeSms()}
    report = client.post("/outbox/dispatch", params={"limit": 5}, headers=staff).json()
    # a1 is at noon and gets the text; a2 is at midnight: it waits.
    assert report == {"sent": [text_ids[0]], "failed": [], "deferred": [text_ids[1]], "without_sender": {}}
    assert [(m.recipient, m.body) for m in sent] == [("+13125550100", "Hi Synthetic!")]
    statuses = {m["id"]: (m["status"], m["sender"]) for m in client.get("/outbox", headers=staff).json()["items"]}
    assert statuses == {file_id: ("sent", "file"), text_ids[0]: ("sent", "sms"), text_ids[1]: ("queued", None)}
    dispatched = audit_events(engine, "outbox_message", "dispatch")
    assert [(e.detail["sent"], e.detail["deferred"]) for e in dispatched] == [
        ([file_id], []),
        ([text_ids[0]], [text_ids[1]]),
    ]
    assert client.post("/outbox/dispatch", params={"limit": 0}, headers=staff).status_code == 422
