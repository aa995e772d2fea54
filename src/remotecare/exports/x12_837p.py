"""ASC X12 005010X222A1 (837P professional claim) interchange writer.

One interchange, one functional group and one transaction set per submission.
Medicare patients are their own subscribers, so every patient gets one 2000B
subscriber HL under the single billing provider HL, holding all of their claims.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from remotecare.exports.claims import (
    Address,
    Claim,
    Contact,
    ExportError,
    Patient,
    ServiceLine,
    Submission,
    ordering_provider,
    postal_digits,
    validate_submission,
    x12_diagnosis,
)

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
TERMINATOR = "~"
VERSION = "005010X222A1"

Segment = list[str]


def write_837p(submission: Submission) -> str:
    validate_submission(submission)
    s = submission
    contact = s.contact
    if contact is None:
        raise ExportError("contact", "the 837P needs a submitter contact (loop 1000A PER is required)")
    when = s.created_at
    st_control = f"{s.control_number:04d}"  # ST02 is 4-9 characters
    transaction: list[Segment] = [["ST", "837", st_control, VERSION], *_body(s, contact)]
    transaction.append(["SE", str(len(transaction) + 1), st_control])  # the count includes ST and SE
    segments: list[Segment] = [
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            s.sender_id.ljust(15),
            "ZZ",
            s.receiver_id.ljust(15),
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            REPETITION,
            "00501",
            f"{s.control_number:09d}",
            "0",  # no TA1 requested: the 999 is the acknowledgement that matters
            "P" if s.production else "T",
            COMPONENT,
        ],
        [
            "GS",
            "HC",
            s.sender_id,
            s.receiver_id,
            when.strftime("%Y%m%d"),
            when.strftime("%H%M"),
            str(s.control_number),
            "X",
            VERSION,
        ],
        *transaction,
        ["GE", "1", str(s.control_number)],
        ["IEA", "1", f"{s.control_number:09d}"],
    ]
    return "".join(_render(segment) for segment in segments)


def _render(segment: Segment) -> str:
    elements = list(segment)
    # Trailing empty elements must be dropped, not sent as "**~" (ISA is fixed-width and never ends empty).
    while elements and elements[-1] == "":
        elements.pop()
    return ELEMENT.join(elements) + TERMINATOR


def _body(s: Submission, contact: Contact) -> Iterator[Segment]:
    billing = s.billing
    when = s.created_at
    yield ["BHT", "0019", "00", str(s.control_number), when.strftime("%Y%m%d"), when.strftime("%H%M"), "CH"]
    # 1000A submitter: the practice submits under our sender id.
    yield ["NM1", "41", "2", billing.name, "", "", "", "", "46", s.sender_id]
    yield ["PER", "IC", contact.name, "TE", contact.phone]
    # 1000B receiver
    yield ["NM1", "40", "2", s.payer.name, "", "", "", "", "46", s.receiver_id]
    # 2000A billing provider
    yield ["HL", "1", "", "20", "1"]
    if billing.taxonomy is not None:
        yield ["PRV", "BI", "PXC", billing.taxonomy]
    yield ["NM1", "85", "2", billing.name, "", "", "", "", "XX", billing.npi]
    yield from _address(billing.address)
    yield ["REF", "EI", billing.tax_id]
    hl = 1
    for patient, claims in _by_patient(s.claims):
        hl += 1
        # 2000B subscriber, who is the patient: no 2000C child loop (HL04 = 0).
        yield ["HL", str(hl), "1", "22", "0"]
        yield ["SBR", "P", "18", "", "", "", "", "", "", "MB"]  # primary, self, Medicare Part B
        yield ["NM1", "IL", "1", patient.family_name, patient.given_name, "", "", "", "MI", patient.medicare_id]
        yield from _address(patient.address)
        yield ["DMG", "D8", _d8(patient.birth_date), patient.sex]
        yield ["NM1", "PR", "2", s.payer.name, "", "", "", "", "PI", s.payer.payer_id]
        for claim in claims:
            yield from _claim(claim)


def _by_patient(claims: tuple[Claim, ...]) -> list[tuple[Patient, list[Claim]]]:
    groups: dict[int, tuple[Patient, list[Claim]]] = {}
    for claim in claims:
        groups.setdefault(claim.patient.id, (claim.patient, []))[1].append(claim)
    return list(groups.values())  # dicts keep first-seen order


def _claim(claim: Claim) -> Iterator[Segment]:
    # CLM05: place of service, B = professional facility qualifier, 1 = original claim.
    facility = COMPONENT.join((claim.place_of_service, "B", "1"))
    yield ["CLM", claim.claim_id, _amount(claim.total_charge_usd), "", "", facility, "Y", "A", "Y", "Y"]
    qualifiers = ["ABK"] + ["ABF"] * (len(claim.diagnoses) - 1)  # principal, then other diagnoses
    yield ["HI", *(f"{q}{COMPONENT}{x12_diagnosis(code)}" for q, code in zip(qualifiers, claim.diagnoses, strict=True))]
    if claim.rendering is not None:
        r = claim.rendering
        yield ["NM1", "82", "1", r.family_name, r.given_name, "", "", "", "XX", r.npi]
    for number, line in enumerate(claim.lines, start=1):
        yield from _line(number, line, claim)


def _line(number: int, line: ServiceLine, claim: Claim) -> Iterator[Segment]:
    yield ["LX", str(number)]
    # SV105 is sent only when it differs from CLM05-1; the guide says not to send it otherwise.
    place = line.place_of_service if line.place_of_service != claim.place_of_service else ""
    pointers = COMPONENT.join(str(p) for p in line.diagnosis_pointers)
    yield ["SV1", f"HC{COMPONENT}{line.code}", _amount(line.charge_usd), "UN", str(line.units), place, "", pointers]
    if line.service_from == line.service_to:
        yield ["DTP", "472", "D8", _d8(line.service_from)]
    else:
        yield ["DTP", "472", "RD8", f"{_d8(line.service_from)}-{_d8(line.service_to)}"]
    yield ["REF", "6R", str(line.line_id)]
    o = ordering_provider(claim, line)
    if o is not None:
        # 2420E Ordering Provider Name follows the 2400 segments: a person (1) identified by NPI (XX).
        yield ["NM1", "DK", "1", o.family_name, o.given_name, "", "", "", "XX", o.npi]


def _address(address: Address) -> Iterator[Segment]:
    yield ["N3", address.line1] + ([address.line2] if address.line2 else [])
    yield ["N4", address.city, address.state, postal_digits(address.postal_code)]


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _amount(value: Decimal) -> str:
    """X12 R type: no exponent, no trailing zeros after the decimal point."""
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
