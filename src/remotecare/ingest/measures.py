"""What each reading type measures: its values, their plausible ranges, and the units they arrive in.

Values are stored in one canonical unit per measure (the scenario-file shape):
blood pressure in mmHg, weight in kg, glucose in mg/dL, SpO2 in percent, heart
rate in beats per minute. A value outside its range is refused rather than
stored: it is a device fault, a unit error or a typo, and a billing day must
not rest on it. The ranges are wide on purpose (physiological extremes, not
clinical targets); alerts, not ingestion, judge what is clinically worrying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


class ReadingRefused(ValueError):
    """A reading that cannot be stored: `field` names the part at fault, as the sender wrote it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True, slots=True)
class Number:
    low: float
    high: float
    integer: bool = False


@dataclass(frozen=True, slots=True)
class Text:
    max_length: int = 200


BOOLEAN = "boolean"

ValueKind = Number | Text | str


@dataclass(frozen=True, slots=True)
class Measure:
    """A reading type: the values it may carry, which of them it must, and any one-of group."""

    values: dict[str, ValueKind]
    required: frozenset[str] = frozenset()
    one_of: frozenset[str] = frozenset()  # at least one of these (e.g. a status score or a named measure)
    patient_reported: bool = False


SCORE_0_10 = Number(0, 10, integer=True)

MEASURES: dict[str, Measure] = {
    "blood_pressure": Measure(
        {"systolic": Number(50, 300), "diastolic": Number(20, 200), "pulse": Number(20, 300)},
        required=frozenset({"systolic", "diastolic"}),
    ),
    "weight": Measure({"kg": Number(2, 450)}, required=frozenset({"kg"})),
    "glucose": Measure(
        {"mg_dl": Number(10, 1000), "meal": Text(16)},
        required=frozenset({"mg_dl"}),
    ),
    "spo2": Measure({"percent": Number(50, 100), "pulse": Number(20, 300)}, required=frozenset({"percent"})),
    "heart_rate": Measure({"bpm": Number(20, 300)}, required=frozenset({"bpm"})),
    "pain_score": Measure({"nrs": SCORE_0_10}, required=frozenset({"nrs"}), patient_reported=True),
    # PEG: the mean of three 0-10 items (pain, enjoyment of life, general activity).
    "peg_score": Measure(
        {"score": Number(0, 10), "pain": SCORE_0_10, "enjoyment": SCORE_0_10, "activity": SCORE_0_10},
        required=frozenset({"score"}),
        patient_reported=True,
    ),
    "medication_adherence": Measure(
        {"taken": BOOLEAN, "medication": Text(200)}, required=frozenset({"taken"}), patient_reported=True
    ),
    "therapy_adherence": Measure(
        {"taken": BOOLEAN, "exercise": Text(200), "minutes": Number(0, 600)},
        required=frozenset({"taken"}),
        patient_reported=True,
    ),
    "respiratory_status": Measure(
        {
            "score": Number(0, 100),
            "fev1_l": Number(0.1, 8),
            "peak_flow_l_min": Number(30, 1000),
            "inhaler_puffs": Number(0, 100, integer=True),
        },
        one_of=frozenset({"score", "fev1_l", "peak_flow_l_min", "inhaler_puffs"}),
    ),
    "musculoskeletal_status": Measure(
        {"score": Number(0, 100), "range_of_motion_deg": Number(0, 360), "steps": Number(0, 100_000, integer=True)},
        one_of=frozenset({"score", "range_of_motion_deg", "steps"}),
    ),
    "cbt_session": Measure(
        {"completed": BOOLEAN, "minutes": Number(0, 600), "module": Text(200)},
        required=frozenset({"completed"}),
        patient_reported=True,
    ),
    # A daily symptom check-in from a patient app: overall severity 0-10, and what the patient named.
    "symptom_checkin": Measure(
        {"severity": SCORE_0_10, "symptom": Text(200)}, required=frozenset({"severity"}), patient_reported=True
    ),
    # Brief Pain Inventory short form: severity (mean of items 3-6) and interference (mean of items 9A-G, when
    # at least 4 are answered), with the answered items; scored by `remotecare.domain.pain_scales`.
    "bpi_short_form": Measure(
        {
            "severity": Number(0, 10),
            "interference": Number(0, 10),
            "worst": SCORE_0_10,
            "least": SCORE_0_10,
            "average": SCORE_0_10,
            "now": SCORE_0_10,
            "general_activity": SCORE_0_10,
            "mood": SCORE_0_10,
            "walking_ability": SCORE_0_10,
            "normal_work": SCORE_0_10,
            "relations": SCORE_0_10,
            "sleep": SCORE_0_10,
            "enjoyment_of_life": SCORE_0_10,
        },
        required=frozenset({"severity"}),
        patient_reported=True,
    ),
}

READING_TYPES = tuple(MEASURES)


def check_values(reading_type: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values as stored, or `ReadingRefused` naming the value at fault (`values.systolic`)."""
    measure = MEASURES.get(reading_type)
    if measure is None:
        raise ReadingRefused("type", f"{reading_type!r} is not a reading type (one of {', '.join(READING_TYPES)})")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        kind = measure.values.get(name)
        if kind is None:
            raise ReadingRefused(
                f"values.{name}", f"is not a value of {reading_type} (one of {', '.join(measure.values)})"
            )
        checked[name] = _check(f"values.{name}", kind, value)
    for name in sorted(measure.required - checked.keys()):
        raise ReadingRefused(f"values.{name}", f"is required for {reading_type}")
    if measure.one_of and not measure.one_of & checked.keys():
        raise ReadingRefused("values", f"{reading_type} needs one of {', '.join(sorted(measure.one_of))}")
    if reading_type == "blood_pressure" and checked["systolic"] <= checked["diastolic"]:
        raise ReadingRefused("values.diastolic", "is not below the systolic pressure (values swapped?)")
    return checked


def _check(field: str, kind: ValueKind, value: Any) -> Any:
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise ReadingRefused(field, "must be true or false")
        return value
    if isinstance(kind, Text):
        if not isinstance(value, str) or not value.strip() or len(value) > kind.max_length or "\x00" in value:
            raise ReadingRefused(field, f"must be text of 1 to {kind.max_length} characters")
        return value.strip()
    assert isinstance(kind, Number)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReadingRefused(field, "must be a number")
    if kind.integer and value != int(value):
        raise ReadingRefused(field, "must be a whole number")
    if not kind.low <= value <= kind.high:
        raise ReadingRefused(field, f"{value:g} is outside the plausible range {kind.low:g} to {kind.high:g}")
    return int(value) if kind.integer else value


# UCUM unit codes accepted for each canonical value, with the factor to the canonical unit.
# Anything else is refused: a wrong unit silently stored is worse than a reading refused.
UCUM: dict[str, dict[str, float]] = {
    "systolic": {"mm[Hg]": 1.0, "kPa": 7.500617},
    "diastolic": {"mm[Hg]": 1.0, "kPa": 7.500617},
    "pulse": {"/min": 1.0, "{beats}/min": 1.0},
    "bpm": {"/min": 1.0, "{beats}/min": 1.0},
    "kg": {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237, "[oz_av]": 0.028349523125},
    "mg_dl": {"mg/dL": 1.0, "mmol/L": 18.016},  # glucose: 180.16 g/mol
    "percent": {"%": 1.0},
    "nrs": {"1": 1.0, "{score}": 1.0},
    "score": {"1": 1.0, "{score}": 1.0},
    "fev1_l": {"L": 1.0, "mL": 0.001},
    "peak_flow_l_min": {"L/min": 1.0},
}

# Canonical values are kept to a sensible precision, so a converted value hashes the same on every retry.
DECIMALS = {"kg": 2, "mg_dl": 1, "systolic": 1, "diastolic": 1, "fev1_l": 2}


def to_canonical(field: str, value: float, unit: str | None, value_name: str) -> float:
    """`value` in `unit` (a UCUM code) converted to the canonical unit of `value_name`."""
    units = UCUM.get(value_name, {})
    if unit is None:
        raise ReadingRefused(field, f"has no unit (expected one of {', '.join(units) or 'none'})")
    factor = units.get(unit)
    if factor is None:
        raise ReadingRefused(field, f"unit {unit!r} is not accepted here (one of {', '.join(units)})")
    converted = value * factor
    if factor == 1.0:
        return value
    return round(converted, DECIMALS.get(value_name, 2))
