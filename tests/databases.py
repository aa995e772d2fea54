"""The database the tests run on: SQLite (default) or PostgreSQL.

REMOTECARE_TEST_DATABASE=postgresql runs the same tests on the local server
(database `remotecare_test_<pid>`, created for the run and dropped after it, so two runs at once do not
collide). Every test starts from a
migrated, empty database: a copied file on SQLite, truncated tables on
PostgreSQL (so tests that need a database run one at a time there).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from remotecare.store.base import Base
from remotecare.store.migrate import upgrade
from remotecare.store.session import make_engine

PG_SERVER = os.environ.get("REMOTECARE_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_DATABASE = f"remotecare_test_{os.getpid()}"


def backend() -> str:
    return os.environ.get("REMOTECARE_TEST_DATABASE", "sqlite")


def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend() == "postgresql":
        admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
        url = f"{PG_SERVER}/{PG_DATABASE}"
        upgrade(url)
        yield url
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    yield str(path)


def fresh_database(template: str, folder: Path) -> str:
    """A migrated, empty database: a copy of the template file, or the PostgreSQL one truncated."""
    if backend() == "postgresql":
        engine = make_engine(template)
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "remotecare.db"
    shutil.copy(template, copy)
    return f"sqlite:///{copy}"
