"""The time ledger: staff minutes logged once, by timer or by hand, and never twice.

Every entry, however it is made (a timer stopped, a manual entry, an edit), passes `check_entry`:

- its times are consistent: the end after the start, neither in the future, `minutes` the whole minutes
  between them (rounded down), and `service_date` the day it started in the patient's own time zone;
- an entry with times overlaps no other timed entry of the same person, whatever the patient or program
  (half-open intervals: one that ends at 10:20 and one that starts at 10:20 touch and both stand), nor
  another person's timed entry on the same patient and program (time spent together counts once);
- an entry without times is not a copy of another one without times (same patient, program, day and
  minutes): that is a form sent twice, and the second is refused as a duplicate;
- entries without times are placed as the day's block in the time the person's timed entries leave free
  (`domain.time_blocks`), and must fit there; a timed entry must leave room for that block;
- a person logs at most 24 hours on one service date.

Deleted entries (kept, marked; see `time_entry_history`) take no part in any of this.

Nothing here commits: the caller writes its audit event in the same transaction and commits. A refusal
is a `LedgerRefusal` naming the field at fault (and the conflicting record, if one is the cause).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.domain.time_blocks import Duration, Span, local_day, place_block
from remotecare.domain.time_entries import Performer
from remotecare.services.ledger_refusal import LedgerRefusal as LedgerRefusal
from remotecare.services.practice_access import access_in  # re-exported: callers catch it here
from remotecare.services.time_entry_history import record_version
from remotecare.store.base import utc_now
from remotecare.store.models import Alert, Patient, Practice, Role, RunningTimer, TimeEntry, User

# Whose time is clinical time, and as which performer the rules count it.
PERFORMER_BY_ROLE = {Role.PHYSICIAN: Performer.PHYSICIAN, Role.CLINICAL_STAFF: Performer.CLINICAL_STAFF}
INTERACTION_MODES = ("audio", "video", "in_person")
DAY_MINUTES = 24 * 60
# A client's clock may run a little ahead of ours: an end this close to now is not "in the future".
CLOCK_SKEW = dt.timedelta(minutes=2)
# Entries that can overlap one starting on day D have service dates within two days of D: an entry lasts
# at most a day, and two patients' zones (Guam and American Samoa) can put the same instant on different
# dates. Still one range over the (practice, user, service date) index.
NEIGHBOUR_DAYS = 2
# A timed entry ending exactly at midnight does not touch the next day.
MINUTE_EPSILON = dt.timedelta(microseconds=1)


class TimerTooShort(LedgerRefusal):
    """The timer ran under a minute: nothing was logged, and the timer is gone (its deletion is pending
    in the session; the caller commits it even though it answers with an error)."""

    def __init__(self, timer_id: int) -> None:
        super().__init__("timer", "the timer ran under a minute; nothing was logged.")
        self.timer_id = timer_id


@dataclass(frozen=True, slots=True)
class _Logged:
    id: int
    user_id: int
    patient_id: int
    program: Program
    service_date: dt.date
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    minutes: int

    @property
    def span(self) -> Span | None:
        return Span(self.started_at, self.ended_at) if self.started_at and self.ended_at else None


def performer_of(session: Session, practice_id: int, user_id: int, program: Program | None = None) -> Performer:
    """The performer a person's minutes count as in this practice (their role here: their own practice's,
    a membership's, or a care team's grant, which also limits the programs); refused for a role whose time
    is not clinical time, or a program outside the grant."""
    access = access_in(session, user_id, practice_id)
    if access is None:
        raise LedgerRefusal("user_id", f"no user {user_id} in this practice.", status=422, code="unknown_reference")
    performer = PERFORMER_BY_ROLE.get(access.role)
    if performer is None:
        raise LedgerRefusal(
            "user_id",
            f"{_article(access.role.value)} {access.role.value}'s time is not clinical time: "
            "only physicians and clinical staff log billable minutes.",
        )
    if program is not None and access.programs is not None and Program(program) not in access.programs:
        allowed = ", ".join(sorted(str(p) for p in access.programs))
        raise LedgerRefusal(
            "program",
            f"user {user_id} works here for {allowed} only (a care team's grant).",
            status=403,
            code="forbidden",
        )
    return performer


def check_interaction(interactive: bool, interaction_mode: str | None) -> None:
    """An interactive entry says how the patient was reached; one that is not names no mode."""
    if interactive and interaction_mode not in INTERACTION_MODES:
        raise LedgerRefusal(
            "interaction_mode",
            f"an interactive entry needs one of {', '.join(INTERACTION_MODES)}"
            + (f", not {interaction_mode!r}." if interaction_mode is not None else "."),
        )
    if not interactive and interaction_mode is not None:
        raise LedgerRefusal("interaction_mode", "is only given for interactive time (interactive: true).")


def check_alert(session: Session, practice_id: int, patient_id: int, alert_id: int | None) -> None:
    """Time spent on an alert names an alert of the same patient, in the same practice."""
    if alert_id is None:
        return
    found = session.scalar(
        select(Alert.id).where(Alert.id == alert_id, Alert.practice_id == practice_id, Alert.patient_id == patient_id)
    )
    if found is None:
        raise LedgerRefusal(
            "alert_id", f"no alert {alert_id} of patient {patient_id} in this practice.", code="unknown_reference"
        )


def lock_ledger(session: Session, practice_id: int, user_id: int, patient_id: int | None = None) -> None:
    """Serialize writes to one person's ledger (and to one patient's, which two staff may log at once), so
    that two requests sent at once (a double click) cannot both pass the checks: the user's row, then the
    patient's, are locked on PostgreSQL (always in that order, so two writers cannot deadlock); on SQLite the
    transaction takes the database's write lock now, before it reads."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("UPDATE users SET active = active WHERE id = :user AND practice_id = :practice"),
            {"user": user_id, "practice": practice_id},
        )
        return
    session.execute(select(User.id).where(User.id == user_id, User.practice_id == practice_id).with_for_update())
    if patient_id is not None:
        session.execute(
            select(Patient.id).where(Patient.id == patient_id, Patient.practice_id == practice_id).with_for_update()
        )


def check_entry(
    session: Session,
    practice_id: int,
    user_id: int,
    *,
    service_date: dt.date,
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    minutes: int,
    patient_id: int,
    program: Program,
    exclude_id: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Refuse an entry the ledger cannot take (see the module's description). `exclude_id` is the entry
    being edited, which is compared with every other entry but itself."""
    now = now or utc_now()
    lock_ledger(session, practice_id, user_id, patient_id)
    patient = session.scalar(select(Patient).where(Patient.id == patient_id, Patient.practice_id == practice_id))
    if patient is None:
        raise LedgerRefusal("patient_id", f"no patient {patient_id} in this practice.", code="unknown_reference")
    zone = ZoneInfo(patient.timezone)
    _check_times(service_date, started_at, ended_at, minutes, zone, patient.timezone, now)
    near = (service_date - dt.timedelta(days=NEIGHBOUR_DAYS), service_date + dt.timedelta(days=NEIGHBOUR_DAYS))
    others = _logged(session, practice_id, near, exclude_id, TimeEntry.user_id == user_id)
    span = Span(started_at, ended_at) if started_at is not None and ended_at is not None else None
    if span is not None:
        _refuse_overlap(others, span)
        together = _logged(
            session,
            practice_id,
            near,
            exclude_id,
            TimeEntry.patient_id == patient_id,
            TimeEntry.program == program,
            TimeEntry.user_id != user_id,
        )
        _refuse_counted_together(together, span, program)
    else:
        _refuse_duplicate(others, service_date, minutes, patient_id, program)
    day_total = sum(other.minutes for other in others if other.service_date == service_date)
    if day_total + minutes > DAY_MINUTES:
        raise LedgerRefusal(
            "minutes",
            f"{minutes} more would make {day_total + minutes} minutes logged on {service_date.isoformat()}, "
            f"more than the {DAY_MINUTES} in a day.",
        )
    _refuse_what_the_day_cannot_hold(session, practice_id, others, service_date, span, minutes)


def _logged(
    session: Session,
    practice_id: int,
    near: tuple[dt.date, dt.date],
    exclude_id: int | None,
    *conditions: ColumnElement[bool],
) -> list[_Logged]:
    """The entries (not deleted) with service dates in `near` that meet `conditions`, oldest first."""
    query = select(
        TimeEntry.id,
        TimeEntry.user_id,
        TimeEntry.patient_id,
        TimeEntry.program,
        TimeEntry.service_date,
        TimeEntry.started_at,
        TimeEntry.ended_at,
        TimeEntry.minutes,
    ).where(
        TimeEntry.practice_id == practice_id,
        TimeEntry.service_date.between(*near),
        TimeEntry.deleted_at.is_(None),
        *conditions,
    )
    if exclude_id is not None:
        query = query.where(TimeEntry.id != exclude_id)
    return [_Logged(*row) for row in session.execute(query.order_by(TimeEntry.id))]


def _refuse_overlap(others: list[_Logged], span: Span) -> None:
    """One person's minute is logged once, whatever the patient or program."""
    for other in others:
        if other.span is not None and other.span.start < span.end and span.start < other.span.end:
            raise LedgerRefusal(
                "started_at",
                f"{_span(span.start, span.end)} overlaps entry {other.id} (patient {other.patient_id}, "
                f"{Program(other.program).value}, {_span(other.span.start, other.span.end)}): "
                "a minute is logged once.",
                other.id,
            )


def _refuse_counted_together(others: list[_Logged], span: Span, program: Program) -> None:
    """Time two staff spend on the same patient at the same time counts once toward a program (CPT's
    rule for care management time): the second person's overlapping entry is refused."""
    for other in others:
        if other.span is not None and other.span.start < span.end and span.start < other.span.end:
            raise LedgerRefusal(
                "started_at",
                f"{_span(span.start, span.end)} overlaps entry {other.id} by user {other.user_id} "
                f"({_span(other.span.start, other.span.end)}) on the same patient and program: time spent "
                f"together counts once toward {program.value}.",
                other.id,
            )


def _refuse_duplicate(
    others: list[_Logged], service_date: dt.date, minutes: int, patient_id: int, program: Program
) -> None:
    for other in others:
        if (
            other.span is None
            and other.patient_id == patient_id
            and other.program == program
            and other.service_date == service_date
            and other.minutes == minutes
        ):
            raise LedgerRefusal(
                "minutes",
                f"duplicate of entry {other.id} (the same patient, program, day and minutes, without times); "
                "to log another stretch of time, give its started_at and ended_at.",
                other.id,
                code="duplicate",
            )


def _refuse_what_the_day_cannot_hold(
    session: Session,
    practice_id: int,
    others: list[_Logged],
    service_date: dt.date,
    span: Span | None,
    minutes: int,
) -> None:
    """Entries with only a duration are placed as the day's block in the time the timed ones leave free
    (`domain.time_blocks`; the day is the practice's). A new one must fit there; a new timed one must leave
    room for the block of every day it touches."""
    zone = ZoneInfo(session.scalar(select(Practice.timezone).where(Practice.id == practice_id)) or "UTC")
    if span is None:
        days = [service_date]
    else:
        first, last = span.start.astimezone(zone).date(), (span.end - MINUTE_EPSILON).astimezone(zone).date()
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    for day in days:
        durations = [Duration(o.id, o.minutes) for o in others if o.span is None and o.service_date == day]
        if span is None:
            durations.append(Duration(None, minutes))
        if not durations:
            continue
        busy = [o.span for o in others if o.span is not None] + ([span] if span is not None else [])
        block = place_block(local_day(day, zone), busy, durations)
        if block.unplaced_minutes == 0:
            continue
        untimed = ", ".join(f"entry {d.entry_id} ({d.minutes} min)" for d in durations if d.entry_id is not None)
        taken = f"; entries without times already take {untimed}" if untimed else ""
        hours = block.day.minutes / 60
        if span is None:
            raise LedgerRefusal(
                "minutes",
                f"{minutes} minutes without times do not fit on {day.isoformat()}: its timed entries leave "
                f"{block.free_minutes} of the day's {hours:g} hours ({zone.key}) free{taken}.",
            )
        raise LedgerRefusal(
            "started_at",
            f"{_span(span.start, span.end)} leaves {block.free_minutes} free minutes on {day.isoformat()} "
            f"({hours:g} hours in {zone.key}), too few for the day's entries without times{taken}.",
            next((d.entry_id for d in durations if d.entry_id is not None), None),
        )


def _check_times(
    service_date: dt.date,
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    minutes: int,
    zone: ZoneInfo,
    zone_name: str,
    now: dt.datetime,
) -> None:
    if (started_at is None) != (ended_at is None):
        missing = "ended_at" if ended_at is None else "started_at"
        given = "started_at" if ended_at is None else "ended_at"
        raise LedgerRefusal(missing, f"is required with {given}: give both times, or neither.")
    if minutes < 1:
        raise LedgerRefusal("minutes", "must be at least 1.")
    if started_at is None or ended_at is None:
        today = now.astimezone(zone).date()
        if service_date > today:
            raise LedgerRefusal("service_date", f"is in the future (today is {today.isoformat()} in {zone_name}).")
        return
    if ended_at <= started_at:
        raise LedgerRefusal("ended_at", "is not after started_at.")
    if ended_at > now + CLOCK_SKEW:
        raise LedgerRefusal("ended_at", "is in the future.")
    whole = int((ended_at - started_at).total_seconds() // 60)
    if minutes != whole:
        raise LedgerRefusal(
            "minutes", f"{minutes} does not match the times: {_span(started_at, ended_at)} is {whole} whole minutes."
        )
    local_day = started_at.astimezone(zone).date()
    if service_date != local_day:
        raise LedgerRefusal(
            "service_date",
            f"{service_date.isoformat()} is not the day the time started in the patient's zone ({zone_name}): "
            f"{local_day.isoformat()}.",
        )


# --- the timer ------------------------------------------------------------------------------------


def current_timer(session: Session, practice_id: int, user_id: int) -> RunningTimer | None:
    return session.scalar(
        select(RunningTimer).where(RunningTimer.practice_id == practice_id, RunningTimer.user_id == user_id)
    )


def start_timer(
    session: Session,
    practice_id: int,
    user_id: int,
    patient_id: int,
    program: Program,
    alert_id: int | None = None,
    *,
    now: dt.datetime | None = None,
) -> RunningTimer:
    """Start the person's timer on a patient and program; refused while another of theirs runs."""
    lock_ledger(session, practice_id, user_id)
    performer_of(session, practice_id, user_id, program)
    if session.scalar(select(Patient.id).where(Patient.id == patient_id, Patient.practice_id == practice_id)) is None:
        raise LedgerRefusal("patient_id", f"no patient {patient_id} in this practice.", status=404)
    check_alert(session, practice_id, patient_id, alert_id)
    running = current_timer(session, practice_id, user_id)
    if running is not None:
        raise LedgerRefusal(
            "timer",
            f"your timer for patient {running.patient_id} ({Program(running.program).value}) has run since "
            f"{running.started_at.isoformat()}; stop or discard it before starting another.",
            running.id,
        )
    timer = RunningTimer(
        practice_id=practice_id,
        user_id=user_id,
        patient_id=patient_id,
        program=program,
        alert_id=alert_id,
        started_at=now or utc_now(),
    )
    session.add(timer)
    session.flush()
    return timer


def stop_timer(
    session: Session,
    practice_id: int,
    user_id: int,
    now: dt.datetime | None = None,
    interactive: bool = False,
    interaction_mode: str | None = None,
    note: str | None = None,
) -> TimeEntry:
    """Stop the person's timer and write its time entry: whole minutes (rounded down), on the day it
    started in the patient's zone. Under a minute logs nothing and the timer is discarded
    (`TimerTooShort`); any other refusal leaves the timer running."""
    now = now or utc_now()
    lock_ledger(session, practice_id, user_id)
    timer = _running(session, practice_id, user_id)
    minutes = int((now - timer.started_at).total_seconds() // 60)
    if minutes < 1:
        session.delete(timer)
        session.flush()
        raise TimerTooShort(timer.id)
    performer = performer_of(session, practice_id, user_id, Program(timer.program))
    check_interaction(interactive, interaction_mode)
    patient = session.scalar(select(Patient).where(Patient.id == timer.patient_id, Patient.practice_id == practice_id))
    assert patient is not None  # patients are never deleted (RESTRICT)
    service_date = timer.started_at.astimezone(ZoneInfo(patient.timezone)).date()
    check_entry(
        session,
        practice_id,
        user_id,
        service_date=service_date,
        started_at=timer.started_at,
        ended_at=now,
        minutes=minutes,
        patient_id=timer.patient_id,
        program=Program(timer.program),
        now=now,
    )
    entry = TimeEntry(
        practice_id=practice_id,
        patient_id=timer.patient_id,
        user_id=user_id,
        program=timer.program,
        performer=performer,
        service_date=service_date,
        started_at=timer.started_at,
        ended_at=now,
        minutes=minutes,
        interactive=interactive,
        interaction_mode=interaction_mode,
        note=note,
        alert_id=timer.alert_id,
    )
    session.add(entry)
    session.delete(timer)
    session.flush()
    record_version(session, entry, user_id, "create", None)
    return entry


def discard_timer(session: Session, practice_id: int, user_id: int) -> RunningTimer:
    """Throw the person's running timer away, logging nothing; returns the timer discarded."""
    timer = _running(session, practice_id, user_id)
    session.delete(timer)
    session.flush()
    return timer


def _running(session: Session, practice_id: int, user_id: int) -> RunningTimer:
    timer = current_timer(session, practice_id, user_id)
    if timer is None:
        raise LedgerRefusal("timer", "no timer is running.", status=404)
    return timer


def _span(start: dt.datetime, end: dt.datetime) -> str:
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    until = f"{end:%H:%M:%S}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M:%S}"
    return f"{start:%Y-%m-%d %H:%M:%S} to {until} UTC"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
