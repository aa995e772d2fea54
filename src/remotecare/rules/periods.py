"""Billing periods: 30-day device periods and calendar months."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

DEVICE_PERIOD_DAYS = 30


@dataclass(frozen=True, slots=True, order=True)
class BillingPeriod:
    """An inclusive span of days; `cut` marks a device period ended early by the episode."""

    start: dt.date
    end: dt.date
    cut: bool = False

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        return start <= self.end and (end is None or self.start <= end)

    @property
    def month(self) -> str:
        """The calendar month of the date of service (the period's last day)."""
        return f"{self.end.year:04d}-{self.end.month:02d}"  # strftime is several times slower

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def device_periods(
    monitoring_start: dt.date,
    episode_end: dt.date | None,
    *,
    through: dt.date,
    from_day: dt.date | None = None,
) -> Iterator[BillingPeriod]:
    """Period k covers start + 30k .. start + 30k + 29; the last is cut at the episode end.

    Yields every period that starts on or before `through` (policy rule 1: periods never stretch); with
    `from_day`, only from the one that holds that day on (none if the episode was cut before it).
    """
    start = monitoring_start
    if from_day is not None and from_day > start:
        start += dt.timedelta(days=DEVICE_PERIOD_DAYS * ((from_day - start).days // DEVICE_PERIOD_DAYS))
    while start <= through and (episode_end is None or start <= episode_end):
        end = start + dt.timedelta(days=DEVICE_PERIOD_DAYS - 1)
        if episode_end is not None and episode_end < end:
            yield BillingPeriod(start, episode_end, cut=True)
            return
        yield BillingPeriod(start, end)
        start = end + dt.timedelta(days=1)


def month_of(day: dt.date) -> BillingPeriod:
    last = calendar.monthrange(day.year, day.month)[1]
    return BillingPeriod(day.replace(day=1), day.replace(day=last))


def open_period_floor(as_of: dt.date) -> dt.date:
    """The earliest day of any period still open on `as_of`: its 30-day period or its calendar month."""
    return min(as_of - dt.timedelta(days=DEVICE_PERIOD_DAYS - 1), as_of.replace(day=1))


def calendar_months(first: dt.date, last: dt.date) -> Iterator[BillingPeriod]:
    """Every calendar month that overlaps `first`..`last`."""
    month = month_of(first)
    while month.start <= last:
        yield month
        month = month_of(month.end + dt.timedelta(days=1))
