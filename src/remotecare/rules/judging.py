"""The frame for judging one period of one enrollment under one rule set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from remotecare.rules.counting import EnrollmentActivity
from remotecare.rules.periods import BillingPeriod
from remotecare.rules.reasons import Reason
from remotecare.rules.results import ClaimLine, NotBilled, Outcome
from remotecare.rules.schema import ProgramRule, RuleSet


@dataclass(slots=True)
class Judgement:
    activity: EnrollmentActivity
    rules: RuleSet
    program_rule: ProgramRule
    period: BillingPeriod
    outcome: Outcome = field(default_factory=Outcome)

    def bill(self, code: str, units: int, evidence: Mapping[str, Any]) -> ClaimLine:
        rule = self.rules.codes[code]
        line = ClaimLine(
            patient=self.activity.patient.id,
            enrollment=self.activity.enrollment.id,
            program=self.activity.enrollment.program,
            code=code,
            units=units,
            period=self.period,
            rules=self.rules.title,
            national_payment_usd=rule.national_payment_usd,
            evidence={**evidence, **self.common_evidence()},
        )
        self.outcome.lines.append(line)
        return line

    def refuse(self, code: str | None, reason: Reason, /, **facts: object) -> None:
        self.outcome.not_billed.append(
            NotBilled(
                patient=self.activity.patient.id,
                enrollment=self.activity.enrollment.id,
                program=self.activity.enrollment.program,
                code=code,
                period=self.period,
                reason=reason,
                facts=facts,
            )
        )

    def refuse_all(self, codes: list[str], reason: Reason, /, **facts: object) -> None:
        for code in codes:
            self.refuse(code, reason, **facts)

    def common_evidence(self) -> dict[str, Any]:
        enrollment = self.activity.enrollment
        return {
            "consent": enrollment.consent.isoformat() if enrollment.consent else None,
            "established_patient": self.activity.patient.established,
            "conditions": list(self.activity.patient.conditions),
        }
