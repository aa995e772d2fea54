"""Patient check-ins: signed per-patient check-in links; the practice's check-in settings; a patient's
scheduled medications, usual check-in time and SMS opt-out.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 00:19:53.131508
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import remotecare.store.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkin_links",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("last_used_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_checkin_links_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_checkin_links_patient_id_patients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_checkin_links_practice_id_practices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_checkin_links_revoked_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_checkin_links_token_hash")),
    )
    with op.batch_alter_table("checkin_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_links_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index("ix_checkin_links_practice_patient", ["practice_id", "patient_id"], unique=False)

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "medications",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(sa.Column("checkin_time", sa.String(length=5), nullable=True))
        batch_op.add_column(
            sa.Column("sms_opted_out_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "checkin_settings",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_column("checkin_settings")

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("sms_opted_out_at")
        batch_op.drop_column("checkin_time")
        batch_op.drop_column("medications")

    with op.batch_alter_table("checkin_links", schema=None) as batch_op:
        batch_op.drop_index("ix_checkin_links_practice_patient")
        batch_op.drop_index(batch_op.f("ix_checkin_links_practice_id"))

    op.drop_table("checkin_links")
