"""Minutes per calendar month: interactive contact, performers, add-ons, reasons (Part A rules 3, 7, 11-14, 18-20)."""

from __future__ import annotations

import datetime as dt

from remotecare.rules import PracticeSettings
from tests.builders import FactsBuilder, billed, codes, reasons_for

MAY = dt.date(2025, 5, 1)
MAY_END = dt.date(2025, 5, 31)


def test_treatment_time_needs_an_interactive_contact_in_the_same_program_and_month() -> None:
    facts = FactsBuilder().patient().enroll("RPM", MAY).enroll("CCM", MAY)
    facts.time(MAY, 30, program="RPM").time(MAY, 5, program="CCM", interactive=True)
    facts.time(dt.date(2025, 4, 30), 5, program="RPM", interactive=True)  # a call in April does not help May
    result = facts.evaluate(MAY, MAY_END)
    assert "99457" not in codes(result)
    message = next(item.message for item in result.not_billed if item.code == "99457")
    assert message.startswith("No real-time interactive communication with the patient or caregiver in 2025-05")


def test_a_minute_counts_only_toward_the_program_it_is_logged_under() -> None:
    facts = FactsBuilder().patient().enroll("RPM", MAY).enroll("CCM", MAY)
    facts.time(MAY, 15, program="RPM", interactive=True).time(MAY, 15, program="CCM")
    assert codes(facts.evaluate(MAY, MAY_END)) == set()


def test_an_entry_sent_twice_under_one_id_counts_once() -> None:
    facts = FactsBuilder().patient().enroll("RPM", MAY)
    facts.time(MAY, 15, program="RPM", interactive=True, id="t1").time(
        MAY, 15, program="RPM", interactive=True, id="t1"
    )
    assert codes(facts.evaluate(MAY, MAY_END)) == set()
    facts.time(MAY, 5, program="RPM", id="t2")
    assert codes(facts.evaluate(MAY, MAY_END)) == {"99457"}


def test_the_reason_for_a_missing_add_on_unit_counts_the_minutes() -> None:
    facts = FactsBuilder().patient().enroll("RPM", MAY).time(MAY, 25, program="RPM", interactive=True)
    result = facts.evaluate(MAY, MAY_END)
    assert [item.message for item in result.not_billed if item.code == "99458"] == [
        "25 of the 40 minutes that a first unit of 99458 needs."
    ]


def test_minutes_beyond_the_unit_cap_are_reported() -> None:
    facts = FactsBuilder().patient().enroll("RPM", MAY).time(MAY, 125, program="RPM", interactive=True)
    result = facts.evaluate(MAY, MAY_END)
    assert billed(result)[("99458", 3, "2025-05")] == 1
    assert reasons_for(result, "99458") == ["unit_cap"]
    assert "would support 5 units of 99458; at most 3" in result.not_billed[-1].message


def test_a_practice_can_cap_uncapped_add_ons() -> None:
    facts = FactsBuilder().patient().enroll("CPM", MAY).visit(MAY)
    facts.time(MAY, 120, program="CPM", performer="physician")
    assert billed(facts.evaluate(MAY, MAY_END))[("G3003", 6, "2025-05")] == 1
    capped = facts.evaluate(MAY, MAY_END, settings=PracticeSettings(unit_caps={"G3003": 4}))
    assert billed(capped)[("G3003", 4, "2025-05")] == 1


def test_cpm_needs_a_face_to_face_visit_before_its_first_month_only() -> None:
    facts = FactsBuilder().patient().enroll("CPM", MAY)
    facts.time(MAY, 30, program="CPM", performer="physician").time(
        dt.date(2025, 6, 2), 30, program="CPM", performer="physician"
    )
    facts.time(dt.date(2025, 7, 2), 30, program="CPM", performer="physician")
    facts.visit(dt.date(2025, 6, 20))
    result = facts.evaluate(MAY, dt.date(2025, 7, 31))
    assert billed(result) == {("G3002", 1, "2025-06"): 1, ("G3002", 1, "2025-07"): 1}
    assert reasons_for(result, "G3002") == ["no_face_to_face_visit"]


def test_a_video_visit_is_not_the_cpm_face_to_face_visit() -> None:
    facts = FactsBuilder().patient().enroll("CPM", MAY).visit(MAY, face_to_face=False)
    facts.time(MAY, 40, program="CPM", performer="physician")
    assert facts.evaluate(MAY, MAY_END).lines == ()


def test_clinical_staff_minutes_never_count_for_cpm() -> None:
    facts = FactsBuilder().patient().enroll("CPM", MAY).visit(MAY)
    facts.time(MAY, 25, program="CPM", performer="physician").time(MAY, 25, program="CPM")
    result = facts.evaluate(MAY, MAY_END)
    assert result.lines == ()
    assert "25 of the 30 minutes that G3002 needs of physician or QHP time." in [i.message for i in result.not_billed]


def test_ccm_with_30_physician_minutes_bills_99491_and_not_the_staff_minutes() -> None:
    facts = FactsBuilder().patient().enroll("CCM", MAY)
    facts.time(MAY, 30, program="CCM", performer="physician").time(MAY, 45, program="CCM")
    result = facts.evaluate(MAY, MAY_END)
    assert billed(result) == {("99491", 1, "2025-05"): 1}
    assert reasons_for(result, "99490") == ["alternative_billed"]


def test_99091_is_off_by_default_and_takes_physician_minutes_when_chosen() -> None:
    start = dt.date(2025, 5, 1)
    facts = FactsBuilder().patient().enroll("RPM", start).device("RPM", start)
    facts.time(start, 30, program="RPM", performer="physician", interactive=True)
    facts.time(dt.date(2025, 5, 10), 20, program="RPM", interactive=True)
    default = facts.evaluate(start, dt.date(2025, 5, 31))
    assert billed(default) == {("99457", 1, "2025-05"): 1, ("99458", 1, "2025-05"): 1}
    assert "practice_setting" in reasons_for(default, "99091")

    chosen = facts.evaluate(start, dt.date(2025, 5, 31), settings=PracticeSettings(bill_99091=True))
    assert billed(chosen) == {("99091", 1, "2025-05"): 1, ("99457", 1, "2025-05"): 1}


def test_a_month_still_open_is_in_progress_with_the_next_threshold() -> None:
    facts = FactsBuilder().patient().enroll("RPM", dt.date(2026, 3, 1)).time(dt.date(2026, 3, 3), 12, program="RPM")
    result = facts.evaluate(dt.date(2026, 3, 1), dt.date(2026, 3, 20))
    (progress,) = [item.progress for item in result.in_progress if item.progress["kind"] == "minutes"]
    assert progress["minutes"] == 12
    assert progress["minutes_needed"] == 20
    assert progress["interactive_contact"] is False
    assert progress["next_threshold"] == {"code": "99457", "minutes": 20}
    assert progress["days_left"] == 11


def test_a_month_is_billed_only_once_it_has_ended_even_if_the_episode_ended_before() -> None:
    facts = FactsBuilder().patient().enroll("CCM", MAY, end=dt.date(2025, 5, 10)).time(MAY, 25, program="CCM")
    assert facts.evaluate(MAY, dt.date(2025, 5, 20)).lines == ()
    assert codes(facts.evaluate(MAY, MAY_END)) == {"99490"}


def test_time_outside_the_enrollment_counts_for_nothing() -> None:
    facts = FactsBuilder().patient().enroll("CCM", dt.date(2025, 5, 15)).time(MAY, 25, program="CCM")
    assert facts.evaluate(MAY, MAY_END).lines == ()
