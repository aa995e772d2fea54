"""FHIR R4 through the API, on both databases: Observations and Bundles in, searchset Bundles out,
errors as OperationOutcomes naming the element."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from sqlalchemy import Engine

from tests.api.conftest import World, count_rows

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def scale(client: TestClient, world: World) -> int:
    headers = world.headers("a:admin")
    device = client.post(
        "/devices", json={"serial": "SCALE-1", "kind": "scale", "medical_device": True}, headers=headers
    )
    client.post(
        "/device-assignments",
        json={
            "device_id": device.json()["id"],
            "patient_id": world.patients["a1"],
            "program": "RPM",
            "start_date": "2025-01-06",
        },
        headers=headers,
    )
    return int(device.json()["id"])


def weight_lb(
    world: World, device: int, at: str = "2025-01-07T07:10:00-06:00", pounds: float = 180, **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{world.patients['a1']}"},
        "device": {"reference": f"Device/{device}"},
        "effectiveDateTime": at,
        "valueQuantity": {"value": pounds, "unit": "lb", "system": "http://unitsofmeasure.org", "code": "[lb_av]"},
        **extra,
    }


def blood_pressure(world: World, at: str, systolic: int = 134, diastolic: int = 86) -> dict[str, Any]:
    def component(code: str, value: int) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
        }

    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": f"Patient/{world.patients['a1']}"},
        "effectiveDateTime": at,
        "component": [component("8480-6", systolic), component("8462-4", diastolic)],
    }


def bundle(kind: str, *resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in resources],
    }


def test_an_observation_in_pounds_is_stored_in_kilograms_and_read_back_as_fhir(
    client: TestClient, world: World, engine: Engine, scale: int
) -> None:
    headers = {**world.headers("a:clinical_staff"), **FHIR}
    created = client.post("/fhir/Observation", json=weight_lb(world, scale), headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/fhir+json")
    resource = Observation.model_validate(created.json())
    assert resource.valueQuantity is not None and resource.valueQuantity.value is not None
    assert resource.valueQuantity.code == "kg" and float(resource.valueQuantity.value) == 81.65
    assert created.headers["location"] == f"/fhir/Observation/{resource.id}"
    again = client.post("/fhir/Observation", json=weight_lb(world, scale), headers=headers)
    assert again.status_code == 200 and again.json()["id"] == resource.id
    assert count_rows(engine, "observations") == 1
    read = client.get(f"/fhir/Observation/{resource.id}", headers=world.headers("a:biller"))
    assert read.status_code == 200 and read.json() == created.json()


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"effectiveDateTime": "2025-01-07T07:10:00"}, "Observation.effectiveDateTime"),
        (
            {
                "valueQuantity": {
                    "value": 180,
                    "unit": "stone",
                    "system": "http://unitsofmeasure.org",
                    "code": "[stone_av]",
                }
            },
            "Observation.valueQuantity.code",
        ),
        (
            {"valueQuantity": {"value": 1800, "system": "http://unitsofmeasure.org", "code": "[lb_av]"}},
            "Observation.valueQuantity.value",
        ),
        ({"status": "entered-in-error"}, "Observation.status"),
        ({"subject": {"reference": "Patient/999999"}}, "Observation.subject"),
        ({"effectiveDateTime": "2025-01-01T07:10:00-06:00"}, "Observation.device"),  # before the assignment
        ({"effectiveDateTime": "2099-01-07T07:10:00-06:00"}, "Observation.effective"),
        ({"code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}}, "Observation.code"),
    ],
    ids=[
        "naive-time",
        "unknown-unit",
        "implausible",
        "status",
        "unknown-patient",
        "unassigned-device",
        "future",
        "unknown-code",
    ],
)
def test_a_refused_observation_answers_an_operation_outcome_naming_the_element(
    client: TestClient, world: World, engine: Engine, scale: int, change: dict[str, Any], element: str
) -> None:
    headers = {**world.headers("a:clinical_staff"), **FHIR}
    response = client.post("/fhir/Observation", json={**weight_lb(world, scale), **change}, headers=headers)
    assert response.status_code == 422, response.text
    issue = response.json()["issue"][0]
    assert response.json()["resourceType"] == "OperationOutcome"
    assert issue["expression"][0].startswith(element), issue
    assert issue["diagnostics"]
    assert count_rows(engine, "observations") == 0


def test_a_batch_bundle_answers_each_entry_and_a_transaction_is_all_or_nothing(
    client: TestClient, world: World, engine: Engine, scale: int
) -> None:
    headers = {**world.headers("a:clinical_staff"), **FHIR}
    good = blood_pressure(world, "2025-01-08T07:00:00-06:00")
    bad = blood_pressure(world, "2025-01-09T07:00:00-06:00", systolic=70, diastolic=90)
    transaction = client.post("/fhir", json=bundle("transaction", good, bad), headers=headers)
    assert transaction.status_code == 422
    assert transaction.json()["issue"][0]["expression"][0].startswith("Bundle.entry[1].resource")
    assert count_rows(engine, "observations") == 0

    batch = client.post("/fhir", json=bundle("batch", good, bad, good), headers=headers)
    assert batch.status_code == 200, batch.text
    answer = Bundle.model_validate(batch.json())
    assert answer.type == "batch-response"
    responses = [entry.response for entry in answer.entry or []]
    assert all(response is not None for response in responses)
    statuses = [str(response.status) for response in responses if response is not None]
    locations = [response.location for response in responses if response is not None]
    assert statuses[0].startswith("201") and statuses[1].startswith("422") and statuses[2].startswith("200")
    assert locations[0] == locations[2] and locations[0] is not None
    assert count_rows(engine, "observations") == 1

    whole = client.post(
        "/fhir", json=bundle("transaction", good, blood_pressure(world, "2025-01-10T07:00:00-06:00")), headers=headers
    )
    assert whole.status_code == 200
    assert [e["response"]["status"][:3] for e in whole.json()["entry"]] == ["200", "201"]
    assert whole.json()["type"] == "transaction-response"
    assert count_rows(engine, "observations") == 2


def test_a_bundle_of_another_type_is_refused(client: TestClient, world: World) -> None:
    headers = {**world.headers("a:clinical_staff"), **FHIR}
    response = client.post("/fhir", json={"resourceType": "Bundle", "type": "collection"}, headers=headers)
    assert response.status_code == 422 and response.json()["issue"][0]["expression"] == ["Bundle.type"]


def test_search_by_patient_and_day_range_returns_a_searchset_in_the_patients_days(
    client: TestClient, world: World, scale: int
) -> None:
    headers = {**world.headers("a:clinical_staff"), **FHIR}
    # 03:30 UTC on the 10th is the 9th in Chicago.
    for at in ("2025-01-08T12:00:00Z", "2025-01-10T03:30:00Z", "2025-01-10T15:00:00Z", "2025-01-12T15:00:00Z"):
        assert client.post("/fhir", json=bundle("batch", blood_pressure(world, at)), headers=headers).status_code == 200
    client.post("/fhir/Observation", json=weight_lb(world, scale, at="2025-01-09T08:00:00-06:00"), headers=headers)

    def search(**params: Any) -> dict[str, Any]:
        response = client.get("/fhir/Observation", params=params, headers=world.headers("a:physician"))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    found = search(patient=world.patients["a1"], date=["ge2025-01-09", "le2025-01-10"], code="85354-9")
    assert Bundle.model_validate(found).type == "searchset"
    assert found["total"] == 2
    times = [entry["resource"]["effectiveDateTime"] for entry in found["entry"]]
    assert times == ["2025-01-10T03:30:00+00:00", "2025-01-10T15:00:00+00:00"]
    assert all(e["resource"]["code"]["coding"][0]["code"] == "85354-9" for e in found["entry"])
    assert search(patient=world.patients["a1"], date="ge2025-01-09")["total"] == 4
    assert search(patient=world.patients["a2"])["total"] == 0
    paged = search(patient=world.patients["a1"], _count=2)
    assert paged["total"] == 5 and len(paged["entry"]) == 2
    assert any(link["relation"] == "next" for link in paged["link"])
    # Another practice sees none of it.
    other = client.get("/fhir/Observation", params={"patient": world.patients["a1"]}, headers=world.headers("b:admin"))
    assert other.json()["total"] == 0


def test_search_refuses_a_malformed_date_naming_the_parameter(client: TestClient, world: World) -> None:
    response = client.get("/fhir/Observation", params={"date": "yesterday"}, headers=world.headers("a:physician"))
    assert response.status_code == 422 and response.json()["issue"][0]["expression"][0].startswith("date")


def test_patient_reported_pain_and_adherence_from_an_app_are_stored_with_the_app_as_device(
    client: TestClient, world: World
) -> None:
    admin = world.headers("a:admin")
    app_device = client.post(
        "/devices", json={"serial": "APP-PAIN-7", "kind": "rtm_app", "medical_device": True}, headers=admin
    ).json()["id"]
    client.post(
        "/device-assignments",
        json={
            "device_id": app_device,
            "patient_id": world.patients["a1"],
            "program": "RTM",
            "start_date": "2025-01-06",
        },
        headers=admin,
    )
    pain = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "subject": {"reference": f"Patient/{world.patients['a1']}"},
        "device": {"identifier": {"value": "APP-PAIN-7"}},
        "effectiveDateTime": "2025-01-08T20:00:00-06:00",
        "valueInteger": 6,
    }
    adherence = {
        **copy.deepcopy(pain),
        "code": {
            "coding": [
                {"system": "https://remotecare.dev/fhir/CodeSystem/reading-type", "code": "medication_adherence"}
            ]
        },
        "valueBoolean": True,
    }
    del adherence["valueInteger"]
    headers = {**world.headers("a:clinical_staff"), **FHIR}
    answer = client.post("/fhir", json=bundle("batch", pain, adherence), headers=headers)
    assert [e["response"]["status"][:3] for e in answer.json()["entry"]] == ["201", "201"], answer.text
    stored = client.get(
        "/observations", params={"patient_id": world.patients["a1"]}, headers=world.headers("a:clinical_staff")
    ).json()
    assert sorted((o["type"], str(o["values"]), o["device_id"]) for o in stored["items"]) == [
        ("medication_adherence", "{'taken': True}", app_device),
        ("pain_score", "{'nrs': 6}", app_device),
    ]


def test_an_integration_key_may_post_fhir_but_not_read_it(client: TestClient, world: World, scale: int) -> None:
    key = client.post("/api-keys", json={"name": "ehr"}, headers=world.headers("a:admin")).json()["key"]
    headers = {"Authorization": f"Bearer {key}", **FHIR}
    assert client.post("/fhir/Observation", json=weight_lb(world, scale), headers=headers).status_code == 201
    denied = client.get("/fhir/Observation", headers=headers)
    assert denied.status_code == 403 and denied.json()["resourceType"] == "OperationOutcome"
    assert denied.json()["issue"][0]["code"] == "forbidden"
