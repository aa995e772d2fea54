"""The time ledger on both databases: the timer, and the checks every entry passes (no minute logged twice).

The clock is the test's: every call is given its `now`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.domain.time_entries import Performer
from remotecare.services import time_entry_history, time_ledger
from remotecare.services.billing_run import run_billing
from remotecare.services.time_ledger import LedgerRefusal, TimerTooShort
from remotecare.store.models import (
    Alert,
    ClaimLine,
    ClaimStatus,
    Consent,
    Enrollment,
    Patient,
    Practice,
    Role,
    RunningTimer,
    TimeEntry,
    User,
)
from remotecare.store.session import make_engine

UTC = dt.UTC
RPM, CCM = Program.RPM, Program.CCM


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@dataclass
class Clinic:
    session: Session
    practice: int
    other_practice: int
    users: dict[str, int]  # "nurse", "doctor", "admin", "biller"
    patients: dict[str, int]  # "chicago", "chicago2", "guam", "samoa", "other" (the other practice's)

    def start(self, who: str, patient: str, now: dt.datetime, program: Program = RPM, **extra: Any) -> RunningTimer:
        return time_ledger.start_timer(
            self.session, self.practice, self.users[who], self.patients[patient], program, now=now, **extra
        )

    def stop(self, who: str, now: dt.datetime, **extra: Any) -> TimeEntry:
        return time_ledger.stop_timer(self.session, self.practice, self.users[who], now, **extra)

    def timed(self, who: str, patient: str, start: dt.datetime, minutes: int, program: Program = RPM) -> TimeEntry:
        """A completed timer of `minutes` (and 30 seconds, which are not counted)."""
        self.start(who, patient, start, program)
        entry = self.stop(who, start + dt.timedelta(minutes=minutes, seconds=30))
        self.session.commit()
        return entry

    def check(self, who: str = "nurse", patient: str = "chicago", **entry: Any) -> None:
        values: dict[str, Any] = {"started_at": None, "ended_at": None, "program": RPM, "now": at(30, 12)}
        values.update(entry)
        time_ledger.check_entry(
            self.session, self.practice, self.users[who], patient_id=self.patients[patient], **values
        )

    def manual(self, who: str, patient: str, day: dt.date, minutes: int, program: Program = RPM) -> TimeEntry:
        """A duration-only entry, written as the API writes one once it passed the checks."""
        self.check(who, patient, service_date=day, minutes=minutes, program=program)
        entry = TimeEntry(
            practice_id=self.practice,
            patient_id=self.patients[patient],
            user_id=self.users[who],
            program=program,
            performer=Performer.CLINICAL_STAFF,
            service_date=day,
            minutes=minutes,
        )
        self.session.add(entry)
        self.session.commit()
        return entry


def _patient(session: Session, practice: int, name: str, mbi: str, zone: str) -> int:
    patient = Patient(
        practice_id=practice,
        given_name="Synthetic",
        family_name=name,
        birth_date=dt.date(1950, 3, 1),
        medicare_id=mbi,
        timezone=zone,
        conditions=["I10"],
        established=True,
    )
    session.add(patient)
    session.flush()
    return patient.id


@pytest.fixture
def clinic(database_url: str) -> Iterator[Clinic]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice, other = Practice(name="Ledger Clinic"), Practice(name="Other Clinic")
        session.add_all([practice, other])
        session.flush()
        users = {}
        for who, role in (
            ("nurse", Role.CLINICAL_STAFF),
            ("doctor", Role.PHYSICIAN),
            ("admin", Role.ADMIN),
            ("biller", Role.BILLER),
        ):
            user = User(
                practice_id=practice.id, email=f"{who}@example.test", full_name=who, role=role, password_hash="x"
            )
            session.add(user)
            session.flush()
            users[who] = user.id
        patients = {
            "chicago": _patient(session, practice.id, "Chicago", "1EG4TE5MK73", "America/Chicago"),
            "chicago2": _patient(session, practice.id, "Chicago Two", "2EG4TE5MK74", "America/Chicago"),
            "guam": _patient(session, practice.id, "Guam", "3EG4TE5MK75", "Pacific/Guam"),
            "samoa": _patient(session, practice.id, "Samoa", "4EG4TE5MK76", "Pacific/Pago_Pago"),
            "other": _patient(session, other.id, "Elsewhere", "5EG4TE5MK77", "America/Chicago"),
        }
        session.commit()
        yield Clinic(session, practice.id, other.id, users, patients)
    engine.dispose()


def refused(call: Any, *args: Any, **kwargs: Any) -> LedgerRefusal:
    with pytest.raises(LedgerRefusal) as caught:
        call(*args, **kwargs)
    return caught.value


def entries(clinic: Clinic) -> list[TimeEntry]:
    return list(clinic.session.scalars(select(TimeEntry).order_by(TimeEntry.id)))


# --- the timer ------------------------------------------------------------------------------------


def test_stopping_the_timer_logs_its_whole_minutes_on_the_patients_day(clinic: Clinic) -> None:
    # 03:30 UTC on the 6th is 22:30 on the 5th in Chicago: the entry belongs to the 5th.
    started = at(6, 3, 30, 15)
    timer = clinic.start("nurse", "chicago", started)
    assert time_ledger.current_timer(clinic.session, clinic.practice, clinic.users["nurse"]) is timer
    entry = clinic.stop("nurse", started + dt.timedelta(minutes=25, seconds=59), note="reviewed readings")
    clinic.session.commit()
    assert (entry.minutes, entry.service_date, entry.performer) == (25, dt.date(2026, 10, 5), Performer.CLINICAL_STAFF)
    assert (entry.started_at, entry.ended_at) == (started, started + dt.timedelta(minutes=25, seconds=59))
    assert (entry.program, entry.interactive, entry.interaction_mode, entry.note) == (
        RPM,
        False,
        None,
        "reviewed readings",
    )
    assert time_ledger.current_timer(clinic.session, clinic.practice, clinic.users["nurse"]) is None
    assert clinic.session.scalar(select(func.count()).select_from(RunningTimer)) == 0


def test_a_physicians_timer_logs_physician_minutes_and_carries_its_alert(clinic: Clinic) -> None:
    alert = Alert(practice_id=clinic.practice, patient_id=clinic.patients["chicago"], rule="bp_high", severity="high")
    clinic.session.add(alert)
    clinic.session.flush()
    clinic.start("doctor", "chicago", at(7, 15), alert_id=alert.id)
    entry = clinic.stop("doctor", at(7, 15, 11), interactive=True, interaction_mode="video")
    assert (entry.performer, entry.alert_id, entry.minutes) == (Performer.PHYSICIAN, alert.id, 11)
    assert (entry.interactive, entry.interaction_mode) == (True, "video")


def test_a_second_timer_is_refused_while_one_runs(clinic: Clinic) -> None:
    running = clinic.start("nurse", "chicago", at(7, 15))
    refusal = refused(clinic.start, "nurse", "chicago2", at(7, 15, 5), CCM)
    assert (refusal.status, refusal.field, refusal.conflicting_id) == (409, "timer", running.id)
    assert f"patient {clinic.patients['chicago']} (RPM)" in refusal.message
    # Another person's timer is theirs: the doctor may time the same patient at the same time.
    clinic.start("doctor", "chicago", at(7, 15, 5))


def test_a_timer_under_a_minute_logs_nothing_and_is_discarded(clinic: Clinic) -> None:
    clinic.start("nurse", "chicago", at(7, 15))
    with pytest.raises(TimerTooShort) as caught:
        clinic.stop("nurse", at(7, 15, 0, 59))
    assert caught.value.message == "the timer ran under a minute; nothing was logged."
    clinic.session.commit()  # the caller keeps the discard
    assert entries(clinic) == []
    assert time_ledger.current_timer(clinic.session, clinic.practice, clinic.users["nurse"]) is None


def test_discarding_and_stopping_without_a_timer(clinic: Clinic) -> None:
    clinic.start("nurse", "chicago", at(7, 15))
    time_ledger.discard_timer(clinic.session, clinic.practice, clinic.users["nurse"])
    assert entries(clinic) == []
    nurse = clinic.users["nurse"]
    for call in (
        lambda: time_ledger.discard_timer(clinic.session, clinic.practice, nurse),
        lambda: time_ledger.stop_timer(clinic.session, clinic.practice, nurse, at(7, 16)),
    ):
        refusal = refused(call)
        assert (refusal.status, refusal.field) == (404, "timer")


def test_an_admin_and_a_biller_may_not_log_time(clinic: Clinic) -> None:
    for who in ("admin", "biller"):
        refusal = refused(clinic.start, who, "chicago", at(7, 15))
        assert (refusal.status, refusal.field) == (422, "user_id")
        assert "not clinical time" in refusal.message
    assert clinic.session.scalar(select(func.count()).select_from(RunningTimer)) == 0


def test_another_practices_patient_and_another_patients_alert_are_refused(clinic: Clinic) -> None:
    refusal = refused(clinic.start, "nurse", "other", at(7, 15))
    assert (refusal.status, refusal.field) == (404, "patient_id")
    alert = Alert(practice_id=clinic.practice, patient_id=clinic.patients["chicago2"], rule="bp_high", severity="high")
    clinic.session.add(alert)
    clinic.session.flush()
    refusal = refused(clinic.start, "nurse", "chicago", at(7, 15), alert_id=alert.id)
    assert (refusal.status, refusal.field) == (422, "alert_id")


@pytest.mark.parametrize(
    ("interactive", "mode", "accepted"),
    [
        (True, "audio", True),
        (True, "video", True),
        (True, "in_person", True),
        (False, None, True),
        (True, None, False),
        (True, "sms", False),
        (False, "audio", False),
    ],
)
def test_interaction_mode_is_given_exactly_for_interactive_time(
    clinic: Clinic, interactive: bool, mode: str | None, accepted: bool
) -> None:
    clinic.start("nurse", "chicago", at(7, 15))
    if accepted:
        entry = clinic.stop("nurse", at(7, 15, 20), interactive=interactive, interaction_mode=mode)
        assert (entry.interactive, entry.interaction_mode) == (interactive, mode)
        return
    refusal = refused(clinic.stop, "nurse", at(7, 15, 20), interactive=interactive, interaction_mode=mode)
    assert (refusal.status, refusal.field) == (422, "interaction_mode")
    assert time_ledger.current_timer(clinic.session, clinic.practice, clinic.users["nurse"]) is not None


# --- overlaps, duplicates and the day's cap --------------------------------------------------------


def test_overlap_is_refused_across_patients_and_programs_naming_the_entry(clinic: Clinic) -> None:
    first = clinic.timed("nurse", "chicago", at(7, 15), 20)  # 15:00:00 to 15:20:30
    for patient, program in (("chicago2", RPM), ("chicago", CCM)):
        clinic.start("nurse", patient, at(7, 15, 10), program)
        refusal = refused(clinic.stop, "nurse", at(7, 15, 40))
        assert (refusal.status, refusal.field, refusal.conflicting_id) == (409, "started_at", first.id)
        assert f"entry {first.id} (patient {clinic.patients['chicago']}, RPM, 2026-10-07 15:00:00 to 15:20:30" in (
            refusal.message
        )
        # Refused, the timer still runs: it can be discarded (or stopped once the other entry is fixed).
        time_ledger.discard_timer(clinic.session, clinic.practice, clinic.users["nurse"])
    # Someone else's entry at the same time is no overlap: each person's minutes are their own.
    clinic.timed("doctor", "chicago2", at(7, 15, 5), 10)


def test_touching_intervals_both_stand(clinic: Clinic) -> None:
    first = clinic.timed("nurse", "chicago", at(7, 15), 20)
    assert first.ended_at is not None
    clinic.start("nurse", "chicago2", first.ended_at)  # starts the very second the first one ended
    second = clinic.stop("nurse", first.ended_at + dt.timedelta(minutes=5))
    clinic.check(
        patient="chicago",
        service_date=dt.date(2026, 10, 7),
        started_at=at(7, 14, 40),
        ended_at=at(7, 15),
        minutes=20,
    )
    assert second.minutes == 5


def test_overlap_is_found_when_the_two_patients_zones_put_it_two_days_apart(clinic: Clinic) -> None:
    # 23:00 on the 5th in American Samoa (UTC-11) is 10:00 UTC on the 6th; five hours later is 15:00 UTC,
    # already the 7th in Guam (UTC+10) from 14:00 UTC.
    samoa = clinic.timed("nurse", "samoa", at(6, 10), 300)
    assert samoa.service_date == dt.date(2026, 10, 5)
    clinic.start("nurse", "guam", at(6, 14, 30))
    refusal = refused(clinic.stop, "nurse", at(6, 14, 45))
    assert refusal.conflicting_id == samoa.id


def test_an_edit_is_checked_against_every_entry_but_itself(clinic: Clinic) -> None:
    first = clinic.timed("nurse", "chicago", at(7, 15), 20)  # 15:00:00 to 15:20:30
    second = clinic.timed("nurse", "chicago2", at(7, 16), 10)  # 16:00:00 to 16:10:30
    day = dt.date(2026, 10, 7)
    # Moved within its own old span: only itself is there, so nothing overlaps.
    clinic.check(
        patient="chicago2",
        service_date=day,
        started_at=at(7, 16, 5),
        ended_at=at(7, 16, 10),
        minutes=5,
        exclude_id=second.id,
    )
    # Moved back onto the first: refused, naming it.
    refusal = refused(
        clinic.check,
        patient="chicago2",
        service_date=day,
        started_at=at(7, 15, 15),
        ended_at=at(7, 15, 35),
        minutes=20,
        exclude_id=second.id,
    )
    assert refusal.conflicting_id == first.id and f"entry {first.id}" in refusal.message


def test_a_duration_only_entry_sent_twice_is_refused_as_a_duplicate(clinic: Clinic) -> None:
    day = dt.date(2026, 10, 8)
    first = clinic.manual("nurse", "chicago", day, 15)
    refusal = refused(clinic.check, service_date=day, minutes=15)
    assert (refusal.status, refusal.code, refusal.conflicting_id) == (409, "duplicate", first.id)
    assert refusal.message.startswith(f"duplicate of entry {first.id}")
    # Another patient, program, day, person or number of minutes is another entry.
    clinic.check(patient="chicago2", service_date=day, minutes=15)
    clinic.check(service_date=day, minutes=15, program=CCM)
    clinic.check(service_date=day + dt.timedelta(days=1), minutes=15)
    clinic.check(who="doctor", service_date=day, minutes=15)
    clinic.check(service_date=day, minutes=16)
    # ... and the entry itself, edited, is not its own duplicate.
    clinic.check(service_date=day, minutes=15, exclude_id=first.id)


def test_no_one_logs_more_than_a_day_on_one_service_date(clinic: Clinic) -> None:
    day = dt.date(2026, 10, 9)
    clinic.manual("nurse", "chicago", day, 600)
    clinic.manual("nurse", "chicago2", day, 600)
    refusal = refused(clinic.check, patient="guam", service_date=day, minutes=241)
    assert (refusal.status, refusal.field) == (422, "minutes")
    assert "1441 minutes logged on 2026-10-09" in refusal.message
    clinic.check(patient="guam", service_date=day, minutes=240)
    clinic.check(patient="guam", service_date=day + dt.timedelta(days=1), minutes=241)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ended_at": None}, "ended_at"),
        ({"started_at": None}, "started_at"),
        ({"ended_at": at(7, 15)}, "ended_at"),  # not after the start
        ({"started_at": at(30, 12, 30), "ended_at": at(30, 12, 50)}, "ended_at"),  # the future
        ({"minutes": 21}, "minutes"),  # 15:00 to 15:20:59 is 20 whole minutes
        ({"service_date": dt.date(2026, 10, 8)}, "service_date"),
        ({"started_at": None, "ended_at": None, "service_date": dt.date(2026, 11, 1)}, "service_date"),
    ],
)
def test_times_must_agree_with_each_other_with_the_minutes_and_the_day(
    clinic: Clinic, change: dict[str, Any], field: str
) -> None:
    entry = {
        "service_date": dt.date(2026, 10, 7),
        "started_at": at(7, 15),
        "ended_at": at(7, 15, 20, 59),
        "minutes": 20,
        **change,
    }
    refusal = refused(clinic.check, **entry)
    assert (refusal.status, refusal.field) == (422, field), refusal.message


def test_the_day_of_a_timed_entry_is_the_patients_own(clinic: Clinic) -> None:
    # 03:00 UTC on the 8th is the 7th in Chicago and the 8th in Guam.
    clinic.check(service_date=dt.date(2026, 10, 7), started_at=at(8, 3), ended_at=at(8, 3, 10), minutes=10)
    clinic.check(
        patient="guam", service_date=dt.date(2026, 10, 8), started_at=at(8, 3), ended_at=at(8, 3, 10), minutes=10
    )


# --- the minutes reach the billing run ------------------------------------------------------------


def test_minutes_logged_by_the_timer_are_billed_with_their_evidence(clinic: Clinic) -> None:
    session, practice, patient = clinic.session, clinic.practice, clinic.patients["chicago"]
    session.add(Enrollment(practice_id=practice, patient_id=patient, program=RPM, start_date=dt.date(2026, 10, 1)))
    session.add(
        Consent(
            practice_id=practice, patient_id=patient, program=RPM, obtained_on=dt.date(2026, 9, 30), method="verbal"
        )
    )
    session.commit()
    clinic.start("nurse", "chicago", at(6, 15))
    call = clinic.stop("nurse", at(6, 15, 12, 40), interactive=True, interaction_mode="audio")
    review = clinic.timed("nurse", "chicago", at(14, 16), 9)
    # Time on another patient, and on CCM, is not this patient's RPM time.
    clinic.timed("nurse", "chicago2", at(14, 17), 30)
    session.commit()
    assert (call.minutes, review.minutes) == (12, 9)

    report = run_billing(session, practice, Window(dt.date(2026, 10, 1), dt.date(2026, 10, 31)))
    session.commit()
    lines = {line.code: line for line in session.scalars(select(ClaimLine).where(ClaimLine.patient_id == patient))}
    assert "99457" in lines and "99470" not in lines, sorted(lines)  # 2026: 20+ minutes is 99457, not 99470
    evidence = lines["99457"].evidence
    assert evidence["minutes"] == 21
    assert sorted(item["id"] for item in evidence["time_entries"]) == sorted([str(call.id), str(review.id)])
    assert evidence["interactive_contacts"] == ["2026-10-06"]
    assert lines["99457"].id in report.proposed


# --- a minute counted once: staff together, the day's block -------------------------------------


def test_two_staff_on_one_patient_and_program_at_once_count_once(clinic: Clinic) -> None:
    first = clinic.timed("nurse", "chicago", at(7, 15), 20)  # 15:00 to 15:20:30 UTC, the 7th in Chicago
    day = dt.date(2026, 10, 7)
    together: dict[str, Any] = {
        "service_date": day,
        "started_at": at(7, 15, 10),
        "ended_at": at(7, 15, 30),
        "minutes": 20,
    }
    refusal = refused(clinic.check, who="doctor", **together)
    assert (refusal.status, refusal.field, refusal.conflicting_id) == (409, "started_at", first.id)
    assert f"entry {first.id} by user {clinic.users['nurse']}" in refusal.message
    assert refusal.message.endswith("time spent together counts once toward RPM.")
    # The doctor's own minutes on another program, or on another patient, are the doctor's own time.
    clinic.check(who="doctor", **together, program=CCM)
    clinic.check(who="doctor", patient="chicago2", **together)
    # Starting when the nurse's entry ends (15:20:30) touches it, and stands.
    clinic.check(who="doctor", service_date=day, started_at=at(7, 15, 20, 30), ended_at=at(7, 15, 40, 30), minutes=20)


def test_minutes_without_times_must_fit_in_the_time_the_timed_entries_leave(clinic: Clinic) -> None:
    # 22 hours on the Samoan patient from 06:00 UTC on the 9th: the 8th in Samoa, but most of the 9th in
    # the practice's day (Chicago, 05:00 UTC on the 9th to 05:00 on the 10th). The timer's extra 30 seconds
    # (not counted in its minutes, but spent) leave 119 whole minutes free.
    clinic.timed("nurse", "samoa", at(9, 6), 22 * 60)
    day = dt.date(2026, 10, 9)
    refusal = refused(clinic.check, service_date=day, minutes=120)
    assert (refusal.status, refusal.field) == (422, "minutes")
    assert "120 minutes without times do not fit on 2026-10-09" in refusal.message
    assert "leave 119 of the day's 24 hours (America/Chicago) free" in refusal.message
    clinic.check(service_date=day, minutes=119)
    # The day after has its own block.
    clinic.check(service_date=day + dt.timedelta(days=1), minutes=121)


def test_a_timed_entry_must_leave_room_for_the_days_block(clinic: Clinic) -> None:
    day = dt.date(2026, 10, 9)
    block = clinic.manual("nurse", "chicago", day, 180)
    clinic.manual("nurse", "chicago2", day, 60)
    # 21 hours on the Samoan patient (the 8th in Samoa) from 05:00 UTC, midnight in Chicago, leave the
    # practice's 9th 180 minutes: too few for the 240 without times.
    samoa: dict[str, Any] = {"patient": "samoa", "service_date": dt.date(2026, 10, 8), "started_at": at(9, 5)}
    refusal = refused(clinic.check, **samoa, ended_at=at(10, 2), minutes=21 * 60)
    assert (refusal.status, refusal.field, refusal.conflicting_id) == (409, "started_at", block.id)
    assert "leaves 180 free minutes on 2026-10-09" in refusal.message
    assert f"entry {block.id} (180 min)" in refusal.message
    clinic.check(**samoa, ended_at=at(10, 1), minutes=20 * 60)


def test_the_days_block_is_23_hours_on_the_day_the_clocks_go_forward(clinic: Clinic) -> None:
    spring = dt.date(2026, 3, 8)
    refusal = refused(clinic.check, service_date=spring, minutes=23 * 60 + 1)
    assert "of the day's 23 hours (America/Chicago)" in refusal.message
    clinic.check(service_date=spring, minutes=23 * 60)
    clinic.check(service_date=spring + dt.timedelta(days=1), minutes=23 * 60 + 1)


# --- history: edits and deletions kept ------------------------------------------------------------


def test_a_deleted_entry_is_kept_frees_its_minutes_and_cannot_be_deleted_again(clinic: Clinic) -> None:
    entry = clinic.timed("nurse", "chicago", at(7, 15), 20)
    stale = refused(
        time_entry_history.delete_entry, clinic.session, entry, clinic.users["nurse"], "why", version=entry.version + 1
    )
    assert (stale.status, stale.field) == (409, "version")
    blank = refused(time_entry_history.delete_entry, clinic.session, entry, None, "  ", version=entry.version)
    assert (blank.status, blank.field) == (422, "reason")

    time_entry_history.delete_entry(
        clinic.session, entry, clinic.users["nurse"], "logged on the wrong patient", version=entry.version, now=at(8, 9)
    )
    clinic.session.commit()
    assert entries(clinic) == [entry]  # kept
    assert (entry.deleted_at, entry.deleted_by, entry.delete_reason) == (
        at(8, 9),
        clinic.users["nurse"],
        "logged on the wrong patient",
    )
    # Its minutes are free again: the same stretch logged on the right patient stands.
    clinic.check(
        patient="chicago2", service_date=dt.date(2026, 10, 7), started_at=at(7, 15), ended_at=at(7, 15, 20), minutes=20
    )
    again = refused(time_entry_history.delete_entry, clinic.session, entry, None, "again", version=entry.version)
    assert (again.status, again.field) == (409, "version") and "was deleted on" in again.message

    history = time_entry_history.versions(clinic.session, clinic.practice, entry.id)
    assert [(v.version, v.action, v.changed_by_name) for v in history] == [
        (1, "create", "nurse"),
        (2, "delete", "nurse"),
    ]
    assert history[0].snapshot["minutes"] == 20 and history[0].snapshot["deleted_at"] is None
    assert history[1].changes == {
        "deleted_at": {"from": None, "to": at(8, 9).isoformat()},
        "deleted_by": {"from": None, "to": clinic.users["nurse"]},
        "delete_reason": {"from": None, "to": "logged on the wrong patient"},
    }


def test_a_deleted_entrys_minutes_are_no_longer_billed(clinic: Clinic) -> None:
    session, practice, patient = clinic.session, clinic.practice, clinic.patients["chicago"]
    session.add(Enrollment(practice_id=practice, patient_id=patient, program=RPM, start_date=dt.date(2026, 10, 1)))
    session.add(
        Consent(
            practice_id=practice, patient_id=patient, program=RPM, obtained_on=dt.date(2026, 9, 30), method="verbal"
        )
    )
    session.commit()
    clinic.start("nurse", "chicago", at(6, 15))
    clinic.stop("nurse", at(6, 15, 12, 40), interactive=True, interaction_mode="audio")
    review = clinic.timed("nurse", "chicago", at(14, 16), 9)
    october = Window(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    run_billing(session, practice, october)
    session.commit()
    line = session.scalar(select(ClaimLine).where(ClaimLine.patient_id == patient, ClaimLine.code == "99457"))
    assert line is not None and line.status is ClaimStatus.PROPOSED

    time_entry_history.delete_entry(
        session, review, clinic.users["nurse"], "duplicate of a call", version=review.version
    )
    session.commit()
    report = run_billing(session, practice, october)
    session.commit()
    assert line.id in report.voided  # 12 minutes are not 20
    assert session.scalar(select(ClaimLine.status).where(ClaimLine.id == line.id)) is ClaimStatus.VOID


# --- two writers at once --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second_who", "second_patient"),
    [("nurse", "chicago2"), ("doctor", "chicago")],
    ids=["one person, two patients", "two staff, one patient and program"],
)
def test_two_writers_at_once_cannot_both_log_the_same_minutes(
    database_url: str, clinic: Clinic, second_who: str, second_patient: str
) -> None:
    """The first writer holds its checked entry uncommitted for a moment; the second starts its checks in
    that moment. Without the ledger's lock both would pass; with it the second waits, then sees the first."""
    engine = make_engine(database_url)
    checked = threading.Event()
    outcomes: dict[str, object] = {}

    def write(name: str, who: str, patient: str) -> None:
        with Session(engine) as session:
            if name == "second":
                checked.wait(timeout=10)
            try:
                time_ledger.check_entry(
                    session,
                    clinic.practice,
                    clinic.users[who],
                    service_date=dt.date(2026, 10, 7),
                    started_at=at(7, 15),
                    ended_at=at(7, 15, 20),
                    minutes=20,
                    patient_id=clinic.patients[patient],
                    program=RPM,
                    now=at(30, 12),
                )
                if name == "first":
                    checked.set()
                    time.sleep(0.5)
                session.add(
                    TimeEntry(
                        practice_id=clinic.practice,
                        patient_id=clinic.patients[patient],
                        user_id=clinic.users[who],
                        program=RPM,
                        performer=Performer.CLINICAL_STAFF,
                        service_date=dt.date(2026, 10, 7),
                        started_at=at(7, 15),
                        ended_at=at(7, 15, 20),
                        minutes=20,
                    )
                )
                session.commit()
                outcomes[name] = "stored"
            except LedgerRefusal as refusal:
                session.rollback()
                outcomes[name] = refusal.status
            finally:
                checked.set()

    threads = [
        threading.Thread(target=write, args=("first", "nurse", "chicago")),
        threading.Thread(target=write, args=("second", second_who, second_patient)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert outcomes == {"first": "stored", "second": 409}
    clinic.session.expire_all()
    assert len(entries(clinic)) == 1
