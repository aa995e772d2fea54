"""Where one person's minutes of one day go, so that no minute is counted twice.

Entries with a start and an end sit where they were logged. Entries with only a duration have no place of
their own, so they are placed as the day's block: one after the other (oldest entry first) in the time the
timed entries leave free, from the start of the day. They fit only if the free time holds them all, which
is what the ledger checks. The day is a local day in an IANA zone, so it is 23 or 25 hours long on the days
the clocks change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Span:
    start: dt.datetime  # aware
    end: dt.datetime  # aware, after start

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) / MINUTE)


@dataclass(frozen=True, slots=True)
class Duration:
    entry_id: int | None  # None: the entry being checked, not stored yet
    minutes: int


@dataclass(frozen=True, slots=True)
class Placed:
    entry_id: int | None
    minutes: int
    pieces: tuple[Span, ...]  # where its minutes were placed, in order; more than one when a gap was too short


@dataclass(frozen=True, slots=True)
class DayBlock:
    day: Span
    free_minutes: int  # the day's minutes not taken by timed entries
    placed: tuple[Placed, ...]
    unplaced_minutes: int  # duration-only minutes the free time could not hold: 0 when the day is consistent


def local_day(date: dt.date, zone: ZoneInfo) -> Span:
    """From midnight to midnight in `zone`, in UTC: 23 hours when clocks go forward, 25 when they go back."""
    start = dt.datetime.combine(date, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return Span(start, end)


def free_spans(day: Span, busy: Iterable[Span]) -> list[Span]:
    """The parts of `day` that no busy span covers, in order."""
    free: list[Span] = []
    cursor = day.start
    for span in sorted(busy, key=lambda s: s.start):
        start, end = max(span.start, day.start), min(span.end, day.end)
        if end <= start:
            continue
        if start > cursor:
            free.append(Span(cursor, start))
        cursor = max(cursor, end)
    if cursor < day.end:
        free.append(Span(cursor, day.end))
    return free


def place_block(day: Span, busy: Iterable[Span], durations: Sequence[Duration]) -> DayBlock:
    """Lay the duration-only entries end to end into the day's free time (see the module's description)."""
    free = free_spans(day, busy)
    gaps = [(span.start, span.minutes) for span in free if span.minutes > 0]
    placed: list[Placed] = []
    unplaced = 0
    gap_index, used = 0, 0  # minutes used of the current gap
    for duration in durations:
        pieces: list[Span] = []
        left = duration.minutes
        while left > 0 and gap_index < len(gaps):
            gap_start, gap_minutes = gaps[gap_index]
            take = min(left, gap_minutes - used)
            start = gap_start + used * MINUTE
            pieces.append(Span(start, start + take * MINUTE))
            left -= take
            used += take
            if used == gap_minutes:
                gap_index, used = gap_index + 1, 0
        unplaced += left
        placed.append(Placed(duration.entry_id, duration.minutes, tuple(pieces)))
    return DayBlock(day, sum(span.minutes for span in free), tuple(placed), unplaced)
