"""Stored readings -> FHIR R4 JSON, and the Bundles and OperationOutcomes our FHIR API answers with.

Everything emitted validates with fhir.resources' R4B models (wire-compatible
with R4 for these resources; the tests check it). Observations carry the core
LOINC codes where a type has them (`fhir_codes.LOINC_TYPES`) and our own
CodeSystems otherwise, and `fhir_in.parse_observation` reads them back to the
same reading. Each is marked as measured at home, both with the US Vital Signs
measurement-setting extension and with a `_tag`-searchable meta tag, so an EHR
keeps remote readings apart from office vitals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from remotecare.ingest import fhir_codes as codes
from remotecare.ingest.measures import BOOLEAN, MEASURES, Number, Text

RESPONSE_TYPES = {"transaction": "transaction-response", "batch": "batch-response"}


class StoredReading(Protocol):
    """What a stored reading must offer to be emitted; the `observations` row has these."""

    @property
    def id(self) -> int: ...
    @property
    def patient_id(self) -> int: ...
    @property
    def device_id(self) -> int | None: ...
    @property
    def type(self) -> str: ...
    @property
    def values(self) -> dict[str, Any]: ...
    @property
    def effective_at(self) -> dt.datetime: ...  # aware
    @property
    def manual(self) -> bool: ...
    @property
    def source(self) -> str: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def received_at(self) -> dt.datetime: ...  # aware


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A plain `StoredReading`, for callers that do not hold a database row."""

    id: int
    patient_id: int
    device_id: int | None
    type: str
    values: dict[str, Any]
    effective_at: dt.datetime
    manual: bool
    source: str
    external_id: str | None
    received_at: dt.datetime


def observation_resource(row: StoredReading) -> dict[str, Any]:
    """The reading as an R4 Observation: status final, core codes where they exist, UCUM units."""
    if row.effective_at.tzinfo is None or row.received_at.tzinfo is None:
        raise ValueError("a stored reading's times must be aware")
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.id),
        "meta": {"tag": [_coding(codes.SETTING, codes.HOME, "Measured at home by a remote device")]},
        "extension": [
            {
                "url": codes.MEASUREMENT_SETTING_EXT,
                "valueCodeableConcept": {"coding": [_coding(codes.SNOMED, *codes.SNOMED_HOME)]},
            }
        ],
    }
    if row.external_id:
        resource["identifier"] = [_identifier(row.external_id)]
    resource["status"] = "final"
    if row.type in codes.CATEGORY:
        resource["category"] = [{"coding": [_coding(codes.OBSERVATION_CATEGORY, *codes.CATEGORY[row.type])]}]
    resource["code"] = _code(row.type)
    resource["subject"] = {"reference": f"Patient/{row.patient_id}"}
    resource["effectiveDateTime"] = row.effective_at.isoformat()
    resource["issued"] = row.received_at.isoformat()
    if row.device_id is not None:
        resource["device"] = {"reference": f"Device/{row.device_id}"}
    if row.manual:
        resource["method"] = {"coding": [_coding(codes.ENTRY_METHOD, codes.MANUAL, "Keyed in by hand")]}
    loinc = codes.LOINC_TYPES.get(row.type)
    main = loinc.main if loinc is not None else None
    components = []
    for name, value in row.values.items():
        if name == main:
            resource.update(_value(row.type, name, value))
        else:
            components.append({"code": _component_code(row.type, name), **_value(row.type, name, value)})
    if components:
        resource["component"] = components
    return resource


def searchset_bundle(
    resources: list[dict[str, Any]], total: int, self_url: str, next_url: str | None, base_url: str | None = None
) -> dict[str, Any]:
    """A search result page; with `base_url`, each entry gets its fullUrl (`<base>/Observation/<id>`)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {}
        if base_url is not None and "id" in resource:
            entry["fullUrl"] = f"{base_url.rstrip('/')}/{resource['resourceType']}/{resource['id']}"
        entries.append({**entry, "resource": resource, "search": {"mode": "match"}})
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = entries
    return bundle


def response_entry(status: str, location: str | None, outcome: dict[str, Any] | None) -> dict[str, Any]:
    """One entry of a transaction or batch response: `status` as "201 Created", "400 Bad Request"."""
    response: dict[str, Any] = {"status": status}
    if location is not None:
        response["location"] = location
    if outcome is not None:
        response["outcome"] = outcome
    return {"response": response}


def response_bundle(kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer to a transaction or batch Bundle (`kind` is either, or its -response type)."""
    bundle_type = RESPONSE_TYPES.get(kind, kind)
    if bundle_type not in RESPONSE_TYPES.values():
        raise ValueError(f"{kind!r} is neither transaction nor batch")
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": bundle_type}
    if entries:
        bundle["entry"] = entries
    return bundle


def operation_outcome(
    message: str, field: str | None, code: str = "invalid", severity: str = "error"
) -> dict[str, Any]:
    """One issue: `message` as diagnostics, `field` (a FHIRPath into the request) as its expression."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message}
    if field is not None:
        issue["expression"] = [field]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _identifier(external_id: str) -> dict[str, str]:
    system, bar, value = external_id.partition("|")
    if not bar:  # not one of ours from FHIR: keep it whole
        return {"value": external_id}
    return {"system": system, "value": value} if system else {"value": value}


def _code(reading_type: str) -> dict[str, Any]:
    loinc = codes.LOINC_TYPES.get(reading_type)
    if loinc is None:
        return {"coding": [_coding(codes.READING_TYPE, reading_type)], "text": reading_type}
    return {"coding": [_coding(codes.LOINC, code, display) for code, display in loinc.codes], "text": reading_type}


def _component_code(reading_type: str, name: str) -> dict[str, Any]:
    loinc = codes.LOINC_TYPES.get(reading_type)
    if loinc is not None and name in loinc.components:
        return {"coding": [_coding(codes.LOINC, *loinc.components[name])], "text": name}
    return {"coding": [_coding(codes.READING_VALUE, name)], "text": name}


def _value(reading_type: str, name: str, value: Any) -> dict[str, Any]:
    """The value[x] for one stored value: a bare integer for scores and counts, else a UCUM quantity."""
    measure = MEASURES.get(reading_type)
    kind = measure.values.get(name) if measure is not None else None
    if kind is None:  # a type not sent in by devices (check-in questionnaires): shaped by its value
        return _plain_value(value)
    if kind == BOOLEAN:
        return {"valueBoolean": value}
    if isinstance(kind, Text):
        return {"valueString": value}
    assert isinstance(kind, Number)
    if kind.integer:
        return {"valueInteger": int(value)}
    unit = codes.canonical_unit(name)
    if unit is None:  # a plain number; every such value is an integer today
        return {"valueQuantity": {"value": value}}
    return {"valueQuantity": {"value": value, "unit": unit, "system": codes.UCUM_SYSTEM, "code": unit}}


def _plain_value(value: Any) -> dict[str, Any]:
    """The value[x] of a stored value whose type `measures` does not describe (phq9, function, ...)."""
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueQuantity": {"value": value}}
    return {"valueString": str(value)}
