"""Choices the rules leave to the practice (policy rules 13 and 20)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PracticeSettings:
    """`bill_99091`: bill RPM physician/QHP minutes per 30-day period as 99091 instead of
    counting them toward 99457/99458/99470. `unit_caps`: a practice's own monthly cap on
    add-on units, applied on top of the rule set's cap (e.g. {"G3003": 4})."""

    bill_99091: bool = False
    unit_caps: Mapping[str, int] = field(default_factory=dict)

    def unit_cap(self, hcpcs_code: str, rule_cap: int | None) -> int | None:
        own = self.unit_caps.get(hcpcs_code)
        if own is None:
            return rule_cap
        return own if rule_cap is None else min(own, rule_cap)

    def allows(self, setting: str | None) -> bool:
        return setting is None or bool(getattr(self, setting, False))
