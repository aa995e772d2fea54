"""The care team's workflow: alert thresholds and triage, running timers and time spent on alerts, versioned
care plans with strengths and desired outcomes, patients' contact details, and the reminder outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:25:08.836591
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import remotecare.store.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "sent", "failed", name="outbox_status", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sender", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_outbox_messages_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_outbox_messages_patient_id_patients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_outbox_messages_practice_id_practices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index("ix_outbox_messages_practice_status", ["practice_id", "status"], unique=False)

    op.create_table(
        "care_plan_versions",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("care_plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("changes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["care_plan_id"],
            ["care_plans.id"],
            name=op.f("fk_care_plan_versions_care_plan_id_care_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("fk_care_plan_versions_changed_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_care_plan_versions_practice_id_practices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan_versions")),
        sa.UniqueConstraint("care_plan_id", "version", name=op.f("uq_care_plan_versions_care_plan_id_version")),
    )
    with op.batch_alter_table("care_plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_plan_versions_care_plan_id"), ["care_plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plan_versions_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "running_timers",
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program",
            sa.Enum("RPM", "RTM", "CCM", "PCM", "CPM", "BHI", name="program", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("started_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_running_timers_alert_id_alerts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_running_timers_patient_id_patients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_running_timers_practice_id_practices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_running_timers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_running_timers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_running_timers_user_id")),
    )
    with op.batch_alter_table("running_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_running_timers_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_running_timers_practice_id"), ["practice_id"], unique=False)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("observed", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("threshold", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("acknowledged_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column("acknowledged_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("resolved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("resolved_at", remotecare.store.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_alerts_practice_id_patient_id_dedup_key"), ["practice_id", "patient_id", "dedup_key"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_acknowledged_by_users"), "users", ["acknowledged_by"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_resolved_by_users"), "users", ["resolved_by"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("care_plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "strengths",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(
            sa.Column(
                "desired_outcomes",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column(
                "alert_overrides",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )

    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alert_overrides",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )

    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.create_index(
            "ix_time_entries_practice_user_day", ["practice_id", "user_id", "service_date"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_time_entries_alert_id_alerts"), "alerts", ["alert_id"], ["id"], ondelete="RESTRICT"
        )


def downgrade() -> None:
    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_time_entries_alert_id_alerts"), type_="foreignkey")
        batch_op.drop_index("ix_time_entries_practice_user_day")
        batch_op.drop_column("alert_id")

    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_column("alert_overrides")

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("alert_overrides")
        batch_op.drop_column("email")
        batch_op.drop_column("phone")

    with op.batch_alter_table("care_plans", schema=None) as batch_op:
        batch_op.drop_column("desired_outcomes")
        batch_op.drop_column("strengths")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_alerts_resolved_by_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_alerts_acknowledged_by_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_alerts_practice_id_patient_id_dedup_key"), type_="unique")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("threshold")
        batch_op.drop_column("observed")
        batch_op.drop_column("message")
        batch_op.drop_column("dedup_key")

    with op.batch_alter_table("running_timers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_running_timers_practice_id"))
        batch_op.drop_index(batch_op.f("ix_running_timers_patient_id"))

    op.drop_table("running_timers")
    with op.batch_alter_table("care_plan_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_plan_versions_practice_id"))
        batch_op.drop_index(batch_op.f("ix_care_plan_versions_care_plan_id"))

    op.drop_table("care_plan_versions")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_practice_status")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_practice_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_messages_patient_id"))

    op.drop_table("outbox_messages")
