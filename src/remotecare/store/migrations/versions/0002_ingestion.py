"""Ingestion: vendor integrations, the review queue of held readings, and provenance on each reading.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:58:20.693733
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import remotecare.store.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_received_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_integrations_practice_id_practices"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
    )
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integrations_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "held_readings",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("integration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("device_serial", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column(
            "values", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("effective_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("content_key", sa.String(length=64), nullable=False),
        sa.Column(
            "provenance", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("held", "released", "discarded", name="held_status", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("received_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("observation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_held_readings_integration_id_integrations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_held_readings_observation_id_observations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_held_readings_practice_id_practices"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_readings")),
        sa.UniqueConstraint("practice_id", "content_key", name=op.f("uq_held_readings_practice_id_content_key")),
    )
    with op.batch_alter_table("held_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_readings_practice_id"), ["practice_id"], unique=False)

    with op.batch_alter_table("device_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_device_assignments_practice_device", ["practice_id", "device_id"], unique=False)

    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "provenance",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("device_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_device_assignments_practice_device")

    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("provenance")

    with op.batch_alter_table("held_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_readings_practice_id"))

    op.drop_table("held_readings")
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrations_practice_id"))

    op.drop_table("integrations")
