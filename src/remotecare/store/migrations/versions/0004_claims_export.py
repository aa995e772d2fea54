"""What claims carry: the practice's tax id, address, place of service and payer; patients' sex and
address; physicians' NPIs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:19:07.959187
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sex", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("address_line1", sa.String(length=55), nullable=True))
        batch_op.add_column(sa.Column("address_line2", sa.String(length=55), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("postal_code", sa.String(length=10), nullable=True))

    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_id", sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column("place_of_service", sa.String(length=2), nullable=False, server_default="11"))
        batch_op.add_column(sa.Column("payer_name", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("payer_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("address_line1", sa.String(length=55), nullable=True))
        batch_op.add_column(sa.Column("address_line2", sa.String(length=55), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("postal_code", sa.String(length=10), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("npi", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("npi")

    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_column("postal_code")
        batch_op.drop_column("state")
        batch_op.drop_column("city")
        batch_op.drop_column("address_line2")
        batch_op.drop_column("address_line1")
        batch_op.drop_column("phone")
        batch_op.drop_column("payer_id")
        batch_op.drop_column("payer_name")
        batch_op.drop_column("place_of_service")
        batch_op.drop_column("tax_id")

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("postal_code")
        batch_op.drop_column("state")
        batch_op.drop_column("city")
        batch_op.drop_column("address_line2")
        batch_op.drop_column("address_line1")
        batch_op.drop_column("sex")
