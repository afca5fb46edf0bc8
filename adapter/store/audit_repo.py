"""The audit trail: who did what to which case, and why."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.store._base import RepoBase
from adapter.store.records import AuditEntry
from adapter.store.tables import audit

__all__ = ["AuditRepo"]


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
        text = json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str)

        async def tx(conn: AsyncConnection) -> int:
            result = await conn.execute(
                audit.insert().values(
                    at=now,
                    actor=actor,
                    action=action,
                    tenant=tenant,
                    case_id=case_id,
                    subject=subject,
                    reason=reason,
                    details=text,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

        return await self._db.write(tx)

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
                AuditEntry.model_validate({**dict(r._mapping), "details": json.loads(r.details)})
                for r in rows
            ]

        return await self._db.read(tx)
