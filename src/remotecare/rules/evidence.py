"""The evidence each billed line carries: which days, which minutes, who."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from remotecare.domain.time_entries import TimeEntry
from remotecare.rules.counting import EnrollmentActivity


def day_evidence(activity: EnrollmentActivity, days: Iterable[dt.date]) -> dict[str, object]:
    days = sorted(days)
    start = activity.monitoring_start
    return {
        "days_with_data": len(days),
        "dates": [day.isoformat() for day in days],
        "devices": sorted({device for day in days for device in activity.data_days[day]}),
        "monitoring_start": start.isoformat() if start else None,
    }


def entry_evidence(entry: TimeEntry) -> dict[str, object]:
    return {
        "date": entry.date.isoformat(),
        "minutes": entry.minutes,
        "performer": str(entry.performer),
        "interactive": entry.interactive,
        **({"id": entry.id} if entry.id else {}),
    }


def minutes_evidence(entries: Iterable[TimeEntry], counted: Iterable[TimeEntry]) -> dict[str, object]:
    counted = list(counted)
    return {
        "minutes": sum(entry.minutes for entry in counted),
        "time_entries": [entry_evidence(entry) for entry in counted],
        "interactive_contacts": sorted({entry.date.isoformat() for entry in entries if entry.interactive}),
        "performers": sorted({str(entry.performer) for entry in counted}),
    }
