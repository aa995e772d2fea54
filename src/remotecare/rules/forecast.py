"""Whether an open period can still earn its codes, and by when: arithmetic over the rules' thresholds.

"As of" a day means during it: the day is still open for data and minutes, unless it already has a
day of data (a second reading that day adds nothing). Deadlines are local calendar days in the
patient's zone, as the days with data are (policy rule 2); `*_utc` is the instant that day ends there,
so a 23- or 25-hour day across a daylight-saving change moves it by an hour.

Statuses, one per period, for sorting and filtering:

- met: the full threshold is met (days: the most days of any device-supply code; minutes: a primary
  time code is earned and no longer code that would count the same minutes is still open, so 10
  minutes of 99470 are not met while 99457's 20 are still to go);
- on_track: reachable with more to spare than the margin;
- at_risk: days: reachable with at most `margin` spare days (default 2); minutes: still needed with at
  most `margin_days` days left in the month, the day under way included (default 7: a week to book a call);
- short_code_only: the full day threshold is out of reach, a shorter code (2026: 2-15 days) is not
  (met or still reachable);
- missed: no day threshold is met or reachable. Minutes can be done on any remaining day, so an open
  month is never missed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

DAY = dt.timedelta(days=1)
DAY_MARGIN = 2
MONTH_MARGIN_DAYS = 7


class Status(StrEnum):
    MET = "met"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    SHORT_CODE_ONLY = "short_code_only"
    MISSED = "missed"


# What is about to be lost first: the full code at risk, then a short code that may still slip, then
# what is on track; nothing more can be done about the rest.
URGENCY = {
    Status.AT_RISK: 0,
    Status.SHORT_CODE_ONLY: 1,
    Status.ON_TRACK: 2,
    Status.MISSED: 3,
    Status.MET: 4,
}


@functools.lru_cache(maxsize=4096)  # a run asks for the same few zones and days for every patient
def end_of_local_day(day: dt.date, timezone: str) -> dt.datetime:
    """The UTC instant `day` ends in `timezone`: its next local midnight (exclusive).

    Where a daylight-saving change skips midnight (Chile's in September) or repeats it (a change from 1:00
    back to 0:00), the later of its two readings is the one after which no instant is still `day`.
    """
    zone = ZoneInfo(timezone)
    midnight = dt.datetime.combine(day + DAY, dt.time(0), tzinfo=zone)
    return max(midnight.astimezone(dt.UTC), midnight.replace(fold=1).astimezone(dt.UTC))


@dataclass(frozen=True, slots=True)
class DayTarget:
    """One device-supply threshold of the period."""

    code: str
    days: int
    needed: int  # more days of data it needs
    reachable: bool  # met, or enough days still open
    spare_days: int  # open days beyond those needed: negative when out of reach
    next_reading_by: dt.date | None  # the last day the next reading can come on and still reach it
    next_reading_by_utc: dt.datetime | None  # when that day ends where the patient is

    def to_dict(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True, slots=True)
class DeviceForecast:
    status: Status
    days_open: int  # days on which a new day of data can still count
    code: str | None  # the code still at stake: the full one while reachable, else a short one
    spare_days: int | None
    next_reading_by: dt.date | None  # None: nothing more at stake (met, short code met, or missed)
    next_reading_by_utc: dt.datetime | None
    targets: tuple[DayTarget, ...] = field(default=())  # the full threshold first

    @property
    def deadline(self) -> dt.date | None:
        return self.next_reading_by

    @property
    def deadline_utc(self) -> dt.datetime | None:
        return self.next_reading_by_utc

    def target(self, code: str) -> DayTarget | None:
        return next((target for target in self.targets if target.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {**_json(self), "targets": [target.to_dict() for target in self.targets]}


def device_forecast(
    *,
    days_with_data: int,
    read_on_as_of: bool,
    as_of: dt.date,
    period_end: dt.date,
    thresholds: Sequence[tuple[str, int]],
    timezone: str,
    margin: int = DAY_MARGIN,
) -> DeviceForecast | None:
    """The forecast of a 30-day period under way on `as_of`, from its days with data through `as_of`
    and its device-supply thresholds (code, days); None when the period has no device-supply code."""
    if as_of > period_end:
        raise ValueError(f"as_of {as_of} is after the period's last day {period_end}")
    if not thresholds:
        return None
    days_open = (period_end - as_of).days + (0 if read_on_as_of else 1)
    targets = tuple(
        _day_target(code, days, days_with_data, days_open, period_end, timezone)
        for code, days in sorted(thresholds, key=lambda item: (-item[1], item[0]))
    )
    full, shorter = targets[0], targets[1:]
    at_stake: DayTarget | None = None
    if full.needed == 0:
        status = Status.MET
    elif full.reachable:
        status, at_stake = (Status.AT_RISK if full.spare_days <= margin else Status.ON_TRACK), full
    elif any(target.reachable for target in shorter):
        status = Status.SHORT_CODE_ONLY
        at_stake = next((t for t in shorter if t.reachable and t.needed), None)  # None: already earned
    else:
        status = Status.MISSED
    return DeviceForecast(
        status=status,
        days_open=days_open,
        code=None if at_stake is None else at_stake.code,
        spare_days=None if at_stake is None else at_stake.spare_days,
        next_reading_by=None if at_stake is None else at_stake.next_reading_by,
        next_reading_by_utc=None if at_stake is None else at_stake.next_reading_by_utc,
        targets=targets,
    )


def _day_target(code: str, days: int, count: int, days_open: int, end: dt.date, timezone: str) -> DayTarget:
    needed = max(0, days - count)
    spare = days_open - needed
    # With `needed` days to go, one reading a day from the next one on must start by end - (needed - 1).
    by = end - (needed - 1) * DAY if needed and spare >= 0 else None
    return DayTarget(
        code=code,
        days=days,
        needed=needed,
        reachable=spare >= 0,
        spare_days=spare,
        next_reading_by=by,
        next_reading_by_utc=None if by is None else end_of_local_day(by, timezone),
    )


@dataclass(frozen=True, slots=True)
class MinuteCode:
    """One primary time code of the month, with the minutes so far that count toward it."""

    code: str
    minutes: int
    counted: int
    performers: frozenset[str]
    interactive: bool  # needs a real-time interactive contact in the month

    def earned(self, interactive_contact: bool) -> bool:
        return self.counted >= self.minutes and (interactive_contact or not self.interactive)


@dataclass(frozen=True, slots=True)
class MonthForecast:
    status: Status
    days_left: int  # days of the month on which minutes can still be logged, the day under way included
    next_code: str | None  # the nearest threshold: a primary code or the next add-on unit
    minutes_to_next: int | None
    minutes_per_day: int | None  # to reach it by month end, rounded up
    interactive_contact_needed: bool
    earned: str | None  # the primary code the month already earns, if any
    deadline: dt.date | None  # the month's last day, None once met
    deadline_utc: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return _json(self)


def month_forecast(
    *,
    codes: Sequence[MinuteCode],
    interactive_contact: bool,
    next_threshold: tuple[str, int] | None,
    as_of: dt.date,
    month_end: dt.date,
    timezone: str,
    margin_days: int = MONTH_MARGIN_DAYS,
) -> MonthForecast | None:
    """The forecast of a calendar month under way on `as_of`: `codes` are its primary time codes that
    apply to the enrollment, in the rules' order; `next_threshold` is (code, minutes still to go) of the
    nearest one. None when the program has no time code."""
    if as_of > month_end:
        raise ValueError(f"as_of {as_of} is after the month's last day {month_end}")
    if not codes:
        return None
    days_left = (month_end - as_of).days + 1
    earned = [code for code in codes if code.earned(interactive_contact)]
    met = any(not _longer_code_open(code, codes, interactive_contact) for code in earned)
    to_go = None if next_threshold is None else next_threshold[1]
    status = Status.MET if met else Status.AT_RISK if days_left <= margin_days else Status.ON_TRACK
    return MonthForecast(
        status=status,
        days_left=days_left,
        next_code=None if next_threshold is None else next_threshold[0],
        minutes_to_next=to_go,
        minutes_per_day=None if to_go is None else math.ceil(to_go / days_left),
        interactive_contact_needed=not interactive_contact and any(code.interactive for code in codes),
        earned=earned[0].code if earned else None,
        deadline=None if met else month_end,
        deadline_utc=None if met else end_of_local_day(month_end, timezone),
    )


def _longer_code_open(code: MinuteCode, codes: Sequence[MinuteCode], interactive_contact: bool) -> bool:
    """A code needing more of the same minutes (every minute of `code` counts toward it) is not earned yet."""
    return any(
        other.minutes > code.minutes and code.performers <= other.performers and not other.earned(interactive_contact)
        for other in codes
    )


Forecast = DeviceForecast | MonthForecast


def _json(value: DayTarget | DeviceForecast | MonthForecast) -> dict[str, Any]:
    """The fields as JSON values: dates and instants in ISO 8601 (instants in UTC, with +00:00)."""
    return {
        item.name: _plain(getattr(value, item.name)) for item in dataclasses.fields(value) if item.name != "targets"
    }


def _plain(item: object) -> object:
    if isinstance(item, dt.date):  # datetimes too
        return item.isoformat()
    return str(item) if isinstance(item, Status) else item
