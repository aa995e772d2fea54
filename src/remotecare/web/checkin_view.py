"""The "Check-ins" card of a patient's page: the latest answers, trends (pain and PHQ/GAD totals charted,
clinically meaningful changes marked), adherence, days with check-ins in the 30-day period as billing
counts them and the practice's setting on the check-in app as RTM device, and the patient's live check-in
links. Nothing here writes; the route records in the audit trail what was shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.services import checkin_trends, checkins
from remotecare.store.models import CheckinLink, Observation, Patient
from remotecare.web.charts.line import Mark, Series, Threshold, line_chart
from remotecare.web.patient_view import Chart, patient_today

CHECKIN_SOURCES = ("checkin_web", "checkin_sms")
CHANNELS = {"web": "Check-in page", "sms": "Text message"}
INSTRUMENTS = {"phq2": "PHQ-2", "phq9": "PHQ-9", "gad2": "GAD-2", "gad7": "GAD-7"}
TREND_DAYS = 90
PAIN_SERIES = {"pain_score": "Pain now (NRS)", "peg_score": "PEG (mean of 3)"}
FULL_SERIES = {"phq9": "PHQ-9", "gad7": "GAD-7"}
SCREEN_SERIES = {"phq2": "PHQ-2", "gad2": "GAD-2"}
ORDER = ("pain_score", "peg_score", "function", "medication_adherence", "therapy_adherence", *INSTRUMENTS)


@dataclass(frozen=True, slots=True)
class Answer:
    label: str
    answer: str
    flag: str | None = None  # a word to draw the eye: "Safety item", "Positive"


@dataclass
class LatestCheckin:
    day: dt.date
    at: dt.datetime  # local time of the last submission that day
    channels: list[str]
    answers: list[Answer]


@dataclass
class LinkPanel:
    patient: Patient
    links: list[CheckinLink]
    zone: ZoneInfo
    new_url: str | None = None
    new_expires: dt.datetime | None = None
    message: str | None = None
    refused: str | None = None

    def local(self, when: dt.datetime) -> str:
        moment = when.astimezone(self.zone)
        return f"{moment:%b} {moment.day}, {moment.year} at {moment:%-I:%M %p}"


@dataclass(frozen=True, slots=True)
class Adherence:
    label: str
    yes: int
    asked: int

    @property
    def percent(self) -> int:
        return round(100 * self.yes / self.asked) if self.asked else 0


@dataclass
class CheckinCard:
    latest: LatestCheckin | None
    links: LinkPanel
    asks: bool  # the patient has check-in questions today (an enrolled program asks some)
    observation_ids: list[int] = field(default_factory=list)
    trends: checkin_trends.CheckinTrends | None = None
    charts: list[Chart] = field(default_factory=list)
    adherence: list[Adherence] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.asks or self.latest is not None or bool(self.links.links)

    @property
    def period(self) -> checkin_trends.CheckinPeriod | None:
        """The 30-day period under way (the latest)."""
        return self.trends.periods[-1] if self.trends and self.trends.periods else None


def live_links(session: Session, patient: Patient, now: dt.datetime) -> list[CheckinLink]:
    return list(
        session.scalars(
            select(CheckinLink)
            .where(
                CheckinLink.practice_id == patient.practice_id,
                CheckinLink.patient_id == patient.id,
                CheckinLink.revoked_at.is_(None),
                CheckinLink.expires_at > now,
            )
            .order_by(CheckinLink.created_at.desc(), CheckinLink.id.desc())
        )
    )


def load_links(session: Session, patient: Patient, now: dt.datetime) -> LinkPanel:
    return LinkPanel(patient, live_links(session, patient, now), ZoneInfo(patient.timezone))


def load_card(session: Session, patient: Patient, *, now: dt.datetime) -> CheckinCard:
    today = patient_today(patient, now)
    asks = bool(checkins.questions_for(session, patient.practice_id, patient.id, today=today))
    latest_day = session.scalar(
        select(Observation.local_date)
        .where(
            Observation.practice_id == patient.practice_id,
            Observation.patient_id == patient.id,
            Observation.source.in_(CHECKIN_SOURCES),
        )
        .order_by(Observation.local_date.desc())
        .limit(1)
    )
    latest = None
    ids: list[int] = []
    if latest_day is not None:
        rows = list(
            session.scalars(
                select(Observation)
                .where(
                    Observation.practice_id == patient.practice_id,
                    Observation.patient_id == patient.id,
                    Observation.source.in_(CHECKIN_SOURCES),
                    Observation.local_date == latest_day,
                )
                .order_by(Observation.effective_at, Observation.id)
            )
        )
        ids = [row.id for row in rows]
        rows.sort(key=lambda row: (ORDER.index(row.type) if row.type in ORDER else len(ORDER), row.id))
        channels = sorted({str((row.provenance or {}).get("channel", "")) for row in rows} - {""})
        zone = ZoneInfo(patient.timezone)
        latest = LatestCheckin(
            latest_day,
            max(row.effective_at for row in rows).astimezone(zone),
            [CHANNELS.get(channel, channel) for channel in channels],
            [answer for row in rows for answer in answers_of(row.type, row.values)],
        )
    card = CheckinCard(latest, load_links(session, patient, now), asks, ids)
    if card.shown:
        found = checkin_trends.trends(session, patient.practice_id, patient.id, today=today, days=TREND_DAYS)
        card.trends = found
        card.charts = trend_charts(found)
        card.adherence = adherence_rates(found)
        shown_points = [*found.pain.values(), *found.mood.values()]
        card.observation_ids = sorted({*ids, *(point.observation_id for line in shown_points for point in line)})
    return card


def _chart(
    title: str,
    lines: dict[str, list[checkin_trends.TrendPoint]],
    labels: dict[str, str],
    trends: checkin_trends.CheckinTrends,
    *,
    scale: tuple[float, float],
    thresholds: list[Threshold] | None = None,
    notes: list[str],
) -> Chart | None:
    shown = {key: points for key, points in lines.items() if key in labels and points}
    if not shown:
        return None
    series = [Series(labels[key], [(point.date, point.value) for point in points]) for key, points in shown.items()]
    marks = [
        Mark(point.date, point.value, f"{labels[key]} {point.change:+.1f} from {point.baseline:.1f}")
        for key, points in shown.items()
        for point in points
        if point.meaningful and point.change is not None and point.baseline is not None
    ]
    svg = line_chart(
        f"{title}, last {TREND_DAYS} days",
        series,
        start=trends.start,
        end=trends.end,
        thresholds=thresholds or [],
        unit="points",
        scale=scale,
        marks=marks,
        mark_legend="clinically meaningful change",
        threshold_legend="cut point",
    )
    return Chart(title, svg, notes)


def trend_charts(trends: checkin_trends.CheckinTrends) -> list[Chart]:
    """Pain (NRS, PEG) and mood (PHQ-9 and GAD-7 totals; the PHQ-2 and GAD-2 screens) over time."""
    charts = [
        _chart(
            "Pain (0-10)",
            trends.pain,
            PAIN_SERIES,
            trends,
            scale=(0, 10),
            notes=["Ringed: a change of 2 points or 30% from the mean of the 7 days before (Farrar et al. 2001)."],
        ),
        _chart(
            "PHQ-9 and GAD-7 totals",
            trends.mood,
            FULL_SERIES,
            trends,
            scale=(0, 27),
            thresholds=[Threshold("Moderate (10)", 10)],
            notes=["Ringed: a change of 5 points on the PHQ-9 or 4 on the GAD-7 from the one before."],
        ),
        _chart(
            "PHQ-2 and GAD-2 screens (0-6)",
            trends.mood,
            SCREEN_SERIES,
            trends,
            scale=(0, 6),
            thresholds=[Threshold("Positive (3)", 3)],
            notes=["A positive screen asks the PHQ-9 or GAD-7 next."],
        ),
    ]
    return [chart for chart in charts if chart is not None]


def adherence_rates(trends: checkin_trends.CheckinTrends) -> list[Adherence]:
    """Medications taken and exercises done: the latest week, and the whole span."""
    rows: list[Adherence] = []
    if not trends.adherence:
        return rows
    latest = trends.adherence[-1]
    span = f"{latest.start:%b} {latest.start.day} – {latest.end:%b} {latest.end.day}"
    medications = [(week.medications_taken, week.medications_asked) for week in trends.adherence]
    exercises = [(week.exercises_done, week.exercises_asked) for week in trends.adherence]
    for what, weeks, current in (
        ("Medications taken", medications, (latest.medications_taken, latest.medications_asked)),
        ("Exercises done", exercises, (latest.exercises_done, latest.exercises_asked)),
    ):
        asked = sum(total for _, total in weeks)
        if not asked:
            continue
        if current[1] and len(trends.adherence) > 1 and current[1] != asked:
            rows.append(Adherence(f"{what}, {span}", *current))
        rows.append(Adherence(f"{what}, last {TREND_DAYS} days", sum(yes for yes, _ in weeks), asked))
    return rows


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def answers_of(reading_type: str, values: dict[str, Any]) -> list[Answer]:
    """A stored check-in reading as the lines the card shows."""
    if reading_type == "pain_score":
        return [Answer("Pain now (0-10)", _number(values.get("nrs")))]
    if reading_type == "peg_score":
        parts = ", ".join(f"{key} {_number(values.get(key))}" for key in ("pain", "enjoyment", "activity"))
        return [Answer("PEG (0-10)", f"{_number(values.get('score'))} ({parts})")]
    if reading_type == "function":
        parts = ", ".join(f"{key} {_number(values.get(key))}" for key in ("activity", "walking", "sleep"))
        return [Answer("Pain interference (0-10)", f"{_number(values.get('score'))} ({parts})")]
    if reading_type == "medication_adherence":
        taken = values.get("taken")
        return [Answer(f"Took {values.get('medication', 'medication')}", "Yes" if taken else "No")]
    if reading_type == "therapy_adherence":
        return [Answer("Did the exercises", "Yes" if values.get("taken") else "No")]
    if reading_type in INSTRUMENTS:
        items = " ".join(
            f"{key.removeprefix('item')}:{values[key]}"
            for key in sorted(values, key=_item_order)
            if key.startswith("item")
        )
        severity = str(values.get("severity", ""))
        answer = f"{_number(values.get('total'))} {severity} (items {items})"
        flag = "Item 9 above 0" if values.get("safety_flag") else ("Positive" if values.get("positive") else None)
        return [Answer(INSTRUMENTS[reading_type], answer, flag)]
    return [Answer(reading_type.replace("_", " ").capitalize(), ", ".join(f"{k} {v}" for k, v in values.items()))]


def _item_order(key: str) -> int:
    number = key.removeprefix("item")
    return int(number) if number.isdigit() else 0
