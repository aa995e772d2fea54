"""Clinical alert rules as data, and the pure functions that judge a reading against them.

A rule (`AlertThreshold`) names one value of one reading type (`blood_pressure.systolic`),
a limit, a severity and the programs it serves. Practices and patients adjust the
defaults with partial overrides (`effective_rules`); `evaluate_reading` then judges
one new reading, with the patient's earlier readings as history, and returns the
findings. Nothing here reads a database or a clock, and no input is changed.

Comparisons, exactly as written in each rule's message:

- `AT_OR_ABOVE`: fires when value >= limit ("at or above 180 mmHg": 180 fires, 179.9 does not).
- `ABOVE`: fires when value > limit ("above 300 mg/dL": 300.1 fires, 300 does not).
- `BELOW`: fires when value < limit ("below 70 mg/dL": 69.9 fires, 70 does not).
- `WEIGHT_GAIN`: fires when new weight - lowest weight in the window >= limit
  (a gain of exactly 2.0 kg fires, 1.9 kg does not). The window is the readings
  on local dates d-N .. d-1 plus the readings earlier on the same local date d.
- `PAIN_RISING`: fires when new score - mean of the window >= limit (exactly 3 points
  above fires, 2.9 does not). The window is the readings on local dates d-N .. d-1
  (the days before the reading's date, not earlier the same day), of the same
  reading type as the new one: an NRS pain score is compared with NRS scores, a
  PEG score with PEG scores. With no reading in the window there is no baseline
  and no finding.

Differences (gain, rise over the mean) are rounded to 6 decimals before they are
compared, so float noise (82.1 - 80.1 = 1.99999...) never decides a boundary.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from remotecare.domain.programs import Program
from remotecare.ingest.measures import MEASURES, Number

MAX_DAYS = 30
OVERRIDE_KEYS = ("limit", "days", "enabled")
_DECIMALS = 6  # differences are rounded to this many places before comparison


class AlertRuleError(ValueError):
    """A rule or override that cannot be used: `field` names the part at fault (`overrides.systolic_high.limit`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _check_limit(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AlertRuleError(field, "must be a finite number")
    if value <= 0:
        raise AlertRuleError(field, f"{value:g} must be above 0")


def _check_days(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise AlertRuleError(field, f"must be a whole number of days from 1 to {MAX_DAYS}")


class Severity(StrEnum):
    URGENT = "urgent"
    WARNING = "warning"


class RuleKind(StrEnum):
    AT_OR_ABOVE = "at_or_above"  # value >= limit
    ABOVE = "above"  # value > limit
    BELOW = "below"  # value < limit
    WEIGHT_GAIN = "weight_gain"  # value - min(window) >= limit, window of `days`
    PAIN_RISING = "pain_rising"  # value - mean(window) >= limit, window of `days`


WINDOWED_KINDS = frozenset({RuleKind.WEIGHT_GAIN, RuleKind.PAIN_RISING})


@dataclass(frozen=True, slots=True)
class ValueRef:
    """One value of one reading type, as in `ingest.measures`: `blood_pressure.systolic`."""

    reading_type: str
    value: str

    def __str__(self) -> str:
        return f"{self.reading_type}.{self.value}"


@dataclass(frozen=True, slots=True)
class AlertThreshold:
    """One alert rule.

    `looks_at` is the value(s) it judges: one for most rules, several when equivalent
    measures share a rule (pain rising reads `pain_score.nrs` or `peg_score.score`).
    `days` is the look-back window of a windowed kind, None for a plain threshold.
    `label` and `unit` are used only in messages ("Systolic", "mmHg").
    """

    name: str
    kind: RuleKind
    severity: Severity
    looks_at: tuple[ValueRef, ...]
    limit: float
    programs: frozenset[Program]
    label: str
    unit: str
    days: int | None = None

    def __post_init__(self) -> None:
        field = f"rules.{self.name}"
        if not self.looks_at:
            raise AlertRuleError(f"{field}.looks_at", "names no value")
        for ref in self.looks_at:
            measure = MEASURES.get(ref.reading_type)
            if measure is None or not isinstance(measure.values.get(ref.value), Number):
                raise AlertRuleError(f"{field}.looks_at", f"{ref} is not a numeric reading value")
        _check_limit(f"{field}.limit", self.limit)
        if self.kind in WINDOWED_KINDS:
            _check_days(f"{field}.days", self.days)
        elif self.days is not None:
            raise AlertRuleError(f"{field}.days", f"a {self.kind} rule has no look-back window")
        if not self.programs:
            raise AlertRuleError(f"{field}.programs", "names no program")

    def reads(self, reading_type: str) -> str | None:
        """The value this rule judges in a reading of `reading_type`, or None if it ignores that type."""
        for ref in self.looks_at:
            if ref.reading_type == reading_type:
                return ref.value
        return None


@dataclass(frozen=True, slots=True)
class ReadingPoint:
    """A reading as the rules see it: `at` is an aware instant, `local_date` its date in the patient's zone."""

    id: int | None
    type: str
    values: Mapping[str, float]
    at: dt.datetime
    local_date: dt.date

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("ReadingPoint.at must be an aware datetime")


@dataclass(frozen=True, slots=True)
class AlertFinding:
    """A rule that fired for a reading.

    `observed` is the quantity compared with `limit`: the value itself for a plain
    threshold, the gain in kg for weight gain, the rise over the mean for pain
    rising (then `baseline` is the lowest weight or the mean score). `dedup_key`
    is the same for every finding of one rule on one local date; the caller opens
    an alert only if none is open with that key.
    """

    rule: str
    severity: Severity
    message: str
    observed: float
    limit: float
    dedup_key: str
    baseline: float | None = None


def _ref(reading_type: str, value: str) -> tuple[ValueRef, ...]:
    return (ValueRef(reading_type, value),)


_RPM = frozenset({Program.RPM})

DEFAULT_RULES: tuple[AlertThreshold, ...] = (
    # Hypertensive crisis values: urgent.
    AlertThreshold(
        name="systolic_high",
        kind=RuleKind.AT_OR_ABOVE,
        severity=Severity.URGENT,
        looks_at=_ref("blood_pressure", "systolic"),
        limit=180,
        programs=_RPM,
        label="Systolic",
        unit="mmHg",
    ),
    AlertThreshold(
        name="diastolic_high",
        kind=RuleKind.AT_OR_ABOVE,
        severity=Severity.URGENT,
        looks_at=_ref("blood_pressure", "diastolic"),
        limit=120,
        programs=_RPM,
        label="Diastolic",
        unit="mmHg",
    ),
    AlertThreshold(
        name="glucose_low",
        kind=RuleKind.BELOW,
        severity=Severity.URGENT,
        looks_at=_ref("glucose", "mg_dl"),
        limit=70,
        programs=_RPM,
        label="Glucose",
        unit="mg/dL",
    ),
    AlertThreshold(
        name="glucose_high",
        kind=RuleKind.ABOVE,
        severity=Severity.WARNING,
        looks_at=_ref("glucose", "mg_dl"),
        limit=300,
        programs=_RPM,
        label="Glucose",
        unit="mg/dL",
    ),
    AlertThreshold(
        name="weight_gain_2d",
        kind=RuleKind.WEIGHT_GAIN,
        severity=Severity.WARNING,
        looks_at=_ref("weight", "kg"),
        limit=2.0,
        days=2,
        programs=_RPM,
        label="Weight",
        unit="kg",
    ),
    AlertThreshold(
        name="weight_gain_7d",
        kind=RuleKind.WEIGHT_GAIN,
        severity=Severity.WARNING,
        looks_at=_ref("weight", "kg"),
        limit=2.5,
        days=7,
        programs=_RPM,
        label="Weight",
        unit="kg",
    ),
    AlertThreshold(
        name="spo2_low",
        kind=RuleKind.BELOW,
        severity=Severity.URGENT,
        looks_at=_ref("spo2", "percent"),
        limit=90,
        programs=_RPM,
        label="SpO2",
        unit="%",
    ),
    AlertThreshold(
        name="pain_rising",
        kind=RuleKind.PAIN_RISING,
        severity=Severity.WARNING,
        looks_at=(ValueRef("pain_score", "nrs"), ValueRef("peg_score", "score")),
        limit=3,
        days=7,
        programs=frozenset({Program.RTM, Program.CPM}),
        label="Pain score",
        unit="points",
    ),
)


def rules_for_programs(rules: Iterable[AlertThreshold], programs: Iterable[Program]) -> tuple[AlertThreshold, ...]:
    """The rules that apply to a patient enrolled in any of `programs`, in their given order."""
    enrolled = frozenset(programs)
    return tuple(rule for rule in rules if rule.programs & enrolled)


def validate_overrides(defaults: Iterable[AlertThreshold], overrides: Mapping[str, object]) -> None:
    """Raise `AlertRuleError` (field `overrides.<rule>.<key>`) if `overrides` cannot apply to `defaults`."""
    by_name = {rule.name: rule for rule in defaults}
    if not isinstance(overrides, Mapping):
        raise AlertRuleError("overrides", "must map rule names to settings")
    for name, settings in overrides.items():
        if not isinstance(name, str) or name not in by_name:
            raise AlertRuleError(
                f"overrides.{name}", f"is not an alert rule (one of {', '.join(sorted(by_name)) or 'none'})"
            )
        if not isinstance(settings, Mapping):
            raise AlertRuleError(f"overrides.{name}", "must map settings (limit, days, enabled) to values")
        rule = by_name[name]
        for key, value in settings.items():
            field = f"overrides.{name}.{key}"
            if key == "limit":
                _check_limit(field, value)
            elif key == "days":
                if rule.kind not in WINDOWED_KINDS:
                    raise AlertRuleError(field, f"{name} has no look-back window")
                _check_days(field, value)
            elif key == "enabled":
                if not isinstance(value, bool):
                    raise AlertRuleError(field, "must be true or false")
            else:
                raise AlertRuleError(field, f"is not a setting (one of {', '.join(OVERRIDE_KEYS)})")


def effective_rules(
    defaults: Iterable[AlertThreshold],
    practice_overrides: Mapping[str, object] | None = None,
    patient_overrides: Mapping[str, object] | None = None,
) -> tuple[AlertThreshold, ...]:
    """The rules in force for one patient: defaults, then the practice's settings, then the patient's.

    Each override maps a rule name to a partial `{"limit": number, "days": int, "enabled": bool}`;
    a key the patient sets wins over the practice's, which wins over the default. A rule
    that ends up disabled is left out. Invalid overrides raise `AlertRuleError`.
    """
    rules = tuple(defaults)
    names = [rule.name for rule in rules]
    for name in names:
        if names.count(name) > 1:
            raise AlertRuleError(f"rules.{name}", "is defined more than once")
    layers = [layer for layer in (practice_overrides, patient_overrides) if layer is not None]
    for layer in layers:
        validate_overrides(rules, layer)
    result: list[AlertThreshold] = []
    for rule in rules:
        settings: dict[str, object] = {}
        for layer in layers:
            layer_settings = layer.get(rule.name)
            if isinstance(layer_settings, Mapping):
                settings.update(layer_settings)
        if settings.get("enabled", True) is False:
            continue
        limit, days = settings.get("limit", rule.limit), settings.get("days", rule.days)
        assert isinstance(limit, int | float) and (days is None or isinstance(days, int))  # validated above
        if limit != rule.limit or days != rule.days:
            rule = dataclasses.replace(rule, limit=limit, days=days)
        result.append(rule)
    return tuple(result)


def history_days_needed(rules: Iterable[AlertThreshold]) -> int:
    """The longest look-back of any rule, in days: load history from local date d minus this (0: none needed)."""
    return max((rule.days or 0 for rule in rules), default=0)


def evaluate_reading(
    rules: Iterable[AlertThreshold], reading: ReadingPoint, history: Iterable[ReadingPoint]
) -> list[AlertFinding]:
    """The findings for `reading`, one per rule that fires, in the order of `rules`.

    `history` holds the patient's other readings, of any type and in any order; readings
    outside a rule's window (including any later than `reading`) are ignored, as is
    `reading` itself if it appears there (same non-None id, or the same instant and values).
    """
    past = tuple(point for point in history if not _same(point, reading))
    findings: list[AlertFinding] = []
    for rule in rules:
        finding = _judge(rule, reading, past)
        if finding is not None:
            findings.append(finding)
    return findings


def _judge(rule: AlertThreshold, reading: ReadingPoint, past: Sequence[ReadingPoint]) -> AlertFinding | None:
    value_name = rule.reads(reading.type)
    if value_name is None:
        return None
    value = _number(reading, value_name)
    if value is None:
        return None
    key = f"{rule.name}:{reading.local_date.isoformat()}"
    limit = rule.limit
    label, unit = rule.label, rule.unit

    if rule.kind is RuleKind.AT_OR_ABOVE:
        if value >= limit:
            text = f"{label} {_q(value, unit)} is at or above {_q(limit, unit)}."
            return AlertFinding(rule.name, rule.severity, text, value, limit, key)
        return None
    if rule.kind is RuleKind.ABOVE:
        if value > limit:
            text = f"{label} {_q(value, unit)} is above {_q(limit, unit)}."
            return AlertFinding(rule.name, rule.severity, text, value, limit, key)
        return None
    if rule.kind is RuleKind.BELOW:
        if value < limit:
            text = f"{label} {_q(value, unit)} is below {_q(limit, unit)}."
            return AlertFinding(rule.name, rule.severity, text, value, limit, key)
        return None

    assert rule.days is not None
    first_day = reading.local_date - dt.timedelta(days=rule.days)
    if rule.kind is RuleKind.WEIGHT_GAIN:
        window = [
            weight
            for point in past
            if point.type == reading.type
            and (
                first_day <= point.local_date < reading.local_date
                or (point.local_date == reading.local_date and point.at < reading.at)
            )
            and (weight := _number(point, value_name)) is not None
        ]
        if not window:
            return None
        lowest = min(window)
        gain = round(value - lowest, _DECIMALS)
        if gain >= limit:
            text = (
                f"{label} {_q(value, unit)} is {_q(gain, unit)} above the lowest weight of the previous "
                f"{_days(rule.days)} ({_q(lowest, unit)}); the limit is a gain of {_q(limit, unit)}."
            )
            return AlertFinding(rule.name, rule.severity, text, gain, limit, key, baseline=lowest)
        return None

    assert rule.kind is RuleKind.PAIN_RISING
    scores = [
        score
        for point in past
        if point.type == reading.type
        and first_day <= point.local_date < reading.local_date
        and (score := _number(point, value_name)) is not None
    ]
    if not scores:
        return None
    mean = math.fsum(scores) / len(scores)
    rise = round(value - mean, _DECIMALS)
    if rise >= limit:
        text = (
            f"{label} {_fmt(value)} is {_q(rise, unit)} above the mean of the previous {_days(rule.days)} "
            f"({_fmt(mean)}); the limit is a rise of {_q(limit, unit)}."
        )
        return AlertFinding(rule.name, rule.severity, text, rise, limit, key, baseline=round(mean, _DECIMALS))
    return None


def _same(point: ReadingPoint, reading: ReadingPoint) -> bool:
    if point.id is not None and reading.id is not None:
        return point.id == reading.id
    return point is reading or (
        point.type == reading.type and point.at == reading.at and point.values == reading.values
    )


def _number(point: ReadingPoint, name: str) -> float | None:
    value: object = point.values.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _fmt(number: float) -> str:
    """A number for people: at most 2 decimals, no trailing zeros (182, 82.05, 300.1)."""
    text = f"{round(number, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _q(number: float, unit: str) -> str:
    """A quantity with its unit: "182 mmHg", "88%", "1 point", "3 points"."""
    if unit == "%":
        return f"{_fmt(number)}%"
    if unit == "points" and _fmt(number) == "1":
        return "1 point"
    return f"{_fmt(number)} {unit}"


def _days(days: int) -> str:
    return "day" if days == 1 else f"{days} days"
