"""What the back-office pages (alerts, billing, admin) share: the practice's clock, months, and how a page
says a record is not there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.store.models import Practice
from remotecare.web.auth import Viewer
from remotecare.web.render import page

Clock = Callable[[dt.datetime | None], str]


def practice_zone(session: Session, practice_id: int) -> ZoneInfo:
    name = session.scalar(select(Practice.timezone).where(Practice.id == practice_id))
    return ZoneInfo(name or "UTC")


def clock(zone: ZoneInfo) -> Clock:
    """An instant as the practice reads it: "Nov 23, 2026, 5:37 PM"."""

    def show(value: dt.datetime | None) -> str:
        if value is None:
            return ""
        local = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone)
        hour = local.hour % 12 or 12
        return f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"

    return show


def parse_month(text: str | None, today: dt.date) -> dt.date:
    """The first day of `YYYY-MM`, or of the month before `today` when the text is missing or not a month."""
    if text:
        try:
            return dt.datetime.strptime(text.strip(), "%Y-%m").date()
        except ValueError:
            pass
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_end(start: dt.date) -> dt.date:
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def month_name(start: dt.date) -> str:
    return f"{start:%B %Y}"


def iso_day(text: str) -> str:
    """A day kept as ISO text in evidence ("2026-10-10"), as people read it ("Oct 10, 2026")."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day:%b} {day.day}, {day.year}"


def not_found(request: Request, viewer: Viewer, what: str) -> HTMLResponse:
    """Another practice's record answers exactly like one that does not exist."""
    return page(request, viewer, "error.html", 404, heading="Not found", message=f"There is no {what} here.")
