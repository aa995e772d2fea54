"""Alert rules: every default at its boundary, overrides, windows, dedup keys, and two properties."""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remotecare.domain.alert_rules import (
    DEFAULT_RULES,
    AlertFinding,
    AlertRuleError,
    AlertThreshold,
    ReadingPoint,
    Severity,
    effective_rules,
    evaluate_reading,
    history_days_needed,
    rules_for_programs,
    validate_overrides,
)
from remotecare.domain.programs import Program

DAY = dt.date(2025, 3, 10)
ZONE = dt.timezone(dt.timedelta(hours=-6))
ALL = rules_for_programs(DEFAULT_RULES, Program)
_ids = iter(range(1, 1_000_000))


def point(
    type_: str, values: Mapping[str, float], day: dt.date = DAY, hour: int = 9, *, id_: int | None = None
) -> ReadingPoint:
    at = dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)
    return ReadingPoint(next(_ids) if id_ is None else id_, type_, dict(values), at, day)


def before(days: int) -> dt.date:
    return DAY - dt.timedelta(days=days)


def fired(
    reading: ReadingPoint, history: list[ReadingPoint] | None = None, rules: tuple[AlertThreshold, ...] = ALL
) -> list[str]:
    return [finding.rule for finding in evaluate_reading(rules, reading, history or [])]


def bp(systolic: float, diastolic: float = 80) -> ReadingPoint:
    return point("blood_pressure", {"systolic": systolic, "diastolic": diastolic, "pulse": 70})


def weight(kg: float, day: dt.date = DAY, hour: int = 9) -> ReadingPoint:
    return point("weight", {"kg": kg}, day, hour)


def pain(nrs: float, day: dt.date = DAY, hour: int = 9) -> ReadingPoint:
    return point("pain_score", {"nrs": nrs}, day, hour)


def peg(score: float, day: dt.date = DAY, hour: int = 9) -> ReadingPoint:
    return point("peg_score", {"score": score}, day, hour)


# --- plain thresholds, both sides of each boundary -------------------------------------------


@pytest.mark.parametrize(("systolic", "fires"), [(179, False), (179.9, False), (180, True), (182, True)])
def test_systolic_high_is_at_or_above_180(systolic: float, fires: bool) -> None:
    assert fired(bp(systolic)) == (["systolic_high"] if fires else [])


@pytest.mark.parametrize(("diastolic", "fires"), [(119, False), (119.9, False), (120, True)])
def test_diastolic_high_is_at_or_above_120(diastolic: float, fires: bool) -> None:
    assert fired(bp(170, diastolic)) == (["diastolic_high"] if fires else [])


def test_a_crisis_reading_fires_both_pressure_rules_in_rule_order() -> None:
    assert fired(bp(200, 125)) == ["systolic_high", "diastolic_high"]


@pytest.mark.parametrize(
    ("mg_dl", "expected"),
    [(69.9, ["glucose_low"]), (70, []), (150, []), (300, []), (300.1, ["glucose_high"]), (54, ["glucose_low"])],
)
def test_glucose_is_below_70_or_above_300(mg_dl: float, expected: list[str]) -> None:
    assert fired(point("glucose", {"mg_dl": mg_dl})) == expected


@pytest.mark.parametrize(("percent", "fires"), [(89.9, True), (90, False), (97, False)])
def test_spo2_low_is_below_90(percent: float, fires: bool) -> None:
    assert fired(point("spo2", {"percent": percent, "pulse": 80})) == (["spo2_low"] if fires else [])


def test_findings_carry_severity_message_values_and_key() -> None:
    [finding] = evaluate_reading(ALL, bp(182), [])
    assert finding == AlertFinding(
        rule="systolic_high",
        severity=Severity.URGENT,
        message="Systolic 182 mmHg is at or above 180 mmHg.",
        observed=182,
        limit=180,
        dedup_key="systolic_high:2025-03-10",
    )
    [low] = evaluate_reading(ALL, point("spo2", {"percent": 88}), [])
    assert (low.message, low.severity) == ("SpO2 88% is below 90%.", "urgent")
    [high] = evaluate_reading(ALL, point("glucose", {"mg_dl": 300.1}), [])
    assert (high.message, high.severity) == ("Glucose 300.1 mg/dL is above 300 mg/dL.", "warning")


def test_severities_of_the_defaults() -> None:
    urgent = {rule.name for rule in DEFAULT_RULES if rule.severity is Severity.URGENT}
    assert urgent == {"systolic_high", "diastolic_high", "spo2_low", "glucose_low"}
    assert {rule.name for rule in DEFAULT_RULES} == urgent | {
        "glucose_high",
        "weight_gain_2d",
        "weight_gain_7d",
        "pain_rising",
    }


def test_a_reading_without_the_value_or_of_another_type_fires_nothing() -> None:
    assert fired(point("heart_rate", {"bpm": 250})) == []
    assert fired(point("glucose", {})) == []
    assert fired(point("glucose", {"mg_dl": float("nan")})) == []


# --- weight gain ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kg", "fires"), [(82.0, True), (81.9, False), (82.1, True)])
def test_weight_gain_2d_boundary(kg: float, fires: bool) -> None:
    history = [weight(80.0, before(1))]
    assert ("weight_gain_2d" in fired(weight(kg), history)) is fires


def test_weight_gain_boundary_is_not_decided_by_float_noise() -> None:
    # 82.1 - 80.1 is 1.9999999999999716 in floats.
    assert "weight_gain_2d" in fired(weight(82.1), [weight(80.1, before(2))])


def test_weight_gain_compares_with_the_lowest_weight_of_the_window() -> None:
    history = [weight(81.5, before(2)), weight(80.0, before(1), 7), weight(81.0, before(1), 20)]
    findings = evaluate_reading(ALL, weight(82.0), history)
    [gain] = [finding for finding in findings if finding.rule == "weight_gain_2d"]
    assert (gain.observed, gain.limit, gain.baseline) == (2.0, 2.0, 80.0)
    assert gain.message == (
        "Weight 82 kg is 2 kg above the lowest weight of the previous 2 days (80 kg); the limit is a gain of 2 kg."
    )


def test_weight_gain_ignores_readings_outside_the_window() -> None:
    # Three days back is outside the 2-day window (and the 7-day rise is 2.0 < 2.5).
    assert fired(weight(82.0), [weight(80.0, before(3))]) == []
    # Later the same day, or on a later day, is not history for this reading.
    assert fired(weight(82.0, hour=8), [weight(80.0, hour=10), weight(79.0, DAY + dt.timedelta(days=1))]) == []
    # Other reading types are not weights.
    assert fired(weight(82.0), [point("glucose", {"mg_dl": 60}, before(1))]) == []


def test_weight_gain_counts_earlier_readings_the_same_day() -> None:
    assert fired(weight(82.0, hour=20), [weight(80.0, hour=6)]) == ["weight_gain_2d"]


def test_weight_gain_7d_boundary_and_window() -> None:
    assert fired(weight(82.5), [weight(80.0, before(7))]) == ["weight_gain_7d"]
    assert fired(weight(82.4), [weight(80.0, before(7))]) == []
    assert fired(weight(82.5), [weight(80.0, before(8))]) == []
    assert fired(weight(82.5), [weight(80.0, before(2))]) == ["weight_gain_2d", "weight_gain_7d"]


def test_weight_gain_without_history_fires_nothing() -> None:
    assert fired(weight(120.0)) == []


def test_the_reading_itself_in_history_is_not_its_own_baseline() -> None:
    reading = weight(82.0)
    earlier = weight(79.0, before(1))
    assert fired(reading, [reading, earlier]) == ["weight_gain_2d", "weight_gain_7d"]
    same_id = ReadingPoint(reading.id, "weight", {"kg": 70.0}, reading.at, DAY)
    assert fired(reading, [same_id]) == []


# --- pain rising ------------------------------------------------------------------------------


def test_pain_rising_at_exactly_3_points_above_the_mean() -> None:
    history = [pain(3, before(1)), pain(5, before(4)), pain(4, before(7))]
    [finding] = evaluate_reading(ALL, pain(7), history)
    assert (finding.rule, finding.observed, finding.limit, finding.baseline) == ("pain_rising", 3.0, 3, 4.0)
    assert finding.severity is Severity.WARNING
    assert finding.message == (
        "Pain score 7 is 3 points above the mean of the previous 7 days (4); the limit is a rise of 3 points."
    )


def test_pain_rising_at_2_9_points_does_not_fire() -> None:
    assert fired(peg(7.0), [peg(4.1, before(1))]) == []
    assert fired(peg(7.1), [peg(4.1, before(1))]) == ["pain_rising"]
    assert fired(pain(6), [pain(3, before(1)), pain(4, before(2))]) == []  # 2.5 above a mean of 3.5


def test_pain_rising_with_no_baseline_fires_nothing() -> None:
    assert fired(pain(10)) == []
    # Only readings outside the 7 days before, or earlier the same day: still no baseline.
    assert fired(pain(10), [pain(0, before(8)), pain(0, hour=6)]) == []


def test_pain_rising_compares_like_with_like() -> None:
    # A PEG score is not a baseline for an NRS pain score, nor the reverse.
    assert fired(pain(9), [peg(2, before(1))]) == []
    assert fired(peg(9), [pain(2, before(1))]) == []


def test_pain_rule_does_not_fire_for_an_rpm_only_rule_set() -> None:
    history = [pain(1, before(1))]
    rpm = rules_for_programs(DEFAULT_RULES, [Program.RPM])
    assert "pain_rising" not in {rule.name for rule in rpm}
    assert fired(pain(9), history, rpm) == []
    for program in (Program.RTM, Program.CPM):
        assert fired(pain(9), history, rules_for_programs(DEFAULT_RULES, [program])) == ["pain_rising"]
    assert rules_for_programs(DEFAULT_RULES, [Program.RTM]) == tuple(
        rule for rule in DEFAULT_RULES if rule.name == "pain_rising"
    )
    assert rules_for_programs(DEFAULT_RULES, [Program.CCM]) == ()


# --- dedup key, look-back ---------------------------------------------------------------------


def test_dedup_key_is_stable_for_two_readings_the_same_local_day() -> None:
    morning = evaluate_reading(ALL, point("blood_pressure", {"systolic": 185, "diastolic": 90}, hour=7), [])
    evening = evaluate_reading(ALL, point("blood_pressure", {"systolic": 200, "diastolic": 90}, hour=22), [])
    assert [f.dedup_key for f in morning] == [f.dedup_key for f in evening] == ["systolic_high:2025-03-10"]
    tomorrow = point("blood_pressure", {"systolic": 185, "diastolic": 90}, DAY + dt.timedelta(days=1))
    assert [f.dedup_key for f in evaluate_reading(ALL, tomorrow, [])] == ["systolic_high:2025-03-11"]


def test_dedup_key_uses_the_local_date_not_the_utc_date() -> None:
    # 23:00 at UTC-6 is the next day in UTC; the key follows the patient's date.
    reading = ReadingPoint(1, "spo2", {"percent": 85}, dt.datetime(2025, 3, 10, 23, tzinfo=ZONE), DAY)
    [finding] = evaluate_reading(ALL, reading, [])
    assert finding.dedup_key == "spo2_low:2025-03-10"


def test_history_days_needed_is_the_longest_window() -> None:
    assert history_days_needed(DEFAULT_RULES) == 7
    assert (
        history_days_needed([r for r in DEFAULT_RULES if r.name != "weight_gain_7d" and r.name != "pain_rising"]) == 2
    )
    assert history_days_needed([r for r in DEFAULT_RULES if r.days is None]) == 0
    assert history_days_needed([]) == 0
    assert history_days_needed(effective_rules(DEFAULT_RULES, {"pain_rising": {"days": 14}})) == 14


# --- overrides --------------------------------------------------------------------------------


def rule(rules: tuple[AlertThreshold, ...], name: str) -> AlertThreshold:
    [found] = [r for r in rules if r.name == name]
    return found


def test_without_overrides_the_defaults_are_in_force() -> None:
    assert effective_rules(DEFAULT_RULES) == DEFAULT_RULES
    assert effective_rules(DEFAULT_RULES, {}, {}) == DEFAULT_RULES


def test_patient_overrides_practice_overrides_default() -> None:
    practice = {"systolic_high": {"limit": 170}, "weight_gain_2d": {"limit": 1.5, "days": 3}}
    patient = {"systolic_high": {"limit": 160}}
    rules = effective_rules(DEFAULT_RULES, practice, patient)
    assert rule(rules, "systolic_high").limit == 160
    assert (rule(rules, "weight_gain_2d").limit, rule(rules, "weight_gain_2d").days) == (1.5, 3)
    assert rule(rules, "diastolic_high") == rule(DEFAULT_RULES, "diastolic_high")
    assert rule(effective_rules(DEFAULT_RULES, practice), "systolic_high").limit == 170
    assert rule(effective_rules(DEFAULT_RULES, None, patient), "systolic_high").limit == 160
    # A patient setting one key keeps the practice's other keys.
    rules = effective_rules(DEFAULT_RULES, practice, {"weight_gain_2d": {"days": 5}})
    assert (rule(rules, "weight_gain_2d").limit, rule(rules, "weight_gain_2d").days) == (1.5, 5)
    # Evaluation follows the effective limit.
    assert fired(bp(165), rules=effective_rules(DEFAULT_RULES, practice, patient)) == ["systolic_high"]
    assert fired(bp(165), rules=effective_rules(DEFAULT_RULES, practice)) == []


def test_disabled_rules_are_dropped_and_a_patient_may_re_enable() -> None:
    practice = {"glucose_high": {"enabled": False}}
    rules = effective_rules(DEFAULT_RULES, practice)
    assert "glucose_high" not in {r.name for r in rules}
    assert len(rules) == len(DEFAULT_RULES) - 1
    assert fired(point("glucose", {"mg_dl": 400}), rules=rules) == []
    again = effective_rules(DEFAULT_RULES, practice, {"glucose_high": {"enabled": True, "limit": 250}})
    assert rule(again, "glucose_high").limit == 250
    patient_off = effective_rules(DEFAULT_RULES, {"spo2_low": {"limit": 92}}, {"spo2_low": {"enabled": False}})
    assert "spo2_low" not in {r.name for r in patient_off}


def test_effective_rules_does_not_change_its_inputs() -> None:
    practice = {"systolic_high": {"limit": 170}}
    patient = {"systolic_high": {"enabled": False}}
    kept = copy.deepcopy((practice, patient))
    effective_rules(DEFAULT_RULES, practice, patient)
    assert (practice, patient) == kept
    assert rule(DEFAULT_RULES, "systolic_high").limit == 180


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"systolic_hi": {"limit": 170}}, "overrides.systolic_hi"),
        ({"systolic_high": {"limit": "170"}}, "overrides.systolic_high.limit"),
        ({"systolic_high": {"limit": float("nan")}}, "overrides.systolic_high.limit"),
        ({"systolic_high": {"limit": float("inf")}}, "overrides.systolic_high.limit"),
        ({"systolic_high": {"limit": True}}, "overrides.systolic_high.limit"),
        ({"systolic_high": {"limit": 0}}, "overrides.systolic_high.limit"),
        ({"systolic_high": {"threshold": 170}}, "overrides.systolic_high.threshold"),
        ({"systolic_high": {"days": 2}}, "overrides.systolic_high.days"),
        ({"systolic_high": {"enabled": "no"}}, "overrides.systolic_high.enabled"),
        ({"systolic_high": 170}, "overrides.systolic_high"),
        ({"weight_gain_2d": {"days": 0}}, "overrides.weight_gain_2d.days"),
        ({"weight_gain_2d": {"days": 31}}, "overrides.weight_gain_2d.days"),
        ({"weight_gain_2d": {"days": 2.0}}, "overrides.weight_gain_2d.days"),
        ({"weight_gain_2d": {"days": True}}, "overrides.weight_gain_2d.days"),
    ],
)
def test_invalid_overrides_name_the_field(overrides: dict[str, object], field: str) -> None:
    for practice, patient in ((overrides, None), (None, overrides)):
        with pytest.raises(AlertRuleError) as raised:
            effective_rules(DEFAULT_RULES, practice, patient)
        assert raised.value.field == field
        assert isinstance(raised.value, ValueError)
    with pytest.raises(AlertRuleError):
        validate_overrides(DEFAULT_RULES, overrides)


def test_valid_override_bounds() -> None:
    rules = effective_rules(DEFAULT_RULES, {"weight_gain_7d": {"days": 30}}, {"weight_gain_2d": {"days": 1}})
    assert (rule(rules, "weight_gain_7d").days, rule(rules, "weight_gain_2d").days) == (30, 1)
    validate_overrides(DEFAULT_RULES, {"pain_rising": {"limit": 2.5, "days": 14, "enabled": True}})


def test_an_override_for_a_rule_outside_the_rule_set_is_refused() -> None:
    rpm = rules_for_programs(DEFAULT_RULES, [Program.RPM])
    with pytest.raises(AlertRuleError) as raised:
        effective_rules(rpm, {"pain_rising": {"limit": 2}})
    assert raised.value.field == "overrides.pain_rising"


def test_reading_points_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        ReadingPoint(1, "weight", {"kg": 80}, dt.datetime(2025, 3, 10, 9), DAY)


# --- properties -------------------------------------------------------------------------------


@given(
    systolic=st.floats(min_value=50, max_value=300, allow_nan=False),
    limit=st.floats(min_value=90, max_value=250, allow_nan=False),
)
def test_systolic_fires_iff_value_at_or_above_the_limit(systolic: float, limit: float) -> None:
    rules = effective_rules(DEFAULT_RULES, {"systolic_high": {"limit": limit}})
    findings = evaluate_reading(rules, bp(systolic, 40), [])
    assert [f.rule for f in findings] == (["systolic_high"] if systolic >= limit else [])


@given(
    kgs=st.lists(st.floats(min_value=40, max_value=200, allow_nan=False), min_size=0, max_size=12),
    offsets=st.lists(st.integers(min_value=-2, max_value=10), min_size=12, max_size=12),
    new=st.floats(min_value=40, max_value=200, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_evaluation_ignores_history_order_and_changes_nothing(
    kgs: list[float], offsets: list[int], new: float, seed: int
) -> None:
    history = [weight(kg, before(offset), hour=1 + i) for i, (kg, offset) in enumerate(zip(kgs, offsets, strict=False))]
    history += [pain(i % 11, before(offset)) for i, offset in enumerate(offsets)]
    reading = weight(new, hour=23)
    kept = copy.deepcopy(history)
    expected = evaluate_reading(ALL, reading, history)
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)
    assert evaluate_reading(ALL, reading, shuffled) == expected
    assert evaluate_reading(ALL, reading, tuple(reversed(history))) == expected
    assert history == kept
    window = [p.values["kg"] for p in history if p.type == "weight" and before(2) <= p.local_date <= DAY]
    assert ("weight_gain_2d" in [f.rule for f in expected]) is (bool(window) and round(new - min(window), 6) >= 2.0)
