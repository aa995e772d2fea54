"""The compliance self-audit: the checks, their sources, their thresholds, and the findings they make.

Pure: every check takes plain fact rows (built by `services.self_audit` from the database, or by a test)
and the practice's settings, and returns one `Section` of the report. Nothing here reads a clock or a
database.

The five patterns come from the OIG data snapshot OEI-02-23-00261 (August 2025) of 2024 claims; the
missing-components and claim-details checks from OIG report OEI-02-23-00260 (September 2024); the last
two from the CMS rules the billing engine itself applies (cms-rules.md, policy rules 2 and 17).

Comparisons follow the OIG's wording: the enrollment spike is "150% or more" (at or above the
threshold); the two shares are "more than 80%" and "more than 75%" (strictly above), so a practice at
exactly 80% of enrollees without a prior visit does not cross.
"""

from remotecare.domain.self_audit.catalogue import CHECK_BY_ID, CHECKS, Check, CheckId, Source
from remotecare.domain.self_audit.extra_checks import (
    ClaimDetailGap,
    EarlyTime,
    Episode,
    LineDays,
    is_checked_for_components,
    manual_readings_counted,
    missing_claim_details,
    missing_components,
    time_before_consent,
)
from remotecare.domain.self_audit.findings import AuditMonth, Finding, Measure, PatientRef, Section, SelfAuditReport
from remotecare.domain.self_audit.oig_patterns import (
    DeviceSupplyLine,
    NewEnrollee,
    RpmEnrollee,
    SharedPatient,
    Unmanaged,
    enrollment_spike,
    multiple_device_supply,
    no_prior_relationship,
    no_treatment_management,
    several_practices,
)
from remotecare.domain.self_audit.settings import SETTING_NAMES, AuditSettings, AuditSettingsError, audit_settings

__all__ = [
    "CHECKS",
    "CHECK_BY_ID",
    "SETTING_NAMES",
    "AuditMonth",
    "AuditSettings",
    "AuditSettingsError",
    "Check",
    "CheckId",
    "ClaimDetailGap",
    "DeviceSupplyLine",
    "EarlyTime",
    "Episode",
    "Finding",
    "LineDays",
    "Measure",
    "NewEnrollee",
    "PatientRef",
    "RpmEnrollee",
    "Section",
    "SelfAuditReport",
    "SharedPatient",
    "Source",
    "Unmanaged",
    "audit_settings",
    "enrollment_spike",
    "is_checked_for_components",
    "manual_readings_counted",
    "missing_claim_details",
    "missing_components",
    "multiple_device_supply",
    "no_prior_relationship",
    "no_treatment_management",
    "several_practices",
    "time_before_consent",
]
