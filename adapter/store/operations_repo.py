"""The outbox: adding operations, claiming them in order per case and target, recording results.

Order rules, enforced by `claim_operations`:

- Operations of one (tenant, case_id, target) run one at a time in `seq` (= id) order: an
  operation is claimable only when every earlier one of its case and target is `done` or
  `skipped`. So an `in_flight`, `unknown`, backing-off `pending` or `parked` operation
  holds the later ones of its case and target — and nothing else: other targets of the
  same case, and other cases, flow on.
- `waits_for` names the `op_ref` of another operation (usually of the other target) that
  must be `done` or `skipped` first; an unknown `op_ref` waits forever (a planner bug
  that shows up as a stuck operation, never as a wrong order). A Samspill operation that
  waits so holds no later Samspill operation of its case but one that ends the plan
  (close, transfer), so the Samspill queue waits on the archive only to finish a plan; in
  the archive queue it holds the later ones like any open operation.
- A case and target with an operation in flight gets no second one claimed, whatever their
  order (a waiting Samspill operation freed while later work of its queue runs waits).
  The unique index on (tenant, case_id, target) WHERE state = 'in_flight' is the guard
  behind the query: two claimers can never hold two operations of one case and target; a
  claim that loses that race retries row by row, so the other cases are still claimed.

A claim takes a lease (`lease_owner`, `leased_until`). Results are recorded only by the
lease holder (the methods return `False` otherwise: the lease was lost and someone else
owns the operation now). `release_expired_leases` turns operations whose lease ran out
into `unknown` with `may_exist` set, since the lost attempt may have reached the remote:
the next claimer must look the item up by `op_ref` before creating it again.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_json
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.planning.operations import Operation, OpKind
from adapter.store._base import RepoBase, as_dict, dialect_insert
from adapter.store.records import CaseKey, Completion, ParkedOperation, StoredOperation
from adapter.store.states import OperationState, Target
from adapter.store.tables import links, operations

__all__ = ["Completion", "OperationsRepo"]

_S = OperationState
_FINISHED = [_S.DONE.value, _S.SKIPPED.value]
_CLAIMABLE = [_S.PENDING.value, _S.UNKNOWN.value]
_OPEN = [_S.PENDING.value, _S.IN_FLIGHT.value, _S.UNKNOWN.value]
_CLAIM_RETRIES = 3
_ENDS_PLAN = [OpKind.CLOSE_PLAN.value, OpKind.TRANSFER_PLAN.value]


def _is(column: ColumnElement[str], *values: str) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` with the constants written into the SQL, not bound.

    A partial index (`ix_operations_waiting`, `uq_operations_in_flight`) serves a query
    only when the planner can see that the query's condition implies the index's: SQLite
    proves that from literals, never from bound parameters (measured: with `IN (?, ?)` the
    claim scanned the whole table, 5.6 ms at 48,000 operations; with literals it reads the
    index, 0.4 ms), and PostgreSQL's generic plans of prepared statements neither. The
    values are our own state constants, never input.
    """
    if len(values) == 1:
        return column == bindparam(None, values[0], literal_execute=True)
    return column.in_(_consts(values))


def _is_not(column: ColumnElement[str], *values: str) -> ColumnElement[bool]:
    """`column NOT IN ('a', 'b')` with the constants written into the SQL (see `_is`)."""
    return column.not_in(_consts(values))


def _consts(values: Sequence[str]) -> BindParameter[list[str]]:
    """A list of constants rendered into the statement's SQL when it runs."""
    return bindparam(None, list(values), expanding=True, literal_execute=True)


def _held_by(owner: str, op_ids: Sequence[int]) -> ColumnElement[bool]:
    """Of `op_ids`, those still in flight under `owner`'s lease (the only ones it may touch)."""
    o = operations
    return o.c.id.in_(list(op_ids)) & (o.c.state == _S.IN_FLIGHT.value) & (o.c.lease_owner == owner)


def _claimable(now: Any) -> ColumnElement[bool]:
    """The claim condition of the module docstring, as one SQL expression over `operations`."""
    o = operations
    due = or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at <= now)
    return _unblocked() & ~_queue_busy() & due


@functools.cache
def _candidates(*, postgresql: bool) -> Select[tuple[int, str, str, str]]:
    """The claim's candidate query, built once (bind parameters `now` and `limit`).

    It reads the waiting operations in `id` order through `ix_operations_waiting` and stops
    at `limit` claimable ones, so a claim costs the same with a backlog of 50 or 50,000.
    """
    o = operations
    stmt = (
        select(o.c.id, o.c.tenant, o.c.case_id, o.c.target)
        .where(_claimable(bindparam("now", type_=o.c.next_attempt_at.type)))
        .order_by(o.c.id)
        .limit(bindparam("limit", type_=Integer()))
    )
    if postgresql:
        stmt = stmt.with_for_update(skip_locked=True, of=operations)
    return stmt


def _queue_busy() -> ColumnElement[bool]:
    """An operation of the same case and target is in flight (earlier or later in `seq`).

    Order alone does not exclude it: a Samspill operation waiting for the archive lets later
    Samspill work run, and when its wait ends one of those may still be in flight. Claiming
    beside it would violate the in-flight index and fail the whole claim.
    """
    o = operations
    busy = operations.alias("busy")
    return exists().where(
        busy.c.tenant == o.c.tenant,
        busy.c.case_id == o.c.case_id,
        busy.c.target == o.c.target,
        _is(busy.c.state, _S.IN_FLIGHT.value),
    )


def _unblocked() -> ColumnElement[bool]:
    """Waiting, and held by no earlier open operation of its case and target nor `waits_for`."""
    o = operations
    earlier = operations.alias("earlier")
    dep = operations.alias("dep")
    earlier_dep = operations.alias("earlier_dep")
    # A Samspill operation still waiting for its `waits_for` (a "minutes archived" log line
    # waiting for the archive) holds no later Samspill work but what ends the plan (close,
    # transfer: the line must land first): that queue never waits on the archive otherwise.
    # In the archive queue order carries meaning (close-case after the documents).
    earlier_waiting = (
        o.c.kind.not_in(_ENDS_PLAN)
        & (earlier.c.target == Target.SAMSPILL.value)
        & _is(earlier.c.state, _S.PENDING.value)
        & earlier.c.waits_for.is_not(None)
        & ~exists().where(
            earlier_dep.c.op_ref == earlier.c.waits_for, _is(earlier_dep.c.state, *_FINISHED)
        )
    )
    earlier_open = exists().where(
        earlier.c.tenant == o.c.tenant,
        earlier.c.case_id == o.c.case_id,
        earlier.c.target == o.c.target,
        earlier.c.id < o.c.id,
        _is_not(earlier.c.state, *_FINISHED),
        ~earlier_waiting,
    )
    dep_finished = exists().where(dep.c.op_ref == o.c.waits_for, _is(dep.c.state, *_FINISHED))
    waiting = _is(o.c.state, *_CLAIMABLE)
    return waiting & ~earlier_open & or_(o.c.waits_for.is_(None), dep_finished)


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
                    update(o).where(o.c.id == op_id, o.c.state.in_(_CLAIMABLE)).values(take)
                )
        except IntegrityError:
            continue


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


def _complete_all_tx(
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
        .where(_held_by(owner, list(by_id)))
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
        rows = conn.execute(select(operations).where(_held_by(owner, ids)).order_by(o.c.id))
    else:
        rows = conn.execute(
            update(o)
            .where(o.c.id.in_(ids), o.c.state.in_(_CLAIMABLE))
            .values(take)
            .returning(*operations.c)
        )
    claimed = [StoredOperation.model_validate(as_dict(r)) for r in rows]
    return sorted(claimed, key=lambda op: op.id)


class OperationsRepo(RepoBase):
    """The outbox and its claim/lease protocol (see the module docstring)."""

    async def add_operations(self, ops: Sequence[Operation]) -> int:
        """Append operations in the given order; an `op_ref` already stored is left as it is.

        Returns how many were new. Replaying a plan (resync) therefore adds nothing twice.
        """
        now = self._db.clock()
        pg = self._db.is_postgresql
        return await self._db.write(lambda conn: add_operations_tx(conn, ops, now, postgresql=pg))

    async def get_operation(self, op_id: int) -> StoredOperation | None:
        """One operation by id."""
        return await self._one(operations.c.id == op_id)

    async def get_operation_by_ref(self, op_ref: str) -> StoredOperation | None:
        """One operation by its `op_ref`."""
        return await self._one(operations.c.op_ref == op_ref)

    async def _one(self, where: ColumnElement[bool]) -> StoredOperation | None:
        async def tx(conn: AsyncConnection) -> StoredOperation | None:
            row = (await conn.execute(select(operations).where(where))).first()
            return None if row is None else StoredOperation.model_validate(as_dict(row))

        return await self._db.read(tx)

    async def operations_for_case(self, tenant: str, case_id: str) -> list[StoredOperation]:
        """A case's operations in `seq` order."""

        async def tx(conn: AsyncConnection) -> list[StoredOperation]:
            stmt = (
                select(operations)
                .where(operations.c.tenant == tenant, operations.c.case_id == case_id)
                .order_by(operations.c.id)
            )
            return [StoredOperation.model_validate(as_dict(r)) for r in await conn.execute(stmt)]

        return await self._db.read(tx)

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
            return _complete_all_tx(conn, completions, owner, now, postgresql=pg)

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
            extend = update(o).where(_held_by(owner, op_ids)).values(leased_until=until)
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
                    o.c.state.in_(_CLAIMABLE),
                    or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at < until),
                )
                .values(next_attempt_at=until)
            )
            return result.rowcount

        return await self._db.write(tx)

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
                update(operations).where(_held_by(owner, [op_id])).values({**values, **release})
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
                .where(_held_by(owner, op_ids))
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
                    operations.c.state.in_([_S.PARKED.value, *_CLAIMABLE]),
                )
                .values(state=_S.SKIPPED, updated_at=now, next_attempt_at=None)
            )
            return result.rowcount == 1

        return await self._db.write(tx)

    async def count_operations_by_state(
        self, tenant: str | None = None
    ) -> dict[OperationState, int]:
        """Number of operations in each state (every state present, zeros included)."""
        counts = await self._op_counts(tenant)
        return {state: sum(n for (_, s), n in counts.items() if s is state) for state in _S}

    async def operation_counts_by_tenant(self) -> dict[str, dict[OperationState, int]]:
        """Per tenant, the number of operations in each state."""
        out: dict[str, dict[OperationState, int]] = {}
        for (tenant, state), n in (await self._op_counts(None)).items():
            out.setdefault(tenant, dict.fromkeys(_S, 0))[state] = n
        return out

    async def operation_counts_by_queue(
        self,
    ) -> dict[tuple[str, Target], dict[OperationState, int]]:
        """Per (tenant, target), the number of operations in each state (zeros included)."""

        async def tx(conn: AsyncConnection) -> dict[tuple[str, Target], dict[OperationState, int]]:
            o = operations
            stmt = select(o.c.tenant, o.c.target, o.c.state, func.count()).group_by(
                o.c.tenant, o.c.target, o.c.state
            )
            out: dict[tuple[str, Target], dict[OperationState, int]] = {}
            for tenant, target, state, n in await conn.execute(stmt):
                queue = (tenant, Target(target))
                out.setdefault(queue, dict.fromkeys(_S, 0))[OperationState(state)] = int(n)
            return out

        return await self._db.read(tx)

    async def _op_counts(self, tenant: str | None) -> dict[tuple[str, OperationState], int]:
        async def tx(conn: AsyncConnection) -> dict[tuple[str, OperationState], int]:
            stmt = select(operations.c.tenant, operations.c.state, func.count()).group_by(
                operations.c.tenant, operations.c.state
            )
            if tenant is not None:
                stmt = stmt.where(operations.c.tenant == tenant)
            return {(r[0], OperationState(r[1])): int(r[2]) for r in await conn.execute(stmt)}

        return await self._db.read(tx)

    async def oldest_pending_age(
        self, now: datetime, tenant: str | None = None
    ) -> timedelta | None:
        """How long the oldest unfinished (pending, in_flight, unknown) operation has waited."""

        async def tx(conn: AsyncConnection) -> datetime | None:
            stmt = select(operations.c.created_at).where(operations.c.state.in_(_OPEN))
            if tenant is not None:
                stmt = stmt.where(operations.c.tenant == tenant)
            stmt = stmt.order_by(operations.c.created_at).limit(1)
            value: datetime | None = (await conn.execute(stmt)).scalar_one_or_none()
            return value

        oldest = await self._db.read(tx)
        return None if oldest is None else max(now - oldest, timedelta(0))

    async def next_due_at(self) -> datetime | None:
        """When the next `pending`/`unknown` operation falls due (None: nothing waits).

        An operation with no `next_attempt_at` is due now; the caller compares with its
        clock. Operations held behind an earlier open one (or their `waits_for`) are left
        out: they fall due only after it, so it bounds them (a held one "due now" would end
        a waiting loop before the retry that frees it).
        """

        async def tx(conn: AsyncConnection) -> tuple[int, datetime | None]:
            waiting = _unblocked()
            undated = (
                await conn.execute(
                    select(func.count()).where(waiting, operations.c.next_attempt_at.is_(None))
                )
            ).scalar_one()
            soonest: datetime | None = (
                await conn.execute(select(func.min(operations.c.next_attempt_at)).where(waiting))
            ).scalar_one_or_none()
            return int(undated), soonest

        undated, soonest = await self._db.read(tx)
        if undated:
            return self._db.clock()
        return soonest

    async def list_parked(self, tenant: str | None = None) -> list[ParkedOperation]:
        """Parked operations, oldest first, with their last error as the reason."""

        async def tx(conn: AsyncConnection) -> list[ParkedOperation]:
            stmt = select(operations).where(operations.c.state == _S.PARKED.value)
            if tenant is not None:
                stmt = stmt.where(operations.c.tenant == tenant)
            return [
                ParkedOperation(
                    tenant=r.tenant,
                    case_id=r.case_id,
                    op_id=r.id,
                    op_ref=r.op_ref,
                    target=r.target,
                    kind=r.kind,
                    reason=r.last_error,
                    since=r.updated_at,
                )
                for r in await conn.execute(stmt.order_by(operations.c.id))
            ]

        return await self._db.read(tx)

    async def parked_cases(self, tenant: str | None = None) -> list[CaseKey]:
        """Cases with at least one parked operation, sorted."""
        seen = {CaseKey(tenant=p.tenant, case_id=p.case_id) for p in await self.list_parked(tenant)}
        return sorted(seen, key=lambda k: (k.tenant, k.case_id))


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
