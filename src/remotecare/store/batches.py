"""Work for the database in bounded pieces: IN (...) lists and multi-row inserts."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Connection, text

T = TypeVar("T")

IN_LIST = 500  # values per IN (...) list: well under every database's parameter limit


def chunks(values: Iterable[T], size: int = IN_LIST) -> Iterator[list[T]]:
    ordered = list(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def next_ids(connection: Connection, table_name: str, count: int) -> list[int]:
    """PostgreSQL: `count` ids drawn from the table's sequence, so many rows can be written by one pipelined
    executemany. (INSERT ... RETURNING over many rows makes one statement of thousands of parameters, which
    the driver spends longer parsing than the server spends storing them.)"""
    if count <= 0:
        return []
    return list(connection.execute(_next_ids_statement(table_name), {"n": count}).scalars())


@functools.cache
def _next_ids_statement(table_name: str) -> Any:
    return text(f"SELECT nextval(pg_get_serial_sequence('{table_name}', 'id')) FROM generate_series(1, :n)")  # noqa: S608
