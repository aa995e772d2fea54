"""The care team's worklist: for each open period, what the patient still needs before it closes.

It is the rules' own progress for every period still open on `as_of` (days
with data and days left in a 30-day period; minutes and the interactive
contact in a month) with its forecast: whether the period can still reach its
threshold and by when (see `remotecare.rules.forecast`). `as_of` is the day
under way, so a period whose last day it is is still listed. What is about to
be lost comes first: by status (at risk, short code only, on track, missed,
met), then the most payment at risk, then the soonest deadline.

Only the periods open on `as_of` are evaluated, from the readings and minutes since the earliest day one of
them can start (`rules.periods.open_period_floor`): an open period's progress carries nothing over from
the episode's earlier periods, so they are not replayed. Each patient's items are kept between requests
(`services.worklist_cache`) and made again only when that patient's records change, so a request costs
one fingerprint query over the practice's patients plus the evaluation of those whose records changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.rules import RuleBook, load_rules
from remotecare.rules.evaluate import evaluate_activities
from remotecare.rules.forecast import URGENCY, DeviceForecast, MonthForecast, Status
from remotecare.rules.periods import open_period_floor
from remotecare.rules.results import InProgress
from remotecare.services.billing_facts import load_facts
from remotecare.services.worklist_cache import WorklistCache
from remotecare.store.batches import chunks
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


SHARED_CACHE: WorklistCache[WorkItem] = WorklistCache()


def worklist(
    session: Session,
    practice_id: int,
    as_of: dt.date,
    *,
    statuses: Collection[Status] | None = None,
    program: Program | None = None,
    care_manager_id: int | None = None,
    rules: RuleBook | None = None,
    cache: WorklistCache[WorkItem] | None = SHARED_CACHE,
) -> list[WorkItem]:
    """Every period open on `as_of`, or only those with one of `statuses`, of `program` and of the patients
    whose care manager is `care_manager_id`.

    With a `cache` (this process's shared one by default), only the patients whose records changed since
    the last request for the practice and day are evaluated again (see `services.worklist_cache`); with
    None, every patient is."""
    rules = rules or load_rules()
    if cache is None:
        by_patient: Mapping[int, Sequence[WorkItem]] = open_work(
            session, practice_id, as_of, rules, care_manager_id=care_manager_id
        )
    else:
        by_patient = cache.items(
            session,
            practice_id,
            as_of,
            rules,
            partial(open_work, as_of=as_of, rules=rules),
            care_manager_id=care_manager_id,
        )
    items = [
        item
        for patient_items in by_patient.values()
        for item in patient_items
        if (program is None or item.program == program) and (statuses is None or item.status in statuses)
    ]
    items.sort(key=_urgency)
    return items


def open_work(
    session: Session,
    practice_id: int,
    as_of: dt.date,
    rules: RuleBook,
    *,
    care_manager_id: int | None = None,
    patient_ids: Collection[int] | None = None,
) -> dict[int, list[WorkItem]]:
    """The items of every period open on `as_of`, by patient: of the practice's patients, or of the care
    manager's, or of `patient_ids` (at most `IN_LIST`).

    Every enrollment of a patient listed is evaluated, whatever the filter: RPM and RTM periods depend on
    each other; patients do not. Only the open periods are evaluated, from the days they need."""
    window = Window(as_of - dt.timedelta(days=31), as_of)
    facts = load_facts(
        session,
        practice_id,
        window,
        care_manager_id=care_manager_id,
        patient_ids=patient_ids,
        data_since=open_period_floor(as_of),
    )
    evaluation = evaluate_activities(
        facts.activities(), rules=rules, window=window, end_under_way=True, only_in_progress=True
    )
    return work_items(session, practice_id, evaluation.in_progress, rules)


def work_items(
    session: Session, practice_id: int, in_progress: Sequence[InProgress], rules: RuleBook
) -> dict[int, list[WorkItem]]:
    """The rules' periods in progress as the worklist shows them, by patient, in the rules' order."""
    ids = sorted({int(item.patient) for item in in_progress})
    names: dict[int, str] = {}
    for chunk in chunks(ids):
        names.update(
            (patient_id, f"{family}, {given}")
            for patient_id, given, family in session.execute(
                select(Patient.id, Patient.given_name, Patient.family_name).where(
                    Patient.practice_id == practice_id, Patient.id.in_(chunk)
                )
            )
        )
    items: dict[int, list[WorkItem]] = {}
    for item in in_progress:
        progress = {key: value for key, value in item.progress.items() if key not in ("rules", "forecast")}
        forecast = _forecast(item.progress)
        next_code = (progress.get("next_threshold") or {}).get("code")
        # What the period can still earn: for days, the forecast's code (a short code once 16 is out of
        # reach, none once nothing is); for minutes, the nearest threshold.
        at_stake = forecast.code if isinstance(forecast, DeviceForecast) else next_code
        items.setdefault(int(item.patient), []).append(
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
    return items


def _forecast(progress: Any) -> DeviceForecast | MonthForecast | None:
    forecast = progress.get("forecast")
    return forecast if isinstance(forecast, DeviceForecast | MonthForecast) else None


def _urgency(item: WorkItem) -> tuple[Any, ...]:
    return (
        len(URGENCY) if item.status is None else URGENCY[item.status],
        -(item.payment_at_risk_usd or Decimal(0)),
        item.deadline or dt.date.max,
        item.days_left,
        item.patient_name,
        item.enrollment_id,
    )
