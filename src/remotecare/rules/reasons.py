"""Why a code was not billed, in words a biller understands."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    NO_RULES = "no_rules"
    PROGRAM_NOT_IN_RULES = "program_not_in_rules"
    NO_CONSENT = "no_consent"
    CONSENT_AFTER_SERVICE = "consent_after_service"
    NOT_ESTABLISHED = "not_established"
    TOO_FEW_CONDITIONS = "too_few_conditions"
    OTHER_PROGRAM_BILLED = "other_program_billed"
    YIELDS_TO_PROGRAM = "yields_to_program"
    MONTH_JUDGED_UNDER_OTHER_EPISODE = "month_judged_under_other_episode"
    NO_MEDICAL_DEVICE = "no_medical_device"
    NO_FOCUS = "no_focus"
    NO_DEVICE_SUPPLY_CODE = "no_device_supply_code"
    NOT_ENOUGH_DAYS = "not_enough_days"
    ALTERNATIVE_BILLED = "alternative_billed"
    SETUP_ALREADY_BILLED = "setup_already_billed"
    SETUP_WITHOUT_DEVICE_SUPPLY = "setup_without_device_supply"
    NOT_ENOUGH_MINUTES = "not_enough_minutes"
    NO_INTERACTIVE_COMMUNICATION = "no_interactive_communication"
    NOT_COMPLEX = "not_complex"
    NO_FACE_TO_FACE_VISIT = "no_face_to_face_visit"
    PRIMARY_NOT_BILLED = "primary_not_billed"
    UNIT_CAP = "unit_cap"
    PRACTICE_SETTING = "practice_setting"


MESSAGES: dict[Reason, str] = {
    Reason.NO_RULES: "No CMS rule set is loaded for {year}.",
    Reason.PROGRAM_NOT_IN_RULES: "{program} has no billing codes in the {year} rules.",
    Reason.NO_CONSENT: "No patient consent is on file for this enrollment.",
    Reason.CONSENT_AFTER_SERVICE: "Consent is dated {consent}, after the date of service {service_date}.",
    Reason.NOT_ESTABLISHED: (
        "RPM requires an established patient, and this patient has no established relationship"
        " with the billing practitioner."
    ),
    Reason.TOO_FEW_CONDITIONS: "{program} needs {needed} or more chronic conditions; the patient has {count}.",
    Reason.OTHER_PROGRAM_BILLED: (
        "{winner_program} enrollment {winner} started first ({winner_start}) and is billed instead:"
        " RPM and RTM are never billed for one patient in overlapping periods."
    ),
    Reason.YIELDS_TO_PROGRAM: "{other} is billed for this patient in {month}, so {program} is not.",
    Reason.MONTH_JUDGED_UNDER_OTHER_EPISODE: (
        "{month} is shared with the later episode {other}, which is judged on the minutes of both."
    ),
    Reason.NO_MEDICAL_DEVICE: (
        "No medical device is assigned to the patient for {program} during this enrollment,"
        " so no day of data can count."
    ),
    Reason.NO_FOCUS: "The RTM enrollment names no focus (respiratory, musculoskeletal or cbt).",
    Reason.NO_DEVICE_SUPPLY_CODE: "The {year} rules have no {program} device-supply code for {focus} monitoring.",
    Reason.NOT_ENOUGH_DAYS: "Only {days} days with data in the 30-day period; {code} needs {needed}.",
    Reason.ALTERNATIVE_BILLED: "{other} is billed for this {span} instead; the two are never billed together.",
    Reason.SETUP_ALREADY_BILLED: "Set-up is billed once per episode, and {code} was billed on {billed_on}.",
    Reason.SETUP_WITHOUT_DEVICE_SUPPLY: (
        "Set-up is billed with the episode's first device-supply line, and none is billed for this period."
    ),
    Reason.NOT_ENOUGH_MINUTES: "{minutes} of the {needed} minutes that {unit_of}{code} needs{performers}.",
    Reason.NO_INTERACTIVE_COMMUNICATION: (
        "No real-time interactive communication with the patient or caregiver in {month}; {code} requires one."
    ),
    Reason.NOT_COMPLEX: "{code} is for complex care management, and this enrollment is not marked complex.",
    Reason.NO_FACE_TO_FACE_VISIT: (
        "The first {code} of an enrollment needs a face-to-face visit on or before {service_date}; none is on file."
    ),
    Reason.PRIMARY_NOT_BILLED: "{code} is an add-on to {primary}, which is not billed for {month}.",
    Reason.UNIT_CAP: "{minutes} minutes would support {possible} units of {code}; at most {cap} are billed per month.",
    Reason.PRACTICE_SETTING: (
        "Not billed by practice setting: physician and QHP minutes count toward the treatment-management codes."
    ),
}


def explain(reason: Reason, **facts: object) -> str:
    return MESSAGES[reason].format(**facts)
