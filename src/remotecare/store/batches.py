"""Work for the database in bounded pieces: IN (...) lists and multi-row inserts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

IN_LIST = 500  # values per IN (...) list: well under every database's parameter limit


def chunks(values: Iterable[T], size: int = IN_LIST) -> Iterator[list[T]]:
    ordered = list(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
