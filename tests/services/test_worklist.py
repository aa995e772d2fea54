"""The worklist against figures worked out by hand from the seeded practice, and the billing and worklist
routes of the API, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from remotecare.api.app import create_app
from remotecare.api.security import token_digest
from remotecare.cli import app as cli_app
from remotecare.config import Settings, get_settings
from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.domain.time_entries import Performer
from remotecare.rules import load_rules
from remotecare.rules.evaluate import evaluate_activities
from remotecare.rules.forecast import URGENCY, DeviceForecast, MonthForecast, Status
from remotecare.services.billing_facts import load_facts
from remotecare.services.demo_practice import demo_practice, generate
from remotecare.services.worklist import WorkItem, _urgency, work_items, worklist
from remotecare.services.worklist_cache import CacheStats, WorklistCache
from remotecare.store.models import (
    AuthSession,
    ClaimLine,
    ClaimStatus,
    Device,
    DeviceAssignment,
    Enrollment,
    Observation,
    Patient,
    Role,
    TimeEntry,
    User,
)
from remotecare.store.session import make_engine
from tests.services.test_billing_facts import seed
from tests.services.test_outreach import march, monitored_patient, practice, span


@pytest.fixture
def seeded(database_url: str) -> Iterator[tuple[str, int]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        practice_id = seed(session)
    engine.dispose()
    yield database_url, practice_id


def test_the_worklist_shows_what_each_open_period_still_needs(seeded: tuple[str, int]) -> None:
    url, practice_id = seeded
    engine = make_engine(url)
    with Session(engine) as session:
        items = worklist(session, practice_id, dt.date(2026, 11, 10))
    engine.dispose()
    by_key = {(item.patient_name, item.program, item.progress["kind"]): item for item in items}
    # Chicago: monitoring from 1 October, so the second period is 31 Oct to 29 Nov. Readings on days
    # 32, 36 and 40 of the series (1, 5 and 9 November) are the only ones by the 10th.
    chicago = by_key[("One, Synthetic", "RPM", "days_with_data")]
    assert (chicago.period_start, chicago.period_end, chicago.days_left) == (
        dt.date(2026, 10, 31),
        dt.date(2026, 11, 29),
        19,
    )
    assert chicago.progress["days_with_data"] == 3
    assert chicago.next_code == "99454" and chicago.progress["next_threshold"] == {"code": "99454", "days": 16}
    assert chicago.payment_at_risk_usd == Decimal("47.43")
    # Honolulu: the cuff from 6 October, so 5 Nov to 4 Dec; every third day has no reading: 6, 7, 9, 10 Nov.
    honolulu = by_key[("Two, Synthetic", "RPM", "days_with_data")]
    assert (honolulu.period_start, honolulu.progress["days_with_data"], honolulu.days_left) == (
        dt.date(2026, 11, 5),
        4,
        24,
    )
    ccm = by_key[("Two, Synthetic", "CCM", "minutes")]
    assert (ccm.progress["minutes"], ccm.progress["interactive_contact"], ccm.next_code) == (0, False, "99490")
    # What is about to be lost first, then the most money at risk; a code with no published payment last.
    assert chicago.status == Status.ON_TRACK and chicago.deadline == dt.date(2026, 11, 17)  # 13 more: 17th to 29th
    urgency = [URGENCY[item.status] for item in items if item.status is not None]
    assert urgency == sorted(urgency)
    for status in {item.status for item in items}:
        payments = [item.payment_at_risk_usd for item in items if item.status == status]
        known = [payment for payment in payments if payment is not None]
        assert known == sorted(known, reverse=True) and payments[-len(payments) + len(known) :] == [None] * (
            len(payments) - len(known)
        )


def test_the_worklist_puts_what_is_about_to_be_lost_first_and_filters_by_status_and_program(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    as_of = dt.date(2026, 3, 20)  # periods from 1 March run to the 30th
    with Session(engine) as session:
        clinic = practice(session, "Worklist Clinic")
        monitored_patient(session, clinic, "Done", span(1, 16))  # 16 days: met
        monitored_patient(session, clinic, "Track", span(1, 14))  # 14, none today: 2 of 11 open, by the 29th
        monitored_patient(session, clinic, "Risk", span(13, 20))  # 8, one today: 8 of 10 open, by the 23rd
        monitored_patient(session, clinic, "Short", march(1, 2))  # 2: 16 out of reach, 99445 earned
        monitored_patient(session, clinic, "Late", [])  # none: 16 out of reach, 99445's 2 days by the 29th
        # Monitoring from 19 February: the period's last day is today, and one day cannot make two.
        monitored_patient(session, clinic, "Gone", [], start=dt.date(2026, 2, 19))
        monitored_patient(session, clinic, "Knee", span(1, 20), program=Program.RTM, focus=None)
        session.commit()
        items = worklist(session, clinic, as_of)
        at_risk = worklist(session, clinic, as_of, statuses={Status.AT_RISK})
        lost = worklist(session, clinic, as_of, statuses={Status.MISSED, Status.SHORT_CODE_ONLY}, program=Program.RPM)
        rtm = worklist(session, clinic, as_of, program=Program.RTM)
    engine.dispose()

    device = [item for item in items if isinstance(item.forecast, DeviceForecast)]
    assert [(item.patient_name.split(",")[0], item.status, item.deadline) for item in device] == [
        ("Risk", Status.AT_RISK, dt.date(2026, 3, 23)),
        ("Late", Status.SHORT_CODE_ONLY, dt.date(2026, 3, 29)),  # a deadline before none
        ("Short", Status.SHORT_CODE_ONLY, None),
        ("Track", Status.ON_TRACK, dt.date(2026, 3, 29)),
        ("Gone", Status.MISSED, None),
        ("Done", Status.MET, None),
    ]
    gone = next(item for item in device if item.patient_name.startswith("Gone"))
    assert (gone.period_end, gone.days_left, gone.progress["days_with_data"]) == (as_of, 0, 0)
    # What each can still earn: 99454 while 16 is reachable, the short code (valued as 99454 in 2026) once
    # it is not, nothing once that is earned or out of reach.
    rules = load_rules()
    at_stake = {item.patient_name.split(",")[0]: item.payment_at_risk_usd for item in device}
    assert at_stake["Risk"] == at_stake["Track"] == rules.national_payment("99454", dt.date(2026, 3, 30))
    assert at_stake["Late"] == rules.national_payment("99445", dt.date(2026, 3, 30))
    assert at_stake["Short"] is None and at_stake["Gone"] is None and at_stake["Done"] is None
    risk = device[0]
    assert risk.deadline_utc == dt.datetime(2026, 3, 24, 5, tzinfo=dt.UTC)  # the end of the 23rd in Chicago
    assert items[0] is not None and items[0].patient_name.startswith("Risk")
    # The months: nothing logged, 12 days left (the 20th to the 31st): on track, after the device periods.
    months = [item for item in items if isinstance(item.forecast, MonthForecast)]
    assert {item.status for item in months} == {Status.ON_TRACK} and len(months) == 7
    assert {item.deadline for item in months} == {dt.date(2026, 3, 31)}
    # RTM without a focus has no device-supply code: no forecast, listed last.
    assert items[-1].patient_name.startswith("Knee") and items[-1].status is None
    urgency = [URGENCY[item.status] for item in items if item.status is not None]
    assert urgency == sorted(urgency)

    assert [item.patient_name.split(",")[0] for item in at_risk] == ["Risk"]
    assert [(item.patient_name.split(",")[0], item.status) for item in lost] == [
        ("Late", Status.SHORT_CODE_ONLY),
        ("Short", Status.SHORT_CODE_ONLY),
        ("Gone", Status.MISSED),
    ]
    assert {item.program for item in rtm} == {"RTM"} and len(rtm) == 2  # the 30-day period and the month


def test_the_worklist_command_filters_and_shows_the_status_and_the_deadline(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic = practice(session, "Worklist Clinic")
        monitored_patient(session, clinic, "Risk", span(13, 20))
        monitored_patient(session, clinic, "Done", span(1, 16))
        session.commit()
    engine.dispose()
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        args = ["worklist", "--practice", str(clinic), "--as-of", "2026-03-20"]
        result = runner.invoke(cli_app, [*args, "--status", "at_risk", "--program", "rpm"])
        bad = runner.invoke(cli_app, [*args, "--status", "lost"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.output.splitlines() if "Synthetic" in line]
    assert "Risk" in row and "at_risk" in row and "2026-03-23" in row
    assert bad.exit_code == 2 and "--status: one of met, on_track" in bad.output


def login(url: str, practice_id: int, role: Role) -> dict[str, str]:
    engine = make_engine(url)
    with Session(engine) as session:
        user = User(
            practice_id=practice_id,
            email=f"{role.value}@billing.example.test",
            full_name=role.value,
            role=role,
            password_hash="x",
        )
        session.add(user)
        session.flush()
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=token_digest(f"token-{role.value}"),
                expires_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
            )
        )
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer token-{role.value}"}


def test_a_biller_runs_billing_through_the_api_and_the_care_team_reads_the_worklist(
    seeded: tuple[str, int],
) -> None:
    url, practice_id = seeded
    app = create_app(Settings(database_url=url, cookie_secure=False))
    biller, physician = login(url, practice_id, Role.BILLER), login(url, practice_id, Role.PHYSICIAN)
    with TestClient(app) as client:
        body: dict[str, Any] = {"through": "2026-11-30", "from": "2026-10-01"}
        first = client.post("/billing-runs", json=body, headers=biller)
        assert first.status_code == 200, first.text
        assert len(first.json()["proposed"]) == 9
        again = client.post("/billing-runs", json=body, headers=biller).json()
        assert (again["proposed"], len(again["unchanged"])) == ([], 9)
        assert client.post("/billing-runs", json=body, headers=physician).status_code == 403
        backwards = client.post("/billing-runs", json={"through": "2026-10-01", "from": "2026-11-01"}, headers=biller)
        assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "from"

        listed = client.get("/worklist", params={"as_of": "2026-11-10"}, headers=physician)
        assert listed.status_code == 200, listed.text
        first = listed.json()[0]
        assert (first["payment_at_risk_usd"], first["status"]) == ("47.43", "on_track")
        assert first["deadline"] == "2026-11-17"
        assert first["deadline_utc"] == "2026-11-18T06:00:00Z" and first["forecast"]["targets"][0]["code"] == "99454"
        assert client.get("/worklist", params={"as_of": "yesterday"}, headers=physician).status_code == 422
        filtered = client.get(
            "/worklist",
            params={"as_of": "2026-11-10", "status": ["on_track", "met"], "program": "CCM"},
            headers=physician,
        )
        assert filtered.status_code == 200, filtered.text
        assert {(item["program"], item["status"]) for item in filtered.json()} == {("CCM", "on_track")}
        bad = client.get("/worklist", params={"status": "lost"}, headers=physician)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "status[0]", bad.text
    app.state.engine.dispose()
    engine = make_engine(url)
    with Session(engine) as session:
        assert len(session.scalars(select(ClaimLine)).all()) == 9
    engine.dispose()


def test_the_revenue_report_adds_up_the_lines_by_month_program_and_code(seeded: tuple[str, int]) -> None:
    from remotecare.services.billing_run import run_billing
    from remotecare.services.revenue import revenue
    from tests.services.test_billing_facts import WINDOW

    url, practice_id = seeded
    engine = make_engine(url)
    with Session(engine) as session:
        report = run_billing(session, practice_id, WINDOW)
        session.commit()
        assert report.evaluation is not None
        line = session.scalar(select(ClaimLine).where(ClaimLine.code == "99454").order_by(ClaimLine.id))
        assert line is not None
        line.status = ClaimStatus.APPROVED
        session.commit()
        rows = revenue(session, practice_id, dt.date(2026, 10, 1), dt.date(2026, 11, 30))
    engine.dispose()
    expected_units: dict[tuple[str, str, str], int] = {}
    for proposed in report.evaluation.lines:
        key = (proposed.month, str(proposed.program), proposed.code)
        expected_units[key] = expected_units.get(key, 0) + proposed.units
    assert {(r.month, r.program, r.code): r.units for r in rows} == expected_units
    device = next(r for r in rows if r.code == "99454" and r.month == "2026-10")
    assert device.amount_usd == Decimal("47.43") * device.units and device.proposed_units == device.units - 1


def test_a_biller_approves_voids_and_reviews_lines_but_cannot_mark_one_exported(seeded: tuple[str, int]) -> None:
    url, practice_id = seeded
    app = create_app(Settings(database_url=url, cookie_secure=False))
    biller = login(url, practice_id, Role.BILLER)
    with TestClient(app) as client:
        client.post("/billing-runs", json={"through": "2026-11-30", "from": "2026-10-01"}, headers=biller)
        line = client.get("/claim-lines", params={"code": "99454"}, headers=biller).json()["items"][0]

        def patch(body: dict[str, Any]) -> Any:
            current = client.get(f"/claim-lines/{line['id']}", headers=biller).json()
            return client.patch(
                f"/claim-lines/{line['id']}", json={"version": current["version"], **body}, headers=biller
            )

        exported = patch({"status": "exported"})
        assert exported.status_code == 422 and exported.json()["error"]["field"] == "status"
        assert "can become approved, void" in exported.json()["error"]["message"]
        assert patch({"status": "approved"}).json()["status"] == "approved"
    app.state.engine.dispose()
    engine = make_engine(url)
    with Session(engine) as session:  # late data flags it, as a run would
        row = session.get(ClaimLine, line["id"])
        assert row is not None
        row.needs_review, row.review_note = True, "Data that arrived after it was approved would change units."
        session.commit()
    engine.dispose()
    app = create_app(Settings(database_url=url, cookie_secure=False))
    with TestClient(app) as client:
        current = client.get(f"/claim-lines/{line['id']}", headers=biller).json()
        reviewed = client.patch(
            f"/claim-lines/{line['id']}", json={"version": current["version"], "needs_review": False}, headers=biller
        ).json()
        assert (reviewed["needs_review"], reviewed["review_note"], reviewed["status"]) == (False, None, "approved")
    app.state.engine.dispose()


def staff(session: Session, practice_id: int, name: str) -> int:
    user = User(
        practice_id=practice_id,
        email=f"{name.lower()}.{practice_id}@staff.example.test",
        full_name=name,
        role=Role.CLINICAL_STAFF,
        password_hash="x",
    )
    session.add(user)
    session.flush()
    return int(user.id)


def managed_practice(session: Session) -> tuple[int, int, int]:
    """A practice of four patients: two with Robin as care manager, one with Casey, one with none."""
    clinic = practice(session, "Care Manager Clinic")
    robin, casey = staff(session, clinic, "Robin"), staff(session, clinic, "Casey")
    for name, days, manager in (
        ("Risk", span(13, 20), robin),
        ("Done", span(1, 16), robin),
        ("Track", span(1, 14), casey),
        ("Nobody", span(1, 10), None),
    ):
        patient = session.get(Patient, monitored_patient(session, clinic, name, days))
        assert patient is not None
        patient.care_manager_id = manager
    session.commit()
    return clinic, robin, casey


def test_the_worklist_of_one_care_manager_lists_only_their_patients(database_url: str) -> None:
    engine = make_engine(database_url)
    as_of = dt.date(2026, 3, 20)
    with Session(engine) as session:
        clinic, robin, casey = managed_practice(session)
        everyone = worklist(session, clinic, as_of)
        robins = worklist(session, clinic, as_of, care_manager_id=robin)
        caseys_at_risk = worklist(session, clinic, as_of, care_manager_id=casey, statuses={Status.AT_RISK})
        caseys = worklist(session, clinic, as_of, care_manager_id=casey, program=Program.RPM)
    engine.dispose()
    assert {item.patient_name.split(",")[0] for item in robins} == {"Risk", "Done"}
    # The same items, in the same order, as the whole practice's list without the others' patients.
    assert robins == [item for item in everyone if item.patient_name.split(",")[0] in ("Risk", "Done")]
    assert caseys_at_risk == []
    assert {item.patient_name.split(",")[0] for item in caseys} == {"Track"}
    assert {item.patient_name.split(",")[0] for item in everyone} == {"Risk", "Done", "Track", "Nobody"}


def test_the_worklist_route_and_command_filter_by_care_manager(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic, robin, _ = managed_practice(session)
        elsewhere = staff(session, practice(session, "Other Clinic"), "Alex")
        session.commit()
    engine.dispose()
    physician = login(database_url, clinic, Role.PHYSICIAN)
    app = create_app(Settings(database_url=database_url, cookie_secure=False))
    with TestClient(app) as client:
        params: dict[str, Any] = {"as_of": "2026-03-20", "care_manager_id": robin}
        listed = client.get("/worklist", params=params, headers=physician)
        assert listed.status_code == 200, listed.text
        assert {item["patient_name"].split(",")[0] for item in listed.json()} == {"Risk", "Done"}
        for unknown in (elsewhere, 999_999):
            bad = client.get("/worklist", params={**params, "care_manager_id": unknown}, headers=physician)
            assert bad.status_code == 422 and bad.json()["error"]["field"] == "care_manager_id", bad.text
        zero = client.get("/worklist", params={**params, "care_manager_id": 0}, headers=physician)
        assert zero.status_code == 422 and "care_manager_id" in zero.json()["error"]["field"], zero.text
    app.state.engine.dispose()

    monkeypatch.setenv("REMOTECARE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        args = ["worklist", "--practice", str(clinic), "--as-of", "2026-03-20"]
        result = runner.invoke(cli_app, [*args, "--care-manager", str(robin)])
        bad = runner.invoke(cli_app, [*args, "--care-manager", str(elsewhere)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert {line.split("│")[1].strip() for line in result.output.splitlines() if "Synthetic" in line} == {
        "Risk, Synthetic",
        "Done, Synthetic",
    }
    assert bad.exit_code == 2 and "--care-manager: no user" in bad.output


def plain_worklist(session: Session, practice_id: int, as_of: dt.date) -> list[WorkItem]:
    """The worklist as it was first made: every period of every episode replayed from its start, the
    periods in progress kept. What the fast path (open periods alone, kept between requests) must equal."""
    rules = load_rules()
    window = Window(as_of - dt.timedelta(days=31), as_of)
    evaluation = evaluate_activities(
        load_facts(session, practice_id, window).activities(), rules=rules, window=window, end_under_way=True
    )
    items = [
        item for found in work_items(session, practice_id, evaluation.in_progress, rules).values() for item in found
    ]
    return sorted(items, key=_urgency)


def generated_practice(url: str) -> tuple[int, list[int]]:
    """A demo practice of 150 patients (September 2026), its patients split between two care managers, plus
    patients at the edges: an episode ended mid-month, a second episode in the same month, a device
    returned and another lent, an RTM enrollment without a focus."""
    engine = make_engine(url)
    practice_id = demo_practice(engine, "Worklist Equivalence Clinic")
    generate(engine, practice_id, 150, dt.date(2026, 9, 1), seed=9)
    engine.dispose()
    engine = make_engine(url)
    with Session(engine) as session:
        managers = [
            int(user_id)
            for user_id in session.scalars(select(User.id).where(User.practice_id == practice_id).order_by(User.id))
        ][1:3]
        for patient in session.scalars(select(Patient).where(Patient.practice_id == practice_id)):
            patient.care_manager_id = managers[patient.id % 2] if patient.id % 5 else None
        september = [dt.date(2026, 9, day) for day in range(1, 31)]
        ended = monitored_patient(session, practice_id, "Ended", september[:9], start=dt.date(2026, 8, 3))
        enrollment = session.scalars(select(Enrollment).where(Enrollment.patient_id == ended)).one()
        enrollment.end_date = dt.date(2026, 9, 10)
        again = monitored_patient(session, practice_id, "Again", september[::2], start=dt.date(2026, 7, 1))
        first = session.scalars(select(Enrollment).where(Enrollment.patient_id == again)).one()
        first.end_date = dt.date(2026, 9, 8)
        session.add(
            Enrollment(practice_id=practice_id, patient_id=again, program=Program.RPM, start_date=dt.date(2026, 9, 12))
        )
        swapped = monitored_patient(session, practice_id, "Swapped", september, start=dt.date(2026, 8, 20))
        assignment = session.scalars(select(DeviceAssignment).where(DeviceAssignment.patient_id == swapped)).one()
        assignment.end_date = dt.date(2026, 9, 12)
        monitored_patient(
            session, practice_id, "Unfocused", september[:20], program=Program.RTM, start=dt.date(2026, 8, 1)
        )
        session.commit()
    engine.dispose()
    return practice_id, managers


def test_the_fast_worklist_equals_replaying_every_episode_on_a_generated_practice(database_url: str) -> None:
    practice_id, managers = generated_practice(database_url)
    cache: WorklistCache[WorkItem] = WorklistCache()
    engine = make_engine(database_url)
    with Session(engine) as session:
        for as_of in (dt.date(2026, 9, 1), dt.date(2026, 9, 10), dt.date(2026, 9, 19), dt.date(2026, 9, 30)):
            expected = plain_worklist(session, practice_id, as_of)
            assert len(expected) > 150
            assert worklist(session, practice_id, as_of, cache=None) == expected
            assert worklist(session, practice_id, as_of, cache=cache) == expected  # every patient evaluated
            assert cache.last.evaluated > 150
            assert worklist(session, practice_id, as_of, cache=cache) == expected  # every one kept
            assert cache.last == CacheStats(reused=cache.last.reused, evaluated=0)
            for manager in managers:
                theirs = set(session.scalars(select(Patient.id).where(Patient.care_manager_id == manager)))
                mine = [item for item in expected if item.patient_id in theirs]
                assert mine and worklist(session, practice_id, as_of, care_manager_id=manager, cache=cache) == mine
                assert worklist(session, practice_id, as_of, care_manager_id=manager, cache=None) == mine
            at_risk = worklist(session, practice_id, as_of, statuses={Status.AT_RISK}, program=Program.RPM, cache=cache)
            assert at_risk == [i for i in expected if i.status == Status.AT_RISK and i.program == "RPM"]
    engine.dispose()


def test_a_change_to_a_patients_records_is_on_the_next_kept_worklist(database_url: str) -> None:
    practice_id, managers = generated_practice(database_url)
    as_of = dt.date(2026, 9, 19)
    cache: WorklistCache[WorkItem] = WorklistCache()
    engine = make_engine(database_url)
    with Session(engine) as session:
        worklist(session, practice_id, as_of, cache=cache)
        nurse = managers[0]
        quiet = next(  # a device period without a reading on the day
            item
            for item in worklist(session, practice_id, as_of, cache=cache)
            if item.progress["kind"] == "days_with_data"
            and not session.scalar(
                select(func.count())
                .select_from(Observation)
                .where(Observation.patient_id == item.patient_id, Observation.local_date == as_of)
            )
        )
        ccm = next(item for item in worklist(session, practice_id, as_of, cache=cache) if item.program == "CCM")
        device_id = session.scalar(
            select(DeviceAssignment.device_id).where(DeviceAssignment.patient_id == quiet.patient_id)
        )

        def check(change: str) -> list[WorkItem]:
            session.commit()
            kept = worklist(session, practice_id, as_of, cache=cache)
            assert kept == plain_worklist(session, practice_id, as_of), change
            assert cache.last.evaluated == 1, change  # the one patient changed, no other
            return kept

        def find(items: list[WorkItem], like: WorkItem) -> WorkItem:
            return next(
                i
                for i in items
                if i.enrollment_id == like.enrollment_id
                and i.program == like.program
                and i.progress["kind"] == like.progress["kind"]
            )

        session.add(
            Observation(
                practice_id=practice_id,
                patient_id=quiet.patient_id,
                device_id=device_id,
                type="blood_pressure",
                values={"systolic": 120, "diastolic": 80},
                effective_at=dt.datetime.combine(as_of, dt.time(18), tzinfo=dt.UTC),
                local_date=as_of,
                content_key=f"worklist-cache-{quiet.patient_id}",
            )
        )
        assert find(check("a reading"), quiet).progress["days_with_data"] == quiet.progress["days_with_data"] + 1

        entry = TimeEntry(
            practice_id=practice_id,
            patient_id=ccm.patient_id,
            user_id=nurse,
            program=Program.CCM,
            performer=Performer.CLINICAL_STAFF,
            service_date=as_of,
            minutes=7,
            interactive=True,
        )
        session.add(entry)
        assert find(check("minutes"), ccm).progress["minutes"] == ccm.progress["minutes"] + 7
        entry.minutes = 9
        assert find(check("minutes changed"), ccm).progress["minutes"] == ccm.progress["minutes"] + 9
        entry.deleted_at = dt.datetime(2026, 9, 19, 20, tzinfo=dt.UTC)
        assert find(check("minutes withdrawn"), ccm).progress == ccm.progress

        patient = session.get(Patient, ccm.patient_id)
        assert patient is not None
        patient.family_name = "Renamed"
        assert find(check("a new name"), ccm).patient_name == "Renamed, Synthetic"
        enrollment = session.get(Enrollment, ccm.enrollment_id)
        assert enrollment is not None
        enrollment.complex = not enrollment.complex
        check("complex CCM")
        device = session.get(Device, device_id)
        assert device is not None
        device.medical_device = False
        assert not [
            i
            for i in check("not a medical device")
            if i.patient_id == quiet.patient_id and i.progress["kind"] == "days_with_data"
        ]
        patient.care_manager_id = nurse
        session.commit()
        # Another day is kept apart, and the first one is still there to come back to.
        worklist(session, practice_id, as_of - dt.timedelta(days=1), cache=cache)
        assert cache.last.evaluated > 150
        worklist(session, practice_id, as_of, cache=cache)
        assert cache.last.evaluated == 1  # the new care manager's patient, changed since
        assert ccm.patient_id in {
            i.patient_id for i in worklist(session, practice_id, as_of, care_manager_id=nurse, cache=cache)
        }
    engine.dispose()
