"""The audit packet of one claim line: the rule applied and every fact behind it, as one HTML page.

An auditor asks "why was this billed?": the page answers from the stored
records, not from the run's memory: the line's evidence (days and devices),
the readings on each of those days, the minutes logged in the period with
who logged them and whether the contact was interactive, the consent, and the
visits.
"""

from __future__ import annotations

import datetime as dt

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.rules import load_rules
from remotecare.rules.describe import threshold_text
from remotecare.store.models import ClaimLine, Consent, Encounter, Enrollment, Observation, Patient, TimeEntry, User

_TEMPLATES = Environment(loader=PackageLoader("remotecare.reports"), autoescape=select_autoescape(["html"]))


class EvidenceNotFound(LookupError):
    pass


def evidence_packet(session: Session, line_id: int, *, practice_id: int | None = None, now: dt.datetime) -> str:
    line = session.get(ClaimLine, line_id)
    if line is None or (practice_id is not None and line.practice_id != practice_id):
        raise EvidenceNotFound(f"no claim line {line_id}")
    patient = session.get(Patient, line.patient_id)
    enrollment = session.get(Enrollment, line.enrollment_id)
    assert patient is not None and enrollment is not None
    scope = (line.practice_id, line.patient_id)
    consents = session.scalars(
        select(Consent)
        .where(Consent.practice_id == scope[0], Consent.patient_id == scope[1], Consent.program == enrollment.program)
        .order_by(Consent.obtained_on)
    ).all()
    minutes = [
        {
            "date": entry.service_date,
            "minutes": entry.minutes,
            "performer": entry.performer.value,
            "by": by,
            "interactive": entry.interactive,
            "mode": entry.interaction_mode,
            "note": entry.note,
        }
        for entry, by in session.execute(
            select(TimeEntry, User.full_name)
            .join(User, User.id == TimeEntry.user_id)
            .where(
                TimeEntry.practice_id == scope[0],
                TimeEntry.patient_id == scope[1],
                TimeEntry.program == enrollment.program,
                TimeEntry.service_date >= _month_start(line),
                TimeEntry.service_date <= line.period_end,
                TimeEntry.deleted_at.is_(None),
            )
            .order_by(TimeEntry.service_date, TimeEntry.id)
        )
    ]
    readings_per_day = {
        day.isoformat(): count
        for day, count in session.execute(
            select(Observation.local_date, func.count())
            .where(
                Observation.practice_id == scope[0],
                Observation.patient_id == scope[1],
                Observation.local_date >= line.period_start,
                Observation.local_date <= line.period_end,
            )
            .group_by(Observation.local_date)
        )
    }
    visits = session.scalars(
        select(Encounter)
        .where(Encounter.practice_id == scope[0], Encounter.patient_id == scope[1], Encounter.date <= line.period_end)
        .order_by(Encounter.date)
    ).all()
    return _TEMPLATES.get_template("evidence.html").render(
        line=line,
        patient=patient,
        enrollment=enrollment,
        rule_text=_rule_text(line),
        consents=consents,
        minutes=minutes,
        interactive_dates=sorted({m["date"].isoformat() for m in minutes if m["interactive"]}),
        readings_per_day=readings_per_day,
        visits=visits,
        written_at=now.isoformat(timespec="seconds"),
    )


def _month_start(line: ClaimLine) -> dt.date:
    # Time codes are judged per calendar month; device codes per 30-day period (which this covers too).
    return min(line.period_start, line.service_date.replace(day=1))


def _rule_text(line: ClaimLine) -> str:
    rules = load_rules().in_force(line.service_date)
    rule = rules.code(line.code) if rules is not None else None
    if rule is None:
        return "the rule is not in the rule set in force on the date of service"
    return f"{line.code} needs {threshold_text(rule)}"
