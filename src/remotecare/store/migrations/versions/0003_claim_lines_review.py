"""Claim lines found again by a re-run (one per enrollment, code and period), and flagged for review when
late data would change a line already approved or exported.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_claim_lines_practice_id_enrollment_id_code_period_start"),
            ["practice_id", "enrollment_id", "code", "period_start"],
        )


def downgrade() -> None:
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_claim_lines_practice_id_enrollment_id_code_period_start"), type_="unique"
        )
        batch_op.drop_column("review_note")
        batch_op.drop_column("needs_review")
