"""The daily pain check-in by text: the prompt, and what each reply does.

`prompt(session, practice_id, now)` queues, through the outbox, one prompt a
day ("reply with your pain today, 0-10") to each patient who has a phone, has
not replied STOP and is enrolled in RTM or CPM on their local day, once their
usual check-in time (`Patient.checkin_time`, default 18:00) has passed in their
own zone, unless they had it, or the check-in reminder (`services.checkin_reminders`), or recorded
their pain that day. It queues nothing in the patient's quiet hours (21:00-08:00): a
usual time inside them is moved to their edge (before 08:00 -> 08:00; 21:00 or
later -> 20:30), so every patient is prompted once a day. A prompt queued just
before 21:00 and dispatched after waits in the outbox until 08:00.

`handle_reply(session, practice_id, inbound, now)` answers a patient's text:

- a pain rating 0-10 ("7", "pain 7/10", "seven") -> `record_checkin(... {"pain.nrs": n}, channel="sms")`
  and a thank-you; a patient whose check-in has no 0-10 pain question (`questions_for`: RTM asks it by
  default, CPM asks the PEG instead) is told to use their check-in link, and is never prompted;
- STOP (STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) -> `Patient.sms_opted_out_at` is set and one confirmation
  goes out; while it is set no other text is sent (prompts skip the patient, and the outbox fails any text
  still queued for them); a rating sent meanwhile is still recorded, without a reply;
- START / UNSTOP -> opted back in, with a confirmation; HELP / INFO -> the help text (even after STOP);
- a crisis phrase (`domain.questionnaires.crisis_text`, tested before anything else) -> the text is
  recorded as the check-in's free text, which raises the urgent alert to the care team in the same
  transaction, and the crisis resources are queued as an urgent reply that the outbox sends even in quiet
  hours and even after STOP (the API sends it at once);
- words that are none of these ("I feel dizzy") -> passed to the care team as the check-in's free text,
  which opens a low-priority "patient_message" alert holding the text (also while opted out), and a reply
  saying the care team will read it (not while opted out);
- a number outside 0-10, or anything else without a letter -> "Sorry, I didn't understand ..." (not while
  opted out).

Who is texting: the patient of the practice whose phone is the sender's number. When several patients share
the number, the reply belongs to the one prompted last at that number; when none was, or no patient has the
number, nothing is recorded and nothing is sent: an unknown number learns nothing, not even that it is
unknown (the outbox holds texts to patients only, and a reply would confirm the practice texts that number).

What is kept of the text: the body is health information. It is stored only where it belongs: a rating as
the check-in's values, a crisis text or a message as the check-in's free text (and the alert it raises).
Other bodies (keywords, unreadable texts) are not stored; the audit trail (written by the caller) records the outcome
and the ids, never the body.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from remotecare.domain.pain_scales import PainScale
from remotecare.domain.programs import Program
from remotecare.domain.questionnaires import CRISIS_RESOURCES, crisis_text
from remotecare.domain.sms_replies import ReplyKind, parse_reply
from remotecare.notify.sms_inbound import InboundSms
from remotecare.services.checkins import CheckinError, questions_for, record_checkin
from remotecare.services.outbox import (
    CRISIS_REASON,
    HELP_REASON,
    OPT_OUT_REASON,
    QUIET_FROM,
    QUIET_UNTIL,
    first_name,
)
from remotecare.store.models import (
    AuditEvent,
    Enrollment,
    Observation,
    OutboxMessage,
    OutboxStatus,
    Patient,
    Practice,
)

PAIN_KEY = "pain.nrs"  # the check-in's 0-10 pain question (services.checkins)
PROMPT_PROGRAMS = (Program.RTM, Program.CPM)
DEFAULT_CHECKIN_TIME = dt.time(18, 0)
LATEST_PROMPT = dt.time(20, 30)  # a usual time in the evening's quiet hours is moved here

PROMPT_REASON = "sms_checkin_prompt"
THANKS_REASON = "sms_checkin_thanks"
UNPARSED_REASON = "sms_unparsed"
MESSAGE_REASON = "sms_message_forwarded"
NOT_ASKED_REASON = "sms_not_asked"
OPT_IN_REASON = "sms_opt_in"
REMINDER_REASON = "checkin_reminder"  # services.checkin_reminders' reminder: it counts as the day's prompt

PROMPT_TEXT = "Hi {first_name}, reply with your pain today from 0 (none) to 10 (worst). Reply STOP to stop these texts."
THANKS_TEXT = "Thank you! We recorded your pain today as {pain} out of 10."
UNPARSED_TEXT = "Sorry, I didn't understand. Reply with a number from 0 to 10 for your pain today, or STOP to stop."
MESSAGE_TEXT = (
    "Thank you, your care team will read your message. To rate your pain today, reply with a number from "
    "0 to 10. For an emergency, call 911."
)
OPT_OUT_TEXT = "You will get no more texts from your care team. Reply START to get them again."
OPT_IN_TEXT = "You will get your daily check-in texts again. Reply STOP to stop."
HELP_TEXT = (
    "{practice}: a daily pain check-in. Reply with a number from 0 (none) to 10 (worst). "
    "Reply STOP to stop these texts. For an emergency, call 911."
)
NOT_ASKED_TEXT = "Thank you. Your check-in does not take a pain rating by text; please use your check-in link."
CRISIS_TEXT = CRISIS_RESOURCES + " Your care team has been alerted."


class Outcome:
    PAIN = "pain"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CRISIS = "crisis"
    UNPARSED = "unparsed"
    MESSAGE = "message"  # words for the care team, passed on as an alert
    OUT_OF_RANGE = "out_of_range"
    NOT_ASKED = "not_asked"  # a rating from a patient whose check-in has no 0-10 pain question
    UNKNOWN_NUMBER = "unknown_number"


@dataclass
class Reply:
    """What a text did: its outcome, whose it was, and the records it made (none for an unknown number)."""

    outcome: str
    patient_id: int | None = None
    message_ids: list[int] = field(default_factory=list)  # the replies queued in the outbox
    urgent: bool = False  # a crisis: send `message_ids` at once, whatever the hour
    observation_ids: list[int] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)
    opted_out: bool = False  # the patient is opted out (after this text)

    def audit_detail(self) -> dict[str, Any]:
        """For the audit trail: the outcome and the ids, never the text."""
        return {
            "outcome": self.outcome,
            "patient_id": self.patient_id,
            "outbox_message_ids": self.message_ids,
            "observation_ids": self.observation_ids,
            "alert_ids": self.alert_ids,
        }


@dataclass
class PromptReport:
    queued: list[int] = field(default_factory=list)  # outbox message ids
    patient_ids: list[int] = field(default_factory=list)
    not_yet: int = 0  # before their usual time today
    already: int = 0  # prompted today already, or their pain is recorded today
    not_asked: int = 0  # their check-in has no 0-10 pain question (e.g. CPM asks the PEG by default)
    quiet: int = 0  # in their quiet hours


# --- prompts --------------------------------------------------------------------------------------------------


def prompt_time(checkin_time: str | None) -> dt.time:
    """When the patient's prompt is due: their usual time ("HH:MM"), or 18:00, moved out of quiet hours."""
    due = DEFAULT_CHECKIN_TIME
    if checkin_time:
        try:
            due = dt.time.fromisoformat(checkin_time)
        except ValueError:
            due = DEFAULT_CHECKIN_TIME
    if due < QUIET_UNTIL:
        return QUIET_UNTIL
    if due >= QUIET_FROM:
        return LATEST_PROMPT
    return due


def prompt(session: Session, practice_id: int, now: dt.datetime) -> PromptReport:
    """Queue today's check-in prompts that are due at `now` (see the module's note); flushed, not committed."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    report = PromptReport()
    utc_day = now.astimezone(dt.UTC).date()
    rows = session.execute(
        select(Patient.id, Patient.given_name, Patient.phone, Patient.timezone, Patient.checkin_time)
        .join(Enrollment, Enrollment.patient_id == Patient.id)
        .where(
            Patient.practice_id == practice_id,
            Enrollment.practice_id == practice_id,
            Patient.phone.is_not(None),
            Patient.phone != "",
            Patient.sms_opted_out_at.is_(None),
            Enrollment.program.in_(PROMPT_PROGRAMS),
            # Widened by a day each way: the local day is checked below, patient by patient.
            Enrollment.start_date <= utc_day + dt.timedelta(days=1),
            or_(Enrollment.end_date.is_(None), Enrollment.end_date >= utc_day - dt.timedelta(days=1)),
        )
        .add_columns(Enrollment.start_date, Enrollment.end_date)
        .order_by(Patient.id)
    ).all()
    # patient -> (given name, phone, the local day's start and end in UTC)
    due: dict[int, tuple[str, str, dt.datetime, dt.datetime]] = {}
    days: dict[int, dt.date] = {}
    for patient_id, given, phone, zone, checkin_time, start, end in rows:
        if patient_id in due:
            continue
        try:
            local = now.astimezone(ZoneInfo(zone))
        except (ValueError, LookupError):
            continue  # an unknown zone: never text at an hour we cannot tell
        day = local.date()
        if not (start <= day and (end is None or day <= end)):
            continue
        if local.time() >= QUIET_FROM or local.time() < QUIET_UNTIL:
            report.quiet += 1
            continue
        if local.time() < prompt_time(checkin_time):
            report.not_yet += 1
            continue
        if not asks_pain(session, practice_id, patient_id, day):
            report.not_asked += 1
            continue
        days[patient_id] = day
        zone_info = ZoneInfo(zone)
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone_info).astimezone(dt.UTC)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone_info)
        due[patient_id] = (given, phone, midnight, next_midnight.astimezone(dt.UTC))
    if not due:
        return report
    earliest = min(midnight for _, _, midnight, _ in due.values())
    prompted: dict[int, list[dt.datetime]] = defaultdict(list)
    for patient_id, created in session.execute(
        select(OutboxMessage.patient_id, OutboxMessage.created_at).where(
            OutboxMessage.practice_id == practice_id,
            OutboxMessage.reason.in_((PROMPT_REASON, REMINDER_REASON)),
            OutboxMessage.created_at >= earliest,
            OutboxMessage.patient_id.in_(list(due)),
        )
    ):
        prompted[patient_id].append(created)
    answered = {
        (patient_id, day)
        for patient_id, day in session.execute(
            select(Observation.patient_id, Observation.local_date).where(
                Observation.practice_id == practice_id,
                Observation.type == PainScale.NRS.value,
                Observation.patient_id.in_(list(due)),
                Observation.local_date.in_(set(days.values())),
            )
        )
    }
    messages = []
    for patient_id, (given, phone, midnight, next_midnight) in due.items():
        if (patient_id, days[patient_id]) in answered or any(
            midnight <= created < next_midnight for created in prompted[patient_id]
        ):
            report.already += 1
            continue
        body = PROMPT_TEXT.format(first_name=first_name(given))
        message = _queue(session, practice_id, patient_id, phone, body, PROMPT_REASON, now)
        messages.append(message)
    session.flush()
    report.queued = [message.id for message in messages]
    report.patient_ids = [message.patient_id for message in messages]
    return report


def asks_pain(session: Session, practice_id: int, patient_id: int, day: dt.date) -> bool:
    """Whether the patient's check-in on `day` has the 0-10 pain question a texted number answers."""
    return any(
        question.key == PAIN_KEY
        for group in questions_for(session, practice_id, patient_id, today=day)
        for question in group.questions
    )


# --- replies ------------------------------------------------------------------------------------------------


def already_handled(session: Session, practice_id: int, message_id: str | None) -> bool:
    """Whether the provider's message `message_id` was handled before (a replayed or repeated webhook):
    every inbound text is in the audit trail under entity "sms", action "inbound", with its id."""
    if not message_id:
        return False
    found = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.practice_id == practice_id,
            AuditEvent.entity == "sms",
            AuditEvent.action == "inbound",
            AuditEvent.entity_id == message_id,
        )
    )
    return bool(found)


def find_patient(session: Session, practice_id: int, phone: str) -> Patient | None:
    """The practice's patient texting from `phone`: the only one with that number, or, when several share it,
    the one prompted last at it; None when there is no telling."""
    patients = list(
        session.scalars(
            select(Patient).where(Patient.practice_id == practice_id, Patient.phone == phone).order_by(Patient.id)
        )
    )
    if len(patients) <= 1:
        return patients[0] if patients else None
    last = session.scalar(
        select(OutboxMessage.patient_id)
        .where(
            and_(
                OutboxMessage.practice_id == practice_id,
                OutboxMessage.channel == "sms",
                OutboxMessage.recipient == phone,
                OutboxMessage.reason == PROMPT_REASON,
                OutboxMessage.patient_id.in_([patient.id for patient in patients]),
            )
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
    return next((patient for patient in patients if patient.id == last), None)


def handle_reply(session: Session, practice_id: int, inbound: InboundSms, now: dt.datetime) -> Reply:
    """Do what the text asks (see the module's note); flushed, not committed. The caller audits the text
    (`Reply.audit_detail`) and sends an urgent reply at once."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    patient = find_patient(session, practice_id, inbound.sender)
    if patient is None:
        return Reply(Outcome.UNKNOWN_NUMBER)
    parsed = parse_reply(inbound.body, crisis_text)
    opted_out = patient.sms_opted_out_at is not None
    reply = Reply(outcome="", patient_id=patient.id, opted_out=opted_out)

    def answer(body: str, reason: str) -> None:
        message = _queue(session, practice_id, patient.id, inbound.sender, body, reason, now)
        session.flush()
        reply.message_ids.append(message.id)

    match parsed.kind:
        case ReplyKind.CRISIS:
            reply.outcome, reply.urgent = Outcome.CRISIS, True
            result = record_checkin(
                session, practice_id, patient.id, {}, channel="sms", now=now, free_text=inbound.body
            )
            reply.observation_ids, reply.alert_ids = list(result.observation_ids), list(result.alert_ids)
            answer(CRISIS_TEXT, CRISIS_REASON)
        case ReplyKind.OPT_OUT:
            reply.outcome, reply.opted_out = Outcome.OPT_OUT, True
            if not opted_out:  # confirmed once; a second STOP gets nothing
                patient.sms_opted_out_at = now
                answer(OPT_OUT_TEXT, OPT_OUT_REASON)
        case ReplyKind.OPT_IN:
            reply.outcome, reply.opted_out = Outcome.OPT_IN, False
            patient.sms_opted_out_at = None
            session.flush()
            answer(OPT_IN_TEXT, OPT_IN_REASON)
        case ReplyKind.HELP:
            reply.outcome = Outcome.HELP
            practice_name = session.scalar(select(Practice.name).where(Practice.id == practice_id)) or "Your care team"
            answer(HELP_TEXT.format(practice=practice_name), HELP_REASON)
        case ReplyKind.PAIN:
            reply.outcome = Outcome.PAIN
            assert parsed.pain is not None
            day = now.astimezone(ZoneInfo(patient.timezone)).date()
            if not asks_pain(session, practice_id, patient.id, day):
                reply.outcome = Outcome.NOT_ASKED
                if not opted_out:
                    answer(NOT_ASKED_TEXT, NOT_ASKED_REASON)
                return reply
            try:
                result = record_checkin(
                    session, practice_id, patient.id, {PAIN_KEY: parsed.pain}, channel="sms", now=now
                )
            except CheckinError:  # the question was there a moment ago; nothing stored
                reply.outcome = Outcome.NOT_ASKED
                if not opted_out:
                    answer(NOT_ASKED_TEXT, NOT_ASKED_REASON)
                return reply
            reply.observation_ids, reply.alert_ids = list(result.observation_ids), list(result.alert_ids)
            if not opted_out:
                answer(THANKS_TEXT.format(pain=parsed.pain), THANKS_REASON)
        case ReplyKind.UNKNOWN if any(character.isalpha() for character in inbound.body):
            # Words: the patient is telling the care team something ("I feel dizzy"), opted out or not.
            reply.outcome = Outcome.MESSAGE
            result = record_checkin(
                session, practice_id, patient.id, {}, channel="sms", now=now, free_text=inbound.body
            )
            reply.alert_ids = list(result.alert_ids)
            if not opted_out:
                answer(MESSAGE_TEXT, MESSAGE_REASON)
        case ReplyKind.OUT_OF_RANGE | ReplyKind.UNKNOWN:
            reply.outcome = Outcome.OUT_OF_RANGE if parsed.kind is ReplyKind.OUT_OF_RANGE else Outcome.UNPARSED
            if not opted_out:
                answer(UNPARSED_TEXT, UNPARSED_REASON)
    return reply


def _queue(
    session: Session, practice_id: int, patient_id: int, phone: str, body: str, reason: str, now: dt.datetime
) -> OutboxMessage:
    message = OutboxMessage(
        practice_id=practice_id,
        patient_id=patient_id,
        channel="sms",
        recipient=phone,
        body=body,
        reason=reason,
        status=OutboxStatus.QUEUED,
        created_by=None,
        attempts=0,
        created_at=now,  # the prompt's day is read from it, so it is the caller's clock
    )
    session.add(message)
    return message
