"""Compare an evaluation with a scenario's `expected` lines, as a multiset."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from remotecare.rules.results import ClaimLine


class ExpectedLine(NamedTuple):
    patient: str
    code: str
    units: int
    month: str

    def __str__(self) -> str:
        return f"{self.patient} {self.code} x{self.units} in {self.month}"


def compare_expected(
    lines: Iterable[ClaimLine], expected: Iterable[ExpectedLine]
) -> tuple[list[ExpectedLine], list[ExpectedLine]]:
    """(expected but not billed, billed but not expected), each sorted."""
    got = Counter(ExpectedLine(line.patient, line.code, line.units, line.month) for line in lines)
    want = Counter(expected)
    return sorted((want - got).elements()), sorted((got - want).elements())
