"""The pure evaluation: facts in, billable lines and reasons out. No database, web or clock."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from remotecare.domain.facts import CareFacts, Window
from remotecare.domain.programs import Enrollment, Program
from remotecare.rules.counting import DEVICE_PROGRAMS, EnrollmentActivity, build_activities
from remotecare.rules.device_codes import EpisodeState, judge_device_period
from remotecare.rules.eligibility import Blocker, winning_rivals
from remotecare.rules.judging import Judgement
from remotecare.rules.load import RuleBook
from remotecare.rules.periods import BillingPeriod, calendar_months, device_periods
from remotecare.rules.progress import device_progress, month_progress
from remotecare.rules.reasons import Reason
from remotecare.rules.results import Evaluation, NotBilled, Outcome
from remotecare.rules.settings import PracticeSettings
from remotecare.rules.time_codes import MonthState, judge_month

BilledMonths = dict[tuple[str, Program, str], str]  # (patient, program, month) -> enrollment


@dataclass(frozen=True, slots=True)
class _Scope:
    """What one evaluation asks, shared by every enrollment it judges (see `evaluate_activities`)."""

    rules: RuleBook
    window: Window
    settings: PracticeSettings
    end_under_way: bool
    only_in_progress: bool
    open_periods: bool
    yielded_to: frozenset[Program]  # programs another gives way to in a month


def evaluate(
    facts: CareFacts,
    *,
    rules: RuleBook,
    window: Window,
    settings: PracticeSettings | None = None,
    end_under_way: bool = False,
) -> Evaluation:
    """Judge every period that ends within the window by the rules in force on its date of service."""
    return evaluate_activities(
        build_activities(facts), rules=rules, window=window, settings=settings, end_under_way=end_under_way
    )


def evaluate_activities(
    activities: Iterable[EnrollmentActivity],
    *,
    rules: RuleBook,
    window: Window,
    settings: PracticeSettings | None = None,
    end_under_way: bool = False,
    only_in_progress: bool = False,
    open_periods: bool = True,
) -> Evaluation:
    """With `end_under_way`, the window's last day is still going on: a period ending on it is reported in
    progress (its forecast counting that day open for data and minutes) instead of judged. The worklist and
    outreach ask for it during the day; billing never does, as it bills periods whose last day is over.

    With `only_in_progress`, nothing is judged: only the periods still open at the window's end are
    reported (no lines, no reasons), the same ones a full evaluation reports in progress. An open period's
    progress is its own days and minutes against the rules; nothing carried from earlier periods (set-up
    billed once, a month already billed) enters it, so the earlier periods are not replayed, and facts from
    `open_period_floor(window.end)` on are enough.

    With `open_periods=False`, the periods still open are passed over rather than measured: a billing run
    bills closed periods only and has no use for their progress."""
    activities = list(activities)
    rivals = winning_rivals(activity.enrollment for activity in activities)
    yielding = {
        program
        for year in rules.years
        for program, program_rule in rules.for_year(year).programs.items()
        if program_rule.yields_month_to
    }
    # Programs that give way to another in a month are judged after it (CCM before PCM).
    ordered = sorted(
        activities,
        key=lambda a: (a.enrollment.program in yielding, a.enrollment.start, a.enrollment.id),
    )
    episodes: dict[tuple[str, Program], list[EnrollmentActivity]] = defaultdict(list)
    for activity in activities:
        episodes[(activity.patient.id, activity.enrollment.program)].append(activity)
    scope = _Scope(
        rules,
        window,
        settings or PracticeSettings(),
        end_under_way,
        only_in_progress,
        open_periods,
        frozenset(
            other
            for year in rules.years
            for program_rule in rules.for_year(year).programs.values()
            for other in program_rule.yields_month_to
        ),
    )
    billed_months: BilledMonths = {}
    outcome = Outcome()
    for activity in ordered:
        mine = rivals[activity.enrollment.id]
        if activity.enrollment.program in DEVICE_PROGRAMS:
            outcome.extend(_judge_device_periods(activity, mine, scope))
        siblings = episodes[(activity.patient.id, activity.enrollment.program)]
        outcome.extend(_judge_months(activity, siblings, mine, scope, billed_months))
    return Evaluation(
        rules=rules.nearest(window.end).title,
        lines=tuple(sorted(outcome.lines, key=lambda line: line.sort_key())),
        not_billed=tuple(sorted(outcome.not_billed, key=lambda item: item.sort_key())),
        in_progress=tuple(sorted(outcome.in_progress, key=lambda item: item.sort_key())),
    )


def _judge_device_periods(activity: EnrollmentActivity, rivals: Sequence[Enrollment], scope: _Scope) -> Outcome:
    outcome = Outcome()
    enrollment = activity.enrollment
    window, end_under_way, only_in_progress = scope.window, scope.end_under_way, scope.only_in_progress
    if activity.monitoring_start is None:
        span = _enrollment_span_in(enrollment, window)
        if span is not None and not only_in_progress:
            outcome.not_billed.append(_not_billed(activity, span, Reason.NO_MEDICAL_DEVICE, program=enrollment.program))
        return outcome
    state = EpisodeState()
    # Every period before the one that holds the window's last day is over by then.
    from_day = window.end if only_in_progress else None
    for period in device_periods(activity.monitoring_start, enrollment.end, through=window.end, from_day=from_day):
        if only_in_progress and _closed(period, window, end_under_way):
            continue
        if period.end < window.start and (state.settled or not _has_facts(activity, period)):
            continue  # replayed only for what it carries forward, and it carries nothing
        judgement = _judgement(activity, period, scope, outcome)
        if judgement is None:
            continue
        if not _closed(period, window, end_under_way):
            if scope.open_periods:
                outcome.in_progress.append(device_progress(judgement, as_of=window.end, under_way=end_under_way))
            break
        judge_device_period(judgement, state=state, rivals=rivals, settings=scope.settings)
        if period.end >= window.start:
            outcome.extend(judgement.outcome)
    return outcome


def _judge_months(
    activity: EnrollmentActivity,
    siblings: Sequence[EnrollmentActivity],
    rivals: Sequence[Enrollment],
    scope: _Scope,
    billed_months: BilledMonths,
) -> Outcome:
    outcome = Outcome()
    enrollment = activity.enrollment
    window, end_under_way, only_in_progress = scope.window, scope.end_under_way, scope.only_in_progress
    last = min(enrollment.end or window.end, window.end)
    state = MonthState()
    # When another program gives way to this one, every month this one bills must be known, even one
    # before the window; otherwise a month before the window is judged only for what it carries forward.
    yielded_to = enrollment.program in scope.yielded_to
    if only_in_progress:  # every month before the window's last one is over by then
        first = max(enrollment.start, window.end.replace(day=1))
    else:  # no month before the first minutes can bill
        earliest = min((entry.date for sibling in siblings for entry in sibling.time_entries), default=window.start)
        first = max(enrollment.start, min(earliest, window.start))
    for month in calendar_months(first, last):
        if only_in_progress and _closed(month, window, end_under_way):
            continue
        before_window = month.end < window.start
        if before_window and not any(_has_minutes(sibling, month) for sibling in siblings):
            continue  # nothing is billed without minutes, so the month carries nothing forward
        judgement = _judgement(activity, month, scope, outcome)
        if judgement is None or not judgement.program_rule.time_codes_in_order:
            continue
        if before_window and not yielded_to and not state.may_change(judgement):
            continue  # its lines are not reported, and no later month depends on them
        owner = _month_owner(siblings, month)
        if owner is not activity:
            if only_in_progress:
                continue
            # One month, one judgement: the program's latest episode in it takes every minute.
            if window.start <= month.end <= window.end:
                judgement.refuse(
                    None, Reason.MONTH_JUDGED_UNDER_OTHER_EPISODE, month=month.month, other=owner.enrollment.id
                )
                outcome.extend(judgement.outcome)
            continue
        judgement.activity = _with_minutes_of(activity, siblings, month)
        if not _closed(month, window, end_under_way):
            if scope.open_periods:
                progress = month_progress(judgement, as_of=window.end, settings=scope.settings, under_way=end_under_way)
                outcome.in_progress.append(progress)
            break
        blocker = _month_blocker(activity, month, judgement, billed_months)
        judge_month(judgement, state=state, rivals=rivals, settings=scope.settings, month_blocker=blocker)
        if judgement.outcome.lines:
            billed_months[(activity.patient.id, enrollment.program, month.month)] = enrollment.id
        if month.end >= window.start:
            outcome.extend(judgement.outcome)
    return outcome


def _has_facts(activity: EnrollmentActivity, period: BillingPeriod) -> bool:
    """Data or minutes in the period: every threshold of the rules is at least one day or minute (the
    schema's bounds), so a period without either bills nothing."""
    start, end = period.start, period.end
    return any(start <= day <= end for day in activity.data_days) or _has_minutes(activity, period)


def _has_minutes(activity: EnrollmentActivity, period: BillingPeriod) -> bool:
    start, end = period.start, period.end
    return any(start <= entry.date <= end for entry in activity.time_entries)


def _month_blocker(
    activity: EnrollmentActivity, month: BillingPeriod, judgement: Judgement, billed_months: BilledMonths
) -> Blocker | None:
    """A month already taken: by another program this one yields to, or by an earlier enrollment."""
    patient, program = activity.patient.id, activity.enrollment.program
    for other in judgement.program_rule.yields_month_to:
        if (patient, other, month.month) in billed_months:
            return Blocker(Reason.YIELDS_TO_PROGRAM, {"other": other, "month": month.month, "program": program})
    return None


def _month_owner(siblings: Sequence[EnrollmentActivity], month: BillingPeriod) -> EnrollmentActivity:
    in_month = [s for s in siblings if s.enrollment.overlaps(month.start, month.end)]
    return max(in_month, key=lambda s: (s.enrollment.start, s.enrollment.id))


def _with_minutes_of(
    owner: EnrollmentActivity, siblings: Sequence[EnrollmentActivity], month: BillingPeriod
) -> EnrollmentActivity:
    """The owner of a month shared by two episodes counts the minutes of both (policy rule 1)."""
    if len(siblings) == 1:
        return owner
    entries = sorted(
        {entry for sibling in siblings for entry in sibling.time_entries if month.contains(entry.date)},
        key=lambda e: (e.date, e.performer, e.minutes, e.interactive, e.id or ""),
    )
    return dataclasses.replace(owner, time_entries=tuple(entries))


def _closed(period: BillingPeriod, window: Window, end_under_way: bool) -> bool:
    """Judged, not in progress: its last day is over (before the window's end, or on it unless under way)."""
    return period.end < window.end or (period.end == window.end and not end_under_way)


def _judgement(
    activity: EnrollmentActivity, period: BillingPeriod, scope: _Scope, outcome: Outcome
) -> Judgement | None:
    """The frame for one period, or None (with the reason recorded) when no rules apply."""
    rules, window = scope.rules, scope.window
    closed = _closed(period, window, scope.end_under_way)
    # A period still open is measured against the rules that will judge it (policy rule 6).
    rule_set = rules.in_force(period.end) if closed else rules.nearest(period.end)
    reportable = closed and window.start <= period.end
    program = activity.enrollment.program
    if rule_set is None:
        if reportable:
            outcome.not_billed.append(_not_billed(activity, period, Reason.NO_RULES, year=period.end.year))
        return None
    program_rule = rule_set.programs.get(program)
    if program_rule is None:
        if reportable:
            outcome.not_billed.append(
                _not_billed(activity, period, Reason.PROGRAM_NOT_IN_RULES, program=program, year=rule_set.year)
            )
        return None
    return Judgement(activity=activity, rules=rule_set, program_rule=program_rule, period=period)


def _enrollment_span_in(enrollment: Enrollment, window: Window) -> BillingPeriod | None:
    start = max(enrollment.start, window.start)
    end = min(enrollment.end or window.end, window.end)
    return BillingPeriod(start, end) if start <= end else None


def _not_billed(activity: EnrollmentActivity, period: BillingPeriod, reason: Reason, **facts: object) -> NotBilled:
    return NotBilled(
        patient=activity.patient.id,
        enrollment=activity.enrollment.id,
        program=activity.enrollment.program,
        code=None,
        period=period,
        reason=reason,
        facts=facts,
    )
