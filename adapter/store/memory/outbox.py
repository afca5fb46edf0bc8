"""`MemoryOutbox`: the `Outbox` port in memory, with the SQL outbox's semantics.

The rules are those of `adapter.store.outbox` (its module docstring), written out over a
dict instead of SQL: order per (tenant, case, target) in `seq` order, one operation in
flight per case and target, `waits_for`, the Samspill exception for a line waiting on the
archive, leases that only their holder may record under and that expire into `unknown`
with `may_exist`, persisted `next_attempt_at`. The contract suite
(`tests/integration/test_outbox_contract.py`) holds it to the same tests as SQLite and
PostgreSQL. Every method runs without awaiting anything, so each is atomic like a
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_json

from adapter.planning.operations import Operation, OpKind
from adapter.store.memory.links import MemoryLinks
from adapter.store.records import CaseKey, Completion, ParkedOperation, StoredOperation
from adapter.store.states import OperationState, Target

__all__ = ["MemoryOutbox"]

_S = OperationState
_FINISHED = (_S.DONE, _S.SKIPPED)
_CLAIMABLE = (_S.PENDING, _S.UNKNOWN)
_OPEN = (_S.PENDING, _S.IN_FLIGHT, _S.UNKNOWN)
_ENDS_PLAN = (OpKind.CLOSE_PLAN.value, OpKind.TRANSFER_PLAN.value)
_RELEASE: dict[str, Any] = {"lease_owner": None, "leased_until": None}


class MemoryOutbox:
    """The outbox over a dict of `StoredOperation`s (ids count up from 1, like `seq`)."""

    def __init__(self, clock: Callable[[], datetime], links: MemoryLinks | None = None) -> None:
        self._clock = clock
        self.links = links if links is not None else MemoryLinks()
        self._rows: dict[int, StoredOperation] = {}
        self._ids_by_ref: dict[str, int] = {}

    # -- adding and reading -------------------------------------------------------------

    async def add_operations(self, ops: Sequence[Operation]) -> int:
        """Append operations in order; an `op_ref` already stored is left as it is."""
        now = self._clock()
        added = 0
        for op in ops:
            if op.op_ref in self._ids_by_ref:
                continue
            op_id = len(self._rows) + 1
            self._rows[op_id] = StoredOperation(
                id=op_id,
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
                next_attempt_at=None,
                lease_owner=None,
                leased_until=None,
                may_exist=False,
                last_error=None,
                last_status=None,
                remote_id=None,
                created_at=now,
                updated_at=now,
                done_at=None,
            )
            self._ids_by_ref[op.op_ref] = op_id
            added += 1
        return added

    async def get_operation(self, op_id: int) -> StoredOperation | None:
        """One operation by id."""
        return self._rows.get(op_id)

    async def get_operation_by_ref(self, op_ref: str) -> StoredOperation | None:
        """One operation by its `op_ref`."""
        op_id = self._ids_by_ref.get(op_ref)
        return None if op_id is None else self._rows[op_id]

    async def operations_for_case(self, tenant: str, case_id: str) -> list[StoredOperation]:
        """A case's operations in `seq` order."""
        return [r for r in self._ordered() if (r.tenant, r.case_id) == (tenant, case_id)]

    # -- claims ----------------------------------------------------------------------------

    async def claim_operations(
        self, owner: str, now: datetime, limit: int = 10, lease_s: float = 60.0
    ) -> list[StoredOperation]:
        """Claim up to `limit` due operations, oldest first, at most one per case and target."""
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
        """Record `completions` and claim up to `claim` more operations, at once."""
        recorded = [self._complete(c, owner, now) for c in completions]
        return recorded, (self._claim(owner, now, claim, lease_s) if claim > 0 else [])

    def _claim(
        self, owner: str, now: datetime, limit: int, lease_s: float
    ) -> list[StoredOperation]:
        candidates = [r for r in self._ordered() if self._claimable(r, now)][:limit]
        seen: set[tuple[str, str, Target]] = set()
        claimed: list[StoredOperation] = []
        for row in candidates:  # the first candidate of each queue only
            queue = (row.tenant, row.case_id, row.target)
            if queue in seen:
                continue
            seen.add(queue)
            claimed.append(
                self._put(
                    row,
                    state=_S.IN_FLIGHT,
                    lease_owner=owner,
                    leased_until=now + timedelta(seconds=lease_s),
                    attempts=row.attempts + 1,
                    updated_at=now,
                )
            )
        return claimed

    def _claimable(self, row: StoredOperation, now: datetime) -> bool:
        due = row.next_attempt_at is None or row.next_attempt_at <= now
        return due and self._unblocked(row) and not self._queue_busy(row)

    def _queue_busy(self, row: StoredOperation) -> bool:
        """An operation of the same case and target is in flight (before or after it)."""
        return any(
            other.state is _S.IN_FLIGHT and _same_queue(other, row) for other in self._rows.values()
        )

    def _unblocked(self, row: StoredOperation) -> bool:
        """Waiting, and held by no earlier open operation of its queue nor its `waits_for`."""
        if row.state not in _CLAIMABLE:
            return False
        if row.waits_for is not None and not self._finished(row.waits_for):
            return False
        return not any(
            _same_queue(earlier, row)
            and earlier.id < row.id
            and earlier.state not in _FINISHED
            and not self._waiting_aside(earlier, row)
            for earlier in self._rows.values()
        )

    def _waiting_aside(self, earlier: StoredOperation, row: StoredOperation) -> bool:
        """A Samspill operation still waiting for its `waits_for` holds no later Samspill
        operation but one that ends the plan."""
        return (
            row.kind not in _ENDS_PLAN
            and earlier.target is Target.SAMSPILL
            and earlier.state is _S.PENDING
            and earlier.waits_for is not None
            and not self._finished(earlier.waits_for)
        )

    def _finished(self, op_ref: str) -> bool:
        op_id = self._ids_by_ref.get(op_ref)
        return op_id is not None and self._rows[op_id].state in _FINISHED

    # -- outcomes of a lease holder ----------------------------------------------------------

    def _complete(self, done: Completion, owner: str, now: datetime) -> bool:
        row = self._held(done.op_id, owner)
        if row is None:
            return False
        self._put(
            row,
            state=_S.DONE,
            done_at=now,
            updated_at=now,
            remote_id=done.remote_id,
            last_status=done.status,
            last_error=None,
            next_attempt_at=None,
            **_RELEASE,
        )
        learnt = dict(done.extra_links)
        if done.remote_id is not None and row.link is not None:
            learnt[row.link] = done.remote_id
        self.links.put(row.tenant, row.case_id, row.target, learnt)
        return True

    async def complete_operation(
        self,
        op_id: int,
        owner: str,
        now: datetime,
        *,
        remote_id: str | None = None,
        status: int | None = None,
        extra_links: dict[str, str] | None = None,
    ) -> bool:
        """Record one success (see `settle`); False if the lease was lost."""
        return self._complete(
            Completion(op_id, remote_id, status, dict(extra_links or {})), owner, now
        )

    async def extend_lease(self, op_id: int, owner: str, until: datetime) -> bool:
        """Move the lease of an operation `owner` holds to `until`."""
        return bool(await self.extend_leases([op_id], owner, until))

    async def extend_leases(self, op_ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Move the leases `owner` still holds to `until`; returns the ids still held."""
        held: set[int] = set()
        for op_id in op_ids:
            row = self._held(op_id, owner)
            if row is not None:
                self._put(row, leased_until=until)
                held.add(op_id)
        return held

    async def unclaim_operations(self, op_ids: Sequence[int], owner: str) -> int:
        """Give back operations claimed but never started: waiting as before the claim."""
        now = self._clock()
        given = 0
        for op_id in op_ids:
            row = self._held(op_id, owner)
            if row is None:
                continue
            state = _S.UNKNOWN if row.may_exist else _S.PENDING
            self._put(row, state=state, attempts=row.attempts - 1, updated_at=now, **_RELEASE)
            given += 1
        return given

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
        """A transient failure: `pending` again from `next_attempt_at`, keeping its place."""
        return self._by_holder(
            op_id,
            owner,
            state=_S.PENDING,
            next_attempt_at=next_attempt_at,
            last_error=error,
            last_status=status,
            updated_at=now,
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
        """An ambiguous failure: `unknown` with `may_exist`, retried from `next_attempt_at`."""
        return self._by_holder(
            op_id,
            owner,
            state=_S.UNKNOWN,
            may_exist=True,
            next_attempt_at=next_attempt_at,
            last_error=error,
            last_status=status,
            updated_at=now,
        )

    async def park_operation(
        self, op_id: int, owner: str, now: datetime, *, error: str, status: int | None = None
    ) -> bool:
        """A permanent failure: `parked`; later operations of its case and target wait."""
        return self._by_holder(
            op_id, owner, state=_S.PARKED, last_error=error, last_status=status, updated_at=now
        )

    def _by_holder(self, op_id: int, owner: str, **values: Any) -> bool:
        row = self._held(op_id, owner)
        if row is None:
            return False
        self._put(row, **values, **_RELEASE)
        return True

    def _held(self, op_id: int, owner: str) -> StoredOperation | None:
        """The operation, if it is in flight under `owner`'s lease."""
        row = self._rows.get(op_id)
        if row is None or row.state is not _S.IN_FLIGHT or row.lease_owner != owner:
            return None
        return row

    # -- whole queues and operators ----------------------------------------------------------

    async def defer_operations(self, tenant: str, target: Target, until: datetime) -> int:
        """Hold every waiting operation of a tenant and target that falls due before `until`."""
        moved = 0
        for row in self._ordered():
            if (row.tenant, row.target) != (tenant, target) or row.state not in _CLAIMABLE:
                continue
            if row.next_attempt_at is None or row.next_attempt_at < until:
                self._put(row, next_attempt_at=until)
                moved += 1
        return moved

    async def release_expired_leases(self, now: datetime) -> list[str]:
        """Leases ended before `now` become `unknown` with `may_exist`, due now."""
        released: list[str] = []
        for row in self._ordered():
            if row.state is not _S.IN_FLIGHT or row.leased_until is None:
                continue
            if row.leased_until < now:
                self._put(
                    row,
                    state=_S.UNKNOWN,
                    may_exist=True,
                    next_attempt_at=now,
                    last_error="lease expired",
                    updated_at=now,
                    **_RELEASE,
                )
                released.append(row.op_ref)
        return released

    async def retry_parked(
        self, tenant: str, case_id: str, now: datetime, target: Target | None = None
    ) -> int:
        """Operator action: a case's parked operations become `pending`, due at `now`."""
        retried = 0
        for row in await self.operations_for_case(tenant, case_id):
            if row.state is _S.PARKED and target in (None, row.target):
                self._put(row, state=_S.PENDING, next_attempt_at=now, updated_at=now)
                retried += 1
        return retried

    async def skip_operation(self, op_id: int, now: datetime) -> bool:
        """Operator action: give up a parked, pending or unknown operation."""
        row = self._rows.get(op_id)
        if row is None or row.state not in (_S.PARKED, *_CLAIMABLE):
            return False
        self._put(row, state=_S.SKIPPED, updated_at=now, next_attempt_at=None)
        return True

    async def requeue_operations(self, op_ids: Sequence[int], now: datetime) -> int:
        """Resync: `done` operations run again, keeping their place, looked up first."""
        requeued = 0
        for op_id in op_ids:
            row = self._rows.get(op_id)
            if row is not None and row.state is _S.DONE:
                self._put(
                    row,
                    state=_S.PENDING,
                    may_exist=True,
                    next_attempt_at=None,
                    attempts=0,
                    last_error=None,
                    done_at=None,
                    updated_at=now,
                )
                requeued += 1
        return requeued

    # -- counts ------------------------------------------------------------------------------

    async def next_due_at(self) -> datetime | None:
        """When the next waiting operation that nothing holds falls due (None: none waits)."""
        waiting = [r for r in self._rows.values() if self._unblocked(r)]
        if any(r.next_attempt_at is None for r in waiting):
            return self._clock()
        return min((r.next_attempt_at for r in waiting if r.next_attempt_at), default=None)

    async def count_operations_by_state(
        self, tenant: str | None = None
    ) -> dict[OperationState, int]:
        """Operations per state, zeros included."""
        counts = dict.fromkeys(_S, 0)
        for row in self._rows.values():
            if tenant in (None, row.tenant):
                counts[row.state] += 1
        return counts

    async def operation_counts_by_tenant(self) -> dict[str, dict[OperationState, int]]:
        """Per tenant, operations per state."""
        out: dict[str, dict[OperationState, int]] = {}
        for row in self._rows.values():
            out.setdefault(row.tenant, dict.fromkeys(_S, 0))[row.state] += 1
        return out

    async def operation_counts_by_queue(
        self,
    ) -> dict[tuple[str, Target], dict[OperationState, int]]:
        """Per (tenant, target), operations per state, zeros included."""
        out: dict[tuple[str, Target], dict[OperationState, int]] = {}
        for row in self._rows.values():
            out.setdefault((row.tenant, row.target), dict.fromkeys(_S, 0))[row.state] += 1
        return out

    async def oldest_pending_age(
        self, now: datetime, tenant: str | None = None
    ) -> timedelta | None:
        """How long the oldest unfinished (pending, in_flight, unknown) operation has waited."""
        created = [
            r.created_at
            for r in self._rows.values()
            if r.state in _OPEN and tenant in (None, r.tenant)
        ]
        return None if not created else max(now - min(created), timedelta(0))

    async def list_parked(self, tenant: str | None = None) -> list[ParkedOperation]:
        """Parked operations, oldest first, with their last error as the reason."""
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
            for r in self._ordered()
            if r.state is _S.PARKED and tenant in (None, r.tenant)
        ]

    async def parked_cases(self, tenant: str | None = None) -> list[CaseKey]:
        """Cases with at least one parked operation, sorted."""
        seen = {CaseKey(tenant=p.tenant, case_id=p.case_id) for p in await self.list_parked(tenant)}
        return sorted(seen, key=lambda k: (k.tenant, k.case_id))

    # -- rows --------------------------------------------------------------------------------

    def _ordered(self) -> list[StoredOperation]:
        return [self._rows[i] for i in sorted(self._rows)]

    def _put(self, row: StoredOperation, **changes: Any) -> StoredOperation:
        new = row.model_copy(update=changes)
        self._rows[row.id] = new
        return new


def _same_queue(a: StoredOperation, b: StoredOperation) -> bool:
    return (a.tenant, a.case_id, a.target) == (b.tenant, b.case_id, b.target)
