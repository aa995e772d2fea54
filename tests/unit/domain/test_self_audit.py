"""The self-audit's checks as pure functions: each just tripped and just missed, and the settings refused
when they cannot apply. The spike is "150% or more"; the shares are "more than 80%" and "more than 75%"."""

from __future__ import annotations

import datetime as dt

import pytest

from remotecare.domain import self_audit as sa
from remotecare.domain.self_audit import AuditMonth, AuditSettings, AuditSettingsError, PatientRef

OCT = AuditMonth(2026, 10)
DEFAULTS = AuditSettings()


def patient(n: int) -> PatientRef:
    return PatientRef(n, f"Patient {n:03d}, Synthetic")


def new_enrollees(count: int) -> list[sa.NewEnrollee]:
    return [sa.NewEnrollee(patient(n), 1000 + n, dt.date(2026, 10, 5)) for n in range(count)]


@pytest.mark.parametrize(
    ("previous", "new", "crosses", "value"),
    [
        (40, 100, True, 150.0),  # exactly 150%, exactly 100 new: "or more" on both
        (40, 99, False, 147.5),  # 99 new is one short of 100
        (100, 249, False, 149.0),
        (100, 250, True, 150.0),
        (0, 100, True, None),  # from none, any rise is unbounded
        (0, 99, False, None),
    ],
)
def test_the_spike_is_150_percent_or_more_with_at_least_100_new(
    previous: int, new: int, crosses: bool, value: float | None
) -> None:
    section = sa.enrollment_spike(OCT, new_enrollees(new), previous, DEFAULTS)
    assert section.measure is not None
    assert (section.measure.crosses, section.measure.value_pct, section.measure.comparison) == (
        crosses,
        value,
        "or more",
    )
    assert len(section.findings) == (new if crosses else 0)
    if crosses:
        assert section.findings[0].claim_line_ids == (1000,)


def test_a_practice_lowers_the_spike_thresholds() -> None:
    settings = sa.audit_settings({"spike_increase_pct": 100, "spike_min_new_enrollees": 4})
    assert sa.enrollment_spike(OCT, new_enrollees(4), 2, settings).measure.crosses  # type: ignore[union-attr]
    assert not sa.enrollment_spike(OCT, new_enrollees(3), 2, settings).measure.crosses  # type: ignore[union-attr]


def enrollees(without: int, total: int) -> list[sa.RpmEnrollee]:
    first = dt.date(2026, 10, 31)
    return [
        sa.RpmEnrollee(patient(n), 500 + n, first, None if n < without else dt.date(2026, 8, 1)) for n in range(total)
    ]


@pytest.mark.parametrize(("without", "total", "crosses"), [(8, 10, False), (41, 50, True), (80, 100, False)])
def test_no_prior_relationship_crosses_only_above_80_percent(without: int, total: int, crosses: bool) -> None:
    section = sa.no_prior_relationship(enrollees(without, total), DEFAULTS)
    assert section.measure is not None and section.measure.crosses is crosses
    assert section.measure.comparison == "more than"
    assert len(section.findings) == without  # each patient is listed whether or not the practice crosses


def test_a_visit_before_the_since_date_is_no_relationship_and_one_on_the_first_day_is() -> None:
    first = dt.date(2026, 10, 31)
    old = sa.RpmEnrollee(patient(1), 11, first, dt.date(2020, 12, 31))
    same_day = sa.RpmEnrollee(patient(2), 12, first, first)
    section = sa.no_prior_relationship([old, same_day], DEFAULTS)
    assert [f.patient for f in section.findings] == [patient(1)]
    assert "the last was on 2020-12-31" in section.findings[0].detail
    later = sa.audit_settings({"prior_relationship_since": "2020-12-01"})
    assert sa.no_prior_relationship([old, same_day], later).none_found


@pytest.mark.parametrize(("unmanaged", "total", "crosses"), [(75, 100, False), (76, 100, True), (3, 4, False)])
def test_no_management_crosses_only_above_75_percent(unmanaged: int, total: int, crosses: bool) -> None:
    rows = [sa.Unmanaged(patient(n), (n * 10, n * 10 + 1)) for n in range(unmanaged)]
    section = sa.no_treatment_management(OCT, rows, total, DEFAULTS)
    assert section.measure is not None and section.measure.crosses is crosses
    assert len(section.findings) == unmanaged
    assert section.findings[0].claim_line_ids == (0, 1)


def supply(n: int, line_id: int, end: dt.date) -> sa.DeviceSupplyLine:
    return sa.DeviceSupplyLine(patient(n), line_id, "99454", end - dt.timedelta(days=29), end)


def test_two_device_supply_lines_in_a_month_are_found_and_one_is_not() -> None:
    lines = [supply(1, 10, dt.date(2026, 10, 1)), supply(1, 11, dt.date(2026, 10, 31)), supply(2, 20, OCT.end)]
    section = sa.multiple_device_supply(OCT, lines, DEFAULTS)
    assert [(f.patient, f.claim_line_ids) for f in section.findings] == [(patient(1), (10, 11))]
    three = sa.audit_settings({"device_supply_lines_per_month": 3})
    assert sa.multiple_device_supply(OCT, lines, three).none_found


def test_a_patient_billed_by_another_practice_is_found_with_only_a_count() -> None:
    shared = [sa.SharedPatient(patient(1), (7, 8), 2), sa.SharedPatient(patient(2), (9,), 0)]
    (finding,) = sa.several_practices(OCT, shared).findings
    assert finding.patient == patient(1) and finding.claim_line_ids == (7, 8)
    assert "by 2 other practices" in finding.detail


def episode(first: dt.date, last: dt.date, *, setup: bool = True, managed: bool = True) -> sa.Episode:
    return sa.Episode(patient(1), 5, first, last, (1,) if setup else (), (2, 3), (4,) if managed else ())


@pytest.mark.parametrize(
    ("first", "last", "checked"),
    [
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31), False),  # first device supply in the month: too soon
        (dt.date(2026, 9, 30), dt.date(2026, 9, 30), True),  # a whole month of management has closed since
        (dt.date(2026, 8, 1), dt.date(2026, 9, 1), True),  # billed device supply the month before
        (dt.date(2026, 7, 1), dt.date(2026, 8, 31), False),  # ended before the month before: judged then
    ],
)
def test_an_episode_is_judged_once_a_whole_month_of_management_has_closed(
    first: dt.date, last: dt.date, checked: bool
) -> None:
    assert sa.is_checked_for_components(episode(first, last, managed=False), OCT) is checked
    assert sa.missing_components(OCT, [episode(first, last, managed=False)]).none_found is not checked


def test_missing_components_names_what_is_missing() -> None:
    sep = dt.date(2026, 9, 20)
    (finding,) = sa.missing_components(OCT, [episode(sep, sep, setup=False, managed=False)]).findings
    assert "no set-up and no treatment management line through 2026-10-31" in finding.detail
    assert finding.claim_line_ids == (2, 3)
    assert sa.missing_components(OCT, [episode(sep, sep)]).none_found


def test_claim_details_need_an_ordering_provider_and_a_monitored_condition() -> None:
    gaps = [
        sa.ClaimDetailGap(patient(1), 31, (3, 4), False, ()),
        sa.ClaimDetailGap(patient(2), 32, (5,), True, ("I10",)),
    ]
    (finding,) = sa.missing_claim_details(OCT, gaps).findings
    assert finding.patient == patient(1) and finding.claim_line_ids == (3, 4)
    assert "no ordering provider and no monitored condition" in finding.detail


def test_time_before_consent_names_the_entries_and_the_lines_that_count_them() -> None:
    early = sa.EarlyTime(
        patient(1), "RPM", ((41, dt.date(2026, 10, 3)),), ((dt.date(2026, 10, 6), None),), line_ids=(77,)
    )
    (finding,) = sa.time_before_consent([early]).findings
    assert finding.time_entry_ids == (41,) and finding.claim_line_ids == (77,)
    assert "RPM consent obtained 2026-10-06" in finding.detail
    none = sa.EarlyTime(patient(2), "CCM", ((42, dt.date(2026, 10, 3)),), ())
    assert "no CCM consent on file" in sa.time_before_consent([none]).findings[0].detail


def test_a_line_counting_a_day_without_a_transmitted_reading_is_found() -> None:
    days = frozenset({dt.date(2026, 10, 1), dt.date(2026, 10, 2)})
    bad = sa.LineDays(patient(1), 9, "99454", days, frozenset({dt.date(2026, 10, 1)}))
    good = sa.LineDays(patient(2), 10, "99454", days, days)
    (finding,) = sa.manual_readings_counted([bad, good]).findings
    assert finding.claim_line_ids == (9,) and "2026-10-02" in finding.detail


def test_the_sections_follow_the_checks_order_and_sources() -> None:
    assert [check.id for check in sa.CHECKS][:5] == [
        "enrollment_spike",
        "no_prior_relationship",
        "no_treatment_management",
        "multiple_device_supply",
        "several_practices",
    ]
    assert {check.source.number for check in sa.CHECKS[:5]} == {"OEI-02-23-00261"}
    assert sa.CHECK_BY_ID[sa.CheckId.MISSING_COMPONENTS].source.number == "OEI-02-23-00260"


def test_the_defaults_are_the_oigs() -> None:
    assert sa.audit_settings({}) == AuditSettings(150, 100, 80, 75, 2, dt.date(2021, 1, 1))
    assert sa.audit_settings({"no_management_pct": 60.5}).no_management_pct == 60.5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"no_managment_pct": 60}, "audit_settings.no_managment_pct"),
        ({"no_management_pct": 101}, "audit_settings.no_management_pct"),
        ({"no_management_pct": "75"}, "audit_settings.no_management_pct"),
        ({"no_management_pct": True}, "audit_settings.no_management_pct"),
        ({"no_prior_relationship_pct": float("nan")}, "audit_settings.no_prior_relationship_pct"),
        ({"spike_min_new_enrollees": 2.5}, "audit_settings.spike_min_new_enrollees"),
        ({"spike_increase_pct": 0}, "audit_settings.spike_increase_pct"),
        ({"device_supply_lines_per_month": 1}, "audit_settings.device_supply_lines_per_month"),
        ({"prior_relationship_since": "2021-02-30"}, "audit_settings.prior_relationship_since"),
        ({"prior_relationship_since": 2021}, "audit_settings.prior_relationship_since"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(AuditSettingsError) as caught:
        sa.audit_settings(overrides)
    assert caught.value.field == field


def test_settings_that_are_not_a_mapping_are_refused() -> None:
    with pytest.raises(AuditSettingsError) as caught:
        sa.audit_settings([1, 2])  # type: ignore[arg-type]
    assert caught.value.field == "audit_settings"


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-10", "2026/10", "0999-01", ""])
def test_a_month_is_written_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        AuditMonth.parse(text)


def test_a_month_knows_its_days_and_the_one_before() -> None:
    assert (OCT.start, OCT.end, str(OCT.previous)) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31), "2026-09")
    assert str(AuditMonth.parse("2026-01").previous) == "2025-12"
