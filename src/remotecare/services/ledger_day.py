"""One person's day in the ledger, as an auditor reads it: where every logged minute sits.

Timed entries are where they were logged; entries with only a duration are placed as the day's block
(`domain.time_blocks`) in the time left free, the same placement the ledger checks new entries against.
The day is the practice's (its zone), from midnight to midnight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.domain.time_blocks import Duration, Span, local_day, place_block
from remotecare.store.models import Practice, TimeEntry


@dataclass(frozen=True, slots=True)
class DayEntry:
    id: int
    patient_id: int
    program: Program
    minutes: int
    timed: bool
    pieces: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class LedgerDay:
    user_id: int
    date: dt.date
    timezone: str
    day_minutes: int
    free_minutes: int
    unplaced_minutes: int
    entries: tuple[DayEntry, ...]  # in time order; placed duration-only entries after the timed ones they follow


def ledger_day(session: Session, practice_id: int, user_id: int, date: dt.date) -> LedgerDay:
    zone_name = session.scalar(select(Practice.timezone).where(Practice.id == practice_id)) or "UTC"
    day = local_day(date, ZoneInfo(zone_name))
    rows = session.execute(
        select(
            TimeEntry.id,
            TimeEntry.patient_id,
            TimeEntry.program,
            TimeEntry.service_date,
            TimeEntry.started_at,
            TimeEntry.ended_at,
            TimeEntry.minutes,
        )
        .where(
            TimeEntry.practice_id == practice_id,
            TimeEntry.user_id == user_id,
            TimeEntry.deleted_at.is_(None),
            # a timed entry lasts at most a day, so those touching `date` have service dates beside it
            TimeEntry.service_date.between(date - dt.timedelta(days=2), date + dt.timedelta(days=2)),
        )
        .order_by(TimeEntry.id)
    ).all()
    timed = [
        DayEntry(row.id, row.patient_id, Program(row.program), row.minutes, True, (Span(row.started_at, row.ended_at),))
        for row in rows
        if row.started_at is not None
        and row.ended_at is not None
        and row.started_at < day.end
        and day.start < row.ended_at
    ]
    untimed = [row for row in rows if row.started_at is None and row.service_date == date]
    block = place_block(
        day,
        [entry.pieces[0] for entry in timed],
        [Duration(row.id, row.minutes) for row in untimed],
    )
    placed = [
        DayEntry(row.id, row.patient_id, Program(row.program), row.minutes, False, spot.pieces)
        for row, spot in zip(untimed, block.placed, strict=True)
    ]
    entries = sorted([*timed, *placed], key=lambda e: (e.pieces[0].start if e.pieces else day.end, e.id))
    return LedgerDay(user_id, date, zone_name, day.minutes, block.free_minutes, block.unplaced_minutes, tuple(entries))
