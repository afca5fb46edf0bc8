"""The dispatcher's turn: claim due operations under a lease, and record successes, in one
synchronous transaction on the store's writer (`Database.write_sync`).

The candidate query reads the waiting operations in `id` order through
`ix_operations_waiting` and stops at `limit` claimable ones; a claim that loses a race on
`uq_operations_in_flight` is retried row by row under savepoints.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapter.store._base import RepoBase, as_dict
from adapter.store.outbox.conditions import CLAIMABLE, claimable, held_by
from adapter.store.outbox.transitions import complete_all_tx
from adapter.store.records import Completion, StoredOperation
from adapter.store.states import OperationState
from adapter.store.tables import operations

__all__ = ["Claims"]

_S = OperationState
_CLAIM_RETRIES = 3


@functools.cache
def _candidates(*, postgresql: bool) -> Select[tuple[int, str, str, str]]:
    """The claim's candidate query, built once (bind parameters `now` and `limit`).

    It reads the waiting operations in `id` order through `ix_operations_waiting` and stops
    at `limit` claimable ones, so a claim costs the same with a backlog of 50 or 50,000.
    """
    o = operations
    stmt = (
        select(o.c.id, o.c.tenant, o.c.case_id, o.c.target)
        .where(claimable(bindparam("now", type_=o.c.next_attempt_at.type)))
        .order_by(o.c.id)
        .limit(bindparam("limit", type_=Integer()))
    )
    if postgresql:
        stmt = stmt.with_for_update(skip_locked=True, of=operations)
    return stmt


def _heads(rows: Sequence[Any]) -> list[int]:
    """The first candidate id of each (tenant, case, target): one claim per queue, ever."""
    seen: set[tuple[str, str, str]] = set()
    ids: list[int] = []
    for row in rows:
        queue = (row.tenant, row.case_id, row.target)
        if queue not in seen:
            seen.add(queue)
            ids.append(row.id)
    return ids


def _take_each(conn: Connection, ids: Sequence[int], take: Mapping[str, Any]) -> None:
    """Claim `ids` one at a time, skipping any whose queue another claimer has just taken."""
    o = operations
    for op_id in ids:
        try:
            with conn.begin_nested():
                conn.execute(
                    update(o).where(o.c.id == op_id, o.c.state.in_(CLAIMABLE)).values(take)
                )
        except IntegrityError:
            continue


def _claim_tx(
    conn: Connection,
    owner: str,
    now: datetime,
    limit: int,
    lease_s: float,
    *,
    postgresql: bool,
    one_by_one: bool,
) -> list[StoredOperation]:
    """Claim up to `limit` operations inside an open transaction (see `claim_operations`)."""
    o = operations
    ids = _heads(
        conn.execute(_candidates(postgresql=postgresql), {"now": now, "limit": limit}).all()
    )
    if not ids:
        return []
    take = {
        "state": _S.IN_FLIGHT,
        "lease_owner": owner,
        "leased_until": now + timedelta(seconds=lease_s),
        "attempts": o.c.attempts + 1,
        "updated_at": now,
    }
    if one_by_one:
        _take_each(conn, ids, take)
        rows = conn.execute(select(operations).where(held_by(owner, ids)).order_by(o.c.id))
    else:
        rows = conn.execute(
            update(o)
            .where(o.c.id.in_(ids), o.c.state.in_(CLAIMABLE))
            .values(take)
            .returning(*operations.c)
        )
    claimed = [StoredOperation.model_validate(as_dict(r)) for r in rows]
    return sorted(claimed, key=lambda op: op.id)


class Claims(RepoBase):
    """Claiming operations and recording successes (the dispatcher's turn)."""

    async def claim_operations(
        self, owner: str, now: datetime, limit: int = 10, lease_s: float = 60.0
    ) -> list[StoredOperation]:
        """Claim up to `limit` due operations, oldest first, at most one per case and target.

        Claimed rows become `in_flight` with `lease_owner=owner`, `leased_until=now+lease_s`
        and `attempts+1`; `may_exist` on a returned row means "look up before creating".
        PostgreSQL locks candidates with `FOR UPDATE SKIP LOCKED`, so concurrent claimers
        never wait on each other and never get the same row; SQLite claims under
        `BEGIN IMMEDIATE`. A claim that loses a race on the in-flight index is retried.
        """
        _, claimed = await self.settle((), owner, now, claim=limit, lease_s=lease_s)
        return claimed

    async def settle(
        self,
        completions: Sequence[Completion],
        owner: str,
        now: datetime,
        *,
        claim: int,
        lease_s: float = 60.0,
    ) -> tuple[list[bool], list[StoredOperation]]:
        """Record `completions` and claim up to `claim` more operations in ONE transaction.

        The dispatcher's turn: what finished is recorded (group commit; per completion
        whether it was, False meaning the lease was lost), and the freed queues' next
        operations can be claimed at once, without a second transaction.
        """
        pg = self._db.is_postgresql

        def record(conn: Connection) -> list[bool]:
            return complete_all_tx(conn, completions, owner, now, postgresql=pg)

        def tx(conn: Connection, *, one_by_one: bool) -> tuple[list[bool], list[StoredOperation]]:
            recorded = record(conn)
            claimed: list[StoredOperation] = []
            if claim > 0:
                claimed = _claim_tx(
                    conn, owner, now, claim, lease_s, postgresql=pg, one_by_one=one_by_one
                )
            return recorded, claimed

        # A race on uq_operations_in_flight (another replica claimed in the same case and
        # target meanwhile) is retried; the retries take rows one by one, each under a
        # savepoint, so one contested queue can never starve every other case's claim.
        # Synchronous SQL in one hand-off (`Database.write_sync`): this is the hot path.
        for attempt in range(_CLAIM_RETRIES):
            try:
                return await self._db.write_sync(functools.partial(tx, one_by_one=attempt > 0))
            except IntegrityError:
                continue
        # the claim keeps losing: what finished is still recorded, the claim waits a turn
        return (await self._db.write_sync(record) if completions else []), []

    async def complete_operation(
        self,
        op_id: int,
        owner: str,
        now: datetime,
        *,
        remote_id: str | None = None,
        status: int | None = None,
        extra_links: Mapping[str, str] | None = None,
    ) -> bool:
        """Record success: `done`, lease cleared; with `remote_id` and a `link` key on the
        operation, the link (tenant, case, target, link) → remote_id is stored in the same
        transaction, and so are `extra_links` (key → remote id, same case and target).
        Returns False (nothing changed) if `owner` no longer holds the lease."""
        done = Completion(op_id, remote_id, status, dict(extra_links or {}))
        (ok,) = await self.complete_operations([done], owner, now)
        return ok

    async def complete_operations(
        self, completions: Sequence[Completion], owner: str, now: datetime
    ) -> list[bool]:
        """`complete_operation` for many operations in ONE transaction (group commit).

        Returns, per completion, whether it was recorded (False: the lease was lost).
        """
        recorded, _ = await self.settle(completions, owner, now, claim=0)
        return recorded
