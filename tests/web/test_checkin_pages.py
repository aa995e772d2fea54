"""The patient's check-in pages without a browser: links that no longer work (expired at the boundary,
revoked, unknown) answer one and the same 404 page; the form is a plain POST that needs no JavaScript;
answers are kept when one is missing; the page shows nothing of the patient beyond the first name; each
submission is audited without its answers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.config import Settings
from remotecare.services.checkin_links import issue_link, revoke_link
from remotecare.services.checkins import medication_key
from remotecare.store.models import Alert, AuditEvent, CheckinLink, Observation, Patient, Role
from remotecare.store.session import make_engine
from remotecare.web.routes import checkin as checkin_routes
from tests.web.seed import Clinic, seed_checkin_patient, seed_clinic

GONE = "This link no longer works"
MEDICATIONS = ("Gabapentin 300 mg", "Naproxen 500 mg")


@dataclass
class Setup:
    client: TestClient
    clinic: Clinic
    patient_id: int
    engine: Engine

    def link(self, *, now: dt.datetime | None = None, ttl: dt.timedelta = dt.timedelta(days=7)) -> tuple[int, str]:
        with self.session() as session:
            link, token = issue_link(
                session,
                self.clinic.practice_id,
                self.patient_id,
                self.clinic.users[Role.CLINICAL_STAFF],
                ttl=ttl,
                now=now,
            )
            session.commit()
            return link.id, token

    def session(self) -> Session:
        return Session(self.engine)


@pytest.fixture
def setup(database_url: str) -> Iterator[Setup]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic = seed_clinic(session)
        patient_id = seed_checkin_patient(session, clinic).id
    app = create_app(Settings(database_url=database_url, cookie_secure=False))
    with TestClient(app) as client:
        yield Setup(client, clinic, patient_id, engine)
    app.state.engine.dispose()
    engine.dispose()


def first_answers(**overrides: str) -> dict[str, str]:
    """Every first-page question of Patel's CPM check-in (PEG, medications, PHQ-2, GAD-2), negative screens."""
    answers = {
        "stage": "first",
        "peg.pain": "6",
        "peg.enjoyment": "5",
        "peg.activity": "4",
        medication_key(MEDICATIONS[0]): "yes",
        medication_key(MEDICATIONS[1]): "no",
        "phq2.item1": "0",
        "phq2.item2": "1",
        "gad2.item1": "1",
        "gad2.item2": "0",
        "free_text": "",
    }
    answers.update(overrides)
    return answers


def test_the_form_greets_by_first_name_and_shows_nothing_else_about_the_patient(setup: Setup) -> None:
    _, token = setup.link()
    response = setup.client.get(f"/c/{token}")
    assert response.status_code == 200
    html = response.text
    assert "Hello, Pain." in html
    with setup.session() as session:
        patient = session.get(Patient, setup.patient_id)
        assert patient is not None
        secrets = [
            patient.family_name,
            patient.medicare_id,
            patient.birth_date.isoformat(),
            f"{patient.birth_date:%m/%d/%Y}",
            f"{patient.birth_date:%b} {patient.birth_date.day}",
            str(patient.birth_date.year),
            patient.address_line1 or "",
            *patient.conditions,
            "Browser Family Medicine",  # nor the practice: a forwarded link says nothing of where they are treated
        ]
    for secret in secrets:
        assert secret and secret not in html, secret
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert "/static/checkin.css" in html and "app.css" not in html and "<script" not in html
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    # One fieldset per question group, each with a legend; the 0-10 scales have their end-points.
    assert html.count('<fieldset class="group">') == 4
    assert (
        "<strong>0</strong> = no pain" in html
        and '10<span class="sr-only"> pain as bad as you can imagine</span>' in html
    )
    assert "<strong>10</strong> = completely interferes" in html
    assert "Anything you want your care team to know?" in html


@pytest.mark.parametrize("case", ["expired", "revoked", "unknown"])
def test_a_link_that_no_longer_works_answers_the_same_404_page(
    setup: Setup, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = dt.datetime(2030, 3, 1, 15, 0, tzinfo=dt.UTC)
    link_id, token = setup.link(now=issued, ttl=dt.timedelta(days=7))
    expiry = issued + dt.timedelta(days=7)
    clock = {"now": expiry - dt.timedelta(microseconds=1)}
    monkeypatch.setattr(checkin_routes, "utc_now", lambda: clock["now"])
    assert setup.client.get(f"/c/{token}").status_code == 200  # the last instant before expiry still works
    if case == "expired":
        clock["now"] = expiry  # expires at `expires_at` itself
    elif case == "revoked":
        with setup.session() as session:
            link = session.get(CheckinLink, link_id)
            assert link is not None
            revoke_link(session, link, setup.clinic.users[Role.CLINICAL_STAFF], now=issued)
            session.commit()
    else:
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    pages = [setup.client.get(f"/c/{token}"), setup.client.post(f"/c/{token}", data=first_answers())]
    unknown = setup.client.get("/c/never-issued-token")
    for response in [*pages, unknown]:
        assert response.status_code == 404
        assert GONE in response.text and "ask your care team for a new link" in response.text
        assert "Pain" not in response.text.replace("harming", "")  # no first name
        assert response.headers["cache-control"] == "no-store"
    # The same page whatever the reason: nothing tells whether the link existed.
    assert pages[0].text == unknown.text
    with setup.session() as session:
        assert session.scalars(select(Observation.id).where(Observation.patient_id == setup.patient_id)).all() == []


def test_an_overlong_token_is_just_unknown(setup: Setup) -> None:
    response = setup.client.get("/c/" + "x" * 5000)
    assert response.status_code == 404 and GONE in response.text


def test_a_plain_form_post_checks_in_without_javascript(setup: Setup) -> None:
    _, token = setup.link()
    form = setup.client.get(f"/c/{token}").text
    assert re.search(rf'<form method="post" action="/c/{re.escape(token)}"', form)
    response = setup.client.post(f"/c/{token}", data=first_answers(free_text="Slept badly."))
    assert response.status_code == 200
    assert "Thank you, Pain" in response.text and "Help is available" not in response.text
    with setup.session() as session:
        stored = session.scalars(select(Observation).where(Observation.patient_id == setup.patient_id)).all()
        types = sorted(row.type for row in stored)
        assert types == ["gad2", "medication_adherence", "medication_adherence", "peg_score", "phq2"]
        assert all(row.provenance["channel"] == "web" for row in stored)
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "checkin")).all()
        assert len(events) == 1
        event = events[0]
        assert event.actor_type == "anonymous" and event.actor_label == "patient via check-in link"
        assert event.practice_id == setup.clinic.practice_id and event.action == "create"
        assert sorted(event.detail["observation_ids"]) == sorted(row.id for row in stored)
        said = repr(event.detail)
        assert "Slept" not in said and "peg" not in said and "item1" not in said  # never the answers


def test_a_missing_answer_keeps_the_others_and_says_which(setup: Setup) -> None:
    _, token = setup.link()
    answers = first_answers(free_text="Knee is worse")
    del answers["peg.activity"]
    answers["gad2.item2"] = "7"  # not a 0-3 answer
    response = setup.client.post(f"/c/{token}", data=answers)
    assert response.status_code == 422
    html = response.text
    assert "Please check these answers" in html
    assert html.count('class="field-error"') == 2
    assert 'href="#q-peg.activity"' in html and 'href="#q-gad2.item2"' in html
    assert re.search(r'name="peg\.pain" value="6" checked', html)
    assert re.search(rf'name="{re.escape(medication_key(MEDICATIONS[1]))}" value="no" checked', html)
    assert "Knee is worse</textarea>" in html
    assert not re.search(r'name="gad2\.item2" value="\d" checked', html)
    with setup.session() as session:
        assert session.scalars(select(Observation.id).where(Observation.patient_id == setup.patient_id)).all() == []


def test_a_positive_phq2_asks_the_phq9_and_item_9_shows_crisis_resources(setup: Setup) -> None:
    _, token = setup.link()
    first = setup.client.post(f"/c/{token}", data=first_answers(**{"phq2.item1": "2", "phq2.item2": "2"}))
    assert first.status_code == 200
    assert "A few more questions" in first.text and "Help is available" not in first.text
    assert 'name="follow_up" value="phq9"' in first.text
    assert 'name="phq9.item3"' in first.text and 'name="phq9.item1"' not in first.text
    follow_up = {"stage": "follow_up", "follow_up": "phq9", "free_text": ""}
    follow_up |= {f"phq9.item{n}": "1" for n in range(3, 10)}
    second = setup.client.post(f"/c/{token}", data=follow_up)
    assert second.status_code == 200
    html = second.text
    assert html.index("Help is available") < html.index("Thank you, Pain")
    assert 'href="tel:988"' in html and 'href="tel:911"' in html
    with setup.session() as session:
        alerts = session.scalars(select(Alert).where(Alert.patient_id == setup.patient_id)).all()
        assert [(alert.rule, alert.severity) for alert in alerts] == [("crisis", "urgent")]
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.entity == "checkin")).all()) == 2


def test_crisis_words_in_the_free_text_show_the_resources_at_once(setup: Setup) -> None:
    _, token = setup.link()
    response = setup.client.post(f"/c/{token}", data=first_answers(free_text="Some days I want to die."))
    assert response.status_code == 200
    assert response.text.index("Help is available") < response.text.index("Thank you")
    with setup.session() as session:
        rules = session.scalars(select(Alert.rule).where(Alert.patient_id == setup.patient_id)).all()
        assert rules == ["crisis"]
