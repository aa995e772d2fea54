"""Superbill CSV: one row per service line, for people and spreadsheets rather than payers."""

from __future__ import annotations

import csv
import io

from remotecare.exports.claims import Submission, ordering_provider, validate_submission

HEADER = (
    "claim_id",
    "line_id",
    "patient",
    "medicare_id",
    "birth_date",
    "date_from",
    "date_to",
    "place_of_service",
    "code",
    "units",
    "charge_usd",
    "diagnoses",
    "rendering_npi",
    "billing_npi",
    # Last, so that readers of the earlier columns by position are not moved; empty without one.
    "ordering_npi",
    "ordering_provider",
)


def write_superbill(submission: Submission) -> str:
    """CSV text (RFC 4180, CRLF line ends); diagnoses are the codes the line points to, in pointer order."""
    validate_submission(submission)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for claim in submission.claims:
        patient = claim.patient
        for line in claim.lines:
            ordering = ordering_provider(claim, line)
            writer.writerow(
                (
                    claim.claim_id,
                    line.line_id,
                    f"{patient.family_name}, {patient.given_name}",
                    patient.medicare_id,
                    patient.birth_date.isoformat(),
                    line.service_from.isoformat(),
                    line.service_to.isoformat(),
                    line.place_of_service,
                    line.code,
                    line.units,
                    f"{line.charge_usd:.2f}",
                    ";".join(claim.diagnoses[p - 1] for p in line.diagnosis_pointers),
                    claim.rendering.npi if claim.rendering else "",
                    submission.billing.npi,
                    ordering.npi if ordering else "",
                    f"{ordering.family_name}, {ordering.given_name}" if ordering else "",
                )
            )
    return out.getvalue()
