"""Device programs (RPM, RTM): set-up, device supply and 99091 per 30-day period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from remotecare.domain.programs import Enrollment
from remotecare.domain.time_entries import Performer
from remotecare.rules.counting import EnrollmentActivity
from remotecare.rules.eligibility import has_covid, program_blocker
from remotecare.rules.evidence import day_evidence, entry_evidence
from remotecare.rules.judging import Judgement
from remotecare.rules.reasons import Reason
from remotecare.rules.results import Outcome
from remotecare.rules.schema import CodeRule, Role, RuleSet
from remotecare.rules.settings import PracticeSettings

PHYSICIAN_TIME = frozenset({Performer.PHYSICIAN, Performer.QHP})


@dataclass(slots=True)
class EpisodeState:
    """Carried from one period to the next: set-up is billed once per episode."""

    setup_billed: tuple[str, dt.date] | None = None

    @property
    def settled(self) -> bool:
        """Nothing a later period judges can change any more."""
        return self.setup_billed is not None


def judge_device_period(
    judgement: Judgement,
    *,
    state: EpisodeState,
    rivals: Sequence[Enrollment],
    settings: PracticeSettings,
) -> Outcome:
    activity = judgement.activity
    program = activity.enrollment.program
    supply = _device_supply_codes(judgement.rules, activity)
    setup = judgement.rules.codes_of(program, Role.SETUP)
    interpretation = judgement.rules.codes_of(program, Role.INTERPRETATION)
    every_code = [code for code, _ in supply + setup + interpretation]

    if not supply:
        _explain_missing_supply_code(judgement)
    blocker = program_blocker(judgement, rivals)
    if blocker is not None:
        judgement.refuse_all(every_code, blocker.reason, **blocker.facts)
        return judgement.outcome

    days = days_in(activity, judgement)
    chosen = _bill_device_supply(judgement, supply, days)
    for code, rule in setup:
        _judge_setup(judgement, code, rule, days, chosen=chosen, state=state)
    for code, rule in interpretation:
        _judge_interpretation(judgement, code, rule, settings)
    return judgement.outcome


def _explain_missing_supply_code(judgement: Judgement) -> None:
    """An RTM enrollment without a focus, or a focus with no code that year (CBT before 2023)."""
    enrollment = judgement.activity.enrollment
    if enrollment.focus is None:
        judgement.refuse(None, Reason.NO_FOCUS)
        return
    judgement.refuse(
        None,
        Reason.NO_DEVICE_SUPPLY_CODE,
        year=judgement.rules.year,
        program=enrollment.program,
        focus=enrollment.focus,
    )


def days_in(activity: EnrollmentActivity, judgement: Judgement) -> list[dt.date]:
    start, end = judgement.period.start, judgement.period.end  # compared inline: called for every period
    return sorted(day for day in activity.data_days if start <= day <= end)


def min_days(judgement: Judgement, code: str, rule: CodeRule) -> int:
    """The code's day threshold, lowered for COVID-19 patients during the PHE (policy rule 10)."""
    assert rule.min_days is not None
    emergency = judgement.rules.public_health_emergency
    if (
        emergency is not None
        and code in emergency.covid_codes
        and emergency.covers(judgement.period.end)
        and has_covid(judgement.activity.patient, judgement.rules)
    ):
        return min(rule.min_days, emergency.covid_min_days)
    return rule.min_days


def _device_supply_codes(rules: RuleSet, activity: EnrollmentActivity) -> list[tuple[str, CodeRule]]:
    """Device-supply codes for this enrollment's focus, the most days first."""
    focus = activity.enrollment.focus
    codes = [
        (code, rule)
        for code, rule in rules.codes_of(activity.enrollment.program, Role.DEVICE_SUPPLY)
        if rule.focus is None or rule.focus == focus
    ]
    return sorted(codes, key=lambda item: -(item[1].min_days or 0))


def _bill_device_supply(judgement: Judgement, supply: list[tuple[str, CodeRule]], days: list[dt.date]) -> str | None:
    """One device-supply code per period, whichever's day range holds the count (policy rule 9)."""
    count = len(days)
    chosen = next(
        (code for code, rule in supply if min_days(judgement, code, rule) <= count <= (rule.max_days or 30)),
        None,
    )
    for code, rule in supply:
        if code == chosen:
            judgement.bill(code, 1, day_evidence(judgement.activity, days))
        elif chosen is not None:
            judgement.refuse(code, Reason.ALTERNATIVE_BILLED, other=chosen, span="30-day period")
        else:
            needed = min_days(judgement, code, rule)
            judgement.refuse(code, Reason.NOT_ENOUGH_DAYS, days=count, code=code, needed=needed)
    return chosen


def _judge_setup(
    judgement: Judgement,
    code: str,
    rule: CodeRule,
    days: list[dt.date],
    *,
    chosen: str | None,
    state: EpisodeState,
) -> None:
    """Once per episode, with the first device-supply line actually billed (policy rule 8)."""
    if state.setup_billed is not None:
        billed_code, billed_on = state.setup_billed
        judgement.refuse(code, Reason.SETUP_ALREADY_BILLED, code=billed_code, billed_on=billed_on)
        return
    if chosen is None:
        judgement.refuse(code, Reason.SETUP_WITHOUT_DEVICE_SUPPLY)
        return
    needed = min_days(judgement, code, rule)
    if len(days) < needed:
        judgement.refuse(code, Reason.NOT_ENOUGH_DAYS, days=len(days), code=code, needed=needed)
        return
    judgement.bill(code, 1, {**day_evidence(judgement.activity, days), "with_device_supply": chosen})
    state.setup_billed = (code, judgement.period.end)


def _judge_interpretation(judgement: Judgement, code: str, rule: CodeRule, settings: PracticeSettings) -> None:
    """99091 only where the practice chose it; then RPM physician minutes go to it (policy rule 20)."""
    if not settings.allows(rule.requires_setting):
        judgement.refuse(code, Reason.PRACTICE_SETTING)
        return
    entries = [
        entry
        for entry in judgement.activity.time_entries
        if judgement.period.contains(entry.date) and entry.performer in rule.performers
    ]
    minutes = sum(entry.minutes for entry in entries)
    assert rule.minutes is not None
    if minutes < rule.minutes:
        judgement.refuse(
            code,
            Reason.NOT_ENOUGH_MINUTES,
            minutes=minutes,
            needed=rule.minutes,
            unit_of="",
            code=code,
            performers=" of physician or QHP time",
        )
        return
    judgement.bill(code, 1, {"minutes": minutes, "time_entries": [entry_evidence(entry) for entry in entries]})
