"""Texts through the API, on both databases: the provider's signed webhook (POST /sms/inbound/{id}) with the
fake gateway as the provider and as the app's SMS sender, and POST /sms/prompts.

The API reads the real clock, so each test puts its patient in a fixed-offset zone where it is now midday
(or 23:00, for the crisis at night) instead of fixing the time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.notify.sms_inbound import FakeGateway
from remotecare.services.sms_checkins import CRISIS_TEXT, MESSAGE_TEXT, PROMPT_TEXT, THANKS_TEXT, UNPARSED_TEXT
from remotecare.store.models import Alert, AuditEvent, Enrollment, Integration, Observation, OutboxMessage, Patient
from tests.api.conftest import World, count_rows

TOKEN = "synthetic-auth-token"
PHONE = "+13125550100"


def zone_where_it_is(hour: int) -> str:
    """A fixed-offset zone where the local time is now `hour`:xx."""
    offset = (hour - dt.datetime.now(dt.UTC).hour + 12) % 24 - 12  # -12..11
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


@pytest.fixture
def gateway(app: FastAPI) -> FakeGateway:
    fake = FakeGateway(auth_token=TOKEN)
    app.state.outbox_senders = {"sms": fake}
    return fake


def set_up(app: FastAPI, world: World, *, hour: int = 12, checkin_time: str | None = None) -> int:
    """Patient a1 texts from PHONE, enrolled in RTM, where it is now `hour`; the practice's SMS integration."""
    with app.state.session_factory() as session:
        patient = session.get(Patient, world.patients["a1"])
        assert patient is not None
        patient.phone, patient.timezone, patient.checkin_time = PHONE, zone_where_it_is(hour), checkin_time
        session.add(
            Enrollment(
                practice_id=world.practice_a,
                patient_id=patient.id,
                program=Program.RTM,
                start_date=dt.date(2020, 1, 6),
            )
        )
        integration = Integration(practice_id=world.practice_a, vendor="sms", name="texting number", secret=TOKEN)
        session.add(integration)
        session.commit()
        return integration.id


def text(client: TestClient, gateway: FakeGateway, integration_id: int, body: str, **kwargs: Any) -> Any:
    url = f"http://testserver/sms/inbound/{integration_id}"
    return gateway.deliver(
        lambda url, form, headers: client.post(url, data=form, headers=headers),
        url,
        kwargs.pop("sender", PHONE),
        body,
        **kwargs,
    )


def rows(engine: Engine, model: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def inbound_events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "sms").order_by(AuditEvent.id)))


def test_a_rating_is_stored_and_thanked_at_once(
    app: FastAPI, client: TestClient, world: World, gateway: FakeGateway, engine: Engine
) -> None:
    integration = set_up(app, world)
    response = text(client, gateway, integration, "pain 7/10")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml") and response.text.endswith("<Response/>")
    assert gateway.texts_to(PHONE) == [THANKS_TEXT.format(pain=7)]
    (reading,) = rows(engine, Observation)
    assert (reading.type, reading.values["nrs"], reading.provenance["channel"]) == ("pain_score", 7, "sms")
    text(client, gateway, integration, "12")
    assert gateway.texts_to(PHONE)[-1] == UNPARSED_TEXT
    text(client, gateway, integration, "banana bread")
    assert gateway.texts_to(PHONE)[-1] == MESSAGE_TEXT
    events = inbound_events(engine)
    assert [(e.action, e.detail["outcome"], e.detail["patient_id"]) for e in events] == [
        ("inbound", "pain", world.patients["a1"]),
        ("inbound", "out_of_range", world.patients["a1"]),
        ("inbound", "message", world.patients["a1"]),
    ]
    assert all("banana" not in str(e.detail) and e.entity_id for e in events)  # the body is not in the trail
    assert [m.status.value for m in rows(engine, OutboxMessage)] == ["sent", "sent", "sent"]


def test_a_replayed_message_is_acknowledged_and_ignored(
    app: FastAPI, client: TestClient, world: World, gateway: FakeGateway, engine: Engine
) -> None:
    integration = set_up(app, world)
    for _ in range(2):
        assert text(client, gateway, integration, "5", message_id="SMreplayed").status_code == 200
    assert len(gateway.sent) == 1 and len(inbound_events(engine)) == 1 and count_rows(engine, "observations") == 1


def test_a_crisis_raises_an_urgent_alert_and_the_resources_go_out_at_23_00(
    app: FastAPI, client: TestClient, world: World, gateway: FakeGateway, engine: Engine
) -> None:
    integration = set_up(app, world, hour=23)
    assert text(client, gateway, integration, "I want to kill myself").status_code == 200
    (alert,) = rows(engine, Alert)
    assert (alert.rule, alert.severity, alert.patient_id) == ("crisis", "urgent", world.patients["a1"])
    assert gateway.texts_to(PHONE) == [CRISIS_TEXT]
    (event,) = inbound_events(engine)
    assert event.detail["outcome"] == "crisis" and event.detail["alert_ids"] == [alert.id]
    # Anything else at that hour waits for the morning in the outbox.
    text(client, gateway, integration, "4")
    assert gateway.texts_to(PHONE) == [CRISIS_TEXT]
    assert [m.status.value for m in rows(engine, OutboxMessage)] == ["sent", "queued"]


@pytest.mark.parametrize("case", ["no signature", "wrong token", "altered body", "not an sms integration"])
def test_a_bad_signature_is_401_and_stores_nothing(
    app: FastAPI, client: TestClient, world: World, gateway: FakeGateway, engine: Engine, case: str
) -> None:
    integration = set_up(app, world)
    url = f"http://testserver/sms/inbound/{integration}"
    form, headers = gateway.inbound_request(url, PHONE, "7")
    if case == "no signature":
        headers = {}
    elif case == "wrong token":
        headers = FakeGateway(auth_token="guessed").inbound_request(url, PHONE, "7", message_id=form["MessageSid"])[1]
    elif case == "altered body":
        form["Body"] = "I want to die"
    else:
        with app.state.session_factory() as session:
            tenovi = Integration(practice_id=world.practice_a, vendor="tenovi", name="hub", secret=TOKEN)
            session.add(tenovi)
            session.commit()
            url = f"http://testserver/sms/inbound/{tenovi.id}"
        form, headers = gateway.inbound_request(url, PHONE, "7")
    response = client.post(url, data=form, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "bad_signature"
    for table in ("observations", "outbox_messages", "alerts"):
        assert count_rows(engine, table) == 0, table
    assert gateway.sent == [] and all(e.action == "denied" for e in inbound_events(engine))


def test_an_unknown_number_reveals_nothing(
    app: FastAPI, client: TestClient, world: World, gateway: FakeGateway, engine: Engine
) -> None:
    integration = set_up(app, world)
    known = text(client, gateway, integration, "help")
    unknown = text(client, gateway, integration, "help", sender="+13125559999")
    assert (unknown.status_code, unknown.text, unknown.headers["content-type"]) == (
        200,
        known.text,
        known.headers["content-type"],
    )
    assert gateway.texts_to("+13125559999") == []
    event = inbound_events(engine)[-1]
    assert (event.detail["outcome"], event.detail["patient_id"]) == ("unknown_number", None)
    assert "5559999" not in str(event.detail)


def test_prompts_are_queued_by_care_staff_once_a_day(
    app: FastAPI, client: TestClient, world: World, gateway: FakeGateway
) -> None:
    set_up(app, world, checkin_time="08:00")
    first = client.post("/sms/prompts", headers=world.headers("a:clinical_staff"))
    assert first.status_code == 200, first.text
    assert (first.json()["patient_ids"], first.json()["already"]) == ([world.patients["a1"]], 0)
    again = client.post("/sms/prompts", headers=world.headers("a:clinical_staff"))
    assert (again.json()["queued"], again.json()["already"]) == ([], 1)
    assert client.post("/sms/prompts", headers=world.headers("a:biller")).status_code == 403
    sent = client.post("/outbox/dispatch", headers=world.headers("a:clinical_staff"))
    assert sent.json()["sent"] == first.json()["queued"]
    assert gateway.texts_to(PHONE) == [PROMPT_TEXT.format(first_name="Synthetic")]


def test_an_admin_connects_the_sms_provider_through_the_api_and_its_signed_texts_are_taken(
    app: FastAPI, client: TestClient, world: World, gateway: FakeGateway, engine: Engine
) -> None:
    admin = world.headers("a:admin")
    missing = client.post("/integrations", json={"vendor": "sms", "name": "texting number"}, headers=admin)
    assert (missing.status_code, missing.json()["error"]["field"]) == (422, "auth_token")
    stray = {"vendor": "tenovi", "name": "hub", "auth_token": "x"}
    assert client.post("/integrations", json=stray, headers=admin).json()["error"]["field"] == "auth_token"
    body = {"vendor": "sms", "name": "texting number", "auth_token": TOKEN}
    assert client.post("/integrations", json=body, headers=world.headers("a:clinical_staff")).status_code == 403
    created = client.post("/integrations", json=body, headers=admin)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["secret"] is None and TOKEN not in created.text  # the token is kept, never shown back
    assert made["webhook_path"] == f"/sms/inbound/{made['id']}"
    assert TOKEN not in client.get("/integrations", headers=admin).text

    from_setup = set_up(app, world)  # the patient and her enrollment (and a second integration, unused)
    assert from_setup != made["id"]
    assert text(client, gateway, made["id"], "6").status_code == 200
    assert gateway.texts_to(PHONE) == [THANKS_TEXT.format(pain=6)]
    forged = FakeGateway(auth_token="not-the-token")
    assert text(client, forged, made["id"], "5").status_code == 401
    (reading,) = rows(engine, Observation)
    assert reading.values["nrs"] == 6
