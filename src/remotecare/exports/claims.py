"""What a claim export needs, as frozen values, and the checks every writer runs first.

The writers trust nothing they are given: `validate_submission` rejects anything a
payer would reject for shape alone (bad NPI check digit, too many diagnoses, ...),
naming the offending field by its path in the submission.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# Limits of the 837P (005010X222A1), which the other exports share so that one
# claim means the same thing whichever way it leaves.
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_LINES = 50

# X12 delimiters used by the 837P writer (plus the ISA11 repetition separator).
X12_DELIMITERS = frozenset("~*:^")

_ICD10CM = re.compile(r"[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?")
_PROCEDURE = re.compile(r"[0-9A-Z]{5}")
_PLACE_OF_SERVICE = re.compile(r"[0-9]{2}")
_STATE = re.compile(r"[A-Z]{2}")
_POSTAL = re.compile(r"[0-9]{5}(-?[0-9]{4})?")
_TAXONOMY = re.compile(r"[0-9A-Z]{9}X")
_PAYER_ID = re.compile(r"[0-9A-Z]{2,80}")
# CMS MBI layout: C A AN N A AN N A A N N, letters never S, L, O, I, B or Z.
_A = "[AC-HJKMNP-RT-Y]"
_AN = "[0-9AC-HJKMNP-RT-Y]"
_MBI = re.compile(f"[1-9]{_A}{_AN}[0-9]{_A}{_AN}[0-9]{_A}{_A}[0-9][0-9]")


class ExportError(ValueError):
    """A submission that cannot be exported; `field` is the path of the offending value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str | None = None


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """The practice (an organization) that bills and is paid."""

    name: str
    npi: str
    tax_id: str
    address: Address
    taxonomy: str | None = None


@dataclass(frozen=True, slots=True)
class RenderingProvider:
    """The physician billing the enrollment."""

    family_name: str
    given_name: str
    npi: str


@dataclass(frozen=True, slots=True)
class OrderingProvider:
    """The physician who ordered the monitoring, which is what the OIG asked CMS to have claims name."""

    family_name: str
    given_name: str
    npi: str


@dataclass(frozen=True, slots=True)
class Patient:
    """For Medicare the patient is always the subscriber."""

    id: int
    family_name: str
    given_name: str
    birth_date: date
    sex: str  # "M" | "F" | "U"
    medicare_id: str  # the MBI
    address: Address


@dataclass(frozen=True, slots=True)
class Payer:
    """Who receives the claim, e.g. the Medicare Administrative Contractor."""

    name: str
    payer_id: str


@dataclass(frozen=True, slots=True)
class ServiceLine:
    line_id: int  # our claim line id
    code: str  # HCPCS/CPT
    units: int
    service_from: date
    service_to: date
    charge_usd: Decimal  # for all units of the line
    diagnosis_pointers: tuple[int, ...]  # 1-based into the claim's diagnoses
    place_of_service: str  # e.g. "11" office, "10" telehealth in patient's home
    ordering: OrderingProvider | None = None  # the enrollment's; see `ordering_provider` for when it is sent


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str  # our own, unique per claim
    patient: Patient
    diagnoses: tuple[str, ...]  # ICD-10-CM with dots, as we store them (E11.9)
    lines: tuple[ServiceLine, ...]
    place_of_service: str
    rendering: RenderingProvider | None

    @property
    def total_charge_usd(self) -> Decimal:
        return sum((line.charge_usd for line in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class Contact:
    """Who the receiver calls about the file (837P loop 1000A PER, required there)."""

    name: str
    phone: str  # 10 digits


@dataclass(frozen=True, slots=True)
class Submission:
    control_number: int
    created_at: datetime  # aware
    sender_id: str
    receiver_id: str
    billing: BillingProvider
    payer: Payer
    claims: tuple[Claim, ...]
    contact: Contact | None = None  # only the 837P needs it
    production: bool = False  # ISA15: "P" when True, else "T" so a mistake is only a test


def npi_check_digit_ok(npi: str) -> bool:
    """Luhn over the NPI prefixed with the card issuer id 80840 (the NPI standard)."""
    if not _digits(npi, 10):
        return False
    total = 0
    # Doubling starts from the rightmost digit of the payload, i.e. the 9th NPI digit.
    for position, char in enumerate(reversed("80840" + npi[:9])):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def ordering_provider(claim: Claim, line: ServiceLine) -> OrderingProvider | None:
    """The line's ordering provider when a claim should name it: the 837P guide sends loop 2420E only for
    an orderer other than the rendering provider, and the other exports follow it."""
    ordering = line.ordering
    if ordering is None or (claim.rendering is not None and claim.rendering.npi == ordering.npi):
        return None
    return ordering


def point_diagnoses(
    line_codes: Sequence[Sequence[str]], where: str
) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """A claim's diagnoses and each line's pointers into them, from the codes each line treats (most
    relevant first): a line points at its first `MAX_POINTERS` distinct codes; the claim lists every code
    pointed at once, in the order first pointed at, so its principal diagnosis is its first line's."""
    diagnoses: dict[str, int] = {}  # code -> 1-based pointer; dicts keep insertion order
    pointers: list[tuple[int, ...]] = []
    for codes in line_codes:
        treated = tuple(dict.fromkeys(codes))[:MAX_POINTERS]
        pointers.append(tuple(diagnoses.setdefault(code, len(diagnoses) + 1) for code in treated))
    if len(diagnoses) > MAX_DIAGNOSES:
        raise ExportError(
            f"{where}.diagnoses", f"the lines point at {len(diagnoses)} diagnoses, more than a claim's {MAX_DIAGNOSES}"
        )
    return tuple(diagnoses), tuple(pointers)


def x12_diagnosis(code: str) -> str:
    """ICD-10 codes are stored with a dot, but X12 carries them without it."""
    return code.replace(".", "")


def validate_submission(submission: Submission) -> None:
    """Raise `ExportError` for the first value that no export could carry."""
    s = submission
    if not 1 <= s.control_number <= 999_999_999:
        raise ExportError("control_number", "must be between 1 and 999999999 (ISA13 has 9 digits)")
    if s.created_at.tzinfo is None or s.created_at.utcoffset() is None:
        raise ExportError("created_at", "must be timezone-aware")
    _text(s.sender_id, "sender_id", 15, min_len=2)
    _text(s.receiver_id, "receiver_id", 15, min_len=2)
    _check_billing(s.billing)
    _text(s.payer.name, "payer.name", 60)
    _match(_PAYER_ID, s.payer.payer_id, "payer.payer_id", "2-80 uppercase letters or digits")
    if s.contact is not None:
        _text(s.contact.name, "contact.name", 60)
        if not _digits(s.contact.phone, 10):
            raise ExportError("contact.phone", "must be 10 digits")
    if not s.claims:
        raise ExportError("claims", "a submission needs at least one claim")
    seen_ids: set[str] = set()
    patients: dict[int, Patient] = {}
    for i, claim in enumerate(s.claims):
        where = f"claims[{i}]"
        if claim.claim_id in seen_ids:
            raise ExportError(f"{where}.claim_id", f"duplicate claim id {claim.claim_id!r}")
        seen_ids.add(claim.claim_id)
        # The 837P lists a subscriber once for all of their claims.
        known = patients.setdefault(claim.patient.id, claim.patient)
        if known != claim.patient:
            raise ExportError(f"{where}.patient", f"patient {claim.patient.id} differs from an earlier claim's")
        _check_claim(claim, where, s.created_at.date())


def check_npi(npi: str, field: str) -> None:
    if not npi:
        raise ExportError(field, "is missing; claims need it")
    if not _digits(npi, 10):
        raise ExportError(field, f"NPI must be 10 digits, got {npi!r}")
    if not npi_check_digit_ok(npi):
        raise ExportError(field, f"NPI {npi} fails its check digit")


def _check_billing(billing: BillingProvider) -> None:
    _text(billing.name, "billing.name", 60)
    check_npi(billing.npi, "billing.npi")
    if not _digits(billing.tax_id, 9):
        raise ExportError("billing.tax_id", "must be 9 digits without a hyphen")
    if billing.taxonomy is not None:
        _match(_TAXONOMY, billing.taxonomy, "billing.taxonomy", "a 10-character provider taxonomy code")
    _check_address(billing.address, "billing.address")
    # 005010X222A1 wants the full ZIP+4 for the billing provider (2010AA N403).
    if len(postal_digits(billing.address.postal_code)) != 9:
        raise ExportError("billing.address.postal_code", "the billing provider needs a 9-digit ZIP+4")


def _check_patient(patient: Patient, where: str, today: date) -> None:
    _text(patient.family_name, f"{where}.family_name", 60)
    _text(patient.given_name, f"{where}.given_name", 35)
    if patient.sex not in ("M", "F", "U"):
        raise ExportError(f"{where}.sex", "must be M, F or U")
    if patient.birth_date > today:
        raise ExportError(f"{where}.birth_date", "is in the future")
    _match(_MBI, patient.medicare_id, f"{where}.medicare_id", "an 11-character Medicare Beneficiary Identifier")
    _check_address(patient.address, f"{where}.address")


def _check_claim(claim: Claim, where: str, today: date) -> None:
    _text(claim.claim_id, f"{where}.claim_id", 38)
    _check_patient(claim.patient, f"{where}.patient", today)
    _match(_PLACE_OF_SERVICE, claim.place_of_service, f"{where}.place_of_service", "a 2-digit CMS code")
    if claim.rendering is not None:
        _check_person(claim.rendering, f"{where}.rendering")
    if not claim.diagnoses:
        raise ExportError(f"{where}.diagnoses", "a claim needs at least one diagnosis")
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        raise ExportError(f"{where}.diagnoses", f"at most {MAX_DIAGNOSES} per claim, got {len(claim.diagnoses)}")
    if len(set(claim.diagnoses)) != len(claim.diagnoses):
        raise ExportError(f"{where}.diagnoses", "a diagnosis is listed twice")
    for j, code in enumerate(claim.diagnoses):
        _match(_ICD10CM, code, f"{where}.diagnoses[{j}]", "an ICD-10-CM code with its dot, e.g. E11.9")
    if not claim.lines:
        raise ExportError(f"{where}.lines", "a claim needs at least one line")
    if len(claim.lines) > MAX_LINES:
        raise ExportError(f"{where}.lines", f"at most {MAX_LINES} per claim, got {len(claim.lines)}")
    line_ids: set[int] = set()
    for k, line in enumerate(claim.lines):
        _check_line(line, f"{where}.lines[{k}]", len(claim.diagnoses), today)
        if line.line_id in line_ids:
            raise ExportError(f"{where}.lines[{k}].line_id", f"duplicate line id {line.line_id}")
        line_ids.add(line.line_id)


def _check_line(line: ServiceLine, where: str, diagnoses: int, today: date) -> None:
    if line.line_id < 1:
        raise ExportError(f"{where}.line_id", "must be positive")
    _match(_PROCEDURE, line.code, f"{where}.code", "a 5-character CPT/HCPCS code")
    if line.units < 1:
        raise ExportError(f"{where}.units", f"must be at least 1, got {line.units}")
    if line.service_from > line.service_to:
        raise ExportError(f"{where}.service_to", "is before service_from")
    if line.service_to > today:
        raise ExportError(f"{where}.service_to", "is after the submission date")
    charge = line.charge_usd
    if not charge.is_finite() or charge < 0 or charge != charge.quantize(Decimal("0.01")):
        raise ExportError(f"{where}.charge_usd", f"must be a non-negative amount in cents, got {charge}")
    pointers = line.diagnosis_pointers
    if not pointers:
        raise ExportError(f"{where}.diagnosis_pointers", "a line needs at least one diagnosis pointer")
    if len(pointers) > MAX_POINTERS:
        raise ExportError(f"{where}.diagnosis_pointers", f"at most {MAX_POINTERS} per line, got {len(pointers)}")
    if len(set(pointers)) != len(pointers):
        raise ExportError(f"{where}.diagnosis_pointers", "a pointer is repeated")
    for pointer in pointers:
        if not 1 <= pointer <= diagnoses:
            raise ExportError(f"{where}.diagnosis_pointers", f"{pointer} points outside the claim's diagnoses")
    _match(_PLACE_OF_SERVICE, line.place_of_service, f"{where}.place_of_service", "a 2-digit CMS code")
    if line.ordering is not None:
        _check_person(line.ordering, f"{where}.ordering")


def _check_person(person: RenderingProvider | OrderingProvider, where: str) -> None:
    """A provider named as a person (837P NM1 entity type 1), identified by NPI."""
    _text(person.family_name, f"{where}.family_name", 60)
    _text(person.given_name, f"{where}.given_name", 35)
    check_npi(person.npi, f"{where}.npi")


def _check_address(address: Address, where: str) -> None:
    _text(address.line1, f"{where}.line1", 55)
    if address.line2 is not None:
        _text(address.line2, f"{where}.line2", 55)
    _text(address.city, f"{where}.city", 30, min_len=2)
    _match(_STATE, address.state, f"{where}.state", "a 2-letter uppercase state code")
    _match(_POSTAL, address.postal_code, f"{where}.postal_code", "a 5- or 9-digit ZIP code")


def postal_digits(postal_code: str) -> str:
    return postal_code.replace("-", "")


def _digits(value: str, count: int) -> bool:
    return len(value) == count and value.isascii() and value.isdigit()


def _text(value: str, field: str, max_len: int, *, min_len: int = 1) -> None:
    """Free text must fit its X12 element and never contain a delimiter."""
    if not value.strip():
        raise ExportError(field, "must not be empty")
    if not min_len <= len(value) <= max_len:
        raise ExportError(field, f"must be {min_len}-{max_len} characters, got {len(value)}")
    # X12 has no escape mechanism: a delimiter would silently split the segment.
    if not value.isascii() or not value.isprintable() or X12_DELIMITERS & set(value):
        raise ExportError(field, f"must be printable ASCII without any of {''.join(sorted(X12_DELIMITERS))}")


def _match(pattern: re.Pattern[str], value: str, field: str, expected: str) -> None:
    if not pattern.fullmatch(value):
        raise ExportError(field, f"expected {expected}, got {value!r}")
