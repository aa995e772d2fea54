"""Work for the database in bounded pieces: IN (...) lists and multi-row inserts."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, text

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


def driver_rows(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ready: Collection[str] = (),
) -> list[tuple[Any, ...]]:
    """Rows as the database driver takes them: each value through its column's SQLAlchemy converter, as a
    Core statement would, without the per-row bookkeeping that costs more than storing the row. Columns
    named in `ready` are passed as they are (a JSON document serialized already, say)."""
    dialect = connection.dialect
    converters = [
        None if name in ready else table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    return [
        tuple(value if convert is None else convert(value) for convert, value in zip(converters, row, strict=True))
        for row in rows
    ]


def copy_rows(connection: Connection, table_name: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: rows as psycopg's COPY takes them (`driver_rows` makes them so) written by COPY, the
    server's bulk path, in the connection's transaction."""
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table_name} ({columns}) FROM STDIN") as copy:  # our own names
        for row in rows:
            copy.write_row(row)


def sqlite_insert(connection: Connection, table: Table, names: Sequence[str], rows: list[tuple[Any, ...]]) -> list[int]:
    """SQLite: rows in driver form (`driver_rows`) in one executemany, and the ids they were given. This
    transaction holds SQLite's only write lock from its first write, and SQLite gives each new row the next
    rowid, so the rows written are the table's last `len(rows)` ids; checked, never assumed."""
    if not rows:
        return []
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", rows)  # our own names
    last = connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
    ids = list(range(last - len(rows) + 1, last + 1))
    stored = connection.exec_driver_sql(
        f"SELECT count(*) FROM {table.name} WHERE id BETWEEN ? AND ?",  # noqa: S608 - our own names
        (ids[0], last),
    ).scalar_one()
    if stored != len(rows):
        raise RuntimeError(f"{table.name}: {len(rows)} rows written but ids {ids[0]}..{last} hold {stored}")
    return ids
