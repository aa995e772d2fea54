"""The five patterns of the OIG data snapshot OEI-02-23-00261 (August 2025), over plain fact rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from remotecare.domain.self_audit.catalogue import CheckId
from remotecare.domain.self_audit.findings import (
    AuditMonth,
    Finding,
    Measure,
    PatientRef,
    Section,
    ids_text,
    more_than,
    pct,
    section,
)
from remotecare.domain.self_audit.settings import AuditSettings

# --- 1. enrollment spike ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewEnrollee:
    """A patient whose first RPM line (not void) is dated in the month."""

    patient: PatientRef
    first_line_id: int
    first_service_date: dt.date


def enrollment_spike(
    month: AuditMonth, new: Sequence[NewEnrollee], previous_count: int, settings: AuditSettings
) -> Section:
    """OIG measure 1: new enrollees up `spike_increase_pct`% or more on the month before, and at least
    `spike_min_new_enrollees` of them. From none the month before, any count is an unbounded increase."""
    count = len(new)
    increase = None if previous_count == 0 else round(100 * (count - previous_count) / previous_count, 1)
    steep = (
        count > 0
        if previous_count == 0
        else (count - previous_count) * 100 >= settings.spike_increase_pct * previous_count
    )
    crosses = steep and count >= settings.spike_min_new_enrollees
    basis = (
        f"{count} new RPM enrollees in {month}, {previous_count} in {month.previous}; "
        f"flagged at {settings.spike_increase_pct:g}% or more with at least {settings.spike_min_new_enrollees}"
    )
    measure = Measure(increase, settings.spike_increase_pct, "or more", crosses, basis)
    if not crosses:
        return section(CheckId.ENROLLMENT_SPIKE, (), measure)
    rise = "from none" if increase is None else f"up {increase:g}%"
    findings = (
        Finding(
            CheckId.ENROLLMENT_SPIKE,
            enrollee.patient,
            f"New RPM enrollee in {month} (first line {enrollee.first_line_id} dated "
            f"{enrollee.first_service_date}), a month when new enrollees rose {rise} to {count}.",
            (enrollee.first_line_id,),
        )
        for enrollee in new
    )
    return section(CheckId.ENROLLMENT_SPIKE, findings, measure)


# --- 2. no prior relationship ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RpmEnrollee:
    """A patient billed for RPM in the month, with their first RPM line and their last visit up to it."""

    patient: PatientRef
    first_line_id: int
    first_service_date: dt.date
    last_visit: dt.date | None  # the latest visit on or before the first RPM date of service


def no_prior_relationship(enrollees: Sequence[RpmEnrollee], settings: AuditSettings) -> Section:
    """OIG measure 2: no visit from `prior_relationship_since` through the first RPM date of service (a
    visit on that day counts). Each such patient is listed; the share says whether the practice crosses."""
    since = settings.prior_relationship_since
    without = [e for e in enrollees if e.last_visit is None or e.last_visit < since]
    share = pct(len(without), len(enrollees))
    threshold = settings.no_prior_relationship_pct
    basis = f"{len(without)} of {len(enrollees)} RPM enrollees of the month; flagged above {threshold:g}%"
    measure = Measure(share, threshold, "more than", more_than(len(without), len(enrollees), threshold), basis)
    findings = (
        Finding(
            CheckId.NO_PRIOR_RELATIONSHIP,
            e.patient,
            f"No visit with the practice from {since} to the first RPM date of service "
            f"({e.first_service_date}, line {e.first_line_id})"
            + (f"; the last was on {e.last_visit}." if e.last_visit else "."),
            (e.first_line_id,),
        )
        for e in without
    )
    return section(CheckId.NO_PRIOR_RELATIONSHIP, findings, measure)


# --- 3. no treatment management --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unmanaged:
    """An RPM enrollee of the year to date never billed for treatment management, and their RPM lines."""

    patient: PatientRef
    line_ids: tuple[int, ...]


def no_treatment_management(
    year_to: AuditMonth, unmanaged: Sequence[Unmanaged], enrollees: int, settings: AuditSettings
) -> Section:
    """OIG measure 3: of the year's `enrollees` (to the month's end), those never billed for treatment
    management (time, add-on or 99091)."""
    threshold = settings.no_management_pct
    basis = (
        f"{len(unmanaged)} of {enrollees} RPM enrollees from {year_to.year}-01 to {year_to}; "
        f"flagged above {threshold:g}%"
    )
    crosses = more_than(len(unmanaged), enrollees, threshold)
    measure = Measure(pct(len(unmanaged), enrollees), threshold, "more than", crosses, basis)
    findings = (
        Finding(
            CheckId.NO_TREATMENT_MANAGEMENT,
            e.patient,
            f"Billed for RPM from {year_to.year}-01 to {year_to} (lines {ids_text(e.line_ids)}) "
            "with no treatment management.",
            tuple(sorted(e.line_ids)),
        )
        for e in unmanaged
    )
    return section(CheckId.NO_TREATMENT_MANAGEMENT, findings, measure)


# --- 4. several device-supply lines in a month -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceSupplyLine:
    patient: PatientRef
    line_id: int
    code: str
    period_start: dt.date
    period_end: dt.date


def multiple_device_supply(month: AuditMonth, lines: Sequence[DeviceSupplyLine], settings: AuditSettings) -> Section:
    """OIG measure 4: `device_supply_lines_per_month` or more RPM device-supply lines dated in the month."""
    by_patient: dict[PatientRef, list[DeviceSupplyLine]] = defaultdict(list)
    for line in lines:
        by_patient[line.patient].append(line)
    findings = []
    for patient, mine in by_patient.items():
        if len(mine) < settings.device_supply_lines_per_month:
            continue
        mine.sort(key=lambda line: (line.period_end, line.line_id))
        periods = "; ".join(f"{x.code} line {x.line_id} for {x.period_start} to {x.period_end}" for x in mine)
        findings.append(
            Finding(
                CheckId.MULTIPLE_DEVICE_SUPPLY,
                patient,
                f"{len(mine)} device-supply lines dated in {month}: {periods}.",
                tuple(line.line_id for line in mine),
            )
        )
    return section(CheckId.MULTIPLE_DEVICE_SUPPLY, findings)


# --- 5. several practices --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedPatient:
    """A patient of this practice whose Medicare id other practices also billed RPM for in the month."""

    patient: PatientRef
    line_ids: tuple[int, ...]  # this practice's RPM lines of the month
    other_practices: int


def several_practices(month: AuditMonth, shared: Sequence[SharedPatient]) -> Section:
    """OIG measure 5. The other practices are counted, never named: their records are not ours to show."""
    findings = (
        Finding(
            CheckId.SEVERAL_PRACTICES,
            s.patient,
            f"Also billed for RPM in {month} by {s.other_practices} other "
            f"practice{'s' if s.other_practices > 1 else ''} under the same Medicare id.",
            tuple(sorted(s.line_ids)),
        )
        for s in shared
        if s.other_practices > 0
    )
    return section(CheckId.SEVERAL_PRACTICES, findings)
