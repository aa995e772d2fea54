"""Outreach for missing readings: which patients in an open RPM or RTM period the care team should call.

It reads the worklist (the rules' own progress of every open period: days with
data so far, days left, the full threshold) and adds, with one set-based query,
each patient's last day of data. A period gets a reason when

- "quiet": no day of data for `quiet_days` days or more (or never);
- "at_risk": the full device-supply threshold (16 days) can still be reached,
  but with at most `margin` days to spare;
- "cannot_reach_16": it can no longer be reached; `short_code_reachable` says
  whether the 2-15 day code of the rules in force (2026 on) still can be.

"As of" a day means during it: a patient with no reading yet on `as_of` can
still add that day, so the days still open for data are the days after `as_of`
plus `as_of` itself when it has none yet. A period is listed through its last
day: the worklist counts `as_of` as over and has closed it by then, so periods
ending on `as_of` come from the worklist of the day before (a second
evaluation; both are set-based). The thresholds are the rules' own (the rule
set in force on the period's last day), not numbers written here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program, RtmFocus
from remotecare.rules import RuleBook, load_rules
from remotecare.rules.counting import DEVICE_PROGRAMS
from remotecare.rules.schema import Role
from remotecare.services.billing_facts import counted_data_days
from remotecare.services.worklist import WorkItem, worklist
from remotecare.store.batches import chunks
from remotecare.store.models import Device, DeviceAssignment, Enrollment, Observation

DAY = dt.timedelta(days=1)
QUIET = "quiet"
AT_RISK = "at_risk"
CANNOT_REACH_16 = "cannot_reach_16"


@dataclass(frozen=True, slots=True)
class OutreachItem:
    patient_id: int
    patient_name: str
    enrollment_id: int
    program: str
    period_start: dt.date
    period_end: dt.date
    last_reading: dt.date | None  # the last day with data that counts, on or before as_of
    days_since_last_reading: int | None  # None: never
    days_with_data: int
    days_left: int  # days of the period after as_of
    days_open: int  # days on which a new day of data can still count: days_left, plus as_of if it has none
    full_days: int | None  # the full device-supply threshold of the rules in force (16); None: no code
    days_needed: int | None  # more days of data the full threshold needs
    spare_days: int | None  # days_open - days_needed: negative when it can no longer be reached
    short_code: str | None  # the 2-15 day code of the rules in force (2026 on), if any
    short_code_days: int | None
    short_code_reachable: bool | None  # None when the rules have no short code
    reasons: tuple[str, ...]


def outreach_list(
    session: Session,
    practice_id: int,
    as_of: dt.date,
    *,
    quiet_days: int = 3,
    margin: int = 2,
    rules: RuleBook | None = None,
) -> list[OutreachItem]:
    """Every open RPM or RTM device period on `as_of` with a reason to call: at risk first (fewest spare
    days first), then quiet (longest silence first), then those that can no longer reach the full code."""
    if quiet_days < 1 or margin < 0:
        raise ValueError("quiet_days must be 1 or more and margin 0 or more")
    rules = rules or load_rules()
    # (period, days with data through as_of, days of the period after as_of). The worklist counts as_of as
    # over, so a period ending on as_of is closed there; it is still open during as_of, and comes from the
    # worklist of the day before, with as_of's own day of data (if any) added.
    periods = [
        (work, int(work.progress["days_with_data"]), work.days_left)
        for work in _device(worklist(session, practice_id, as_of))
    ]
    ending = [work for work in _device(worklist(session, practice_id, as_of - DAY)) if work.period_end == as_of]
    if not periods and not ending:
        return []
    patient_ids = sorted({work.patient_id for work in [*(work for work, _, _ in periods), *ending]})
    last = last_days_of_data(session, practice_id, patient_ids, as_of)
    for work in ending:
        read_today = last.get((work.patient_id, Program(work.program))) == as_of
        periods.append((work, int(work.progress["days_with_data"]) + read_today, 0))
    focus = _focus_of(session, practice_id, sorted({work.enrollment_id for work, _, _ in periods}))
    items: list[OutreachItem] = []
    for work, count, days_left in periods:
        last_day = last.get((work.patient_id, Program(work.program)))
        item = _item(work, count, days_left, last_day, focus, rules, as_of)
        item = dataclasses.replace(item, reasons=_reasons(item, quiet_days, margin))
        if item.reasons:
            items.append(item)
    items.sort(key=_order)
    return items


def _device(items: list[WorkItem]) -> list[WorkItem]:
    return [item for item in items if item.program in DEVICE_PROGRAMS and item.progress.get("kind") == "days_with_data"]


def last_days_of_data(
    session: Session, practice_id: int, patient_ids: list[int], as_of: dt.date
) -> dict[tuple[int, Program], dt.date]:
    """The last day with a reading that counts (policy rule 2), per patient and program, on or before
    `as_of`: one grouped query per 500 patients over the same day rows a billing run counts."""
    last: dict[tuple[int, Program], dt.date] = {}
    for chunk in chunks(patient_ids):
        days = counted_data_days(practice_id, dt.date.min, as_of).where(Observation.patient_id.in_(chunk)).subquery()
        query = (
            select(days.c.patient_id, DeviceAssignment.program, func.max(days.c.local_date))
            .join(DeviceAssignment, DeviceAssignment.id == days.c.id)
            .join(Device, and_(Device.id == DeviceAssignment.device_id, Device.practice_id == practice_id))
            .where(Device.medical_device.is_(True))
            .group_by(days.c.patient_id, DeviceAssignment.program)
        )
        for patient_id, program, day in session.execute(query):
            last[(patient_id, Program(program))] = day
    return last


def _focus_of(session: Session, practice_id: int, enrollment_ids: list[int]) -> dict[int, RtmFocus | None]:
    focus: dict[int, RtmFocus | None] = {}
    for chunk in chunks(enrollment_ids):
        for enrollment_id, value in session.execute(
            select(Enrollment.id, Enrollment.focus).where(
                Enrollment.practice_id == practice_id, Enrollment.id.in_(chunk)
            )
        ):
            focus[enrollment_id] = value
    return focus


def _item(
    period: WorkItem,
    count: int,
    days_left: int,
    last: dt.date | None,
    focus: dict[int, RtmFocus | None],
    rules: RuleBook,
    as_of: dt.date,
) -> OutreachItem:
    progress = period.progress
    days_open = days_left + (0 if last == as_of else 1)
    threshold = progress.get("days_needed")  # the rules' full threshold for the period (focus, COVID-19 applied)
    full = None if threshold is None else int(threshold)
    needed = None if full is None else max(0, full - count)
    short = _short_code(rules, period, focus.get(period.enrollment_id), full)
    return OutreachItem(
        patient_id=period.patient_id,
        patient_name=period.patient_name,
        enrollment_id=period.enrollment_id,
        program=period.program,
        period_start=period.period_start,
        period_end=period.period_end,
        last_reading=last,
        days_since_last_reading=None if last is None else (as_of - last).days,
        days_with_data=count,
        days_left=days_left,
        days_open=days_open,
        full_days=full,
        days_needed=needed,
        spare_days=None if needed is None else days_open - needed,
        short_code=None if short is None else short[1],
        short_code_days=None if short is None else short[0],
        short_code_reachable=None if short is None else count + days_open >= short[0],
        reasons=(),
    )


def _short_code(rules: RuleBook, period: WorkItem, focus: RtmFocus | None, full: int | None) -> tuple[int, str] | None:
    """(min days, code) of the device-supply code for fewer days than the full one (2026: 2-15 days)."""
    if full is None:
        return None
    rule_set = rules.nearest(period.period_end)  # what judges the period once it ends (policy rule 6)
    fewer = sorted(
        (rule.min_days, code)
        for code, rule in rule_set.codes_of(Program(period.program), Role.DEVICE_SUPPLY)
        if (rule.focus is None or rule.focus == focus) and rule.min_days is not None and rule.min_days < full
    )
    return fewer[0] if fewer else None


def _reasons(item: OutreachItem, quiet_days: int, margin: int) -> tuple[str, ...]:
    reasons = []
    if item.days_since_last_reading is None or item.days_since_last_reading >= quiet_days:
        reasons.append(QUIET)
    if item.spare_days is not None and item.days_needed:
        if item.spare_days < 0:
            reasons.append(CANNOT_REACH_16)
        elif item.spare_days <= margin:
            reasons.append(AT_RISK)
    return tuple(reasons)


def _order(item: OutreachItem) -> tuple[Any, ...]:
    if AT_RISK in item.reasons:
        group, key = 0, item.spare_days or 0
    elif QUIET in item.reasons:
        silence = item.days_since_last_reading
        group, key = 1, -(silence if silence is not None else 10**6)  # never first
    else:  # cannot reach the full code: those that can still earn the short one first
        group, key = 2, 0 if item.short_code_reachable else 1
    return (group, key, item.patient_name, item.enrollment_id)
