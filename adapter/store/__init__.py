"""The durable store: SQLAlchemy 2 asyncio on SQLite (default) or PostgreSQL, Alembic migrations.

`open_store(url)` gives a `Store` holding one repository per concept: `store.events`
(`events_repo`), `store.cases` (`cases_repo`), `store.outbox` (`outbox`, the claim/lease
protocol), `store.links`, `store.cursors`, `store.audit`, `store.retention` (and
`store.status`). What the dispatcher, the jobs and the planning step need of it are the
protocols of `ports`; `memory` implements them in memory for unit tests.
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
