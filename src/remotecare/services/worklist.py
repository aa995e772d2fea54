"""The care team's worklist: for each open period, what the patient still needs before it closes.

It is the rules' own progress for every period still open on `as_of` (days
with data and days left in a 30-day period; minutes and the interactive
contact in a month) with its forecast: whether the period can still reach its
threshold and by when (see `remotecare.rules.forecast`). `as_of` is the day
under way, so a period whose last day it is is still listed. What is about to
be lost comes first: by status (at risk, short code only, on track, missed,
met), then the most payment at risk, then the soonest deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.rules import RuleBook, load_rules
from remotecare.rules.evaluate import evaluate_activities
from remotecare.rules.forecast import URGENCY, DeviceForecast, MonthForecast, Status
from remotecare.services.billing_facts import load_facts
from remotecare.store.models import Patient


@dataclass(frozen=True, slots=True)
class WorkItem:
    patient_id: int
    patient_name: str
    enrollment_id: int
    program: str
    period_start: dt.date
    period_end: dt.date
    days_left: int  # days of the period after as_of
    progress: dict[str, Any]  # the rules' progress: days_with_data or minutes, and the next threshold
    next_code: str | None
    payment_at_risk_usd: Decimal | None
    status: Status | None  # the forecast's; None: the program has no code for the period
    deadline: dt.date | None  # days: the next reading by; minutes: the month's last day; None once nothing is due
    deadline_utc: dt.datetime | None  # when that day ends where the patient is
    forecast: DeviceForecast | MonthForecast | None


def worklist(
    session: Session,
    practice_id: int,
    as_of: dt.date,
    *,
    statuses: Collection[Status] | None = None,
    program: Program | None = None,
    rules: RuleBook | None = None,
) -> list[WorkItem]:
    """Every period open on `as_of`, or only those with one of `statuses` and of `program`."""
    rules = rules or load_rules()
    window = Window(as_of - dt.timedelta(days=31), as_of)
    # Every enrollment is evaluated, whatever the filter: RPM and RTM periods depend on each other.
    evaluation = evaluate_activities(
        load_facts(session, practice_id, window).activities(), rules=rules, window=window, end_under_way=True
    )
    open_periods = [
        item
        for item in evaluation.in_progress
        if (program is None or item.program == program) and (statuses is None or _status(item.progress) in statuses)
    ]
    ids = {int(item.patient) for item in open_periods}
    names = {
        patient_id: f"{family}, {given}"
        for patient_id, given, family in session.execute(
            select(Patient.id, Patient.given_name, Patient.family_name).where(
                Patient.practice_id == practice_id, Patient.id.in_(ids)
            )
        )
    }
    items = []
    for item in open_periods:
        progress = {key: value for key, value in item.progress.items() if key not in ("rules", "forecast")}
        forecast = _forecast(item.progress)
        next_code = (progress.get("next_threshold") or {}).get("code")
        # What the period can still earn: for days, the forecast's code (a short code once 16 is out of
        # reach, none once nothing is); for minutes, the nearest threshold.
        at_stake = forecast.code if isinstance(forecast, DeviceForecast) else next_code
        items.append(
            WorkItem(
                patient_id=int(item.patient),
                patient_name=names.get(int(item.patient), ""),
                enrollment_id=int(item.enrollment),
                program=str(item.program),
                period_start=item.period.start,
                period_end=item.period.end,
                days_left=int(progress.get("days_left", 0)),
                progress=progress,
                next_code=next_code,
                payment_at_risk_usd=None if at_stake is None else rules.national_payment(at_stake, item.period.end),
                status=None if forecast is None else forecast.status,
                deadline=None if forecast is None else forecast.deadline,
                deadline_utc=None if forecast is None else forecast.deadline_utc,
                forecast=forecast,
            )
        )
    items.sort(key=_urgency)
    return items


def _forecast(progress: Any) -> DeviceForecast | MonthForecast | None:
    forecast = progress.get("forecast")
    return forecast if isinstance(forecast, DeviceForecast | MonthForecast) else None


def _status(progress: Any) -> Status | None:
    forecast = _forecast(progress)
    return None if forecast is None else forecast.status


def _urgency(item: WorkItem) -> tuple[Any, ...]:
    return (
        len(URGENCY) if item.status is None else URGENCY[item.status],
        -(item.payment_at_risk_usd or Decimal(0)),
        item.deadline or dt.date.max,
        item.days_left,
        item.patient_name,
        item.enrollment_id,
    )
