"""Links: which remote item an internal item became (per case and target)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.store._base import RepoBase
from adapter.store.states import Target
from adapter.store.tables import links

__all__ = ["LinksRepo"]


class LinksRepo(RepoBase):
    """`links`: (tenant, case_id, target, internal_ref) → remote_id.

    `internal_ref` is a links-table key such as ``plan:stafettlogg``, ``goal:G1`` or
    ``archive-case`` (see `adapter.planning.operations.link_key`).
    """

    async def get_link(
        self, tenant: str, case_id: str, target: Target, internal_ref: str
    ) -> str | None:
        """The remote id an internal item was linked to, or None."""

        async def tx(conn: AsyncConnection) -> str | None:
            stmt = select(links.c.remote_id).where(
                links.c.tenant == tenant,
                links.c.case_id == case_id,
                links.c.target == target.value,
                links.c.internal_ref == internal_ref,
            )
            value: str | None = (await conn.execute(stmt)).scalar_one_or_none()
            return value

        return await self._db.read(tx)

    async def get_links(
        self, tenant: str, case_id: str, target: Target, internal_refs: list[str]
    ) -> dict[str, str]:
        """The remote ids of several internal items of one case and target, in one query."""
        if not internal_refs:
            return {}

        async def tx(conn: AsyncConnection) -> dict[str, str]:
            stmt = select(links.c.internal_ref, links.c.remote_id).where(
                links.c.tenant == tenant,
                links.c.case_id == case_id,
                links.c.target == target.value,
                links.c.internal_ref.in_(internal_refs),
            )
            return {r[0]: r[1] for r in await conn.execute(stmt)}

        return await self._db.read(tx)

    async def put_link(
        self, tenant: str, case_id: str, target: Target, internal_ref: str, remote_id: str
    ) -> None:
        """Record (or re-point, e.g. after adoption) the remote id of an internal item."""
        now = self._db.clock()

        async def tx(conn: AsyncConnection) -> None:
            await conn.execute(
                self._upsert(links)
                .values(
                    tenant=tenant,
                    case_id=case_id,
                    target=target,
                    internal_ref=internal_ref,
                    remote_id=remote_id,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["tenant", "case_id", "target", "internal_ref"],
                    set_={"remote_id": remote_id, "updated_at": now},
                )
            )

        await self._db.write(tx)

    async def links_for_case(self, tenant: str, case_id: str) -> dict[tuple[Target, str], str]:
        """Every link of a case: (target, internal_ref) → remote_id."""

        async def tx(conn: AsyncConnection) -> dict[tuple[Target, str], str]:
            stmt = select(links.c.target, links.c.internal_ref, links.c.remote_id).where(
                links.c.tenant == tenant, links.c.case_id == case_id
            )
            return {(Target(r[0]), r[1]): r[2] for r in await conn.execute(stmt)}

        return await self._db.read(tx)
