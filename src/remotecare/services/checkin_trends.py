"""A patient's check-in trends: pain and mood over time, adherence by week, and check-in days per period.

Clinically meaningful change, marked on each point:
  pain (NRS 0-10 or PEG-3 mean)  2 points or 30% from the mean of the 7 days before (Farrar et al. 2001,
                                 Pain 94:149), judged by `domain.pain_scales.trend`;
  PHQ-9 total                    5 points from the previous PHQ-9 (Lowe et al. 2004, Med Care 42:1194);
  GAD-7 total                    4 points from the previous GAD-7 (Toussaint et al. 2020, J Affect Disord
                                 265:395, minimal clinically important difference of 4);
  PHQ-2 / GAD-2                  screens: shown, not marked.
Pain reads every stored score of the scale (check-ins, staff entries, devices), as the pain trend does.

Check-in days per 30-day period are counted as the billing run counts them (`billing_facts.load_facts`, the
same query and the same `monitoring_start`): a day counts for RTM only from the check-in app assigned to RTM
and only when the practice qualified the app as the RTM device (`rtm_device_qualifies`, shown with the
counts). Periods start at RTM monitoring start; with no medical device serving RTM there are no billing
periods, and the check-in days are shown per 30 days back from today, none of them counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain import pain_scales
from remotecare.domain.facts import Window
from remotecare.domain.programs import Program
from remotecare.rules.periods import DEVICE_PERIOD_DAYS, device_periods
from remotecare.services.billing_facts import load_facts
from remotecare.services.checkins import DEVICE_KIND, CheckinError, rtm_device_qualifies
from remotecare.store.models import Device, Observation, Patient, Practice

PAIN_TYPES = {"pain_score": "nrs", "peg_score": "score"}
MOOD_TYPES = ("phq2", "phq9", "gad2", "gad7")
MEANINGFUL_MOOD = {"phq9": 5, "gad7": 4}
CHECKIN_SOURCES = ("checkin_web", "checkin_sms")
PAIN_BASELINE_DAYS = 7


@dataclass(frozen=True)
class TrendPoint:
    observation_id: int
    date: dt.date
    value: float
    baseline: float | None  # pain: the 7-day mean before; mood: the previous score
    change: float | None
    meaningful: bool


@dataclass(frozen=True)
class AdherenceWeek:
    start: dt.date
    end: dt.date
    medications_taken: int
    medications_asked: int
    medication_rate: float | None  # taken / asked, to 2 decimals; None when nothing was asked
    exercises_done: int
    exercises_asked: int
    exercise_rate: float | None


@dataclass(frozen=True)
class CheckinPeriod:
    start: dt.date
    end: dt.date
    checkin_days: int  # days with any check-in answer
    counted_days: int  # of them, days the billing run counts for RTM from the check-in app
    all_counted_days: int  # days the billing run counts for RTM from any device (the app included)


@dataclass
class CheckinTrends:
    patient_id: int
    start: dt.date
    end: dt.date
    pain: dict[str, list[TrendPoint]] = field(default_factory=dict)  # by reading type: pain_score, peg_score
    mood: dict[str, list[TrendPoint]] = field(default_factory=dict)  # phq2, phq9, gad2, gad7
    adherence: list[AdherenceWeek] = field(default_factory=list)
    rtm_device_qualifies: bool = False
    rtm_monitoring_start: dt.date | None = None
    periods: list[CheckinPeriod] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def trends(session: Session, practice_id: int, patient_id: int, *, today: dt.date, days: int = 90) -> CheckinTrends:
    """The patient's trends over the `days` days ending `today` (the patient's local days)."""
    if not 1 <= days <= 3650:
        raise CheckinError("days", "must be from 1 to 3650")
    patient = session.scalar(select(Patient).where(Patient.practice_id == practice_id, Patient.id == patient_id))
    practice = session.get(Practice, practice_id)
    if patient is None or practice is None:
        raise CheckinError("patient_id", f"no patient {patient_id} in this practice")
    start = today - dt.timedelta(days=days - 1)
    result = CheckinTrends(patient_id, start, today, rtm_device_qualifies=rtm_device_qualifies(practice))
    rows = _observations(session, practice_id, patient_id, start - dt.timedelta(days=PAIN_BASELINE_DAYS), today)
    result.pain = _pain(rows, start)
    result.mood = _mood(rows, start)
    result.adherence = _adherence(rows, start, today)
    _periods(session, practice_id, patient_id, result)
    return result


def _observations(
    session: Session, practice_id: int, patient_id: int, first: dt.date, last: dt.date
) -> list[tuple[int, str, dt.date, dict[str, Any], str]]:
    types = [*PAIN_TYPES, *MOOD_TYPES, "medication_adherence", "therapy_adherence"]
    rows = session.execute(
        select(Observation.id, Observation.type, Observation.local_date, Observation.values, Observation.source)
        .where(
            Observation.practice_id == practice_id,
            Observation.patient_id == patient_id,
            Observation.type.in_(types),
            Observation.local_date >= first,
            Observation.local_date <= last,
        )
        .order_by(Observation.effective_at, Observation.id)
    )
    return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _pain(rows: list[tuple[int, str, dt.date, dict[str, Any], str]], start: dt.date) -> dict[str, list[TrendPoint]]:
    series: dict[str, list[TrendPoint]] = {}
    for reading_type, headline in PAIN_TYPES.items():
        every = [
            (i, day, v)
            for i, t, day, values, _ in rows
            if t == reading_type and (v := _number(values.get(headline))) is not None
        ]
        points = []
        for index, (observation_id, day, value) in enumerate(every):
            if day < start:
                continue
            judged = pain_scales.trend([(d, v) for _, d, v in every[: index + 1]], baseline_days=PAIN_BASELINE_DAYS)
            points.append(TrendPoint(observation_id, day, value, judged.baseline, judged.change, judged.meaningful))
        if points:
            series[reading_type] = points
    return series


def _mood(rows: list[tuple[int, str, dt.date, dict[str, Any], str]], start: dt.date) -> dict[str, list[TrendPoint]]:
    series: dict[str, list[TrendPoint]] = {}
    for instrument in MOOD_TYPES:
        points: list[TrendPoint] = []
        previous: float | None = None
        for observation_id, reading_type, day, values, _ in rows:
            total = _number(values.get("total"))
            if reading_type != instrument or total is None or day < start:
                continue
            change = None if previous is None else total - previous
            limit = MEANINGFUL_MOOD.get(instrument)
            meaningful = change is not None and limit is not None and abs(change) >= limit
            points.append(TrendPoint(observation_id, day, total, previous, change, meaningful))
            previous = total
        if points:
            series[instrument] = points
    return series


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 2) if denominator else None


def _adherence(
    rows: list[tuple[int, str, dt.date, dict[str, Any], str]], start: dt.date, end: dt.date
) -> list[AdherenceWeek]:
    """Weeks of 7 days from `start` (the last may be shorter): yes answers over questions asked."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for _, reading_type, day, values, _ in rows:
        if day < start or reading_type not in ("medication_adherence", "therapy_adherence"):
            continue
        taken = values.get("taken") is True
        slot = counts[(day - start).days // 7]
        offset = 0 if reading_type == "medication_adherence" else 2
        slot[offset] += taken
        slot[offset + 1] += 1
    weeks = []
    week_start = start
    index = 0
    while week_start <= end:
        week_end = min(week_start + dt.timedelta(days=6), end)
        med_taken, med_asked, ex_done, ex_asked = counts.get(index, [0, 0, 0, 0])
        weeks.append(
            AdherenceWeek(
                week_start,
                week_end,
                med_taken,
                med_asked,
                _rate(med_taken, med_asked),
                ex_done,
                ex_asked,
                _rate(ex_done, ex_asked),
            )
        )
        week_start, index = week_end + dt.timedelta(days=1), index + 1
    return weeks


def _periods(session: Session, practice_id: int, patient_id: int, result: CheckinTrends) -> None:
    """Check-in days per 30-day period, with the days the billing run counts (its own facts and start)."""
    device_serials = set(
        session.scalars(
            select(Device.serial).where(
                Device.practice_id == practice_id,
                Device.kind == DEVICE_KIND,
                Device.serial == f"checkin-app-{patient_id}",
            )
        )
    )
    checkin_days = set(
        session.scalars(
            select(Observation.local_date)
            .distinct()
            .where(
                Observation.practice_id == practice_id,
                Observation.patient_id == patient_id,
                Observation.source.in_(CHECKIN_SOURCES),
                Observation.local_date <= result.end,
            )
        )
    )
    facts = load_facts(session, practice_id, Window(result.start, result.end), patient_ids=[patient_id])
    rtm = [a for a in facts.activities() if a.enrollment.program is Program.RTM and a.monitoring_start is not None]
    for activity in rtm:
        assert activity.monitoring_start is not None
        result.rtm_monitoring_start = activity.monitoring_start
        for period in device_periods(activity.monitoring_start, activity.enrollment.end, through=result.end):
            if period.end < result.start:
                continue
            days = [day for day in activity.data_days if period.contains(day)]
            from_app = [
                day for day in days if any(name.split("#")[0] in device_serials for name in activity.data_days[day])
            ]
            in_period = sum(1 for day in checkin_days if period.contains(day))
            result.periods.append(CheckinPeriod(period.start, period.end, in_period, len(from_app), len(days)))
    if result.periods:
        result.note = (
            "Check-in days count for RTM device supply."
            if result.rtm_device_qualifies
            else "The practice has not qualified its check-in app as the RTM device: check-in days are not counted."
        )
        return
    result.note = (
        "No RTM monitoring period: no medical device serves an RTM enrollment"
        + (
            ""
            if result.rtm_device_qualifies
            else " (the practice has not qualified its check-in app as the RTM device)"
        )
        + "; check-in days are shown per 30 days back from today, none counted."
    )
    period_end = result.end
    while period_end >= result.start:
        period_start = max(period_end - dt.timedelta(days=DEVICE_PERIOD_DAYS - 1), result.start)
        in_period = sum(1 for day in checkin_days if period_start <= day <= period_end)
        result.periods.insert(0, CheckinPeriod(period_start, period_end, in_period, 0, 0))
        period_end = period_start - dt.timedelta(days=1)
