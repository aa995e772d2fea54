"""What a program needs before any of its codes can be billed (policy rules 15-18)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from remotecare.domain.patients import Patient
from remotecare.domain.programs import Enrollment, Program
from remotecare.rules.judging import Judgement
from remotecare.rules.reasons import Reason
from remotecare.rules.schema import RuleSet


@dataclass(frozen=True, slots=True)
class Blocker:
    reason: Reason
    facts: dict[str, object]


def program_blocker(judgement: Judgement, rivals: Sequence[Enrollment]) -> Blocker | None:
    """The first reason that stops every code of the program for this period, if any."""
    enrollment = judgement.activity.enrollment
    patient = judgement.activity.patient
    period = judgement.period
    program_rule = judgement.program_rule
    for rival in rivals:
        if rival.program in program_rule.exclusive_with and rival.overlaps(period.start, period.end):
            facts = {"winner_program": rival.program, "winner": rival.id, "winner_start": rival.start}
            return Blocker(Reason.OTHER_PROGRAM_BILLED, facts)
    if enrollment.consent is None:
        return Blocker(Reason.NO_CONSENT, {})
    if enrollment.consent > period.end:
        return Blocker(Reason.CONSENT_AFTER_SERVICE, {"consent": enrollment.consent, "service_date": period.end})
    if program_rule.requires_established_patient and not is_established(
        patient, enrollment, judgement.rules, service_date=period.end
    ):
        return Blocker(Reason.NOT_ESTABLISHED, {})
    if len(patient.conditions) < program_rule.min_conditions:
        facts = {"program": enrollment.program, "needed": program_rule.min_conditions, "count": len(patient.conditions)}
        return Blocker(Reason.TOO_FEW_CONDITIONS, facts)
    return None


def is_established(patient: Patient, enrollment: Enrollment, rules: RuleSet, *, service_date: dt.date) -> bool:
    """Established, or waived by the PHE: during it, and afterwards for its enrollees (CY2024 rule)."""
    if patient.established:
        return True
    emergency = rules.public_health_emergency
    return emergency is not None and (emergency.covers(service_date) or emergency.covers(enrollment.start))


def has_covid(patient: Patient, rules: RuleSet) -> bool:
    emergency = rules.public_health_emergency
    return emergency is not None and any(code in emergency.covid_conditions for code in patient.conditions)


def winning_rivals(enrollments: Iterable[Enrollment]) -> dict[str, list[Enrollment]]:
    """For each enrollment, the patient's other-program enrollments that outrank it.

    The one that started first wins; on the same day the program listed first
    (RPM before RTM) wins (policy rule 16). Which programs actually exclude each
    other is rule data (`exclusive_with`), checked when a period is judged.
    """
    order = list(Program)
    by_patient: dict[str, list[Enrollment]] = {}
    for enrollment in enrollments:
        by_patient.setdefault(enrollment.patient, []).append(enrollment)
    rivals: dict[str, list[Enrollment]] = {}
    for mine in (e for group in by_patient.values() for e in group):
        rank = (mine.start, order.index(mine.program))
        rivals[mine.id] = [
            other
            for other in by_patient[mine.patient]
            if other.program != mine.program and (other.start, order.index(other.program)) < rank
        ]
        # Deterministic whatever the input order: the earliest winner is named first.
        rivals[mine.id].sort(key=lambda e: (e.start, order.index(e.program), e.id))
    return rivals
