"""Internal events (consent.expired) share the sequence they follow: exempt them from the
case-sequence uniqueness.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 19:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "state != 'rejected'"
_NEW = "state != 'rejected' AND source != 'internal'"


def _recreate(where: str) -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("uq_events_case_sequence")
        batch_op.create_index(
            "uq_events_case_sequence",
            ["tenant", "case_id", "sequence"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def upgrade() -> None:
    _recreate(_NEW)


def downgrade() -> None:
    _recreate(_OLD)
