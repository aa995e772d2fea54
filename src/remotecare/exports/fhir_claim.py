"""FHIR R4 `Claim` resources, one per claim, as JSON-ready dicts.

Each resource is checked against the R4B model of fhir.resources (R4B's Claim is
wire-compatible with R4's) before it is returned, so what leaves is known valid.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fhir.resources.R4B.claim import Claim as FhirClaim

from remotecare.exports.claims import (
    Claim,
    OrderingProvider,
    RenderingProvider,
    ServiceLine,
    Submission,
    ordering_provider,
    validate_submission,
)

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
HCPCS_SYSTEM = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
POS_SYSTEM = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
CLAIM_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/processpriority"
CARE_TEAM_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"

_COVERAGE_ID = "coverage"
# claimcareteamrole has no ordering role (primary, assist, supervisor, other): "other", said in text.
_ORDERING_ROLE = {
    "coding": [{"system": CARE_TEAM_ROLE_SYSTEM, "code": "other", "display": "Other"}],
    "text": "Ordering provider",
}

Member = RenderingProvider | OrderingProvider


def claim_resources(submission: Submission) -> list[dict[str, Any]]:
    validate_submission(submission)
    resources = []
    for claim in submission.claims:
        model = FhirClaim.model_validate(_claim(submission, claim))
        # mode="json" turns Decimal money into JSON numbers and dates into FHIR strings.
        resources.append(model.model_dump(mode="json"))
    return resources


def _claim(s: Submission, claim: Claim) -> dict[str, Any]:
    patient_ref = {"reference": f"Patient/{claim.patient.id}"}
    payer = {"identifier": {"value": s.payer.payer_id}, "display": s.payer.name}
    team = _care_team(claim)
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        # Coverage is required by Claim.insurance; we hold no Coverage resource, so carry it inline.
        "contained": [
            {
                "resourceType": "Coverage",
                "id": _COVERAGE_ID,
                "status": "active",
                "subscriberId": claim.patient.medicare_id,
                "beneficiary": patient_ref,
                "relationship": _concept(RELATIONSHIP_SYSTEM, "self"),
                "payor": [payer],
            }
        ],
        "identifier": [{"value": claim.claim_id}],
        "status": "active",
        "type": _concept(CLAIM_TYPE_SYSTEM, "professional"),
        "use": "claim",
        "patient": patient_ref,
        "billablePeriod": {
            "start": min(line.service_from for line in claim.lines).isoformat(),
            "end": max(line.service_to for line in claim.lines).isoformat(),
        },
        "created": s.created_at.isoformat(),
        "insurer": payer,
        "provider": {"identifier": {"system": NPI_SYSTEM, "value": s.billing.npi}, "display": s.billing.name},
        "priority": _concept(PRIORITY_SYSTEM, "normal"),
        "diagnosis": [
            {"sequence": n, "diagnosisCodeableConcept": _concept(ICD10CM_SYSTEM, code)}
            for n, code in enumerate(claim.diagnoses, start=1)
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": f"#{_COVERAGE_ID}"}}],
        "item": [_item(n, line, _line_team(claim, line, team)) for n, line in enumerate(claim.lines, start=1)],
        "total": _money(claim.total_charge_usd),
    }
    if team:
        resource["careTeam"] = [
            {
                "sequence": n,
                "provider": {
                    "identifier": {"system": NPI_SYSTEM, "value": member.npi},
                    "display": f"{member.given_name} {member.family_name}",
                },
                "role": role,
            }
            for n, (member, role) in enumerate(team, start=1)
        ]
    return resource


def _care_team(claim: Claim) -> list[tuple[Member, dict[str, Any]]]:
    """The rendering provider, then each ordering provider the lines name, once each (by NPI); the
    position in this list, from 1, is the member's careTeam sequence."""
    team: list[tuple[Member, dict[str, Any]]] = []
    if claim.rendering is not None:
        team.append((claim.rendering, _concept(CARE_TEAM_ROLE_SYSTEM, "primary")))
    for line in claim.lines:
        ordering = ordering_provider(claim, line)
        if ordering is not None and all(ordering.npi != member.npi for member, _ in team):
            team.append((ordering, _ORDERING_ROLE))
    return team


def _line_team(claim: Claim, line: ServiceLine, team: list[tuple[Member, dict[str, Any]]]) -> list[int]:
    """The careTeam sequences of the line's rendering and ordering providers."""
    npis = [p.npi for p in (claim.rendering, ordering_provider(claim, line)) if p is not None]
    return [n for n, (member, _) in enumerate(team, start=1) if member.npi in npis]


def _item(sequence: int, line: ServiceLine, care_team: list[int]) -> dict[str, Any]:
    # CPT codes start with a digit (99454, 1234F); HCPCS Level II codes with a letter (G0511).
    system = HCPCS_SYSTEM if line.code[0].isalpha() else CPT_SYSTEM
    item: dict[str, Any] = {
        "sequence": sequence,
        "diagnosisSequence": list(line.diagnosis_pointers),
        "productOrService": _concept(system, line.code),
        "servicedPeriod": {"start": line.service_from.isoformat(), "end": line.service_to.isoformat()},
        "locationCodeableConcept": _concept(POS_SYSTEM, line.place_of_service),
        "quantity": {"value": line.units},
        "net": _money(line.charge_usd),
    }
    if care_team:
        item["careTeamSequence"] = care_team
    # FHIR defines net = quantity x unitPrice: only state a unit price that keeps that exact.
    unit_price = line.charge_usd / line.units
    if unit_price == unit_price.quantize(Decimal("0.01")):
        item["unitPrice"] = _money(unit_price)
    return item


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": value.quantize(Decimal("0.01")), "currency": "USD"}
