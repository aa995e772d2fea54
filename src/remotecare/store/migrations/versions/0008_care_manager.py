"""Each patient's care manager: the clinical staff member whose worklist the patient is on (the web
worklist filters by it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 23:32:32.333470
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("care_manager_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_patients_care_manager_id_users"), "users", ["care_manager_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_patients_care_manager_id_users"), type_="foreignkey")
        batch_op.drop_column("care_manager_id")
