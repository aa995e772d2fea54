"""The checks beyond the five patterns: components (OIG 2024), claim details (OIG 2024), consent and
keyed-in readings (CMS), over plain fact rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from remotecare.domain.self_audit.catalogue import CheckId
from remotecare.domain.self_audit.findings import AuditMonth, Finding, PatientRef, Section, days_text, ids_text, section

# --- 6. three components over the episode ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Episode:
    """An RPM enrollment with its lines (not void) dated through the month's end, by role."""

    patient: PatientRef
    enrollment_id: int
    first_device_supply: dt.date
    last_device_supply: dt.date
    setup_line_ids: tuple[int, ...]
    device_supply_line_ids: tuple[int, ...]
    management_line_ids: tuple[int, ...]


def is_checked_for_components(episode: Episode, month: AuditMonth) -> bool:
    """An episode is judged in the report for `month` when its first device-supply line is dated before
    the month (so a whole calendar month of treatment management, this one, has closed since) and it
    billed device supply in this month or the one before (so an episode is judged while it runs and
    once after it ends, not in every later report)."""
    return episode.first_device_supply < month.start and episode.last_device_supply >= month.previous.start


def missing_components(month: AuditMonth, episodes: Sequence[Episode]) -> Section:
    """OIG 2024: set-up (99453), device supply (99454 and kin) and treatment management over the episode."""
    findings = []
    for episode in episodes:
        if not is_checked_for_components(episode, month):
            continue
        missing = [
            name
            for name, ids in (("set-up", episode.setup_line_ids), ("treatment management", episode.management_line_ids))
            if not ids
        ]
        if not missing:
            continue
        lines = episode.setup_line_ids + episode.device_supply_line_ids + episode.management_line_ids
        findings.append(
            Finding(
                CheckId.MISSING_COMPONENTS,
                episode.patient,
                f"RPM enrollment {episode.enrollment_id}, device supply billed since "
                f"{episode.first_device_supply}: no {' and no '.join(missing)} line through {month.end}.",
                tuple(sorted(lines)),
            )
        )
    return section(CheckId.MISSING_COMPONENTS, findings)


# --- 7. ordering provider and monitored condition --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimDetailGap:
    """An RPM enrollment billed in the month, with what the OIG asked claims to carry."""

    patient: PatientRef
    enrollment_id: int
    line_ids: tuple[int, ...]
    has_ordering_provider: bool
    monitored_conditions: tuple[str, ...]


def missing_claim_details(month: AuditMonth, enrollments: Sequence[ClaimDetailGap]) -> Section:
    findings = []
    for e in enrollments:
        missing = [
            name
            for name, present in (
                ("ordering provider", e.has_ordering_provider),
                ("monitored condition (ICD-10)", bool(e.monitored_conditions)),
            )
            if not present
        ]
        if missing:
            findings.append(
                Finding(
                    CheckId.MISSING_CLAIM_DETAILS,
                    e.patient,
                    f"RPM enrollment {e.enrollment_id} names no {' and no '.join(missing)}; "
                    f"lines of {month}: {ids_text(e.line_ids)}.",
                    tuple(sorted(e.line_ids)),
                )
            )
    return section(CheckId.MISSING_CLAIM_DETAILS, findings)


# --- 8. time before consent ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EarlyTime:
    """A patient's time entries in one program dated when no consent for it was in force."""

    patient: PatientRef
    program: str
    entries: tuple[tuple[int, dt.date], ...]  # (time entry id, date of service)
    consents: tuple[tuple[dt.date, dt.date | None], ...]  # (obtained on, revoked on) for the program
    line_ids: tuple[int, ...] = ()  # claim lines whose evidence lists one of the entries


def time_before_consent(entries: Sequence[EarlyTime]) -> Section:
    """A consent is in force from the day it was obtained through the day it was revoked."""
    findings = []
    for e in entries:
        days = days_text({day for _, day in e.entries})
        if not e.consents:
            consent = f"no {e.program} consent on file"
        else:
            consent = "; ".join(
                f"{e.program} consent obtained {obtained}" + (f", revoked {revoked}" if revoked else "")
                for obtained, revoked in sorted(e.consents)
            )
        billed = f" Claim lines counting them: {ids_text(e.line_ids)}." if e.line_ids else ""
        findings.append(
            Finding(
                CheckId.TIME_BEFORE_CONSENT,
                e.patient,
                f"{len(e.entries)} {e.program} time entr{'ies' if len(e.entries) > 1 else 'y'} on {days} "
                f"with no consent in force ({consent}).{billed}",
                tuple(sorted(e.line_ids)),
                tuple(sorted(entry_id for entry_id, _ in e.entries)),
            )
        )
    return section(CheckId.TIME_BEFORE_CONSENT, findings)


# --- 9. keyed-in readings counted ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineDays:
    """A line's evidence days, and the days that count for it (transmitted, from an assigned medical device)."""

    patient: PatientRef
    line_id: int
    code: str
    evidence_days: frozenset[dt.date]
    counted_days: frozenset[dt.date]


def manual_readings_counted(lines: Sequence[LineDays]) -> Section:
    findings = []
    for line in lines:
        uncounted = line.evidence_days - line.counted_days
        if uncounted:
            findings.append(
                Finding(
                    CheckId.MANUAL_READINGS_COUNTED,
                    line.patient,
                    f"{line.code} line {line.line_id} counts {len(uncounted)} day(s) with no transmitted reading "
                    f"from an assigned medical device: {days_text(uncounted)}.",
                    (line.line_id,),
                )
            )
    return section(CheckId.MANUAL_READINGS_COUNTED, findings)
