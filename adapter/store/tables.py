"""The store's schema: one SQLAlchemy Core `MetaData` for SQLite and PostgreSQL alike.

Tables: `events` (the inbox, incl. rejected input), `cases` (the planner's state per case),
`operations` (the outbox), `links` (internal id → remote id), `cursors` (feed positions),
`audit` (operator and service actions), `polls` (when each feed was last read). The Alembic
migrations in `migrations/` create exactly this; a test compares the two.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Enum,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

from adapter.store.states import EventSource, EventState, OperationState, Target
from adapter.store.types import UTCDateTime

__all__ = ["audit", "cases", "cursors", "events", "links", "metadata", "operations", "polls"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# An integer primary key that is SQLite's rowid alias (autoincrement) and BIGINT elsewhere.
_Id = BigInteger().with_variant(Integer(), "sqlite")


def _enum(cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, values are the enum values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


events = Table(
    "events",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    # Null only for input that could not be parsed far enough to find an id.
    Column("event_id", String(64)),
    Column("tenant", String(64)),
    Column("case_id", String(64)),
    Column("sequence", BigInteger),
    Column("type", String(64)),
    Column("occurred_at", UTCDateTime),
    Column("payload", Text, nullable=False),  # the raw event, exactly as received
    Column("content_hash", String(128)),
    Column("state", _enum(EventState, "event_state"), nullable=False),
    Column("reason", Text),
    Column("field", String(255)),
    Column("source", _enum(EventSource, "event_source"), nullable=False),
    Column("source_ref", Text),
    Column("line", Integer),
    Column("received_at", UTCDateTime, nullable=False),
    Column("planned_at", UTCDateTime),
)
# Rejected rows keep whatever id/sequence they claimed, so they are left out of uniqueness.
# An event id is unique within its tenant only: no tenant can block another's events.
Index(
    "uq_events_tenant_event_id",
    events.c.tenant,
    events.c.event_id,
    unique=True,
    sqlite_where=text("state != 'rejected' AND event_id IS NOT NULL"),
    postgresql_where=text("state != 'rejected' AND event_id IS NOT NULL"),
)
# Internal events (consent.expired) carry the sequence they follow, so they are left out too.
Index(
    "uq_events_case_sequence",
    events.c.tenant,
    events.c.case_id,
    events.c.sequence,
    unique=True,
    sqlite_where=text("state != 'rejected' AND source != 'internal'"),
    postgresql_where=text("state != 'rejected' AND source != 'internal'"),
)
Index("ix_events_state_tenant", events.c.state, events.c.tenant)

cases = Table(
    "cases",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("state", Text, nullable=False),  # the planner's case state, JSON text
    Column("last_sequence_planned", BigInteger, nullable=False, server_default=text("0")),
    Column("closed_at", UTCDateTime),
    Column("purged_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),  # optimistic lock: +1 on every save
)

operations = Table(
    "operations",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),  # also the global order (seq)
    Column("op_ref", String(255), nullable=False, unique=True),
    Column("tenant", String(64), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("target", _enum(Target, "op_target"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("link", String(255)),  # links-table key the created remote id is recorded under
    Column("payload", Text, nullable=False),  # JSON text
    Column("waits_for", String(255)),  # op_ref that must be done (or skipped) first
    Column("cause_sequence", BigInteger),
    Column("state", _enum(OperationState, "op_state"), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime),
    Column("lease_owner", String(255)),
    Column("leased_until", UTCDateTime),
    # An earlier attempt may have taken effect remotely: look up op_ref before re-creating.
    Column("may_exist", Boolean, nullable=False, server_default=false()),
    Column("last_error", Text),
    Column("last_status", Integer),
    Column("remote_id", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
)
# One operation in flight per case and target: the guard behind the claim query.
Index(
    "uq_operations_in_flight",
    operations.c.tenant,
    operations.c.case_id,
    operations.c.target,
    unique=True,
    sqlite_where=text("state = 'in_flight'"),
    postgresql_where=text("state = 'in_flight'"),
)
# The claim reads waiting operations in `id` order and stops at its limit (see
# adapter.store.outbox): an index of just those rows, in that order.
Index(
    "ix_operations_waiting",
    operations.c.id,
    sqlite_where=text("state IN ('pending', 'unknown')"),
    postgresql_where=text("state IN ('pending', 'unknown')"),
)
Index(
    "ix_operations_case",
    operations.c.tenant,
    operations.c.case_id,
    operations.c.target,
    operations.c.id,
)

links = Table(
    "links",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("target", _enum(Target, "link_target"), primary_key=True),
    Column("internal_ref", String(255), primary_key=True),
    Column("remote_id", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The last poll of each tenant's feed, successful or not: the cursor's `updated_at` only
# moves with new events, so a quiet feed that answers fine would look stale.
polls = Table(
    "polls",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("last_success_at", UTCDateTime),
    Column("last_failure_at", UTCDateTime),
    Column("last_error", Text),  # our own short text (class, host/path, status), no body
    Column("updated_at", UTCDateTime, nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),  # OS user, or "service"
    Column("action", String(64), nullable=False),
    Column("tenant", String(64)),
    Column("case_id", String(64)),
    Column("subject", Text),  # e.g. an op_ref or event_id
    Column("reason", Text),
    Column("details", Text, nullable=False),  # JSON object
)
Index("ix_audit_case", audit.c.tenant, audit.c.case_id, audit.c.at)
