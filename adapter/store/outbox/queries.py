"""Reading the outbox: operations by id, ref or case, counts, the oldest wait, the next due
time, and what is parked."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.store._base import RepoBase, as_dict
from adapter.store.outbox.conditions import OPEN, unblocked
from adapter.store.records import CaseKey, ParkedOperation, StoredOperation
from adapter.store.states import OperationState, Target
from adapter.store.tables import operations

__all__ = ["Queries"]

_S = OperationState


class Queries(RepoBase):
    """The outbox's reads (each one read transaction)."""

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
            stmt = select(operations.c.created_at).where(operations.c.state.in_(OPEN))
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
            waiting = unblocked()
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
