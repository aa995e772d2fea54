"""The outreach list against figures worked out by hand, at each boundary, on both databases.

Every patient here starts monitoring on 1 March 2026 (2026 rules: 99454 at 16 days, 99445 at 2-15), so
the first 30-day period is 1 to 30 March. "As of" a day means during it: a patient with no reading yet
that day can still add it, so the days open for data are the days after as_of, plus as_of without one.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from remotecare.cli import app as cli_app
from remotecare.config import get_settings
from remotecare.domain.programs import Program, RtmFocus
from remotecare.rules.forecast import DeviceForecast, Status
from remotecare.services.outreach import AT_RISK, CANNOT_REACH_16, QUIET, OutreachItem, outreach_list
from remotecare.services.worklist import worklist
from remotecare.store.models import (
    Consent,
    Device,
    DeviceAssignment,
    Enrollment,
    Observation,
    Patient,
    Practice,
)
from remotecare.store.session import make_engine

START = dt.date(2026, 3, 1)
MEDICARE_IDS = itertools.count(1)
PERIOD_END = dt.date(2026, 3, 30)


def march(*days: int) -> list[dt.date]:
    return [dt.date(2026, 3, day) for day in days]


def span(first: int, last: int) -> list[dt.date]:
    return march(*range(first, last + 1))


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def practice(session: Session, name: str = "Outreach Clinic") -> int:
    return int(add(session, Practice(name=name)).id)


def monitored_patient(
    session: Session,
    practice_id: int,
    family_name: str,
    days: Iterable[dt.date],
    *,
    program: Program = Program.RPM,
    start: dt.date = START,
    focus: RtmFocus | None = None,
    given_name: str = "Synthetic",
    timezone: str = "America/Chicago",
    phone: str | None = None,
    email: str | None = None,
    medical_device: bool = True,
    manual: bool = False,
) -> int:
    """A patient enrolled in `program` from `start`, with a device from then on and one reading on each day."""
    patient = add(
        session,
        Patient(
            practice_id=practice_id,
            given_name=given_name,
            family_name=family_name,
            birth_date=dt.date(1950, 1, 1),
            medicare_id=f"MBI{next(MEDICARE_IDS):08d}",
            timezone=timezone,
            conditions=["I10"],
            established=True,
            phone=phone,
            email=email,
        ),
    )
    add(
        session,
        Enrollment(practice_id=practice_id, patient_id=patient.id, program=program, start_date=start, focus=focus),
    )
    add(
        session,
        Consent(
            practice_id=practice_id,
            patient_id=patient.id,
            program=program,
            obtained_on=start - dt.timedelta(days=1),
            method="verbal",
        ),
    )
    device = add(
        session,
        Device(practice_id=practice_id, serial=f"SN-{patient.id}", kind="bp_cuff", medical_device=medical_device),
    )
    add(
        session,
        DeviceAssignment(
            practice_id=practice_id, device_id=device.id, patient_id=patient.id, program=program, start_date=start
        ),
    )
    for day in days:
        session.add(
            Observation(
                practice_id=practice_id,
                patient_id=patient.id,
                device_id=device.id,
                type="blood_pressure",
                values={"systolic": 128, "diastolic": 80},
                effective_at=dt.datetime.combine(day, dt.time(17), tzinfo=dt.UTC),  # late morning in Chicago
                local_date=day,
                manual=manual,
                content_key=f"{patient.id}-{day.isoformat()}",
            )
        )
    session.flush()
    return int(patient.id)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with Session(engine) as db:
        yield db
    engine.dispose()


def by_name(items: list[OutreachItem]) -> dict[str, OutreachItem]:
    return {item.patient_name.split(",")[0]: item for item in items}


def test_quiet_starts_at_exactly_quiet_days_without_data(session: Session) -> None:
    clinic = practice(session)
    monitored_patient(session, clinic, "Three", span(1, 7))  # last reading 7 March: 3 days before the 10th
    monitored_patient(session, clinic, "Two", span(1, 8))  # 2 days before
    monitored_patient(session, clinic, "Never", [])
    session.commit()

    items = by_name(outreach_list(session, clinic, dt.date(2026, 3, 10), quiet_days=3, margin=2))

    assert set(items) == {"Three", "Never"}  # "Two" has no reason: not quiet, and 13 days to spare
    three = items["Three"]
    assert (three.last_reading, three.days_since_last_reading, three.reasons) == (dt.date(2026, 3, 7), 3, (QUIET,))
    # 7 days so far; 20 days after the 10th, plus the 10th itself (no reading yet): 21 open, 9 needed, 12 spare.
    assert (three.days_with_data, three.days_left, three.days_open, three.days_needed, three.spare_days) == (
        7,
        20,
        21,
        9,
        12,
    )
    never = items["Never"]
    assert (never.last_reading, never.days_since_last_reading, never.reasons) == (None, None, (QUIET,))
    assert (never.days_needed, never.spare_days) == (16, 5)
    # With quiet_days=2, "Two" is quiet too.
    assert "Two" in by_name(outreach_list(session, clinic, dt.date(2026, 3, 10), quiet_days=2))


def test_at_risk_exactly_at_the_margin_and_not_with_one_spare_day_more(session: Session) -> None:
    clinic = practice(session)
    monitored_patient(session, clinic, "Margin", span(13, 20))  # 8 days, the last today: 10 open, 8 needed
    monitored_patient(session, clinic, "Spare", span(12, 20))  # 9 days: 10 open, 7 needed, 3 spare
    monitored_patient(session, clinic, "Tomorrow", span(12, 19))  # 8 days, none yet today: 11 open, 8 needed
    session.commit()

    items = by_name(outreach_list(session, clinic, dt.date(2026, 3, 20), quiet_days=3, margin=2))

    assert set(items) == {"Margin"}
    margin = items["Margin"]
    assert (margin.days_with_data, margin.days_left, margin.days_open, margin.days_needed) == (8, 10, 10, 8)
    assert (margin.spare_days, margin.reasons, margin.full_days) == (2, (AT_RISK,), 16)
    # One spare day fewer allowed: nobody is at risk; one more: "Spare" and "Tomorrow" are.
    assert outreach_list(session, clinic, dt.date(2026, 3, 20), margin=1) == []
    wider = by_name(outreach_list(session, clinic, dt.date(2026, 3, 20), margin=3))
    assert {name: item.spare_days for name, item in wider.items()} == {"Margin": 2, "Spare": 3, "Tomorrow": 3}
    assert [item.patient_name.split(",")[0] for item in outreach_list(session, clinic, dt.date(2026, 3, 20), margin=3)][
        0
    ] == "Margin"  # fewest spare days first


def test_sixteen_is_reachable_through_the_last_day_that_leaves_enough_days_and_not_after(session: Session) -> None:
    clinic = practice(session)
    monitored_patient(session, clinic, "Five", span(1, 5))  # 5 days, then silence: 11 more needed
    session.commit()

    # 20 March: 10 days after it, plus the 20th itself = 11 open, exactly the 11 needed.
    last_chance = by_name(outreach_list(session, clinic, dt.date(2026, 3, 20)))["Five"]
    assert (last_chance.days_open, last_chance.days_needed, last_chance.spare_days) == (11, 11, 0)
    assert last_chance.reasons == (QUIET, AT_RISK)
    assert last_chance.days_since_last_reading == 15
    # 21 March: 10 open, 11 needed: 16 is out of reach; 99445 (2 days) is already earned.
    too_late = by_name(outreach_list(session, clinic, dt.date(2026, 3, 21)))["Five"]
    assert (too_late.days_open, too_late.spare_days, too_late.reasons) == (10, -1, (QUIET, CANNOT_REACH_16))
    assert (too_late.short_code, too_late.short_code_days, too_late.short_code_reachable) == ("99445", 2, True)


def test_the_outreach_list_reads_the_worklist_forecast(session: Session) -> None:
    clinic = practice(session)
    monitored_patient(session, clinic, "Five", span(1, 5))
    monitored_patient(session, clinic, "Zero", [])
    session.commit()

    on_20th = by_name(outreach_list(session, clinic, dt.date(2026, 3, 20)))
    five = on_20th["Five"]
    # The 20th is the last day a reading keeps 16 reachable: it must come before midnight in Chicago (CDT).
    assert (five.status, five.next_reading_by) == (Status.AT_RISK, dt.date(2026, 3, 20))
    assert five.next_reading_by_utc == dt.datetime(2026, 3, 21, 5, tzinfo=dt.UTC)
    forecast = next(
        work.forecast
        for work in worklist(session, clinic, dt.date(2026, 3, 20), program=Program.RPM)
        if work.patient_name.startswith("Five") and work.progress["kind"] == "days_with_data"
    )
    assert isinstance(forecast, DeviceForecast)
    assert (five.days_open, five.spare_days, five.days_needed) == (
        forecast.days_open,
        forecast.targets[0].spare_days,
        forecast.targets[0].needed,
    )
    # Zero: 16 is out of reach on the 29th; the 2-day code needs a reading that very day.
    zero = by_name(outreach_list(session, clinic, dt.date(2026, 3, 29)))["Zero"]
    assert (zero.status, zero.short_code_reachable, zero.next_reading_by) == (
        Status.SHORT_CODE_ONLY,
        True,
        dt.date(2026, 3, 29),
    )
    # The day after, 16 is gone and 99445 is earned: nothing more is at stake for Five.
    five_later = by_name(outreach_list(session, clinic, dt.date(2026, 3, 21)))["Five"]
    assert (five_later.status, five_later.next_reading_by, five_later.next_reading_by_utc) == (
        Status.SHORT_CODE_ONLY,
        None,
        None,
    )
    zero_last = by_name(outreach_list(session, clinic, PERIOD_END))["Zero"]
    assert (zero_last.status, zero_last.next_reading_by) == (Status.MISSED, None)


def test_a_period_is_listed_through_its_last_day(session: Session) -> None:
    clinic = practice(session)
    monitored_patient(session, clinic, "One", march(2))  # one day: the 30th (none yet) can make it two
    monitored_patient(session, clinic, "None", [])  # no day: one open day cannot make two
    monitored_patient(session, clinic, "Fifteen", [*span(1, 14), PERIOD_END])  # 14 days, then one on the 30th
    session.commit()

    items = by_name(outreach_list(session, clinic, PERIOD_END))

    one, none = items["One"], items["None"]
    assert (one.period_end, one.days_left, one.days_open, one.days_with_data) == (PERIOD_END, 0, 1, 1)
    assert (one.short_code, one.short_code_reachable, one.spare_days) == ("99445", True, -14)
    assert (none.days_open, none.short_code_reachable, none.reasons) == (1, False, (QUIET, CANNOT_REACH_16))
    # A reading on the last day counts, and leaves no day open: 15 days, 1 short of 16.
    fifteen = items["Fifteen"]
    assert (fifteen.days_with_data, fifteen.days_open, fifteen.last_reading) == (15, 0, PERIOD_END)
    assert (fifteen.spare_days, fifteen.reasons) == (-1, (CANNOT_REACH_16,))
    # The day before: 14 days, the 29th and 30th still open.
    before = by_name(outreach_list(session, clinic, dt.date(2026, 3, 29)))["Fifteen"]
    assert (before.days_with_data, before.days_left, before.days_open, before.spare_days) == (14, 1, 2, 0)
    assert (before.days_since_last_reading, before.reasons) == (15, (QUIET, AT_RISK))


def test_the_thresholds_come_from_the_rules_in_force_for_the_program_and_focus(session: Session) -> None:
    clinic = practice(session)
    # 2025 has no 2-15 day code: the period 1 to 30 December 2025 is judged by the 2025 rules.
    monitored_patient(session, clinic, "Old", [], start=dt.date(2025, 12, 1))
    monitored_patient(session, clinic, "Knee", [], program=Program.RTM, focus=RtmFocus.MUSCULOSKELETAL)
    session.commit()

    old = by_name(outreach_list(session, clinic, dt.date(2025, 12, 28)))["Old"]
    assert (old.full_days, old.spare_days, old.reasons) == (16, -13, (QUIET, CANNOT_REACH_16))
    assert (old.short_code, old.short_code_days, old.short_code_reachable) == (None, None, None)
    knee = by_name(outreach_list(session, clinic, dt.date(2026, 3, 28)))["Knee"]
    assert (knee.program, knee.full_days, knee.short_code, knee.short_code_reachable) == ("RTM", 16, "98985", True)


def test_only_readings_that_count_make_a_last_reading(session: Session) -> None:
    clinic = practice(session)
    monitored_patient(session, clinic, "Manual", span(1, 9), manual=True)  # RPM data must be transmitted
    watcher = monitored_patient(session, clinic, "Watch", [])  # a cuff with no reading, and a watch
    watch = add(session, Device(practice_id=clinic, serial="WATCH-1", kind="watch", medical_device=False))
    add(
        session,
        DeviceAssignment(
            practice_id=clinic, device_id=watch.id, patient_id=watcher, program=Program.RPM, start_date=START
        ),
    )
    for day in span(1, 9):
        session.add(
            Observation(
                practice_id=clinic,
                patient_id=watcher,
                device_id=watch.id,
                type="heart_rate",
                values={"bpm": 70},
                effective_at=dt.datetime.combine(day, dt.time(17), tzinfo=dt.UTC),
                local_date=day,
                content_key=f"watch-{day.isoformat()}",
            )
        )
    session.commit()

    items = by_name(outreach_list(session, clinic, dt.date(2026, 3, 10)))

    assert {name: (item.last_reading, item.days_with_data, item.reasons) for name, item in items.items()} == {
        "Manual": (None, 0, (QUIET,)),
        "Watch": (None, 0, (QUIET,)),
    }


def test_order_at_risk_by_fewest_spare_days_then_quiet_by_longest_silence(session: Session) -> None:
    clinic = practice(session)
    other = practice(session, "Another Clinic")
    monitored_patient(session, clinic, "RiskTwo", span(13, 20))  # spare 2
    monitored_patient(session, clinic, "RiskZero", span(15, 20))  # 6 days: 10 needed, 10 open: spare 0
    monitored_patient(session, clinic, "QuietFive", span(1, 15))  # 15 days, last the 15th: 5 days quiet, spare 10
    monitored_patient(session, clinic, "QuietSix", span(1, 14))  # 14 days, last the 14th: 6 days quiet, spare 9
    monitored_patient(session, clinic, "Lost", march(1, 2, 20))  # 3 days; 13 needed, 10 open: out of reach
    monitored_patient(session, clinic, "Fine", span(1, 20))  # 20 days: nothing to do
    monitored_patient(session, other, "Elsewhere", [])  # another practice's patient is never listed
    session.commit()

    items = outreach_list(session, clinic, dt.date(2026, 3, 20))

    assert [(item.patient_name.split(",")[0], item.reasons) for item in items] == [
        ("RiskZero", (AT_RISK,)),
        ("RiskTwo", (AT_RISK,)),
        ("QuietSix", (QUIET,)),
        ("QuietFive", (QUIET,)),
        ("Lost", (CANNOT_REACH_16,)),
    ]


def test_the_queries_do_not_grow_with_the_number_of_patients(database_url: str) -> None:
    engine = make_engine(database_url)

    def statements(patients: int) -> int:
        with Session(engine) as db:
            clinic = practice(db, f"Clinic of {patients}")
            for index in range(patients):
                monitored_patient(db, clinic, f"P{patients}-{index}", span(1, 3))
            db.commit()
            count = 0

            def counted(*_: object) -> None:
                nonlocal count
                count += 1

            event.listen(engine, "before_cursor_execute", counted)
            try:
                assert len(outreach_list(db, clinic, dt.date(2026, 3, 10))) == patients
            finally:
                event.remove(engine, "before_cursor_execute", counted)
            return count

    try:
        assert statements(2) == statements(7)
    finally:
        engine.dispose()


def test_the_outreach_command_prints_the_table(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine: Engine = make_engine(database_url)
    with Session(engine) as db:
        clinic = practice(db)
        monitored_patient(db, clinic, "Five", span(1, 5))
        db.commit()
    engine.dispose()
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["outreach", "--practice", str(clinic), "--as-of", "2026-03-21"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "Five" in line)
    assert "2026-03-05 (16d ago)" in row and "5 of 16" in row and "99445: reachable" in row
    assert "quiet, cannot_reach_16" in row
