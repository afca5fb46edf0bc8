"""Claims scan the waiting operations in order and stop early: a partial index on `id` of
the `pending` and `unknown` rows replaces (state, next_attempt_at), whose use made every
claim read and sort all waiting operations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITING = "state IN ('pending', 'unknown')"


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index("ix_operations_claim")
        batch_op.create_index(
            "ix_operations_waiting",
            ["id"],
            unique=False,
            sqlite_where=sa.text(_WAITING),
            postgresql_where=sa.text(_WAITING),
        )


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index("ix_operations_waiting")
        batch_op.create_index("ix_operations_claim", ["state", "next_attempt_at"], unique=False)
