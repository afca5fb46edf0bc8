"""Initial schema: events, cases, operations, links, cursors, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 08:25:10.574757
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index("ix_audit_case", ["tenant", "case_id", "at"], unique=False)

    op.create_table(
        "cases",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column(
            "last_sequence_planned", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "case_id", name=op.f("pk_cases")),
    )
    op.create_table(
        "cursors",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "name", name=op.f("pk_cursors")),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=128), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "accepted",
                "held",
                "planned",
                "rejected",
                name="event_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "file",
                "feed",
                "push",
                "internal",
                name="event_source",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("source_ref", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_state_tenant", ["state", "tenant"], unique=False)
        batch_op.create_index(
            "uq_events_case_sequence",
            ["tenant", "case_id", "sequence"],
            unique=True,
            sqlite_where=sa.text("state != 'rejected'"),
            postgresql_where=sa.text("state != 'rejected'"),
        )
        batch_op.create_index(
            "uq_events_event_id",
            ["event_id"],
            unique=True,
            sqlite_where=sa.text("state != 'rejected' AND event_id IS NOT NULL"),
            postgresql_where=sa.text("state != 'rejected' AND event_id IS NOT NULL"),
        )

    op.create_table(
        "links",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column(
            "target",
            sa.Enum(
                "samspill",
                "p360",
                name="link_target",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("internal_ref", sa.String(length=255), nullable=False),
        sa.Column("remote_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "case_id", "target", "internal_ref", name=op.f("pk_links")
        ),
    )
    op.create_table(
        "operations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("op_ref", sa.String(length=255), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column(
            "target",
            sa.Enum(
                "samspill",
                "p360",
                name="op_target",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=255), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("waits_for", sa.String(length=255), nullable=True),
        sa.Column("cause_sequence", sa.BigInteger(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "in_flight",
                "unknown",
                "done",
                "parked",
                "skipped",
                name="op_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("may_exist", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("remote_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
        sa.UniqueConstraint("op_ref", name=op.f("uq_operations_op_ref")),
    )
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_operations_case", ["tenant", "case_id", "target", "id"], unique=False
        )
        batch_op.create_index("ix_operations_claim", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "uq_operations_in_flight",
            ["tenant", "case_id", "target"],
            unique=True,
            sqlite_where=sa.text("state = 'in_flight'"),
            postgresql_where=sa.text("state = 'in_flight'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_operations_in_flight",
            sqlite_where=sa.text("state = 'in_flight'"),
            postgresql_where=sa.text("state = 'in_flight'"),
        )
        batch_op.drop_index("ix_operations_claim")
        batch_op.drop_index("ix_operations_case")

    op.drop_table("operations")
    op.drop_table("links")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_events_event_id",
            sqlite_where=sa.text("state != 'rejected' AND event_id IS NOT NULL"),
            postgresql_where=sa.text("state != 'rejected' AND event_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_events_case_sequence",
            sqlite_where=sa.text("state != 'rejected'"),
            postgresql_where=sa.text("state != 'rejected'"),
        )
        batch_op.drop_index("ix_events_state_tenant")

    op.drop_table("events")
    op.drop_table("cursors")
    op.drop_table("cases")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_case")

    op.drop_table("audit")
