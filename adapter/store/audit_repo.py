"""The audit trail — who did what to which case, and why — and the operator actions written
together with their audit row in one transaction: retrying and skipping parked work, and
the changes a resync makes to one case. Either both the action and its row are stored, or
neither."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.planning.operations import Operation
from adapter.store._base import RepoBase, as_dict, dialect_insert
from adapter.store.cases_repo import _save_case_tx  # a planning step's checked state write
from adapter.store.outbox import add_operations_tx, requeue_operations_tx
from adapter.store.records import AuditEntry, StoredOperation
from adapter.store.states import OperationState, Target
from adapter.store.tables import audit, links, operations

__all__ = ["Actor", "AuditRepo", "ResyncChange", "Skip"]

_S = OperationState
_SKIPPABLE = [_S.PARKED.value, _S.PENDING.value, _S.UNKNOWN.value]


@dataclass(frozen=True)
class Actor:
    """Who acts (the OS user, or the service) and why; never a name or nin in `reason`."""

    name: str
    reason: str | None = None


@dataclass(frozen=True)
class Skip:
    """The outcome of `skip_operation_audited`: the operation as it was (None: no such
    operation) and whether it was skipped."""

    operation: StoredOperation | None
    skipped: bool


@dataclass(frozen=True)
class ResyncChange:
    """One case's converging writes: links to put (target, key, remote id), done operations
    to requeue (`seen`: when each was done as resync saw it), operations to insert, and the
    replayed planner state to store over `state_version` (None: the stored state stays)."""

    tenant: str
    case_id: str
    links: tuple[tuple[Target, str, str], ...] = ()
    requeue: tuple[int, ...] = ()
    insert: tuple[Operation, ...] = ()
    seen: Mapping[int, datetime | None] = field(default_factory=dict)
    state: str | None = None
    state_version: int | None = None
    last_sequence: int = 0
    closed_at: datetime | None = None

    @property
    def empty(self) -> bool:
        """Nothing to write."""
        return not (self.links or self.requeue or self.insert or self.state is not None)


async def _audit_tx(
    conn: AsyncConnection,
    now: datetime,
    action: str,
    actor: Actor,
    *,
    tenant: str | None = None,
    case_id: str | None = None,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    result = await conn.execute(
        audit.insert().values(
            at=now,
            actor=actor.name,
            action=action,
            tenant=tenant,
            case_id=case_id,
            subject=subject,
            reason=actor.reason,
            details=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class AuditRepo(RepoBase):
    """`audit`: append-only. Never put a name or nin in `subject`, `reason` or `details`."""

    async def write_audit(
        self,
        action: str,
        *,
        actor: str,
        tenant: str | None = None,
        case_id: str | None = None,
        subject: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Append one audit entry; returns its id."""
        now = self._db.clock()
        who = Actor(actor, reason)
        return await self._db.write(
            lambda conn: _audit_tx(
                conn,
                now,
                action,
                who,
                tenant=tenant,
                case_id=case_id,
                subject=subject,
                details=details,
            )
        )

    async def list_audit(
        self, tenant: str | None = None, case_id: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Audit entries, oldest first, optionally of one tenant or case."""

        async def tx(conn: AsyncConnection) -> list[AuditEntry]:
            stmt = select(audit)
            if tenant is not None:
                stmt = stmt.where(audit.c.tenant == tenant)
            if case_id is not None:
                stmt = stmt.where(audit.c.case_id == case_id)
            rows = await conn.execute(stmt.order_by(audit.c.id).limit(limit))
            return [
                AuditEntry.model_validate({**r._asdict(), "details": json.loads(r.details)})
                for r in rows
            ]

        return await self._db.read(tx)

    async def retry_parked_audited(
        self, tenant: str, case_id: str, now: datetime, actor: Actor
    ) -> int:
        """Operator action: the case's parked operations become `pending`, due at `now`, and
        a `parked.retry` row says who and why. Returns how many."""

        async def tx(conn: AsyncConnection) -> int:
            result = await conn.execute(
                update(operations)
                .where(
                    operations.c.tenant == tenant,
                    operations.c.case_id == case_id,
                    operations.c.state == _S.PARKED.value,
                )
                .values(state=_S.PENDING, next_attempt_at=now, updated_at=now)
            )
            n = int(result.rowcount)
            await _audit_tx(
                conn,
                self._db.clock(),
                "parked.retry",
                actor,
                tenant=tenant,
                case_id=case_id,
                details={"operations": n},
            )
            return n

        return await self._db.write(tx)

    async def skip_operation_audited(self, op_id: int, now: datetime, actor: Actor) -> Skip:
        """Operator action: give up a `parked`, `pending` or `unknown` operation (`skipped`:
        the later ones of its case and target may go), with an `operation.skip` row. An
        operation in another state is left as it is, and no row is written."""

        async def tx(conn: AsyncConnection) -> Skip:
            row = (await conn.execute(select(operations).where(operations.c.id == op_id))).first()
            if row is None:
                return Skip(None, skipped=False)
            found = StoredOperation.model_validate(as_dict(row))
            result = await conn.execute(
                update(operations)
                .where(operations.c.id == op_id, operations.c.state.in_(_SKIPPABLE))
                .values(state=_S.SKIPPED, updated_at=now, next_attempt_at=None)
            )
            if result.rowcount != 1:
                return Skip(found, skipped=False)
            await _audit_tx(
                conn,
                self._db.clock(),
                "operation.skip",
                actor,
                tenant=found.tenant,
                case_id=found.case_id,
                subject=found.op_ref,
                details={"op_id": op_id, "kind": found.kind, "state": found.state.value},
            )
            return Skip(found, skipped=True)

        return await self._db.write(tx)

    async def apply_resync(
        self, change: ResyncChange, actor: Actor, details: dict[str, Any]
    ) -> None:
        """A resync's writes to one case and its `resync.case` audit row, all or nothing.

        Links are put (adoption), done operations requeued unless done again since resync saw
        them (another resync replayed them meanwhile), missing ones inserted after the
        case's stored ones and marked to be looked up before they create (`may_exist`), and
        the replayed planner state stored when given — only over `state_version`, so a live
        planner that planned the case meanwhile wins (`CaseVersionConflict`, nothing written).
        """
        now = self._db.clock()
        pg = self._db.is_postgresql

        async def tx(conn: AsyncConnection) -> None:
            if change.state is not None:
                await _save_case_tx(
                    conn,
                    tenant=change.tenant,
                    case_id=change.case_id,
                    state=change.state,
                    expected_version=change.state_version,
                    last_sequence_planned=change.last_sequence,
                    closed_at=change.closed_at,
                    now=now,
                )
            for target, key, remote_id in change.links:
                await conn.execute(
                    dialect_insert(links, postgresql_=pg)
                    .values(
                        tenant=change.tenant,
                        case_id=change.case_id,
                        target=target,
                        internal_ref=key,
                        remote_id=remote_id,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_update(
                        index_elements=["tenant", "case_id", "target", "internal_ref"],
                        set_={"remote_id": remote_id, "updated_at": now},
                    )
                )
            await requeue_operations_tx(conn, sorted(set(change.requeue)), now, change.seen)
            await add_operations_tx(conn, change.insert, now, postgresql=pg)
            await _look_up_first(conn, [op.op_ref for op in change.insert])
            await _audit_tx(
                conn,
                now,
                "resync.case",
                actor,
                tenant=change.tenant,
                case_id=change.case_id,
                details=details,
            )

        await self._db.write(tx)


async def _look_up_first(conn: AsyncConnection, op_refs: Sequence[str]) -> None:
    """Mark just-inserted operations `may_exist`: the replay asked for them, yet what they
    create may exist already (an older store, an older version): look before creating."""
    if op_refs:
        await conn.execute(
            update(operations)
            .where(
                operations.c.op_ref.in_(list(op_refs)),
                operations.c.state == _S.PENDING.value,
                operations.c.attempts == 0,
            )
            .values(may_exist=True)
        )
