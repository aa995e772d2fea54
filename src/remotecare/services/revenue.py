"""The monthly revenue report: claim lines per month, program and code, with what they pay.

Counted in SQL (lines and units per program, code and date of service); the
payment of each code comes from the rule set in force on the date of service.
Void lines are left out; the report says how much of the rest is approved or
exported, and how much is still only proposed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from remotecare.rules import load_rules
from remotecare.store.models import ClaimLine, ClaimStatus, Enrollment


@dataclass(frozen=True, slots=True)
class RevenueRow:
    month: str
    program: str
    code: str
    lines: int
    units: int
    amount_usd: Decimal | None  # None when the rule set gives no payment for the code
    proposed_units: int

    def as_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "program": self.program,
            "code": self.code,
            "lines": self.lines,
            "units": self.units,
            "amount_usd": None if self.amount_usd is None else str(self.amount_usd),
            "proposed_units": self.proposed_units,
        }


def revenue(session: Session, practice_id: int, start: dt.date, end: dt.date) -> list[RevenueRow]:
    proposed = case((ClaimLine.status == ClaimStatus.PROPOSED, ClaimLine.units), else_=0)
    rows = session.execute(
        select(
            ClaimLine.service_date,
            Enrollment.program,
            ClaimLine.code,
            func.count(),
            func.sum(ClaimLine.units),
            func.sum(proposed),
        )
        .join(Enrollment, Enrollment.id == ClaimLine.enrollment_id)
        .where(
            ClaimLine.practice_id == practice_id,
            ClaimLine.status != ClaimStatus.VOID,
            ClaimLine.service_date >= start,
            ClaimLine.service_date <= end,
        )
        .group_by(ClaimLine.service_date, Enrollment.program, ClaimLine.code)
    )
    rules = load_rules()
    totals: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, 0, Decimal(0), 0])
    for day, program, code, lines, units, proposed_units in rows:
        key = (day.strftime("%Y-%m"), str(program), code)
        total = totals[key]
        total[0] += lines
        total[1] += units
        total[3] += proposed_units
        payment = rules.national_payment(code, day)
        total[2] = None if payment is None or total[2] is None else total[2] + payment * units
    return [
        RevenueRow(month, program, code, lines, units, amount, proposed_units)
        for (month, program, code), (lines, units, amount, proposed_units) in sorted(totals.items())
    ]
