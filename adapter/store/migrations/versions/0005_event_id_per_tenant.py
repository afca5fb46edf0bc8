"""An event id is unique within its tenant, not across tenants: a push of one tenant that
reuses another tenant's event id (the examples' ids are guessable uuid5 values) must not
turn that tenant's real event into a conflict.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "state != 'rejected' AND event_id IS NOT NULL"


def upgrade() -> None:
    # Unique per event id implies unique per (tenant, event id): no stored row can violate it.
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("uq_events_event_id")
        batch_op.create_index(
            "uq_events_tenant_event_id",
            ["tenant", "event_id"],
            unique=True,
            sqlite_where=sa.text(_LIVE),
            postgresql_where=sa.text(_LIVE),
        )


def downgrade() -> None:
    # Fails when two tenants hold one event id: that is exactly what the old index forbade.
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("uq_events_tenant_event_id")
        batch_op.create_index(
            "uq_events_event_id",
            ["event_id"],
            unique=True,
            sqlite_where=sa.text(_LIVE),
            postgresql_where=sa.text(_LIVE),
        )
