"""Compliance: the self-audit's settings per practice, each enrollment's ordering provider and monitored
conditions (what the OIG asked CMS to require on claims), and the time ledger's history (versions, deletions).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 23:07:05.991584
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import remotecare.store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "time_entry_versions",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("time_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("changes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("fk_time_entry_versions_changed_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_time_entry_versions_practice_id_practices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["time_entry_id"],
            ["time_entries.id"],
            name=op.f("fk_time_entry_versions_time_entry_id_time_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entry_versions")),
        sa.UniqueConstraint("time_entry_id", "version", name=op.f("uq_time_entry_versions_time_entry_id_version")),
    )
    with op.batch_alter_table("time_entry_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_time_entry_versions_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_time_entry_versions_time_entry_id"), ["time_entry_id"], unique=False)

    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ordering_provider_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "monitored_conditions",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_enrollments_ordering_provider_id_users"),
            "users",
            ["ordering_provider_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "audit_settings",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )

    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("deleted_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("delete_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_time_entries_deleted_by_users"), "users", ["deleted_by"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_time_entries_deleted_by_users"), type_="foreignkey")
        batch_op.drop_column("delete_reason")
        batch_op.drop_column("deleted_by")
        batch_op.drop_column("deleted_at")

    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_column("audit_settings")

    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_enrollments_ordering_provider_id_users"), type_="foreignkey")
        batch_op.drop_column("monitored_conditions")
        batch_op.drop_column("ordering_provider_id")

    with op.batch_alter_table("time_entry_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_time_entry_versions_time_entry_id"))
        batch_op.drop_index(batch_op.f("ix_time_entry_versions_practice_id"))

    op.drop_table("time_entry_versions")
