"""The self-audit's thresholds: the OIG's values by default, a practice's own where it chose them."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

# --- settings --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """The thresholds in force: the OIG's values unless the practice chose its own."""

    spike_increase_pct: float = 150
    spike_min_new_enrollees: int = 100
    no_prior_relationship_pct: float = 80
    no_management_pct: float = 75
    device_supply_lines_per_month: int = 2
    prior_relationship_since: dt.date = dt.date(2021, 1, 1)

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["prior_relationship_since"] = self.prior_relationship_since.isoformat()
        return values


class AuditSettingsError(ValueError):
    """A practice's setting that cannot be used; `field` names it (`audit_settings.no_management_pct`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


# name -> (kind, lowest, highest): a share is a percentage of enrollees, so it stays within 0..100.
_BOUNDS: dict[str, tuple[str, Any, Any]] = {
    "spike_increase_pct": ("number", 1, 10_000),
    "spike_min_new_enrollees": ("whole", 1, 1_000_000),
    "no_prior_relationship_pct": ("number", 0, 100),
    "no_management_pct": ("number", 0, 100),
    "device_supply_lines_per_month": ("whole", 2, 31),
    "prior_relationship_since": ("date", dt.date(2000, 1, 1), dt.date(2100, 12, 31)),
}
SETTING_NAMES = tuple(field.name for field in fields(AuditSettings))


def audit_settings(overrides: Mapping[str, object] | None = None, *, field: str = "audit_settings") -> AuditSettings:
    """The defaults with the practice's overrides applied; raises `AuditSettingsError` naming the field."""
    if overrides is None:
        return AuditSettings()
    if not isinstance(overrides, Mapping):
        raise AuditSettingsError(field, "must map setting names to values")
    changes = {name: _setting(f"{field}.{name}", name, value) for name, value in overrides.items()}
    return replace(AuditSettings(), **changes)


def _setting(field: str, name: object, value: object) -> Any:
    if not isinstance(name, str) or name not in _BOUNDS:
        raise AuditSettingsError(field, f"is not a setting (one of {', '.join(SETTING_NAMES)})")
    kind, lowest, highest = _BOUNDS[name]
    if kind == "date":
        day = _date(value)
        if day is None or not lowest <= day <= highest:
            raise AuditSettingsError(field, f"must be a date (YYYY-MM-DD) from {lowest} to {highest}")
        return day
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuditSettingsError(field, "must be a number")
    if kind == "whole" and not (isinstance(value, int) or value.is_integer()):
        raise AuditSettingsError(field, "must be a whole number")
    if not lowest <= value <= highest:
        raise AuditSettingsError(field, f"{value:g} is outside {lowest} to {highest}")
    return int(value) if kind == "whole" else value


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None
