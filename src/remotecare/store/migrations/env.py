"""Alembic environment: runs migrations on the connection or URL RemoteCare hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from remotecare.store import models  # noqa: F401 - registers the tables
from remotecare.store.base import Base
from remotecare.store.session import make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _run(fresh)
    engine.dispose()


def _run(connection: Connection) -> None:
    # SQLite alters a table by copying it and dropping the old one. With foreign keys enforced, that drop
    # deletes (ON DELETE CASCADE) or nulls (SET NULL) the rows that point at it, or fails (RESTRICT): so
    # they are off while migrating, and every reference is checked before the migration commits.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside any transaction, or it is ignored
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left references to missing rows: {broken[:5]}")
        if connection.in_transaction():
            connection.commit()
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


run_migrations_online()
