"""How a period's progress reads on a page: a bar toward the next threshold and a few words.

Only presentation: the numbers (days with data, minutes, the next threshold, the status and its
deadline) are the rules' own, from `services.worklist` and `services.patient_progress`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remotecare.rules.forecast import Status

STATUS_LABELS = {
    Status.AT_RISK: "At risk",
    Status.SHORT_CODE_ONLY: "Short code only",
    Status.ON_TRACK: "On track",
    Status.MISSED: "Missed",
    Status.MET: "Met",
}


@dataclass(frozen=True, slots=True)
class Bar:
    kind: str  # days_with_data | minutes
    value: int
    target: int
    percent: int
    label: str  # "6 / 16 days"
    detail: str  # "10 left, next reading by Nov 23"
    tone: str  # css: done | risk | ""
    interactive: bool | None  # minutes: the month has its interactive contact; days: None
    interactive_required: bool


def status_label(status: Status | None) -> str:
    return "No code" if status is None else STATUS_LABELS[status]


def progress_bar(progress: Mapping[str, Any], status: Status | None, deadline: dt.date | None) -> Bar:
    """The bar for one open period."""
    threshold = progress.get("next_threshold") or {}
    minutes = progress.get("kind") == "minutes"
    if minutes:
        value = int(progress.get("minutes", 0))
        target = int(threshold.get("minutes") or progress.get("minutes_needed") or 0)
        unit = "min"
    else:
        value = int(progress.get("days_with_data", 0))
        target = int(threshold.get("days") or progress.get("days_needed") or 0)
        unit = "days"
    percent = 100 if target <= 0 else min(100, round(100 * value / target))
    tone = "done" if status is Status.MET or (target and value >= target) else ""
    if status is Status.AT_RISK:
        tone = "risk"
    return Bar(
        kind="minutes" if minutes else "days_with_data",
        value=value,
        target=target,
        percent=percent,
        label=f"{value} / {target} {unit}",
        detail=_detail(value, target, unit, status, deadline, threshold.get("code")),
        tone=tone,
        interactive=bool(progress.get("interactive_contact")) if minutes else None,
        interactive_required=bool(progress.get("interactive_required")),
    )


def _detail(value: int, target: int, unit: str, status: Status | None, deadline: dt.date | None, code: Any) -> str:
    left = max(target - value, 0)
    if status is Status.MET or (target and not left):
        return "threshold met"
    if status is Status.MISSED:
        return "out of reach this period"
    if status is Status.SHORT_CODE_ONLY and deadline is None:
        return f"{target} days out of reach; the short code is met"
    if unit == "days":
        needed = f"{left} day{'' if left == 1 else 's'} left"
        return needed + (f", next reading by {short_day(deadline)}" if deadline else "")
    toward = f" toward {code}" if code else ""
    return f"{left} min left{toward}" + (f", by {short_day(deadline)}" if deadline else "")


def short_day(day: dt.date | None) -> str:
    return "" if day is None else f"{day:%b} {day.day}"
