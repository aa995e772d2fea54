"""Care teams and memberships: a care team's staff work the practices that grant it access (per program,
revocable); a user may hold a role in several practices. A user is staff of a practice or of a care team.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 23:46:22.670510
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import remotecare.store.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_teams",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_care_teams_name")),
    )
    op.create_table(
        "care_team_grants",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("care_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "programs", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False, server_default="[]"
        ),
        sa.Column("granted_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("revoked_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["care_team_id"],
            ["care_teams.id"],
            name=op.f("fk_care_team_grants_care_team_id_care_teams"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_care_team_grants_granted_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_care_team_grants_practice_id_practices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_care_team_grants_revoked_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team_grants")),
    )
    with op.batch_alter_table("care_team_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_team_grants_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index("ix_care_team_grants_team_practice", ["care_team_id", "practice_id"], unique=False)

    op.create_table(
        "practice_memberships",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "physician",
                "clinical_staff",
                "biller",
                "integrator",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_practice_memberships_practice_id_practices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_practice_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_memberships")),
        sa.UniqueConstraint("user_id", "practice_id", name=op.f("uq_practice_memberships_user_id_practice_id")),
    )
    with op.batch_alter_table("practice_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_practice_memberships_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_practice_memberships_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("care_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.alter_column(
            "practice_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        )
        batch_op.create_check_constraint("practice_or_care_team", "(practice_id IS NULL) <> (care_team_id IS NULL)")
        batch_op.create_index(batch_op.f("ix_users_care_team_id"), ["care_team_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_care_team_id_care_teams"), "care_teams", ["care_team_id"], ["id"], ondelete="RESTRICT"
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_care_team_id_care_teams"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_care_team_id"))
        batch_op.drop_constraint(batch_op.f("ck_users_practice_or_care_team"), type_="check")
        batch_op.alter_column(
            "practice_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        )
        batch_op.drop_column("care_team_id")

    with op.batch_alter_table("practice_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_practice_memberships_practice_id"))

    op.drop_table("practice_memberships")
    with op.batch_alter_table("care_team_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_care_team_grants_team_practice")
        batch_op.drop_index(batch_op.f("ix_care_team_grants_practice_id"))

    op.drop_table("care_team_grants")
    op.drop_table("care_teams")
