"""The durable store: SQLAlchemy 2 asyncio on SQLite (default) or PostgreSQL, Alembic migrations.

`open_store(url)` gives a `Store`; its methods are documented per concept in
`events_repo`, `outbox` (the claim/lease protocol), `cases_repo`, `links_repo`,
`cursors_repo` and `audit_repo`.
"""

from __future__ import annotations

from adapter.store.cases_repo import CaseVersionConflict
from adapter.store.engine import open_store
from adapter.store.migrate import pending, upgrade
from adapter.store.records import (
    AuditEntry,
    CaseKey,
    CaseRecord,
    CursorRecord,
    EventStateChange,
    InboundEvent,
    ParkedOperation,
    PlanCommit,
    RejectedRecord,
    StoredEvent,
    StoredOperation,
)
from adapter.store.states import EventSource, EventState, InsertOutcome, OperationState, Target
from adapter.store.store import Store

__all__ = [
    "AuditEntry",
    "CaseKey",
    "CaseRecord",
    "CaseVersionConflict",
    "CursorRecord",
    "EventSource",
    "EventState",
    "EventStateChange",
    "InboundEvent",
    "InsertOutcome",
    "OperationState",
    "ParkedOperation",
    "PlanCommit",
    "RejectedRecord",
    "Store",
    "StoredEvent",
    "StoredOperation",
    "Target",
    "open_store",
    "pending",
    "upgrade",
]
