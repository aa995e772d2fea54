"""Placing a day's duration-only entries in the time its timed entries leave free."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from remotecare.domain.time_blocks import Duration, Span, free_spans, local_day, place_block

CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.UTC


def utc(day: int, hour: int, minute: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_local_day_is_23_or_25_hours_when_the_clocks_change() -> None:
    assert local_day(dt.date(2026, 10, 7), CHICAGO).minutes == 1440
    assert local_day(dt.date(2026, 3, 8), CHICAGO).minutes == 1380  # clocks go forward
    assert local_day(dt.date(2026, 11, 1), CHICAGO).minutes == 1500  # clocks go back
    assert local_day(dt.date(2026, 3, 8), ZoneInfo("America/Phoenix")).minutes == 1440  # no change there
    day = local_day(dt.date(2026, 10, 7), CHICAGO)
    assert (day.start, day.end) == (utc(7, 5), utc(8, 5))  # CDT is UTC-5


def test_free_spans_are_the_gaps_between_busy_spans_clipped_to_the_day() -> None:
    day = local_day(dt.date(2026, 10, 7), CHICAGO)
    busy = [
        Span(utc(7, 4), utc(7, 6)),  # starts the day before
        Span(utc(7, 10), utc(7, 11)),
        Span(utc(7, 10, 30), utc(7, 12)),  # overlaps the one before it
        Span(utc(8, 4, 30), utc(8, 6)),  # runs past the day's end
    ]
    assert free_spans(day, busy) == [Span(utc(7, 6), utc(7, 10)), Span(utc(7, 12), utc(8, 4, 30))]
    assert free_spans(day, []) == [day]


def test_durations_are_laid_end_to_end_in_the_free_time_oldest_first() -> None:
    day = local_day(dt.date(2026, 10, 7), CHICAGO)
    busy = [Span(utc(7, 5, 20), utc(7, 6))]  # leaves 20 minutes free at the start of the day
    block = place_block(day, busy, [Duration(1, 15), Duration(2, 10), Duration(None, 30)])
    assert block.free_minutes == 1440 - 40
    assert block.unplaced_minutes == 0
    first, second, third = block.placed
    assert first.pieces == (Span(utc(7, 5), utc(7, 5, 15)),)
    # The second does not fit in what is left of the first gap: it is split around the timed entry.
    assert second.pieces == (Span(utc(7, 5, 15), utc(7, 5, 20)), Span(utc(7, 6), utc(7, 6, 5)))
    assert third.pieces == (Span(utc(7, 6, 5), utc(7, 6, 35)),)


def test_what_the_free_time_cannot_hold_is_left_unplaced() -> None:
    day = local_day(dt.date(2026, 3, 8), CHICAGO)  # 23 hours
    busy = [Span(day.start, day.start + dt.timedelta(hours=20))]
    exactly = place_block(day, busy, [Duration(1, 120), Duration(2, 60)])
    assert (exactly.free_minutes, exactly.unplaced_minutes) == (180, 0)
    over = place_block(day, busy, [Duration(1, 120), Duration(2, 61)])
    assert over.unplaced_minutes == 1
    assert sum(piece.minutes for piece in over.placed[1].pieces) == 60
