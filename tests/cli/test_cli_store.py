"""`remotecare db upgrade` and `remotecare users create` against a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from remotecare.cli import app
from remotecare.config import get_settings

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REMOTECARE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_db_upgrade_creates_the_schema(database: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with create_engine(database).connect() as connection:
        tables = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars())
    assert {"patients", "audit_events", "alembic_version"} <= tables


def test_users_create_makes_the_first_admin_and_refuses_a_second_with_the_same_email(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    args = ["users", "create", "--email", "Admin@Example.test", "--practice", "Prairie Family Medicine"]
    first = runner.invoke(app, args, env={"REMOTECARE_NEW_PASSWORD": "a long enough passphrase"})
    assert first.exit_code == 0, first.output
    assert "created admin admin@example.test" in first.output
    second = runner.invoke(app, args, env={"REMOTECARE_NEW_PASSWORD": "a long enough passphrase"})
    assert second.exit_code == 2
    assert "email: admin@example.test already has an account" in second.output


def test_users_create_refuses_a_short_password_and_an_unknown_role(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    base = ["users", "create", "--email", "x@example.test", "--practice", "P"]
    short = runner.invoke(app, base, env={"REMOTECARE_NEW_PASSWORD": "short"})
    assert short.exit_code == 2 and "password: at least 12 characters" in short.output
    role = runner.invoke(app, [*base, "--role", "janitor"], env={"REMOTECARE_NEW_PASSWORD": "long enough pass"})
    assert role.exit_code == 2 and "role: one of admin" in role.output
