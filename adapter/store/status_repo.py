"""Status queries: what an operator needs to judge each tenant's remotes at a glance.

The last successful poll (and the last failed one) of each tenant's feed is recorded in
`polls`; everything else is derived from the outbox (`operations`) and the inbox
(`events`): backlog and oldest open operation, last successful call (the latest `done_at`),
and the latest error still carried by an operation (its `last_error` starts with the
error's class, as the dispatcher stores it; an operation that later succeeds clears it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.store._base import RepoBase
from adapter.store.database import Database
from adapter.store.states import EventState, OperationState, Target
from adapter.store.tables import events, operations, polls

__all__ = ["PollStatus", "QueueError", "QueueStatus", "StatusRepo", "error_class"]

_OPEN = [OperationState.PENDING.value, OperationState.IN_FLIGHT.value, OperationState.UNKNOWN.value]


@dataclass(frozen=True)
class PollStatus:
    """The last poll of one tenant's feed that succeeded, and the last that failed."""

    tenant: str
    name: str
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class QueueStatus:
    """One tenant's queue to one remote: open work and the last successful call."""

    tenant: str
    target: Target
    backlog: int
    oldest_open_at: datetime | None
    parked: int
    last_done_at: datetime | None


@dataclass(frozen=True)
class QueueError:
    """The latest error still recorded on an operation of one tenant's queue to one remote."""

    tenant: str
    target: Target
    error_class: str
    status: int | None
    at: datetime


def error_class(error: str) -> str:
    """The class part of a stored `last_error` (`"RemoteTimeout: …"` → `"RemoteTimeout"`)."""
    head, sep, _ = error.partition(":")
    head = head.strip()
    if sep and head and head.isidentifier():
        return head
    return "error"


class StatusRepo(RepoBase):
    """`polls`, plus read-only summaries of `operations` and `events` per tenant and target."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_poll(
        self, tenant: str, name: str, *, ok: bool, error: str | None = None
    ) -> None:
        """Record that a poll of `tenant`'s feed `name` ended now, well (`ok`) or not.

        `error` must be the adapter's own short text (never a remote body).
        """
        now = self._db.clock()
        changes = (
            {"last_success_at": now, "updated_at": now}
            if ok
            else {"last_failure_at": now, "last_error": error, "updated_at": now}
        )

        async def tx(conn: AsyncConnection) -> None:
            await conn.execute(
                self._upsert(polls)
                .values(tenant=tenant, name=name, **changes)
                .on_conflict_do_update(index_elements=["tenant", "name"], set_=changes)
            )

        await self._db.write(tx)

    async def list_polls(self) -> list[PollStatus]:
        """Every recorded poll, by tenant and name."""

        async def tx(conn: AsyncConnection) -> list[PollStatus]:
            rows = await conn.execute(select(polls).order_by(polls.c.tenant, polls.c.name))
            return [
                PollStatus(
                    tenant=r.tenant,
                    name=r.name,
                    last_success_at=r.last_success_at,
                    last_failure_at=r.last_failure_at,
                    last_error=r.last_error,
                )
                for r in rows
            ]

        return await self._db.read(tx)

    async def queues(self) -> list[QueueStatus]:
        """Every (tenant, target) that has operations: backlog (pending, in flight, unknown),
        the creation time of the oldest open one, parked count, last `done_at`."""
        o = operations
        open_ = o.c.state.in_(_OPEN)
        parked = o.c.state == OperationState.PARKED.value
        done = o.c.state == OperationState.DONE.value
        stmt = (
            select(
                o.c.tenant,
                o.c.target,
                func.count().filter(open_).label("backlog"),
                func.min(o.c.created_at).filter(open_).label("oldest_open_at"),
                func.count().filter(parked).label("parked"),
                func.max(o.c.done_at).filter(done).label("last_done_at"),
            )
            .group_by(o.c.tenant, o.c.target)
            .order_by(o.c.tenant, o.c.target)
        )

        async def tx(conn: AsyncConnection) -> list[QueueStatus]:
            return [
                QueueStatus(
                    tenant=r.tenant,
                    target=Target(r.target),
                    backlog=r.backlog,
                    oldest_open_at=_as_utc(r.oldest_open_at),
                    parked=r.parked,
                    last_done_at=_as_utc(r.last_done_at),
                )
                for r in await conn.execute(stmt)
            ]

        return await self._db.read(tx)

    async def latest_errors(self) -> list[QueueError]:
        """Per (tenant, target), the most recently updated operation that carries an error."""
        o = operations
        latest = (
            select(
                o.c.tenant,
                o.c.target,
                o.c.last_error,
                o.c.last_status,
                o.c.updated_at,
                func.row_number()
                .over(
                    partition_by=(o.c.tenant, o.c.target),
                    order_by=(o.c.updated_at.desc(), o.c.id.desc()),
                )
                .label("rank"),
            )
            .where(o.c.last_error.is_not(None))
            .subquery()
        )
        stmt = select(latest).where(latest.c.rank == 1).order_by(latest.c.tenant, latest.c.target)

        async def tx(conn: AsyncConnection) -> list[QueueError]:
            return [
                QueueError(
                    tenant=r.tenant,
                    target=Target(r.target),
                    error_class=error_class(r.last_error),
                    status=r.last_status,
                    at=r.updated_at,
                )
                for r in await conn.execute(stmt)
            ]

        return await self._db.read(tx)

    async def held_counts(self) -> dict[str, int]:
        """Held events per tenant (tenants without any are left out)."""
        e = events
        stmt = (
            select(e.c.tenant, func.count())
            .where(e.c.state == EventState.HELD.value)
            .group_by(e.c.tenant)
        )

        async def tx(conn: AsyncConnection) -> dict[str, int]:
            return {r[0]: r[1] for r in await conn.execute(stmt)}

        return await self._db.read(tx)


def _as_utc(value: datetime | None) -> datetime | None:
    """Aggregates lose the column type on SQLite (naive text comes back): make it UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
