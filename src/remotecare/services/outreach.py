"""Outreach for missing readings: which patients in an open RPM or RTM period the care team should call.

It reads the worklist (the rules' own progress and forecast of every period
open on `as_of`, the day under way, so a period is listed through its last
day) and adds, with one set-based query, each patient's last day of data. A
period gets a reason when

- "quiet": no day of data for `quiet_days` days or more (or never);
- "at_risk": the full device-supply threshold (16 days) can still be reached,
  but with at most `margin` days to spare;
- "cannot_reach_16": it can no longer be reached; `short_code_reachable` says
  whether the 2-15 day code of the rules in force (2026 on) still can be.

The days open, spare days, thresholds and the next-reading-by date are the
forecast's (`remotecare.rules.forecast`), not arithmetic done here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.rules import RuleBook
from remotecare.rules.counting import DEVICE_PROGRAMS
from remotecare.rules.forecast import DeviceForecast, Status
from remotecare.services.billing_facts import counted_data_days
from remotecare.services.worklist import WorkItem, worklist
from remotecare.store.batches import chunks
from remotecare.store.models import Device, DeviceAssignment, Observation

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
    status: Status | None = None  # the forecast's (at risk with the default margin of 2)
    next_reading_by: dt.date | None = None  # the last day the next reading keeps the code at stake reachable
    next_reading_by_utc: dt.datetime | None = None  # when that day ends where the patient is


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
    periods = [
        (work, work.forecast if isinstance(work.forecast, DeviceForecast) else None)
        for work in worklist(session, practice_id, as_of, rules=rules)
        if work.program in DEVICE_PROGRAMS and work.progress.get("kind") == "days_with_data"
    ]
    if not periods:
        return []
    last = last_days_of_data(session, practice_id, sorted({work.patient_id for work, _ in periods}), as_of)
    items: list[OutreachItem] = []
    for work, forecast in periods:
        item = _item(work, forecast, last.get((work.patient_id, Program(work.program))), as_of)
        item = dataclasses.replace(item, reasons=_reasons(item, quiet_days, margin))
        if item.reasons:
            items.append(item)
    items.sort(key=_order)
    return items


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


def _item(work: WorkItem, forecast: DeviceForecast | None, last: dt.date | None, as_of: dt.date) -> OutreachItem:
    # The full threshold (16) is the forecast's first target; a short code (2-15 days) the one with fewest days.
    full = forecast.targets[0] if forecast else None
    short = forecast.targets[-1] if forecast and len(forecast.targets) > 1 else None
    return OutreachItem(
        patient_id=work.patient_id,
        patient_name=work.patient_name,
        enrollment_id=work.enrollment_id,
        program=work.program,
        period_start=work.period_start,
        period_end=work.period_end,
        last_reading=last,
        days_since_last_reading=None if last is None else (as_of - last).days,
        days_with_data=int(work.progress["days_with_data"]),
        days_left=work.days_left,
        days_open=forecast.days_open if forecast else work.days_left + (last != as_of),
        full_days=None if full is None else full.days,
        days_needed=None if full is None else full.needed,
        spare_days=None if full is None else full.spare_days,
        short_code=None if short is None else short.code,
        short_code_days=None if short is None else short.days,
        short_code_reachable=None if short is None else short.reachable,
        reasons=(),
        status=None if forecast is None else forecast.status,
        next_reading_by=None if forecast is None else forecast.next_reading_by,
        next_reading_by_utc=None if forecast is None else forecast.next_reading_by_utc,
    )


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
