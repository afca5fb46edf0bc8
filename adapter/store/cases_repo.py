"""The planner's per-case state, saved with an optimistic lock, and the atomic planning step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.errors import StoreError
from adapter.store._base import RepoBase, as_dict
from adapter.store.events_repo import apply_event_state
from adapter.store.outbox import add_operations_tx
from adapter.store.records import CaseRecord, PlanCommit
from adapter.store.tables import cases

__all__ = ["CaseVersionConflict", "CasesRepo"]


class CaseVersionConflict(StoreError):
    """Someone saved the case since it was loaded: reload it and plan again."""


async def _save_case_tx(
    conn: AsyncConnection,
    *,
    tenant: str,
    case_id: str,
    state: str,
    expected_version: int | None,
    last_sequence_planned: int,
    closed_at: datetime | None,
    now: datetime,
) -> int:
    values = {
        "state": state,
        "last_sequence_planned": last_sequence_planned,
        "closed_at": closed_at,
        "updated_at": now,
    }
    if expected_version is None:
        try:
            async with conn.begin_nested():
                await conn.execute(
                    cases.insert().values(tenant=tenant, case_id=case_id, version=1, **values)
                )
        except IntegrityError as exc:
            raise CaseVersionConflict(f"case {tenant}/{case_id} was created meanwhile") from exc
        return 1
    result = await conn.execute(
        update(cases)
        .where(
            cases.c.tenant == tenant,
            cases.c.case_id == case_id,
            cases.c.version == expected_version,
        )
        .values(version=expected_version + 1, **values)
    )
    if result.rowcount != 1:
        raise CaseVersionConflict(
            f"case {tenant}/{case_id} changed since version {expected_version}"
        )
    return expected_version + 1


class CasesRepo(RepoBase):
    """`cases`: load and save the planner's state; `commit_plan` for one planning step."""

    async def load_case(self, tenant: str, case_id: str) -> CaseRecord | None:
        """The stored state of a case, or None for a case never planned."""

        async def tx(conn: AsyncConnection) -> CaseRecord | None:
            row = (
                await conn.execute(
                    select(cases).where(cases.c.tenant == tenant, cases.c.case_id == case_id)
                )
            ).first()
            return None if row is None else CaseRecord.model_validate(as_dict(row))

        return await self._db.read(tx)

    async def list_cases(self, tenant: str | None = None) -> list[CaseRecord]:
        """Every stored case (of `tenant` when given), sorted by tenant and case id."""

        async def tx(conn: AsyncConnection) -> list[CaseRecord]:
            stmt = select(cases).order_by(cases.c.tenant, cases.c.case_id)
            if tenant is not None:
                stmt = stmt.where(cases.c.tenant == tenant)
            return [CaseRecord.model_validate(as_dict(r)) for r in await conn.execute(stmt)]

        return await self._db.read(tx)

    async def save_case(
        self,
        tenant: str,
        case_id: str,
        *,
        state: str,
        expected_version: int | None,
        last_sequence_planned: int,
        closed_at: datetime | None = None,
    ) -> int:
        """Save a case's state if it is still at `expected_version` (None: must be new).

        Returns the new version; raises `CaseVersionConflict` when another writer won.
        """
        now = self._db.clock()
        return await self._db.write(
            lambda conn: _save_case_tx(
                conn,
                tenant=tenant,
                case_id=case_id,
                state=state,
                expected_version=expected_version,
                last_sequence_planned=last_sequence_planned,
                closed_at=closed_at,
                now=now,
            )
        )

    async def commit_plan(self, commit: PlanCommit) -> int:
        """One planning step, all or nothing: save the case state (version-checked), set the
        events' new states, and append the operations (op_refs already stored are kept).

        Returns the case's new version; raises `CaseVersionConflict` (nothing written) when
        the case changed since it was loaded.
        """
        now = self._db.clock()
        pg = self._db.is_postgresql

        async def tx(conn: AsyncConnection) -> int:
            version = await _save_case_tx(
                conn,
                tenant=commit.tenant,
                case_id=commit.case_id,
                state=commit.state,
                expected_version=commit.expected_version,
                last_sequence_planned=commit.last_sequence_planned,
                closed_at=commit.closed_at,
                now=now,
            )
            for change in commit.events:
                if await apply_event_state(conn, change.id, change.state, change.reason, now) != 1:
                    raise StoreError(f"no stored event with id {change.id}")
            await add_operations_tx(conn, commit.operations, now, postgresql=pg)
            return version

        return await self._db.write(tx)
