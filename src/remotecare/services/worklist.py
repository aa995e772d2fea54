"""The care team's worklist: for each open period, what the patient still needs before it closes.

It is the rules' own progress for every period still open on `as_of` (days
with data and days left in a 30-day period; minutes and the interactive
contact in a month), with the next threshold and what that code pays, sorted
so that the most money at risk, soonest lost, comes first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.rules import load_rules
from remotecare.rules.evaluate import evaluate_activities
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
    days_left: int
    progress: dict[str, Any]  # the rules' progress: days_with_data or minutes, and the next threshold
    next_code: str | None
    payment_at_risk_usd: Decimal | None


def worklist(session: Session, practice_id: int, as_of: dt.date) -> list[WorkItem]:
    rules = load_rules()
    window = Window(as_of - dt.timedelta(days=31), as_of)
    evaluation = evaluate_activities(load_facts(session, practice_id, window).activities(), rules=rules, window=window)
    ids = {int(item.patient) for item in evaluation.in_progress}
    names = {
        patient_id: f"{family}, {given}"
        for patient_id, given, family in session.execute(
            select(Patient.id, Patient.given_name, Patient.family_name).where(
                Patient.practice_id == practice_id, Patient.id.in_(ids)
            )
        )
    }
    items = []
    for item in evaluation.in_progress:
        progress = {key: value for key, value in item.progress.items() if key != "rules"}
        next_code = (progress.get("next_threshold") or {}).get("code")
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
                payment_at_risk_usd=None if next_code is None else rules.national_payment(next_code, item.period.end),
            )
        )
    items.sort(key=lambda i: (-(i.payment_at_risk_usd or Decimal(0)), i.days_left, i.patient_name, i.enrollment_id))
    return items
