"""One fixture world for the API tests, on the database `tests/databases.py` chooses.

Every test starts from the same migrated, seeded database (see `database_url`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.api.security import hash_password, token_digest
from remotecare.config import Settings
from remotecare.store.models import AuthSession, Patient, Practice, Role, User

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


@dataclass
class World:
    """Two practices: A with one user of every role and two patients, B with an admin and a patient."""

    practice_a: int = 0
    practice_b: int = 0
    users: dict[str, int] = field(default_factory=dict)  # "a:admin", "a:physician", ..., "b:admin"
    tokens: dict[str, str] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)  # "a1", "a2", "b1"

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def seed(session: Session) -> World:
    world = World()
    a, b = Practice(name="Prairie Family Medicine", npi="1234567893"), Practice(name="Lakeside Clinic")
    session.add_all([a, b])
    session.flush()
    world.practice_a, world.practice_b = a.id, b.id
    people = [(f"a:{role.value}", a.id, role) for role in Role] + [("b:admin", b.id, Role.ADMIN)]
    for who, practice_id, role in people:
        user = User(
            practice_id=practice_id,
            email=f"{who.replace(':', '.')}@example.test",
            full_name=who,
            role=role,
            password_hash=_PASSWORD_HASH,
        )
        session.add(user)
        session.flush()
        token = f"test-token-{who.replace(':', '-')}"
        session.add(
            AuthSession(
                user_id=user.id, token_hash=token_digest(token), expires_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
            )
        )
        world.users[who], world.tokens[who] = user.id, token
    for key, practice_id, mbi in (
        ("a1", a.id, "1EG4TE5MK73"),
        ("a2", a.id, "2EG4TE5MK74"),
        ("b1", b.id, "3EG4TE5MK75"),
    ):
        patient = Patient(
            practice_id=practice_id,
            given_name="Synthetic",
            family_name=f"Patient {key}",
            birth_date=dt.date(1950, 5, 17),
            medicare_id=mbi,
            timezone="America/Chicago",
            conditions=["I10", "E11.9"],
            established=True,
        )
        session.add(patient)
        session.flush()
        world.patients[key] = patient.id
    session.commit()
    return world


@pytest.fixture
def app(database_url: str) -> Iterator[FastAPI]:
    application = create_app(Settings(database_url=database_url, cookie_secure=False))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    return app.state.engine  # type: ignore[no-any-return]


@pytest.fixture
def world(app: FastAPI) -> World:
    with app.state.session_factory() as session:
        return seed(session)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def count_rows(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
