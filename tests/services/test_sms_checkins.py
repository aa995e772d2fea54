"""The daily pain check-in by text, on both databases, against the fake gateway: prompts (due time in the
patient's zone, once a day, never after STOP, quiet hours) and replies (ratings, keywords, crisis, nonsense,
unknown numbers). No provider is called: the gateway records what would be sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from remotecare.cli import app as cli_app
from remotecare.config import get_settings
from remotecare.domain.programs import Program
from remotecare.domain.questionnaires import CRISIS_RESOURCES
from remotecare.notify.sms_inbound import FakeGateway, InboundSms
from remotecare.services.outbox import dispatch
from remotecare.services.sms_checkins import (
    CRISIS_TEXT,
    HELP_TEXT,
    MESSAGE_TEXT,
    NOT_ASKED_TEXT,
    OPT_IN_TEXT,
    OPT_OUT_TEXT,
    PROMPT_TEXT,
    THANKS_TEXT,
    UNPARSED_TEXT,
    Outcome,
    handle_reply,
    prompt,
    prompt_time,
)
from remotecare.store.models import Alert, AuditEvent, Enrollment, Observation, OutboxMessage, OutboxStatus, Patient
from remotecare.store.session import make_engine
from tests.services.test_outreach import MEDICARE_IDS, add, practice

CHICAGO, HONOLULU = "America/Chicago", "Pacific/Honolulu"
DAY = dt.date(2026, 6, 2)
ANN_PHONE, BO_PHONE, CY_PHONE = "+13125550101", "+13125550102", "+13125550103"


def at(hour: int, minute: int = 0, *, zone: str = CHICAGO, day: dt.date = DAY) -> dt.datetime:
    """The UTC instant of `hour:minute` in `zone` on `day`."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with Session(engine) as db:
        yield db
    engine.dispose()


def patient(
    session: Session,
    practice_id: int,
    given_name: str,
    phone: str | None,
    *,
    timezone: str = CHICAGO,
    program: Program | None = Program.RTM,
    checkin_time: str | None = None,
) -> int:
    row = add(
        session,
        Patient(
            practice_id=practice_id,
            given_name=given_name,
            family_name="Privatesurname",
            birth_date=dt.date(1950, 1, 1),
            medicare_id=f"MBI{next(MEDICARE_IDS):08d}",
            timezone=timezone,
            conditions=["M54.5"],
            phone=phone,
            checkin_time=checkin_time,
        ),
    )
    if program is not None:
        add(
            session,
            Enrollment(practice_id=practice_id, patient_id=row.id, program=program, start_date=dt.date(2026, 1, 5)),
        )
    return int(row.id)


def texted(session: Session, practice_id: int, sender: str, body: str, now: dt.datetime) -> Outcome | str:
    reply = handle_reply(session, practice_id, InboundSms(sender, "+15550006000", body, None), now)
    session.commit()
    return reply.outcome


def queued(session: Session, patient_id: int) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.patient_id == patient_id).order_by(OutboxMessage.id)
    )
    return [(row.reason, row.body) for row in rows]


# --- prompts --------------------------------------------------------------------------------------------------


def test_the_prompt_goes_at_the_usual_time_in_the_patients_zone_once_a_day(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Mary Ann", ANN_PHONE)  # Chicago, default 18:00
    hana = patient(session, clinic, "Hana", "+18085550100", timezone=HONOLULU)  # 18:00 there is 23:00 in Chicago
    early = patient(session, clinic, "Eli", "+13125550109", checkin_time="09:30")
    session.commit()

    before = prompt(session, clinic, at(17, 59))
    assert before.not_yet == 2 and before.patient_ids == [early]  # Eli's time (09:30) has passed
    session.commit()
    due = prompt(session, clinic, at(18, 0))
    assert due.patient_ids == [ann] and due.not_yet == 1 and due.already == 1  # Eli was prompted at 09:30
    session.commit()
    assert queued(session, ann) == [
        ("sms_checkin_prompt", PROMPT_TEXT.format(first_name="Mary")),
    ]
    assert "Privatesurname" not in PROMPT_TEXT.format(first_name="Mary")
    again = prompt(session, clinic, at(20, 30))
    assert (again.queued, again.already) == ([], 2)
    session.commit()
    hawaii = prompt(session, clinic, at(18, 1, zone=HONOLULU))
    assert hawaii.patient_ids == [hana]
    session.commit()
    # The next day, Ann is due again.
    assert prompt(session, clinic, at(18, 0, day=DAY + dt.timedelta(days=1))).patient_ids == [ann, early]
    session.commit()

    gateway = FakeGateway(auth_token="t")
    report = dispatch(session, clinic, {"sms": gateway}, now=at(18, 5, day=DAY + dt.timedelta(days=1)))
    assert len(report.sent) == 5 and not report.deferred
    assert gateway.texts_to(ANN_PHONE) == [PROMPT_TEXT.format(first_name="Mary")] * 2


def test_prompts_skip_opted_out_unenrolled_phoneless_and_answered_patients(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    patient(session, clinic, "Bo", None)
    patient(session, clinic, "Cy", CY_PHONE, program=Program.RPM)
    cpm = patient(session, clinic, "Di", "+13125550104", program=Program.CPM)  # CPM asks the PEG by default
    stopped = patient(session, clinic, "Ed", "+13125550105")
    answered = patient(session, clinic, "Flo", "+13125550106")
    reminded = patient(session, clinic, "Gus", "+13125550107")
    add(
        session,
        OutboxMessage(
            practice_id=clinic,
            patient_id=reminded,
            channel="sms",
            recipient="+13125550107",
            body="Hi Gus, ...",
            reason="checkin_reminder",  # services.checkin_reminders' text counts as the day's prompt
            created_at=at(18, 0),
        ),
    )
    session.commit()
    assert texted(session, clinic, "+13125550105", "STOP", at(9)) == Outcome.OPT_OUT
    assert texted(session, clinic, "+13125550106", "3", at(9)) == Outcome.PAIN

    report = prompt(session, clinic, at(18, 30))
    assert report.patient_ids == [ann]
    assert (report.not_asked, report.already) == (1, 2)
    assert all(reason != "sms_checkin_prompt" for reason, _ in queued(session, stopped) + queued(session, answered))
    assert queued(session, cpm) == []


def test_prompts_are_held_in_quiet_hours(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    late = patient(session, clinic, "Bo", BO_PHONE, checkin_time="22:15")  # moved to 20:30
    early = patient(session, clinic, "Cy", CY_PHONE, checkin_time="06:00")  # moved to 08:00
    session.commit()
    assert (prompt_time("22:15"), prompt_time("06:00"), prompt_time(None)) == (
        dt.time(20, 30),
        dt.time(8, 0),
        dt.time(18, 0),
    )
    night = prompt(session, clinic, at(7, 59))
    assert (night.queued, night.quiet) == ([], 3)
    assert prompt(session, clinic, at(8, 0)).patient_ids == [early]
    assert prompt(session, clinic, at(20, 50)).patient_ids == [ann, late]
    session.commit()
    gateway = FakeGateway(auth_token="t")
    held = dispatch(session, clinic, {"sms": gateway}, now=at(21, 10))
    assert len(held.deferred) == 3 and gateway.sent == []
    assert prompt(session, clinic, at(21, 30)).quiet == 3
    morning = dispatch(session, clinic, {"sms": gateway}, now=at(8, 0, day=DAY + dt.timedelta(days=1)))
    assert len(morning.sent) == 3


# --- replies ----------------------------------------------------------------------------------------------


def pain_readings(session: Session, patient_id: int) -> list[tuple[int, str, str]]:
    session.expire_all()
    rows = session.scalars(
        select(Observation).where(Observation.patient_id == patient_id, Observation.type == "pain_score")
    )
    return [(row.values["nrs"], row.source, row.provenance["channel"]) for row in rows]


def test_a_rating_is_stored_as_an_sms_check_in_and_thanked(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    session.commit()
    prompt(session, clinic, at(18))
    session.commit()
    gateway = FakeGateway(auth_token="t")
    dispatch(session, clinic, {"sms": gateway}, now=at(18, 1))

    assert texted(session, clinic, ANN_PHONE, " 7 ", at(18, 5)) == Outcome.PAIN
    assert texted(session, clinic, ANN_PHONE, "pain 4/10", at(18, 6)) == Outcome.PAIN
    assert pain_readings(session, ann) == [(7, "checkin_sms", "sms"), (4, "checkin_sms", "sms")]
    dispatch(session, clinic, {"sms": gateway}, now=at(18, 7))
    assert gateway.texts_to(ANN_PHONE)[1:] == [THANKS_TEXT.format(pain=7), THANKS_TEXT.format(pain=4)]


@pytest.mark.parametrize(("body", "outcome"), [("7/5", Outcome.UNPARSED), ("11", Outcome.OUT_OF_RANGE)])
def test_what_is_not_a_rating_gets_the_clear_response_and_stores_nothing(
    session: Session, body: str, outcome: str
) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    session.commit()
    assert texted(session, clinic, ANN_PHONE, body, at(12)) == outcome
    assert queued(session, ann) == [("sms_unparsed", UNPARSED_TEXT)]
    assert pain_readings(session, ann) == []
    assert "Reply with a number from 0 to 10" in UNPARSED_TEXT
    assert session.scalars(select(Alert).where(Alert.patient_id == ann)).all() == []


def test_words_reach_the_care_team_as_a_message_alert_even_after_stop(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    session.commit()
    assert texted(session, clinic, ANN_PHONE, "I feel dizzy since the new pills", at(12)) == Outcome.MESSAGE
    (alert,) = session.scalars(select(Alert).where(Alert.patient_id == ann)).all()
    assert (alert.rule, alert.severity) == ("patient_message", "low")
    assert "I feel dizzy since the new pills" in (alert.message or "")
    assert queued(session, ann) == [("sms_message_forwarded", MESSAGE_TEXT)]
    assert pain_readings(session, ann) == []

    assert texted(session, clinic, ANN_PHONE, "STOP", at(12, 5)) == Outcome.OPT_OUT
    assert texted(session, clinic, ANN_PHONE, "Still dizzy, please call", at(12, 10)) == Outcome.MESSAGE
    alerts = session.scalars(select(Alert).where(Alert.patient_id == ann).order_by(Alert.id)).all()
    assert [a.rule for a in alerts] == ["patient_message", "patient_message"]
    assert "Still dizzy, please call" in (alerts[1].message or "")
    assert [reason for reason, _ in queued(session, ann)] == ["sms_message_forwarded", "sms_opt_out"]  # no reply


def test_stop_opts_out_with_one_confirmation_and_start_opts_back_in(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    session.commit()
    prompt(session, clinic, at(18))
    session.commit()  # queued, not yet sent when Ann texts STOP

    assert texted(session, clinic, ANN_PHONE, "Stop", at(18, 1)) == Outcome.OPT_OUT
    assert session.get(Patient, ann).sms_opted_out_at == at(18, 1)  # type: ignore[union-attr]
    assert texted(session, clinic, ANN_PHONE, "STOP", at(18, 2)) == Outcome.OPT_OUT
    assert texted(session, clinic, ANN_PHONE, "??", at(18, 3)) == Outcome.UNPARSED
    assert texted(session, clinic, ANN_PHONE, "5", at(18, 4)) == Outcome.PAIN  # recorded, not answered
    assert [reason for reason, _ in queued(session, ann)] == ["sms_checkin_prompt", "sms_opt_out"]

    gateway = FakeGateway(auth_token="t")
    report = dispatch(session, clinic, {"sms": gateway}, now=at(18, 5))
    assert gateway.texts_to(ANN_PHONE) == [OPT_OUT_TEXT]  # the queued prompt is not sent after STOP
    assert len(report.failed) == 1
    assert prompt(session, clinic, at(18, 0, day=DAY + dt.timedelta(days=1))).queued == []
    session.commit()

    assert texted(session, clinic, ANN_PHONE, "START", at(9, 0, day=DAY + dt.timedelta(days=1))) == Outcome.OPT_IN
    assert session.get(Patient, ann).sms_opted_out_at is None  # type: ignore[union-attr]
    assert prompt(session, clinic, at(18, 0, day=DAY + dt.timedelta(days=1))).patient_ids == [ann]
    session.commit()
    dispatch(session, clinic, {"sms": gateway}, now=at(18, 1, day=DAY + dt.timedelta(days=1)))
    assert gateway.texts_to(ANN_PHONE)[1:] == [OPT_IN_TEXT, PROMPT_TEXT.format(first_name="Ann")]


def test_help_names_the_practice_even_after_stop(session: Session) -> None:
    clinic = practice(session, "Prairie Pain Clinic")
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    session.commit()
    texted(session, clinic, ANN_PHONE, "STOP", at(12))
    assert texted(session, clinic, ANN_PHONE, "help", at(12, 1)) == Outcome.HELP
    assert queued(session, ann)[-1] == ("sms_help", HELP_TEXT.format(practice="Prairie Pain Clinic"))


def test_a_crisis_text_raises_an_urgent_alert_at_once_and_the_resources_go_out_at_night(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE)
    session.commit()
    night = at(23)
    reply = handle_reply(session, clinic, InboundSms(ANN_PHONE, "+15550006000", "8 and I want to die", "SM1"), night)
    session.commit()

    assert (reply.outcome, reply.urgent) == (Outcome.CRISIS, True)
    alert = session.scalars(select(Alert).where(Alert.patient_id == ann)).one()
    assert (alert.rule, alert.severity, alert.status.value, alert.id) == (
        "crisis",
        "urgent",
        "open",
        reply.alert_ids[0],
    )
    assert "want to die" in (alert.message or "")  # the text is kept with the alert, where the care team reads it
    assert queued(session, ann) == [("sms_crisis_resources", CRISIS_TEXT)]
    assert CRISIS_TEXT.startswith(CRISIS_RESOURCES)

    # A thank-you at the same hour waits; the crisis resources do not.
    texted(session, clinic, ANN_PHONE, "3", night)
    gateway = FakeGateway(auth_token="t")
    report = dispatch(session, clinic, {"sms": gateway}, now=night)
    assert gateway.texts_to(ANN_PHONE) == [CRISIS_TEXT] and len(report.deferred) == 1


def test_an_unknown_number_gets_nothing_and_reveals_nothing(session: Session) -> None:
    clinic, other = practice(session), practice(session, "Elsewhere")
    patient(session, other, "Eve", ANN_PHONE)  # the number is a patient's of another practice only
    session.commit()
    for body in ("7", "STOP", "help", "I want to die"):
        reply = handle_reply(session, clinic, InboundSms(ANN_PHONE, "+15550006000", body, None), at(12))
        assert (reply.outcome, reply.patient_id, reply.message_ids) == (Outcome.UNKNOWN_NUMBER, None, [])
    session.commit()
    assert session.scalars(select(OutboxMessage)).all() == []
    assert session.scalars(select(Observation)).all() == []
    assert session.scalars(select(Patient.sms_opted_out_at)).all() == [None]


def test_a_shared_phone_answers_for_the_patient_prompted_last(session: Session) -> None:
    clinic = practice(session)
    ann = patient(session, clinic, "Ann", ANN_PHONE, checkin_time="09:00")
    bo = patient(session, clinic, "Bo", ANN_PHONE, checkin_time="17:00")
    session.commit()
    assert texted(session, clinic, ANN_PHONE, "7", at(8, 30)) == Outcome.UNKNOWN_NUMBER  # nobody prompted yet
    prompt(session, clinic, at(9, 30))
    session.commit()
    texted(session, clinic, ANN_PHONE, "2", at(9, 45))
    prompt(session, clinic, at(17, 30))
    session.commit()
    texted(session, clinic, ANN_PHONE, "6", at(17, 45))
    assert [v for v, *_ in pain_readings(session, ann)] == [2]
    assert [v for v, *_ in pain_readings(session, bo)] == [6]


def test_a_rating_from_a_patient_not_asked_for_one_is_refused_kindly(session: Session) -> None:
    clinic = practice(session)
    di = patient(session, clinic, "Di", ANN_PHONE, program=Program.CPM)
    session.commit()
    assert texted(session, clinic, ANN_PHONE, "7", at(12)) == Outcome.NOT_ASKED
    assert queued(session, di) == [("sms_not_asked", NOT_ASKED_TEXT)] and pain_readings(session, di) == []


def test_remotecare_sms_prompt_queues_the_due_prompts(
    database_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clinic = practice(session)
    # Due whatever the hour the test runs at: a zone where it is now 12:00-13:00, a check-in time of 08:00.
    now = dt.datetime.now(dt.UTC)
    offset = (12 - now.hour + 12) % 24 - 12  # -12..11 hours from UTC
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    ann = patient(session, clinic, "Ann", ANN_PHONE, timezone=zone, checkin_time="08:00")
    session.commit()
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["sms", "prompt", "--practice", str(clinic)])
        again = CliRunner().invoke(cli_app, ["sms", "prompt", "--practice", str(clinic)])
        unknown = CliRunner().invoke(cli_app, ["sms", "prompt", "--practice", "999999"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 queued") and again.output.startswith("0 queued, 0 not yet due, 1 done today")
    assert unknown.exit_code == 2 and "no practice 999999" in unknown.output
    assert [reason for reason, _ in queued(session, ann)] == ["sms_checkin_prompt"]
    events = session.scalars(select(AuditEvent).where(AuditEvent.actor_label == "remotecare sms prompt")).all()
    assert len(events) == 2 and events[0].detail["patient_ids"] == [ann]
    assert session.scalars(select(OutboxMessage.status)).all() == [OutboxStatus.QUEUED]
