"""What a check returns (findings, a measure, a section), the month audited and the report."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from remotecare.domain.self_audit.catalogue import CHECK_BY_ID, Check, CheckId
from remotecare.domain.self_audit.settings import AuditSettings

# --- the month audited -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class AuditMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> AuditMonth:
        """`YYYY-MM`; raises ValueError with a message a caller can show next to the field."""
        found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1900:
            raise ValueError(f"{text!r} is not a month written YYYY-MM")
        return cls(int(found.group(1)), int(found.group(2)))

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def previous(self) -> AuditMonth:
        return AuditMonth(self.year - 1, 12) if self.month == 1 else AuditMonth(self.year, self.month - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# --- what a check returns --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatientRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One patient (or the practice, when `patient` is None) that a check found, and the records behind it."""

    check: CheckId
    patient: PatientRef | None
    detail: str
    claim_line_ids: tuple[int, ...] = ()
    time_entry_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Measure:
    """A practice-level measure: the value, the OIG's threshold (or the practice's) and whether it crosses."""

    value_pct: float | None  # None when it cannot be computed (nothing to divide by)
    threshold_pct: float
    comparison: str  # "or more" | "more than"
    crosses: bool
    basis: str  # the counts behind the value, in words


@dataclass(frozen=True, slots=True)
class Section:
    check: Check
    findings: tuple[Finding, ...] = ()
    measure: Measure | None = None

    @property
    def none_found(self) -> bool:
        return not self.findings


def section(check_id: CheckId, findings: Iterable[Finding], measure: Measure | None = None) -> Section:
    ordered = sorted(findings, key=lambda f: (f.patient.name if f.patient else "", f.patient.id if f.patient else 0))
    return Section(CHECK_BY_ID[check_id], tuple(ordered), measure)


def pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def more_than(part: int, whole: int, threshold_pct: float) -> bool:
    # Exact: 8 of 10 is 80%, which is not "more than 80%" however the float rounds.
    return whole > 0 and part * 100 > threshold_pct * whole


def days_text(days: Iterable[dt.date]) -> str:
    return ", ".join(day.isoformat() for day in sorted(days))


def ids_text(ids: Iterable[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids))


# --- the report ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelfAuditReport:
    practice_id: int
    practice_name: str
    month: AuditMonth
    settings: AuditSettings
    sections: tuple[Section, ...]

    @property
    def patient_ids(self) -> list[int]:
        return sorted({f.patient.id for s in self.sections for f in s.findings if f.patient is not None})
