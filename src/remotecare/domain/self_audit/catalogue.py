"""The checks as data: what each measures, and the report or rule it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# --- the checks as data ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    number: str
    date: str

    @property
    def citation(self) -> str:
        return f"{self.title} ({self.number}, {self.date})"


OIG_2024 = Source(
    "OIG, Additional Oversight of Remote Patient Monitoring in Medicare Is Needed", "OEI-02-23-00260", "September 2024"
)
OIG_2025 = Source(
    "OIG data snapshot, Billing for Remote Patient Monitoring in Medicare", "OEI-02-23-00261", "August 2025"
)
CMS_2021 = Source(
    "CMS CY 2021 Physician Fee Schedule final rule, RPM clarifications (RemoteCare policy rules 2 and 17)",
    "CMS-1734-F",
    "December 2020",
)


class CheckId(StrEnum):
    ENROLLMENT_SPIKE = "enrollment_spike"
    NO_PRIOR_RELATIONSHIP = "no_prior_relationship"
    NO_TREATMENT_MANAGEMENT = "no_treatment_management"
    MULTIPLE_DEVICE_SUPPLY = "multiple_device_supply"
    SEVERAL_PRACTICES = "several_practices"
    MISSING_COMPONENTS = "missing_components"
    MISSING_CLAIM_DETAILS = "missing_claim_details"
    TIME_BEFORE_CONSENT = "time_before_consent"
    MANUAL_READINGS_COUNTED = "manual_readings_counted"


@dataclass(frozen=True, slots=True)
class Check:
    id: CheckId
    title: str
    source: Source
    measures: str


# In the report's order: the OIG's five patterns, then the extra checks.
CHECKS: tuple[Check, ...] = (
    Check(
        CheckId.ENROLLMENT_SPIKE,
        "Sudden increase in new RPM enrollees",
        OIG_2025,
        "New RPM enrollees in the month (first RPM line dated in it) against the month before; the OIG flagged "
        "an increase of 150% or more with at least 100 new enrollees.",
    ),
    Check(
        CheckId.NO_PRIOR_RELATIONSHIP,
        "RPM enrollees with no prior relationship to the practice",
        OIG_2025,
        "Patients billed for RPM in the month with no visit (in person or telehealth) with the practice between "
        "2021-01-01 and their first RPM date of service; the OIG flagged practices where this held for more "
        "than 80% of enrollees.",
    ),
    Check(
        CheckId.NO_TREATMENT_MANAGEMENT,
        "RPM enrollees never billed for treatment management",
        OIG_2025,
        "RPM enrollees of the year to date with no treatment-management line (time, add-on or 99091); the OIG "
        "flagged practices where this held for more than 75% of enrollees.",
    ),
    Check(
        CheckId.MULTIPLE_DEVICE_SUPPLY,
        "Two or more device-supply lines for one patient in a month",
        OIG_2025,
        "Patients with two or more RPM device-supply lines dated in the month.",
    ),
    Check(
        CheckId.SEVERAL_PRACTICES,
        "Same patient billed for RPM by several practices",
        OIG_2025,
        "Patients (by Medicare id) billed for RPM in the month by this practice and by at least one other "
        "practice on this system; only the number of other practices is shown.",
    ),
    Check(
        CheckId.MISSING_COMPONENTS,
        "RPM episodes without all three components",
        OIG_2024,
        "RPM episodes without a set-up line, a device-supply line and a treatment-management line; the OIG "
        "found 43% of enrollees did not receive all three.",
    ),
    Check(
        CheckId.MISSING_CLAIM_DETAILS,
        "RPM lines without the ordering provider or the monitored condition",
        OIG_2024,
        "RPM lines of the month whose enrollment names no ordering provider or no monitored condition "
        "(ICD-10); the OIG recommended CMS require both on claims.",
    ),
    Check(
        CheckId.TIME_BEFORE_CONSENT,
        "Time logged before consent",
        CMS_2021,
        "Time entries of the month dated when the patient had no consent in force for the program.",
    ),
    Check(
        CheckId.MANUAL_READINGS_COUNTED,
        "Readings keyed in by hand counted toward days",
        CMS_2021,
        "RPM lines whose evidence lists a day with no transmitted reading from an assigned medical device; "
        "must be none.",
    ),
)
CHECK_BY_ID = {check.id: check for check in CHECKS}
