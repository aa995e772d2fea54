"""A patient's page in a real browser: the chart with its threshold, and the timer across page loads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program, RtmFocus
from remotecare.store.models import Consent, Enrollment, Observation, Patient, Role, RunningTimer
from remotecare.store.session import make_engine
from tests.web import seed
from tests.web.conftest import Site, log_in


def rewind(site: Site, role: Role, by: dt.timedelta) -> None:
    """Make the user's running timer have started `by` ago, so that stopping it logs real minutes."""
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        session.execute(
            update(RunningTimer)
            .where(RunningTimer.user_id == site.clinic.users[role])
            .values(started_at=dt.datetime.now(dt.UTC) - by)
        )
        session.commit()
    engine.dispose()


def rpm_minutes(page: Page) -> str:
    bar = page.locator("#time-panel .period-line", has_text="RPM minutes").get_by_role("progressbar")
    return bar.get_attribute("aria-label") or ""


def test_the_chart_shows_readings_against_the_alert_threshold(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.CLINICAL_STAFF)
    page.get_by_role("link", name="Rivera, Risk").first.click()
    expect(page.get_by_role("heading", name="Rivera, Risk", level=1)).to_be_visible()
    chart = page.get_by_role("img", name="Blood pressure (mmHg), last 60 days")
    expect(chart).to_be_visible()
    expect(chart.locator(".threshold")).to_have_count(2)
    expect(chart.locator(".threshold", has_text="Systolic ≥ 180")).to_have_count(1)
    expect(chart.locator(".series circle")).to_have_count(12)  # 6 readings, systolic and diastolic
    expect(page.get_by_role("region", name="Open alerts")).to_contain_text("Systolic")
    shot(page, "")


def test_the_timer_runs_across_page_loads_and_its_minutes_reach_the_worklist(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.CLINICAL_STAFF)
    page.goto(f"/app/patients/{site.clinic.patients['Rivera']}")
    assert rpm_minutes(page).startswith("0 / ")
    expect(page.get_by_text("No time logged this month.")).to_be_visible()

    page.get_by_label("Program").select_option("RPM")
    page.get_by_role("button", name="Start timer").click()
    expect(page.get_by_role("status")).to_have_text("Timer started for RPM.")
    clock = page.get_by_role("timer")
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=3000)  # it ticks

    rewind(site, Role.CLINICAL_STAFF, dt.timedelta(minutes=12, seconds=5))
    page.reload()  # the server kept the timer: still running, from its (rewound) start
    expect(page.get_by_text("Running on RPM since")).to_be_visible()
    expect(page.get_by_role("timer")).to_contain_text("0:12:")
    shot(page, "running")

    page.get_by_label("Interactive contact").check()
    page.get_by_label("How").select_option("audio")
    page.get_by_role("button", name="Stop and log").click()
    expect(page.get_by_role("status")).to_have_text("Logged 12 min of RPM with an interactive contact.")
    expect(page.get_by_role("button", name="Start timer")).to_be_visible()
    assert rpm_minutes(page).startswith("12 / ")
    log = page.locator("table.time-log tbody tr")
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("Synthetic Clinical Staff")
    expect(log.first.locator("td.num")).to_have_text("12")
    shot(page, "stopped")

    page.get_by_role("link", name="Worklist").first.click()
    row = page.locator("table.worklist tbody tr", has_text="Rivera, Risk").filter(has_text="Minutes")
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-label", "12 / 20 min")
    expect(row).to_contain_text("Made")
    shot(page, "worklist")


def test_a_timer_stopped_under_a_minute_logs_nothing_and_says_why(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.CLINICAL_STAFF)
    page.goto(f"/app/patients/{site.clinic.patients['Tran']}")
    page.get_by_role("button", name="Start timer").click()
    expect(page.get_by_role("button", name="Stop and log")).to_be_visible()
    page.get_by_role("button", name="Stop and log").click()  # under a minute: nothing is logged
    expect(page.get_by_role("alert")).to_contain_text("ran under a minute")
    expect(page.get_by_role("button", name="Start timer")).to_be_visible()
    shot(page, "")


def test_an_rtm_patient_shows_pain_scores_and_adherence(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    patient_id = add_rtm_patient(site)
    log_in(page, site, Role.CLINICAL_STAFF)
    page.goto(f"/app/patients/{patient_id}")
    expect(page.get_by_role("img", name="Pain score (0-10), last 60 days")).to_be_visible()
    expect(page.get_by_text("Latest 7 on")).to_be_visible()
    adherence = page.locator("table", has_text="Days with data")
    bars = adherence.get_by_role("progressbar")  # the period under way first: 5 of its 10 days so far
    expect(bars).to_have_count(2)
    expect(bars.first).to_have_attribute("aria-label", "5 of 30 days")
    shot(page, "")


def add_rtm_patient(site: Site) -> int:
    """Payne, Pain: RTM (musculoskeletal) for 40 days, a pain score every other day of the last 20, rising."""
    today = seed.today()
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        patient = Patient(
            practice_id=site.clinic.practice_id,
            given_name="Pain",
            family_name="Payne",
            birth_date=dt.date(1956, 2, 3),
            medicare_id="7EG4TE5MK77",
            timezone=seed.ZONE_NAME,
            conditions=["M54.50"],
            established=True,
            care_manager_id=site.clinic.users[Role.CLINICAL_STAFF],
        )
        session.add(patient)
        session.flush()
        start = today - dt.timedelta(days=39)
        session.add(
            Consent(
                practice_id=patient.practice_id,
                patient_id=patient.id,
                program=Program.RTM,
                obtained_on=start,
                method="written",
            )
        )
        session.add(
            Enrollment(
                practice_id=patient.practice_id,
                patient_id=patient.id,
                program=Program.RTM,
                start_date=start,
                focus=RtmFocus.MUSCULOSKELETAL,
            )
        )
        for number in range(10):
            day = today - dt.timedelta(days=19 - 2 * number)
            at = dt.datetime.combine(day, dt.time(9), seed.ZONE).astimezone(dt.UTC)
            session.add(
                Observation(
                    practice_id=patient.practice_id,
                    patient_id=patient.id,
                    type="pain_score",
                    values={"nrs": 3 + number * 4 // 9},
                    effective_at=at,
                    local_date=day,
                    manual=False,
                    source="api",
                    content_key=f"pain-{patient.id}-{day}",
                )
            )
        session.commit()
        patient_id = patient.id
    engine.dispose()
    return patient_id
