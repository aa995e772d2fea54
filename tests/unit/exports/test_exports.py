"""Claim exports on a synthetic submission: 837P checked by pyx12, CSV, FHIR R4 Claim.

Every person, NPI and MBI below is made up; the NPIs merely pass the check digit.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pyx12.params  # type: ignore[import-untyped]
import pyx12.x12n_document  # type: ignore[import-untyped]
from fhir.resources.R4B.claim import Claim as FhirClaim

from remotecare.exports import (
    Address,
    BillingProvider,
    Claim,
    Contact,
    ExportError,
    Patient,
    Payer,
    RenderingProvider,
    ServiceLine,
    Submission,
    claim_resources,
    write_837p,
    write_superbill,
)
from remotecare.exports.claims import npi_check_digit_ok

BILLING_NPI = "1234567893"
RENDERING_NPI = "1245319599"

ANA = Patient(
    id=101,
    family_name="Rivera",
    given_name="Ana",
    birth_date=date(1948, 7, 9),
    sex="F",
    medicare_id="1EG4TE5MK73",
    address=Address("12 Birch Ln", "Springfield", "IL", "62704"),
)
BEN = Patient(
    id=102,
    family_name="Okafor",
    given_name="Ben",
    birth_date=date(1951, 11, 30),
    sex="M",
    medicare_id="2AC3DE4FG56",
    address=Address("9 Oak Ct", "Springfield", "IL", "62711", line2="Apt 3"),
)


def line(
    line_id: int,
    code: str,
    charge: str,
    start: date,
    end: date | None = None,
    *,
    units: int = 1,
    pointers: tuple[int, ...] = (1,),
    place: str = "11",
) -> ServiceLine:
    return ServiceLine(line_id, code, units, start, end or start, Decimal(charge), pointers, place)


def submission() -> Submission:
    rpm = Claim(
        claim_id="C-1001",
        patient=ANA,
        diagnoses=("E11.9", "I10", "E78.5"),
        lines=(
            line(1, "99453", "19.73", date(2024, 2, 1)),
            line(2, "99454", "43.03", date(2024, 2, 1), date(2024, 2, 29), pointers=(1, 2)),
            line(3, "99457", "47.87", date(2024, 2, 15), pointers=(2,)),
            line(4, "99458", "77.48", date(2024, 2, 27), units=2, pointers=(1, 2)),
        ),
        place_of_service="11",
        rendering=RenderingProvider("Hale", "Morgan", RENDERING_NPI),
    )
    ccm_ben = Claim(
        claim_id="C-1002",
        patient=BEN,
        diagnoses=("I50.9", "N18.30", "E11.65"),
        lines=(line(5, "99490", "60.49", date(2024, 2, 20), pointers=(1, 2, 3)),),
        place_of_service="11",
        rendering=None,
    )
    # Ana again, so her two claims must share one subscriber loop; the line's place differs from the claim's.
    ccm_ana = Claim(
        claim_id="C-1003",
        patient=ANA,
        diagnoses=("E11.9", "I10"),
        lines=(line(6, "99490", "60.49", date(2024, 2, 22), pointers=(1, 2), place="10"),),
        place_of_service="11",
        rendering=RenderingProvider("Hale", "Morgan", RENDERING_NPI),
    )
    return Submission(
        control_number=42,
        created_at=datetime(2024, 3, 4, 9, 30, tzinfo=ZoneInfo("America/Chicago")),
        sender_id="RCSENDER",
        receiver_id="MACRECEIVER",
        billing=BillingProvider(
            "Prairie Family Medicine",
            BILLING_NPI,
            "371234567",
            Address("400 Main St", "Springfield", "IL", "62701-1234"),
            taxonomy="207Q00000X",
        ),  # fmt: skip
        payer=Payer("Synthetic MAC", "00952"),
        claims=(rpm, ccm_ben, ccm_ana),
        contact=Contact("Billing Desk", "2175550100"),
    )


def segments(x12: str) -> list[list[str]]:
    assert x12.endswith("~")
    return [segment.split("*") for segment in x12.split("~")[:-1]]


def find(x12: str, segment_id: str, *first: str) -> list[list[str]]:
    """Segments with this id whose leading elements equal `first`."""
    return [s for s in segments(x12) if s[0] == segment_id and s[1 : 1 + len(first)] == list(first)]


# --- 837P through pyx12 -----------------------------------------------------------------


def pyx12_check(x12: str, tmp_path: Path) -> tuple[bool, str]:
    """Run pyx12's validator on the text as a file; return its verdict and the 999 it writes."""
    source = tmp_path / "claims.837"
    source.write_text(x12, encoding="ascii")
    ack = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=str(source), fd_997=ack, fd_html=None, fd_xmldoc=None
    )
    return bool(valid), ack.getvalue()


def ack_segment_ids(ack: str) -> list[str]:
    return [segment.split("*")[0].strip() for segment in ack.split("~") if segment.strip()]


def test_837p_is_valid_for_pyx12(tmp_path: Path) -> None:
    valid, ack = pyx12_check(write_837p(submission()), tmp_path)
    assert valid
    ids = ack_segment_ids(ack)
    # 999 error segments: IK3 (segment), IK4 (element), CTX (context).
    assert not {"IK3", "IK4", "CTX"} & set(ids), ack
    assert "IK5*A" in ack and "AK9*A*1*1*1" in ack, ack


@pytest.mark.parametrize(
    ("label", "breaks"),
    [
        ("wrong SE count", lambda x12: re.sub(r"~SE\*(\d+)\*", lambda m: f"~SE*{int(m[1]) - 1}*", x12)),
        ("missing SBR", lambda x12: x12.replace("SBR*P*18*******MB~", "", 1)),
        ("unknown place of service", lambda x12: x12.replace("*11:B:1*", "*1X:B:1*", 1)),
    ],
)
def test_pyx12_check_rejects_a_broken_837p(label: str, breaks: Callable[[str], str], tmp_path: Path) -> None:
    good = write_837p(submission())
    broken = breaks(good)
    assert broken != good, f"{label}: the breakage did not apply"
    valid, ack = pyx12_check(broken, tmp_path)
    assert not valid, label
    assert "IK5*R" in ack, ack


def test_837p_envelope_counts_and_control_numbers() -> None:
    x12 = write_837p(submission())
    segs = segments(x12)
    assert len(x12.split("~")[0]) == 105, "ISA is fixed width: 106 characters with its terminator"
    isa, gs, st = segs[0], segs[1], segs[2]
    assert isa[9:11] == ["240304", "0930"], "the wall-clock time of created_at"
    assert isa[13] == "000000042" and isa[15] == "T" and isa[16] == ":"
    assert isa[5:9] == ["ZZ", "RCSENDER       ", "ZZ", "MACRECEIVER    "]
    assert gs == ["GS", "HC", "RCSENDER", "MACRECEIVER", "20240304", "0930", "42", "X", "005010X222A1"]
    assert st == ["ST", "837", "0042", "005010X222A1"]
    assert segs[3] == ["BHT", "0019", "00", "42", "20240304", "0930", "CH"]
    se_index = next(i for i, s in enumerate(segs) if s[0] == "SE")
    assert segs[se_index] == ["SE", str(se_index - 2 + 1), "0042"], "SE01 counts ST through SE"
    assert segs[se_index + 1 :] == [["GE", "1", "42"], ["IEA", "1", "000000042"]]


def test_837p_hierarchy_groups_claims_by_subscriber() -> None:
    x12 = write_837p(submission())
    assert [s[1:] for s in find(x12, "HL")] == [["1", "", "20", "1"], ["2", "1", "22", "0"], ["3", "1", "22", "0"]]
    assert find(x12, "NM1", "85") == [["NM1", "85", "2", "Prairie Family Medicine", "", "", "", "", "XX", BILLING_NPI]]
    assert find(x12, "N4", "Springfield", "IL", "627011234"), "billing ZIP+4 without the hyphen"
    assert find(x12, "REF", "EI") == [["REF", "EI", "371234567"]]
    assert find(x12, "PRV") == [["PRV", "BI", "PXC", "207Q00000X"]]
    assert find(x12, "SBR") == [["SBR", "P", "18", "", "", "", "", "", "", "MB"]] * 2
    assert [s[-1] for s in find(x12, "NM1", "IL")] == ["1EG4TE5MK73", "2AC3DE4FG56"]
    assert find(x12, "DMG") == [["DMG", "D8", "19480709", "F"], ["DMG", "D8", "19511130", "M"]]
    assert find(x12, "NM1", "PR") == [["NM1", "PR", "2", "Synthetic MAC", "", "", "", "", "PI", "00952"]] * 2
    # Ana's second claim (C-1003) follows her first, under HL 2; Ben's under HL 3.
    order = [s[1] for s in segments(x12) if s[0] in ("HL", "CLM")]
    assert order == ["1", "2", "C-1001", "C-1003", "3", "C-1002"]
    # Rendering provider only on the claims that have one.
    assert len(find(x12, "NM1", "82", "1", "Hale", "Morgan")) == 2


def test_837p_claim_totals_diagnoses_and_lines() -> None:
    x12 = write_837p(submission())
    charges: dict[str, Decimal] = {}
    claim = ""
    for s in segments(x12):
        if s[0] == "CLM":
            claim = s[1]
            assert s[3:] == ["", "", "11:B:1", "Y", "A", "Y", "Y"]
            charges[claim] = Decimal(0)
        elif s[0] == "SV1":
            charges[claim] += Decimal(s[2])
    clm_totals = {s[1]: Decimal(s[2]) for s in find(x12, "CLM")}
    assert (
        clm_totals == charges == {"C-1001": Decimal("188.11"), "C-1002": Decimal("60.49"), "C-1003": Decimal("60.49")}
    )

    assert find(x12, "HI") == [
        ["HI", "ABK:E119", "ABF:I10", "ABF:E785"],
        ["HI", "ABK:E119", "ABF:I10"],
        ["HI", "ABK:I509", "ABF:N1830", "ABF:E1165"],
    ]
    assert find(x12, "SV1", "HC:99458") == [["SV1", "HC:99458", "77.48", "UN", "2", "", "", "1:2"]]
    assert find(x12, "SV1", "HC:99453") == [["SV1", "HC:99453", "19.73", "UN", "1", "", "", "1"]]
    # SV105 only where the line's place differs from CLM05-1.
    assert find(x12, "SV1", "HC:99490") == [
        ["SV1", "HC:99490", "60.49", "UN", "1", "10", "", "1:2"],
        ["SV1", "HC:99490", "60.49", "UN", "1", "", "", "1:2:3"],
    ]
    dates = [s[2:] for s in find(x12, "DTP", "472")]
    assert dates[:2] == [["D8", "20240201"], ["RD8", "20240201-20240229"]]
    assert [s[2] for s in find(x12, "REF", "6R")] == ["1", "2", "3", "4", "6", "5"]
    assert [s[1] for s in find(x12, "LX")] == ["1", "2", "3", "4", "1", "1"], "LX restarts in each claim"


def test_837p_writes_whole_dollars_without_decimals() -> None:
    base = submission()
    first = base.claims[0]
    cheap = dataclasses.replace(first.lines[0], charge_usd=Decimal("20.00"))
    claim = dataclasses.replace(first, lines=(cheap,))
    x12 = write_837p(dataclasses.replace(base, claims=(claim,)))
    assert find(x12, "CLM")[0][2] == "20"
    assert find(x12, "SV1")[0][2] == "20"


def test_837p_production_flag_sets_isa15() -> None:
    x12 = write_837p(dataclasses.replace(submission(), production=True))
    assert segments(x12)[0][15] == "P"


# --- validation ---------------------------------------------------------------------------


def with_claim(change: Callable[[Claim], Claim]) -> Submission:
    base = submission()
    return dataclasses.replace(base, claims=(change(base.claims[0]), *base.claims[1:]))


def with_first_line(**changes: Any) -> Submission:
    return with_claim(
        lambda c: dataclasses.replace(c, lines=(dataclasses.replace(c.lines[0], **changes), *c.lines[1:]))
    )


def five_pointers(claim: Claim) -> Claim:
    line = dataclasses.replace(claim.lines[0], diagnosis_pointers=(1, 2, 3, 4, 5))
    diagnoses = ("E11.9", "I10", "E78.5", "N18.30", "I50.9")
    return dataclasses.replace(claim, diagnoses=diagnoses, lines=(line,))


THIRTEEN_DIAGNOSES = ("E11.9", "I10", "E78.5", "N18.30", "I50.9", "E66.9", "J44.9", "F32.9", "M17.0", "G47.33",
                      "E03.9", "K21.9", "R73.03")  # fmt: skip


def with_billing(**changes: Any) -> Submission:
    base = submission()
    return dataclasses.replace(base, billing=dataclasses.replace(base.billing, **changes))


def with_claim_fields(**changes: Any) -> Submission:
    return with_claim(lambda c: dataclasses.replace(c, **changes))


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        (lambda: with_billing(npi="1234567890"), "billing.npi"),
        (
            lambda: with_claim_fields(rendering=RenderingProvider("Hale", "Morgan", "1245319598")),
            "claims[0].rendering.npi",
        ),
        (lambda: with_billing(tax_id="37-1234567"), "billing.tax_id"),
        (lambda: with_claim_fields(diagnoses=THIRTEEN_DIAGNOSES), "claims[0].diagnoses"),
        (lambda: with_claim(five_pointers), "claims[0].lines[0].diagnosis_pointers"),
        (lambda: with_first_line(diagnosis_pointers=(4,)), "claims[0].lines[0].diagnosis_pointers"),
        (lambda: with_first_line(units=0), "claims[0].lines[0].units"),
        (lambda: with_first_line(charge_usd=Decimal("19.735")), "claims[0].lines[0].charge_usd"),
        (lambda: with_claim(lambda c: dataclasses.replace(c, lines=c.lines * 13)), "claims[0].lines"),
        (lambda: with_claim_fields(diagnoses=("E119", "I10", "E78.5")), "claims[0].diagnoses[0]"),
        (lambda: with_claim_fields(claim_id="C*1001"), "claims[0].claim_id"),
        (lambda: dataclasses.replace(submission(), created_at=datetime(2024, 3, 4, 9, 30)), "created_at"),
        (lambda: dataclasses.replace(submission(), contact=None), "contact"),
    ],
)
def test_837p_refuses_invalid_values_naming_the_field(broken: Callable[[], Submission], field: str) -> None:
    with pytest.raises(ExportError) as caught:
        write_837p(broken())
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize("writer", [write_superbill, claim_resources])
def test_other_exports_validate_too(writer: Callable[[Submission], object]) -> None:
    with pytest.raises(ExportError, match=r"^claims\[0\]\.lines\[0\]\.units: "):
        writer(with_first_line(units=0))


def test_contact_is_needed_only_by_the_837p() -> None:
    no_contact = dataclasses.replace(submission(), contact=None)
    assert write_superbill(no_contact)
    assert claim_resources(no_contact)


def test_npi_check_digit() -> None:
    assert npi_check_digit_ok(BILLING_NPI) and npi_check_digit_ok(RENDERING_NPI)
    assert not npi_check_digit_ok("1234567890")
    assert not npi_check_digit_ok("123456789"), "nine digits"
    assert not npi_check_digit_ok("12345678a3")


# --- superbill CSV ------------------------------------------------------------------------


def test_superbill_header_and_rows() -> None:
    text = write_superbill(submission())
    assert text.splitlines()[0] == (
        "claim_id,line_id,patient,medicare_id,birth_date,date_from,date_to,place_of_service,code,units,"
        "charge_usd,diagnoses,rendering_npi,billing_npi,ordering_npi,ordering_provider"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["line_id"] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    assert rows[3] == {
        "claim_id": "C-1001",
        "line_id": "4",
        "patient": "Rivera, Ana",
        "medicare_id": "1EG4TE5MK73",
        "birth_date": "1948-07-09",
        "date_from": "2024-02-27",
        "date_to": "2024-02-27",
        "place_of_service": "11",
        "code": "99458",
        "units": "2",
        "charge_usd": "77.48",
        "diagnoses": "E11.9;I10",
        "rendering_npi": RENDERING_NPI,
        "billing_npi": BILLING_NPI,
        "ordering_npi": "",
        "ordering_provider": "",
    }
    ben = rows[4]
    assert (ben["diagnoses"], ben["rendering_npi"], ben["date_to"]) == ("I50.9;N18.30;E11.65", "", "2024-02-20")
    assert rows[1]["date_to"] == "2024-02-29"


# --- FHIR R4 Claim ------------------------------------------------------------------------


def test_fhir_claims_validate_and_carry_the_claim() -> None:
    sub = submission()
    resources = claim_resources(sub)
    assert [r["identifier"][0]["value"] for r in resources] == ["C-1001", "C-1002", "C-1003"]
    for resource, claim in zip(resources, sub.claims, strict=True):
        FhirClaim.model_validate(resource)  # raises if not a valid R4(B) Claim
        assert resource["status"] == "active" and resource["use"] == "claim"
        assert resource["type"]["coding"][0]["code"] == "professional"
        assert resource["patient"] == {"reference": f"Patient/{claim.patient.id}"}
        assert resource["provider"]["identifier"] == {"system": "http://hl7.org/fhir/sid/us-npi", "value": BILLING_NPI}
        assert Decimal(str(resource["total"]["value"])) == sum(line.charge_usd for line in claim.lines)
        assert resource["total"]["currency"] == "USD"
        assert [(d["sequence"], d["diagnosisCodeableConcept"]["coding"][0]) for d in resource["diagnosis"]] == [
            (n, {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code})
            for n, code in enumerate(claim.diagnoses, start=1)
        ]
        assert [item["diagnosisSequence"] for item in resource["item"]] == [
            list(line.diagnosis_pointers) for line in claim.lines
        ]
        coverage = resource["contained"][0]
        assert coverage["payor"][0]["identifier"]["value"] == "00952"
        assert resource["insurance"][0]["coverage"]["reference"] == f"#{coverage['id']}"


def test_fhir_items_and_rendering_provider() -> None:
    rpm, ccm_ben, _ = claim_resources(submission())
    item = rpm["item"][3]
    assert item["sequence"] == 4
    assert item["productOrService"]["coding"] == [{"system": "http://www.ama-assn.org/go/cpt", "code": "99458"}]
    assert item["quantity"]["value"] == 2
    assert Decimal(str(item["unitPrice"]["value"])) == Decimal("38.74")
    assert Decimal(str(item["net"]["value"])) == Decimal("77.48")
    assert item["servicedPeriod"] == {"start": "2024-02-27", "end": "2024-02-27"}
    assert item["locationCodeableConcept"]["coding"] == [
        {"system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set", "code": "11"}
    ]
    assert rpm["item"][1]["servicedPeriod"] == {"start": "2024-02-01", "end": "2024-02-29"}
    assert rpm["careTeam"][0]["provider"]["identifier"]["value"] == RENDERING_NPI
    assert "careTeam" not in ccm_ben and "careTeamSequence" not in ccm_ben["item"][0]
