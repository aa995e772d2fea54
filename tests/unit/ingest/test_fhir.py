"""FHIR R4 in and out: LOINC and our CodeSystems, units, refusals with their paths, Bundles, round trips.

Synthetic data only. Outputs are checked against fhir.resources' R4B models,
which are wire-compatible with R4 for Observation, Bundle and OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from remotecare.ingest import fhir_codes as codes
from remotecare.ingest.fhir_in import BundleRefused, parse_bundle, parse_observation
from remotecare.ingest.fhir_out import (
    StoredRow,
    observation_resource,
    operation_outcome,
    response_bundle,
    response_entry,
    searchset_bundle,
)
from remotecare.ingest.measures import BOOLEAN, MEASURES, READING_TYPES, Number, ReadingRefused, Text, check_values
from remotecare.ingest.reading import IncomingReading, Refusal

AT = "2024-05-01T08:30:00-05:00"
AT_PARSED = dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
UTC = dt.UTC


def coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def loinc(*codes_: str) -> dict[str, Any]:
    return {"coding": [{"system": codes.LOINC, "code": code} for code in codes_]}


def ours(reading_type: str) -> dict[str, Any]:
    return coding(codes.READING_TYPE, reading_type)


def qty(value: Any, unit: str | None = None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if unit is not None:
        quantity |= {"system": codes.UCUM_SYSTEM, "code": unit}
    return {"valueQuantity": quantity}


def component(code: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, **value}


def value_component(name: str, value: dict[str, Any]) -> dict[str, Any]:
    return component(coding(codes.READING_VALUE, name), value)


def obs(code: dict[str, Any], **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": code,
        "subject": {"reference": "Patient/12"},
        "effectiveDateTime": AT,
    }
    resource.update(fields)
    return {key: value for key, value in resource.items() if value is not None}


def bp(systolic: Any = 128, diastolic: Any = 82, unit: str = "mm[Hg]", code: str = "85354-9") -> dict[str, Any]:
    return obs(
        loinc(code),
        component=[
            component(loinc("8480-6"), qty(systolic, unit)),
            component(loinc("8462-4"), qty(diastolic, unit)),
        ],
    )


def reading(resource: Any) -> IncomingReading:
    parsed = parse_observation(resource)
    assert isinstance(parsed, IncomingReading), parsed
    return parsed


def refusal(resource: Any, path: str = "Observation") -> Refusal:
    parsed = parse_observation(resource, path)
    assert isinstance(parsed, Refusal), parsed
    return parsed


# --- LOINC codes in ------------------------------------------------------------------------------


def test_a_core_bp_panel_is_read_with_everything_it_names() -> None:
    resource = bp()
    resource["component"].append(component(loinc("8867-4"), qty(71, "/min")))
    resource |= {
        "device": {"reference": "Device/9"},
        "identifier": [{"system": "urn:ehr", "value": "obs-1"}],
    }
    assert reading(resource) == IncomingReading(
        type="blood_pressure",
        values={"systolic": 128, "diastolic": 82, "pulse": 71},
        at=AT_PARSED,
        patient_id=12,
        device_id=9,
        external_id="urn:ehr|obs-1",
        provenance={
            "codes": ["http://loinc.org|85354-9"],
            "status": "final",
            "units": {"systolic": "mm[Hg]", "diastolic": "mm[Hg]", "pulse": "/min"},
        },
    )


@pytest.mark.parametrize("code", [loinc("55284-4", "8716-3"), loinc("55284-4"), loinc("8716-3")])
def test_the_va_bp_coding_is_accepted(code: dict[str, Any]) -> None:
    resource = bp()
    resource["code"] = code
    parsed = reading(resource)
    assert (parsed.type, parsed.values) == ("blood_pressure", {"systolic": 128, "diastolic": 82})


def test_the_general_vital_signs_code_gives_way_to_a_specific_one() -> None:
    resource = obs(loinc("8716-3", "8867-4"), **qty(64, "/min"))
    assert (reading(resource).type, reading(resource).values) == ("heart_rate", {"bpm": 64})


@pytest.mark.parametrize(
    ("code", "value", "expected"),
    [
        ("8867-4", qty(72, "/min"), ("heart_rate", {"bpm": 72})),
        ("8867-4", qty(72, "{beats}/min"), ("heart_rate", {"bpm": 72})),
        ("29463-7", qty(81.2, "kg"), ("weight", {"kg": 81.2})),
        ("3141-9", qty(81.2, "kg"), ("weight", {"kg": 81.2})),
        ("2339-0", qty(104, "mg/dL"), ("glucose", {"mg_dl": 104})),
        ("41653-7", qty(104, "mg/dL"), ("glucose", {"mg_dl": 104})),
        ("2345-7", qty(104, "mg/dL"), ("glucose", {"mg_dl": 104})),
        ("59408-5", qty(97, "%"), ("spo2", {"percent": 97})),
        ("2708-6", qty(97, "%"), ("spo2", {"percent": 97})),
        ("72514-3", {"valueInteger": 4}, ("pain_score", {"nrs": 4})),
    ],
)
def test_each_loinc_code_names_its_reading(code: str, value: dict[str, Any], expected: tuple[str, Any]) -> None:
    parsed = reading(obs(loinc(code), **value))
    assert (parsed.type, parsed.values) == expected


def test_spo2_may_carry_the_pulse_as_a_component() -> None:
    resource = obs(loinc("2708-6", "59408-5"), **qty(95, "%"), component=[component(loinc("8867-4"), qty(88, "/min"))])
    assert reading(resource).values == {"percent": 95, "pulse": 88}


@pytest.mark.parametrize(
    ("code", "value", "expected"),
    [
        ("29463-7", qty(180, "[lb_av]"), {"kg": 81.65}),
        ("29463-7", qty(2500, "g"), {"kg": 2.5}),
        ("29463-7", qty(160, "[oz_av]"), {"kg": 4.54}),
        ("2339-0", qty(5.5, "mmol/L"), {"mg_dl": 99.1}),
        ("41653-7", qty(10, "mmol/L"), {"mg_dl": 180.2}),
    ],
)
def test_units_are_converted_to_the_canonical_ones(code: str, value: dict[str, Any], expected: Any) -> None:
    assert reading(obs(loinc(code), **value)).values == expected


def test_bp_in_kpa_is_converted_to_mmhg() -> None:
    parsed = reading(bp(16, 10.5, unit="kPa"))
    assert parsed.values == {"systolic": 120.0, "diastolic": 78.8}
    assert parsed.provenance["units"] == {"systolic": "kPa", "diastolic": "kPa"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"valueInteger": 6}, 6),
        (qty(6, "1"), 6),
        (qty(6, "{score}"), 6),
        ({"valueCodeableConcept": loinc("LA10138-8")}, 6),
        ({"valueCodeableConcept": loinc("LA6111-4")}, 0),
        ({"valueCodeableConcept": loinc("LA6113-0")}, 2),
        ({"valueCodeableConcept": loinc("LA13942-0")}, 10),
    ],
)
def test_pain_arrives_as_integer_score_or_loinc_answer(value: dict[str, Any], expected: int) -> None:
    assert reading(obs(loinc("72514-3"), **value)).values == {"nrs": expected}


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("LA6111-4", 0),
        ("LA6112-2", 1),
        ("LA6113-0", 2),
        ("LA6114-8", 3),
        ("LA6115-5", 4),
        ("LA10137-0", 5),
        ("LA10138-8", 6),
        ("LA10139-6", 7),
        ("LA10140-4", 8),
        ("LA10141-2", 9),
        ("LA13942-0", 10),
    ],
)
def test_every_pain_answer_is_its_score(answer: str, score: int) -> None:
    assert reading(obs(loinc("72514-3"), valueCodeableConcept=loinc(answer))).values == {"nrs": score}


def test_pain_from_an_answer_keeps_the_answer_code() -> None:
    parsed = reading(obs(loinc("72514-3"), valueCodeableConcept=loinc("LA10141-2")))
    assert (parsed.values, parsed.provenance["units"]) == ({"nrs": 9}, {"nrs": "LA10141-2"})


# --- our CodeSystems in ---------------------------------------------------------------------------


def test_a_peg_score_comes_as_components_of_our_codesystem() -> None:
    resource = obs(
        ours("peg_score"),
        component=[
            value_component("score", qty(5.67, "{score}")),
            value_component("pain", {"valueInteger": 7}),
            value_component("enjoyment", {"valueInteger": 5}),
            value_component("activity", {"valueInteger": 5}),
        ],
        device={"identifier": {"value": "app:painlog-ios"}},
    )
    parsed = reading(resource)
    assert (parsed.type, parsed.values) == ("peg_score", {"score": 5.67, "pain": 7, "enjoyment": 5, "activity": 5})
    assert (parsed.device_id, parsed.device_serial) == (None, "app:painlog-ios")


@pytest.mark.parametrize(
    ("reading_type", "components", "expected"),
    [
        (
            "medication_adherence",
            [value_component("taken", {"valueBoolean": True}), value_component("medication", {"valueString": "x"})],
            {"taken": True, "medication": "x"},
        ),
        (
            "therapy_adherence",
            [value_component("taken", {"valueBoolean": False}), value_component("minutes", qty(0.5, "h"))],
            None,
        ),
        (
            "cbt_session",
            [value_component("completed", {"valueBoolean": True}), value_component("minutes", qty(25, "min"))],
            {"completed": True, "minutes": 25},
        ),
        (
            "symptom_checkin",
            [value_component("severity", {"valueInteger": 3}), value_component("symptom", {"valueString": " cough "})],
            {"severity": 3, "symptom": "cough"},
        ),
        (
            "respiratory_status",
            [value_component("peak_flow_l_min", qty(420, "L/min")), value_component("fev1_l", qty(2100, "mL"))],
            {"peak_flow_l_min": 420, "fev1_l": 2.1},
        ),
        (
            "musculoskeletal_status",
            [value_component("steps", {"valueInteger": 5400}), value_component("range_of_motion_deg", qty(95, "deg"))],
            {"steps": 5400, "range_of_motion_deg": 95},
        ),
        ("weight", [value_component("kg", qty(180, "[lb_av]"))], {"kg": 81.65}),
    ],
)
def test_every_type_is_accepted_in_our_codesystem(
    reading_type: str, components: list[dict[str, Any]], expected: dict[str, Any] | None
) -> None:
    parsed = parse_observation(obs(ours(reading_type), component=components))
    if expected is None:  # hours are not a unit we take for minutes
        assert parsed == Refusal(
            "Observation.component[1].valueQuantity.code", "unit 'h' is not accepted here (one of min)"
        )
    else:
        assert isinstance(parsed, IncomingReading)
        assert (parsed.type, parsed.values) == (reading_type, expected)


@pytest.mark.parametrize(
    ("reading_type", "value", "expected"),
    [
        ("medication_adherence", {"valueBoolean": False}, {"taken": False}),
        ("symptom_checkin", {"valueInteger": 8}, {"severity": 8}),
        ("pain_score", {"valueInteger": 2}, {"nrs": 2}),
        ("peg_score", qty(3.33, "1"), {"score": 3.33}),
    ],
)
def test_a_type_with_one_required_value_may_carry_it_as_the_value(
    reading_type: str, value: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert reading(obs(ours(reading_type), **value)).values == expected


def test_a_type_without_a_single_value_refuses_value_x() -> None:
    assert refusal(obs(ours("respiratory_status"), **qty(80, "1"))) == Refusal(
        "Observation.valueQuantity", "respiratory_status carries its values as components"
    )


def test_components_we_do_not_store_are_ignored_and_noted() -> None:
    resource = bp()
    resource["component"].append(component(loinc("8478-0"), qty(97, "mm[Hg]")))
    parsed = reading(resource)
    assert parsed.values == {"systolic": 128, "diastolic": 82}
    assert parsed.provenance["ignored_components"] == ["http://loinc.org|8478-0"]


def test_manual_entry_identifier_and_device_serial() -> None:
    resource = obs(
        loinc("29463-7"),
        **qty(80, "kg"),
        method=coding(codes.ENTRY_METHOD, codes.MANUAL),
        identifier=[{"system": "urn:a"}, {"value": "w-7"}],
        device={"reference": "Device/4", "identifier": {"value": " SN-1 "}},
    )
    parsed = reading(resource)
    assert (parsed.manual, parsed.external_id, parsed.device_id, parsed.device_serial) == (True, "|w-7", 4, "SN-1")


def test_a_method_in_another_system_is_not_manual() -> None:
    resource = obs(loinc("29463-7"), **qty(80, "kg"), method=coding("http://snomed.info/sct", "31813000"))
    assert reading(resource).manual is False


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"effectiveInstant": "2024-05-01T13:30:00.5Z"}, dt.datetime(2024, 5, 1, 13, 30, 0, 500000, tzinfo=UTC)),
        (
            {"effectivePeriod": {"start": "2024-05-01T13:00:00Z", "end": "2024-05-01T13:05:00Z"}},
            dt.datetime(2024, 5, 1, 13, 5, tzinfo=UTC),
        ),
        ({"effectivePeriod": {"start": "2024-05-01T13:00:00Z"}}, dt.datetime(2024, 5, 1, 13, 0, tzinfo=UTC)),
    ],
)
def test_other_effective_forms(fields: dict[str, Any], expected: dt.datetime) -> None:
    resource = obs(loinc("8867-4"), **qty(60, "/min"), effectiveDateTime=None, **fields)
    assert reading(resource).at == expected


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_amended_and_corrected_readings_are_read(status: str) -> None:
    assert reading(obs(loinc("8867-4"), **qty(60, "/min"), status=status)).provenance["status"] == status


# --- refusals -------------------------------------------------------------------------------------


HR = {"code": loinc("8867-4"), **qty(60, "/min")}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"effectiveDateTime": "2024-05-01T08:30:00"},
            "Observation.effectiveDateTime",
            "'2024-05-01T08:30:00' has no UTC offset, so its day cannot be known: add Z or +hh:mm",
        ),
        (
            {"effectiveDateTime": "2024-05-01"},
            "Observation.effectiveDateTime",
            "'2024-05-01' is a date without a time: a reading needs its time and UTC offset",
        ),
        (
            {"effectiveDateTime": "2024-05"},
            "Observation.effectiveDateTime",
            "'2024-05' is a date without a time: a reading needs its time and UTC offset",
        ),
        (
            {"effectiveDateTime": None},
            "Observation.effectiveDateTime",
            "is required (or effectiveInstant, or effectivePeriod): when it was measured",
        ),
        (
            {"effectiveDateTime": None, "effectivePeriod": {"end": "2024-05-01"}},
            "Observation.effectivePeriod.end",
            "'2024-05-01' is a date without a time: a reading needs its time and UTC offset",
        ),
        (
            {"status": "entered-in-error"},
            "Observation.status",
            "'entered-in-error': only final, amended, corrected readings count",
        ),
        (
            {"status": "preliminary"},
            "Observation.status",
            "'preliminary': only final, amended, corrected readings count",
        ),
        ({"subject": None}, "Observation.subject", "is required: the patient as Patient/<id>"),
        (
            {"subject": {"reference": "Patient/abc"}},
            "Observation.subject.reference",
            "'Patient/abc' is not Patient/<id> with a positive whole-number id",
        ),
        (
            {"subject": {"reference": "Patient/0"}},
            "Observation.subject.reference",
            "'Patient/0' is not Patient/<id> with a positive whole-number id",
        ),
        (
            {"subject": {"reference": "Group/5"}},
            "Observation.subject.reference",
            "'Group/5' is not Patient/<id> with a positive whole-number id",
        ),
        (
            {"device": {"reference": "Device/x1"}},
            "Observation.device.reference",
            "'Device/x1' is not Device/<id> with a positive whole-number id",
        ),
        ({"resourceType": "Patient"}, "Observation.resourceType", "'Patient' is not Observation"),
        ({"bogus": 1}, "Observation.bogus", "Extra inputs are not permitted"),
        (
            {"valueQuantity": {"value": "fast"}},
            "Observation.valueQuantity.value",
            "Decimal value string does not match spec regex.",
        ),
        (
            {"valueQuantity": {"value": "72", "code": "/min"}},
            "Observation.valueQuantity.value",
            "must be a JSON number",
        ),
        (
            {"code": loinc("1234-5")},
            "Observation.code",
            "no coding names a reading type we accept "
            "(LOINC vital signs, or https://remotecare.dev/fhir/CodeSystem/reading-type with a type name)",
        ),
        (
            {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "8867-4"}]}},
            "Observation.code",
            "no coding names a reading type we accept "
            "(LOINC vital signs, or https://remotecare.dev/fhir/CodeSystem/reading-type with a type name)",
        ),
        (
            {"code": {"coding": [*loinc("8867-4")["coding"], *ours("weight")["coding"]]}},
            "Observation.code",
            "its codings name different reading types (heart_rate, weight)",
        ),
        (
            qty(60, "bpm"),
            "Observation.valueQuantity.code",
            "unit 'bpm' is not accepted here (one of /min, {beats}/min)",
        ),
        (
            {"valueQuantity": {"value": 60, "unit": "beats/minute"}},
            "Observation.valueQuantity.code",
            "unit 'beats/minute' is given only as text: send its UCUM code in code, "
            "with system http://unitsofmeasure.org",
        ),
        (
            {"valueQuantity": {"value": 60}},
            "Observation.valueQuantity.code",
            "has no unit (expected one of /min, {beats}/min)",
        ),
        (
            {"valueQuantity": {"value": 60, "code": "/min", "system": "http://example.org/units"}},
            "Observation.valueQuantity.system",
            "must be http://unitsofmeasure.org",
        ),
        (
            {"valueQuantity": {"value": 60, "code": "/min", "comparator": "<"}},
            "Observation.valueQuantity.comparator",
            "is not accepted: a reading is an exact value",
        ),
        (
            qty(400, "/min"),
            "Observation.valueQuantity.value",
            "400 is outside the plausible range 20 to 300",
        ),
        ({"valueQuantity": None}, "Observation.value[x]", "bpm is required for heart_rate"),
        (
            {"valueQuantity": None, "valueString": "60"},
            "Observation.valueString",
            "is not accepted for bpm: send valueQuantity or valueInteger",
        ),
        (
            {"effectiveDateTime": None, "effectiveTiming": {"event": ["2024-05-01T08:30:00Z"]}},
            "Observation.effectiveTiming",
            "is not accepted: a reading has one time",
        ),
    ],
)
def test_each_refusal_names_its_field(fields: dict[str, Any], field: str, message: str) -> None:
    assert refusal(obs(**{**HR, **fields})) == Refusal(field, message)


def test_a_resource_that_is_not_an_object_is_refused() -> None:
    assert refusal(["Observation"]) == Refusal("Observation", "must be a JSON object")


def test_several_validation_problems_are_counted() -> None:
    resource = obs(**HR, bogus=1, other=2)
    assert refusal(resource) == Refusal("Observation.bogus", "Extra inputs are not permitted (and 1 more problem)")


@pytest.mark.parametrize(
    ("resource", "field", "message"),
    [
        (
            bp(90, 120),
            "Observation.component[1].valueQuantity.value",
            "is not below the systolic pressure (values swapped?)",
        ),
        (bp(350, 80), "Observation.component[0].valueQuantity.value", "350 is outside the plausible range 50 to 300"),
        (
            bp("x", 80),
            "Observation.component[0].valueQuantity.value",
            "Decimal value string does not match spec regex.",
        ),
        (
            obs(loinc("85354-9"), component=[component(loinc("8480-6"), qty(120, "mm[Hg]"))]),
            "Observation.component",
            "diastolic is required for blood_pressure",
        ),
        (
            obs(loinc("85354-9"), **qty(120, "mm[Hg]")),
            "Observation.valueQuantity",
            "blood_pressure carries its values as components",
        ),
        (
            obs(loinc("29463-7"), valueInteger=80),
            "Observation.valueInteger",
            "kg needs a unit: send valueQuantity with a UCUM code",
        ),
        (
            obs(loinc("29463-7"), **qty(1200, "[lb_av]")),
            "Observation.valueQuantity.value",
            "544.31 is outside the plausible range 2 to 450",
        ),
        (obs(loinc("72514-3"), valueInteger=True), "Observation.valueInteger", "must be a number"),
        (
            obs(loinc("72514-3"), valueInteger=11),
            "Observation.valueInteger",
            "11 is outside the plausible range 0 to 10",
        ),
        (
            obs(loinc("72514-3"), valueCodeableConcept=loinc("LA9999-9")),
            "Observation.valueCodeableConcept",
            "has no LOINC answer code for 0 to 10 (LA6111-4, LA6112-2, LA6113-0, LA6114-8, LA6115-5, LA10137-0, "
            "LA10138-8, LA10139-6, LA10140-4, LA10141-2, LA13942-0)",
        ),
        (
            obs(ours("medication_adherence"), component=[value_component("taken", {"valueString": "yes"})]),
            "Observation.component[0].valueString",
            "taken is sent as valueBoolean",
        ),
        (
            obs(ours("medication_adherence"), component=[value_component("taken", {"valueBoolean": "true"})]),
            "Observation.component[0].valueBoolean",
            "must be true or false",
        ),
        (
            obs(ours("medication_adherence"), component=[value_component("dose", {"valueString": "1"})]),
            "Observation.component[0].code",
            "'dose' is not a value of medication_adherence (one of taken, medication)",
        ),
        (
            obs(
                ours("symptom_checkin"),
                valueInteger=3,
                component=[value_component("severity", {"valueInteger": 4})],
            ),
            "Observation.component[0]",
            "gives severity a second time",
        ),
        (
            obs(ours("musculoskeletal_status"), component=[value_component("steps", qty(10, "1"))]),
            "Observation.component[0].valueQuantity.code",
            "steps is a count and takes no unit",
        ),
        (
            obs(ours("respiratory_status"), component=[]),
            "Observation.component",
            "respiratory_status needs one of fev1_l, inhaler_puffs, peak_flow_l_min, score",
        ),
    ],
)
def test_value_refusals_point_at_the_value(resource: dict[str, Any], field: str, message: str) -> None:
    assert refusal(resource) == Refusal(field, message)


def test_refusal_paths_follow_the_given_path() -> None:
    assert refusal(obs(**HR, subject=None), "Bundle.entry[2].resource") == Refusal(
        "Bundle.entry[2].resource.subject", "is required: the patient as Patient/<id>"
    )


# --- bundles --------------------------------------------------------------------------------------


def entry(resource: Any, method: str | None = "POST") -> dict[str, Any]:
    item: dict[str, Any] = {"resource": resource}
    if method is not None:
        item["request"] = {"method": method, "url": "Observation"}
    return item


def bundle(kind: str, *entries: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_a_bundle_gives_one_result_per_entry_in_order(kind: str) -> None:
    bad_value = obs(**{**HR, **qty("x", "/min")})
    kind_out, results = parse_bundle(
        bundle(
            kind,
            entry(bp()),
            entry(bad_value),
            entry(obs(loinc("29463-7"), **qty(180, "[lb_av]"))),
            entry(obs(**HR), method="PUT"),
            entry({"resourceType": "Patient"}),
            entry(obs(**HR), method=None),
        )
    )
    assert kind_out == kind
    assert [r.values if isinstance(r, IncomingReading) else r for r in results] == [
        {"systolic": 128, "diastolic": 82},
        Refusal("Bundle.entry[1].resource.valueQuantity.value", "Decimal value string does not match spec regex."),
        {"kg": 81.65},
        Refusal("Bundle.entry[3].request.method", "'PUT' is not accepted: readings are created with POST"),
        Refusal("Bundle.entry[4].resource.resourceType", "must be Observation"),
        Refusal("Bundle.entry[5].request.method", "is required: readings are created with POST"),
    ]


def test_an_invalid_entry_envelope_is_refused_for_that_entry() -> None:
    _, results = parse_bundle(bundle("batch", {"resource": obs(**HR), "request": {"method": "POST"}}, "x"))
    assert results == [
        Refusal("Bundle.entry[0].request.url", "Value for the field 'url' is required."),
        Refusal("Bundle.entry[1]", "must be an object"),
    ]


def test_an_empty_bundle_has_no_results() -> None:
    assert parse_bundle({"resourceType": "Bundle", "type": "batch"}) == ("batch", [])


@pytest.mark.parametrize(
    ("resource", "field", "message"),
    [
        (
            bundle("searchset", entry(obs(**HR))),
            "Bundle.type",
            "'searchset' is not accepted (one of transaction, batch)",
        ),
        (bundle("collection"), "Bundle.type", "'collection' is not accepted (one of transaction, batch)"),
        (obs(**HR), "Bundle.resourceType", "must be Bundle"),
        ([], "Bundle.resourceType", "must be Bundle"),
        ({"resourceType": "Bundle", "type": "batch", "bogus": 1}, "Bundle.bogus", "Extra inputs are not permitted"),
        ({"resourceType": "Bundle", "type": "batch", "entry": {}}, "Bundle.entry", "must be a list"),
    ],
)
def test_a_bundle_that_cannot_be_read_is_refused_whole(resource: Any, field: str, message: str) -> None:
    with pytest.raises(BundleRefused) as raised:
        parse_bundle(resource)
    assert (raised.value.field, raised.value.message) == (field, message)


# --- out ------------------------------------------------------------------------------------------


RECEIVED = dt.datetime(2024, 5, 1, 13, 31, 5, tzinfo=UTC)
EXAMPLES: dict[str, dict[str, Any]] = {
    "blood_pressure": {"systolic": 128.5, "diastolic": 82, "pulse": 71},
    "weight": {"kg": 81.65},
    "glucose": {"mg_dl": 99.1, "meal": "before breakfast"},
    "spo2": {"percent": 97, "pulse": 88},
    "heart_rate": {"bpm": 64},
    "pain_score": {"nrs": 6},
    "peg_score": {"score": 5.67, "pain": 7, "enjoyment": 5, "activity": 5},
    "medication_adherence": {"taken": True, "medication": "lisinopril 10 mg"},
    "therapy_adherence": {"taken": True, "exercise": "wall slides", "minutes": 12.5},
    "respiratory_status": {"fev1_l": 2.1, "peak_flow_l_min": 420, "inhaler_puffs": 2, "score": 70},
    "musculoskeletal_status": {"steps": 5400, "range_of_motion_deg": 95.5, "score": 40},
    "cbt_session": {"completed": True, "minutes": 25, "module": "thought records"},
    "symptom_checkin": {"severity": 3, "symptom": "cough"},
    "bpi_short_form": {"severity": 5.5, "interference": 4.25, "worst": 8, "least": 3, "average": 5, "now": 6},
}


def row(reading_type: str = "blood_pressure", **fields: Any) -> StoredRow:
    base: dict[str, Any] = {
        "id": 7,
        "patient_id": 12,
        "device_id": 9,
        "type": reading_type,
        "values": EXAMPLES[reading_type],
        "effective_at": AT_PARSED,
        "manual": False,
        "source": "tenovi",
        "external_id": None,
        "received_at": RECEIVED,
    }
    return StoredRow(**{**base, **fields})


def test_the_examples_cover_every_reading_type() -> None:
    assert set(EXAMPLES) == set(READING_TYPES)


def test_a_bp_reading_goes_out_with_core_codes_units_and_the_home_marker() -> None:
    resource = observation_resource(row(manual=True, external_id="urn:ehr|obs-1"))
    assert resource == {
        "resourceType": "Observation",
        "id": "7",
        "meta": {"tag": [{"system": codes.SETTING, "code": "home", "display": "Measured at home by a remote device"}]},
        "extension": [
            {
                "url": "http://hl7.org/fhir/us/vitals/StructureDefinition/MeasurementSettingExt",
                "valueCodeableConcept": {
                    "coding": [
                        {"system": "http://snomed.info/sct", "code": "264362003", "display": "Home (environment)"}
                    ]
                },
            }
        ],
        "identifier": [{"system": "urn:ehr", "value": "obs-1"}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "85354-9",
                    "display": "Blood pressure panel with all children optional",
                }
            ],
            "text": "blood_pressure",
        },
        "subject": {"reference": "Patient/12"},
        "effectiveDateTime": "2024-05-01T08:30:00-05:00",
        "issued": "2024-05-01T13:31:05+00:00",
        "device": {"reference": "Device/9"},
        "method": {"coding": [{"system": codes.ENTRY_METHOD, "code": "manual", "display": "Keyed in by hand"}]},
        "component": [
            {
                "code": {
                    "coding": [{"system": "http://loinc.org", "code": "8480-6", "display": "Systolic blood pressure"}],
                    "text": "systolic",
                },
                "valueQuantity": {
                    "value": 128.5,
                    "unit": "mm[Hg]",
                    "system": "http://unitsofmeasure.org",
                    "code": "mm[Hg]",
                },
            },
            {
                "code": {
                    "coding": [{"system": "http://loinc.org", "code": "8462-4", "display": "Diastolic blood pressure"}],
                    "text": "diastolic",
                },
                "valueQuantity": {
                    "value": 82,
                    "unit": "mm[Hg]",
                    "system": "http://unitsofmeasure.org",
                    "code": "mm[Hg]",
                },
            },
            {
                "code": {
                    "coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}],
                    "text": "pulse",
                },
                "valueQuantity": {"value": 71, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
            },
        ],
    }


@pytest.mark.parametrize(
    ("reading_type", "code", "category", "value"),
    [
        (
            "weight",
            ["29463-7"],
            "vital-signs",
            {"valueQuantity": {"value": 81.65, "unit": "kg", "system": codes.UCUM_SYSTEM, "code": "kg"}},
        ),
        (
            "glucose",
            ["2339-0"],
            "laboratory",
            {"valueQuantity": {"value": 99.1, "unit": "mg/dL", "system": codes.UCUM_SYSTEM, "code": "mg/dL"}},
        ),
        (
            "spo2",
            ["2708-6", "59408-5"],
            "vital-signs",
            {"valueQuantity": {"value": 97, "unit": "%", "system": codes.UCUM_SYSTEM, "code": "%"}},
        ),
        (
            "heart_rate",
            ["8867-4"],
            "vital-signs",
            {"valueQuantity": {"value": 64, "unit": "/min", "system": codes.UCUM_SYSTEM, "code": "/min"}},
        ),
        ("pain_score", ["72514-3"], "survey", {"valueInteger": 6}),
    ],
)
def test_each_loinc_type_goes_out_with_its_code_category_and_value(
    reading_type: str, code: list[str], category: str, value: dict[str, Any]
) -> None:
    resource = observation_resource(row(reading_type))
    assert [c["code"] for c in resource["code"]["coding"]] == code
    assert {c["system"] for c in resource["code"]["coding"]} == {codes.LOINC}
    assert resource["category"][0]["coding"][0]["code"] == category
    assert {key: resource[key] for key in resource if key.startswith("value")} == value


def test_a_patient_reported_type_goes_out_in_our_codesystem_as_a_survey() -> None:
    resource = observation_resource(row("medication_adherence", device_id=None))
    assert resource["code"] == {
        "coding": [{"system": codes.READING_TYPE, "code": "medication_adherence"}],
        "text": "medication_adherence",
    }
    assert resource["category"][0]["coding"][0]["code"] == "survey"
    assert resource["component"] == [
        {"code": {"coding": [{"system": codes.READING_VALUE, "code": "taken"}], "text": "taken"}, "valueBoolean": True},
        {
            "code": {"coding": [{"system": codes.READING_VALUE, "code": "medication"}], "text": "medication"},
            "valueString": "lisinopril 10 mg",
        },
    ]
    assert "device" not in resource and "method" not in resource and "identifier" not in resource


def test_minutes_go_out_in_ucum_and_respiratory_status_has_no_category() -> None:
    therapy = observation_resource(row("therapy_adherence"))
    assert therapy["component"][2]["valueQuantity"] == {
        "value": 12.5,
        "unit": "min",
        "system": codes.UCUM_SYSTEM,
        "code": "min",
    }
    assert "category" not in observation_resource(row("respiratory_status"))


@pytest.mark.parametrize(
    ("external_id", "identifier"),
    [("urn:a|b|c", {"system": "urn:a", "value": "b|c"}), ("|x", {"value": "x"}), ("tenovi-88", {"value": "tenovi-88"})],
)
def test_the_external_id_becomes_the_identifier(external_id: str, identifier: dict[str, str]) -> None:
    assert observation_resource(row(external_id=external_id))["identifier"] == [identifier]


def test_a_naive_stored_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        observation_resource(row(effective_at=dt.datetime(2024, 5, 1, 8, 30)))


@pytest.mark.parametrize("reading_type", READING_TYPES)
def test_every_type_goes_out_valid_and_comes_back_the_same(reading_type: str) -> None:
    assert_round_trip(row(reading_type, manual=reading_type.endswith("adherence")))


def _number(kind: Number) -> st.SearchStrategy[Any]:
    if kind.integer:
        return st.integers(int(kind.low), int(kind.high))
    return st.floats(kind.low, kind.high, allow_nan=False, allow_infinity=False)


def _values(kind: Any) -> st.SearchStrategy[Any]:
    if kind == BOOLEAN:
        return st.booleans()
    if isinstance(kind, Text):
        return st.text(st.characters(codec="utf-8"), min_size=1, max_size=kind.max_length)
    return _number(kind)


@st.composite
def stored_rows(draw: st.DrawFn) -> StoredRow:
    reading_type = draw(st.sampled_from(READING_TYPES))
    measure = MEASURES[reading_type]
    names = draw(st.sets(st.sampled_from(sorted(measure.values)))) | measure.required
    if measure.one_of and not names & measure.one_of:
        names.add(draw(st.sampled_from(sorted(measure.one_of))))
    raw = {name: draw(_values(measure.values[name])) for name in sorted(names)}
    try:
        values = check_values(reading_type, raw)  # the values as they would have been stored
    except ReadingRefused:
        assume(False)
        raise
    zone = dt.timezone(dt.timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
    moments = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31), timezones=st.just(zone))
    return StoredRow(
        id=draw(st.integers(1, 2**40)),
        patient_id=draw(st.integers(1, 2**40)),
        device_id=draw(st.none() | st.integers(1, 2**40)),
        type=reading_type,
        values=values,
        effective_at=draw(moments),
        manual=draw(st.booleans()),
        source="fhir",
        external_id=draw(
            st.none() | st.builds("{}|{}".format, st.sampled_from(["", "urn:x"]), st.text("ab1-", min_size=1))
        ),
        received_at=draw(moments),
    )


@settings(max_examples=300, deadline=None)
@given(stored_rows())
def test_round_trip(stored: StoredRow) -> None:
    assert reading(assert_round_trip(stored)).external_id == stored.external_id


def assert_round_trip(stored: StoredRow) -> dict[str, Any]:
    """Out as FHIR, over the wire as JSON, valid R4, and back in as the same reading; returns the resource."""
    resource: dict[str, Any] = json.loads(json.dumps(observation_resource(stored)))
    Observation.model_validate(resource)
    parsed = reading(resource)
    assert (parsed.type, parsed.values, parsed.at, parsed.patient_id, parsed.device_id, parsed.manual) == (
        stored.type,
        stored.values,
        stored.effective_at,
        stored.patient_id,
        stored.device_id,
        stored.manual,
    )
    return resource


# --- bundles and outcomes out ---------------------------------------------------------------------


def test_a_searchset_bundle_validates_and_links_its_pages() -> None:
    resources = [observation_resource(row()), observation_resource(row("weight", id=8))]
    result = searchset_bundle(
        resources,
        41,
        "https://rc.test/fhir/Observation?patient=12",
        "https://rc.test/fhir/Observation?patient=12&page=2",
        base_url="https://rc.test/fhir/",
    )
    Bundle.model_validate(result)
    assert (result["type"], result["total"]) == ("searchset", 41)
    assert result["link"] == [
        {"relation": "self", "url": "https://rc.test/fhir/Observation?patient=12"},
        {"relation": "next", "url": "https://rc.test/fhir/Observation?patient=12&page=2"},
    ]
    assert [e["fullUrl"] for e in result["entry"]] == [
        "https://rc.test/fhir/Observation/7",
        "https://rc.test/fhir/Observation/8",
    ]
    assert [e["search"] for e in result["entry"]] == [{"mode": "match"}] * 2
    assert result["entry"][1]["resource"] == resources[1]


def test_an_empty_last_page_has_no_entries_and_no_next_link() -> None:
    result = searchset_bundle([], 0, "https://rc.test/fhir/Observation?patient=99", None)
    Bundle.model_validate(result)
    assert result == {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 0,
        "link": [{"relation": "self", "url": "https://rc.test/fhir/Observation?patient=99"}],
    }


@pytest.mark.parametrize(
    ("kind", "bundle_type"),
    [("transaction", "transaction-response"), ("batch", "batch-response"), ("batch-response", "batch-response")],
)
def test_a_response_bundle_validates_with_created_and_refused_entries(kind: str, bundle_type: str) -> None:
    outcome = operation_outcome(
        "400 is outside the plausible range 20 to 300", "Bundle.entry[1].resource.valueQuantity.value"
    )
    result = response_bundle(
        kind,
        [
            response_entry("201 Created", "Observation/7/_history/1", None),
            response_entry("400 Bad Request", None, outcome),
        ],
    )
    Bundle.model_validate(result)
    assert result == {
        "resourceType": "Bundle",
        "type": bundle_type,
        "entry": [
            {"response": {"status": "201 Created", "location": "Observation/7/_history/1"}},
            {"response": {"status": "400 Bad Request", "outcome": outcome}},
        ],
    }


def test_a_response_bundle_of_another_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="neither transaction nor batch"):
        response_bundle("searchset", [])


def test_an_operation_outcome_names_the_field() -> None:
    result = operation_outcome("is required: the patient as Patient/<id>", "Observation.subject")
    OperationOutcome.model_validate(result)
    assert result == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "invalid",
                "diagnostics": "is required: the patient as Patient/<id>",
                "expression": ["Observation.subject"],
            }
        ],
    }


def test_an_operation_outcome_without_a_field() -> None:
    result = operation_outcome("duplicate of Observation/7", None, code="duplicate", severity="information")
    OperationOutcome.model_validate(result)
    assert result["issue"] == [
        {"severity": "information", "code": "duplicate", "diagnostics": "duplicate of Observation/7"}
    ]


# --- never raises -------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "resourceType",
    "status",
    "code",
    "subject",
    "device",
    "effectiveDateTime",
    "effectivePeriod",
    "valueQuantity",
    "valueInteger",
    "component",
    "identifier",
    "method",
    "bogus",
]


def test_a_number_beyond_any_float_is_refused() -> None:
    assert refusal(obs(loinc("29463-7"), **qty(10**400, "[lb_av]"))) == Refusal(
        "Observation.valueQuantity.value", "is far outside any plausible reading"
    )


def test_a_value_sent_as_null_is_a_missing_value_not_a_crash() -> None:
    # Found by the property below: fhir.resources accepts `valueQuantity: null`.
    refused = refusal(obs(**{**HR, "valueQuantity": None}))
    assert refused.field.startswith("Observation") and "bpm" in refused.message


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), JSON, st.sampled_from([bp(), obs(**HR), obs(loinc("72514-3"), valueInteger=3)]))
def test_any_content_in_any_field_is_read_or_refused_never_raised(name: str, junk: Any, base: dict[str, Any]) -> None:
    parsed = parse_observation({**base, name: junk})
    assert isinstance(parsed, IncomingReading | Refusal)
    if isinstance(parsed, Refusal):
        assert parsed.field.startswith("Observation")


@settings(max_examples=200, deadline=None)
@given(JSON, st.sampled_from(["entry", "type", "resourceType"]))
def test_any_bundle_content_is_read_or_refused_whole(junk: Any, name: str) -> None:
    try:
        kind, results = parse_bundle({**bundle("batch", entry(obs(**HR))), name: junk})
    except BundleRefused as refused:
        assert refused.field.startswith("Bundle")
    else:
        assert kind == "batch"
        assert all(isinstance(result, IncomingReading | Refusal) for result in results)
