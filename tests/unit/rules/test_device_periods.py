"""30-day periods, what counts as a day of data, and set-up once per episode (Part A rules 1, 2, 4, 5, 8)."""

from __future__ import annotations

import datetime as dt

from remotecare.rules.periods import BillingPeriod, calendar_months, device_periods
from tests.builders import FactsBuilder, billed, codes, days_from, reasons_for

START = dt.date(2025, 1, 6)


def test_periods_are_30_days_from_the_first_day_of_monitoring_and_never_stretch() -> None:
    periods = list(device_periods(START, None, through=dt.date(2025, 3, 10)))
    assert [(p.start, p.end) for p in periods] == [
        (dt.date(2025, 1, 6), dt.date(2025, 2, 4)),
        (dt.date(2025, 2, 5), dt.date(2025, 3, 6)),
        (dt.date(2025, 3, 7), dt.date(2025, 4, 5)),
    ]


def test_the_last_period_is_cut_at_the_episode_end() -> None:
    periods = list(device_periods(START, dt.date(2025, 2, 20), through=dt.date(2025, 12, 31)))
    assert periods[-1] == BillingPeriod(dt.date(2025, 2, 5), dt.date(2025, 2, 20), cut=True)


def test_calendar_months_cover_every_month_touched() -> None:
    months = list(calendar_months(dt.date(2024, 1, 31), dt.date(2024, 3, 1)))
    assert [(m.start, m.end) for m in months] == [
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
        (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        (dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
    ]


def test_monitoring_starts_with_the_device_when_it_comes_after_the_enrollment() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", dt.date(2025, 1, 16))
    facts.readings_on(days_from(dt.date(2025, 1, 16), 16))
    lines = facts.evaluate(START, dt.date(2025, 2, 28)).lines
    assert {(line.code, line.period.start, line.period.end) for line in lines} == {
        ("99453", dt.date(2025, 1, 16), dt.date(2025, 2, 14)),
        ("99454", dt.date(2025, 1, 16), dt.date(2025, 2, 14)),
    }


def test_a_device_without_a_start_date_starts_with_its_first_reading() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", None)
    facts.readings_on(days_from(dt.date(2025, 1, 10), 16))
    (line, *_) = facts.evaluate(START, dt.date(2025, 2, 28)).lines
    assert line.period.start == dt.date(2025, 1, 10)


def test_readings_before_the_device_start_or_after_its_end_do_not_count() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", START, end=dt.date(2025, 1, 20))
    facts.readings_on(days_from(dt.date(2024, 12, 20), 50))
    result = facts.evaluate(START, dt.date(2025, 2, 4))
    assert result.lines == ()
    assert "Only 15 days" in next(item.message for item in result.not_billed if item.code == "99454")


def test_non_medical_devices_manual_rpm_values_and_deviceless_readings_never_count() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", START)
    facts.device("RPM", START, id="watch", medical=False)
    facts.readings_on(days_from(START, 12))
    facts.readings_on(days_from(START + dt.timedelta(days=12), 2), device="watch")
    facts.readings_on(days_from(START + dt.timedelta(days=14), 2), manual=True)
    facts.readings_on(days_from(START + dt.timedelta(days=16), 2), device=None)
    assert facts.evaluate(START, dt.date(2025, 2, 4)).lines == ()


def test_patient_reported_rtm_data_from_the_app_counts_even_when_keyed_in() -> None:
    facts = FactsBuilder().patient().enroll("RTM", START, focus="musculoskeletal").device("RTM", START, id="app")
    facts.readings_on(days_from(START, 16), device="app", manual=True, type="pain_score")
    assert codes(facts.evaluate(START, dt.date(2025, 2, 4))) == {"98975", "98977"}


def test_a_device_assigned_to_another_patient_does_not_count() -> None:
    facts = FactsBuilder().patient("p1").patient("p2").enroll("RPM", START, patient="p1")
    facts.device("RPM", START, id="d1", patient="p1").device("RPM", START, id="d2", patient="p2")
    facts.readings_on(days_from(START, 16), device="d2", patient="p1")
    assert facts.evaluate(START, dt.date(2025, 2, 4)).lines == ()


def test_set_up_is_billed_once_with_the_first_billed_device_supply_line() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", START)
    facts.readings_on(days_from(START, 10))  # first period: 10 days, nothing billed
    facts.readings_on(days_from(dt.date(2025, 2, 5), 60))  # second and third periods: full
    result = facts.evaluate(START, dt.date(2025, 4, 5))
    assert billed(result) == {
        ("99454", 1, "2025-03"): 1,
        ("99453", 1, "2025-03"): 1,
        ("99454", 1, "2025-04"): 1,
    }
    assert reasons_for(result, "99453") == ["setup_without_device_supply", "setup_already_billed"]


def test_set_up_billed_before_the_window_is_not_billed_again() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", START)
    facts.readings_on(days_from(START, 90))
    result = facts.evaluate(dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert billed(result) == {("99454", 1, "2025-03"): 1}


def test_a_period_open_at_the_window_end_is_in_progress_not_billed() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", START)
    facts.readings_on(days_from(START, 20))
    result = facts.evaluate(START, dt.date(2025, 2, 3))
    assert result.lines == ()
    (progress,) = [item for item in result.in_progress if item.progress["kind"] == "days_with_data"]
    assert progress.progress["days_with_data"] == 20
    assert progress.progress["days_needed"] == 16
    assert progress.progress["days_left"] == 1


def test_an_episode_ended_early_bills_its_cut_period_on_the_days_it_has() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START, end=dt.date(2025, 1, 25)).device("RPM", START)
    facts.readings_on(days_from(START, 30))
    lines = facts.evaluate(START, dt.date(2025, 1, 31)).lines
    assert {(line.code, line.service_date) for line in lines} == {
        ("99453", dt.date(2025, 1, 25)),
        ("99454", dt.date(2025, 1, 25)),
    }
    assert next(line for line in lines if line.code == "99454").evidence["days_with_data"] == 20


def test_an_rpm_enrollment_without_a_medical_device_says_so() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", START, medical=False)
    result = facts.evaluate(START, dt.date(2025, 2, 4))
    assert reasons_for(result, None) == ["no_medical_device"]


def test_an_rtm_enrollment_without_a_focus_gets_no_device_code_but_keeps_its_minutes() -> None:
    facts = FactsBuilder().patient().enroll("RTM", START).device("RTM", START)
    facts.readings_on(days_from(START, 20)).time(START, 25, program="RTM", interactive=True)
    result = facts.evaluate(START, dt.date(2025, 2, 4))
    assert codes(result) == {"98980"}
    assert "no_focus" in reasons_for(result, None)


def test_the_evidence_names_the_days_and_devices() -> None:
    facts = FactsBuilder().patient().enroll("RPM", START).device("RPM", START)
    facts.readings_on(days_from(START, 16))
    line = next(line for line in facts.evaluate(START, dt.date(2025, 2, 4)).lines if line.code == "99454")
    assert line.evidence["dates"] == [day.isoformat() for day in days_from(START, 16)]
    assert line.evidence["devices"] == ["d1"]
    assert line.evidence["consent"] == "2025-01-05"
    assert str(line.national_payment_usd) == "43.02"
