"""Indexes by (practice, patient) on the tables a billing run reads a slice of patients at a time: without
them SQLite searched by practice alone, reading every row of a large practice once per slice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 20:38:00.391316
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.create_index("ix_claim_lines_practice_patient", ["practice_id", "patient_id"], unique=False)

    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index("ix_consents_practice_patient", ["practice_id", "patient_id"], unique=False)

    with op.batch_alter_table("device_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_device_assignments_practice_patient", ["practice_id", "patient_id"], unique=False)

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.create_index("ix_encounters_practice_patient", ["practice_id", "patient_id"], unique=False)

    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index("ix_enrollments_practice_patient", ["practice_id", "patient_id"], unique=False)

    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.create_index("ix_time_entries_practice_patient", ["practice_id", "patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_time_entries_practice_patient")

    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollments_practice_patient")

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index("ix_encounters_practice_patient")

    with op.batch_alter_table("device_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_device_assignments_practice_patient")

    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_practice_patient")

    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_lines_practice_patient")
