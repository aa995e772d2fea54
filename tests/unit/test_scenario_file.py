"""`parse_scenario`: errors name the field; a valid file gives the right domain facts."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from remotecare.domain.devices import Device
from remotecare.domain.encounters import Encounter
from remotecare.domain.facts import Window
from remotecare.domain.patients import Patient
from remotecare.domain.programs import Enrollment, Program, RtmFocus
from remotecare.domain.time_entries import Performer, TimeEntry
from remotecare.scenarios import ScenarioError, load_scenario, parse_scenario

D = dt.date

VALID: dict[str, Any] = {
    "description": "synthetic: one RPM and one RTM patient",
    "window": {"from": "2026-10-01", "to": "2026-11-30"},
    "patients": [
        {"id": "p-a", "timezone": "America/Chicago", "established": True, "conditions": ["I10", "E11.9"]},
        {"id": "p-b", "timezone": "Asia/Kolkata"},
    ],
    "enrollments": [
        {"id": "e-a", "patient": "p-a", "program": "RPM", "start": "2026-10-01", "end": None, "consent": "2026-09-30"},
        {
            "id": "e-b",
            "patient": "p-b",
            "program": "RTM",
            "start": "2026-10-05",
            "end": "2026-11-20",
            "consent": "2026-10-05",
            "focus": "musculoskeletal",
        },
        {"id": "e-c", "patient": "p-a", "program": "CCM", "start": "2026-10-01", "complex": True},
    ],
    "devices": [
        {
            "id": "d-a",
            "patient": "p-a",
            "kind": "blood_pressure_cuff",
            "medical_device": True,
            "program": "RPM",
            "start": "2026-10-01",
        },
        {"id": "d-b", "patient": "p-b", "medical_device": False, "program": "RTM", "end": "2026-11-01"},
    ],
    "readings": [
        {
            "patient": "p-a",
            "device": "d-a",
            "at": "2026-10-01T23:55:00-05:00",
            "type": "blood_pressure",
            "values": {"systolic": 142, "diastolic": 88},
        },
        {"patient": "p-b", "device": "d-b", "at": "2026-10-06T20:00:00Z", "type": "pain_score", "manual": True},
        {"patient": "p-b", "at": "2026-10-07T08:00:00+05:30", "type": "weight", "values": {"kg": 70.5}},
    ],
    "time": [
        {
            "patient": "p-a",
            "program": "RPM",
            "date": "2026-10-14",
            "minutes": 25,
            "performer": "clinical_staff",
            "interactive": True,
        },
        {"id": "t-2", "patient": "p-b", "program": "RTM", "date": "2026-10-15", "minutes": 12, "performer": "qhp"},
    ],
    "encounters": [{"patient": "p-a", "date": "2026-09-30", "type": "office_visit", "face_to_face": True}],
    "expected": [{"patient": "p-a", "code": "99454", "units": 1, "month": "2026-10"}],
    "notes": "unknown keys are allowed",
}


def parse(data: dict[str, Any]) -> Any:
    return parse_scenario(json.dumps(data), source="case.json")


def error_for(data: dict[str, Any] | str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data if isinstance(data, str) else json.dumps(data), source="case.json")
    return str(caught.value)


def edited(path: str, value: Any) -> dict[str, Any]:
    """A copy of VALID with the value at a dotted path (list indexes as numbers) replaced; `...` removes it."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return data


# --- a valid file -------------------------------------------------------------------------------------------------


def test_a_valid_file_gives_the_domain_facts() -> None:
    scenario = parse(VALID)
    facts = scenario.facts()

    assert scenario.description == "synthetic: one RPM and one RTM patient"
    assert scenario.evaluation_window == Window(D(2026, 10, 1), D(2026, 11, 30))
    assert facts.patients == (
        Patient("p-a", "America/Chicago", established=True, conditions=("I10", "E11.9")),
        Patient("p-b", "Asia/Kolkata", established=False, conditions=()),
    )
    assert facts.enrollments == (
        Enrollment("e-a", "p-a", Program.RPM, D(2026, 10, 1), None, D(2026, 9, 30)),
        Enrollment(
            "e-b", "p-b", Program.RTM, D(2026, 10, 5), D(2026, 11, 20), D(2026, 10, 5), RtmFocus.MUSCULOSKELETAL
        ),
        Enrollment("e-c", "p-a", Program.CCM, D(2026, 10, 1), None, None, None, complex=True),
    )
    assert facts.devices == (
        Device("d-a", "p-a", Program.RPM, "blood_pressure_cuff", True, D(2026, 10, 1)),
        Device("d-b", "p-b", Program.RTM, "unspecified", False, None, D(2026, 11, 1)),
    )
    assert facts.time_entries == (
        TimeEntry("p-a", Program.RPM, D(2026, 10, 14), 25, Performer.CLINICAL_STAFF, True),
        TimeEntry("p-b", Program.RTM, D(2026, 10, 15), 12, Performer.QHP, False, "t-2"),
    )
    assert facts.encounters == (Encounter("p-a", D(2026, 9, 30), "office_visit", True),)
    assert scenario.expected is not None
    assert [(e.patient, e.code, e.units, e.month) for e in scenario.expected] == [("p-a", "99454", 1, "2026-10")]


def test_readings_are_time_zone_aware_instants() -> None:
    readings = parse(VALID).facts().readings

    first, second, third = readings
    assert first.at.utcoffset() == dt.timedelta(hours=-5)
    assert first.at == dt.datetime(2026, 10, 2, 4, 55, tzinfo=dt.UTC)
    assert (first.device, first.type, dict(first.values), first.manual) == (
        "d-a",
        "blood_pressure",
        {"systolic": 142, "diastolic": 88},
        False,
    )
    assert second.at == dt.datetime(2026, 10, 6, 20, 0, tzinfo=dt.UTC)
    assert second.at.utcoffset() == dt.timedelta(0)
    assert second.manual is True
    assert third.device is None
    assert third.at.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert third.at == dt.datetime(2026, 10, 7, 2, 30, tzinfo=dt.UTC)


def test_a_file_without_expected_has_none_and_an_empty_list_is_kept() -> None:
    assert parse(edited("expected", ...)).expected is None
    assert parse(edited("expected", [])).expected == []


def test_values_that_billing_does_not_interpret_are_not_refused() -> None:
    """scenario-format.md: `evaluate` must not refuse a file because of a value it does not interpret."""
    data = edited("readings.0.values", {"systolic": 400, "diastolic": -3, "cuff_note": "left arm"})
    data["readings"][0]["type"] = "therapy_adherence"

    reading = parse(data).facts().readings[0]

    assert reading.type == "therapy_adherence"
    assert dict(reading.values) == {"systolic": 400, "diastolic": -3, "cuff_note": "left arm"}


def test_load_scenario_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.json"
    path.write_text(json.dumps(VALID), encoding="utf-8")

    assert load_scenario(path).facts() == parse(VALID).facts()


def test_load_scenario_names_a_file_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"

    with pytest.raises(ScenarioError, match="cannot read: No such file or directory") as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: ")


# --- errors name the field ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("window", ..., "window: Field required"),
        ("window.to", "2026-09-01", "window: 'to' is before 'from'"),
        ("window.from", "first of October", "window.from: Input should be a valid date"),
        ("patients", [], "patients: List should have at least 1 item"),
        ("patients.0.timezone", "Mars/Olympus", "patients[0].timezone: unknown IANA time zone 'Mars/Olympus'"),
        ("patients.1.timezone", ..., "patients[1].timezone: Field required"),
        ("enrollments.0.program", "XYZ", "enrollments[0].program: Input should be 'RPM', 'RTM', 'CCM', 'PCM'"),
        ("enrollments.1.focus", "knee", "enrollments[1].focus: Input should be 'respiratory'"),
        ("enrollments.1.end", "2026-10-01", "enrollments[1]: end is before start"),
        ("enrollments.0.start", "2026-13-01", "enrollments[0].start: Input should be a valid date"),
        ("enrollments.0.patient", "p-nobody", "enrollments[0].patient: no patient with id 'p-nobody'"),
        ("devices.0.medical_device", ..., "devices[0].medical_device: Field required"),
        ("devices.1.patient", "p-nobody", "devices[1].patient: no patient with id 'p-nobody'"),
        ("readings.0.at", "2026-10-01T23:55:00", "readings[0].at: needs a UTC offset or Z"),
        ("readings.0.at", "yesterday", "readings[0].at: Input should be a valid datetime"),
        ("readings.1.device", "d-nowhere", "readings[1].device: no device with id 'd-nowhere'"),
        ("readings.2.patient", "p-nobody", "readings[2].patient: no patient with id 'p-nobody'"),
        ("readings.2.type", ..., "readings[2].type: Field required"),
        ("time.0.minutes", 0, "time[0].minutes: Input should be greater than or equal to 1"),
        ("time.0.minutes", 24 * 60 + 1, "time[0].minutes: Input should be less than or equal to 1440"),
        ("time.1.performer", "nurse", "time[1].performer: Input should be 'physician', 'qhp' or 'clinical_staff'"),
        ("time.1.program", "RPMX", "time[1].program: Input should be"),
        ("encounters.0.date", ..., "encounters[0].date: Field required"),
        ("expected.0.month", "2026-13", "expected[0].month: String should match pattern"),
        ("expected.0.units", 0, "expected[0].units: Input should be greater than or equal to 1"),
        ("expected.0.patient", "p-nobody", "expected[0].patient: no patient with id 'p-nobody'"),
    ],
)
def test_an_error_names_the_field(path: str, value: Any, message: str) -> None:
    error = error_for(edited(path, value))

    assert error.startswith("case.json: ")
    assert message in error


def test_duplicate_ids_are_named_with_the_second_index() -> None:
    data = copy.deepcopy(VALID)
    data["enrollments"][2]["id"] = "e-a"
    data["devices"][1]["id"] = "d-a"
    data["patients"].append({"id": "p-b", "timezone": "UTC"})

    error = error_for(data)

    assert "enrollments[2].id: 'e-a' is used twice" in error
    assert "devices[1].id: 'd-a' is used twice" in error
    assert "patients[2].id: 'p-b' is used twice" in error


def test_overlapping_episodes_of_one_program_are_refused_and_separate_ones_are_not() -> None:
    data = copy.deepcopy(VALID)
    data["enrollments"].append(dict(VALID["enrollments"][1], id="e-b2", start="2026-11-20", end=None))

    assert "enrollments[3]: overlaps enrollment 'e-b' of the same program" in error_for(data)

    data["enrollments"][3]["start"] = "2026-11-21"
    assert [e.id for e in parse(data).facts().enrollments] == ["e-a", "e-b", "e-c", "e-b2"]


def test_an_open_episode_overlaps_every_later_one() -> None:
    data = copy.deepcopy(VALID)
    data["enrollments"].append(dict(VALID["enrollments"][0], id="e-a2", start="2030-01-01"))

    assert "enrollments[3]: overlaps enrollment 'e-a' of the same program" in error_for(data)


def test_every_problem_is_reported_at_once() -> None:
    data = edited("patients.0.timezone", "Mars/Olympus")
    data["time"][0]["minutes"] = 0

    error = error_for(data)

    assert error == (
        "case.json: patients[0].timezone: unknown IANA time zone 'Mars/Olympus';"
        " time[0].minutes: Input should be greater than or equal to 1"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "case.json: not valid JSON: Expecting value at line 1, column 1"),
        ('{\n  "window": }', "case.json: not valid JSON: Expecting value at line 2, column 13"),
        ("[1, 2]", "case.json: the file must hold one JSON object"),
        ('"a string"', "case.json: the file must hold one JSON object"),
    ],
)
def test_text_that_is_not_a_json_object(text: str, message: str) -> None:
    assert error_for(text) == message
