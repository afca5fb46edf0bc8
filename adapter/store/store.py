"""`Store`: the one handle on the durable store, holding one repository per concept.

`store.events` (the inbox), `store.cases`, `store.outbox` (operations), `store.links`,
`store.cursors`, `store.audit` and `store.retention`; every public repository method is one
transaction. Use it as an async context manager::

    async with await open_store(url) as store:
        outcome = await store.events.insert_event(rec)
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapter.errors import StoreError
from adapter.store.audit_repo import AuditRepo
from adapter.store.cases_repo import CasesRepo
from adapter.store.cursors_repo import CursorsRepo
from adapter.store.database import Database, ensure_reachable
from adapter.store.events_repo import EventsRepo
from adapter.store.links_repo import LinksRepo
from adapter.store.migrate import pending_on
from adapter.store.outbox import OperationsRepo
from adapter.store.retention_repo import RetentionRepo
from adapter.store.status_repo import StatusRepo

__all__ = ["Store"]


class Store:
    """The durable store: events (inbox), cases, operations (outbox), links, cursors, audit,
    and the retention purge, one repository each, all on one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.events = EventsRepo(db)
        self.cases = CasesRepo(db)
        self.outbox = OperationsRepo(db)
        self.links = LinksRepo(db)
        self.cursors = CursorsRepo(db)
        self.audit = AuditRepo(db)
        self.retention = RetentionRepo(db)
        self.status = StatusRepo(db)
        """Status queries for operators (`stafett status`, the status page, the gauges)."""

    @property
    def engine(self) -> AsyncEngine:
        """The underlying engine (for health checks and tests; repositories use their own SQL)."""
        return self._db.engine

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._db.backend

    async def check(self) -> None:
        """Readiness: raise `StoreError` unless the database answers and no migration is pending."""
        await ensure_reachable(self._db.engine)
        todo = await pending_on(self._db.engine)
        if todo:
            raise StoreError(
                f"database has pending migrations ({', '.join(todo)}): run 'stafett db upgrade'"
            )

    @contextlib.asynccontextmanager
    async def singleton(self, name: str) -> AsyncIterator[bool]:
        """Whether this replica may run the periodic job `name` now (yields True or False).

        PostgreSQL: a session advisory lock, held for the duration of the block, so only one
        replica runs reconcile or deadlines at a time; SQLite runs one replica: always True.
        """
        if not self._db.is_postgresql:
            yield True
            return
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        async with self._db.engine.connect() as conn:
            got = bool(
                (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
            )
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()

    async def close(self) -> None:
        """Release every connection."""
        await self._db.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
