"""Patient check-ins on both databases: what is asked, how answers are stored, crisis alerts, links,
trends, reminders, and whether check-in days count for RTM billing (the practice's explicit setting)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.domain.programs import Program, RtmFocus
from remotecare.services import checkin_links, checkin_reminders, checkin_trends
from remotecare.services.billing_run import run_billing
from remotecare.services.checkins import (
    FOLLOW_UP_WINDOW,
    CheckinError,
    check_settings,
    follow_ups,
    questions_for,
    record_checkin,
    sync_device_setting,
)
from remotecare.store.models import (
    Alert,
    CheckinLink,
    ClaimLine,
    Consent,
    Device,
    DeviceAssignment,
    Enrollment,
    Observation,
    OutboxMessage,
    Patient,
    Practice,
)
from remotecare.store.session import make_engine

START = dt.date(2026, 3, 1)
NOON = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)  # noon in Chicago
MBI = itertools.count(1)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def clinic(session: Session, **settings: Any) -> Practice:
    return add(session, Practice(name="Check-in Clinic", checkin_settings=settings))  # type: ignore[no-any-return]


def patient(
    session: Session,
    practice: Practice,
    *programs: Program,
    medications: list[str] | None = None,
    checkin_time: str | None = None,
    phone: str | None = "+13125550100",
) -> Patient:
    row = add(
        session,
        Patient(
            practice_id=practice.id,
            given_name="Ann Marie",
            family_name="Synthetic",
            birth_date=dt.date(1950, 1, 1),
            medicare_id=f"1EG4TE5{next(MBI):04d}",
            timezone="America/Chicago",
            medications=medications or [],
            checkin_time=checkin_time,
            phone=phone,
        ),
    )
    for program in programs:
        focus = RtmFocus.MUSCULOSKELETAL if program is Program.RTM else None
        add(
            session,
            Consent(practice_id=practice.id, patient_id=row.id, program=program, obtained_on=START, method="verbal"),
        )
        add(
            session,
            Enrollment(practice_id=practice.id, patient_id=row.id, program=program, start_date=START, focus=focus),
        )
    return row  # type: ignore[no-any-return]


def keys(sets: list[Any]) -> list[str]:
    return [question.key for question_set in sets for question in question_set.questions]


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- what is asked ---------------------------------------------------------------------------------


def test_rtm_asks_pain_function_each_medication_and_exercises(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM, medications=["Metformin 500 mg", "Lisinopril"])
    sets = questions_for(session, practice.id, person.id, today=dt.date(2026, 3, 10))
    assert [s.group for s in sets] == ["pain", "function", "medications", "exercises"]
    assert keys(sets)[-3:] == ["medications.metformin_500_mg", "medications.lisinopril", "exercises.done"]
    assert {q.kind for s in sets for q in s.questions} == {"scale_0_10", "yes_no"}


def test_cpm_asks_peg_medications_and_both_screens_and_the_practice_can_change_it(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.CPM)
    today = dt.date(2026, 3, 10)
    assert [s.group for s in questions_for(session, practice.id, person.id, today=today)] == ["peg", "phq2", "gad2"]
    practice.checkin_settings = check_settings({"programs": {"CPM": ["pain", "gad2"]}})
    assert [s.group for s in questions_for(session, practice.id, person.id, today=today)] == ["pain", "gad2"]


def test_nothing_is_asked_before_enrollment(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    assert questions_for(session, practice.id, person.id, today=START - dt.timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"rtm_device_qualifies": "yes"}, "checkin_settings.rtm_device_qualifies"),
        ({"programs": {"XYZ": []}}, "checkin_settings.programs.XYZ"),
        ({"programs": {"RTM": ["pain", "mood"]}}, "checkin_settings.programs.RTM[1]"),
        ({"colour": 1}, "checkin_settings.colour"),
    ],
)
def test_bad_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(CheckinError) as raised:
        check_settings(settings)
    assert raised.value.field == field


def test_positive_screens_call_for_the_rest_of_the_full_questionnaires() -> None:
    sets = follow_ups({"phq2.item1": 2, "phq2.item2": 1, "gad2.item1": 1, "gad2.item2": 1})
    assert [s.group for s in sets] == ["phq9"]
    assert keys(sets) == [f"phq9.item{n}" for n in range(3, 10)]
    assert [s.group for s in follow_ups({"gad2.item1": 3, "gad2.item2": 0})] == ["gad7"]
    assert follow_ups({"phq2.item1": 3}) == []  # not fully answered


# --- recording -------------------------------------------------------------------------------------


def test_answers_are_stored_on_the_checkin_app_with_the_patient_as_performer(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM, medications=["Metformin"])
    answers = {"pain.nrs": 6, "function.activity": 4, "function.walking": 5, "function.sleep": 6}
    answers |= {"medications.metformin": True, "exercises.done": False}
    result = record_checkin(session, practice.id, person.id, answers, channel="web", now=NOON)
    rows = session.scalars(select(Observation).order_by(Observation.id)).all()
    assert [r.type for r in rows] == ["pain_score", "function", "medication_adherence", "therapy_adherence"]
    assert result.observation_ids == [r.id for r in rows]
    device = session.get(Device, rows[0].device_id)
    assert device is not None and device.kind == "checkin_app" and device.medical_device is False
    assert {r.device_id for r in rows} == {device.id}
    assert rows[0].values == {"nrs": 6} and rows[1].values["score"] == 5.0
    assert rows[2].values == {"taken": True, "medication": "Metformin"}
    assert rows[0].provenance["performer"] == {"type": "patient", "id": person.id}
    assert rows[0].provenance["channel"] == "web" and rows[0].provenance["rtm_device_qualifies"] is False
    assert all(r.manual for r in rows) and rows[0].source == "checkin_web"
    assert rows[0].local_date == dt.date(2026, 3, 10)
    assignment = session.scalars(select(DeviceAssignment)).one()
    assert (assignment.program, assignment.device_id, assignment.patient_id) == (Program.RTM, device.id, person.id)
    assert result.crisis is False and result.scores["pain"] == {"score": 6.0}


def test_a_resubmitted_form_is_stored_once(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    first = record_checkin(session, practice.id, person.id, {"pain.nrs": 3}, channel="web", now=NOON)
    again = record_checkin(
        session, practice.id, person.id, {"pain.nrs": 3}, channel="sms", now=NOON + dt.timedelta(minutes=2)
    )
    assert first.observation_ids == again.observation_ids and count(session, Observation) == 1
    assert count(session, Device) == 1 and count(session, DeviceAssignment) == 1


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"pain.nrs": 6, "exercises.done": "yes"}, "exercises.done"),
        ({"pain.nrs": 11}, "pain.nrs"),
        ({"pain.nrs": True}, "pain.nrs"),
        ({"function.activity": 2}, "function.walking"),
        ({"pain.nrs": 2, "phq9.item9": 1}, "phq9.item1"),
        ({"pain.nrs": 2, "peg.pain": 3}, "peg.pain"),  # not asked of an RTM patient
        ({}, "answers"),
    ],
)
def test_a_bad_answer_names_the_question_and_stores_nothing(
    session: Session, answers: dict[str, Any], field: str
) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    with pytest.raises(CheckinError) as raised:
        record_checkin(session, practice.id, person.id, answers, channel="web", now=NOON)
    assert raised.value.field == field
    assert count(session, Observation) == 0 and count(session, Alert) == 0 and count(session, Device) == 0


def test_a_positive_phq2_then_the_phq9_scores_with_the_screens_items(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.CPM)
    screen = record_checkin(
        session, practice.id, person.id, {"phq2.item1": 2, "phq2.item2": 2}, channel="web", now=NOON
    )
    assert screen.scores["phq2"]["positive"] and [s.group for s in screen.follow_ups] == ["phq9"]
    rest = {f"phq9.item{n}": 1 for n in range(3, 9)} | {"phq9.item9": 0}
    full = record_checkin(session, practice.id, person.id, rest, channel="web", now=NOON + dt.timedelta(minutes=1))
    assert full.scores["phq9"] == {"total": 10, "severity": "moderate", "positive": True, "safety_flag": False}
    assert full.crisis is False and full.alert_ids == []


def test_a_phq9_answered_after_midnight_still_scores_with_the_screen_of_the_evening_before(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.CPM)
    evening = dt.datetime(2026, 3, 11, 4, 55, tzinfo=dt.UTC)  # 23:55 on the 10th in Chicago (CDT)
    record_checkin(session, practice.id, person.id, {"phq2.item1": 3, "phq2.item2": 1}, channel="web", now=evening)
    rest = {f"phq9.item{n}": 1 for n in range(3, 9)} | {"phq9.item9": 0}
    after_midnight = evening + dt.timedelta(minutes=10)  # 00:05 on the 11th
    full = record_checkin(session, practice.id, person.id, rest, channel="web", now=after_midnight)
    assert full.scores["phq9"]["total"] == 3 + 1 + 6

    # A screen from longer ago than the window, on another day, does not complete a follow-up.
    later = after_midnight + FOLLOW_UP_WINDOW + dt.timedelta(minutes=20)
    with pytest.raises(CheckinError) as raised:
        record_checkin(session, practice.id, person.id, rest, channel="web", now=later)
    assert raised.value.field.startswith("phq9.item")


def test_phq9_item9_above_zero_raises_an_urgent_alert_at_once(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.CPM)
    answers = {f"phq9.item{n}": 0 for n in range(1, 9)} | {"phq9.item9": 1}
    result = record_checkin(session, practice.id, person.id, answers, channel="web", now=NOON)
    alert = session.get(Alert, result.alert_ids[0])
    assert result.crisis and alert is not None
    assert (alert.rule, alert.severity, alert.patient_id, alert.observation_id) == (
        "crisis",
        "urgent",
        person.id,
        result.observation_ids[0],
    )
    again = record_checkin(session, practice.id, person.id, answers, channel="web", now=NOON)
    assert again.crisis and again.alert_ids == result.alert_ids and count(session, Alert) == 1


def test_crisis_words_in_free_text_raise_an_urgent_alert_without_answers(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    result = record_checkin(
        session, practice.id, person.id, {}, channel="sms", now=NOON, free_text="i want to END my life"
    )
    assert result.crisis and result.observation_ids == []
    alert = session.get(Alert, result.alert_ids[0])
    assert alert is not None and (alert.rule, alert.severity) == ("crisis", "urgent")
    calm = record_checkin(session, practice.id, person.id, {"pain.nrs": 2}, channel="sms", now=NOON, free_text="  ")
    assert not calm.crisis and calm.alert_ids == []


def test_what_the_patient_writes_reaches_the_care_team_once_as_a_low_alert(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    note = "Please call me, the new dose makes me dizzy"
    first = record_checkin(session, practice.id, person.id, {"pain.nrs": 2}, channel="web", now=NOON, free_text=note)
    again = record_checkin(session, practice.id, person.id, {}, channel="web", now=NOON, free_text=note)
    assert not first.crisis and len(first.alert_ids) == 1 and again.alert_ids == first.alert_ids
    alert = session.get(Alert, first.alert_ids[0])
    assert alert is not None and (alert.rule, alert.severity) == ("patient_message", "low")
    assert alert.message is not None and note in alert.message


def test_the_pain_alert_rules_judge_checkin_pain(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    for day in range(7):
        record_checkin(
            session, practice.id, person.id, {"pain.nrs": 2}, channel="web", now=NOON - dt.timedelta(days=7 - day)
        )
    result = record_checkin(session, practice.id, person.id, {"pain.nrs": 9}, channel="web", now=NOON)
    rules = {session.get(Alert, alert_id).rule for alert_id in result.alert_ids}  # type: ignore[union-attr]
    assert "pain_rising" in rules and not result.crisis


# --- links -----------------------------------------------------------------------------------------


def test_a_link_resolves_until_it_expires_and_only_its_hash_is_kept(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    link, token = checkin_links.issue_link(session, practice.id, person.id, None, ttl=dt.timedelta(days=7), now=NOON)
    assert len(token) >= 43 and token not in link.token_hash and link.token_hash == checkin_links.hash_token(token)
    last_moment = NOON + dt.timedelta(days=7) - dt.timedelta(microseconds=1)
    resolved = checkin_links.resolve_link(session, token, now=last_moment)
    assert resolved is not None and resolved.id == link.id and resolved.last_used_at == last_moment
    assert checkin_links.resolve_link(session, token, now=NOON + dt.timedelta(days=7)) is None
    assert checkin_links.resolve_link(session, token + "x", now=NOON) is None
    assert checkin_links.resolve_link(session, "", now=NOON) is None


def test_a_revoked_link_resolves_to_nothing(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    link, token = checkin_links.issue_link(session, practice.id, person.id, None, now=NOON)
    checkin_links.revoke_link(session, link, None, now=NOON + dt.timedelta(minutes=1))
    checkin_links.revoke_link(session, link, None, now=NOON + dt.timedelta(minutes=5))
    assert link.revoked_at == NOON + dt.timedelta(minutes=1)
    assert checkin_links.resolve_link(session, token, now=NOON + dt.timedelta(minutes=2)) is None
    assert count(session, CheckinLink) == 1


def test_a_link_for_another_practices_patient_is_refused(session: Session) -> None:
    mine, other = clinic(session), clinic(session)
    theirs = patient(session, other, Program.RTM)
    with pytest.raises(checkin_links.LinkError):
        checkin_links.issue_link(session, mine.id, theirs.id, None, now=NOON)


# --- trends ----------------------------------------------------------------------------------------


def test_trends_mark_meaningful_pain_and_mood_changes_and_weekly_adherence(session: Session) -> None:
    practice = clinic(session, programs={"RTM": ["pain", "medications", "phq2"]})
    person = patient(session, practice, Program.RTM, medications=["Metformin"])
    for offset, pain, taken in [(9, 6, True), (8, 6, False), (2, 4, True)]:
        answers = {"pain.nrs": pain, "medications.metformin": taken}
        record_checkin(session, practice.id, person.id, answers, channel="web", now=NOON - dt.timedelta(days=offset))
    for offset, items in [(9, 0), (1, 1)]:
        full = {f"phq9.item{n}": items for n in range(1, 9)} | {"phq9.item9": 0}
        record_checkin(session, practice.id, person.id, full, channel="web", now=NOON - dt.timedelta(days=offset))
    found = checkin_trends.trends(session, practice.id, person.id, today=dt.date(2026, 3, 10), days=14)
    pain_points = found.pain["pain_score"]
    assert [(p.value, p.meaningful) for p in pain_points] == [
        (6.0, False),
        (6.0, False),
        (4.0, True),
    ]  # 4 against the week before (6, 6): 2 points
    phq9 = found.mood["phq9"]
    assert [(p.value, p.change, p.meaningful) for p in phq9] == [(0.0, None, False), (8.0, 8.0, True)]
    weeks = [(w.medications_taken, w.medications_asked, w.medication_rate) for w in found.adherence]
    assert weeks == [(1, 2, 0.5), (1, 1, 1.0)]
    assert found.rtm_device_qualifies is False and "not qualified" in found.note
    assert all(period.counted_days == 0 for period in found.periods)
    assert sum(period.checkin_days for period in found.periods) == 4


def test_a_2_point_pain_change_from_the_week_before_is_meaningful(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    for offset, pain in [(3, 5), (2, 5), (1, 3)]:
        record_checkin(
            session, practice.id, person.id, {"pain.nrs": pain}, channel="web", now=NOON - dt.timedelta(days=offset)
        )
    points = checkin_trends.trends(session, practice.id, person.id, today=dt.date(2026, 3, 10)).pain["pain_score"]
    assert [(p.baseline, p.change, p.meaningful) for p in points][-1] == (5.0, -2.0, True)


# --- billing: the practice decides --------------------------------------------------------------


@pytest.mark.parametrize("qualifies", [False, True])
def test_the_practice_setting_decides_whether_checkin_days_count_for_rtm(session: Session, qualifies: bool) -> None:
    practice = clinic(session, rtm_device_qualifies=qualifies)
    person = patient(session, practice, Program.RTM)
    for day in range(16):
        at = dt.datetime(2026, 3, 1, 18, tzinfo=dt.UTC) + dt.timedelta(days=day)
        record_checkin(session, practice.id, person.id, {"pain.nrs": 3}, channel="web", now=at)
    found = checkin_trends.trends(session, practice.id, person.id, today=dt.date(2026, 3, 30), days=30)
    assert found.rtm_device_qualifies is qualifies
    run_billing(session, practice.id, Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
    lines = {line.code: line for line in session.scalars(select(ClaimLine))}
    if not qualifies:
        assert "98977" not in lines and "98976" not in lines
        assert [p.counted_days for p in found.periods] == [0]
        return
    assert found.periods[0].counted_days == 16 and found.periods[0].checkin_days == 16
    supply = lines["98977"]
    assert supply.evidence["days_with_data"] == 16
    assert supply.evidence["checkin_app"]["rtm_device_qualifies"] is True
    assert all(name.startswith(f"checkin-app-{person.id}#") for name in supply.evidence["devices"])


def test_changing_the_setting_brings_existing_checkin_devices_in_step(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM)
    record_checkin(session, practice.id, person.id, {"pain.nrs": 3}, channel="web", now=NOON)
    practice.checkin_settings = {"rtm_device_qualifies": True}
    assert sync_device_setting(session, practice) == 1
    assert session.scalars(select(Device.medical_device)).one() is True


# --- reminders and quiet patients --------------------------------------------------------------


def test_one_reminder_a_day_after_the_usual_time_passes_unanswered(session: Session) -> None:
    practice = clinic(session)
    late = patient(session, practice, Program.RTM, checkin_time="09:00")
    done = patient(session, practice, Program.RTM, checkin_time="09:00")
    later = patient(session, practice, Program.RTM, checkin_time="15:00")
    record_checkin(session, practice.id, done.id, {"pain.nrs": 1}, channel="web", now=NOON - dt.timedelta(hours=2))
    report = checkin_reminders.queue_reminders(session, practice.id, NOON)
    assert len(report.queued) == 1 and report.checked_in == [done.id] and report.not_yet_due == [later.id]
    message = session.get(OutboxMessage, report.queued[0])
    assert message is not None and message.patient_id == late.id and message.channel == "sms"
    assert message.body.startswith("Hi Ann,") and "Synthetic" not in message.body
    again = checkin_reminders.queue_reminders(session, practice.id, NOON + dt.timedelta(hours=1))
    assert again.queued == [] and late.id in again.already_reminded
    tomorrow = checkin_reminders.queue_reminders(session, practice.id, NOON + dt.timedelta(days=1))
    assert {session.get(OutboxMessage, i).patient_id for i in tomorrow.queued} == {late.id, done.id}  # type: ignore[union-attr]


def test_an_opted_out_patient_is_reminded_by_email_or_not_at_all(session: Session) -> None:
    practice = clinic(session)
    person = patient(session, practice, Program.RTM, checkin_time="09:00")
    person.sms_opted_out_at = NOON - dt.timedelta(days=1)
    report = checkin_reminders.queue_reminders(session, practice.id, NOON)
    assert report.queued == [] and report.unreachable == [person.id]
    person.email = "ann@example.test"
    report = checkin_reminders.queue_reminders(session, practice.id, NOON)
    assert session.get(OutboxMessage, report.queued[0]).channel == "email"  # type: ignore[union-attr]


def test_quiet_patients_are_listed_longest_quiet_first(session: Session) -> None:
    practice = clinic(session)
    never = patient(session, practice, Program.RTM)
    quiet = patient(session, practice, Program.RTM)
    recent = patient(session, practice, Program.RTM)
    patient(session, practice, Program.RPM)  # no check-ins asked
    record_checkin(session, practice.id, quiet.id, {"pain.nrs": 1}, channel="web", now=NOON - dt.timedelta(days=3))
    record_checkin(session, practice.id, recent.id, {"pain.nrs": 1}, channel="web", now=NOON - dt.timedelta(days=2))
    found = checkin_reminders.quiet_patients(session, practice.id, dt.date(2026, 3, 10), days=3)
    assert [(q.patient_id, q.days_quiet) for q in found] == [(never.id, None), (quiet.id, 3)]
