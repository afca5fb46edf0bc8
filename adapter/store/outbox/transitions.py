"""The outbox's state changes: adding operations, a lease holder's outcomes and heartbeats,
giving claims back, lease expiry, a rate limit's pause, operator retry and skip, resync's
requeue. Outcomes are recorded only by the lease holder (False otherwise)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.planning.operations import Operation
from adapter.store._base import RepoBase, dialect_insert
from adapter.store.outbox.conditions import CLAIMABLE, held_by
from adapter.store.records import Completion
from adapter.store.states import OperationState, Target
from adapter.store.tables import links, operations

__all__ = ["Transitions", "add_operations_tx", "complete_all_tx", "requeue_operations_tx"]

_S = OperationState


async def add_operations_tx(
    conn: AsyncConnection, ops: Sequence[Operation], now: datetime, *, postgresql: bool
) -> int:
    """Insert `ops` in order inside an open transaction, skipping op_refs already stored."""
    added = 0
    for op in ops:
        stmt = dialect_insert(operations, postgresql_=postgresql).values(
            op_ref=op.op_ref,
            tenant=op.tenant,
            case_id=op.case_id,
            target=op.target,
            kind=op.kind.value,
            link=op.link,
            payload=to_json(op.payload).decode(),
            waits_for=op.waits_for,
            cause_sequence=op.cause_sequence,
            state=_S.PENDING,
            attempts=0,
            may_exist=False,
            created_at=now,
            updated_at=now,
        )
        result = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["op_ref"]))
        added += result.rowcount
    return added


@functools.cache
def _link_stmt(*, postgresql: bool) -> Any:
    """Put a link (tenant, case, target, key) → remote id, replacing an older one."""
    stmt = dialect_insert(links, postgresql_=postgresql)
    return stmt.on_conflict_do_update(
        index_elements=["tenant", "case_id", "target", "internal_ref"],
        set_={"remote_id": stmt.excluded.remote_id, "updated_at": stmt.excluded.updated_at},
    )


def complete_all_tx(
    conn: Connection,
    completions: Sequence[Completion],
    owner: str,
    now: datetime,
    *,
    postgresql: bool,
) -> list[bool]:
    """Record every success whose lease `owner` still holds, in one UPDATE (and one put of
    the links learnt); per completion, whether it was recorded."""
    if not completions:
        return []
    o = operations
    by_id = {c.op_id: c for c in completions}
    rows = conn.execute(
        update(o)
        .where(held_by(owner, list(by_id)))
        .values(
            state=_S.DONE,
            done_at=now,
            updated_at=now,
            # typed per value, so PostgreSQL knows them even when every one is NULL
            remote_id=case(
                {i: literal(c.remote_id, o.c.remote_id.type) for i, c in by_id.items()},
                value=o.c.id,
            ),
            last_status=case(
                {i: literal(c.status, o.c.last_status.type) for i, c in by_id.items()},
                value=o.c.id,
            ),
            last_error=None,
            lease_owner=None,
            leased_until=None,
            next_attempt_at=None,
        )
        .returning(o.c.id, o.c.tenant, o.c.case_id, o.c.target, o.c.link)
    )
    recorded: set[int] = set()
    new_links: list[dict[str, Any]] = []
    for row in rows:
        recorded.add(row.id)
        done = by_id[row.id]
        learnt = dict(done.extra_links)
        if done.remote_id is not None and row.link is not None:
            learnt[row.link] = done.remote_id
        new_links.extend(
            {
                "tenant": row.tenant,
                "case_id": row.case_id,
                "target": row.target,
                "internal_ref": key,
                "remote_id": remote,
                "created_at": now,
                "updated_at": now,
            }
            for key, remote in learnt.items()
        )
    if new_links:
        conn.execute(_link_stmt(postgresql=postgresql), new_links)
    return [c.op_id in recorded for c in completions]


async def requeue_operations_tx(
    conn: AsyncConnection,
    op_ids: Sequence[int],
    now: datetime,
    seen: Mapping[int, datetime | None] | None = None,
) -> int:
    """Inside an open transaction: `done` operations whose effect is gone remotely become
    `pending` again, due now, keeping their op_ref and place in the order, with `may_exist`
    set: the effect was missing when resync looked, but someone (a live dispatcher, another
    resync) may have made it since, so the dispatcher looks it up before it creates it.
    With `seen` (id → the `done_at` the caller saw), a row done again since is left alone:
    another resync replayed it meanwhile. Rows in any other state are left alone too.
    Returns how many."""
    if not op_ids:
        return 0
    values = {
        "state": _S.PENDING,
        "may_exist": True,
        "next_attempt_at": None,
        "attempts": 0,
        "last_error": None,
        "done_at": None,
        "updated_at": now,
    }
    done = operations.c.state == _S.DONE.value
    if seen is None:
        stmt = update(operations).where(operations.c.id.in_(list(op_ids)), done)
        return (await conn.execute(stmt.values(values))).rowcount
    requeued = 0
    for op_id in op_ids:
        at = seen.get(op_id)
        same_run = operations.c.done_at.is_(None) if at is None else operations.c.done_at == at
        stmt = update(operations).where(operations.c.id == op_id, done, same_run)
        requeued += (await conn.execute(stmt.values(values))).rowcount
    return requeued


class Transitions(RepoBase):
    """Adding operations and moving them from state to state (see the module docstring)."""

    async def add_operations(self, ops: Sequence[Operation]) -> int:
        """Append operations in the given order; an `op_ref` already stored is left as it is.

        Returns how many were new. Replaying a plan (resync) therefore adds nothing twice.
        """
        now = self._db.clock()
        pg = self._db.is_postgresql
        return await self._db.write(lambda conn: add_operations_tx(conn, ops, now, postgresql=pg))

    async def extend_lease(self, op_id: int, owner: str, until: datetime) -> bool:
        """Move the lease of an operation `owner` holds to `until` (heartbeat)."""
        return await self._by_holder(op_id, owner, {"leased_until": until})

    async def extend_leases(self, op_ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """`extend_lease` for many operations in one statement; returns the ids still held
        (an id missing from the answer lost its lease: stop working on it)."""
        if not op_ids:
            return set()
        o = operations

        async def tx(conn: AsyncConnection) -> set[int]:
            extend = update(o).where(held_by(owner, op_ids)).values(leased_until=until)
            rows = await conn.execute(extend.returning(o.c.id))
            return set(rows.scalars())

        return await self._db.write(tx)

    async def defer_operations(self, tenant: str, target: Target, until: datetime) -> int:
        """Hold every waiting (`pending`, `unknown`) operation of a tenant and target that
        would fall due before `until` until then (a rate limit's `Retry-After`, which holds
        for the tenant's client, not one operation). Returns how many were moved."""
        o = operations

        async def tx(conn: AsyncConnection) -> int:
            result = await conn.execute(
                update(o)
                .where(
                    o.c.tenant == tenant,
                    o.c.target == target.value,
                    o.c.state.in_(CLAIMABLE),
                    or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at < until),
                )
                .values(next_attempt_at=until)
            )
            return result.rowcount

        return await self._db.write(tx)

    async def fail_operation(
        self,
        op_id: int,
        owner: str,
        now: datetime,
        *,
        error: str,
        next_attempt_at: datetime,
        status: int | None = None,
    ) -> bool:
        """Record a transient failure: back to `pending`, not before `next_attempt_at`.

        The operation keeps its place: later operations of its case and target still wait.
        `error` must not contain personal data. False if the lease was lost.
        """
        return await self._by_holder(
            op_id,
            owner,
            {
                "state": _S.PENDING,
                "next_attempt_at": next_attempt_at,
                "last_error": error,
                "last_status": status,
                "updated_at": now,
            },
        )

    async def mark_unknown(
        self,
        op_id: int,
        owner: str,
        now: datetime,
        *,
        error: str,
        next_attempt_at: datetime,
        status: int | None = None,
    ) -> bool:
        """Record an ambiguous failure: `unknown`, `may_exist` set, retried (after a lookup by
        `op_ref`) from `next_attempt_at`. False if the lease was lost."""
        return await self._by_holder(
            op_id,
            owner,
            {
                "state": _S.UNKNOWN,
                "may_exist": True,
                "next_attempt_at": next_attempt_at,
                "last_error": error,
                "last_status": status,
                "updated_at": now,
            },
        )

    async def park_operation(
        self, op_id: int, owner: str, now: datetime, *, error: str, status: int | None = None
    ) -> bool:
        """Record a permanent failure: `parked` until an operator retries or skips it; later
        operations of the same case and target wait. False if the lease was lost."""
        return await self._by_holder(
            op_id,
            owner,
            {"state": _S.PARKED, "last_error": error, "last_status": status, "updated_at": now},
        )

    async def _by_holder(self, op_id: int, owner: str, values: dict[str, Any]) -> bool:
        release = {} if "leased_until" in values else {"lease_owner": None, "leased_until": None}

        async def tx(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                update(operations).where(held_by(owner, [op_id])).values({**values, **release})
            )
            return result.rowcount == 1

        return await self._db.write(tx)

    async def unclaim_operations(self, op_ids: Sequence[int], owner: str) -> int:
        """Give back operations `owner` claimed but never started: waiting again as before
        the claim (their attempt is not counted). Returns how many."""
        if not op_ids:
            return 0
        o = operations
        now = self._db.clock()

        async def tx(conn: AsyncConnection) -> int:
            result = await conn.execute(
                update(o)
                .where(held_by(owner, op_ids))
                .values(
                    state=case((o.c.may_exist, _S.UNKNOWN.value), else_=_S.PENDING.value),
                    attempts=o.c.attempts - 1,
                    lease_owner=None,
                    leased_until=None,
                    updated_at=now,
                )
            )
            return result.rowcount

        return await self._db.write(tx)

    async def release_expired_leases(self, now: datetime) -> list[str]:
        """Turn `in_flight` operations whose lease ended before `now` into `unknown` with
        `may_exist` set, due at once; returns their op_refs."""

        async def tx(conn: AsyncConnection) -> list[str]:
            expired = (
                operations.c.state == _S.IN_FLIGHT.value,
                operations.c.leased_until < now,
            )
            stmt = select(operations.c.id, operations.c.op_ref).where(*expired)
            if self._db.is_postgresql:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = (await conn.execute(stmt.order_by(operations.c.id))).all()
            if not rows:
                return []
            await conn.execute(
                update(operations)
                .where(operations.c.id.in_([r.id for r in rows]), *expired)
                .values(
                    state=_S.UNKNOWN,
                    may_exist=True,
                    next_attempt_at=now,
                    lease_owner=None,
                    leased_until=None,
                    last_error="lease expired",
                    updated_at=now,
                )
            )
            return [r.op_ref for r in rows]

        return await self._db.write(tx)

    async def retry_parked(
        self, tenant: str, case_id: str, now: datetime, target: Target | None = None
    ) -> int:
        """Operator action: parked operations of a case (optionally one target) become
        `pending`, due at `now`. Returns how many."""

        async def tx(conn: AsyncConnection) -> int:
            stmt = update(operations).where(
                operations.c.tenant == tenant,
                operations.c.case_id == case_id,
                operations.c.state == _S.PARKED.value,
            )
            if target is not None:
                stmt = stmt.where(operations.c.target == target.value)
            result = await conn.execute(
                stmt.values(state=_S.PENDING, next_attempt_at=now, updated_at=now)
            )
            return result.rowcount

        return await self._db.write(tx)

    async def requeue_operations(self, op_ids: Sequence[int], now: datetime) -> int:
        """Resync: `done` operations whose effect is gone remotely run again (see
        `requeue_operations_tx`). Returns how many."""
        if not op_ids:
            return 0
        return await self._db.write(lambda conn: requeue_operations_tx(conn, op_ids, now))

    async def skip_operation(self, op_id: int, now: datetime) -> bool:
        """Operator action: give up a `parked`, `pending` or `unknown` operation (`skipped`,
        which lets the later ones of its case and target go). False if not in such a state."""

        async def tx(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                update(operations)
                .where(
                    operations.c.id == op_id,
                    operations.c.state.in_([_S.PARKED.value, *CLAIMABLE]),
                )
                .values(state=_S.SKIPPED, updated_at=now, next_attempt_at=None)
            )
            return result.rowcount == 1

        return await self._db.write(tx)
