"""The code tables behind our FHIR mapping: LOINC <-> reading type and value, and our own CodeSystems.

Every LOINC code here was checked against a public source (noted beside it);
anything we could not confirm is left to our own CodeSystems rather than
guessed. Those carry every reading type in `measures.MEASURES` (code = the
type's name) and every value (code = the value's name), so patient apps can
send RTM data (PEG, adherence, CBT, symptom check-ins) that LOINC does not
name the way we store it.

Sources (public HL7 pages), with our confidence:
  [core]    high: FHIR core vital-signs profiles and value sets (hl7.org/fhir/R4B/heartrate.html, bodyweight,
            bp, oxygensat; valueset-observation-vitalsign-bodyweight lists 3141-9 "Body weight Measured")
  [uscore]  high: US Core examples Observation-blood-pressure (85354-9, 8480-6/8462-4 in mm[Hg]),
            Observation-oxygen-saturation (2708-6 + 59408-5, %), Observation-blood-glucose (2339-0, mg/dL)
  [va]      high: VA MHV PGHD profile VA.MHV.bloodPressure (johnmoehrke.github.io/MHV-PGHD): code 55284-4 AND
            8716-3 ("added as some mobile apps searched on this"), components 8480-6/8462-4 in mm[Hg]
  [page]    high: HL7 Physical Activity IG example Scen5ObsBloodGlucose: 41653-7 "Glucose [Mass/volume] in
            Capillary blood by Glucometer", mg/dL
  [livd]    high: HL7 LIVD IG value set: 2345-7 "Glucose [Mass/volume] in Serum or Plasma"
  [be-pain] medium-high: HL7 Belgium patient-monitoring ValueSet pain-scale ("See https://loinc.org/72514-3"):
            LA6111-4 (0) ... LA13942-0 (10); 72514-3's display as in a published FHIR example
  [vitals]  high: HL7 US Vital Signs IG STU1 (hl7.org/fhir/us/vitals/STU1): MeasurementSettingExt, bound to
            SNOMED 264362003 "Home (environment)"; the CardX HTN draft defines a like extension with the same code
Not found in any source, so left to our CodeSystem: the PEG 3-item score, medication and therapy
adherence, CBT sessions, symptom check-ins, respiratory and musculoskeletal status.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remotecare.ingest.measures import MEASURES, UCUM

LOINC = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

_OURS = "https://remotecare.dev/fhir/CodeSystem"
READING_TYPE = f"{_OURS}/reading-type"  # code = a reading type's name (`peg_score`)
READING_VALUE = f"{_OURS}/reading-value"  # code = a value's name (`taken`), in a component
ENTRY_METHOD = f"{_OURS}/entry-method"  # Observation.method: `manual` = keyed in by hand, not transmitted
MANUAL = "manual"
SETTING = f"{_OURS}/setting"  # meta.tag `home`: searchable with _tag, which an extension is not
HOME = "home"

# [vitals] The measurement-setting extension, so an EHR keeps home readings apart from office vitals.
MEASUREMENT_SETTING_EXT = "http://hl7.org/fhir/us/vitals/StructureDefinition/MeasurementSettingExt"
SNOMED_HOME = ("264362003", "Home (environment)")

STATUSES_STORED = ("final", "amended", "corrected")


@dataclass(frozen=True, slots=True)
class LoincType:
    """How a reading type looks in LOINC: its codes, the value carried in value[x], and coded components."""

    type: str
    codes: tuple[tuple[str, str], ...]  # (code, display) emitted, in order; the first is the main one
    main: str | None  # the value carried in Observation.value[x]; None for a panel
    components: dict[str, tuple[str, str]] = field(default_factory=dict)  # value name -> (code, display)


HEART_RATE = ("8867-4", "Heart rate")  # [core] heartrate profile, /min

LOINC_TYPES: dict[str, LoincType] = {
    "blood_pressure": LoincType(
        "blood_pressure",
        (("85354-9", "Blood pressure panel with all children optional"),),  # [core] [uscore]
        None,
        {
            "systolic": ("8480-6", "Systolic blood pressure"),  # [core] mm[Hg]
            "diastolic": ("8462-4", "Diastolic blood pressure"),  # [core] mm[Hg]
            "pulse": HEART_RATE,  # extra component; the BP panel's slicing is open
        },
    ),
    "heart_rate": LoincType("heart_rate", (HEART_RATE,), "bpm"),
    "weight": LoincType("weight", (("29463-7", "Body weight"),), "kg"),  # [core] bodyweight
    # 2339-0 rather than 41653-7 on output: not every home reading is capillary blood by glucometer.
    "glucose": LoincType("glucose", (("2339-0", "Glucose [Mass/volume] in Blood"),), "mg_dl"),  # [uscore]
    "spo2": LoincType(
        "spo2",
        (  # [uscore] pulse oximetry carries both
            ("2708-6", "Oxygen saturation in Arterial blood"),
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ),
        "percent",
        {"pulse": HEART_RATE},
    ),
    "pain_score": LoincType(
        "pain_score", (("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),), "nrs"
    ),
}

# Codes accepted on input besides those emitted (all confirmed; see the sources above).
_ALSO_ACCEPTED = {
    "55284-4": "blood_pressure",  # [va] "Blood pressure systolic and diastolic"
    "3141-9": "weight",  # [core] value set: "Body weight Measured"
    "41653-7": "glucose",  # [page] "Glucose [Mass/volume] in Capillary blood by Glucometer"
    "2345-7": "glucose",  # [livd] serum or plasma: some meters report plasma-equivalent values
}
# [va] 8716-3 is "Vital signs", a general code some apps put on BP alone: it names BP only when nothing else does.
WEAK_CODES = {"8716-3": "blood_pressure"}

TYPE_BY_LOINC: dict[str, str] = {
    **{code: t.type for t in LOINC_TYPES.values() for code, _ in t.codes},
    **_ALSO_ACCEPTED,
}

# [be-pain] The answer list of 72514-3, in order 0..10. (LOINC's own display of LA6113-0 reads
# "2 or more": answer codes are shared between lists; in this one it is the answer 2.)
PAIN_ANSWERS: dict[str, int] = {
    code: score
    for score, code in enumerate(
        (
            "LA6111-4",
            "LA6112-2",
            "LA6113-0",
            "LA6114-8",
            "LA6115-5",
            "LA10137-0",
            "LA10138-8",
            "LA10139-6",
            "LA10140-4",
            "LA10141-2",
            "LA13942-0",
        )
    )
}
ANSWERS_BY_VALUE = {("pain_score", "nrs"): PAIN_ANSWERS}

# UCUM codes for values `measures.UCUM` leaves unitless because their name says the unit.
# An EHR reads "30 min" better than a bare 30; nothing else is accepted for them.
NAMED_UNITS: dict[str, dict[str, float]] = {"minutes": {"min": 1.0}, "range_of_motion_deg": {"deg": 1.0}}


def units_for(value_name: str) -> dict[str, float] | None:
    """The UCUM codes a value may arrive in, with their factors; None for a plain count."""
    return UCUM.get(value_name) or NAMED_UNITS.get(value_name)


def canonical_unit(value_name: str) -> str | None:
    """The UCUM code of the unit a value is stored in (factor 1), as emitted."""
    units = units_for(value_name) or {}
    return next((code for code, factor in units.items() if factor == 1.0), None)


def main_value(reading_type: str) -> str | None:
    """The value an Observation may carry in value[x]: LOINC's main value, or a type's one required value."""
    loinc = LOINC_TYPES.get(reading_type)
    if loinc is not None:
        return loinc.main
    required = MEASURES[reading_type].required
    return next(iter(required)) if len(required) == 1 else None


def loinc_component(reading_type: str, code: str) -> str | None:
    """The value a LOINC component code names within a reading type, if any."""
    loinc = LOINC_TYPES.get(reading_type)
    if loinc is None:
        return None
    return next((name for name, (c, _) in loinc.components.items() if c == code), None)


# Observation.category per type: vital-signs for the core vital signs, survey for what the patient reports.
# Glucose goes under laboratory as in [uscore] and [page] (a home glucometer reading, too).
# Respiratory status has no category that fits; its code says what it is.
CATEGORY: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("blood_pressure", "heart_rate", "weight", "spo2"), ("vital-signs", "Vital Signs")),
    "glucose": ("laboratory", "Laboratory"),
    "musculoskeletal_status": ("activity", "Activity"),
    **{name: ("survey", "Survey") for name, measure in MEASURES.items() if measure.patient_reported},
}
