"""Who may be billed at all: consent, established patients, the PHE, RPM vs RTM, conditions."""

from __future__ import annotations

import datetime as dt

from tests.builders import FactsBuilder, billed, codes, days_from, reasons_for

APRIL = dt.date(2024, 4, 1)


def rpm_month(facts: FactsBuilder, start: dt.date = APRIL) -> FactsBuilder:
    facts.device("RPM", start).readings_on(days_from(start, 20))
    return facts.time(start + dt.timedelta(days=5), 25, program="RPM", interactive=True)


def test_consent_after_the_date_of_service_blocks_every_code() -> None:
    facts = rpm_month(FactsBuilder().patient().enroll("RPM", APRIL, consent=dt.date(2024, 5, 2)))
    result = facts.evaluate(APRIL, dt.date(2024, 4, 30))
    assert result.lines == ()
    assert set(reasons_for(result, "99454")) == {"consent_after_service"}
    assert "2024-05-02" in result.not_billed[0].message


def test_no_consent_means_nothing_is_billed() -> None:
    facts = FactsBuilder().patient().enroll("CCM", APRIL, consent=None).time(APRIL, 45, program="CCM")
    result = facts.evaluate(APRIL, dt.date(2024, 4, 30))
    assert result.lines == ()
    assert set(reasons_for(result, "99490")) == {"no_consent"}


def test_consent_on_the_date_of_service_is_enough() -> None:
    facts = FactsBuilder().patient().enroll("CCM", APRIL, consent=dt.date(2024, 4, 30))
    result = facts.time(APRIL, 25, program="CCM").evaluate(APRIL, dt.date(2024, 4, 30))
    assert codes(result) == {"99490"}


def test_rpm_needs_an_established_patient_but_rtm_does_not() -> None:
    facts = FactsBuilder().patient(established=False).enroll("RPM", APRIL)
    result = rpm_month(facts).evaluate(APRIL, dt.date(2024, 4, 30))
    assert result.lines == ()
    assert set(reasons_for(result, "99457")) == {"not_established"}

    rtm = FactsBuilder().patient(established=False).enroll("RTM", APRIL, focus="musculoskeletal")
    rtm.device("RTM", APRIL).readings_on(days_from(APRIL, 16), type="musculoskeletal_status")
    assert codes(rtm.evaluate(APRIL, dt.date(2024, 4, 30))) == {"98975", "98977"}


def test_during_the_phe_a_new_rpm_patient_is_billable() -> None:
    start = dt.date(2021, 2, 1)
    facts = rpm_month(FactsBuilder().patient(established=False).enroll("RPM", start), start)
    assert codes(facts.evaluate(start, start + dt.timedelta(days=29))) == {"99453", "99454", "99457"}


def test_an_enrollee_from_the_phe_counts_as_established_afterwards() -> None:
    for enrolled, expected in ((dt.date(2023, 5, 11), {"99457"}), (dt.date(2023, 5, 12), set())):
        facts = FactsBuilder().patient(established=False).enroll("RPM", enrolled)
        facts.time(dt.date(2024, 3, 5), 25, program="RPM", interactive=True)
        result = facts.evaluate(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
        assert codes(result) == expected, enrolled


def test_covid_patients_earn_device_codes_with_two_days_during_the_phe_only() -> None:
    for start, expected in ((dt.date(2022, 1, 3), {"99453", "99454"}), (dt.date(2024, 1, 3), set())):
        facts = FactsBuilder().patient(conditions=["U07.1"]).enroll("RPM", start).device("RPM", start)
        facts.readings_on(days_from(start, 2))
        assert codes(facts.evaluate(start, start + dt.timedelta(days=29))) == expected, start


def test_the_phe_two_day_rule_is_for_covid_patients_only() -> None:
    start = dt.date(2022, 1, 3)
    facts = FactsBuilder().patient(conditions=["I10"]).enroll("RPM", start).device("RPM", start)
    result = facts.readings_on(days_from(start, 2)).evaluate(start, start + dt.timedelta(days=29))
    assert result.lines == ()
    assert "needs 16" in next(i.message for i in result.not_billed if i.code == "99454")


def test_rpm_started_first_wins_over_rtm_for_every_overlapping_period() -> None:
    facts = rpm_month(FactsBuilder().patient().enroll("RPM", APRIL, id="rpm"))
    facts.enroll("RTM", dt.date(2024, 4, 10), id="rtm", focus="musculoskeletal")
    facts.device("RTM", dt.date(2024, 4, 10), id="app").readings_on(days_from(dt.date(2024, 4, 10), 25), device="app")
    facts.time(dt.date(2024, 4, 20), 30, program="RTM", interactive=True)
    result = facts.evaluate(APRIL, dt.date(2024, 5, 31))
    assert {line.program for line in result.lines} == {"RPM"}
    rtm_reasons = {item.reason for item in result.not_billed if item.enrollment == "rtm"}
    assert rtm_reasons == {"other_program_billed"}
    assert "started first (2024-04-01)" in next(i.message for i in result.not_billed if i.enrollment == "rtm")


def test_on_the_same_start_date_rpm_is_billed() -> None:
    facts = rpm_month(FactsBuilder().patient().enroll("RTM", APRIL, id="rtm", focus="respiratory"))
    facts.enroll("RPM", APRIL, id="rpm")
    facts.time(dt.date(2024, 4, 9), 30, program="RTM", interactive=True)
    assert {line.enrollment for line in facts.evaluate(APRIL, dt.date(2024, 4, 30)).lines} == {"rpm"}


def test_rtm_started_first_wins_over_rpm() -> None:
    facts = FactsBuilder().patient().enroll("RTM", APRIL, id="rtm", focus="musculoskeletal")
    facts.device("RTM", APRIL, id="app").readings_on(days_from(APRIL, 20), device="app")
    facts.time(dt.date(2024, 4, 9), 30, program="RTM", interactive=True)
    facts.enroll("RPM", dt.date(2024, 4, 2), id="rpm")
    rpm_month(facts, dt.date(2024, 4, 2))
    assert {line.enrollment for line in facts.evaluate(APRIL, dt.date(2024, 4, 30)).lines} == {"rtm"}


def test_after_rpm_ends_rtm_loses_the_shared_month_but_bills_the_next() -> None:
    facts = FactsBuilder().patient().enroll("RPM", dt.date(2024, 3, 1), end=dt.date(2024, 4, 10), id="rpm")
    facts.enroll("RTM", dt.date(2024, 4, 11), id="rtm", focus="musculoskeletal")
    facts.time(dt.date(2024, 4, 20), 25, program="RTM", interactive=True)
    facts.time(dt.date(2024, 5, 20), 25, program="RTM", interactive=True)
    result = facts.evaluate(dt.date(2024, 4, 1), dt.date(2024, 5, 31))
    assert billed(result) == {("98980", 1, "2024-05"): 1}
    april = [item for item in result.not_billed if item.code == "98980" and item.period.month == "2024-04"]
    assert [item.reason for item in april] == ["other_program_billed"]


def test_ccm_needs_two_conditions_and_pcm_one() -> None:
    for conditions, expected in ((["I10"], set()), (["I10", "E11.9"], {"99490"})):
        facts = FactsBuilder().patient(conditions=conditions).enroll("CCM", APRIL).time(APRIL, 25, program="CCM")
        assert codes(facts.evaluate(APRIL, dt.date(2024, 4, 30))) == expected
    pcm = FactsBuilder().patient(conditions=["M54.5"]).enroll("PCM", APRIL).time(APRIL, 30, program="PCM")
    assert codes(pcm.evaluate(APRIL, dt.date(2024, 4, 30))) == {"99426"}
    none = FactsBuilder().patient(conditions=[]).enroll("PCM", APRIL).time(APRIL, 30, program="PCM")
    result = none.evaluate(APRIL, dt.date(2024, 4, 30))
    assert result.lines == () and set(reasons_for(result, "99426")) == {"too_few_conditions"}


def test_pcm_gives_way_to_ccm_in_the_same_month_only() -> None:
    facts = FactsBuilder().patient().enroll("PCM", APRIL, id="pcm").enroll("CCM", APRIL, id="ccm")
    facts.time(APRIL, 25, program="CCM").time(APRIL, 35, program="PCM")
    facts.time(dt.date(2024, 5, 3), 35, program="PCM")
    result = facts.evaluate(APRIL, dt.date(2024, 5, 31))
    assert billed(result) == {("99490", 1, "2024-04"): 1, ("99426", 1, "2024-05"): 1}
    assert "CCM is billed for this patient in 2024-04" in next(
        item.message for item in result.not_billed if item.code == "99426" and item.period.month == "2024-04"
    )


def test_cpm_may_be_billed_alongside_rpm_with_separate_minutes() -> None:
    facts = rpm_month(FactsBuilder().patient().enroll("RPM", APRIL).enroll("CPM", APRIL).visit(APRIL))
    facts.time(dt.date(2024, 4, 12), 30, program="CPM", performer="physician")
    assert codes(facts.evaluate(APRIL, dt.date(2024, 4, 30))) == {"99453", "99454", "99457", "G3002"}
