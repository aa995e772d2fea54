"""An index on the audit trail by record (practice, entity, entity id): what happened to one record, and
whether an inbound SMS message was seen before, without reading the practice's whole trail.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 01:00:49.951679
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX: the append-only table is never copied (its triggers refuse changes).
    op.create_index("ix_audit_events_practice_entity", "audit_events", ["practice_id", "entity", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_practice_entity", table_name="audit_events")
