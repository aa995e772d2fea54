"""A synthetic practice for demos and benchmarks: realistic in shape, never real people.

Patients live in several US time zones and are enrolled in a mix of programs
(RPM, RTM, CCM, and RPM with CCM). Each sends readings on most days, some on
few: adherence varies by patient, with gaps. Staff log minutes a few times a
month, some of it on interactive calls. Everything is written with bulk
inserts, table by table, in chunks: 100,000 patients take minutes, not hours.

With `through` (the CLI passes today), readings and a few minutes go on past
the month up to that day, drawn from each patient's own random stream so the
month itself is the same whatever `through` is: the worklist then shows open
periods as a care team would find them. Patients are shared between two care
managers; a few recent readings cross an alert threshold (and open alerts),
and CCM patients have care plans, some still missing an element.

A few patients carry deliberate problems, so the compliance self-audit of a
demo practice has something to find (see `demo_problem`): an RPM enrollment
without an ordering provider or without a monitored condition, no visit
before monitoring, time logged before consent, and two 30-day periods that
both end in the month (on its 1st and its 31st).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program, RtmFocus
from remotecare.domain.time_entries import Performer
from remotecare.services.alerting import raise_alerts
from remotecare.store.base import utc_now
from remotecare.store.batches import chunks
from remotecare.store.models import (
    CarePlan,
    Consent,
    Device,
    DeviceAssignment,
    Encounter,
    Enrollment,
    Observation,
    Patient,
    Practice,
    Role,
    TimeEntry,
    User,
)

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles")
CONDITIONS = (["I10", "E11.9"], ["I50.9", "N18.3"], ["J44.9", "I10"], ["M54.50", "M17.11"], ["E66.9", "I10", "E78.5"])
ROWS_PER_INSERT = 5000
ALERT_EVERY = 40  # one RPM patient in 40 has a recent reading over the blood-pressure threshold
ALERT_SOURCE = "demo-alert"
PATIENTS_PER_BATCH = 500  # their rows built, then written, a batch at a time
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
# Deliberate problems, by a patient's number in the generated run (0 for the first): one in every 50.
PROBLEM_EVERY = 50
PROBLEMS = {
    7: "no_ordering_provider",
    13: "no_monitored_condition",
    19: "no_prior_visit",
    29: "time_before_consent",
    37: "two_device_periods",  # periods ending on the month's 1st and 31st; billable from 2026 (99445)
}


@dataclass(frozen=True, slots=True)
class DemoSummary:
    practice_id: int
    patients: int
    readings: int
    time_entries: int


def generate(
    engine: Engine,
    practice_id: int,
    patients: int,
    month: dt.date,
    *,
    seed: int = 2026,
    through: dt.date | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Add `patients` synthetic patients to the practice, with a calendar month of activity from `month`'s
    first day (and the two weeks before it, so the first 30-day periods can close), and, with `through`
    after the month, activity on until that day."""
    rng = random.Random(seed)
    first = month.replace(day=1)
    start = first - dt.timedelta(days=14)
    end = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    recent = (end + dt.timedelta(days=1), through) if through is not None and through > end else None
    now = utc_now()
    with engine.begin() as connection:
        staff = _staff(connection, practice_id)
        ids = Ids(*(_next_id(connection, model) for model in (Patient, Enrollment, Device)))
        first_patient = ids.patient
        readings = entries = 0
        for offset in range(0, patients, PATIENTS_PER_BATCH):
            batch = range(first_patient + offset, first_patient + min(patients, offset + PATIENTS_PER_BATCH))
            rows = _people(rng, practice_id, batch, first_patient, (start, first, end), staff, now, ids, recent, seed)
            for model, values in rows.items():
                for chunk in chunks(values, ROWS_PER_INSERT):
                    connection.execute(insert(model), chunk)
            readings += len(rows[Observation])
            entries += len(rows[TimeEntry])
            if on_progress is not None:
                on_progress(min(patients, offset + PATIENTS_PER_BATCH))
        _raise_demo_alerts(connection, practice_id)
        if connection.dialect.name == "postgresql":  # ids were given here: move the sequences past them
            for model in (Patient, Enrollment, Device):
                table = model.__tablename__
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
    return DemoSummary(practice_id, patients, readings, entries)


@dataclass
class Ids:
    """The next id of each table whose rows others point at, so related rows are written in bulk."""

    patient: int
    enrollment: int
    device: int


def _raise_demo_alerts(connection: Any, practice_id: int) -> None:
    """The alerts the demo's high readings call for, raised as ingestion raises them."""
    high = connection.execute(
        select(Observation.id).where(Observation.practice_id == practice_id, Observation.source == ALERT_SOURCE)
    ).scalars()
    with Session(bind=connection) as session:  # joins the generator's transaction
        raise_alerts(session, practice_id, list(high))


def _next_id(connection: Any, model: Any) -> int:
    return int(connection.execute(select(model.id).order_by(model.id.desc()).limit(1)).scalar() or 0) + 1


def _staff(connection: Any, practice_id: int) -> dict[str, int]:
    """A physician and two nurses, made once per practice (their e-mails name the practice: e-mails are
    unique across practices). They cannot log in: no password hashes to theirs."""
    domain = f"@practice{practice_id}.staff.demo.example"
    found = dict(
        connection.execute(
            select(User.email, User.id).where(User.practice_id == practice_id, User.email.like(f"%{domain}"))
        ).all()
    )
    people = (
        ("physician", "Dana Synthetic", Role.PHYSICIAN, "1245319599"),
        ("nurse", "Robin Synthetic", Role.CLINICAL_STAFF, None),
        ("nurse2", "Casey Synthetic", Role.CLINICAL_STAFF, None),
    )
    for key, name, role, npi in people:
        email = key + domain
        if email not in found:
            found[email] = connection.execute(
                insert(User).returning(User.id),
                {
                    "practice_id": practice_id,
                    "email": email,
                    "full_name": name,
                    "role": role,
                    "password_hash": "!",
                    "active": True,
                    "npi": npi,
                    "created_at": utc_now(),
                    "updated_at": utc_now(),
                    "version": 1,
                },
            ).scalar_one()
    return {key: found[key + domain] for key, _, _, _ in people}


def demo_problem(number: int) -> str | None:
    """The deliberate problem of the patient generated `number`th (from 0), if any; each is an RPM patient."""
    return PROBLEMS.get(number % PROBLEM_EVERY)


def _people(
    rng: random.Random,
    practice_id: int,
    patient_ids: range,
    first_patient: int,
    span: tuple[dt.date, dt.date, dt.date],  # activity start, the month's first day, its last
    staff: dict[str, int],
    now: dt.datetime,
    ids: Ids,
    recent: tuple[dt.date, dt.date] | None = None,
    seed: int = 2026,
) -> dict[type[Any], list[dict[str, Any]]]:
    start, first, end = span
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    rows: dict[type[Any], list[dict[str, Any]]] = {
        model: []
        for model in (
            Patient,
            Enrollment,
            Consent,
            Device,
            DeviceAssignment,
            Observation,
            TimeEntry,
            Encounter,
            CarePlan,
        )
    }
    for patient_id in patient_ids:
        zone = ZONES[patient_id % len(ZONES)]
        conditions = CONDITIONS[patient_id % len(CONDITIONS)]
        rows[Patient].append(
            {
                "id": patient_id,
                "practice_id": practice_id,
                "given_name": "Synthetic",
                "family_name": f"Patient {patient_id:06d}",
                "birth_date": dt.date(1935 + patient_id % 35, 1 + patient_id % 12, 1 + patient_id % 28),
                "medicare_id": _mbi(patient_id),
                "timezone": zone,
                "conditions": conditions,
                "established": True,
                "sex": "FM"[patient_id % 2],
                "address_line1": f"{patient_id % 9000 + 100} Synthetic Street",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
                "care_manager_id": staff["nurse" if patient_id % 2 else "nurse2"],
                **stamps,
            }
        )
        programs = _programs(rng)
        enrolled = start - dt.timedelta(days=rng.randrange(0, 120))
        visit = enrolled - dt.timedelta(days=rng.randrange(1, 60))
        adherence = rng.betavariate(5, 2)  # most patients send on most days; some rarely
        problem = demo_problem(patient_id - first_patient)
        if problem is not None:  # drawn as the others were, so every other patient stays as it was
            programs, adherence = [Program.RPM], max(adherence, 0.9)
            if problem == "two_device_periods":
                enrolled = first - dt.timedelta(days=29)
        if problem != "no_prior_visit":
            rows[Encounter].append(
                {
                    "practice_id": practice_id,
                    "patient_id": patient_id,
                    "date": visit,
                    "type": "office_visit",
                    "face_to_face": True,
                    **stamps,
                }
            )
        for program in programs:
            enrollment_id, ids.enrollment = ids.enrollment, ids.enrollment + 1
            rows[Enrollment].append(
                {
                    "id": enrollment_id,
                    "practice_id": practice_id,
                    "patient_id": patient_id,
                    "program": program,
                    "start_date": enrolled,
                    "focus": RtmFocus.MUSCULOSKELETAL if program == Program.RTM else None,
                    "complex": False,
                    "billing_provider_id": staff["physician"],
                    "ordering_provider_id": None if problem == "no_ordering_provider" else staff["physician"],
                    "monitored_conditions": [] if problem == "no_monitored_condition" else conditions[:1],
                    **stamps,
                }
            )
            consent = enrolled - dt.timedelta(days=1)
            if problem == "time_before_consent":  # consent on the 6th, a call logged on the 3rd
                consent = first + dt.timedelta(days=5)
                rows[TimeEntry].append(
                    _call(practice_id, patient_id, program, first + dt.timedelta(days=2), staff, stamps)
                )
            rows[Consent].append(
                {
                    "practice_id": practice_id,
                    "patient_id": patient_id,
                    "program": program,
                    "obtained_on": consent,
                    "method": "verbal",
                    **stamps,
                }
            )
            if program in (Program.RPM, Program.RTM):
                device_id, ids.device = ids.device, ids.device + 1
                kind = "bp_cuff" if program == Program.RPM else "therapy_app"
                rows[Device].append(
                    {
                        "id": device_id,
                        "practice_id": practice_id,
                        "serial": f"DEMO-{device_id:08d}",
                        "kind": kind,
                        "medical_device": True,
                        **stamps,
                    }
                )
                rows[DeviceAssignment].append(
                    {
                        "practice_id": practice_id,
                        "device_id": device_id,
                        "patient_id": patient_id,
                        "program": program,
                        "start_date": enrolled,
                        **stamps,
                    }
                )
                rows[Observation].extend(
                    _readings(rng, practice_id, patient_id, device_id, program, zone, start, end, adherence, now)
                )
                if recent is not None:
                    own = random.Random(seed * 100_003 + patient_id * 7 + len(program))  # the month stays as it was
                    later = list(
                        _readings(own, practice_id, patient_id, device_id, program, zone, *recent, adherence, now)
                    )
                    if program == Program.RPM and patient_id % ALERT_EVERY == 0 and later:
                        later[-1] = {**later[-1], "values": {"systolic": 184, "diastolic": 96}, "source": ALERT_SOURCE}
                    rows[Observation].extend(later)
            rows[TimeEntry].extend(_minutes(rng, practice_id, patient_id, program, start, end, staff, stamps))
            if recent is not None:
                own = random.Random(seed * 200_003 + patient_id * 7 + len(program))
                rows[TimeEntry].extend(
                    _minutes(own, practice_id, patient_id, program, *recent, staff, stamps, visits=2)
                )
            if program == Program.CCM:
                rows[CarePlan].append(_care_plan(practice_id, patient_id, conditions, first, stamps))
    return rows


def _care_plan(
    practice_id: int, patient_id: int, conditions: list[str], first: dt.date, stamps: dict[str, Any]
) -> dict[str, Any]:
    """A CCM care plan; one in three still lacks a goal's target date, for the care team to finish."""
    target = None if patient_id % 3 == 0 else (first + dt.timedelta(days=90)).isoformat()
    return {
        "practice_id": practice_id,
        "patient_id": patient_id,
        "program": Program.CCM,
        "problems": conditions,
        "goals": [{"description": "Blood pressure under 130/80 at home", "target_date": target}],
        "interventions": [{"description": "Weekly call to review readings and medicines", "responsible": "nurse"}],
        "strengths": [],
        "desired_outcomes": ["Stay out of hospital"],
        "review_date": first + dt.timedelta(days=90),
        **stamps,
    }


def _programs(rng: random.Random) -> list[Program]:
    roll = rng.random()
    if roll < 0.45:
        return [Program.RPM]
    if roll < 0.60:
        return [Program.RTM]
    if roll < 0.80:
        return [Program.CCM]
    return [Program.RPM, Program.CCM]


def _readings(
    rng: random.Random,
    practice_id: int,
    patient_id: int,
    device_id: int,
    program: Program,
    zone: str,
    start: dt.date,
    end: dt.date,
    adherence: float,
    now: dt.datetime,
) -> Iterator[dict[str, Any]]:
    tz = ZoneInfo(zone)
    gap_from = start + dt.timedelta(days=rng.randrange(0, 40))
    gap_days = rng.choice((0, 0, 0, 3, 7))  # a trip, a hospital stay: no readings at all
    day = start
    while day <= end:
        if not gap_from <= day < gap_from + dt.timedelta(days=gap_days) and rng.random() < adherence:
            local = dt.datetime(day.year, day.month, day.day, rng.randrange(6, 21), rng.randrange(60), tzinfo=tz)
            at = local.astimezone(dt.UTC)
            if at < now:
                values: dict[str, Any] = (
                    {"systolic": rng.randrange(105, 165), "diastolic": rng.randrange(62, 98)}
                    if program == Program.RPM
                    else {"taken": True}
                )
                yield {
                    "practice_id": practice_id,
                    "patient_id": patient_id,
                    "device_id": device_id,
                    "type": "blood_pressure" if program == Program.RPM else "therapy_adherence",
                    "values": values,
                    "effective_at": at,
                    "local_date": day,
                    "manual": False,
                    "source": "demo",
                    "external_id": None,
                    "content_key": f"demo-{device_id}-{day.isoformat()}",
                    "received_at": at,
                    "provenance": {},
                }
        day += dt.timedelta(days=1)


def _minutes(
    rng: random.Random,
    practice_id: int,
    patient_id: int,
    program: Program,
    start: dt.date,
    end: dt.date,
    staff: dict[str, int],
    stamps: dict[str, Any],
    visits: int | None = None,
) -> Iterator[dict[str, Any]]:
    days = (end - start).days
    for _ in range(visits if visits is not None else rng.choice((1, 2, 3, 3, 4))):
        by_physician = rng.random() < 0.15
        yield {
            "practice_id": practice_id,
            "patient_id": patient_id,
            "user_id": staff["physician" if by_physician else "nurse"],
            "program": program,
            "performer": Performer.PHYSICIAN if by_physician else Performer.CLINICAL_STAFF,
            "service_date": start + dt.timedelta(days=rng.randrange(days + 1)),
            "minutes": rng.choice((5, 8, 10, 12, 15, 20, 25)),
            **_contact(rng.random() < 0.4),
            **stamps,
        }


def _call(
    practice_id: int, patient_id: int, program: Program, day: dt.date, staff: dict[str, int], stamps: dict[str, Any]
) -> dict[str, Any]:
    return {
        "practice_id": practice_id,
        "patient_id": patient_id,
        "user_id": staff["nurse"],
        "program": program,
        "performer": Performer.CLINICAL_STAFF,
        "service_date": day,
        "minutes": 10,
        **_contact(True),
        **stamps,
    }


def _contact(interactive: bool) -> dict[str, Any]:
    """A call is audio (the ledger's mode for a telephone call); time that was not interactive has no mode."""
    return {"interactive": interactive, "interaction_mode": "audio" if interactive else None}


def _mbi(number: int) -> str:
    """A well-formed Medicare Beneficiary Identifier (11 characters), synthetic and unique per number."""
    letters = MBI_LETTERS
    n = number
    parts = []
    for _ in range(4):
        n, rest = divmod(n, len(letters))
        parts.append(letters[rest])
    digits = f"{number % 10000:04d}"
    return (
        f"{1 + number % 9}{parts[0]}{digits[0]}{digits[1]}{parts[1]}{parts[2]}{digits[2]}{parts[3]}"
        f"{letters[number % 20]}{digits[3]}{number // 10 % 10}"
    )


def demo_practice(engine: Engine, name: str) -> int:
    """The practice called `name`, made if new, with billing details a claim needs."""
    with engine.begin() as connection:
        found = connection.execute(select(Practice.id).where(Practice.name == name)).scalar()
        if found is not None:
            return int(found)
        return int(
            connection.execute(
                insert(Practice).returning(Practice.id),
                {
                    "name": name,
                    "npi": "1234567893",
                    "timezone": "America/Chicago",
                    "tax_id": "123456789",
                    "place_of_service": "11",
                    "payer_name": "Synthetic Medicare Contractor",
                    "payer_id": "99999",
                    "phone": "2175550100",
                    "address_line1": "1 Synthetic Way",
                    "city": "Springfield",
                    "state": "IL",
                    "postal_code": "627011234",
                    "created_at": utc_now(),
                    "updated_at": utc_now(),
                },
            ).scalar_one()
        )
