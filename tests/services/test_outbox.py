"""The reminder outbox on both databases: queueing (first name only, refusals naming the field), dispatch
(success, failure, a sender that raises, quiet hours) and `remotecare outbox send`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from remotecare.cli import app as cli_app
from remotecare.config import get_settings
from remotecare.notify.senders import OutgoingMessage, Sender, SendResult
from remotecare.services.outbox import (
    DEFAULT_TEMPLATE,
    OutboxError,
    check_template,
    dispatch,
    in_quiet_hours,
    queue_reminders,
)
from remotecare.store.models import OutboxMessage, OutboxStatus, Patient, Role, User
from remotecare.store.session import make_engine
from tests.services.test_outreach import MEDICARE_IDS, add, practice

CHICAGO, HONOLULU = "America/Chicago", "Pacific/Honolulu"
# 02:30 UTC on 2 June 2026 is 21:30 in Chicago (quiet) and 16:30 in Honolulu (not).
CHICAGO_NIGHT = dt.datetime(2026, 6, 2, 2, 30, tzinfo=dt.UTC)
NOON_UTC = dt.datetime(2026, 6, 2, 17, 0, tzinfo=dt.UTC)  # noon in Chicago, 07:00 in Honolulu (quiet)


# --- quiet hours: a pure function ------------------------------------------------------------------


def local(zone: str, day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "second", "quiet"),
    [
        (20, 59, 59, False),
        (21, 0, 0, True),
        (23, 59, 59, True),
        (0, 0, 0, True),
        (7, 59, 59, True),
        (8, 0, 0, False),
        (12, 0, 0, False),
    ],
)
def test_quiet_hours_run_from_21_00_to_08_00_in_the_patients_zone(
    hour: int, minute: int, second: int, quiet: bool
) -> None:
    assert in_quiet_hours(local(CHICAGO, dt.date(2026, 6, 1), dt.time(hour, minute, second)), CHICAGO) is quiet


def test_quiet_hours_follow_the_zone_and_its_clock_changes() -> None:
    assert in_quiet_hours(CHICAGO_NIGHT, CHICAGO) and not in_quiet_hours(CHICAGO_NIGHT, HONOLULU)
    # New York springs forward on 8 March 2026: 08:00 is 12:00 UTC that day, 13:00 UTC the day before.
    assert in_quiet_hours(dt.datetime(2026, 3, 8, 11, 59, 59, tzinfo=dt.UTC), "America/New_York")
    assert not in_quiet_hours(dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC), "America/New_York")
    assert in_quiet_hours(dt.datetime(2026, 3, 7, 12, 59, 59, tzinfo=dt.UTC), "America/New_York")
    with pytest.raises(ValueError, match="time zone"):
        in_quiet_hours(dt.datetime(2026, 6, 1, 12, 0), CHICAGO)


# --- templates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hi {last_name}", "may use only {first_name}, not {last_name}"),
        ("Hi {first_name.__class__}", "not {first_name.__class__}"),
        ("Hi {first_name!r}", "not {first_name!r}"),
        ("Hi {first_name:>40}", "not {first_name:>40}"),
        ("Hi {0}", "not {0}"),
        ("Hi {first_name", "not a valid template"),
        ("   ", "is empty"),
        ("x" * 481, "longer than 480"),
    ],
)
def test_a_template_may_use_only_the_first_name(template: str, message: str) -> None:
    with pytest.raises(OutboxError, match=message.replace("{", r"\{").replace("(", r"\(")) as raised:
        check_template(template)
    assert raised.value.field == "template"


def test_braces_can_be_written_doubled() -> None:
    assert check_template("Hi {first_name} {{not a field}}").format(first_name="Ann") == "Hi Ann {not a field}"


# --- the database ---------------------------------------------------------------------------------


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with Session(engine) as db:
        yield db
    engine.dispose()


def person(
    session: Session,
    practice_id: int,
    given_name: str,
    *,
    timezone: str = CHICAGO,
    phone: str | None = "+13125550100",
    email: str | None = "patient@example.test",
) -> int:
    return int(
        add(
            session,
            Patient(
                practice_id=practice_id,
                given_name=given_name,
                family_name="Privatesurname",
                birth_date=dt.date(1950, 1, 1),
                medicare_id=f"MBI{next(MEDICARE_IDS):08d}",
                timezone=timezone,
                conditions=["I10"],
                phone=phone,
                email=email,
            ),
        ).id
    )


class Recorder:
    """A sender that keeps what it is given; it fails or raises for the bodies it is told to."""

    def __init__(self, channel: str, *, name: str = "recorder", fail: str = "", raise_on: str = "") -> None:
        self.name, self.channel = name, channel
        self.fail, self.raise_on = fail, raise_on
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        if self.raise_on and self.raise_on in message.body:
            raise RuntimeError("connection reset")
        if self.fail and self.fail in message.body:
            return SendResult.failed("carrier refused: unreachable handset")
        self.sent.append(message)
        return SendResult.sent("ref-1")


def statuses(session: Session, ids: list[int]) -> list[tuple[str, int, str | None, str | None]]:
    session.expire_all()
    rows = {row.id: row for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))}
    return [(rows[i].status.value, rows[i].attempts, rows[i].sender, rows[i].error) for i in ids]


def test_reminders_name_the_patient_by_first_name_only_and_take_the_channels_address(session: Session) -> None:
    clinic = practice(session)
    ann, bo = person(session, clinic, "Mary Ann"), person(session, clinic, "Bo", phone=None)
    nurse = add(
        session,
        User(practice_id=clinic, email="n@example.test", full_name="N", role=Role.CLINICAL_STAFF, password_hash="x"),
    ).id
    texts = queue_reminders(
        session, clinic, [ann, bo], "sms", "Hi {first_name}, please take a reading.", nurse, "quiet"
    )
    emails = queue_reminders(session, clinic, [ann], "email", None, None, "at_risk")
    files = queue_reminders(session, clinic, [bo], "file", None, None, "quiet")
    session.commit()

    assert [(m.body, m.recipient) for m in texts] == [
        ("Hi Mary, please take a reading.", "+13125550100"),
        ("Hi Bo, please take a reading.", None),  # no phone: it fails when sent
    ]
    assert all("Privatesurname" not in m.body and "Ann" not in m.body for m in [*texts, *emails, *files])
    assert (emails[0].body, emails[0].recipient) == (DEFAULT_TEMPLATE.format(first_name="Mary"), "patient@example.test")
    assert (files[0].recipient, files[0].channel, files[0].reason) == (None, "file", "quiet")
    assert {(m.status, m.attempts, m.created_by) for m in texts} == {(OutboxStatus.QUEUED, 0, nurse)}


def test_a_patient_of_another_practice_or_a_repeat_is_refused_naming_the_field(session: Session) -> None:
    clinic, other = practice(session), practice(session, "Elsewhere")
    mine, theirs = person(session, clinic, "Ann"), person(session, other, "Eve")
    session.commit()

    with pytest.raises(OutboxError) as refused:
        queue_reminders(session, clinic, [mine, theirs], "sms", None, None, "quiet")
    assert (refused.value.field, refused.value.code) == ("patient_ids[1]", "unknown_reference")
    assert str(refused.value) == f"patient_ids[1]: no patient {theirs} in this practice"
    with pytest.raises(OutboxError) as repeated:
        queue_reminders(session, clinic, [mine, mine], "sms", None, None, "quiet")
    assert repeated.value.field == "patient_ids[1]"
    for channel, reason, field in (("fax", "quiet", "channel"), ("sms", "x" * 41, "reason"), ("sms", " ", "reason")):
        with pytest.raises(OutboxError) as bad:
            queue_reminders(session, clinic, [mine], channel, None, None, reason)
        assert bad.value.field == field
    session.commit()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_dispatch_sends_the_oldest_first_and_records_who_sent_it(session: Session) -> None:
    clinic = practice(session)
    ann = person(session, clinic, "Ann")
    late, early, middle = (
        queue_reminders(session, clinic, [ann], "file", f"Hi {{first_name}} {label}", None, "quiet")[0]
        for label in ("late", "early", "middle")
    )
    early.created_at = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    middle.created_at = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    late.created_at = dt.datetime(2026, 6, 1, 11, tzinfo=dt.UTC)
    session.commit()
    sender = Recorder("file", name="file")

    report = dispatch(session, clinic, {"file": sender}, limit=2, now=NOON_UTC)

    assert [m.body for m in sender.sent] == ["Hi Ann early", "Hi Ann middle"]
    assert (report.sent, report.failed, report.deferred) == ([early.id, middle.id], [], [])
    assert statuses(session, [early.id, middle.id, late.id]) == [
        ("sent", 1, "file", None),
        ("sent", 1, "file", None),
        ("queued", 0, None, None),
    ]
    session.refresh(early)
    assert early.sent_at == NOON_UTC
    again = dispatch(session, clinic, {"file": sender}, now=NOON_UTC)
    assert (again.sent, [m.body for m in sender.sent][-1]) == ([late.id], "Hi Ann late")
    assert dispatch(session, clinic, {"file": sender}, now=NOON_UTC).sent == []  # nothing is sent twice


def test_a_failure_or_a_sender_that_raises_fails_that_message_only(session: Session) -> None:
    clinic = practice(session)
    ann, bo, cy = (
        person(session, clinic, "Ann"),
        person(session, clinic, "Bo", phone=None),
        person(session, clinic, "Cy"),
    )
    dee = person(session, clinic, "Dee")
    messages = queue_reminders(session, clinic, [ann, bo, cy, dee], "sms", "Hi {first_name}", None, "at_risk")
    session.commit()
    ids = [m.id for m in messages]
    sender = Recorder("sms", name="sms", raise_on="Ann", fail="Cy")

    report = dispatch(session, clinic, {"sms": sender}, now=NOON_UTC)

    assert (sorted(report.failed), report.sent) == (sorted(ids[:3]), [ids[3]])
    assert statuses(session, ids) == [
        ("failed", 1, "sms", "RuntimeError: connection reset"),
        ("failed", 1, "sms", "recipient: the patient has no phone number"),
        ("failed", 1, "sms", "carrier refused: unreachable handset"),
        ("sent", 1, "sms", None),
    ]
    assert [m.body for m in sender.sent] == ["Hi Dee"]  # Bo's was never handed to the sender
    assert dispatch(session, clinic, {"sms": sender}, now=NOON_UTC).failed == []  # failures are not retried


def test_texts_wait_out_the_patients_quiet_hours_and_other_channels_do_not(session: Session) -> None:
    clinic, other = practice(session), practice(session, "Elsewhere")
    chicago, honolulu = person(session, clinic, "Ann"), person(session, clinic, "Kai", timezone=HONOLULU)
    text_chicago, text_honolulu = queue_reminders(session, clinic, [chicago, honolulu], "sms", None, None, "quiet")
    (file_chicago,) = queue_reminders(session, clinic, [chicago], "file", None, None, "quiet")
    (email_chicago,) = queue_reminders(session, clinic, [chicago], "email", None, None, "quiet")
    (theirs,) = queue_reminders(session, other, [person(session, other, "Eve")], "file", None, None, "quiet")
    session.commit()
    senders: dict[str, Sender] = {"sms": Recorder("sms", name="sms"), "file": Recorder("file", name="file")}

    night = dispatch(session, clinic, senders, limit=1, now=CHICAGO_NIGHT)  # 21:30 in Chicago, 16:30 in Honolulu

    # Chicago's text waits and does not use up the limit of one; Honolulu's goes.
    assert (night.deferred, night.sent, night.without_sender) == ([text_chicago.id], [text_honolulu.id], {"email": 1})
    morning = dispatch(session, clinic, senders, now=NOON_UTC)
    assert (morning.sent, morning.deferred) == ([text_chicago.id, file_chicago.id], [])
    assert statuses(session, [email_chicago.id, theirs.id]) == [("queued", 0, None, None)] * 2


def test_a_text_to_a_patient_with_an_unknown_zone_fails_rather_than_risking_the_night(session: Session) -> None:
    clinic = practice(session)
    lost = person(session, clinic, "Ann", timezone="Mars/Olympus_Mons")
    (message,) = queue_reminders(session, clinic, [lost], "sms", None, None, "quiet")
    session.commit()
    report = dispatch(session, clinic, {"sms": Recorder("sms")}, now=NOON_UTC)
    assert report.failed == [message.id]
    assert statuses(session, [message.id]) == [
        ("failed", 1, None, "timezone: unknown time zone 'Mars/Olympus_Mons' of the patient")
    ]


def test_remotecare_outbox_send_writes_file_messages_and_prints_console_ones(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    with Session(engine) as db:
        clinic = practice(db)
        ann = person(db, clinic, "Ann")
        file_id = queue_reminders(db, clinic, [ann], "file", "File for {first_name}", None, "quiet")[0].id
        queue_reminders(db, clinic, [ann], "console", "Console for {first_name}", None, "quiet")
        queue_reminders(db, clinic, [ann], "sms", None, None, "quiet")
        db.commit()
    engine.dispose()
    outbox = tmp_path / "out" / "outbox.jsonl"
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["outbox", "send", "--practice", str(clinic), "--file", str(outbox)])
        unknown = CliRunner().invoke(cli_app, ["outbox", "send", "--practice", "999999"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "Console for Ann" in result.output
    assert "2 sent, 0 failed, 0 deferred" in result.output
    assert "1 sms message(s) left queued: no sms sender set up" in result.output
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert [(line["id"], line["channel"], line["body"]) for line in lines] == [(file_id, "file", "File for Ann")]
    assert unknown.exit_code == 2 and "--practice: no practice 999999" in unknown.output
