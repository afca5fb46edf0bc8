"""Cursors: where each tenant's feed stands (and, by `updated_at`, when it last moved)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.store._base import RepoBase, as_dict
from adapter.store.records import CursorRecord
from adapter.store.tables import cursors

__all__ = ["CursorsRepo"]


class CursorsRepo(RepoBase):
    """`cursors`: (tenant, name) → opaque value."""

    async def get_cursor(self, tenant: str, name: str) -> str | None:
        """The stored cursor value, or None before the first poll."""

        async def tx(conn: AsyncConnection) -> str | None:
            stmt = select(cursors.c.value).where(cursors.c.tenant == tenant, cursors.c.name == name)
            value: str | None = (await conn.execute(stmt)).scalar_one_or_none()
            return value

        return await self._db.read(tx)

    async def set_cursor(self, tenant: str, name: str, value: str) -> None:
        """Store a cursor value (call only after the events it covers are committed)."""
        now = self._db.clock()

        async def tx(conn: AsyncConnection) -> None:
            await conn.execute(
                self._upsert(cursors)
                .values(tenant=tenant, name=name, value=value, updated_at=now)
                .on_conflict_do_update(
                    index_elements=["tenant", "name"], set_={"value": value, "updated_at": now}
                )
            )

        await self._db.write(tx)

    async def list_cursors(self, tenant: str | None = None) -> list[CursorRecord]:
        """Every cursor (optionally of one tenant), by tenant and name."""

        async def tx(conn: AsyncConnection) -> list[CursorRecord]:
            stmt = select(cursors).order_by(cursors.c.tenant, cursors.c.name)
            if tenant is not None:
                stmt = stmt.where(cursors.c.tenant == tenant)
            return [CursorRecord.model_validate(as_dict(r)) for r in await conn.execute(stmt)]

        return await self._db.read(tx)
