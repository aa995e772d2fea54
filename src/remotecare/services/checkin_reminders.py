"""Check-in reminders, and the patients who have gone quiet.

`queue_reminders(session, practice_id, now)`: a patient with a usual check-in time (`Patient.checkin_time`,
"HH:MM" in their zone), enrolled on their local day in a program whose check-in asks something, who has not
checked in that day by then, gets ONE reminder through the outbox: by text when they have a phone and have
not replied STOP, else by email. Once a day: a patient who already had a reminder or the SMS check-in
prompt (`services.sms_checkins`, reason "sms_checkin_prompt") that local day gets nothing more. Texts wait
in the outbox during quiet hours (21:00-08:00 where the patient lives); see `services.outbox`.

`quiet_patients(session, practice_id, today, days=3)`: the enrolled patients with no check-in in the last
`days` days (today included), longest quiet first, for the care team to call.

Nothing is committed here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Date, func, or_, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.services.checkins import DEFAULT_GROUPS
from remotecare.services.outbox import first_name
from remotecare.store.base import utc_now
from remotecare.store.batches import chunks
from remotecare.store.models import Enrollment, Observation, OutboxMessage, OutboxStatus, Patient, Practice

REMINDER_REASON = "checkin_reminder"
SMS_PROMPT_REASON = "sms_checkin_prompt"  # services.sms_checkins' daily prompt: it counts as the day's reminder
CHECKIN_SOURCES = ("checkin_web", "checkin_sms")
REMINDER_TEXT = {
    "sms": "Hi {first_name}, this is your care team. We have not had today's check-in yet: please open your "
    "check-in link when you can. Thank you!",
    "email": "Hi {first_name}, this is your care team. We have not had today's check-in yet: please open your "
    "check-in link when you can. Thank you!",
}


@dataclass
class ReminderReport:
    queued: list[int] = field(default_factory=list)  # outbox message ids
    already_reminded: list[int] = field(default_factory=list)  # patient ids
    checked_in: list[int] = field(default_factory=list)
    not_yet_due: list[int] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)  # no phone (or opted out) and no email


@dataclass(frozen=True)
class QuietPatient:
    patient_id: int
    given_name: str
    family_name: str
    last_checkin: dt.date | None
    days_quiet: int | None  # whole days since the last check-in; None when never
    checkin_time: str | None
    care_manager_id: int | None


def _checkin_programs(practice: Practice) -> set[Program]:
    configured = (practice.checkin_settings or {}).get("programs", {})
    asked = {program for program, groups in DEFAULT_GROUPS.items() if groups}
    for name, groups in configured.items():
        (asked.add if groups else asked.discard)(Program(name))
    return asked


def _enrolled(
    session: Session, practice: Practice, first: dt.date, last: dt.date
) -> dict[int, list[tuple[dt.date, dt.date | None]]]:
    """Patients with an enrollment in a check-in program overlapping first..last: their spans."""
    programs = sorted(_checkin_programs(practice))
    spans: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    if not programs:
        return spans
    for patient_id, start, end in session.execute(
        select(Enrollment.patient_id, Enrollment.start_date, Enrollment.end_date).where(
            Enrollment.practice_id == practice.id,
            Enrollment.program.in_(programs),
            Enrollment.start_date <= last,
            or_(Enrollment.end_date.is_(None), Enrollment.end_date >= first),
        )
    ):
        spans[patient_id].append((start, end))
    return spans


def _covers(spans: list[tuple[dt.date, dt.date | None]], day: dt.date) -> bool:
    return any(start <= day and (end is None or day <= end) for start, end in spans)


def queue_reminders(
    session: Session,
    practice_id: int,
    now: dt.datetime | None = None,
    *,
    patient_ids: Collection[int] | None = None,
) -> ReminderReport:
    """Queue the day's one reminder for each patient whose usual check-in time has passed unanswered
    (only among `patient_ids` when given: a caller who sees only some patients)."""
    now = utc_now() if now is None else now
    report = ReminderReport()
    practice = session.get(Practice, practice_id)
    if practice is None:
        return report
    # Local days differ by zone: read a span of days around now, then judge each patient on their own day.
    spans = _enrolled(session, practice, (now - dt.timedelta(days=1)).date(), (now + dt.timedelta(days=1)).date())
    if patient_ids is not None:
        spans = {patient_id: span for patient_id, span in spans.items() if patient_id in patient_ids}
    for ids in chunks(sorted(spans)):
        patients = session.scalars(
            select(Patient).where(
                Patient.practice_id == practice_id, Patient.id.in_(ids), Patient.checkin_time.is_not(None)
            )
        ).all()
        done = _checked_in_days(session, practice_id, ids, now)
        reminded = _reminded_since(session, practice_id, ids, now)
        for patient in patients:
            _remind_one(session, patient, spans[patient.id], now, done, reminded, report)
    session.flush()
    return report


def _remind_one(
    session: Session,
    patient: Patient,
    spans: list[tuple[dt.date, dt.date | None]],
    now: dt.datetime,
    done: set[tuple[int, dt.date]],
    reminded: dict[int, list[dt.datetime]],
    report: ReminderReport,
) -> None:
    zone = ZoneInfo(patient.timezone)
    local = now.astimezone(zone)
    today = local.date()
    if not _covers(spans, today):
        return
    assert patient.checkin_time is not None
    hour, minute = (int(part) for part in patient.checkin_time.split(":"))
    if local.time() < dt.time(hour, minute):
        report.not_yet_due.append(patient.id)
        return
    if (patient.id, today) in done:
        report.checked_in.append(patient.id)
        return
    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=zone)
    if any(at >= midnight for at in reminded.get(patient.id, [])):
        report.already_reminded.append(patient.id)
        return
    channel, recipient = _channel(patient)
    if channel is None:
        report.unreachable.append(patient.id)
        return
    message = OutboxMessage(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        channel=channel,
        recipient=recipient,
        body=REMINDER_TEXT[channel].format(first_name=first_name(patient.given_name)),
        reason=REMINDER_REASON,
        status=OutboxStatus.QUEUED,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    report.queued.append(message.id)


def _channel(patient: Patient) -> tuple[str | None, str | None]:
    if patient.phone and patient.sms_opted_out_at is None:
        return "sms", patient.phone
    if patient.email:
        return "email", patient.email
    return None, None


def _checked_in_days(session: Session, practice_id: int, ids: list[int], now: dt.datetime) -> set[tuple[int, dt.date]]:
    first, last = (now - dt.timedelta(days=1)).date(), (now + dt.timedelta(days=1)).date()
    rows = session.execute(
        select(Observation.patient_id, Observation.local_date)
        .where(
            Observation.practice_id == practice_id,
            Observation.patient_id.in_(ids),
            Observation.source.in_(CHECKIN_SOURCES),
            Observation.local_date >= first,
            Observation.local_date <= last,
        )
        .distinct()
    )
    return {(patient_id, day) for patient_id, day in rows}


def _reminded_since(
    session: Session, practice_id: int, ids: list[int], now: dt.datetime
) -> dict[int, list[dt.datetime]]:
    reminded: dict[int, list[dt.datetime]] = defaultdict(list)
    for patient_id, at in session.execute(
        select(OutboxMessage.patient_id, OutboxMessage.created_at).where(
            OutboxMessage.practice_id == practice_id,
            OutboxMessage.patient_id.in_(ids),
            OutboxMessage.reason.in_((REMINDER_REASON, SMS_PROMPT_REASON)),
            OutboxMessage.created_at >= now - dt.timedelta(days=2),
        )
    ):
        reminded[patient_id].append(at)
    return reminded


def quiet_patients(session: Session, practice_id: int, today: dt.date, days: int = 3) -> list[QuietPatient]:
    """Patients enrolled today in a check-in program with no check-in in the `days` days ending `today`."""
    if days < 1:
        raise ValueError("days must be at least 1")
    practice = session.get(Practice, practice_id)
    if practice is None:
        return []
    spans = _enrolled(session, practice, today, today)
    since = today - dt.timedelta(days=days - 1)
    quiet: list[QuietPatient] = []
    for ids in chunks(sorted(spans)):
        rows = session.execute(
            select(Observation.patient_id, func.max(Observation.local_date, type_=Date))
            .where(
                Observation.practice_id == practice_id,
                Observation.patient_id.in_(ids),
                Observation.source.in_(CHECKIN_SOURCES),
                Observation.local_date <= today,
            )
            .group_by(Observation.patient_id)
        ).tuples()
        last_seen: dict[int, dt.date] = dict(rows.all())
        for patient in session.scalars(select(Patient).where(Patient.practice_id == practice_id, Patient.id.in_(ids))):
            last = last_seen.get(patient.id)
            if last is not None and last >= since:
                continue
            quiet.append(
                QuietPatient(
                    patient.id,
                    patient.given_name,
                    patient.family_name,
                    last,
                    None if last is None else (today - last).days,
                    patient.checkin_time,
                    patient.care_manager_id,
                )
            )
    quiet.sort(key=lambda q: (q.last_checkin is not None, q.last_checkin or dt.date.min, q.patient_id))
    return quiet
