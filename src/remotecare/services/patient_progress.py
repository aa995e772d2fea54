"""One patient's open periods as the rules see them: the worklist's progress, for the patient's own page.

The same evaluation as `services.worklist` (every enrollment of the patient, the period under way on
`as_of` still open), narrowed by the database to one patient, so that a patient's page costs one patient's
facts rather than the practice's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.rules import RuleBook, load_rules
from remotecare.rules.evaluate import evaluate_activities
from remotecare.rules.forecast import DeviceForecast, MonthForecast, Status
from remotecare.services.billing_facts import load_facts


@dataclass(frozen=True, slots=True)
class OpenPeriod:
    program: str
    period_start: dt.date
    period_end: dt.date
    progress: dict[str, Any]  # the rules' progress: days_with_data or minutes, and the next threshold
    status: Status | None
    deadline: dt.date | None  # days: the next reading by; minutes: the month's last day; None once nothing is due


def open_periods(
    session: Session, practice_id: int, patient_id: int, as_of: dt.date, *, rules: RuleBook | None = None
) -> list[OpenPeriod]:
    """Every period of the patient open on `as_of`, by program and period."""
    rules = rules or load_rules()
    window = Window(as_of - dt.timedelta(days=31), as_of)
    facts = load_facts(session, practice_id, window, (patient_id, patient_id))
    evaluation = evaluate_activities(facts.activities(), rules=rules, window=window, end_under_way=True)
    periods = []
    for item in evaluation.in_progress:
        forecast = item.progress.get("forecast")
        known = forecast if isinstance(forecast, DeviceForecast | MonthForecast) else None
        progress = {key: value for key, value in item.progress.items() if key not in ("rules", "forecast")}
        periods.append(
            OpenPeriod(
                str(item.program),
                item.period.start,
                item.period.end,
                progress,
                None if known is None else known.status,
                None if known is None else known.deadline,
            )
        )
    return sorted(periods, key=lambda period: (period.program, period.progress.get("kind", ""), period.period_start))
