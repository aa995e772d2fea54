"""Approved claim lines out of the database, in the shape every export format is written from.

One claim per patient. Each line points at what its enrollment monitors (the
patient's conditions when the enrollment names none), four codes at most, and
names the enrollment's ordering provider; the claim lists every code its lines
point at. The charge of a line is the national payment of its code times its
units (there is no practice fee schedule yet). Anything a claim needs that the
practice has not recorded is refused by name, before anything is written or
marked exported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.exports.claims import (
    Address,
    BillingProvider,
    Claim,
    Contact,
    ExportError,
    OrderingProvider,
    Patient,
    Payer,
    RenderingProvider,
    ServiceLine,
    Submission,
    point_diagnoses,
)
from remotecare.exports.fhir_claim import claim_resources
from remotecare.exports.superbill_csv import write_superbill
from remotecare.exports.x12_837p import write_837p
from remotecare.rules import load_rules
from remotecare.store.models import AuditEvent, ClaimLine, ClaimStatus, Enrollment, Practice, User
from remotecare.store.models import Patient as PatientRow


@dataclass(frozen=True, slots=True)
class EnrollmentDetails:
    """What a claim line takes from its enrollment."""

    monitored_conditions: tuple[str, ...]
    ordering: OrderingProvider | None


def approved_lines(session: Session, practice_id: int) -> list[ClaimLine]:
    return list(
        session.scalars(
            select(ClaimLine)
            .where(ClaimLine.practice_id == practice_id, ClaimLine.status == ClaimStatus.APPROVED)
            .order_by(ClaimLine.patient_id, ClaimLine.service_date, ClaimLine.code)
        )
    )


def build_submission(
    session: Session, practice_id: int, lines: list[ClaimLine], *, control_number: int, now: dt.datetime
) -> Submission:
    practice = session.get(Practice, practice_id)
    assert practice is not None
    billing = BillingProvider(
        name=practice.name,
        npi=_required(practice.npi, "practice.npi"),
        tax_id=_required(practice.tax_id, "practice.tax_id"),
        address=_address(practice, "practice"),
    )
    payer = Payer(
        name=_required(practice.payer_name, "practice.payer_name"),
        payer_id=_required(practice.payer_id, "practice.payer_id"),
    )
    by_patient: dict[int, list[ClaimLine]] = defaultdict(list)
    for line in lines:
        by_patient[line.patient_id].append(line)
    patients = {
        row.id: row
        for row in session.scalars(
            select(PatientRow).where(PatientRow.practice_id == practice_id, PatientRow.id.in_(by_patient))
        )
    }
    enrollment_ids = {line.enrollment_id for line in lines}
    renderers = _rendering_providers(session, practice_id, enrollment_ids)
    enrollments = _enrollment_details(session, practice_id, enrollment_ids)
    claims = []
    for patient_id, patient_lines in by_patient.items():
        row = patients[patient_id]
        label = f"patient {patient_id}"
        treated = [_treated(enrollments[line.enrollment_id], line, row) for line in patient_lines]
        diagnoses, pointers = point_diagnoses(treated, label)
        claims.append(
            Claim(
                claim_id=f"RC{practice_id}-{patient_id}-{control_number}",
                patient=Patient(
                    id=patient_id,
                    family_name=row.family_name,
                    given_name=row.given_name,
                    birth_date=row.birth_date,
                    sex=_required(row.sex, f"{label}.sex"),
                    medicare_id=row.medicare_id,
                    address=_address(row, label),
                ),
                diagnoses=diagnoses,
                lines=tuple(
                    ServiceLine(
                        line_id=line.id,
                        code=line.code,
                        units=line.units,
                        service_from=line.period_start,
                        service_to=line.service_date,
                        charge_usd=_charge(line),
                        diagnosis_pointers=line_pointers,
                        place_of_service=practice.place_of_service,
                        ordering=enrollments[line.enrollment_id].ordering,
                    )
                    for line, line_pointers in zip(patient_lines, pointers, strict=True)
                ),
                place_of_service=practice.place_of_service,
                rendering=renderers.get(patient_lines[0].enrollment_id),
            )
        )
    return Submission(
        control_number=control_number,
        created_at=now,
        sender_id=_required(practice.npi, "practice.npi"),
        receiver_id=payer.payer_id,
        billing=billing,
        payer=payer,
        claims=tuple(claims),
        contact=Contact(name=practice.name[:60], phone=_required(practice.phone, "practice.phone")),
    )


def _fhir_json(submission: Submission) -> str:
    return json.dumps(claim_resources(submission), indent=2)


FORMATS: dict[str, Callable[[Submission], str]] = {"x12": write_837p, "csv": write_superbill, "fhir": _fhir_json}


def export_approved(session: Session, practice_id: int, fmt: str, *, now: dt.datetime) -> tuple[str, list[int]]:
    """Every approved line of the practice, written in `fmt` and marked exported; ExportError (naming the
    missing field) before anything is marked. The caller commits, with its audit event."""
    lines = approved_lines(session, practice_id)
    if not lines:
        raise ExportError("status", "no approved claim lines to export")
    control_number = 1 + (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.practice_id == practice_id, AuditEvent.action == "export")
        )
        or 0
    )
    text = FORMATS[fmt](build_submission(session, practice_id, lines, control_number=control_number, now=now))
    for line in lines:
        line.status = ClaimStatus.EXPORTED
    session.flush()
    return text, [line.id for line in lines]


def _rendering_providers(session: Session, practice_id: int, enrollments: set[int]) -> dict[int, RenderingProvider]:
    found = {}
    for enrollment_id, full_name, npi in session.execute(
        select(Enrollment.id, User.full_name, User.npi)
        .join(User, User.id == Enrollment.billing_provider_id)
        .where(Enrollment.practice_id == practice_id, Enrollment.id.in_(enrollments), User.npi.is_not(None))
    ):
        family, given = _person_name(full_name)
        found[enrollment_id] = RenderingProvider(family_name=family, given_name=given, npi=npi)
    return found


def _enrollment_details(session: Session, practice_id: int, enrollments: set[int]) -> dict[int, EnrollmentDetails]:
    """Each enrollment's monitored conditions and ordering provider. Unlike a billing provider without an NPI
    (the claim is sent without its 2310B loop), a recorded orderer must be named: one without an NPI is refused."""
    found = {}
    for enrollment_id, conditions, user_id, full_name, npi in session.execute(
        select(Enrollment.id, Enrollment.monitored_conditions, User.id, User.full_name, User.npi)
        .outerjoin(User, User.id == Enrollment.ordering_provider_id)
        .where(Enrollment.practice_id == practice_id, Enrollment.id.in_(enrollments))
        .order_by(Enrollment.id)  # the same enrollment is named first every time
    ):
        ordering = None
        if user_id is not None:
            if not npi:
                raise ExportError(
                    f"enrollment {enrollment_id}.ordering_provider.npi",
                    f"is missing: user {user_id} ({full_name}) ordered the monitoring, and claims name them by NPI",
                )
            family, given = _person_name(full_name)
            ordering = OrderingProvider(family_name=family, given_name=given, npi=npi)
        found[enrollment_id] = EnrollmentDetails(tuple(conditions or ()), ordering)
    return found


def _treated(enrollment: EnrollmentDetails, line: ClaimLine, patient: PatientRow) -> tuple[str, ...]:
    """The codes a line's service treats, most relevant first: what its enrollment monitors, else (for
    enrollments recorded before monitored conditions were) the patient's conditions."""
    codes = enrollment.monitored_conditions or tuple(patient.conditions)
    if not codes:
        raise ExportError(
            f"enrollment {line.enrollment_id}.monitored_conditions",
            f"is empty and patient {patient.id} has no conditions: claim line {line.id} has no diagnosis",
        )
    return codes


def _person_name(full_name: str) -> tuple[str, str]:
    """(family, given) from a user's one-field name: the last word is the family name."""
    given, _, family = full_name.rpartition(" ")
    return family or full_name, given


def _charge(line: ClaimLine) -> Decimal:
    """The national payment of the code, as the charge: the one in force, else the latest CMS published
    (a year's file may not have it yet, as 2026's lacks 99490's)."""
    payment = line.evidence.get("national_payment_usd") or load_rules().latest_payment(line.code)
    if payment is None:
        raise ExportError(f"claim line {line.id}.charge", f"no national payment is known for {line.code} to charge")
    return Decimal(payment) * line.units


def _address(row: Practice | PatientRow, label: str) -> Address:
    return Address(
        line1=_required(row.address_line1, f"{label}.address_line1"),
        city=_required(row.city, f"{label}.city"),
        state=_required(row.state, f"{label}.state"),
        postal_code=_required(row.postal_code, f"{label}.postal_code"),
        line2=row.address_line2,
    )


def _required(value: str | None, field: str) -> str:
    if not value:
        raise ExportError(field, "is missing; claims need it")
    return value
