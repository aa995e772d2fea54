"""Time codes per calendar month: treatment management, CCM, PCM, CPM and BHI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from remotecare.domain.programs import Enrollment, Program
from remotecare.domain.time_entries import Performer, TimeEntry
from remotecare.rules.eligibility import Blocker, program_blocker
from remotecare.rules.evidence import minutes_evidence
from remotecare.rules.judging import Judgement
from remotecare.rules.reasons import Reason
from remotecare.rules.results import Outcome
from remotecare.rules.schema import CodeRule, Role
from remotecare.rules.settings import PracticeSettings

PERFORMER_WORDS = {
    frozenset({Performer.PHYSICIAN, Performer.QHP}): " of physician or QHP time",
}


@dataclass(slots=True)
class MonthState:
    """Carried from month to month within one enrollment."""

    face_to_face_met: bool = False  # the first CPM month has been billed

    def may_change(self, judgement: Judgement) -> bool:
        """Whether judging this month could change what later months see."""
        return not self.face_to_face_met and any(rule.face_to_face_first for _, rule in time_codes(judgement))


def month_entries(judgement: Judgement, settings: PracticeSettings) -> list[TimeEntry]:
    """The month's entries; with 99091 chosen, RPM physician time is kept for it (policy rule 20)."""
    entries = [entry for entry in judgement.activity.time_entries if judgement.period.contains(entry.date)]
    if settings.bill_99091 and judgement.activity.enrollment.program == Program.RPM:
        interpretation = judgement.rules.codes_of(Program.RPM, Role.INTERPRETATION)
        reserved = {performer for _, rule in interpretation for performer in rule.performers}
        entries = [entry for entry in entries if entry.performer not in reserved]
    return entries


def time_codes(judgement: Judgement) -> list[tuple[str, CodeRule]]:
    """The program's primary time codes in force, in the order they are tried."""
    found = []
    for code in judgement.program_rule.time_codes_in_order:
        rule = judgement.rules.code(code)
        if rule is not None:
            found.append((code, rule))
    return found


def judge_month(
    judgement: Judgement,
    *,
    state: MonthState,
    rivals: Sequence[Enrollment],
    settings: PracticeSettings,
    month_blocker: Blocker | None,
) -> Outcome:
    primaries = time_codes(judgement)
    add_ons = {code: judgement.rules.add_ons_of(code) for code, _ in primaries}
    every_code = [code for code, _ in primaries] + [add for group in add_ons.values() for add, _ in group]
    blocker = program_blocker(judgement, rivals) or month_blocker
    if blocker is not None:
        judgement.refuse_all(every_code, blocker.reason, **blocker.facts)
        return judgement.outcome

    entries = month_entries(judgement, settings)
    chosen: str | None = None
    for code, rule in primaries:
        if chosen is not None:
            judgement.refuse(code, Reason.ALTERNATIVE_BILLED, other=chosen, span="month")
            continue
        counted = [entry for entry in entries if entry.performer in rule.performers]
        failure = _first_failure(judgement, code, rule, entries, counted, state)
        if failure is not None:
            judgement.refuse(code, failure.reason, **failure.facts)
            continue
        chosen = code
        judgement.bill(code, 1, minutes_evidence(entries, counted))
        if rule.face_to_face_first:
            state.face_to_face_met = True
    for primary, rule in primaries:
        for add_on, add_rule in add_ons[primary]:
            if primary != chosen:
                judgement.refuse(
                    add_on, Reason.PRIMARY_NOT_BILLED, code=add_on, primary=primary, month=judgement.period.month
                )
                continue
            _bill_add_on(judgement, add_on, add_rule, rule, entries, settings)
    return judgement.outcome


def _first_failure(
    judgement: Judgement,
    code: str,
    rule: CodeRule,
    entries: list[TimeEntry],
    counted: list[TimeEntry],
    state: MonthState,
) -> Blocker | None:
    assert rule.minutes is not None
    if rule.complex_only and not judgement.activity.enrollment.complex:
        return Blocker(Reason.NOT_COMPLEX, {"code": code})
    minutes = sum(entry.minutes for entry in counted)
    if minutes < rule.minutes:
        facts = {
            "minutes": minutes,
            "needed": rule.minutes,
            "unit_of": "",
            "code": code,
            "performers": _performer_words(rule),
        }
        return Blocker(Reason.NOT_ENOUGH_MINUTES, facts)
    if rule.interactive_communication and not any(entry.interactive for entry in entries):
        return Blocker(Reason.NO_INTERACTIVE_COMMUNICATION, {"month": judgement.period.month, "code": code})
    if rule.face_to_face_first and not state.face_to_face_met and not _face_to_face_visit_by(judgement):
        return Blocker(Reason.NO_FACE_TO_FACE_VISIT, {"code": code, "service_date": judgement.period.end})
    return None


def _face_to_face_visit_by(judgement: Judgement) -> bool:
    return any(
        encounter.face_to_face and encounter.date <= judgement.period.end for encounter in judgement.activity.encounters
    )


def _bill_add_on(
    judgement: Judgement,
    code: str,
    rule: CodeRule,
    primary: CodeRule,
    entries: list[TimeEntry],
    settings: PracticeSettings,
) -> None:
    """Each further full increment beyond the primary's threshold (policy rules 7 and 13)."""
    assert rule.each_additional_minutes is not None and primary.minutes is not None
    counted = [entry for entry in entries if entry.performer in rule.performers]
    minutes = sum(entry.minutes for entry in counted)
    possible = max(0, (minutes - primary.minutes) // rule.each_additional_minutes)
    if possible == 0:
        judgement.refuse(
            code,
            Reason.NOT_ENOUGH_MINUTES,
            minutes=minutes,
            needed=primary.minutes + rule.each_additional_minutes,
            unit_of="a first unit of ",
            code=code,
            performers=_performer_words(rule),
        )
        return
    cap = settings.unit_cap(code, rule.units_per_period)
    units = possible if cap is None else min(possible, cap)
    judgement.bill(code, units, minutes_evidence(entries, counted))
    if units < possible:
        judgement.refuse(code, Reason.UNIT_CAP, minutes=minutes, possible=possible, code=code, cap=cap)


def _performer_words(rule: CodeRule) -> str:
    return PERFORMER_WORDS.get(frozenset(rule.performers), "")
