"""What a period still open at the evaluation's end has, still needs, and can still reach (its forecast).

`under_way` says whether the evaluation's last day (`as_of`) is still open for data and minutes (the
worklist and outreach, during the day) or over (billing through it): the forecast then starts the day after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from remotecare.rules.counting import EnrollmentActivity
from remotecare.rules.device_codes import days_in, min_days
from remotecare.rules.forecast import DAY, MinuteCode, device_forecast, month_forecast
from remotecare.rules.judging import Judgement
from remotecare.rules.results import InProgress
from remotecare.rules.schema import Role
from remotecare.rules.settings import PracticeSettings
from remotecare.rules.time_codes import month_entries, time_codes


def device_progress(judgement: Judgement, *, as_of: dt.date, under_way: bool = False) -> InProgress:
    """Days so far in the open 30-day period, the full threshold and the next one to reach."""
    activity = judgement.activity
    so_far = [day for day in days_in(activity, judgement) if day <= as_of]
    count = len(so_far)
    thresholds = sorted(
        (min_days(judgement, code, rule), code)
        for code, rule in judgement.rules.codes_of(activity.enrollment.program, Role.DEVICE_SUPPLY)
        if rule.focus is None or rule.focus == activity.enrollment.focus
    )
    upcoming = [(days, code) for days, code in thresholds if days > count]
    progress: dict[str, Any] = {
        "kind": "days_with_data",
        "days_with_data": count,
        "days_needed": thresholds[-1][0] if thresholds else None,
        "next_threshold": {"code": upcoming[0][1], "days": upcoming[0][0]} if upcoming else None,
        "days_left": (judgement.period.end - as_of).days,
        "forecast": device_forecast(
            days_with_data=count,
            read_on_as_of=under_way and as_of in so_far,
            as_of=as_of if under_way else as_of + DAY,
            period_end=judgement.period.end,
            thresholds=[(code, needed) for needed, code in thresholds],
            timezone=activity.patient.timezone,
        ),
    }
    return _in_progress(activity, judgement, progress)


def month_progress(
    judgement: Judgement, *, as_of: dt.date, settings: PracticeSettings, under_way: bool = False
) -> InProgress:
    """Minutes so far this month, whether the interactive contact happened, and the next threshold."""
    activity = judgement.activity
    entries = [entry for entry in month_entries(judgement, settings) if entry.date <= as_of]
    options: list[tuple[int, str, int]] = []  # (minutes still to go, code, threshold)
    primaries: list[MinuteCode] = []
    codes = time_codes(judgement)
    for code, rule in codes:
        if rule.complex_only and not activity.enrollment.complex:
            continue
        assert rule.minutes is not None
        counted = sum(entry.minutes for entry in entries if entry.performer in rule.performers)
        performers = frozenset(str(performer) for performer in rule.performers)
        primaries.append(MinuteCode(code, rule.minutes, counted, performers, rule.interactive_communication))
        threshold = rule.minutes
        if counted >= threshold:
            for add_on, add_rule in judgement.rules.add_ons_of(code):
                assert add_rule.each_additional_minutes is not None
                step = add_rule.each_additional_minutes
                threshold = rule.minutes + step * ((counted - rule.minutes) // step + 1)
                options.append((threshold - counted, add_on, threshold))
            continue
        options.append((threshold - counted, code, threshold))
    first = next((rule for _, rule in codes if not rule.complex_only or activity.enrollment.complex), None)
    contact = any(entry.interactive for entry in entries)
    nearest = min(options) if options else None
    progress: dict[str, Any] = {
        "kind": "minutes",
        "minutes": sum(entry.minutes for entry in entries),
        "minutes_needed": first.minutes if first else None,
        "interactive_contact": contact,
        "interactive_required": any(rule.interactive_communication for _, rule in codes),
        "next_threshold": None if nearest is None else {"code": nearest[1], "minutes": nearest[2]},
        "days_left": (judgement.period.end - as_of).days,
        "forecast": month_forecast(
            codes=primaries,
            interactive_contact=contact,
            next_threshold=None if nearest is None else (nearest[1], nearest[0]),
            as_of=as_of if under_way else as_of + DAY,
            month_end=judgement.period.end,
            timezone=activity.patient.timezone,
        ),
    }
    return _in_progress(activity, judgement, progress)


def _in_progress(activity: EnrollmentActivity, judgement: Judgement, progress: dict[str, Any]) -> InProgress:
    return InProgress(
        patient=activity.patient.id,
        enrollment=activity.enrollment.id,
        program=activity.enrollment.program,
        period=judgement.period,
        progress={**progress, "rules": judgement.rules.title},
    )
