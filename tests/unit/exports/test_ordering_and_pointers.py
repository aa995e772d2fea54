"""The ordering provider on each line (837P loop 2420E, a FHIR careTeam member, superbill columns), and the
diagnoses a claim lists built from what each line treats.

Every person and NPI below is made up; the NPIs merely pass the check digit.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim

from remotecare.exports import (
    ExportError,
    OrderingProvider,
    RenderingProvider,
    Submission,
    claim_resources,
    write_837p,
    write_superbill,
)
from remotecare.exports.claims import MAX_DIAGNOSES, MAX_POINTERS, npi_check_digit_ok, point_diagnoses
from tests.unit.exports.test_exports import RENDERING_NPI, ack_segment_ids, find, pyx12_check, segments, submission

ORDERING_NPI = "1333003006"
OTHER_ORDERING_NPI = "1444004000"
IQBAL = OrderingProvider("Iqbal", "Priya", ORDERING_NPI)
NOVAK = OrderingProvider("Novak", "Lena", OTHER_ORDERING_NPI)
# The rendering provider of claims C-1001 and C-1003, recorded as having ordered a line too.
HALE = OrderingProvider("Hale", "Morgan", RENDERING_NPI)
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"


def ordered(orderers: dict[int, OrderingProvider | None]) -> Submission:
    """The shared submission with `orderers` (by line id) set on its lines."""
    base = submission()
    claims = tuple(
        dataclasses.replace(
            claim,
            lines=tuple(dataclasses.replace(line, ordering=orderers.get(line.line_id)) for line in claim.lines),
        )
        for claim in base.claims
    )
    return dataclasses.replace(base, claims=claims)


def with_orderers() -> Submission:
    """C-1001 (rendered by Hale): line 1 ordered by Hale himself, 2 and 3 by Iqbal, 4 by nobody recorded;
    C-1002 (no rendering provider): line 5 ordered by Novak; C-1003: line 6 by nobody."""
    return ordered({1: HALE, 2: IQBAL, 3: IQBAL, 5: NOVAK})


def test_the_synthetic_npis_pass_their_check_digit() -> None:
    assert npi_check_digit_ok(ORDERING_NPI) and npi_check_digit_ok(OTHER_ORDERING_NPI)


# --- 837P loop 2420E ----------------------------------------------------------------------


def test_837p_with_ordering_providers_is_valid_for_pyx12(tmp_path: Path) -> None:
    x12 = write_837p(with_orderers())
    assert "NM1*DK*" in x12  # the loop this test is about is there to be checked
    valid, ack = pyx12_check(x12, tmp_path)
    assert valid, ack
    assert not {"IK3", "IK4", "CTX"} & set(ack_segment_ids(ack)), ack
    assert "IK5*A" in ack, ack


def following_ref_6r(x12: str, line_id: int) -> list[str]:
    """The segment after the line's REF*6R (the last segment of the 2400 loop we write)."""
    segs = segments(x12)
    index = segs.index(["REF", "6R", str(line_id)])
    return segs[index + 1]


def test_837p_names_an_ordering_provider_other_than_the_rendering_one_in_loop_2420e() -> None:
    x12 = write_837p(with_orderers())
    iqbal = ["NM1", "DK", "1", "Iqbal", "Priya", "", "", "", "XX", ORDERING_NPI]
    novak = ["NM1", "DK", "1", "Novak", "Lena", "", "", "", "XX", OTHER_ORDERING_NPI]
    # Lines in file order: 1-4 (C-1001), 6 (C-1003, Ana's second claim), 5 (C-1002).
    assert find(x12, "NM1", "DK") == [iqbal, iqbal, novak]
    assert following_ref_6r(x12, 2) == iqbal and following_ref_6r(x12, 3) == iqbal
    assert following_ref_6r(x12, 5) == novak, "sent without a rendering provider on the claim too"
    # Hale rendered line 1 too, so 2420E is not sent (the guide: only when it differs); 4 and 6 have none.
    assert following_ref_6r(x12, 1)[0] == "LX" and following_ref_6r(x12, 4)[0] == "CLM"
    assert following_ref_6r(x12, 6)[0] == "HL"  # Ben's subscriber loop


def test_837p_without_ordering_providers_has_no_2420e() -> None:
    assert not find(write_837p(submission()), "NM1", "DK")
    assert not find(write_837p(ordered({1: HALE, 6: HALE})), "NM1", "DK")


def test_pyx12_checks_the_2420e_loop(tmp_path: Path) -> None:
    good = write_837p(with_orderers())
    broken = good.replace("NM1*DK*1*", "NM1*DK*2*", 1)  # an ordering provider must be a person
    assert broken != good
    valid, ack = pyx12_check(broken, tmp_path)
    assert not valid and "IK3*NM1" in ack and "IK5*R" in ack, ack


# --- the ordering provider's NPI -----------------------------------------------------------


WRITERS: list[Callable[[Submission], object]] = [write_837p, write_superbill, claim_resources]


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize(
    ("npi", "message"),
    [("", "is missing; claims need it"), ("1333003007", "NPI 1333003007 fails its check digit")],
)
def test_every_export_refuses_an_ordering_provider_without_a_valid_npi(
    writer: Callable[[Submission], object], npi: str, message: str
) -> None:
    broken = ordered({2: dataclasses.replace(IQBAL, npi=npi)})
    with pytest.raises(ExportError) as caught:
        writer(broken)
    assert caught.value.field == "claims[0].lines[1].ordering.npi"
    assert str(caught.value) == f"claims[0].lines[1].ordering.npi: {message}"


def test_an_ordering_provider_needs_a_name() -> None:
    with pytest.raises(ExportError, match=r"^claims\[1\]\.lines\[0\]\.ordering\.family_name: "):
        write_837p(ordered({5: dataclasses.replace(NOVAK, family_name=" ")}))


# --- FHIR careTeam ----------------------------------------------------------------------------


def test_fhir_care_team_lists_the_ordering_provider_and_items_point_at_it() -> None:
    rpm, ccm_ben, ccm_ana = claim_resources(with_orderers())
    for resource in (rpm, ccm_ben, ccm_ana):
        FhirClaim.model_validate(resource)
    ordering_role = {
        "coding": [{"system": ROLE_SYSTEM, "code": "other", "display": "Other"}],
        "text": "Ordering provider",
    }
    hale = {
        "sequence": 1,
        "provider": {"identifier": {"system": NPI_SYSTEM, "value": RENDERING_NPI}, "display": "Morgan Hale"},
        "role": {"coding": [{"system": ROLE_SYSTEM, "code": "primary"}]},
    }
    assert rpm["careTeam"] == [
        hale,
        {
            "sequence": 2,
            "provider": {"identifier": {"system": NPI_SYSTEM, "value": ORDERING_NPI}, "display": "Priya Iqbal"},
            "role": ordering_role,
        },
    ], "Iqbal once though she ordered two lines; Hale once though he also ordered line 1"
    assert [item.get("careTeamSequence") for item in rpm["item"]] == [[1], [1, 2], [1, 2], [1]]
    assert ccm_ben["careTeam"] == [
        {
            "sequence": 1,
            "provider": {"identifier": {"system": NPI_SYSTEM, "value": OTHER_ORDERING_NPI}, "display": "Lena Novak"},
            "role": ordering_role,
        }
    ]
    assert ccm_ben["item"][0]["careTeamSequence"] == [1]
    assert ccm_ana["careTeam"] == [hale] and ccm_ana["item"][0]["careTeamSequence"] == [1]


def test_fhir_two_ordering_providers_on_one_claim_are_two_members() -> None:
    (rpm, *_) = claim_resources(ordered({2: IQBAL, 4: NOVAK}))
    assert [(m["sequence"], m["provider"]["identifier"]["value"]) for m in rpm["careTeam"]] == [
        (1, RENDERING_NPI),
        (2, ORDERING_NPI),
        (3, OTHER_ORDERING_NPI),
    ]
    assert [item["careTeamSequence"] for item in rpm["item"]] == [[1], [1, 2], [1], [1, 3]]


# --- superbill columns ------------------------------------------------------------------------


def test_superbill_carries_the_ordering_provider_where_one_is_sent() -> None:
    rows = list(csv.DictReader(io.StringIO(write_superbill(with_orderers()))))
    assert {row["line_id"]: (row["ordering_npi"], row["ordering_provider"]) for row in rows} == {
        "1": ("", ""),  # Hale, who rendered it: the rendering_npi column names him
        "2": (ORDERING_NPI, "Iqbal, Priya"),
        "3": (ORDERING_NPI, "Iqbal, Priya"),
        "4": ("", ""),
        "5": (OTHER_ORDERING_NPI, "Novak, Lena"),
        "6": ("", ""),
    }


# --- diagnoses and pointers ---------------------------------------------------------------------


def test_lines_point_at_what_they_treat_and_the_claim_lists_each_code_once_in_order() -> None:
    diagnoses, pointers = point_diagnoses(
        [("I10", "E11.9"), ("E11.9", "N18.30", "I10", "E78.5", "J44.9"), ("I10", "I10"), ("I50.9",)], "patient 7"
    )
    # J44.9 is a fifth code of its line, beyond the 837P's four pointers: not pointed at, so not listed.
    assert diagnoses == ("I10", "E11.9", "N18.30", "E78.5", "I50.9")
    assert pointers == ((1, 2), (2, 3, 1, 4), (1,), (5,))
    assert MAX_POINTERS == 4


def test_a_claim_whose_lines_point_at_more_than_twelve_codes_is_refused_by_name() -> None:
    codes = [(f"E11.{n}",) for n in range(MAX_DIAGNOSES)]
    assert len(point_diagnoses(codes, "patient 7")[0]) == MAX_DIAGNOSES
    with pytest.raises(ExportError) as caught:
        point_diagnoses([*codes, ("I10",)], "patient 7")
    assert caught.value.field == "patient 7.diagnoses"
    assert "13 diagnoses" in caught.value.message


def test_pointed_diagnoses_make_a_valid_837p(tmp_path: Path) -> None:
    base = submission()
    first = base.claims[0]
    diagnoses, pointers = point_diagnoses([("I10",), ("E11.9", "I10")], "patient 101")
    lines = tuple(
        dataclasses.replace(line, diagnosis_pointers=p) for line, p in zip(first.lines[:2], pointers, strict=True)
    )
    claim = dataclasses.replace(
        first, diagnoses=diagnoses, lines=lines, rendering=RenderingProvider("Hale", "Morgan", RENDERING_NPI)
    )
    x12 = write_837p(dataclasses.replace(base, claims=(claim,)))
    assert find(x12, "HI") == [["HI", "ABK:I10", "ABF:E119"]]
    assert [s[7] for s in find(x12, "SV1")] == ["1", "2:1"]
    valid, ack = pyx12_check(x12, tmp_path)
    assert valid, ack
