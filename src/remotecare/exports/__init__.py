"""Claim exports with no database: ASC X12 837P, a superbill CSV and FHIR R4 Claim resources.

Build a `Submission` from the values in `remotecare.exports.claims`, then call
`write_837p`, `write_superbill` or `claim_resources`; each validates first and
raises `ExportError` naming the offending field.
"""

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
    validate_submission,
)
from remotecare.exports.fhir_claim import claim_resources
from remotecare.exports.superbill_csv import write_superbill
from remotecare.exports.x12_837p import write_837p

__all__ = [
    "Address",
    "BillingProvider",
    "Claim",
    "Contact",
    "ExportError",
    "OrderingProvider",
    "Patient",
    "Payer",
    "RenderingProvider",
    "ServiceLine",
    "Submission",
    "claim_resources",
    "validate_submission",
    "write_837p",
    "write_superbill",
]
