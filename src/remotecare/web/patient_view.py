"""What a patient's page shows, read in a fixed handful of queries: who the patient is, their programs,
readings charted with the alert thresholds in force, pain and adherence, this month's time, the care
plan and the open alerts. Nothing here writes; the route records in the audit trail what was shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain.alert_rules import DEFAULT_RULES
from remotecare.domain.pain_scales import PainScale
from remotecare.domain.programs import Program
from remotecare.services import pain_assessments
from remotecare.services.alerting import thresholds
from remotecare.services.care_plans import plan_problems
from remotecare.services.patient_progress import OpenPeriod, open_periods
from remotecare.services.time_ledger import current_timer
from remotecare.store.models import (
    Alert,
    AlertStatus,
    CarePlan,
    Consent,
    Enrollment,
    Observation,
    Patient,
    Practice,
    RunningTimer,
    TimeEntry,
    User,
)
from remotecare.web.charts.line import Series, Threshold, line_chart
from remotecare.web.progress import Bar, progress_bar, short_day, status_label

CHART_DAYS = 60
ADHERENCE_PERIODS = 3
PERIOD_DAYS = 30
PAIN_PROGRAMS = frozenset({Program.RTM, Program.CPM})
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)

# Reading type -> (chart title, unit, [(value, line label)]).
CHARTS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "blood_pressure": ("Blood pressure", "mmHg", [("systolic", "Systolic"), ("diastolic", "Diastolic")]),
    "weight": ("Weight", "kg", [("kg", "Weight")]),
    "glucose": ("Glucose", "mg/dL", [("mg_dl", "Glucose")]),
    "spo2": ("Oxygen saturation (SpO2)", "%", [("percent", "SpO2")]),
    "heart_rate": ("Heart rate", "bpm", [("bpm", "Heart rate")]),
}
COMPARISON = {"at_or_above": "≥", "above": ">", "below": "<"}
RULE_LABELS = {rule.name: rule.label for rule in DEFAULT_RULES}


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    svg: str
    notes: list[str]  # rules that are not a fixed level (a weight gain, a rising pain score)


@dataclass(frozen=True, slots=True)
class PeriodBar:
    period: OpenPeriod
    bar: Bar
    status_label: str
    span: str


@dataclass
class TimePanel:
    """The timer and this month's time: what the stop and start actions re-render."""

    patient: Patient
    month: dt.date
    periods: list[PeriodBar]
    entries: list[dict[str, Any]]
    timer: RunningTimer | None
    timer_elsewhere: tuple[int, str] | None  # the viewer's timer runs on another patient: (id, name)
    programs: list[Program]
    message: str | None = None
    refused: str | None = None
    now: dt.datetime | None = None

    @property
    def timer_started(self) -> str:
        if self.timer is None:
            return ""
        return f"{self.timer.started_at.astimezone(ZoneInfo(self.patient.timezone)):%-I:%M %p}"

    @property
    def timer_elapsed(self) -> str:
        if self.timer is None or self.now is None:
            return ""
        seconds = max(0, int((self.now - self.timer.started_at).total_seconds()))
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    @property
    def minutes_by_program(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            totals[entry["program"]] += entry["minutes"]
        return dict(totals)


@dataclass
class PatientPage:
    patient: Patient
    age: int
    today: dt.date
    care_manager: str | None
    enrollments: list[Enrollment]
    consents: list[Consent]
    charts: list[Chart]
    pain: list[tuple[str, Chart, Any]]  # (scale label, chart, trend)
    adherence: list[dict[str, Any]]
    plans: list[tuple[CarePlan, list[str]]]
    alerts: list[Alert]
    observation_ids: list[int] = field(default_factory=list)
    pain_ids: list[int] = field(default_factory=list)


def patient_today(patient: Patient, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(patient.timezone)).date()


def load_page(session: Session, patient: Patient, *, now: dt.datetime, with_alerts: bool) -> PatientPage:
    today = patient_today(patient, now)
    practice_id = patient.practice_id
    enrollments = list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.practice_id == practice_id, Enrollment.patient_id == patient.id)
            .order_by(Enrollment.start_date, Enrollment.id)
        )
    )
    consents = list(
        session.scalars(
            select(Consent)
            .where(Consent.practice_id == practice_id, Consent.patient_id == patient.id)
            .order_by(Consent.obtained_on, Consent.id)
        )
    )
    care_manager = (
        session.scalar(
            # Checked when named: the practice's own clinician, a member, or a granted care team's nurse.
            select(User.full_name).where(User.id == patient.care_manager_id)
        )
        if patient.care_manager_id
        else None
    )
    start = today - dt.timedelta(days=CHART_DAYS - 1)
    readings = session.execute(
        select(Observation.id, Observation.type, Observation.values, Observation.effective_at, Observation.local_date)
        .where(
            Observation.practice_id == practice_id,
            Observation.patient_id == patient.id,
            Observation.local_date >= start,
            Observation.type.in_(CHARTS),
        )
        .order_by(Observation.effective_at, Observation.id)
    ).all()
    practice = session.get(Practice, practice_id)
    assert practice is not None
    views, _ = thresholds(
        practice.alert_overrides, patient.alert_overrides, practice_id=practice_id, patient_id=patient.id
    )
    zone = ZoneInfo(patient.timezone)
    programs = {Program(enrollment.program) for enrollment in enrollments if _active(enrollment, today)}
    pain, pain_ids = _pain(session, patient, now, start, today) if programs & PAIN_PROGRAMS else ([], [])
    plans = list(
        session.scalars(
            select(CarePlan)
            .where(CarePlan.practice_id == practice_id, CarePlan.patient_id == patient.id)
            .order_by(CarePlan.program, CarePlan.id)
        )
    )
    alerts = (
        list(
            session.scalars(
                select(Alert)
                .where(Alert.practice_id == practice_id, Alert.patient_id == patient.id, Alert.status.in_(UNRESOLVED))
                .order_by(Alert.created_at.desc(), Alert.id.desc())
            )
        )
        if with_alerts
        else []
    )
    return PatientPage(
        patient=patient,
        age=_age(patient.birth_date, today),
        today=today,
        care_manager=care_manager,
        enrollments=enrollments,
        consents=consents,
        charts=_charts(readings, views, zone, start, today),
        pain=pain,
        adherence=_adherence(session, patient, enrollments, today),
        plans=[(plan, plan_problems(plan)) for plan in plans],
        alerts=alerts,
        observation_ids=[row.id for row in readings],
        pain_ids=pain_ids,
    )


def load_time(session: Session, patient: Patient, user_id: int, *, now: dt.datetime) -> TimePanel:
    today = patient_today(patient, now)
    month = today.replace(day=1)
    periods = [
        PeriodBar(
            period,
            progress_bar(period.progress, period.status, period.deadline),
            status_label(period.status),
            _span(period),
        )
        for period in open_periods(session, patient.practice_id, patient.id, today)
    ]
    rows = session.execute(
        select(TimeEntry, User.full_name)
        .join(User, User.id == TimeEntry.user_id)
        .where(
            TimeEntry.practice_id == patient.practice_id,
            TimeEntry.patient_id == patient.id,
            TimeEntry.service_date >= month,
            TimeEntry.deleted_at.is_(None),
        )
        .order_by(TimeEntry.service_date.desc(), TimeEntry.started_at.desc(), TimeEntry.id.desc())
    )
    zone = ZoneInfo(patient.timezone)
    entries = [
        {
            "id": entry.id,
            "date": entry.service_date,
            "time": None if entry.started_at is None else entry.started_at.astimezone(zone),
            "who": name,
            "program": Program(entry.program).value,
            "minutes": entry.minutes,
            "interactive": entry.interactive,
            "mode": (entry.interaction_mode or "").replace("_", " "),
            "note": entry.note,
        }
        for entry, name in rows
    ]
    timer = current_timer(session, patient.practice_id, user_id)
    elsewhere = None
    if timer is not None and timer.patient_id != patient.id:
        other = session.get(Patient, timer.patient_id)
        elsewhere = (timer.patient_id, f"{other.family_name}, {other.given_name}" if other else "")
        timer = None
    enrolled = session.scalars(
        select(Enrollment.program).where(
            Enrollment.practice_id == patient.practice_id,
            Enrollment.patient_id == patient.id,
            Enrollment.start_date <= today,
            (Enrollment.end_date.is_(None)) | (Enrollment.end_date >= today),
        )
    )
    programs = sorted({Program(program) for program in enrolled}, key=list(Program).index)
    return TimePanel(patient, month, periods, entries, timer, elsewhere, programs, now=now)


def _span(period: OpenPeriod) -> str:
    if period.progress.get("kind") == "minutes":
        return f"{period.period_start:%B}"
    return f"{short_day(period.period_start)} – {short_day(period.period_end)}"


def _active(enrollment: Enrollment, day: dt.date) -> bool:
    return enrollment.start_date <= day and (enrollment.end_date is None or enrollment.end_date >= day)


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _charts(readings: Sequence[Any], views: list[Any], zone: ZoneInfo, start: dt.date, today: dt.date) -> list[Chart]:
    by_type: dict[str, list[Any]] = defaultdict(list)
    for row in readings:
        by_type[row.type].append(row)
    charts = []
    for reading_type, (title, unit, lines) in CHARTS.items():
        rows = by_type.get(reading_type)
        if not rows:
            continue
        series = [
            Series(
                label,
                [
                    (row.effective_at.astimezone(zone).replace(tzinfo=None), float(row.values[key]))
                    for row in rows
                    if isinstance(row.values.get(key), int | float) and not isinstance(row.values.get(key), bool)
                ],
            )
            for key, label in lines
        ]
        levels, notes = [], []
        for view in views:
            reads = [ref for ref in view.reads if ref.startswith(f"{reading_type}.")]
            if not view.enabled or not reads:
                continue
            label = RULE_LABELS.get(view.name, view.name)
            if view.kind in COMPARISON:
                levels.append(Threshold(f"{label} {COMPARISON[view.kind]} {view.limit:g}", view.limit))
            else:
                notes.append(f"Alert on a gain of {view.limit:g} {view.unit} within {view.days} days.")
        svg = line_chart(
            f"{title} ({unit}), last {CHART_DAYS} days", series, start=start, end=today, thresholds=levels, unit=unit
        )
        charts.append(Chart(title, svg, notes))
    return charts


def _pain(
    session: Session, patient: Patient, now: dt.datetime, start: dt.date, today: dt.date
) -> tuple[list[tuple[str, Chart, Any]], list[int]]:
    shown: list[tuple[str, Chart, Any]] = []
    ids: list[int] = []
    for scale, label in ((PainScale.NRS, "Pain score (0-10)"), (PainScale.PEG, "PEG score (0-10)")):
        series = pain_assessments.pain_series(session, patient, scale, days=CHART_DAYS, now=now)
        if not series.points and scale is not PainScale.NRS:
            continue
        line = Series(
            label,
            [
                (point.at.astimezone(ZoneInfo(patient.timezone)).replace(tzinfo=None), point.score)
                for point in series.points
            ],
        )
        svg = line_chart(
            f"{label}, last {CHART_DAYS} days", [line], start=start, end=today, unit="points", scale=(0, 10)
        )
        notes = ["Alert when a score is 3 points above the mean of the 7 days before it."]
        shown.append((label, Chart(label, svg, notes), series.trend))
        ids.extend(point.observation_id for point in series.points)
    return shown, ids


def _adherence(
    session: Session, patient: Patient, enrollments: list[Enrollment], today: dt.date
) -> list[dict[str, Any]]:
    """RTM and CPM: days with any reading in each 30-day period from the enrollment's start, latest first."""
    watched = [e for e in enrollments if Program(e.program) in PAIN_PROGRAMS and _active(e, today)]
    if not watched:
        return []
    earliest = min(e.start_date for e in watched)
    days = set(
        session.scalars(
            select(Observation.local_date)
            .where(
                Observation.practice_id == patient.practice_id,
                Observation.patient_id == patient.id,
                Observation.local_date >= max(earliest, today - dt.timedelta(days=PERIOD_DAYS * ADHERENCE_PERIODS)),
            )
            .distinct()
        )
    )
    shown = []
    for enrollment in watched:
        elapsed = (today - enrollment.start_date).days // PERIOD_DAYS
        for number in range(elapsed, max(elapsed - ADHERENCE_PERIODS, -1), -1):
            first = enrollment.start_date + dt.timedelta(days=number * PERIOD_DAYS)
            last = first + dt.timedelta(days=PERIOD_DAYS - 1)
            counted = sum(1 for day in days if first <= day <= min(last, today))
            shown.append(
                {
                    "program": Program(enrollment.program).value,
                    "span": f"{short_day(first)} – {short_day(last)}",
                    "days": counted,
                    "open": last >= today,
                    "percent": round(100 * counted / PERIOD_DAYS),
                }
            )
    return shown
