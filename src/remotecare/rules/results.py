"""What an evaluation returns: billable lines, reasons for what was not billed, open periods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from remotecare.domain.programs import Program
from remotecare.rules.periods import BillingPeriod
from remotecare.rules.reasons import Reason, explain


@dataclass(frozen=True, slots=True)
class ClaimLine:
    patient: str
    enrollment: str
    program: Program
    code: str
    units: int
    period: BillingPeriod
    rules: str
    national_payment_usd: Decimal | None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def service_date(self) -> dt.date:
        return self.period.end

    @property
    def month(self) -> str:
        return self.period.month

    def sort_key(self) -> tuple[str, dt.date, str, str]:
        return (self.patient, self.service_date, self.code, self.enrollment)

    def to_dict(self) -> dict[str, Any]:
        payment = self.national_payment_usd
        return {
            "patient": self.patient,
            "enrollment": self.enrollment,
            "program": str(self.program),
            "code": self.code,
            "units": self.units,
            "service_date": self.service_date.isoformat(),
            "month": self.month,
            "period": self.period.as_dict(),
            "rules": self.rules,
            "national_payment_usd": None if payment is None else str(payment),
            "amount_usd": None if payment is None else str(payment * self.units),
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class NotBilled:
    """A code the program could have billed for a period, and why it was not.

    The words are put together when asked for: a billing run judges far more codes than it reports on.
    """

    patient: str
    enrollment: str
    program: Program
    code: str | None
    period: BillingPeriod
    reason: Reason
    facts: Mapping[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return explain(self.reason, **self.facts)

    def sort_key(self) -> tuple[str, dt.date, str, str]:
        return (self.patient, self.period.end, self.code or "", self.enrollment)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "enrollment": self.enrollment,
            "program": str(self.program),
            "code": self.code,
            "month": self.period.month,
            "period": self.period.as_dict(),
            "reason_code": str(self.reason),
            "reason": self.message,
        }


@dataclass(frozen=True, slots=True)
class InProgress:
    """A period still open at the evaluation's end, and what it still needs."""

    patient: str
    enrollment: str
    program: Program
    period: BillingPeriod
    progress: Mapping[str, Any]

    def sort_key(self) -> tuple[str, dt.date, str]:
        return (self.patient, self.period.end, self.enrollment)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "enrollment": self.enrollment,
            "program": str(self.program),
            "period": self.period.as_dict(),
            **{key: _plain(value) for key, value in self.progress.items()},
        }


def _plain(value: Any) -> Any:
    """The forecast (a dataclass) as JSON values; the rest of the progress already is."""
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


@dataclass(slots=True)
class Outcome:
    """Accumulates the results of judging one enrollment."""

    lines: list[ClaimLine] = field(default_factory=list)
    not_billed: list[NotBilled] = field(default_factory=list)
    in_progress: list[InProgress] = field(default_factory=list)

    def extend(self, other: Outcome) -> None:
        self.lines.extend(other.lines)
        self.not_billed.extend(other.not_billed)
        self.in_progress.extend(other.in_progress)


@dataclass(frozen=True, slots=True)
class Evaluation:
    rules: str
    lines: tuple[ClaimLine, ...]
    not_billed: tuple[NotBilled, ...]
    in_progress: tuple[InProgress, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "lines": [line.to_dict() for line in self.lines],
            "not_billed": [item.to_dict() for item in self.not_billed],
            "in_progress": [item.to_dict() for item in self.in_progress],
        }
