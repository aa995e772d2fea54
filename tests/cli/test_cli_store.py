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


def test_a_care_team_gets_staff_and_grants_from_the_command_line(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    env = {"REMOTECARE_NEW_PASSWORD": "a long enough passphrase"}
    admin = runner.invoke(app, ["users", "create", "--email", "a@example.test", "--practice", "Prairie"], env=env)
    assert admin.exit_code == 0, admin.output
    nurse = ["users", "create", "--email", "n@team.example", "--care-team", "Remote Co", "--role", "clinical_staff"]
    made = runner.invoke(app, nurse, env=env)
    assert made.exit_code == 0 and "in care team 1" in made.output, made.output
    both = runner.invoke(
        app, [*nurse[:3], "x@team.example", "--care-team", "Remote Co", "--practice", "Prairie"], env=env
    )
    assert both.exit_code == 2 and "name a practice or a care team" in both.output
    biller = ["users", "create", "--email", "b@team.example", "--care-team", "Remote Co", "--role", "biller"]
    assert "a care team's staff are clinical staff" in runner.invoke(app, biller, env=env).output
    grant = ["care-teams", "grant", "--practice", "Prairie", "--team", "Remote Co", "--programs", "rpm, CCM"]
    given = runner.invoke(app, grant)
    assert given.exit_code == 0 and "Remote Co works CCM, RPM at Prairie" in given.output, given.output
    again = runner.invoke(app, grant)
    assert again.exit_code == 2 and "is in force" in again.output
    unknown = runner.invoke(
        app, ["care-teams", "grant", "--practice", "Nowhere", "--team", "Remote Co", "--programs", "RPM"]
    )
    assert unknown.exit_code == 2 and "practice: no practice named 'Nowhere'" in unknown.output
    bad = runner.invoke(app, ["care-teams", "grant", "--practice", "Prairie", "--team", "T", "--programs", "XYZ"])
    assert bad.exit_code == 2 and "programs: each one of" in bad.output


def test_a_migration_that_copies_a_table_keeps_the_rows_that_point_at_it(tmp_path: Path) -> None:
    """SQLite alters `users` (0009) by copying it: with foreign keys enforced, dropping the old table would
    have deleted the logins (ON DELETE CASCADE) and refused for the time entries (RESTRICT)."""
    from alembic import command

    from remotecare.store.migrate import alembic_config, upgrade
    from remotecare.store.session import make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0008")
    engine = make_engine(url)
    stamps = "'2026-01-01', '2026-01-01'"
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO practices (name, timezone, place_of_service, alert_overrides, audit_settings, created_at, "
            f"updated_at) VALUES ('P', 'America/Chicago', '11', '{{}}', '{{}}', {stamps})",
            "INSERT INTO users (practice_id, email, full_name, role, password_hash, active, created_at, updated_at, "
            f"version) VALUES (1, 'a@example.test', 'A', 'admin', '!', 1, {stamps}, 1)",
            "INSERT INTO auth_sessions (user_id, token_hash, created_at, expires_at) VALUES (1, 'h', "
            "'2026-01-01', '2027-01-01')",
            "INSERT INTO patients (practice_id, given_name, family_name, birth_date, medicare_id, timezone, "
            "conditions, established, alert_overrides, created_at, updated_at, version) VALUES (1, 'S', 'P', "
            f"'1950-01-01', '1EG4TE5MK73', 'America/Chicago', '[]', 1, '{{}}', {stamps}, 1)",
            "INSERT INTO time_entries (practice_id, patient_id, user_id, program, performer, service_date, minutes, "
            f"interactive, created_at, updated_at, version) VALUES (1, 1, 1, 'RPM', 'clinical_staff', '2026-01-02', "
            f"10, 0, {stamps}, 1)",
        ):
            connection.execute(text(statement))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        kept = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("auth_sessions", "time_entries")
        ]
        enforced = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    engine.dispose()
    assert kept == [1, 1] and enforced == 1
