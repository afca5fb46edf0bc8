"""`MemoryLinks`: the links table in memory ((tenant, case, target, key) → remote id)."""

from __future__ import annotations

from collections.abc import Mapping

from adapter.store.states import Target

__all__ = ["MemoryLinks"]

LinkKey = tuple[str, str, Target, str]


class MemoryLinks:
    """The `Links` port (and the writes the outbox and resync make) over a dict."""

    def __init__(self) -> None:
        self.rows: dict[LinkKey, str] = {}

    async def get_link(
        self, tenant: str, case_id: str, target: Target, internal_ref: str
    ) -> str | None:
        """The remote id an internal item was linked to, or None."""
        return self.rows.get((tenant, case_id, target, internal_ref))

    async def get_links(
        self, tenant: str, case_id: str, target: Target, internal_refs: list[str]
    ) -> dict[str, str]:
        """The remote ids of several internal items of one case and target."""
        found = ((ref, self.rows.get((tenant, case_id, target, ref))) for ref in internal_refs)
        return {ref: remote for ref, remote in found if remote is not None}

    async def put_link(
        self, tenant: str, case_id: str, target: Target, internal_ref: str, remote_id: str
    ) -> None:
        """Record (or re-point) the remote id of an internal item."""
        self.put(tenant, case_id, target, {internal_ref: remote_id})

    async def links_for_case(self, tenant: str, case_id: str) -> dict[tuple[Target, str], str]:
        """Every link of a case: (target, internal_ref) → remote_id."""
        return {
            (t, ref): remote
            for (ten, case, t, ref), remote in self.rows.items()
            if (ten, case) == (tenant, case_id)
        }

    def put(self, tenant: str, case_id: str, target: Target, learnt: Mapping[str, str]) -> None:
        """Put links of one case and target at once (the outbox's completion does)."""
        for ref, remote in learnt.items():
            self.rows[(tenant, case_id, target, ref)] = remote
