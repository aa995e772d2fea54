"""The store itself: migrations match the models, the audit trail is append-only, times keep their zone."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import DBAPIError, StatementError

from remotecare.store.base import Base
from remotecare.store.models import AuditEvent, Observation
from tests.api.conftest import World


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_audit_events_cannot_be_changed_or_deleted(engine: Engine, world: World) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(AuditEvent).values(
                practice_id=world.practice_a,
                at=dt.datetime.now(dt.UTC),
                actor_type="user",
                actor_label="x",
                action="read",
                entity="patient",
                detail={},
            )
        )
    for statement in ("UPDATE audit_events SET action = 'tampered'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_events")).scalars().all() == ["read"]


def _weight(world: World, effective_at: dt.datetime, key: str) -> Observation:
    return Observation(
        practice_id=world.practice_a,
        patient_id=world.patients["a1"],
        type="weight",
        values={"kg": 80},
        effective_at=effective_at,
        local_date=dt.date(2025, 1, 5),
        content_key=key,
    )


def test_instants_come_back_in_utc_with_their_zone(app: FastAPI, world: World) -> None:
    chicago = dt.timezone(dt.timedelta(hours=-6))
    with app.state.session_factory() as session:
        session.add(_weight(world, dt.datetime(2025, 1, 5, 23, 30, tzinfo=chicago), "k1"))
        session.commit()
    with app.state.session_factory() as session:
        stored = session.query(Observation).one()
        assert stored.effective_at == dt.datetime(2025, 1, 6, 5, 30, tzinfo=dt.UTC)


def test_a_naive_datetime_is_refused_before_it_reaches_the_database(app: FastAPI, world: World) -> None:
    with app.state.session_factory() as session:
        session.add(_weight(world, dt.datetime(2025, 1, 5, 23, 30), "k2"))
        with pytest.raises(StatementError, match="time zone"):
            session.commit()
